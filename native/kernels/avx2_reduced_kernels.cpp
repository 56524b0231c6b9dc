// The AVX2 family's recurrent steps on reduced-precision W_hh (simd_reduced_recurrent.h): bfloat16
// widened by a shift, int8 by sign-extension and conversion. float16 would need F16C, which the family's
// CPU check does not ask for: avx2_f16c_reduced_kernels.cpp has it. Compiled with the AVX2 flags, in the AVX2
// library only.
#include <cstdint>

#include "avx2_vector.h"
#include "simd_reduced_recurrent.h"

namespace torchrnn {
namespace kernels {
namespace {

// 8 stored weights from element `index` of the format's array at `base`, as float32.
struct Avx2Widen {
  template <WeightFormat Format>
  static __m256 load(const void* base, std::size_t index) {
    if constexpr (Format == WeightFormat::Int8) {
      const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(static_cast<const std::int8_t*>(base) + index));
      return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
    } else {
      static_assert(Format == WeightFormat::BFloat16, "float16 needs F16C");
      const __m128i bits = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const std::uint16_t*>(base) + index));
      return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16));
    }
  }
};

}  // namespace

const RecurrentStepFn<float>* avx2ReducedRecurrentSteps(WeightFormat format) {
  switch (format) {
    case WeightFormat::BFloat16: return ReducedSteps<Avx2Float, Avx2Widen, WeightFormat::BFloat16>::kSteps;
    case WeightFormat::Int8: return ReducedSteps<Avx2Float, Avx2Widen, WeightFormat::Int8>::kSteps;
    case WeightFormat::Float16:
    case WeightFormat::Float32: break;
  }
  return nullptr;
}

}  // namespace kernels
}  // namespace torchrnn
