// Reading plain values out of JS objects, with an error naming the field for anything unexpected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <napi.h>

#include "../engine/span.h"

namespace torchrnn {
namespace binding {

// obj[key] as an integer in [0, max]; anything else (NaN, fractions, negatives, non-numbers) throws.
std::size_t readSize(const Napi::Object& obj, const char* key, const std::string& owner, std::size_t max);
bool readBoolean(const Napi::Object& obj, const char* key, const std::string& owner);
std::string readString(const Napi::Object& obj, const char* key, const std::string& owner);
double readNumber(const Napi::Object& obj, const char* key, const std::string& owner);

// The element type behind a scalar: Float32Array for float, Float64Array for double.
template <class T>
constexpr napi_typedarray_type typedArrayTypeOf();
template <>
constexpr napi_typedarray_type typedArrayTypeOf<float>() { return napi_float32_array; }
template <>
constexpr napi_typedarray_type typedArrayTypeOf<double>() { return napi_float64_array; }
template <>
constexpr napi_typedarray_type typedArrayTypeOf<std::int32_t>() { return napi_int32_array; }

// A view of `value`, which must be a typed array of T (a detached one reads as length 0).
template <class T>
engine::Span<T> readTypedArray(const Napi::Value& value, const std::string& name);

// Like readTypedArray, but undefined means absent.
template <class T>
std::optional<engine::Span<T>> readOptionalTypedArray(const Napi::Value& value, const std::string& name);

// Lifetime rule for every span above: it points into JS memory and is valid only until JS next runs. Any
// obj.Get or array.Get may run a getter or a Proxy trap that detaches or shrinks a buffer, so callers read
// every property first and take spans last, with no JS in between (forward_args.cpp, packed_model.cpp).
// The scalar readers run no user code: strict type checks, never ToNumber / valueOf.

}  // namespace binding
}  // namespace torchrnn
