// The GEMM and recurrent steps of the AVX-512 dot-product instructions (VNNI vpdpbusd for qint8, BF16
// vdpbf16ps for bfloat16), over a policy `Dot` that says how a row of activations is converted and how
// four bytes of it meet four bytes of each weight column:
//   Elem                  the converted activation element (uint8_t, bfloat16 bits), 1 or 2 bytes, as the
//                         stored weights
//   Acc                   the accumulator register (int32 or float32 lanes)
//   Row                   what the epilogue needs of one converted row (its scale and zero point, or nothing)
//   kGroup                elements of one column in a 32-bit lane: 4 bytes per lane either way
//   kExactSums            whether Acc sums exactly (int32), so that their order does not matter
//   convertRow(x, n, out) n floats into paddedDepth(n) elements (zeros past n: their weights are zeros)
//   zero(), dot(acc, a, w), add(acc, acc), finish(acc, row, columnSums, columnScales) -> the float sums
// Weights are panels in the dot-product layout (reduced_precision.h's groupInt8Panel / groupBits16Panel):
// column c's elements k..k+kGroup-1 in one lane, lanes of a panel's columns side by side per k-group.
// Private to the unit that includes it, compiled with the instructions its policy uses (see
// avx512_vector.h for why).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "avx512_vector.h"
#include "prefetch.h"
#include "simd_recurrent.h"

namespace torchrnn {
namespace kernels {
namespace {

// The all-lanes masked forms say the same as the plain ones without GCC 12's false "uninitialized"
// warnings in its headers (as avx512_vector.h).
constexpr __mmask16 kAllLanes = 0xffff;

// A thread's buffer, grown to the largest request and never shrunk (every use writes what it reads).
template <class T>
class DotBuffer {
 public:
  T* reserve(std::size_t n) {
    if (n > capacity_) {
      data_.reset(new T[n]);
      capacity_ = n;
    }
    return data_.get();
  }

 private:
  std::unique_ptr<T[]> data_;
  std::size_t capacity_ = 0;
};

template <class Dot>
struct DotKernels {
  using Elem = typename Dot::Elem;
  using Acc = typename Dot::Acc;
  using Row = typename Dot::Row;
  static constexpr std::size_t kLanes = 16;
  static constexpr std::size_t kGroup = Dot::kGroup;
  static_assert(kGroup * sizeof(Elem) == 4, "one 32-bit lane per column and k-group");

  static std::size_t paddedDepth(std::size_t k) { return (k + kGroup - 1) / kGroup * kGroup; }

  // One k-group of a converted row, broadcast to every lane.
  static __m512i broadcastGroup(const Elem* p) {
    std::int32_t v;
    std::memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
  }

  // 16 columns' weights of one k-group: 64 bytes at `bytes`.
  static __m512i weights(const unsigned char* bytes) { return _mm512_loadu_si512(bytes); }

  // ---- GEMM: C[m, n] = A[m, :] · B[n, :] + bias[n] --------------------------------------------------

  static constexpr std::size_t kGemmVectors = 2;  // 32 columns: the AVX-512 table's gemmPanelCols
  static constexpr std::size_t kGemmPanelCols = kGemmVectors * kLanes;
  static constexpr std::size_t kGemmRows = 12;  // 24 accumulators, 2 weight vectors, the broadcast
  static constexpr std::size_t kGemmRowBlock = kGemmRows * 16;  // converted rows of A per pass over B (L2)

  // Outputs at least this large are written around the caches (see gemm).
  static constexpr std::size_t kStreamOutputBytes = std::size_t(8) << 20;

