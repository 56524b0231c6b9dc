#include "packed_model.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <initializer_list>
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

// A typed array argument of a step, viewed with one N-API call. `name` is only read to build an error.
template <class T>
struct StepArray {
  T* data = nullptr;
  std::size_t size = 0;
  bool present = false;
};

template <class T>
StepArray<T> stepArray(Napi::Env env, napi_value value, const char* name, bool optional, const char* method = "step") {
  StepArray<T> out;
  bool isTyped = false;
  napi_is_typedarray(env, value, &isTyped);
  if (!isTyped && optional) {
    napi_valuetype type = napi_object;
    napi_typeof(env, value, &type);
    if (type == napi_undefined) return out;
  }
  napi_typedarray_type arrayType = napi_int8_array;
  std::size_t length = 0;
  void* data = nullptr;
  if (isTyped) napi_get_typedarray_info(env, value, &arrayType, &length, &data, nullptr, nullptr);
  if (!isTyped || arrayType != typedArrayTypeOf<T>())
    throw Napi::TypeError::New(env, std::string(method) + ": " + name + " must be a " +
                                        (typedArrayTypeOf<T>() == napi_float32_array ? "Float32Array" : "Float64Array"));
  out.data = length ? static_cast<T*>(data) : nullptr;
  out.size = length;
  out.present = true;
  return out;
}

template <class T>
void expectStepLength(Napi::Env env, const StepArray<T>& a, std::size_t expected, const char* name,
                      const char* method = "step") {
  if (a.present && a.size != expected)
    throw Napi::RangeError::New(env, std::string(method) + ": " + name + " must have " + std::to_string(expected) +
                                         " elements, got " + std::to_string(a.size));
}

template <class T>
bool overlaps(const StepArray<T>& a, const StepArray<T>& b) {
  if (!a.present || !b.present || a.size == 0 || b.size == 0) return false;
  const auto a0 = reinterpret_cast<std::uintptr_t>(a.data), b0 = reinterpret_cast<std::uintptr_t>(b.data);
  return a0 < b0 + b.size * sizeof(T) && b0 < a0 + a.size * sizeof(T);
}

// Results may be written while inputs are still read (every layer reads its input while the last one
// writes the output, h_n is written before the reverse direction has read h0, a cell may write h into
// h's own array): each of input, h0 and c0 that shares memory with a result is read from a copy instead,
// kept in `copies` for the call.
template <class T>
void readSharedInputsFromCopies(StepArray<T>& input, StepArray<T>& h0, StepArray<T>& c0,
                                std::initializer_list<const StepArray<T>*> results, std::vector<T> (&copies)[3]) {
  StepArray<T>* ins[3] = {&input, &h0, &c0};
  for (std::size_t i = 0; i < 3; ++i) {
    bool shared = false;
    for (const StepArray<T>* result : results) shared = shared || overlaps(*ins[i], *result);
    if (shared) {
      copies[i].assign(ins[i]->data, ins[i]->data + ins[i]->size);
      ins[i]->data = copies[i].data();
    }
  }
}

// A positional integer argument in [0, max], read without running JS (a Number, never converted).
std::size_t positionalInteger(Napi::Env env, const Napi::Value& value, double max, const char* method, const char* name) {
  const double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1;
  if (!(number >= 0 && number <= max && std::floor(number) == number))
    throw Napi::RangeError::New(env, std::string(method) + ": " + name + " must be an integer in [0, " +
                                         std::to_string(static_cast<unsigned long long>(max)) + "]");
  return static_cast<std::size_t>(number);
}

}  // namespace

