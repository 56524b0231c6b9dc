// Turns the engine's C++ exceptions into the JS errors the caller sees.
#pragma once

#include <exception>

#include <napi.h>

namespace torchrnn {
namespace binding {

// The JS error for a caught exception: TypeError for an ArgumentError, RangeError for a SizeError or
// an allocation failure, Error otherwise.
Napi::Error toJsError(Napi::Env env, std::exception_ptr error);

// Runs `body`, rethrowing any C++ exception as the matching JS error.
template <class Body>
auto withJsErrors(Napi::Env env, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw toJsError(env, std::current_exception());
  }
}

}  // namespace binding
}  // namespace torchrnn
