#include "engine_settings.h"

#include <string>

#include "../engine/thread_pool.h"
#include "../kernels/kernels.h"
#include "js_errors.h"
#include "js_values.h"

namespace torchrnn {
namespace binding {

namespace {

constexpr double kMaxThreads = 1024;  // the facade checks the same bound

Napi::Value backend(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), kernels::backendName());
}

Napi::Value setNumThreads(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const double n = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
  if (!(n >= 1 && n <= kMaxThreads) || n != static_cast<double>(static_cast<std::size_t>(n)))
    throw Napi::RangeError::New(env, "setNumThreads expects an integer from 1 to 1024");
  engine::ThreadPool::instance().setThreadCount(static_cast<std::size_t>(n));
  return env.Undefined();
}

Napi::Value getNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(engine::ThreadPool::instance().threadCount()));
}

template <class T>
Napi::Value applyActivation(Napi::Env env, const std::string& name, const Napi::Value& value) {
  const engine::Span<T> x = readTypedArray<T>(value, "values");
  const kernels::KernelTable<T>& table = kernels::selectKernels<T>();
  const auto activation = name == "sigmoid" ? table.sigmoid : table.tanh;
  Napi::TypedArrayOf<T> y = Napi::TypedArrayOf<T>::New(env, x.size);
  activation(x.data, y.Data(), x.size);
  return y;
}

// Test-only: the chosen family's vectorised activation over a whole array, to measure its accuracy.
Napi::Value activationDiagnostic(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const std::string name = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (name != "sigmoid" && name != "tanh")
    throw Napi::TypeError::New(env, "activationDiagnostic: name must be 'sigmoid' or 'tanh'");
  if (info.Length() < 2 || !info[1].IsTypedArray())
    throw Napi::TypeError::New(env, "activationDiagnostic: values must be a Float32Array or Float64Array");
  if (info[1].As<Napi::TypedArray>().TypedArrayType() == napi_float64_array)
    return applyActivation<double>(env, name, info[1]);
  return applyActivation<float>(env, name, info[1]);
}

// Test-only: member `member` of every step group stays away from every `everyRounds`-th round until the
// others have run it, and offers of the split after rounds alone wait for every member (see
// setStepGroupLatenessForTesting); 0 turns it off.
Napi::Value stepGroupLateness(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const double member = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
  const double every = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : -1;
  // Rounds kept away from are far enough apart that an offer of the split never falls on one.
  if (!(member >= 0 && member < 1024 && member == static_cast<double>(static_cast<long>(member))) ||
      !(every == 0 || (every >= 8 && every <= 1e6 && every == static_cast<double>(static_cast<long>(every)))))
    throw Napi::RangeError::New(env, "stepGroupLateness expects an integer member in [0, 1024) and everyRounds 0 or an integer in [8, 1e6]");
  engine::setStepGroupLatenessForTesting(static_cast<std::size_t>(member), static_cast<std::size_t>(every));
  return env.Undefined();
}

// Test-only: how often step groups ran another member's share, ran rounds alone, and rejoined.
Napi::Value stepGroupCounts(const Napi::CallbackInfo& info) {
  const engine::StepGroupCounts counts = engine::stepGroupCounts();
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("stolenShares", static_cast<double>(counts.stolenShares));
  result.Set("soloRounds", static_cast<double>(counts.soloRounds));
  result.Set("rejoins", static_cast<double>(counts.rejoins));
  return result;
}

// Every exported function through callFromJs: no C++ exception leaves a call from JS.
template <Napi::Value (*Function)(const Napi::CallbackInfo&)>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  return callFromJs(info.Env(), [&] { return Function(info); });
}

}  // namespace

void exportEngineSettings(Napi::Env env, Napi::Object exports) {
  withJsErrors(env, [] { kernels::chosenIsa(); });  // a bad TORCHRNN_ISA fails the require, not a later call
  exports.Set("backend", Napi::Function::New(env, guarded<backend>, "backend"));
  exports.Set("setNumThreads", Napi::Function::New(env, guarded<setNumThreads>, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, guarded<getNumThreads>, "getNumThreads"));
  exports.Set("stepGroupLateness", Napi::Function::New(env, guarded<stepGroupLateness>, "stepGroupLateness"));
  exports.Set("stepGroupCounts", Napi::Function::New(env, guarded<stepGroupCounts>, "stepGroupCounts"));
  exports.Set("activationDiagnostic", Napi::Function::New(env, guarded<activationDiagnostic>, "activationDiagnostic"));
}

}  // namespace binding
}  // namespace torchrnn
