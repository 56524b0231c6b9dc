// AVX2 + FMA registers as the SIMD kernel templates see them (simd_*.h). Included only by the AVX2 unit,
// which alone is compiled with AVX2 flags; the anonymous namespace keeps every function, and every
// template instantiated on these types, private to that unit.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace torchrnn {
namespace kernels {
namespace {

// Lane masks for partial loads and stores: entry n has its first n lanes set.
alignas(32) const std::int32_t kFirstLanes32[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
alignas(32) const std::int64_t kFirstLanes64[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

struct Avx2Float {
  using Scalar = float;
  using Reg = __m256;
  static constexpr std::size_t kLanes = 8;
  static constexpr std::size_t kRegisters = 16;
  static __m256i firstLanes(std::size_t n) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kFirstLanes32 + 8 - n));
  }

  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg set1(Scalar x) { return _mm256_set1_ps(x); }
  static Reg load(const Scalar* p) { return _mm256_loadu_ps(p); }
  static Reg loadFirst(const Scalar* p, std::size_t n) { return _mm256_maskload_ps(p, firstLanes(n)); }
  static void store(Scalar* p, Reg v) { _mm256_storeu_ps(p, v); }
  static void storeFirst(Scalar* p, Reg v, std::size_t n) { _mm256_maskstore_ps(p, firstLanes(n), v); }
  // A whole vector to memory around the caches (p aligned to the vector); streamFence orders such stores
  // before any later store, so that another thread told afterwards sees them.
  static void stream(Scalar* p, Reg v) { _mm256_stream_ps(p, v); }
  static void streamFence() { _mm_sfence(); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm256_sub_ps(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_ps(a, b); }
  static Reg div(Reg a, Reg b) { return _mm256_div_ps(a, b); }
  static Reg min(Reg a, Reg b) { return _mm256_min_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm256_max_ps(a, b); }
  static Reg abs(Reg a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static Reg roundNearest(Reg a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static Reg scaleByPow2(Reg a, Reg n) {  // n integral and within the normal exponent range
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(a, _mm256_castsi256_ps(bits));
  }
  static Reg copySign(Reg magnitude, Reg sign) {
    const Reg signBit = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(signBit, magnitude), _mm256_and_ps(signBit, sign));
  }
  static Reg whereLess(Reg a, Reg b, Reg ifLess, Reg otherwise) {
    return _mm256_blendv_ps(otherwise, ifLess, _mm256_cmp_ps(a, b, _CMP_LT_OQ));
  }
  static Reg whereNaN(Reg x, Reg otherwise) { return _mm256_blendv_ps(otherwise, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q)); }
};

struct Avx2Double {
  using Scalar = double;
  using Reg = __m256d;
  static constexpr std::size_t kLanes = 4;
  static constexpr std::size_t kRegisters = 16;
  static __m256i firstLanes(std::size_t n) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kFirstLanes64 + 4 - n));
  }

  static Reg zero() { return _mm256_setzero_pd(); }
  static Reg set1(Scalar x) { return _mm256_set1_pd(x); }
  static Reg load(const Scalar* p) { return _mm256_loadu_pd(p); }
  static Reg loadFirst(const Scalar* p, std::size_t n) { return _mm256_maskload_pd(p, firstLanes(n)); }
  static void store(Scalar* p, Reg v) { _mm256_storeu_pd(p, v); }
  static void storeFirst(Scalar* p, Reg v, std::size_t n) { _mm256_maskstore_pd(p, firstLanes(n), v); }
  static void stream(Scalar* p, Reg v) { _mm256_stream_pd(p, v); }  // as Avx2Float's
  static void streamFence() { _mm_sfence(); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_pd(a, b, c); }
  static Reg add(Reg a, Reg b) { return _mm256_add_pd(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm256_sub_pd(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_pd(a, b); }
  static Reg div(Reg a, Reg b) { return _mm256_div_pd(a, b); }
  static Reg min(Reg a, Reg b) { return _mm256_min_pd(a, b); }
  static Reg max(Reg a, Reg b) { return _mm256_max_pd(a, b); }
  static Reg abs(Reg a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
  static Reg roundNearest(Reg a) { return _mm256_round_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static Reg scaleByPow2(Reg a, Reg n) {
    const __m256i exponent = _mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(n));
    const __m256i bits = _mm256_slli_epi64(_mm256_add_epi64(exponent, _mm256_set1_epi64x(1023)), 52);
    return _mm256_mul_pd(a, _mm256_castsi256_pd(bits));
  }
  static Reg copySign(Reg magnitude, Reg sign) {
    const Reg signBit = _mm256_set1_pd(-0.0);
    return _mm256_or_pd(_mm256_andnot_pd(signBit, magnitude), _mm256_and_pd(signBit, sign));
  }
  static Reg whereLess(Reg a, Reg b, Reg ifLess, Reg otherwise) {
    return _mm256_blendv_pd(otherwise, ifLess, _mm256_cmp_pd(a, b, _CMP_LT_OQ));
  }
  static Reg whereNaN(Reg x, Reg otherwise) { return _mm256_blendv_pd(otherwise, x, _mm256_cmp_pd(x, x, _CMP_UNORD_Q)); }
};

}  // namespace
}  // namespace kernels
}  // namespace torchrnn