  template <std::size_t Rows, bool Stream>
  static void gemmTile(const GemmArgs<float>& g, const Elem* q, std::size_t ldq, const Row* rows, std::size_t row0,
                       std::size_t j0) {
    const std::size_t groups = ldq / kGroup;
    const unsigned char* panel = static_cast<const unsigned char*>(g.bReduced) + j0 * ldq * sizeof(Elem);
    Acc acc[Rows][kGemmVectors];
    // Every loop over the accumulators unrolled, so that they stay in registers (an indexed one would keep
    // them in memory).
#pragma GCC unroll 16
    for (std::size_t r = 0; r < Rows; ++r)
#pragma GCC unroll 2
      for (std::size_t v = 0; v < kGemmVectors; ++v) acc[r][v] = Dot::zero();
    for (std::size_t kg = 0; kg < groups; ++kg) {
      __m512i w[kGemmVectors];
#pragma GCC unroll 2
      for (std::size_t v = 0; v < kGemmVectors; ++v) w[v] = weights(panel + (kg * kGemmPanelCols + v * kLanes) * 4);
#pragma GCC unroll 16
      for (std::size_t r = 0; r < Rows; ++r) {
        const __m512i a = broadcastGroup(q + (row0 + r) * ldq + kg * kGroup);
#pragma GCC unroll 2
        for (std::size_t v = 0; v < kGemmVectors; ++v) acc[r][v] = Dot::dot(acc[r][v], a, w[v]);
      }
    }
#pragma GCC unroll 2
    for (std::size_t v = 0; v < kGemmVectors; ++v) {
      const std::size_t col = j0 + v * kLanes;
      const std::size_t lanes = col < g.n ? std::min(kLanes, g.n - col) : 0;
      const __mmask16 m = Avx512Float::firstLanes(lanes);
      const __m512 bias = g.bias ? _mm512_maskz_loadu_ps(m, g.bias + col) : _mm512_setzero_ps();
#pragma GCC unroll 16
      for (std::size_t r = 0; r < Rows; ++r) {
        const __m512 sums = Dot::finish(acc[r][v], rows[row0 + r], g.bColumnSums ? g.bColumnSums + col : nullptr,
                                        g.bScales ? g.bScales + col : nullptr);
        // One sum for either store, so that the compiler contracts it with finish's product the same way.
        const __m512 value = _mm512_add_ps(sums, bias);
        float* out = g.c + (row0 + r) * g.ldc + col;
        if (Stream && lanes == kLanes && reinterpret_cast<std::uintptr_t>(out) % 64 == 0)
          _mm512_stream_ps(out, value);
        else
          _mm512_mask_storeu_ps(out, m, value);
      }
    }
  }

  template <std::size_t Rows, bool Stream>
  static void gemmFewRows(std::size_t rows, const GemmArgs<float>& g, const Elem* q, std::size_t ldq, const Row* conv,
                          std::size_t row0, std::size_t j0) {
    if constexpr (Rows > 0) {
      if (rows == Rows) return gemmTile<Rows, Stream>(g, q, ldq, conv, row0, j0);
      gemmFewRows<Rows - 1, Stream>(rows, g, q, ldq, conv, row0, j0);
    }
  }

  template <bool Stream>
  static void gemmBlocks(const GemmArgs<float>& g, const Elem* q, std::size_t ldq, const Row* rows) {
    // A block of rows (in L2) against every panel in turn, each panel swept by the block's tiles; blocks of
    // equal size, so that a few rows past a multiple of the block do not stream all of B again on their own.
    const std::size_t blocks = (g.m + kGemmRowBlock - 1) / kGemmRowBlock;
    const std::size_t blockRows = (g.m + blocks - 1) / blocks;
    for (std::size_t b0 = 0; b0 < g.m; b0 += blockRows) {
      const std::size_t b1 = std::min(g.m, b0 + blockRows);
      for (std::size_t j0 = 0; j0 < g.n; j0 += kGemmPanelCols) {
        std::size_t r0 = b0;
        for (; r0 + kGemmRows <= b1; r0 += kGemmRows) gemmTile<kGemmRows, Stream>(g, q, ldq, rows, r0, j0);
        if (r0 < b1) gemmFewRows<kGemmRows - 1, Stream>(b1 - r0, g, q, ldq, rows, r0, j0);
      }
    }
  }

