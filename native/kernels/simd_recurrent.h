// The recurrent step of the SIMD kernel families, on any register type V: gates = gx + hPrev·W_hhᵀ with
// the cell's update fused in registers. A tile is Rows batch rows x Panels gate-interleaved W_hh panels
// (each panel: one vector of hidden units per gate), accumulated over the whole state width, so the
// epilogue finds i,f,g,o (or r,z,n) of the same units side by side.
//
// Two shapes: small batches (fewer rows than a full tile) take one pass over W_hh per step with as many
// panels in flight as the registers allow — a GEMV, bound by streaming W_hh; larger batches keep a panel
// group (or a K chunk of it) hot in L1 while every block of rows goes past it. Private to the unit that includes it (see
// avx512_vector.h for why).
#pragma once

#include <cstddef>

#include "kernels.h"
#include "simd_activations.h"

namespace torchrnn {
namespace kernels {
namespace {

template <class V, CellKind Kind>
struct StepGeometry {
  static constexpr std::size_t kGates = gatesPerUnit(Kind);
  static constexpr std::size_t kAccumulators = V::kRegisters * 3 / 4;  // the rest hold weights and h
  static constexpr std::size_t kWidePanels = kGates == 1 ? 3 : 1;
  static constexpr std::size_t kWideRows = kAccumulators / (kGates * kWidePanels);
  // Panels in flight for a tile of `rows` rows: enough independent accumulators to hide FMA latency.
  static constexpr std::size_t panelsFor(std::size_t rows) {
    const std::size_t fit = kAccumulators / (rows * kGates);
    return fit < 1 ? 1 : fit > 4 ? 4 : fit;
  }
};

// From one row's h·W_hhᵀ sums for `lanes` units at `unit` to that row's new state, in registers.
template <class V, CellKind Kind>
void cellUpdate(const RecurrentStepArgs<typename V::Scalar>& s, std::size_t row, std::size_t unit,
                std::size_t lanes, const typename V::Reg* acc) {
  using S = typename V::Scalar;
  using Reg = typename V::Reg;
  const bool whole = lanes == V::kLanes;
  auto load = [&](const S* p) { return whole ? V::load(p) : V::loadFirst(p, lanes); };
  auto store = [&](S* p, Reg v) { whole ? V::store(p, v) : V::storeFirst(p, v, lanes); };
  const std::size_t H = s.hiddenSize;
  const S* gx = s.gx + row * s.ldgx + unit;
  Reg h;
  if constexpr (Kind == CellKind::RnnTanh) {
    h = tanhVector<V>(V::add(load(gx), acc[0]));
  } else if constexpr (Kind == CellKind::RnnRelu) {
    h = reluVector<V>(V::add(load(gx), acc[0]));
  } else if constexpr (Kind == CellKind::Lstm) {
    const Reg i = sigmoidVector<V>(V::add(load(gx), acc[0]));
    const Reg f = sigmoidVector<V>(V::add(load(gx + H), acc[1]));
    const Reg g = tanhVector<V>(V::add(load(gx + 2 * H), acc[2]));
    const Reg o = sigmoidVector<V>(V::add(load(gx + 3 * H), acc[3]));
    const Reg c = V::fma(f, load(s.cPrev + row * s.ldc + unit), V::mul(i, g));
    store(s.cNext + row * s.ldc + unit, c);
    h = V::mul(o, tanhVector<V>(c));
  } else {  // GRU: n = tanh(gx_n + r * (W_hn h + b_hn)); h' = (1 - z) * n + z * h
    const Reg r = sigmoidVector<V>(V::add(load(gx), acc[0]));
    const Reg z = sigmoidVector<V>(V::add(load(gx + H), acc[1]));
    const Reg n = tanhVector<V>(V::fma(r, V::add(acc[2], load(s.bhn + unit)), load(gx + 2 * H)));
    const Reg hPrev = load(s.hPrev + row * s.ldhPrev + unit);
    h = V::fma(V::sub(V::set1(S(1)), z), n, V::mul(z, hPrev));
  }
  store(s.hNext + row * s.ldhNext + unit, h);
  if (s.out) store(s.out + row * s.ldout + unit, h);
}

// Rows x Panels tile starting at row0 and at panel-aligned unit0; units at or past unitEnd are not written.
// Sums over k in [k0, k1): with `partial` (Panels * G * U values per row, row0's first) the sums carry on
// from it and, unless `finish`, go back into it without the update, so a chunked K sums in the same order.
template <class V, CellKind Kind, std::size_t Rows, std::size_t Panels>
void recurrentTile(const RecurrentStepArgs<typename V::Scalar>& s, std::size_t row0, std::size_t unit0,
                   std::size_t unitEnd, std::size_t k0, std::size_t k1, typename V::Scalar* partial, bool finish) {
  using S = typename V::Scalar;
  using Reg = typename V::Reg;
  constexpr std::size_t G = gatesPerUnit(Kind);
  constexpr std::size_t U = V::kLanes;
  constexpr std::size_t kCols = G * U;
  constexpr std::size_t kRowSums = Panels * kCols;
  const std::size_t K = s.stateSize;
  const S* panel[Panels];
  for (std::size_t p = 0; p < Panels; ++p) panel[p] = s.whhPacked + (unit0 + p * U) * G * K;
  const S* h = s.hPrev + row0 * s.ldhPrev;
  Reg acc[Rows][Panels][G];
  for (std::size_t r = 0; r < Rows; ++r)
    for (std::size_t p = 0; p < Panels; ++p)
      for (std::size_t g = 0; g < G; ++g)
        acc[r][p][g] = partial && k0 > 0 ? V::load(partial + r * kRowSums + p * kCols + g * U) : V::zero();
  for (std::size_t k = k0; k < k1; ++k) {
    Reg w[Panels][G];
    for (std::size_t p = 0; p < Panels; ++p)
      for (std::size_t g = 0; g < G; ++g) w[p][g] = V::load(panel[p] + k * kCols + g * U);
    for (std::size_t r = 0; r < Rows; ++r) {
      const Reg hr = V::set1(h[r * s.ldhPrev + k]);
      for (std::size_t p = 0; p < Panels; ++p)
        for (std::size_t g = 0; g < G; ++g) acc[r][p][g] = V::fma(hr, w[p][g], acc[r][p][g]);
    }
  }
  if (!finish) {
    for (std::size_t r = 0; r < Rows; ++r)
      for (std::size_t p = 0; p < Panels; ++p)
        for (std::size_t g = 0; g < G; ++g) V::store(partial + r * kRowSums + p * kCols + g * U, acc[r][p][g]);
    return;
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    for (std::size_t p = 0; p < Panels; ++p) {
      const std::size_t unit = unit0 + p * U;
      if (unit >= unitEnd) break;
      const std::size_t lanes = unitEnd - unit < U ? unitEnd - unit : U;
      cellUpdate<V, Kind>(s, row0 + r, unit, lanes, acc[r][p]);
    }
  }
}

template <class V, CellKind Kind, std::size_t Rows, std::size_t Panels>
void recurrentTile(const RecurrentStepArgs<typename V::Scalar>& s, std::size_t row0, std::size_t unit0,
                   std::size_t unitEnd) {
  recurrentTile<V, Kind, Rows, Panels>(s, row0, unit0, unitEnd, 0, s.stateSize, nullptr, true);
}

// Tiles of Rows rows across units [unitBegin, unitEnd): Panels at a time, then one at a time.
template <class V, CellKind Kind, std::size_t Rows, std::size_t Panels>
void tilesAcrossUnits(const RecurrentStepArgs<typename V::Scalar>& s, std::size_t row0, std::size_t unitBegin,
                      std::size_t unitEnd) {
  constexpr std::size_t U = V::kLanes;
  std::size_t unit0 = unitBegin;
  for (; unit0 + (Panels - 1) * U < unitEnd; unit0 += Panels * U)  // every panel of the group has units
    recurrentTile<V, Kind, Rows, Panels>(s, row0, unit0, unitEnd);
  for (; unit0 < unitEnd; unit0 += U) recurrentTile<V, Kind, Rows, 1>(s, row0, unit0, unitEnd);
}

// A row count below the wide tile's, made a template argument, with the panel count that suits it.
template <class V, CellKind Kind, std::size_t Rows>
void fewRowsAcrossUnits(std::size_t rows, const RecurrentStepArgs<typename V::Scalar>& s, std::size_t row0,
                        std::size_t unitBegin, std::size_t unitEnd) {
  if constexpr (Rows > 0) {
    if (rows == Rows)
      return tilesAcrossUnits<V, Kind, Rows, StepGeometry<V, Kind>::panelsFor(Rows)>(s, row0, unitBegin, unitEnd);
    fewRowsAcrossUnits<V, Kind, Rows - 1>(rows, s, row0, unitBegin, unitEnd);
  }
}

// `rows` (< the wide tile's) rows at one panel group over k in [k0, k1), the row count made a template
// argument.
template <class V, CellKind Kind, std::size_t Rows, std::size_t Panels>
void fewRowsAtPanels(std::size_t rows, const RecurrentStepArgs<typename V::Scalar>& s, std::size_t row0,
                     std::size_t unit0, std::size_t unitEnd, std::size_t k0, std::size_t k1,
                     typename V::Scalar* partial, bool finish) {
  if constexpr (Rows > 0) {
    if (rows == Rows) return recurrentTile<V, Kind, Rows, Panels>(s, row0, unit0, unitEnd, k0, k1, partial, finish);
    fewRowsAtPanels<V, Kind, Rows - 1, Panels>(rows, s, row0, unit0, unitEnd, k0, k1, partial, finish);
  }
}

// Every row block at one panel group, so the group is read from memory once per step and then from cache.
// When the group is larger than L1, K goes in chunks that stay in L1 while every row block of a band of
// rows passes, the band's running sums parked in a small buffer between chunks.
template <class V, CellKind Kind, std::size_t Panels>
void rowBlocksAtPanels(const RecurrentStepArgs<typename V::Scalar>& s, std::size_t unit0, std::size_t unitEnd) {
  using S = typename V::Scalar;
  constexpr std::size_t R = StepGeometry<V, Kind>::kWideRows;
  constexpr std::size_t kRowSums = Panels * gatesPerUnit(Kind) * V::kLanes;
  constexpr std::size_t kBandRows = R * 8;
  constexpr std::size_t kChunkBytes = 24 * 1024;  // half of a 48 KB L1: the rest holds h and the sums
  constexpr std::size_t kChunk = kChunkBytes / (kRowSums * sizeof(S)) < 8 ? 8 : kChunkBytes / (kRowSums * sizeof(S));
  const std::size_t K = s.stateSize;
  if (K <= kChunk || s.rows <= R) {
    std::size_t row = 0;
    for (; row + R <= s.rows; row += R) recurrentTile<V, Kind, R, Panels>(s, row, unit0, unitEnd);
    if (row < s.rows) fewRowsAtPanels<V, Kind, R - 1, Panels>(s.rows - row, s, row, unit0, unitEnd, 0, K, nullptr, true);
    return;
  }
  alignas(64) S partial[kBandRows * kRowSums];
  for (std::size_t band = 0; band < s.rows; band += kBandRows) {
    const std::size_t bandEnd = s.rows - band < kBandRows ? s.rows : band + kBandRows;
    for (std::size_t k0 = 0; k0 < K; k0 += kChunk) {
      const std::size_t k1 = K - k0 < kChunk ? K : k0 + kChunk;
      const bool finish = k1 == K;
      std::size_t row = band;
      for (; row + R <= bandEnd; row += R)
        recurrentTile<V, Kind, R, Panels>(s, row, unit0, unitEnd, k0, k1, partial + (row - band) * kRowSums, finish);
      if (row < bandEnd)
        fewRowsAtPanels<V, Kind, R - 1, Panels>(bandEnd - row, s, row, unit0, unitEnd, k0, k1,
                                                partial + (row - band) * kRowSums, finish);
    }
  }
}

template <class V, CellKind Kind>
void simdRecurrentStep(const RecurrentStepArgs<typename V::Scalar>& s, std::size_t unitBegin, std::size_t unitEnd) {
  using Geo = StepGeometry<V, Kind>;
  constexpr std::size_t U = V::kLanes;
  if (unitEnd > s.hiddenSize) unitEnd = s.hiddenSize;
  if (unitBegin >= unitEnd || s.rows == 0) return;
  if (s.rows < Geo::kWideRows) return fewRowsAcrossUnits<V, Kind, Geo::kWideRows - 1>(s.rows, s, 0, unitBegin, unitEnd);
  constexpr std::size_t P = Geo::kWidePanels;
  std::size_t unit0 = unitBegin;
  for (; unit0 + (P - 1) * U < unitEnd; unit0 += P * U)
    rowBlocksAtPanels<V, Kind, P>(s, unit0, unitEnd);
  for (; unit0 < unitEnd; unit0 += U) rowBlocksAtPanels<V, Kind, 1>(s, unit0, unitEnd);
}

}  // namespace
}  // namespace kernels
}  // namespace torchrnn
