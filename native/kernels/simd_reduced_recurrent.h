// Recurrent steps that read bfloat16, float16 or int8 W_hh panels in registers, on any float register
// type V and a family's `Widen` (which turns V::kLanes stored weights into a V::Reg): each weight vector
// is widened as it is loaded, then the float32 kernel's FMAs and fused epilogue (simd_recurrent.h's
// cellUpdate); int8 row scales are applied once to the finished sums. A step streams 2 or 1 bytes per
// weight instead of 4. Private to the unit that includes it (see avx512_vector.h for why).
#pragma once

#include <cstddef>

#include "kernels.h"
#include "simd_recurrent.h"

namespace torchrnn {
namespace kernels {
namespace {

template <class V>
struct ReducedGeometry {
  // Rows per tile, and the independent FMA chains a tile aims for to hide their latency, within the
  // registers left after the widened weights.
  static constexpr std::size_t kRows = V::kRegisters >= 32 ? 4 : 2;
  static constexpr std::size_t kChains = V::kRegisters / 4;
  template <CellKind Kind>
  static constexpr std::size_t panelsFor(std::size_t rows) {
    const std::size_t chains = rows * gatesPerUnit(Kind);
    return chains >= kChains ? 1 : (kChains + chains - 1) / chains > 4 ? 4 : (kChains + chains - 1) / chains;
  }
};

// Rows x Panels tile at panel-aligned unit0 over the whole state width, then the fused update of units
// below unitEnd.
template <class V, class Widen, WeightFormat Format, CellKind Kind, std::size_t Rows, std::size_t Panels>
void reducedTile(const RecurrentStepArgs<float>& s, std::size_t row0, std::size_t unit0, std::size_t unitEnd) {
  using Reg = typename V::Reg;
  constexpr std::size_t U = V::kLanes;
  constexpr std::size_t G = gatesPerUnit(Kind);
  constexpr std::size_t kCols = G * U;
  const std::size_t K = s.stateSize;
  const float* h = s.hPrev + row0 * s.ldhPrev;
  Reg acc[Rows][Panels][G];
  for (std::size_t r = 0; r < Rows; ++r)
    for (std::size_t p = 0; p < Panels; ++p)
      for (std::size_t g = 0; g < G; ++g) acc[r][p][g] = V::zero();
  for (std::size_t k = 0; k < K; ++k) {
    Reg w[Panels][G];
    for (std::size_t p = 0; p < Panels; ++p)
      for (std::size_t g = 0; g < G; ++g)
        w[p][g] = Widen::template load<Format>(s.whhReduced, (unit0 + p * U) * G * K + k * kCols + g * U);
    for (std::size_t r = 0; r < Rows; ++r) {
      const Reg hr = V::set1(h[r * s.ldhPrev + k]);
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
        const Reg scale = V::load(s.whhScales + unit * G + g * U);
        for (std::size_t r = 0; r < Rows; ++r) acc[r][p][g] = V::mul(acc[r][p][g], scale);
      }
    }
    const std::size_t lanes = unitEnd - unit < U ? unitEnd - unit : U;
    for (std::size_t r = 0; r < Rows; ++r) cellUpdate<V, Kind>(s, row0 + r, unit, lanes, acc[r][p]);
  }
}

template <class V, class Widen, WeightFormat Format, CellKind Kind, std::size_t Rows>
void reducedRowsAcrossUnits(const RecurrentStepArgs<float>& s, std::size_t row0, std::size_t unitBegin,
                            std::size_t unitEnd) {
  constexpr std::size_t U = V::kLanes;
  constexpr std::size_t P = ReducedGeometry<V>::template panelsFor<Kind>(Rows);
  std::size_t unit0 = unitBegin;
  for (; unit0 + (P - 1) * U < unitEnd; unit0 += P * U)
    reducedTile<V, Widen, Format, Kind, Rows, P>(s, row0, unit0, unitEnd);
  for (; unit0 < unitEnd; unit0 += U) reducedTile<V, Widen, Format, Kind, Rows, 1>(s, row0, unit0, unitEnd);
}

// Fewer rows than a full tile, the count made a template argument.
template <class V, class Widen, WeightFormat Format, CellKind Kind, std::size_t Rows>
void reducedFewRows(std::size_t rows, const RecurrentStepArgs<float>& s, std::size_t row0, std::size_t unitBegin,
                    std::size_t unitEnd) {
  if constexpr (Rows > 0) {
    if (rows == Rows) return reducedRowsAcrossUnits<V, Widen, Format, Kind, Rows>(s, row0, unitBegin, unitEnd);
    reducedFewRows<V, Widen, Format, Kind, Rows - 1>(rows, s, row0, unitBegin, unitEnd);
  }
}

template <class V, class Widen, WeightFormat Format, CellKind Kind>
void reducedRecurrentStep(const RecurrentStepArgs<float>& s, std::size_t unitBegin, std::size_t unitEnd) {
  constexpr std::size_t R = ReducedGeometry<V>::kRows;
  if (unitEnd > s.hiddenSize) unitEnd = s.hiddenSize;
  if (unitBegin >= unitEnd || s.rows == 0) return;
  // Chunks of four panels, each swept by every block of rows (a chunk of W_hh stays in cache while the
  // rows go past it), last to first when the step asks for it, so that alternate steps start on the chunk
  // the step before read last (the engine hands a reduced step all its units in one call).
  constexpr std::size_t kChunkUnits = 4 * V::kLanes;
  const std::size_t chunks = (unitEnd - unitBegin + kChunkUnits - 1) / kChunkUnits;
  for (std::size_t i = 0; i < chunks; ++i) {
    const std::size_t begin = unitBegin + (s.lastUnitsFirst ? chunks - 1 - i : i) * kChunkUnits;
    const std::size_t end = begin + kChunkUnits < unitEnd ? begin + kChunkUnits : unitEnd;
    std::size_t row = 0;
    for (; row + R <= s.rows; row += R) reducedRowsAcrossUnits<V, Widen, Format, Kind, R>(s, row, begin, end);
    if (row < s.rows) reducedFewRows<V, Widen, Format, Kind, R - 1>(s.rows - row, s, row, begin, end);
  }
}

// The steps for one format, indexed by CellKind.
template <class V, class Widen, WeightFormat Format>
struct ReducedSteps {
  static constexpr RecurrentStepFn<float> kSteps[kCellKindCount] = {
      &reducedRecurrentStep<V, Widen, Format, CellKind::RnnTanh>, &reducedRecurrentStep<V, Widen, Format, CellKind::RnnRelu>,
      &reducedRecurrentStep<V, Widen, Format, CellKind::Lstm>, &reducedRecurrentStep<V, Widen, Format, CellKind::Gru>};
};

}  // namespace
}  // namespace kernels
}  // namespace torchrnn