  static void gemm(const GemmArgs<float>& g) {
    if (g.m == 0 || g.n == 0) return;
    if (g.k == 0) {  // no panels at all: the bias alone
      for (std::size_t r = 0; r < g.m; ++r)
        for (std::size_t j = 0; j < g.n; ++j) g.c[r * g.ldc + j] = g.bias ? g.bias[j] : 0.0f;
      return;
    }
    static thread_local DotBuffer<Elem> elems;
    static thread_local DotBuffer<Row> rowInfo;
    const std::size_t ldq = paddedDepth(g.k);
    Elem* q = elems.reserve(g.m * ldq);
    Row* rows = rowInfo.reserve(g.m);
    for (std::size_t r = 0; r < g.m; ++r) rows[r] = Dot::convertRow(g.a + r * g.lda, g.k, q + r * ldq);
    // An output far larger than the caches (a long sequence's input projection) would be read in by every
    // store that misses before being written over, as much traffic again, and the products wait on it:
    // measured, a 52 MB projection ran at less than half the rate of one that stays in cache. Its whole
    // lines go straight to memory instead; the steps that read it later fetch them ahead.
    if (g.m * g.ldc * sizeof(float) >= kStreamOutputBytes) {
      gemmBlocks<true>(g, q, ldq, rows);
      _mm_sfence();  // the streamed lines visible before whoever reads them is told they are there
    } else {
      gemmBlocks<false>(g, q, ldq, rows);
    }
  }

  // ---- recurrent steps: gates = gx + h_{t-1} · W_hhᵀ, then the cell's update -------------------------

  static constexpr std::size_t kStepRows = 6;

  // The gates and the cell state one row's update of the 16 units at `unit` will read, requested into L1
  // while the tile's products run: they come from the projection (far larger than the caches) and the
  // streamed W_hh would otherwise have pushed them out of L2 before the epilogue needs them.
  template <CellKind Kind>
  static void prefetchUpdate(const RecurrentStepArgs<float>& s, std::size_t row, std::size_t unit, std::size_t unitEnd) {
    if (unit >= unitEnd) return;
    const float* gx = s.gx + row * s.ldgx + unit;
    for (std::size_t g = 0; g < gatesPerUnit(Kind); ++g) _mm_prefetch(reinterpret_cast<const char*>(gx + g * s.hiddenSize), _MM_HINT_T0);
    if constexpr (Kind == CellKind::Lstm) _mm_prefetch(reinterpret_cast<const char*>(s.cPrev + row * s.ldc + unit), _MM_HINT_T0);
  }

  // Panels per tile for `rows` rows: as many as keep accumulators (rows x gates x panels) within 24
  // registers, at most 4.
  template <CellKind Kind>
  static constexpr std::size_t stepPanels(std::size_t rows) {
    const std::size_t fit = 24 / (rows * gatesPerUnit(Kind));
    return fit < 1 ? 1 : fit > 4 ? 4 : fit;
  }

