// Reduced-precision weights across the JS boundary: the format names, reading a stored matrix (bits or
// int8 values, and its scales), and the exported quantizeWeight / quantizedBackends functions.
#pragma once

#include <string>

#include <napi.h>

#include "../engine/packed_matrix.h"

namespace torchrnn {
namespace binding {

// 'bfloat16' | 'float16' | 'qint8' (PyTorch's dtype names); anything else throws a TypeError naming `what`.
kernels::WeightFormat readReducedFormat(const Napi::Value& value, const std::string& what);

// The element type JS holds a matrix of `format` in: Uint16Array for the 16-bit formats, Int8Array for int8.
napi_typedarray_type storedArrayType(kernels::WeightFormat format);

// A view of a stored matrix: `values` a typed array of storedArrayType(format), `scales` a Float32Array for
// int8 (ignored otherwise). Valid until JS next runs, as every span (js_values.h).
engine::WeightSource<float> readWeightSource(const Napi::Value& values, const Napi::Value& scales,
                                             kernels::WeightFormat format, const std::string& name);

// Adds quantizeWeight(format, weight, rows, cols) and quantizedBackends() to the exports.
void exportQuantization(Napi::Env env, Napi::Object exports);

}  // namespace binding
}  // namespace torchrnn
