// Reduced-precision weights: PyTorch's own conversions of float32 weights to bfloat16, float16 and
// per-row symmetric int8, and the exact way back. Every format reads back as float32 (the kernels
// accumulate in float32); only the stored bits differ.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels.h"

namespace torchrnn {
namespace kernels {

// Bytes one weight takes in `format` (Float32: 4).
std::size_t bytesPerWeight(WeightFormat format);

// float32 -> bfloat16 bits, rounding to nearest even, as tensor.to(torch.bfloat16); NaN becomes 0xFFFF.
std::uint16_t bfloat16FromFloat(float value);
// float32 -> IEEE half bits, rounding to nearest even, overflowing to infinity (as c10's
// fp16_ieee_from_fp32_value, which tensor.to(torch.float16) uses).
std::uint16_t halfFromFloat(float value);

inline float floatFromBits(std::uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Exact: bfloat16 is the upper half of a float32.
inline float floatFromBFloat16(std::uint16_t bits) { return floatFromBits(std::uint32_t(bits) << 16); }

// Exact: every half is a float32 (subnormal halves become normal floats).
inline float floatFromHalf(std::uint16_t h) {
  const std::uint32_t sign = std::uint32_t(h & 0x8000) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1f;
  std::uint32_t mantissa = h & 0x3ff;
  if (exponent == 0x1f) return floatFromBits(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0) return floatFromBits(sign | ((exponent + 112) << 23) | (mantissa << 13));
  if (mantissa == 0) return floatFromBits(sign);
  // A subnormal half: mantissa * 2^-24, exact in float32.
  const float magnitude = float(mantissa) * floatFromBits(0x33800000u);  // 2^-24
  return sign ? -magnitude : magnitude;
}

// The scale of one output row for symmetric int8, as PyTorch's per-channel weight observer
// (PerChannelMinMaxObserver, qint8, per_channel_symmetric) computes it: max(|min(row, 0)|, max(row, 0)) /
// 127.5, at least float32's epsilon. Every value must be finite (checked by quantizeRows).
float int8RowScale(const float* row, std::size_t n);

// round-half-even(value / scale), clamped to [-128, 127], as torch.quantize_per_channel (which multiplies by
// the float reciprocal of the scale).
std::int8_t quantizeInt8(float value, float scale);

// Converts a row-major [rows, cols] float32 matrix to `format` (not Float32): bfloat16 / float16 bits into
// `out` as uint16_t, or int8 values into `out` and each row's scale into `scales` (rows values; untouched for
// the 16-bit formats). Throws std::invalid_argument naming the first non-finite value when int8 has no scale
// for it.
void quantizeRows(const float* w, std::size_t rows, std::size_t cols, WeightFormat format, void* out, float* scales);

// One packed panel back to float32: dst[i * cols + c] = value of src[i * cols + c], times scales[c] for Int8,
// over `depth` rows of `cols` columns.
void decodePanel(WeightFormat format, const void* src, const float* scales, std::size_t depth, std::size_t cols,
                 float* dst);

// The name PyTorch gives a format ("bfloat16", "float16", "qint8", "float32").
const char* weightFormatName(WeightFormat format);

}  // namespace kernels
}  // namespace torchrnn