  template <CellKind Kind, std::size_t Rows, std::size_t Panels>
  static void stepTile(const RecurrentStepArgs<float>& s, const Elem* q, std::size_t ldq, const Row* conv,
                       std::size_t row0, std::size_t unit0, std::size_t unitEnd) {
    constexpr std::size_t G = gatesPerUnit(Kind);
    constexpr std::size_t kCols = G * kLanes;
    const std::size_t groups = ldq / kGroup;
    const unsigned char* panel[Panels];
    for (std::size_t p = 0; p < Panels; ++p)
      panel[p] = static_cast<const unsigned char*>(s.whhReduced) + (unit0 + p * kLanes) * G * ldq * sizeof(Elem);
    for (std::size_t r = 0; r < Rows; ++r)
      for (std::size_t p = 0; p < Panels; ++p) prefetchUpdate<Kind>(s, row0 + r, unit0 + p * kLanes, unitEnd);
    Acc acc[Rows][Panels][G];
#pragma GCC unroll 8
    for (std::size_t r = 0; r < Rows; ++r)
#pragma GCC unroll 4
      for (std::size_t p = 0; p < Panels; ++p)
#pragma GCC unroll 4
        for (std::size_t g = 0; g < G; ++g) acc[r][p][g] = Dot::zero();
    for (std::size_t kg = 0; kg < groups; ++kg) {
      __m512i a[Rows];
#pragma GCC unroll 8
      for (std::size_t r = 0; r < Rows; ++r) a[r] = broadcastGroup(q + (row0 + r) * ldq + kg * kGroup);
      // Each weight vector loaded where it is used: rows x panels x gates accumulators, the broadcasts and
      // one weight vector stay within the 32 registers.
#pragma GCC unroll 4
      for (std::size_t p = 0; p < Panels; ++p)
#pragma GCC unroll 4
        for (std::size_t g = 0; g < G; ++g) {
          const __m512i w = weights(panel[p] + (kg * kCols + g * kLanes) * 4);
#pragma GCC unroll 8
          for (std::size_t r = 0; r < Rows; ++r) acc[r][p][g] = Dot::dot(acc[r][p][g], a[r], w);
        }
    }
#pragma GCC unroll 4
    for (std::size_t p = 0; p < Panels; ++p) {
      const std::size_t unit = unit0 + p * kLanes;
      if (unit >= unitEnd) continue;
      const std::size_t lanes = std::min(kLanes, unitEnd - unit);
#pragma GCC unroll 8
      for (std::size_t r = 0; r < Rows; ++r) {
        __m512 sums[G];
        // Scales and sums follow the panels' columns: [panel][gate][lane].
#pragma GCC unroll 4
        for (std::size_t g = 0; g < G; ++g) {
          const std::size_t column = unit * G + g * kLanes;
          sums[g] = Dot::finish(acc[r][p][g], conv[row0 + r], s.whhColumnSums ? s.whhColumnSums + column : nullptr,
                                s.whhScales ? s.whhScales + column : nullptr);
        }
        cellUpdate<Avx512Float, Kind>(s, row0 + r, unit, lanes, sums);
      }
    }
  }

  template <CellKind Kind, std::size_t Rows>
  static void stepRowsAcrossUnits(const RecurrentStepArgs<float>& s, const Elem* q, std::size_t ldq, const Row* conv,
                                  std::size_t row0, std::size_t unitBegin, std::size_t unitEnd) {
    constexpr std::size_t P = stepPanels<Kind>(Rows);
    std::size_t unit0 = unitBegin;
    for (; unit0 + (P - 1) * kLanes < unitEnd; unit0 += P * kLanes) stepTile<Kind, Rows, P>(s, q, ldq, conv, row0, unit0, unitEnd);
    for (; unit0 < unitEnd; unit0 += kLanes) stepTile<Kind, Rows, 1>(s, q, ldq, conv, row0, unit0, unitEnd);
  }

  template <CellKind Kind, std::size_t Rows>
  static void stepFewRows(std::size_t rows, const RecurrentStepArgs<float>& s, const Elem* q, std::size_t ldq,
                          const Row* conv, std::size_t row0, std::size_t unitBegin, std::size_t unitEnd) {
    if constexpr (Rows > 0) {
      if (rows == Rows) return stepRowsAcrossUnits<Kind, Rows>(s, q, ldq, conv, row0, unitBegin, unitEnd);
      stepFewRows<Kind, Rows - 1>(rows, s, q, ldq, conv, row0, unitBegin, unitEnd);
    }
  }

  // ---- one row: a GEMV bound by reading W_hh -------------------------------------------------------

  // Streaming tiles for int8 are one panel: a single stream through W_hh, which L2 delivers at nearly its
  // peak (measured here: two or four panels read side by side went at half to two thirds of that), with
  // each gate's exact int32 sum split over alternate k-groups into at least kStreamChains independent
  // chains (an LSTM's four gates are four already), so that the products' latency stays hidden. Float
  // sums (bfloat16) keep the one chain per column every other tile has, so that a row's result does not
  // depend on the tile that computed it, and take two panels for chains enough (bfloat16's W_hh comes
  // from L3 at batch 1, and one panel's four chains measured 6% slower there).
  static constexpr bool kExactSums = Dot::kExactSums;
  static constexpr std::size_t kStreamChains = 4;
  template <CellKind Kind>
  static constexpr std::size_t streamSplit() {
    return kExactSums ? (kStreamChains + gatesPerUnit(Kind) - 1) / gatesPerUnit(Kind) : 1;
  }
  static constexpr std::size_t kStreamPanels = kExactSums ? 1 : 2;

