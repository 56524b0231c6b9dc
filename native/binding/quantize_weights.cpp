#include "quantize_weights.h"

#include <cmath>
#include <cstdint>
#include <string>

#include "../engine/model_spec.h"
#include "../kernels/reduced_precision.h"
#include "js_errors.h"
#include "js_values.h"

namespace torchrnn {
namespace binding {

namespace {

using kernels::WeightFormat;

const char* arrayName(napi_typedarray_type type) {
  return type == napi_int8_array ? "Int8Array" : type == napi_uint16_array ? "Uint16Array" : "Float32Array";
}

std::size_t readDimension(const Napi::Value& value, const char* name) {
  const std::string message = std::string("quantizeWeight: ") + name + " must be an integer in [0, " +
                              std::to_string(engine::kMaxDimension) + "]";
  if (!value.IsNumber()) throw Napi::TypeError::New(value.Env(), message);
  const double n = value.As<Napi::Number>().DoubleValue();
  if (!(n >= 0 && n <= static_cast<double>(engine::kMaxDimension) && std::floor(n) == n))
    throw Napi::RangeError::New(value.Env(), message);
  return static_cast<std::size_t>(n);
}

// quantizeWeight(format, weight: Float32Array, rows, cols) -> { values, scales }: the matrix as the engine
// stores it (Uint16Array of bits, or Int8Array with a Float32Array of row scales; scales null otherwise).
Napi::Value quantizeWeight(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (info.Length() < 4) throw Napi::TypeError::New(env, "quantizeWeight(format, weight, rows, cols) takes 4 arguments");
  const WeightFormat format = readReducedFormat(info[0], "quantizeWeight: format");
  const std::size_t rows = readDimension(info[2], "rows");
  const std::size_t cols = readDimension(info[3], "cols");
  const std::size_t elements = withJsErrors(env, [&] { return engine::checkedMul(rows, cols, "weight size"); });
  // The results first: allocating them runs no user JS, so the weight's view stays valid after.
  Napi::Value values;
  void* destination = nullptr;
  if (format == WeightFormat::Int8) {
    Napi::Int8Array array = Napi::Int8Array::New(env, elements);
    destination = array.Data();
    values = array;
  } else {
    Napi::Uint16Array array = Napi::Uint16Array::New(env, elements);
    destination = array.Data();
    values = array;
  }
  Napi::Value scales = env.Null();
  float* scaleData = nullptr;
  if (format == WeightFormat::Int8) {
    Napi::Float32Array array = Napi::Float32Array::New(env, rows);
    scaleData = array.Data();
    scales = array;
  }
  const engine::Span<float> weight = readTypedArray<float>(info[1], "quantizeWeight: weight");
  if (weight.size != elements)
    throw Napi::RangeError::New(env, "quantizeWeight: weight must hold " + std::to_string(elements) + " values (" +
                                         std::to_string(rows) + " x " + std::to_string(cols) + "), got " +
                                         std::to_string(weight.size));
  withJsErrors(env, [&] { kernels::quantizeRows(weight.data, rows, cols, format, destination, scaleData); });
  Napi::Object result = Napi::Object::New(env);
  result.Set("values", values);
  result.Set("scales", scales);
  return result;
}

// quantizedBackends() -> { bfloat16, float16, qint8 }: the table each reduced format runs on.
Napi::Value quantizedBackends(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  for (WeightFormat format : {WeightFormat::BFloat16, WeightFormat::Float16, WeightFormat::Int8})
    result.Set(kernels::weightFormatName(format), Napi::String::New(env, kernels::reducedKernels(format).name));
  return result;
}

template <Napi::Value (*Function)(const Napi::CallbackInfo&)>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  return callFromJs(info.Env(), [&] { return Function(info); });
}

}  // namespace

kernels::WeightFormat readReducedFormat(const Napi::Value& value, const std::string& what) {
  const std::string name = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (name == "bfloat16") return WeightFormat::BFloat16;
  if (name == "float16") return WeightFormat::Float16;
  if (name == "qint8") return WeightFormat::Int8;
  throw Napi::TypeError::New(value.Env(), what + " must be 'bfloat16', 'float16' or 'qint8'");
}

napi_typedarray_type storedArrayType(kernels::WeightFormat format) {
  switch (format) {
    case WeightFormat::BFloat16:
    case WeightFormat::Float16: return napi_uint16_array;
    case WeightFormat::Int8: return napi_int8_array;
    case WeightFormat::Float32: break;
  }
  return napi_float32_array;
}

engine::WeightSource<float> readWeightSource(const Napi::Value& values, const Napi::Value& scales,
                                             kernels::WeightFormat format, const std::string& name) {
  const Napi::Env env = values.Env();
  const napi_typedarray_type expected = storedArrayType(format);
  if (!values.IsTypedArray() || values.As<Napi::TypedArray>().TypedArrayType() != expected)
    throw Napi::TypeError::New(env, name + " must be an " + arrayName(expected) + " for " +
                                        kernels::weightFormatName(format) + " weights");
  const Napi::TypedArray array = values.As<Napi::TypedArray>();
  engine::WeightSource<float> source;
  source.format = format;
  source.size = array.ElementLength();
  source.values = source.size ? static_cast<const unsigned char*>(array.ArrayBuffer().Data()) + array.ByteOffset()
                              : nullptr;
  if (format == WeightFormat::Int8) {
    const engine::Span<float> s = readTypedArray<float>(scales, name + " scales");
    source.scales = s.data;
    source.scaleCount = s.size;
  }
  return source;
}

void exportQuantization(Napi::Env env, Napi::Object exports) {
  exports.Set("quantizeWeight", Napi::Function::New(env, guarded<quantizeWeight>, "quantizeWeight"));
  exports.Set("quantizedBackends", Napi::Function::New(env, guarded<quantizedBackends>, "quantizedBackends"));
}

}  // namespace binding
}  // namespace torchrnn