Napi::Function PackedModel::defineClass(Napi::Env env) {
  return DefineClass(env, "PackedModel",
                     {InstanceMethod<&PackedModel::forward>("forward"),
                      InstanceMethod<&PackedModel::forwardAsync>("forwardAsync"),
                      InstanceMethod<&PackedModel::step>("step"),
                      InstanceMethod<&PackedModel::forwardInto>("forwardInto")});
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

// The cells' path: one call per token of a decoder loop, so it takes its arguments positionally (no
// property lookups), checks only lengths, and writes into arrays the caller allocated (no result object,
// no ArrayBuffers made here). The engine is the same as forward's: results are bit-identical to it.
template <class T>
void PackedModel::stepWith(const Napi::CallbackInfo& info, const std::shared_ptr<const engine::PackedWeights<T>>& weights) {
  const Napi::Env env = info.Env();
  const engine::ModelSpec& spec = weights->spec;
  if (spec.numLayers != 1 || spec.bidirectional)
    throw Napi::Error::New(env, "step: only for a one-layer, one-direction model");
  if (info.Length() < 6) throw Napi::TypeError::New(env, "step(batch, input, h0, c0, hOut, cOut) takes 6 arguments");
  // Numbers and typed arrays only: reading them runs no JS, so the views below stay valid until the engine
  // is done.
  const Napi::Value batchValue = info[0];
  const double batchNumber = batchValue.IsNumber() ? batchValue.As<Napi::Number>().DoubleValue() : -1;
  if (!(batchNumber >= 0 && batchNumber <= double(engine::kMaxDimension) && std::floor(batchNumber) == batchNumber))
    throw Napi::RangeError::New(env, "step: batch must be an integer in [0, " + std::to_string(engine::kMaxDimension) + "]");
  const auto batch = static_cast<std::size_t>(batchNumber);
  const bool lstm = spec.mode == engine::Mode::Lstm;
  StepArray<T> input = stepArray<T>(env, info[1], "input", false);
  StepArray<T> h0 = stepArray<T>(env, info[2], "h0", true);
  StepArray<T> c0 = stepArray<T>(env, info[3], "c0", true);
  const StepArray<T> hOut = stepArray<T>(env, info[4], "hOut", false);
  const StepArray<T> cOut = stepArray<T>(env, info[5], "cOut", !lstm);
  if (!lstm && cOut.present) throw Napi::TypeError::New(env, "step: cOut is only for LSTM");

  withJsErrors(env, [&] {
    engine::ForwardPlan plan = engine::planForward(spec, engine::SequenceLayout::padded(1, batch, false));
    expectStepLength(env, hOut, plan.hiddenElements, "hOut");
    if (lstm) expectStepLength(env, cOut, plan.cellElements, "cOut");
    if (overlaps(hOut, cOut)) throw Napi::RangeError::New(env, "step: hOut and cOut must not share memory");
    std::vector<T> copies[3];
    readSharedInputsFromCopies(input, h0, c0, {&hOut, &cOut}, copies);
    engine::ForwardInputs<T> inputs;
    inputs.input = engine::Span<T>{input.data, input.size};
    if (h0.present) inputs.h0 = engine::Span<T>{h0.data, h0.size};
    if (c0.present) inputs.c0 = engine::Span<T>{c0.data, c0.size};
    // One layer, one direction, one step: the output is h_n, so both go to hOut (the same values).
    engine::ForwardOutputs<T> outputs;
    outputs.output = hOut.data;
    outputs.hN = hOut.data;
    outputs.cN = lstm ? cOut.data : nullptr;
    engine::runForward(*weights, plan, inputs, outputs);
  });
}

// forward's lean form for padded input: positional arguments (numbers and typed arrays, so reading them
// runs no JS and the views stay valid until the engine is done), results written into the caller's
// arrays, no result object. A short sequence then costs about what the engine does.
template <class T>
void PackedModel::forwardIntoWith(const Napi::CallbackInfo& info,
                                  const std::shared_ptr<const engine::PackedWeights<T>>& weights) {
  const Napi::Env env = info.Env();
  constexpr const char* kMethod = "forwardInto";
  const engine::ModelSpec& spec = weights->spec;
  if (info.Length() < 11)
    throw Napi::TypeError::New(env, "forwardInto(seqLen, batch, batchFirst, input, h0, c0, output, hN, cN, dropout, "
                                    "dropoutSeed) takes 11 arguments");
  const std::size_t seqLen = positionalInteger(env, info[0], double(engine::kMaxDimension), kMethod, "seqLen");
  const std::size_t batch = positionalInteger(env, info[1], double(engine::kMaxDimension), kMethod, "batch");
  if (!info[2].IsBoolean()) throw Napi::TypeError::New(env, "forwardInto: batchFirst must be a boolean");
  const bool batchFirst = info[2].As<Napi::Boolean>().Value();
  const double dropout = info[9].IsNumber() ? info[9].As<Napi::Number>().DoubleValue() : -1;
  const auto dropoutSeed = static_cast<std::uint32_t>(positionalInteger(env, info[10], double(UINT32_MAX), kMethod, "dropoutSeed"));
  const bool lstm = spec.mode == engine::Mode::Lstm;
  StepArray<T> input = stepArray<T>(env, info[3], "input", false, kMethod);
  StepArray<T> h0 = stepArray<T>(env, info[4], "h0", true, kMethod);
  StepArray<T> c0 = stepArray<T>(env, info[5], "c0", true, kMethod);
  const StepArray<T> output = stepArray<T>(env, info[6], "output", false, kMethod);
  const StepArray<T> hN = stepArray<T>(env, info[7], "hN", false, kMethod);
  const StepArray<T> cN = stepArray<T>(env, info[8], "cN", !lstm, kMethod);
  if (!lstm && cN.present) throw Napi::TypeError::New(env, "forwardInto: cN is only for LSTM");

  withJsErrors(env, [&] {
    const engine::ForwardPlan plan = engine::planForward(spec, engine::SequenceLayout::padded(seqLen, batch, batchFirst));
    expectStepLength(env, output, plan.outputElements, "output", kMethod);
    expectStepLength(env, hN, plan.hiddenElements, "hN", kMethod);
    if (lstm) expectStepLength(env, cN, plan.cellElements, "cN", kMethod);
    if (overlaps(output, hN) || overlaps(output, cN) || overlaps(hN, cN))
      throw Napi::RangeError::New(env, "forwardInto: output, hN and cN must not share memory");
    std::vector<T> copies[3];
    readSharedInputsFromCopies(input, h0, c0, {&output, &hN, &cN}, copies);
    engine::ForwardInputs<T> inputs;
    inputs.input = engine::Span<T>{input.data, input.size};
    if (h0.present) inputs.h0 = engine::Span<T>{h0.data, h0.size};
    if (c0.present) inputs.c0 = engine::Span<T>{c0.data, c0.size};
    inputs.dropout = dropout;
    inputs.dropoutSeed = dropoutSeed;
    engine::ForwardOutputs<T> outputs;
    outputs.output = output.data;
    outputs.hN = hN.data;
    outputs.cN = lstm ? cN.data : nullptr;
    engine::runForward(*weights, plan, inputs, outputs);
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

Napi::Value PackedModel::step(const Napi::CallbackInfo& info) {
  return callFromJs(info.Env(), [&] {
    std::visit([&](const auto& weights) { stepWith(info, weights); }, weights_);
    return info.Env().Undefined();
  });
}

Napi::Value PackedModel::forwardInto(const Napi::CallbackInfo& info) {
  return callFromJs(info.Env(), [&] {
    std::visit([&](const auto& weights) { forwardIntoWith(info, weights); }, weights_);
    return info.Env().Undefined();
  });
}

Napi::Value PackedModel::forwardAsync(const Napi::CallbackInfo& info) {
  return callFromJs(info.Env(), [&] {
    return std::visit([&](const auto& weights) { return forwardAsyncWith(info, weights); }, weights_);
  });
}

}  // namespace binding
}  // namespace torchrnn