  // One row x Panels panels at unit0 whose loop over k also runs the updates of the tile before it (the
  // float sums at `pending`, [panel][gate][lane], of pendingPanels panels from pendingUnit0), one after
  // each of as many equal segments, so that their arithmetic overlaps this tile's reads of W_hh. Its own
  // sums go to `sums` for the tile after it.
  template <CellKind Kind, std::size_t Panels>
  static void streamTile(const RecurrentStepArgs<float>& s, const Elem* q, std::size_t ldq, const Row& conv,
                         std::size_t unit0, std::size_t unitEnd, float* sums, const float* pending,
                         std::size_t pendingUnit0, std::size_t pendingPanels) {
    constexpr std::size_t G = gatesPerUnit(Kind);
    constexpr std::size_t S = streamSplit<Kind>();
    constexpr std::size_t kCols = G * kLanes;
    const std::size_t groups = ldq / kGroup;
    const unsigned char* panel[Panels];
    for (std::size_t p = 0; p < Panels; ++p) {
      panel[p] = static_cast<const unsigned char*>(s.whhReduced) + (unit0 + p * kLanes) * G * ldq * sizeof(Elem);
      prefetchUpdate<Kind>(s, 0, unit0 + p * kLanes, unitEnd);
    }
    Acc acc[S][Panels][G];
#pragma GCC unroll 4
    for (std::size_t i = 0; i < S; ++i)
#pragma GCC unroll 4
      for (std::size_t p = 0; p < Panels; ++p)
#pragma GCC unroll 4
        for (std::size_t g = 0; g < G; ++g) acc[i][p][g] = Dot::zero();
    auto groupInto = [&](std::size_t i, std::size_t kg) {
      const __m512i a = broadcastGroup(q + kg * kGroup);
#pragma GCC unroll 4
      for (std::size_t p = 0; p < Panels; ++p)
#pragma GCC unroll 4
        for (std::size_t g = 0; g < G; ++g)
          acc[i][p][g] = Dot::dot(acc[i][p][g], a, weights(panel[p] + (kg * kCols + g * kLanes) * 4));
    };
    // [kg, kgEnd) with kg a multiple of S.
    auto sumTo = [&](std::size_t kg, std::size_t kgEnd) {
      for (; kg + S <= kgEnd; kg += S)
#pragma GCC unroll 4
        for (std::size_t i = 0; i < S; ++i) groupInto(i, kg + i);
      for (std::size_t i = 0; kg < kgEnd; ++kg, ++i) groupInto(i, kg);
    };
    std::size_t kg = 0;
    for (std::size_t j = 0; j < pendingPanels; ++j) {
      const std::size_t kgEnd = groups * (j + 1) / (pendingPanels + 1) / S * S;
      sumTo(kg, kgEnd);
      kg = kgEnd;
      updateParked<Kind>(s, pendingUnit0 + j * kLanes, unitEnd, pending + j * kCols);
    }
    sumTo(kg, groups);
#pragma GCC unroll 4
    for (std::size_t i = 1; i < S; ++i)
#pragma GCC unroll 4
      for (std::size_t p = 0; p < Panels; ++p)
#pragma GCC unroll 4
        for (std::size_t g = 0; g < G; ++g) acc[0][p][g] = Dot::add(acc[0][p][g], acc[i][p][g]);
#pragma GCC unroll 4
    for (std::size_t p = 0; p < Panels; ++p) {
      const std::size_t column = (unit0 + p * kLanes) * G;
#pragma GCC unroll 4
      for (std::size_t g = 0; g < G; ++g)
        _mm512_store_ps(sums + p * kCols + g * kLanes,
                        Dot::finish(acc[0][p][g], conv, s.whhColumnSums ? s.whhColumnSums + column + g * kLanes : nullptr,
                                    s.whhScales ? s.whhScales + column + g * kLanes : nullptr));
    }
  }

