// AVX-512 recurrent steps that read bfloat16, float16 or int8 W_hh panels in registers: each weight
// vector is widened to float32 as it is loaded (bfloat16: a shift; float16: vcvtph2ps; int8: sign-extend
// and convert, the row scale applied once to the finished sums), then the same FMAs and the same fused
// epilogue (simd_recurrent.h's cellUpdate) as the float32 kernel. A step thus streams 2 or 1 bytes per
// weight instead of 4. Compiled with the AVX-512 flags, in the AVX-512 library only.
#include <cstdint>

#include "avx512_vector.h"
#include "kernels.h"
#include "simd_recurrent.h"

namespace torchrnn {
namespace kernels {
namespace {

using V = Avx512Float;
constexpr std::size_t U = V::kLanes;

// The 16 weights from element `index` of the format's array at `base`, as float32. The all-lanes masked
// forms say the same as the plain ones without GCC 12's false "uninitialized" warnings in its headers.
template <WeightFormat Format>
__m512 loadWeights(const void* base, std::size_t index) {
  constexpr __mmask16 all = 0xffff;
  if constexpr (Format == WeightFormat::BFloat16) {
    const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const std::uint16_t*>(base) + index));
    return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(all, _mm512_maskz_cvtepu16_epi32(all, bits), 16));
  } else if constexpr (Format == WeightFormat::Float16) {
    const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const std::uint16_t*>(base) + index));
    return _mm512_maskz_cvtph_ps(all, bits);
  } else {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const std::int8_t*>(base) + index));
    return _mm512_maskz_cvtepi32_ps(all, _mm512_maskz_cvtepi8_epi32(all, bytes));
  }
}

// Rows x Panels tile at panel-aligned unit0 over the whole state width, then the fused update of units
// below unitEnd. Panels * gates * Rows accumulators: enough independent FMA chains to hide their latency.
template <WeightFormat Format, CellKind Kind, std::size_t Rows, std::size_t Panels>
void reducedTile(const RecurrentStepArgs<float>& s, std::size_t row0, std::size_t unit0, std::size_t unitEnd) {
  constexpr std::size_t G = gatesPerUnit(Kind);
  constexpr std::size_t kCols = G * U;
  const std::size_t K = s.stateSize;
  const float* h = s.hPrev + row0 * s.ldhPrev;
  __m512 acc[Rows][Panels][G];
  for (std::size_t r = 0; r < Rows; ++r)
    for (std::size_t p = 0; p < Panels; ++p)
      for (std::size_t g = 0; g < G; ++g) acc[r][p][g] = V::zero();
  for (std::size_t k = 0; k < K; ++k) {
    __m512 w[Panels][G];
    for (std::size_t p = 0; p < Panels; ++p)
      for (std::size_t g = 0; g < G; ++g)
        w[p][g] = loadWeights<Format>(s.whhReduced, (unit0 + p * U) * G * K + k * kCols + g * U);
    for (std::size_t r = 0; r < Rows; ++r) {
      const __m512 hr = V::set1(h[r * s.ldhPrev + k]);
      for (std::size_t p = 0; p < Panels; ++p)
        for (std::size_t g = 0; g < G; ++g) acc[r][p][g] = V::fma(hr, w[p][g], acc[r][p][g]);
    }
  }
  for (std::size_t p = 0; p < Panels; ++p) {
    const std::size_t unit = unit0 + p * U;
    if (unit >= unitEnd) break;
    if constexpr (Format == WeightFormat::Int8) {
      // Scales follow the panels' columns: [panel][gate][lane].
      for (std::size_t g = 0; g < G; ++g) {
        const __m512 scale = V::load(s.whhScales + unit * G + g * U);
        for (std::size_t r = 0; r < Rows; ++r) acc[r][p][g] = V::mul(acc[r][p][g], scale);
      }
    }
    const std::size_t lanes = unitEnd - unit < U ? unitEnd - unit : U;
    for (std::size_t r = 0; r < Rows; ++r) cellUpdate<V, Kind>(s, row0 + r, unit, lanes, acc[r][p]);
  }
}

// Panels per tile for `rows` rows: at least eight accumulators, at most four panels.
template <CellKind Kind>
constexpr std::size_t panelsFor(std::size_t rows) {
  const std::size_t chains = rows * gatesPerUnit(Kind);
  return chains >= 8 ? 1 : (8 + chains - 1) / chains > 4 ? 4 : (8 + chains - 1) / chains;
}

template <WeightFormat Format, CellKind Kind, std::size_t Rows>
void rowsAcrossUnits(const RecurrentStepArgs<float>& s, std::size_t row0, std::size_t unitBegin, std::size_t unitEnd) {
  constexpr std::size_t P = panelsFor<Kind>(Rows);
  std::size_t unit0 = unitBegin;
  for (; unit0 + (P - 1) * U < unitEnd; unit0 += P * U) reducedTile<Format, Kind, Rows, P>(s, row0, unit0, unitEnd);
  for (; unit0 < unitEnd; unit0 += U) reducedTile<Format, Kind, Rows, 1>(s, row0, unit0, unitEnd);
}

template <WeightFormat Format, CellKind Kind>
void reducedStep(const RecurrentStepArgs<float>& s, std::size_t unitBegin, std::size_t unitEnd) {
  constexpr std::size_t kRows = 4;
  if (unitEnd > s.hiddenSize) unitEnd = s.hiddenSize;
  if (unitBegin >= unitEnd || s.rows == 0) return;
  std::size_t row = 0;
  for (; row + kRows <= s.rows; row += kRows) rowsAcrossUnits<Format, Kind, kRows>(s, row, unitBegin, unitEnd);
  switch (s.rows - row) {
    case 3: return rowsAcrossUnits<Format, Kind, 3>(s, row, unitBegin, unitEnd);
    case 2: return rowsAcrossUnits<Format, Kind, 2>(s, row, unitBegin, unitEnd);
    case 1: return rowsAcrossUnits<Format, Kind, 1>(s, row, unitBegin, unitEnd);
    default: return;
  }
}

template <WeightFormat Format>
struct ReducedSteps {
  static constexpr RecurrentStepFn<float> kSteps[kCellKindCount] = {
      &reducedStep<Format, CellKind::RnnTanh>, &reducedStep<Format, CellKind::RnnRelu>,
      &reducedStep<Format, CellKind::Lstm>, &reducedStep<Format, CellKind::Gru>};
};

}  // namespace

const RecurrentStepFn<float>* avx512ReducedRecurrentSteps(WeightFormat format) {
  switch (format) {
    case WeightFormat::BFloat16: return ReducedSteps<WeightFormat::BFloat16>::kSteps;
    case WeightFormat::Float16: return ReducedSteps<WeightFormat::Float16>::kSteps;
    case WeightFormat::Int8: return ReducedSteps<WeightFormat::Int8>::kSteps;
    case WeightFormat::Float32: break;
  }
  return nullptr;
}

}  // namespace kernels
}  // namespace torchrnn
