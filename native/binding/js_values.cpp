#include "js_values.h"

#include <cmath>

namespace torchrnn {
namespace binding {

namespace {

std::string describe(const Napi::Value& value) {
  if (value.IsUndefined()) return "undefined";
  if (value.IsNull()) return "null";
  if (value.IsNumber()) {
    const double n = value.As<Napi::Number>().DoubleValue();
    if (std::isnan(n)) return "NaN";
    return value.ToString().Utf8Value();  // JS's own formatting: 1099511627776, 0.5, -1, Infinity
  }
  if (value.IsString()) return "a string";
  if (value.IsBoolean()) return "a boolean";
  if (value.IsTypedArray()) return "a typed array of another element type";
  if (value.IsArray()) return "an array";
  if (value.IsFunction()) return "a function";
  return "an object";
}

const char* typedArrayName(napi_typedarray_type type) {
  switch (type) {
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_int32_array: return "Int32Array";
    default: return "typed array";
  }
}

}  // namespace

std::size_t readSize(const Napi::Object& obj, const char* key, const std::string& owner, std::size_t max) {
  const Napi::Value value = obj.Get(key);
  const std::string name = owner + "." + key;
  const std::string expected = " must be an integer in [0, " + std::to_string(max) + "], got ";
  if (!value.IsNumber()) throw Napi::TypeError::New(obj.Env(), name + expected + describe(value));
  const double n = value.As<Napi::Number>().DoubleValue();
  if (!(n >= 0 && n <= static_cast<double>(max) && std::floor(n) == n))
    throw Napi::RangeError::New(obj.Env(), name + expected + describe(value));
  return static_cast<std::size_t>(n);
}

bool readBoolean(const Napi::Object& obj, const char* key, const std::string& owner) {
  const Napi::Value value = obj.Get(key);
  if (!value.IsBoolean())
    throw Napi::TypeError::New(obj.Env(), owner + "." + key + " must be a boolean, got " + describe(value));
  return value.As<Napi::Boolean>().Value();
}

std::string readString(const Napi::Object& obj, const char* key, const std::string& owner) {
  const Napi::Value value = obj.Get(key);
  if (!value.IsString())
    throw Napi::TypeError::New(obj.Env(), owner + "." + key + " must be a string, got " + describe(value));
  return value.As<Napi::String>().Utf8Value();
}

double readNumber(const Napi::Object& obj, const char* key, const std::string& owner) {
  const Napi::Value value = obj.Get(key);
  if (!value.IsNumber())
    throw Napi::TypeError::New(obj.Env(), owner + "." + key + " must be a number, got " + describe(value));
  return value.As<Napi::Number>().DoubleValue();
}

template <class T>
engine::Span<T> readTypedArray(const Napi::Value& value, const std::string& name) {
  constexpr napi_typedarray_type expected = typedArrayTypeOf<T>();
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != expected)
    throw Napi::TypeError::New(value.Env(),
                               name + " must be a " + typedArrayName(expected) + ", got " + describe(value));
  const Napi::TypedArrayOf<T> array = value.As<Napi::TypedArrayOf<T>>();
  engine::Span<T> span;
  span.size = array.ElementLength();
  span.data = span.size ? array.Data() : nullptr;
  return span;
}

template <class T>
std::optional<engine::Span<T>> readOptionalTypedArray(const Napi::Value& value, const std::string& name) {
  if (value.IsUndefined()) return std::nullopt;
  return readTypedArray<T>(value, name);
}

template engine::Span<float> readTypedArray<float>(const Napi::Value&, const std::string&);
template engine::Span<double> readTypedArray<double>(const Napi::Value&, const std::string&);
template engine::Span<std::int32_t> readTypedArray<std::int32_t>(const Napi::Value&, const std::string&);
template std::optional<engine::Span<float>> readOptionalTypedArray<float>(const Napi::Value&, const std::string&);
template std::optional<engine::Span<double>> readOptionalTypedArray<double>(const Napi::Value&, const std::string&);
template std::optional<engine::Span<std::int32_t>> readOptionalTypedArray<std::int32_t>(const Napi::Value&,
                                                                                        const std::string&);

}  // namespace binding
}  // namespace torchrnn