  // Row 0's update of the units at `unit` (none at or past unitEnd) from float sums parked as [gate][lane].
  template <CellKind Kind>
  static void updateParked(const RecurrentStepArgs<float>& s, std::size_t unit, std::size_t unitEnd, const float* sums) {
    if (unit >= unitEnd) return;
    __m512 v[gatesPerUnit(Kind)];
    for (std::size_t g = 0; g < gatesPerUnit(Kind); ++g) v[g] = _mm512_load_ps(sums + g * kLanes);
    cellUpdate<Avx512Float, Kind>(s, 0, unit, std::min(kLanes, unitEnd - unit), v);
  }

  // Tiles of kStreamPanels panels across the units (then single panels), each one's updates inside the
  // next one's loop; last to first when the step asks for it, so that alternate steps start on the panels
  // the step before read last (still in L2).
  template <CellKind Kind>
  static void streamAcrossUnits(const RecurrentStepArgs<float>& s, const Elem* q, std::size_t ldq, const Row& conv,
                                std::size_t unitBegin, std::size_t unitEnd) {
    constexpr std::size_t P = kStreamPanels;
    constexpr std::size_t kSums = P * gatesPerUnit(Kind) * kLanes;
    alignas(64) float sums[2][kSums];
    const float* pending = nullptr;
    std::size_t pendingUnit0 = 0, pendingPanels = 0, next = 0;
    const std::size_t panels = (unitEnd - unitBegin + kLanes - 1) / kLanes;
    const std::size_t tiles = panels / P, singles = panels - tiles * P;
    auto tile = [&](std::size_t unit0) {
      streamTile<Kind, P>(s, q, ldq, conv, unit0, unitEnd, sums[next], pending, pendingUnit0, pendingPanels);
      pending = sums[next], pendingUnit0 = unit0, pendingPanels = P, next ^= 1;
    };
    auto single = [&](std::size_t unit0) {
      streamTile<Kind, 1>(s, q, ldq, conv, unit0, unitEnd, sums[next], pending, pendingUnit0, pendingPanels);
      pending = sums[next], pendingUnit0 = unit0, pendingPanels = 1, next ^= 1;
    };
    const std::size_t singlesBegin = unitBegin + tiles * P * kLanes;
    if (s.lastUnitsFirst) {
      for (std::size_t i = singles; i-- > 0;) single(singlesBegin + i * kLanes);
      for (std::size_t i = tiles; i-- > 0;) tile(unitBegin + i * P * kLanes);
    } else {
      for (std::size_t i = 0; i < tiles; ++i) tile(unitBegin + i * P * kLanes);
      for (std::size_t i = 0; i < singles; ++i) single(singlesBegin + i * kLanes);
    }
    for (std::size_t p = 0; p < pendingPanels; ++p)
      updateParked<Kind>(s, pendingUnit0 + p * kLanes, unitEnd, pending + p * gatesPerUnit(Kind) * kLanes);
  }

  // h_{t-1} converted, or the conversion of the call before when this thread converted the very same
  // values last (bit for bit): a step split into several calls over its units (by a caller other than the
  // engine, which makes one per step and thread) converts once.
  struct Converted {
    const Elem* q;
    const Row* rows;
  };

  static Converted convertState(const RecurrentStepArgs<float>& s, std::size_t ldq) {
    static thread_local DotBuffer<Elem> elems;
    static thread_local DotBuffer<Row> rowInfo;
    static thread_local DotBuffer<float> source;  // the values converted last, rows x stateSize
    static thread_local std::size_t sourceRows = 0, sourceWidth = 0;
    const std::size_t n = s.stateSize;
    Elem* q = elems.reserve(std::max<std::size_t>(s.rows * ldq, 1));
    Row* conv = rowInfo.reserve(s.rows);
    float* kept = source.reserve(std::max<std::size_t>(s.rows * n, 1));
    bool same = sourceRows == s.rows && sourceWidth == n;
    for (std::size_t r = 0; r < s.rows && same; ++r) same = sameBits(s.hPrev + r * s.ldhPrev, kept + r * n, n);
    if (same) return {q, conv};
    sourceRows = 0;  // until the copy below is whole
    for (std::size_t r = 0; r < s.rows; ++r) {
      conv[r] = Dot::convertRow(s.hPrev + r * s.ldhPrev, n, q + r * ldq);
      std::memcpy(kept + r * n, s.hPrev + r * s.ldhPrev, n * sizeof(float));
    }
    sourceRows = s.rows, sourceWidth = n;
    return {q, conv};
  }

