#include "reduced_precision.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace torchrnn {
namespace kernels {

namespace {

std::uint32_t bitsOf(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

}  // namespace

std::size_t bytesPerWeight(WeightFormat format) {
  switch (format) {
    case WeightFormat::Float32: return 4;
    case WeightFormat::BFloat16:
    case WeightFormat::Float16: return 2;
    case WeightFormat::Int8: return 1;
  }
  return 4;
}

const char* weightFormatName(WeightFormat format) {
  switch (format) {
    case WeightFormat::Float32: return "float32";
    case WeightFormat::BFloat16: return "bfloat16";
    case WeightFormat::Float16: return "float16";
    case WeightFormat::Int8: return "qint8";
  }
  return "float32";
}

std::uint16_t bfloat16FromFloat(float value) {
  // Every NaN becomes 0xFFFF, as tensor.to(torch.bfloat16) writes it (its vectorised conversion; c10's
  // scalar one would write 0x7FC0): both are NaN, this one is what PyTorch stores for weights.
  if (std::isnan(value)) return 0xFFFF;
  const std::uint32_t bits = bitsOf(value);
  // Adding 0x7FFF plus the lowest kept bit carries into the kept half exactly when the dropped half is
  // above one half, or exactly one half with an odd kept half: round to nearest, ties to even.
  const std::uint32_t roundingBias = 0x7FFF + ((bits >> 16) & 1);
  return static_cast<std::uint16_t>((bits + roundingBias) >> 16);
}

std::uint16_t halfFromFloat(float value) {
  // Float arithmetic does the rounding: scaling |value| up by 2^112 and down by 2^-110 leaves it unchanged
  // but overflows to infinity past the half range; adding a power of two chosen from the exponent then
  // rounds the mantissa to the half's precision (nearest, ties to even, subnormals included) in the
  // FPU's default mode, and the half's bits are read off the sum.
  const float scaleToInf = floatFromBits(0x77800000u);   // 2^112
  const float scaleToZero = floatFromBits(0x08800000u);  // 2^-110
  float base = (std::fabs(value) * scaleToInf) * scaleToZero;
  const std::uint32_t w = bitsOf(value);
  const std::uint32_t shl1 = w + w;
  const std::uint32_t sign = w & 0x80000000u;
  std::uint32_t bias = shl1 & 0xFF000000u;
  if (bias < 0x71000000u) bias = 0x71000000u;
  base = floatFromBits((bias >> 1) + 0x07800000u) + base;
  const std::uint32_t bits = bitsOf(base);
  const std::uint32_t exponentBits = (bits >> 13) & 0x00007C00u;
  const std::uint32_t mantissaBits = bits & 0x00000FFFu;
  const std::uint32_t nonSign = exponentBits + mantissaBits;
  return static_cast<std::uint16_t>((sign >> 16) | (shl1 > 0xFF000000u ? 0x7E00u : nonSign));
}

float int8RowScale(const float* row, std::size_t n) {
  float minValue = 0, maxValue = 0;  // the observer widens the range to include 0
  for (std::size_t i = 0; i < n; ++i) {
    minValue = std::min(minValue, row[i]);
    maxValue = std::max(maxValue, row[i]);
  }
  const float bound = std::max(-minValue, maxValue);
  const float scale = bound / 127.5f;  // (quant_max - quant_min) / 2 for qint8
  const float epsilon = floatFromBits(0x34000000u);  // torch.finfo(torch.float32).eps, 2^-23
  return std::max(scale, epsilon);
}

std::int8_t quantizeInt8(float value, float scale) {
  const float inverse = 1.0f / scale;
  const float rounded = std::nearbyint(value * inverse);  // default mode: ties to even
  return static_cast<std::int8_t>(std::min(127.0f, std::max(-128.0f, rounded)));
}

void quantizeRows(const float* w, std::size_t rows, std::size_t cols, WeightFormat format, void* out, float* scales) {
  const std::size_t n = rows * cols;
  switch (format) {
    case WeightFormat::BFloat16: {
      auto* dst = static_cast<std::uint16_t*>(out);
      for (std::size_t i = 0; i < n; ++i) dst[i] = bfloat16FromFloat(w[i]);
      return;
    }
    case WeightFormat::Float16: {
      auto* dst = static_cast<std::uint16_t*>(out);
      for (std::size_t i = 0; i < n; ++i) dst[i] = halfFromFloat(w[i]);
      return;
    }
    case WeightFormat::Int8: {
      auto* dst = static_cast<std::int8_t*>(out);
      for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(w[i]))
          throw std::invalid_argument("qint8 weights must be finite, got " + std::to_string(w[i]) + " at row " +
                                      std::to_string(i / cols) + ", column " + std::to_string(i % cols));
      }
      for (std::size_t r = 0; r < rows; ++r) {
        const float* row = w + r * cols;
        scales[r] = int8RowScale(row, cols);
        for (std::size_t c = 0; c < cols; ++c) dst[r * cols + c] = quantizeInt8(row[c], scales[r]);
      }
      return;
    }
    case WeightFormat::Float32: break;
  }
  throw std::invalid_argument("quantizeRows: float32 is not a reduced format");
}

void decodePanel(WeightFormat format, const void* src, const float* scales, std::size_t depth, std::size_t cols,
                 float* dst) {
  const std::size_t n = depth * cols;
  switch (format) {
    case WeightFormat::BFloat16: {
      const auto* s = static_cast<const std::uint16_t*>(src);
      for (std::size_t i = 0; i < n; ++i) dst[i] = floatFromBFloat16(s[i]);
      return;
    }
    case WeightFormat::Float16: {
      const auto* s = static_cast<const std::uint16_t*>(src);
      for (std::size_t i = 0; i < n; ++i) dst[i] = floatFromHalf(s[i]);
      return;
    }
    case WeightFormat::Int8: {
      const auto* s = static_cast<const std::int8_t*>(src);
      for (std::size_t k = 0; k < depth; ++k)
        for (std::size_t c = 0; c < cols; ++c) dst[k * cols + c] = float(s[k * cols + c]) * scales[c];
      return;
    }
    case WeightFormat::Float32: {
      const auto* s = static_cast<const float*>(src);
      std::copy(s, s + n, dst);
      return;
    }
  }
}

namespace {

template <class T>
void groupPanel(const T* src, std::size_t depth, std::size_t cols, std::size_t group, T* dst) {
  const std::size_t padded = (depth + group - 1) / group * group;
  std::fill(dst, dst + padded * cols, T(0));
  for (std::size_t k = 0; k < depth; ++k)
    for (std::size_t c = 0; c < cols; ++c) dst[(k / group) * cols * group + c * group + k % group] = src[k * cols + c];
}

}  // namespace

void groupInt8Panel(const std::int8_t* src, std::size_t depth, std::size_t cols, std::size_t group, std::int8_t* dst,
                    std::int32_t* sums) {
  groupPanel(src, depth, cols, group, dst);
  std::fill(sums, sums + cols, 0);
  for (std::size_t k = 0; k < depth; ++k)
    for (std::size_t c = 0; c < cols; ++c) sums[c] += src[k * cols + c];
}

void groupBits16Panel(const std::uint16_t* src, std::size_t depth, std::size_t cols, std::size_t group,
                      std::uint16_t* dst) {
  groupPanel(src, depth, cols, group, dst);
}

}  // namespace kernels
}  // namespace torchrnn
