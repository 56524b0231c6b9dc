// The recurrent step of the SIMD kernel families, on any register type V: gates = gx + hPrev·W_hhᵀ with
// the cell's update fused in registers. A tile is Rows batch rows x Panels gate-interleaved W_hh panels
// (each panel: one vector of hidden units per gate), accumulated over the whole state width, so the
// epilogue finds i,f,g,o (or r,z,n) of the same units side by side.
//
// Two shapes: small batches (fewer rows than a full tile) take one pass over W_hh per step with as many
// panels in flight as the registers allow — a GEMV, bound by streaming W_hh; larger batches keep a panel
// group in cache (L2, or L1 when it fits) while every block of rows goes past it. Private to the unit that includes it (see
// avx512_vector.h for why).
#pragma once

#include <cstddef>

#include "kernels.h"
#include "prefetch.h"
#include "simd_activations.h"
#include "simd_lockstep.h"

namespace torchrnn {
namespace kernels {
namespace {

template <class V, CellKind Kind>
struct StepGeometry {
  static constexpr std::size_t kGates = gatesPerUnit(Kind);
  static constexpr std::size_t kAccumulators = V::kRegisters * 3 / 4;  // the rest hold weights and h
  // A single-gate cell with 32 registers takes four panels by six rows: ten loads (4 of W_hh, 6
  // broadcasts of h) per 24 FMAs, and a thread's share of a hidden size that is a multiple of 4 panels
  // ends in no single-panel tile (8 accumulators, about half the rate): RNN(256) at batch 16, half the
  // units, 8-12% faster than three panels by eight rows. With 16 registers four panels would spill.
  static constexpr std::size_t kWidePanels = kGates == 1 ? (V::kRegisters >= 32 ? 4 : 3) : 1;
  static constexpr std::size_t kWideRows = kAccumulators / (kGates * kWidePanels);
  // Panels in flight for a tile of `rows` rows: enough independent accumulators to hide FMA latency.
  static constexpr std::size_t panelsFor(std::size_t rows) {
    const std::size_t fit = kAccumulators / (rows * kGates);
    return fit < 1 ? 1 : fit > 4 ? 4 : fit;
  }
  // A single LSTM row is bound by reading W_hh and its update (five activations) is heavy enough to be
  // worth running inside the next tile's loop; lighter updates, more rows or 16 registers gain nothing.
  static constexpr bool kStreamingRow = kGates == 4 && V::kRegisters >= 32;
  // Panels in flight then: eight accumulators cover the FMA latency, and small groups leave less of the
  // last group's update outside any loop.
  static constexpr std::size_t kStreamingPanels = 8 / kGates < 1 ? 1 : 8 / kGates;
  // Rows up to which a step of a single panel streams too (updateRowsTogether): their updates side by
  // side still fit the registers.
  static constexpr std::size_t kTinyRows = 4;
};

// From one row's h·W_hhᵀ sums for `lanes` units at `unit` to that row's new state, in registers.
// What it costs a wide step (AVX-512 on Zen 5, profile samples of the step against the input GEMM's in
// the same run): with the activations left out altogether a GRU step at batch 8 is 7% faster, with gx's
// loads left out 3%, an RNN step at batch 16 1%; so cheaper activations cannot gain much there. Measured
// within 2% of this form: reciprocal estimates with a Newton step for the divides, Estrin's form for
// exp's polynomial, this update forced inline into the tiles, its activations forced out of line, gx
// prefetched at the tile's start; slower: two or four rows' updates interleaved stage by stage (register
// spills). Also measured within noise on the step alone (thread CPU time): a whole tile's updates stage
// by stage, each activation over all its rows from memory (GRU(256) batch 8, RNN(256) batch 16); slower:
// each update inside the next tile's K loop as the batch-1 path does (GRU batch 8 0.9x: the call spills
// the tile's 24 accumulators). A GRU tile of 8 rows at K = 256 spends ~10-15% of its time here, its K loop
// runs at ~90% of FMA peak (95% at K = 2048).
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

// Makes the compiler hold x in a register from here on. Without it GCC 12 folds a tile's W_hh loads into
// the FMAs when the tile has 2 or 3 rows, reading each W_hh vector once per row: per K step an LSTM
// tile of 3 rows by 2 panels then issues 27 loads for 24 FMAs and runs at two thirds of the rate (GRU(256)
// at batch 3 1.8x slower, LSTM(256) 1.5x, RNN(512) 1.7x; at batch 2 1.1-1.2x). Larger tiles already
// load each vector once.
template <class R>
inline void keepInRegister(R& x) {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+v"(x));
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
  __asm__("" : "+w"(x));
#else
  (void)x;
#endif
}

// Where each of a tile's Panels W_hh panels starts, the first at panel-aligned unit0.
template <class V, CellKind Kind, std::size_t Panels>
void panelStarts(const RecurrentStepArgs<typename V::Scalar>& s, std::size_t unit0,
                 const typename V::Scalar* (&panel)[Panels]) {
  constexpr std::size_t G = gatesPerUnit(Kind);
  for (std::size_t p = 0; p < Panels; ++p) panel[p] = s.whhPacked + (unit0 + p * V::kLanes) * G * s.stateSize;
}

// The update of one row's units at `unit` (fewer than a vector past unitEnd) from sums parked as
// [gate][lane] at `sums`.
template <class V, CellKind Kind>
void updateFromSums(const RecurrentStepArgs<typename V::Scalar>& s, std::size_t row, std::size_t unit,
                    std::size_t unitEnd, const typename V::Scalar* sums) {
  constexpr std::size_t U = V::kLanes;
  typename V::Reg a[gatesPerUnit(Kind)];
  for (std::size_t g = 0; g < gatesPerUnit(Kind); ++g) a[g] = V::load(sums + g * U);
  cellUpdate<V, Kind>(s, row, unit, unitEnd - unit < U ? unitEnd - unit : U, a);
}

// Rows x Panels tile starting at row0 and at panel-aligned unit0, summed over the whole state width, then
// updated; units at or past unitEnd are not written.
template <class V, CellKind Kind, std::size_t Rows, std::size_t Panels>
void recurrentTile(const RecurrentStepArgs<typename V::Scalar>& s, std::size_t row0, std::size_t unit0,
                   std::size_t unitEnd) {
  using S = typename V::Scalar;
  using Reg = typename V::Reg;
  constexpr std::size_t G = gatesPerUnit(Kind);
  constexpr std::size_t U = V::kLanes;
  constexpr std::size_t kCols = G * U;
  const S* panel[Panels];
  panelStarts<V, Kind>(s, unit0, panel);
  const S* h = s.hPrev + row0 * s.ldhPrev;
  Reg acc[Rows][Panels][G];
  for (std::size_t r = 0; r < Rows; ++r)
    for (std::size_t p = 0; p < Panels; ++p)
      for (std::size_t g = 0; g < G; ++g) acc[r][p][g] = V::zero();
  for (std::size_t k = 0; k < s.stateSize; ++k) {
    Reg w[Panels][G];
    for (std::size_t p = 0; p < Panels; ++p)
      for (std::size_t g = 0; g < G; ++g) {
        w[p][g] = V::load(panel[p] + k * kCols + g * U);
        if constexpr (Rows > 1 && Rows < 4) keepInRegister(w[p][g]);
      }
    for (std::size_t r = 0; r < Rows; ++r) {
      const Reg hr = V::set1(h[r * s.ldhPrev + k]);
      for (std::size_t p = 0; p < Panels; ++p)
        for (std::size_t g = 0; g < G; ++g) acc[r][p][g] = V::fma(hr, w[p][g], acc[r][p][g]);
    }
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

// `rows` (< the wide tile's) rows at one panel group, the row count made a template argument.
template <class V, CellKind Kind, std::size_t Rows, std::size_t Panels>
void fewRowsAtPanels(std::size_t rows, const RecurrentStepArgs<typename V::Scalar>& s, std::size_t row0,
                     std::size_t unit0, std::size_t unitEnd) {
  if constexpr (Rows > 0) {
    if (rows == Rows) return recurrentTile<V, Kind, Rows, Panels>(s, row0, unit0, unitEnd);
    fewRowsAtPanels<V, Kind, Rows - 1, Panels>(rows, s, row0, unit0, unitEnd);
  }
}

// Every row block at one panel group, so the group is read from memory once per step and then from cache.
// Each tile sums over the whole state width: splitting K into chunks that stay in L1 across the row
// blocks, with the running sums parked between chunks, measured slower on every shape (lstm-b32's step
// 0.82x the time without it, GRU(512) at batch 32 0.73x): L2 feeds one tile's panel reads with room to
// spare. Within noise: software prefetch of W_hh lines into L1 ahead of the K loop, or of the next panel
// group into L2 by the later row blocks (lstm-b32); slower: the next panel into L2 by few-rows tiles that
// stream W_hh from L3 themselves (LSTM(1024, proj 256) at batch 4 0.85x: the same bandwidth, shared).
template <class V, CellKind Kind, std::size_t Panels>
void rowBlocksAtPanels(const RecurrentStepArgs<typename V::Scalar>& s, std::size_t unit0, std::size_t unitEnd) {
  constexpr std::size_t R = StepGeometry<V, Kind>::kWideRows;
  // A last block of fewer than R / 2 rows has too few accumulators to cover the FMA latency (LSTM's 2-row
  // tile runs at about half the rate of a full one): it and the full block before it go as two halves.
  const std::size_t rest = s.rows % R;
  const std::size_t full = s.rows / R - (rest > 0 && rest < R / 2 && s.rows > R ? 1 : 0);
  std::size_t row = 0;
  for (; row < full * R; row += R) recurrentTile<V, Kind, R, Panels>(s, row, unit0, unitEnd);
  const std::size_t left = s.rows - row;
  if (left > R) {
    fewRowsAtPanels<V, Kind, R - 1, Panels>(left / 2, s, row, unit0, unitEnd);
    row += left / 2;
  }
  if (row < s.rows) fewRowsAtPanels<V, Kind, R - 1, Panels>(s.rows - row, s, row, unit0, unitEnd);
}

// Rows x Panels tile that, instead of its own update, finishes the tile before it: the K loop goes in one
// segment more than that tile has (row, panel) updates, one update after each, so their arithmetic can
// overlap this tile's reads of W_hh. Its own sums go to `sums` ([row][panel][gate][lane], RowSums values
// per row); `pending` holds the tile before's, for pendingPanels panels from pendingUnit0.
template <class V, CellKind Kind, std::size_t Rows, std::size_t Panels, std::size_t RowSums>
void streamingTile(const RecurrentStepArgs<typename V::Scalar>& s, std::size_t row0, std::size_t unit0,
                   std::size_t unitEnd, typename V::Scalar* sums, const typename V::Scalar* pending,
                   std::size_t pendingUnit0, std::size_t pendingPanels) {
  using S = typename V::Scalar;
  using Reg = typename V::Reg;
  constexpr std::size_t G = gatesPerUnit(Kind);
  constexpr std::size_t U = V::kLanes;
  constexpr std::size_t kCols = G * U;
  const std::size_t K = s.stateSize;
  const S* panel[Panels];
  panelStarts<V, Kind>(s, unit0, panel);
  const S* h = s.hPrev + row0 * s.ldhPrev;
  Reg acc[Rows][Panels][G];
  for (std::size_t r = 0; r < Rows; ++r)
    for (std::size_t p = 0; p < Panels; ++p)
      for (std::size_t g = 0; g < G; ++g) acc[r][p][g] = V::zero();
  auto sumTo = [&](std::size_t k, std::size_t kEnd) {
    for (; k < kEnd; ++k) {
      Reg w[Panels][G];
      for (std::size_t p = 0; p < Panels; ++p)
        for (std::size_t g = 0; g < G; ++g) w[p][g] = V::load(panel[p] + k * kCols + g * U);
      for (std::size_t r = 0; r < Rows; ++r) {
        const Reg hr = V::set1(h[r * s.ldhPrev + k]);
        for (std::size_t p = 0; p < Panels; ++p)
          for (std::size_t g = 0; g < G; ++g) acc[r][p][g] = V::fma(hr, w[p][g], acc[r][p][g]);
      }
    }
  };
  const std::size_t updates = pending ? Rows * pendingPanels : 0;
  std::size_t k = 0;
  for (std::size_t j = 0; j < updates; ++j) {
    const std::size_t kEnd = K * (j + 1) / (updates + 1);
    sumTo(k, kEnd);
    k = kEnd;
    const std::size_t r = j / pendingPanels, p = j % pendingPanels;
    const std::size_t unit = pendingUnit0 + p * U;
    if (unit < unitEnd) updateFromSums<V, Kind>(s, row0 + r, unit, unitEnd, pending + r * RowSums + p * G * U);
  }
  sumTo(k, K);
  for (std::size_t r = 0; r < Rows; ++r)
    for (std::size_t p = 0; p < Panels; ++p)
      for (std::size_t g = 0; g < G; ++g) V::store(sums + r * RowSums + (p * G + g) * U, acc[r][p][g]);
}

// The update of one row's Panels consecutive panels from unit0 as one (ConsecutiveVectors), their chains
// side by side, from sums parked as [panel][gate][lane].
template <class V, CellKind Kind, std::size_t Panels>
TORCHRNN_FLATTEN void updatePanelsTogether(const RecurrentStepArgs<typename V::Scalar>& s, std::size_t row,
                                           std::size_t unit0, std::size_t unitEnd, const typename V::Scalar* sums) {
  constexpr std::size_t G = gatesPerUnit(Kind);
  constexpr std::size_t U = V::kLanes;
  using W = ConsecutiveVectors<V, Panels>;
  typename W::Reg acc[G];
  for (std::size_t g = 0; g < G; ++g)
    for (std::size_t p = 0; p < Panels; ++p) acc[g].r[p] = V::load(sums + (p * G + g) * U);
  cellUpdate<W, Kind>(s, row, unit0, unitEnd - unit0 < W::kLanes ? unitEnd - unit0 : W::kLanes, acc);
}

// The update of Rows rows' units at `unit` (one panel) as one, the rows' chains side by side: their
// operands gathered as the members of one ConsecutiveVectors, the results scattered back. A tiny step
// (seed-lstm's: 3 rows, 15 units) is little more than these chains, one after another without this.
// Sums are parked as [row][gate][lane], `rowSums` values per row.
template <class V, CellKind Kind, std::size_t Rows>
TORCHRNN_FLATTEN void updateRowsTogether(const RecurrentStepArgs<typename V::Scalar>& s, std::size_t row0,
                                         std::size_t unit, std::size_t unitEnd, const typename V::Scalar* sums,
                                         std::size_t rowSums) {
  using S = typename V::Scalar;
  constexpr std::size_t G = gatesPerUnit(Kind);
  constexpr std::size_t U = V::kLanes;
  using W = ConsecutiveVectors<V, Rows>;
  const std::size_t lanes = unitEnd - unit < U ? unitEnd - unit : U;
  const bool whole = lanes == U;
  auto load = [&](const S* p) { return whole ? V::load(p) : V::loadFirst(p, lanes); };
  // Gate g of row r at gx[(g * Rows + r) * U]: the gates W::kLanes apart, as cellUpdate reads them.
  alignas(64) S gx[G * Rows * U], cPrev[Rows * U], hPrev[Rows * U], bhn[Rows * U], cNext[Rows * U], hNext[Rows * U];
  RecurrentStepArgs<S> t;
  t.hiddenSize = W::kLanes;
  t.gx = gx, t.cPrev = cPrev, t.cNext = cNext, t.hPrev = hPrev, t.bhn = bhn, t.hNext = hNext;
  typename W::Reg acc[G];
  for (std::size_t r = 0; r < Rows; ++r) {
    for (std::size_t g = 0; g < G; ++g) {
      V::store(gx + (g * Rows + r) * U, load(s.gx + (row0 + r) * s.ldgx + g * s.hiddenSize + unit));
      acc[g].r[r] = V::load(sums + r * rowSums + g * U);
    }
    if constexpr (Kind == CellKind::Lstm) V::store(cPrev + r * U, load(s.cPrev + (row0 + r) * s.ldc + unit));
    if constexpr (Kind == CellKind::Gru) {
      V::store(hPrev + r * U, load(s.hPrev + (row0 + r) * s.ldhPrev + unit));
      V::store(bhn + r * U, load(s.bhn + unit));
    }
  }
  cellUpdate<W, Kind>(t, 0, 0, W::kLanes, acc);
  auto store = [&](S* p, const S* from) {
    whole ? V::store(p, V::load(from)) : V::storeFirst(p, V::load(from), lanes);
  };
  for (std::size_t r = 0; r < Rows; ++r) {
    if constexpr (Kind == CellKind::Lstm) store(s.cNext + (row0 + r) * s.ldc + unit, cNext + r * U);
    store(s.hNext + (row0 + r) * s.ldhNext + unit, hNext + r * U);
    if (s.out) store(s.out + (row0 + r) * s.ldout + unit, hNext + r * U);
  }
}

// A GEMV-like step (bound by reading W_hh): tiles across units whose updates each run inside the next
// tile's K loop, so only the last tile's updates are left outside any loop.
template <class V, CellKind Kind, std::size_t Rows>
void streamingAcrossUnits(const RecurrentStepArgs<typename V::Scalar>& s, std::size_t row0, std::size_t unitBegin,
                          std::size_t unitEnd) {
  using S = typename V::Scalar;
  constexpr std::size_t G = gatesPerUnit(Kind);
  constexpr std::size_t U = V::kLanes;
  constexpr std::size_t P = StepGeometry<V, Kind>::kStreamingPanels;
  constexpr std::size_t kRowSums = P * G * U;
  alignas(64) S sums[2][Rows * kRowSums];
  const S* pending = nullptr;
  std::size_t pendingUnit0 = 0, pendingPanels = 0, next = 0;
  // Whole groups of P panels, then single panels; with lastUnitsFirst the same tiles in reverse order.
  const std::size_t groups = (unitEnd - unitBegin + U - 1) / U / P;
  const std::size_t singles = (unitEnd - unitBegin + U - 1) / U - groups * P;
  auto group = [&](std::size_t unit0) {
    streamingTile<V, Kind, Rows, P, kRowSums>(s, row0, unit0, unitEnd, sums[next], pending, pendingUnit0,
                                              pendingPanels);
    pending = sums[next], pendingUnit0 = unit0, pendingPanels = P, next ^= 1;
  };
  auto single = [&](std::size_t unit0) {
    streamingTile<V, Kind, Rows, 1, kRowSums>(s, row0, unit0, unitEnd, sums[next], pending, pendingUnit0,
                                              pendingPanels);
    pending = sums[next], pendingUnit0 = unit0, pendingPanels = 1, next ^= 1;
  };
  const std::size_t singlesBegin = unitBegin + groups * P * U;
  if (s.lastUnitsFirst) {
    for (std::size_t i = singles; i-- > 0;) single(singlesBegin + i * U);
    for (std::size_t i = groups; i-- > 0;) group(unitBegin + i * P * U);
  } else {
    for (std::size_t i = 0; i < groups; ++i) group(unitBegin + i * P * U);
    for (std::size_t i = 0; i < singles; ++i) single(singlesBegin + i * U);
  }
  // The last tile's updates have no K loop to hide in, and the next step waits for them: a whole group's
  // panels go as one update over consecutive units, their chains side by side; so do several rows' of a
  // single panel.
  if constexpr (Rows > 1) {
    if (pendingPanels == 1)
      return updateRowsTogether<V, Kind, Rows>(s, row0, pendingUnit0, unitEnd, pending, kRowSums);
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    if constexpr (P > 1) {
      if (pendingPanels == P && pendingUnit0 + (P - 1) * U < unitEnd) {
        updatePanelsTogether<V, Kind, P>(s, row0 + r, pendingUnit0, unitEnd, pending + r * kRowSums);
        continue;
      }
    }
    for (std::size_t p = 0; p < pendingPanels; ++p) {
      const std::size_t unit = pendingUnit0 + p * U;
      if (unit >= unitEnd) break;
      updateFromSums<V, Kind>(s, row0 + r, unit, unitEnd, pending + r * kRowSums + p * G * U);
    }
  }
}

// streamingAcrossUnits for `rows` (<= Rows) rows, the row count made a template argument.
template <class V, CellKind Kind, std::size_t Rows>
void streamingRows(std::size_t rows, const RecurrentStepArgs<typename V::Scalar>& s, std::size_t unitBegin,
                   std::size_t unitEnd) {
  if constexpr (Rows > 1) {
    if (rows == Rows) return streamingAcrossUnits<V, Kind, Rows>(s, 0, unitBegin, unitEnd);
    streamingRows<V, Kind, Rows - 1>(rows, s, unitBegin, unitEnd);
  } else {
    streamingAcrossUnits<V, Kind, 1>(s, 0, unitBegin, unitEnd);
  }
}

template <class V, CellKind Kind>
void simdRecurrentStep(const RecurrentStepArgs<typename V::Scalar>& s, std::size_t unitBegin, std::size_t unitEnd) {
  using Geo = StepGeometry<V, Kind>;
  constexpr std::size_t U = V::kLanes;
  if (unitEnd > s.hiddenSize) unitEnd = s.hiddenSize;
  if (unitBegin >= unitEnd || s.rows == 0) return;
  if constexpr (Geo::kStreamingRow) {
    if (s.rows == 1) return streamingAcrossUnits<V, Kind, 1>(s, 0, unitBegin, unitEnd);
    // A tiny step (a single panel): its time is the rows' update chains, which streaming takes together.
    if (unitEnd - unitBegin <= U && s.rows <= Geo::kTinyRows)
      return streamingRows<V, Kind, Geo::kTinyRows>(s.rows, s, unitBegin, unitEnd);
  }
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