  static bool sameBits(const float* a, const float* b, std::size_t n) {
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
      if (_mm512_cmpneq_epi32_mask(_mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i)) != 0) return false;
    return std::memcmp(a + i, b + i, (n - i) * sizeof(float)) == 0;
  }

  // Every call converts the whole of h_{t-1} (a thread may be given any units), the same way each time, so
  // the result does not depend on how units are split across threads or calls.
  template <CellKind Kind>
  static void step(const RecurrentStepArgs<float>& s, std::size_t unitBegin, std::size_t unitEnd) {
    unitEnd = std::min(unitEnd, s.hiddenSize);
    if (unitBegin >= unitEnd || s.rows == 0) return;
    const std::size_t ldq = paddedDepth(s.stateSize);
    const Converted c = convertState(s, ldq);
    const Elem* q = c.q;
    const Row* conv = c.rows;
    if (s.rows == 1) return streamAcrossUnits<Kind>(s, q, ldq, conv[0], unitBegin, unitEnd);
    // Chunks of units, each swept by every block of rows, so that a chunk of W_hh stays in L2 while the
    // rows go past it; last to first when the step asks for it, so that alternate steps start on the
    // chunk the step before read last (the engine hands a reduced step all its units in one call).
    const std::size_t chunks = (unitEnd - unitBegin + kChunkUnits - 1) / kChunkUnits;
    for (std::size_t i = 0; i < chunks; ++i) {
      const std::size_t begin = unitBegin + (s.lastUnitsFirst ? chunks - 1 - i : i) * kChunkUnits;
      const std::size_t end = std::min(unitEnd, begin + kChunkUnits);
      // Each block of rows asks for the next block's gates and cell state into L2 (the tiles then bring
      // their own into L1): a block's pass over the chunk is time enough for them to come from L3.
      prefetchRowsToL2<Kind>(s, 0, std::min(s.rows, kStepRows), begin, end);
      std::size_t row = 0;
      for (; row + kStepRows <= s.rows; row += kStepRows) {
        prefetchRowsToL2<Kind>(s, row + kStepRows, std::min(s.rows, row + 2 * kStepRows), begin, end);
        stepRowsAcrossUnits<Kind, kStepRows>(s, q, ldq, conv, row, begin, end);
      }
      if (row < s.rows) stepFewRows<Kind, kStepRows - 1>(s.rows - row, s, q, ldq, conv, row, begin, end);
    }
  }

  // Units per chunk of a step of several rows: four panels.
  static constexpr std::size_t kChunkUnits = 4 * kLanes;

  template <CellKind Kind>
  static void prefetchRowsToL2(const RecurrentStepArgs<float>& s, std::size_t row0, std::size_t row1,
                               std::size_t unitBegin, std::size_t unitEnd) {
    const std::size_t bytes = (unitEnd - unitBegin) * sizeof(float);
    for (std::size_t r = row0; r < row1; ++r) {
      for (std::size_t g = 0; g < gatesPerUnit(Kind); ++g)
        prefetchBytesToL2(s.gx + r * s.ldgx + g * s.hiddenSize + unitBegin, bytes);
      if constexpr (Kind == CellKind::Lstm) prefetchBytesToL2(s.cPrev + r * s.ldc + unitBegin, bytes);
    }
  }

  static constexpr RecurrentStepFn<float> kSteps[kCellKindCount] = {&step<CellKind::RnnTanh>, &step<CellKind::RnnRelu>,
                                                                    &step<CellKind::Lstm>, &step<CellKind::Gru>};
};

}  // namespace
}  // namespace kernels
}  // namespace torchrnn
