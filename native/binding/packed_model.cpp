#include "packed_model.h"

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "../engine/forward.h"
#include "../engine/span.h"
#include "forward_args.h"
#include "forward_worker.h"
#include "js_errors.h"
#include "js_values.h"
#include "model_spec_args.h"
#include "quantize_weights.h"
#include "result_buffers.h"

namespace torchrnn {
namespace binding {

namespace {

template <class T>
std::shared_ptr<const engine::PackedWeights<T>> packFromJs(const engine::ModelSpec& spec, const Napi::Value& value) {
  const Napi::Env env = value.Env();
  if (!value.IsArray()) throw Napi::TypeError::New(env, "weights must be an Array of typed arrays");
  const Napi::Array array = value.As<Napi::Array>();
  const std::size_t expected = withJsErrors(env, [&] {
    engine::validateModelSpec(spec);
    return engine::parameterCount(spec);
  });
  if (array.Length() != expected)
    throw Napi::RangeError::New(env, "weights must hold " + std::to_string(expected) + " arrays for this spec, got " +
                                         std::to_string(array.Length()));
  const std::vector<engine::ParameterShape> shapes = withJsErrors(env, [&] { return engine::parameterShapes(spec); });
  // Every element first: an element getter (or a getter on Array.prototype behind a hole) may detach or
  // shrink an earlier weight's buffer. Then the views, and packing, with no JS in between.
  std::vector<Napi::Value> elements;
  withJsErrors(env, [&] { elements.reserve(expected); });
  for (std::uint32_t i = 0; i < expected; ++i) elements.push_back(array.Get(i));
  std::vector<engine::Span<T>> parameters;
  withJsErrors(env, [&] { parameters.reserve(expected); });
  for (std::uint32_t i = 0; i < expected; ++i)
    parameters.push_back(readTypedArray<T>(elements[i], "weights[" + std::to_string(i) + "] (" + shapes[i].name + ")"));
  // packWeights copies into the engine's layout: the model keeps no view of JS memory.
  return withJsErrors(env, [&] { return engine::packWeights<T>(spec, parameters); });
}

// The reduced-precision form: `precision` is { format, scales }, the weight matrices are stored arrays of
// that format (quantizeWeight's values), biases Float32Arrays, and scales[i] the row scales of an int8
// matrix i (anything, e.g. null, elsewhere).
std::shared_ptr<const engine::PackedWeights<float>> packReducedFromJs(const engine::ModelSpec& spec,
                                                                      const Napi::Value& value,
                                                                      const Napi::Value& precision) {
  const Napi::Env env = value.Env();
  if (!precision.IsObject()) throw Napi::TypeError::New(env, "precision must be an object { format, scales }");
  const Napi::Object options = precision.As<Napi::Object>();
  const kernels::WeightFormat format = readReducedFormat(options.Get("format"), "precision.format");
  const Napi::Value scalesValue = options.Get("scales");
  if (!value.IsArray()) throw Napi::TypeError::New(env, "weights must be an Array of typed arrays");
  if (!scalesValue.IsArray()) throw Napi::TypeError::New(env, "precision.scales must be an Array");
  if (spec.dtype != engine::DType::Float32)
    throw Napi::TypeError::New(env, "reduced-precision weights need spec.dtype 'float32'");
  const Napi::Array array = value.As<Napi::Array>();
  const Napi::Array scaleArray = scalesValue.As<Napi::Array>();
  const std::size_t expected = withJsErrors(env, [&] {
    engine::validateModelSpec(spec);
    return engine::parameterCount(spec);
  });
  if (array.Length() != expected || scaleArray.Length() != expected)
    throw Napi::RangeError::New(env, "weights and precision.scales must hold " + std::to_string(expected) +
                                         " entries for this spec, got " + std::to_string(array.Length()) + " and " +
                                         std::to_string(scaleArray.Length()));
  const std::vector<engine::ParameterShape> shapes = withJsErrors(env, [&] { return engine::parameterShapes(spec); });
  // Every element first, then the views, as packFromJs.
  std::vector<Napi::Value> elements, scales;
  withJsErrors(env, [&] {
    elements.reserve(expected);
    scales.reserve(expected);
  });
  for (std::uint32_t i = 0; i < expected; ++i) {
    elements.push_back(array.Get(i));
    scales.push_back(scaleArray.Get(i));
  }
  std::vector<engine::WeightSource<float>> parameters(expected);
  for (std::uint32_t i = 0; i < expected; ++i) {
    const std::string name = "weights[" + std::to_string(i) + "] (" + shapes[i].name + ")";
    const engine::ParameterRole role = shapes[i].role;
    if (role == engine::ParameterRole::BiasIh || role == engine::ParameterRole::BiasHh) {
      const engine::Span<float> bias = readTypedArray<float>(elements[i], name);
      parameters[i].values = bias.data;
      parameters[i].size = bias.size;
    } else {
      parameters[i] = readWeightSource(elements[i], scales[i], format, name);
    }
  }
  return withJsErrors(env, [&] { return engine::packReducedWeights(spec, format, parameters); });
}

}  // namespace

Napi::Function PackedModel::defineClass(Napi::Env env) {
  return DefineClass(env, "PackedModel",
                     {InstanceMethod<&PackedModel::forward>("forward"),
                      InstanceMethod<&PackedModel::forwardAsync>("forwardAsync")});
}

PackedModel::PackedModel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PackedModel>(info) {
  const Napi::Env env = info.Env();
  // Any C++ exception becomes a JS one (node-addon-api's constructor wrapper only catches Napi::Error).
  withJsErrors(env, [&] {
    if (info.Length() < 2) throw Napi::TypeError::New(env, "PackedModel(spec, weights) takes 2 arguments");
    const engine::ModelSpec spec = readModelSpec(info[0]);
    if (info.Length() > 2 && !info[2].IsUndefined())
      weights_ = packReducedFromJs(spec, info[1], info[2]);
    else if (spec.dtype == engine::DType::Float32)
      weights_ = packFromJs<float>(spec, info[1]);
    else
      weights_ = packFromJs<double>(spec, info[1]);
  });
}

template <class T>
Napi::Value PackedModel::forwardWith(const Napi::CallbackInfo& info,
                                     const std::shared_ptr<const engine::PackedWeights<T>>& weights) {
  const Napi::Env env = info.Env();
  // `call` views JS memory: valid until JS next runs. Nothing below runs JS before the engine is done:
  // allocating the results runs none, and the result object is built afterwards, by DefineProperty.
  const ForwardCall<T> call = readForwardArgs<T>(info[0], weights->spec);
  return withJsErrors(env, [&] {
    const ForwardResultBuffers<T> buffers(env, call.plan, weights->spec.mode == engine::Mode::Lstm);
    engine::runForward(*weights, call.plan, call.inputs, buffers.destinations());
    return buffers.toJs(env);
  });
}

template <class T>
Napi::Value PackedModel::forwardAsyncWith(const Napi::CallbackInfo& info,
                                          const std::shared_ptr<const engine::PackedWeights<T>>& weights) {
  const Napi::Env env = info.Env();
  try {
    // The worker copies the inputs `call` views before anything else runs JS, and keeps `weights` alive.
    ForwardCall<T> call = readForwardArgs<T>(info[0], weights->spec);
    std::unique_ptr<ForwardWorker<T>> worker =
        withJsErrors(env, [&] { return std::make_unique<ForwardWorker<T>>(env, weights, std::move(call)); });
    const Napi::Promise promise = worker->promise();
    worker.release()->Queue();  // the worker deletes itself after OnOK / OnError
    return promise;
  } catch (...) {
    // A Promise-returning call reports bad arguments by rejecting, never by throwing.
    Napi::Promise::Deferred rejected = Napi::Promise::Deferred::New(env);
    rejected.Reject(toJsError(env, std::current_exception()).Value());
    return rejected.Promise();
  }
}

Napi::Value PackedModel::forward(const Napi::CallbackInfo& info) {
  return callFromJs(info.Env(), [&] {
    return std::visit([&](const auto& weights) { return forwardWith(info, weights); }, weights_);
  });
}

Napi::Value PackedModel::forwardAsync(const Napi::CallbackInfo& info) {
  return callFromJs(info.Env(), [&] {
    return std::visit([&](const auto& weights) { return forwardAsyncWith(info, weights); }, weights_);
  });
}

}  // namespace binding
}  // namespace torchrnn
