#include "packed_linear.h"

#include <cmath>
#include <optional>
#include <string>

#include "../engine/model_spec.h"
#include "js_errors.h"
#include "js_values.h"
#include "quantize_weights.h"
#include "result_buffers.h"

namespace torchrnn {
namespace binding {

namespace {

// info[index] as an integer in [0, kMaxDimension]; anything else throws, naming the argument.
std::size_t readCount(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  const Napi::Env env = info.Env();
  const std::string message = std::string("PackedLinear: ") + name + " must be an integer in [0, " +
                              std::to_string(engine::kMaxDimension) + "]";
  if (info.Length() <= index || !info[index].IsNumber()) throw Napi::TypeError::New(env, message);
  const double n = info[index].As<Napi::Number>().DoubleValue();
  if (!(n >= 0 && n <= static_cast<double>(engine::kMaxDimension) && std::floor(n) == n))
    throw Napi::RangeError::New(env, message);
  return static_cast<std::size_t>(n);
}

template <class T>
std::unique_ptr<const engine::PackedLinear<T>> packFromJs(const Napi::CallbackInfo& info, std::size_t in, std::size_t out) {
  const engine::Span<T> weight = readTypedArray<T>(info[2], "PackedLinear: weight");
  std::optional<engine::Span<T>> bias;
  if (!info[3].IsNull() && !info[3].IsUndefined()) bias = readTypedArray<T>(info[3], "PackedLinear: bias");
  return withJsErrors(info.Env(), [&] {
    return std::make_unique<const engine::PackedLinear<T>>(in, out, weight, bias ? &*bias : nullptr);
  });
}

// The reduced-precision form: info[4] is { format, scales }, the weight a stored array of that format.
std::unique_ptr<const engine::PackedLinear<float>> packReducedFromJs(const Napi::CallbackInfo& info, std::size_t in,
                                                                    std::size_t out) {
  const Napi::Env env = info.Env();
  if (!info[4].IsObject()) throw Napi::TypeError::New(env, "PackedLinear: precision must be an object { format, scales }");
  const Napi::Object options = info[4].As<Napi::Object>();
  const kernels::WeightFormat format = readReducedFormat(options.Get("format"), "PackedLinear: precision.format");
  const Napi::Value scales = options.Get("scales");
  // Views last: nothing after them runs JS.
  std::optional<engine::Span<float>> bias;
  if (!info[3].IsNull() && !info[3].IsUndefined()) bias = readTypedArray<float>(info[3], "PackedLinear: bias");
  const engine::WeightSource<float> weight = readWeightSource(info[2], scales, format, "PackedLinear: weight");
  return withJsErrors(env, [&] {
    return std::make_unique<const engine::PackedLinear<float>>(in, out, weight, bias ? &*bias : nullptr);
  });
}

}  // namespace

Napi::Function PackedLinear::defineClass(Napi::Env env) {
  return DefineClass(env, "PackedLinear", {InstanceMethod<&PackedLinear::forward>("forward")});
}

PackedLinear::PackedLinear(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PackedLinear>(info) {
  const Napi::Env env = info.Env();
  if (info.Length() < 4)
    throw Napi::TypeError::New(env, "PackedLinear(inFeatures, outFeatures, weight, bias) takes 4 arguments");
  const std::size_t in = readCount(info, 0, "inFeatures");
  const std::size_t out = readCount(info, 1, "outFeatures");
  // The weight's element type decides the layer's; bias and inputs must share it. A fifth argument says
  // the weight is stored at reduced precision (a float32 layer).
  if (info.Length() > 4 && !info[4].IsUndefined())
    linear_ = packReducedFromJs(info, in, out);
  else if (info[2].IsTypedArray() && info[2].As<Napi::TypedArray>().TypedArrayType() == napi_float64_array)
    linear_ = packFromJs<double>(info, in, out);
  else
    linear_ = packFromJs<float>(info, in, out);
}

template <class T>
Napi::Value PackedLinear::forwardWith(const Napi::CallbackInfo& info, const engine::PackedLinear<T>& linear) {
  const Napi::Env env = info.Env();
  if (info.Length() < 2) throw Napi::TypeError::New(env, "PackedLinear.forward(input, rows) takes 2 arguments");
  const engine::Span<T> input = readTypedArray<T>(info[0], "PackedLinear.forward: input");
  const std::size_t rows = readCount(info, 1, "rows");
  // Sizes are checked before the result exists, and the result before the kernel writes into it.
  ResultArray<T> output = withJsErrors(env, [&] { return ResultArray<T>(env, linear.outputSize(rows)); });
  withJsErrors(env, [&] { linear.forward(input, rows, output.data(), output.size()); });
  return output.toJs(env);
}

Napi::Value PackedLinear::forward(const Napi::CallbackInfo& info) {
  return callFromJs(info.Env(), [&] { return std::visit([&](const auto& linear) { return forwardWith(info, *linear); }, linear_); });
}

}  // namespace binding
}  // namespace torchrnn
