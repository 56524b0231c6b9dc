#include "js_errors.h"

#include <new>
#include <string>

#include "../engine/errors.h"

namespace torchrnn {
namespace binding {

Napi::Error toJsError(Napi::Env env, std::exception_ptr error) {
  // Matched by catch clauses rather than dynamic_cast: addons build without RTTI.
  try {
    std::rethrow_exception(error);
  } catch (const engine::ArgumentError& e) {
    return Napi::TypeError::New(env, e.what());
  } catch (const engine::SizeError& e) {
    return Napi::RangeError::New(env, e.what());
  } catch (const std::bad_alloc&) {
    return Napi::RangeError::New(env, "torchrnn: not enough memory for this call (allocation failed)");
  } catch (const Napi::Error& e) {
    return e;
  } catch (const std::exception& e) {
    return Napi::Error::New(env, std::string("torchrnn: ") + e.what());
  } catch (...) {
    return Napi::Error::New(env, "torchrnn: unknown native error");
  }
}

void throwToJs(Napi::Env env, const Napi::Error& error) noexcept {
  try {
    const napi_value value = error.Value();
    // A failed napi_throw (napi_pending_exception while terminating) is ignored on purpose; see callFromJs.
    if (value != nullptr) napi_throw(env, value);
  } catch (...) {
    // Reading the error failed: the environment cannot run JS any more.
  }
}

}  // namespace binding
}  // namespace torchrnn
