// The AVX2 family's recurrent steps on float16 W_hh (simd_reduced_recurrent.h), widened by vcvtph2ps.
// F16C is not part of the AVX2 family's CPU check, so this unit is a library of its own, compiled with
// -mf16c and called only when cpu_features.cpp has seen F16C.
#include <cstdint>

#include "avx2_vector.h"
#include "simd_reduced_recurrent.h"

namespace torchrnn {
namespace kernels {
namespace {

// 8 stored float16 weights from element `index` of the array at `base`, as float32.
struct Avx2F16cWiden {
  template <WeightFormat Format>
  static __m256 load(const void* base, std::size_t index) {
    static_assert(Format == WeightFormat::Float16, "this unit widens float16 only");
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const std::uint16_t*>(base) + index)));
  }
};

}  // namespace

const RecurrentStepFn<float>* avx2F16cReducedRecurrentSteps(WeightFormat format) {
  if (format == WeightFormat::Float16) return ReducedSteps<Avx2Float, Avx2F16cWiden, WeightFormat::Float16>::kSteps;
  return nullptr;
}

}  // namespace kernels
}  // namespace torchrnn
