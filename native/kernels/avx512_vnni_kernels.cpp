// qint8 on AVX-512 VNNI: int8 weights in the dot-product layout (groupInt8Panel: 4 consecutive k of a
// column in one 32-bit lane) against activations quantized per call, as PyTorch's dynamic quantized LSTM
// and Linear do through fbgemm: each row of A (or of h_{t-1}) becomes uint8 with its own affine scale and
// zero point from its min and max, vpdpbusd sums 4 byte products into each int32 lane, and the epilogue
// takes off zeroPoint x (the column's weight sum) and multiplies by row scale x column scale. A step reads
// 1 byte per weight and does 64 multiply-adds per instruction. Compiled with -mavx512vnni, in its own
// library: call only when the CPU has VNNI.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "avx512_dot_kernels.h"

namespace torchrnn {
namespace kernels {
namespace {

float lanesMin(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  return *std::min_element(lanes, lanes + 16);
}

float lanesMax(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  return *std::max_element(lanes, lanes + 16);
}

bool anyNaN(__m512 v) { return _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) != 0; }

struct Int8Dot {
  using Elem = std::uint8_t;
  using Acc = __m512i;
  // One quantized row: value ≈ (q - zeroPoint) * scale.
  struct Row {
    float scale;
    std::int32_t zeroPoint;
  };
  static constexpr std::size_t kGroup = 4;
  static constexpr bool kExactSums = true;
  static constexpr std::size_t kLanes = 16;

  // n floats to uint8 over the row's range widened to include 0 (so that 0 is exact, as PyTorch's
  // choose_qparams): scale = (max - min) / 255, zeroPoint = round(-min / scale), q = clamp(round(x / scale) +
  // zeroPoint, 0, 255), rounding half to even and dividing as a multiply by the float reciprocal. Bytes from
  // n up to the padded depth are 0 (their weights are 0). A row holding NaN or an infinity gets a NaN scale,
  // so that everything computed from it is NaN, as in float32.
  static Row convertRow(const float* x, std::size_t n, std::uint8_t* q) {
    __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps(), finite = _mm512_setzero_ps();
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      const __m512 v = _mm512_loadu_ps(x + i);
      lo = _mm512_maskz_min_ps(kAllLanes, lo, v);
      hi = _mm512_maskz_max_ps(kAllLanes, hi, v);
      finite = _mm512_add_ps(finite, _mm512_sub_ps(v, v));  // NaN from here on for NaN or an infinity
    }
    if (i < n) {
      const __m512 v = _mm512_maskz_loadu_ps(Avx512Float::firstLanes(n - i), x + i);  // 0 past the end
      lo = _mm512_maskz_min_ps(kAllLanes, lo, v);
      hi = _mm512_maskz_max_ps(kAllLanes, hi, v);
      finite = _mm512_add_ps(finite, _mm512_sub_ps(v, v));
    }
    const float minValue = lanesMin(lo), maxValue = lanesMax(hi);
    Row r;
    r.scale = (maxValue - minValue) / 255.0f;
    if (anyNaN(finite)) r.scale = std::numeric_limits<float>::quiet_NaN();
    // All zeros (or a range too small for a finite reciprocal): any scale quantizes exactly; PyTorch's.
    else if (r.scale == 0.0f || std::isinf(1.0f / r.scale)) r.scale = 0.1f;
    const float inverse = 1.0f / r.scale;
    r.zeroPoint = std::isnan(r.scale) ? 0 : std::int32_t(std::min(255.0f, std::max(0.0f, std::nearbyint(-minValue * inverse))));
    const __m512 inv = _mm512_set1_ps(std::isnan(r.scale) ? 0.0f : inverse);
    const __m512i zp = _mm512_set1_epi32(r.zeroPoint), top = _mm512_set1_epi32(255), bottom = _mm512_setzero_si512();
    auto quantize = [&](__m512 v) {
      const __m512i k = _mm512_add_epi32(_mm512_maskz_cvtps_epi32(kAllLanes, _mm512_mul_ps(v, inv)), zp);  // MXCSR: nearest even
      return _mm512_maskz_cvtusepi32_epi8(kAllLanes, _mm512_maskz_min_epi32(kAllLanes, _mm512_maskz_max_epi32(kAllLanes, k, bottom), top));
    };
    for (i = 0; i + kLanes <= n; i += kLanes) _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), quantize(_mm512_loadu_ps(x + i)));
    if (i < n) {
      const __mmask16 m = Avx512Float::firstLanes(n - i);
      _mm_mask_storeu_epi8(q + i, m, quantize(_mm512_maskz_loadu_ps(m, x + i)));
    }
    for (std::size_t p = n; p < (n + 3) / 4 * 4; ++p) q[p] = 0;
    return r;
  }

  static Acc zero() { return _mm512_setzero_si512(); }
  static Acc add(Acc x, Acc y) { return _mm512_add_epi32(x, y); }

  // acc + the 4-byte dot products of a (unsigned) and w (signed) per lane. Spelled as the instruction for
  // GCC, whose register allocation around the intrinsic stores every accumulator to the stack each iteration.
  static Acc dot(Acc acc, __m512i a, __m512i w) {
#if defined(__GNUC__) && !defined(__clang__)
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(w));
    return acc;
#else
    return _mm512_dpbusd_epi32(acc, a, w);
#endif
  }

  // (acc - zeroPoint * columnSum) * (rowScale * columnScale): the float value of 16 dot products.
  static __m512 finish(Acc acc, const Row& row, const std::int32_t* sums, const float* scales) {
    const __m512i correction = _mm512_maskz_mullo_epi32(kAllLanes, _mm512_set1_epi32(row.zeroPoint), _mm512_loadu_si512(sums));
    const __m512 value = _mm512_maskz_cvtepi32_ps(kAllLanes, _mm512_sub_epi32(acc, correction));
    return _mm512_mul_ps(value, _mm512_mul_ps(_mm512_set1_ps(row.scale), _mm512_loadu_ps(scales)));
  }
};

}  // namespace

GemmFn<float> avx512VnniInt8Gemm() { return &DotKernels<Int8Dot>::gemm; }

const RecurrentStepFn<float>* avx512VnniInt8RecurrentSteps() { return DotKernels<Int8Dot>::kSteps; }

}  // namespace kernels
}  // namespace torchrnn
