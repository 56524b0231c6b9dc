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

// Makes `error` the pending JS exception. Never throws: in an environment that can no longer run JS
// (worker.terminate()) napi_throw fails, and then there is nobody left to see the error.
void throwToJs(Napi::Env env, const Napi::Error& error) noexcept;

// The body of every method JS calls: no C++ exception may leave it. node-addon-api's own wrapper would
// rethrow a Napi::Error as a JS exception, and when that fails (a terminating environment) throw again out
// of the C callback: std::terminate. Here any exception becomes the pending JS exception, or is dropped.
template <class Body>
Napi::Value callFromJs(Napi::Env env, Body&& body) noexcept {
  try {
    try {
      return body();
    } catch (const Napi::Error& error) {
      throwToJs(env, error);
    } catch (...) {
      throwToJs(env, toJsError(env, std::current_exception()));
    }
  } catch (...) {
    // toJsError itself failed (the environment is going away): drop it.
  }
  return Napi::Value();
}

}  // namespace binding
}  // namespace torchrnn
