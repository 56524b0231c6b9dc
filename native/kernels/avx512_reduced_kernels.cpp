// The AVX-512 family's recurrent steps and GEMM on reduced-precision panels (simd_reduced_recurrent.h,
// simd_reduced_gemm.h): bfloat16 widened by a shift, float16 by vcvtph2ps, int8 by sign-extension and
// conversion. Compiled with the AVX-512 flags, in the AVX-512 library only.
#include <cstdint>

#include "avx512_vector.h"
#include "simd_reduced_gemm.h"
#include "simd_reduced_recurrent.h"

namespace torchrnn {
namespace kernels {
namespace {

// 16 stored weights from element `index` of the format's array at `base`, as float32. The all-lanes masked
// forms say the same as the plain ones without GCC 12's false "uninitialized" warnings in its headers.
struct Avx512Widen {
  template <WeightFormat Format>
  static __m512 load(const void* base, std::size_t index) {
    constexpr __mmask16 all = 0xffff;
    if constexpr (Format == WeightFormat::Int8) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const std::int8_t*>(base) + index));
      return _mm512_maskz_cvtepi32_ps(all, _mm512_maskz_cvtepi8_epi32(all, bytes));
    } else {
      const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const std::uint16_t*>(base) + index));
      if constexpr (Format == WeightFormat::Float16) return _mm512_maskz_cvtph_ps(all, bits);
      return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(all, _mm512_maskz_cvtepu16_epi32(all, bits), 16));
    }
  }
};

}  // namespace

GemmFn<float> avx512ReducedGemm(WeightFormat format) {
  switch (format) {
    case WeightFormat::BFloat16: return &reducedGemm<Avx512Float, Avx512Widen, WeightFormat::BFloat16>;
    case WeightFormat::Float16: return &reducedGemm<Avx512Float, Avx512Widen, WeightFormat::Float16>;
    case WeightFormat::Int8: return &reducedGemm<Avx512Float, Avx512Widen, WeightFormat::Int8>;
    case WeightFormat::Float32: break;
  }
  return nullptr;
}

const RecurrentStepFn<float>* avx512ReducedRecurrentSteps(WeightFormat format) {
  switch (format) {
    case WeightFormat::BFloat16: return ReducedSteps<Avx512Float, Avx512Widen, WeightFormat::BFloat16>::kSteps;
    case WeightFormat::Float16: return ReducedSteps<Avx512Float, Avx512Widen, WeightFormat::Float16>::kSteps;
    case WeightFormat::Int8: return ReducedSteps<Avx512Float, Avx512Widen, WeightFormat::Int8>::kSteps;
    case WeightFormat::Float32: break;
  }
  return nullptr;
}

}  // namespace kernels
}  // namespace torchrnn
