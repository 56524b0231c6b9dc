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

// Exact: every half is a float32 (subnormal halves become normal floats). Branch-free, so that a loop of
// it vectorises: a normal half's exponent is rebiased by scaling, a subnormal one is made as a float with
// the half's mantissa under a fixed exponent minus that exponent's value, and the sign is put back.
inline float floatFromHalf(std::uint16_t h) {
  const std::uint32_t w = std::uint32_t(h) << 16;
  const std::uint32_t sign = w & 0x80000000u;
  const std::uint32_t twoW = w + w;  // the sign shifted out
  const float normalized = floatFromBits((twoW >> 4) + (0xE0u << 23)) * floatFromBits(0x07800000u);  // x 2^-112
  const float denormalized = floatFromBits((twoW >> 17) | (126u << 23)) - 0.5f;
  std::uint32_t bits;
  const float magnitude = twoW < (1u << 27) ? denormalized : normalized;
  std::memcpy(&bits, &magnitude, sizeof bits);
  return floatFromBits(sign | bits);
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

// How many consecutive k of one packed column the kernels in use for `format` read as one 32-bit lane: 4
// for qint8 on the VNNI kernels, 2 for bfloat16 on the BF16 kernels, else 1 (the panels as packing.h writes
// them). Decided with the kernel family, once.
std::size_t dotDepthGroup(WeightFormat format);

// One packed panel of `depth` rows of `cols` columns ([k][c]) into the dot-product layout of `group`
// consecutive k per column: dst[(k / group) * cols * group + c * group + k % group], depth padded with
// zeros to a multiple of `group` (dst holds cols * paddedDepth values). For int8, also each column's sum
// of its values into sums[c].
void groupInt8Panel(const std::int8_t* src, std::size_t depth, std::size_t cols, std::size_t group, std::int8_t* dst,
                    std::int32_t* sums);
void groupBits16Panel(const std::uint16_t* src, std::size_t depth, std::size_t cols, std::size_t group,
                      std::uint16_t* dst);

// The name PyTorch gives a format ("bfloat16", "float16", "qint8", "float32").
const char* weightFormatName(WeightFormat format);

}  // namespace kernels
}  // namespace torchrnn
