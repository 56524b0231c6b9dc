// AVX-512 registers as the SIMD kernel templates see them (simd_*.h). Included only by the AVX-512 unit,
// which alone is compiled with AVX-512 flags; the anonymous namespace keeps every function, and every
// template instantiated on these types, private to that unit, so no AVX-512 code can be merged into
// baseline code by the linker.
#pragma once

#include <immintrin.h>

#include <cstddef>

namespace torchrnn {
namespace kernels {
namespace {

struct Avx512Float {
  using Scalar = float;
  using Reg = __m512;
  static constexpr std::size_t kLanes = 16;
  static constexpr std::size_t kRegisters = 32;
  static __mmask16 firstLanes(std::size_t n) { return static_cast<__mmask16>((1u << n) - 1u); }

  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg set1(Scalar x) { return _mm512_set1_ps(x); }
  static Reg load(const Scalar* p) { return _mm512_loadu_ps(p); }
  static Reg loadFirst(const Scalar* p, std::size_t n) { return _mm512_maskz_loadu_ps(firstLanes(n), p); }
  static void store(Scalar* p, Reg v) { _mm512_storeu_ps(p, v); }
  static void storeFirst(Scalar* p, Reg v, std::size_t n) { _mm512_mask_storeu_ps(p, firstLanes(n), v); }
  // A whole vector to memory around the caches (p aligned to the vector); streamFence orders such stores
  // before any later store, so that another thread told afterwards sees them.
  static void stream(Scalar* p, Reg v) { _mm512_stream_ps(p, v); }
  static void streamFence() { _mm_sfence(); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm512_sub_ps(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_ps(a, b); }
  static Reg div(Reg a, Reg b) { return _mm512_div_ps(a, b); }
  // min/max return the second operand when either is NaN; callers rely on that. The all-lanes masked
  // forms say the same as the plain ones without GCC 12's false "uninitialized" warnings in its headers.
  static Reg min(Reg a, Reg b) { return _mm512_maskz_min_ps(static_cast<__mmask16>(0xffff), a, b); }
  static Reg max(Reg a, Reg b) { return _mm512_maskz_max_ps(static_cast<__mmask16>(0xffff), a, b); }
  static Reg abs(Reg a) { return _mm512_abs_ps(a); }
  static Reg roundNearest(Reg a) { return _mm512_maskz_roundscale_ps(static_cast<__mmask16>(0xffff), a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static Reg scaleByPow2(Reg a, Reg n) { return _mm512_maskz_scalef_ps(static_cast<__mmask16>(0xffff), a, n); }  // a * 2^n, n integral
  static Reg copySign(Reg magnitude, Reg sign) {
    const Reg signBit = _mm512_set1_ps(-0.0f);
    return _mm512_or_ps(_mm512_andnot_ps(signBit, magnitude), _mm512_and_ps(signBit, sign));
  }
  static Reg whereLess(Reg a, Reg b, Reg ifLess, Reg otherwise) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), otherwise, ifLess);
  }
  static Reg whereNaN(Reg x, Reg otherwise) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), otherwise, x);
  }
};

struct Avx512Double {
  using Scalar = double;
  using Reg = __m512d;
  static constexpr std::size_t kLanes = 8;
  static constexpr std::size_t kRegisters = 32;
  static __mmask8 firstLanes(std::size_t n) { return static_cast<__mmask8>((1u << n) - 1u); }

  static Reg zero() { return _mm512_setzero_pd(); }
  static Reg set1(Scalar x) { return _mm512_set1_pd(x); }
  static Reg load(const Scalar* p) { return _mm512_loadu_pd(p); }
  static Reg loadFirst(const Scalar* p, std::size_t n) { return _mm512_maskz_loadu_pd(firstLanes(n), p); }
  static void store(Scalar* p, Reg v) { _mm512_storeu_pd(p, v); }
  static void storeFirst(Scalar* p, Reg v, std::size_t n) { _mm512_mask_storeu_pd(p, firstLanes(n), v); }
  static void stream(Scalar* p, Reg v) { _mm512_stream_pd(p, v); }  // as Avx512Float's
  static void streamFence() { _mm_sfence(); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_pd(a, b, c); }
  static Reg add(Reg a, Reg b) { return _mm512_add_pd(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm512_sub_pd(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_pd(a, b); }
  static Reg div(Reg a, Reg b) { return _mm512_div_pd(a, b); }
  static Reg min(Reg a, Reg b) { return _mm512_maskz_min_pd(static_cast<__mmask8>(0xff), a, b); }
  static Reg max(Reg a, Reg b) { return _mm512_maskz_max_pd(static_cast<__mmask8>(0xff), a, b); }
  static Reg abs(Reg a) { return _mm512_abs_pd(a); }
  static Reg roundNearest(Reg a) { return _mm512_maskz_roundscale_pd(static_cast<__mmask8>(0xff), a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static Reg scaleByPow2(Reg a, Reg n) { return _mm512_maskz_scalef_pd(static_cast<__mmask8>(0xff), a, n); }
  static Reg copySign(Reg magnitude, Reg sign) {
    const Reg signBit = _mm512_set1_pd(-0.0);
    return _mm512_or_pd(_mm512_andnot_pd(signBit, magnitude), _mm512_and_pd(signBit, sign));
  }
  static Reg whereLess(Reg a, Reg b, Reg ifLess, Reg otherwise) {
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(a, b, _CMP_LT_OQ), otherwise, ifLess);
  }
  static Reg whereNaN(Reg x, Reg otherwise) {
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q), otherwise, x);
  }
};

}  // namespace
}  // namespace kernels
}  // namespace torchrnn
