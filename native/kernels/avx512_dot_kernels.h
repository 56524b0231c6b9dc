// The GEMM and recurrent steps of the AVX-512 dot-product instructions (VNNI vpdpbusd for qint8, BF16
// vdpbf16ps for bfloat16), over a policy `Dot` that says how a row of activations is converted and how
// four bytes of it meet four bytes of each weight column:
//   Elem                  the converted activation element (uint8_t, bfloat16 bits), 1 or 2 bytes, as the
//                         stored weights
//   Acc                   the accumulator register (int32 or float32 lanes)
//   Row                   what the epilogue needs of one converted row (its scale and zero point, or nothing)
//   kGroup                elements of one column in a 32-bit lane: 4 bytes per lane either way
//   convertRow(x, n, out) n floats into paddedDepth(n) elements (zeros past n: their weights are zeros)
//   zero(), dot(acc, a, w), finish(acc, row, columnSums, columnScales) -> the float sums
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

  template <std::size_t Rows>
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
        _mm512_mask_storeu_ps(g.c + (row0 + r) * g.ldc + col, m, _mm512_add_ps(sums, bias));
      }
    }
  }

  template <std::size_t Rows>
  static void gemmFewRows(std::size_t rows, const GemmArgs<float>& g, const Elem* q, std::size_t ldq, const Row* conv,
                          std::size_t row0, std::size_t j0) {
    if constexpr (Rows > 0) {
      if (rows == Rows) return gemmTile<Rows>(g, q, ldq, conv, row0, j0);
      gemmFewRows<Rows - 1>(rows, g, q, ldq, conv, row0, j0);
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
    // A block of rows (in L2) against every panel in turn, each panel swept by the block's tiles; blocks of
    // equal size, so that a few rows past a multiple of the block do not stream all of B again on their own.
    const std::size_t blocks = (g.m + kGemmRowBlock - 1) / kGemmRowBlock;
    const std::size_t blockRows = (g.m + blocks - 1) / blocks;
    for (std::size_t b0 = 0; b0 < g.m; b0 += blockRows) {
      const std::size_t b1 = std::min(g.m, b0 + blockRows);
      for (std::size_t j0 = 0; j0 < g.n; j0 += kGemmPanelCols) {
        std::size_t r0 = b0;
        for (; r0 + kGemmRows <= b1; r0 += kGemmRows) gemmTile<kGemmRows>(g, q, ldq, rows, r0, j0);
        if (r0 < b1) gemmFewRows<kGemmRows - 1>(b1 - r0, g, q, ldq, rows, r0, j0);
      }
    }
  }

  // ---- recurrent steps: gates = gx + h_{t-1} · W_hhᵀ, then the cell's update -------------------------

  static constexpr std::size_t kStepRows = 6;

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

  // Every call converts the whole of h_{t-1} itself (a thread may be given any units), the same way each
  // time, so the result does not depend on how units are split across threads.
  template <CellKind Kind>
  static void step(const RecurrentStepArgs<float>& s, std::size_t unitBegin, std::size_t unitEnd) {
    unitEnd = std::min(unitEnd, s.hiddenSize);
    if (unitBegin >= unitEnd || s.rows == 0) return;
    static thread_local DotBuffer<Elem> elems;
    static thread_local DotBuffer<Row> rowInfo;
    const std::size_t ldq = paddedDepth(s.stateSize);
    Elem* q = elems.reserve(std::max<std::size_t>(s.rows * ldq, 1));
    Row* conv = rowInfo.reserve(s.rows);
    for (std::size_t r = 0; r < s.rows; ++r) conv[r] = Dot::convertRow(s.hPrev + r * s.ldhPrev, s.stateSize, q + r * ldq);
    std::size_t row = 0;
    for (; row + kStepRows <= s.rows; row += kStepRows) stepRowsAcrossUnits<Kind, kStepRows>(s, q, ldq, conv, row, unitBegin, unitEnd);
    if (row < s.rows) stepFewRows<Kind, kStepRows - 1>(s.rows - row, s, q, ldq, conv, row, unitBegin, unitEnd);
  }

  static constexpr RecurrentStepFn<float> kSteps[kCellKindCount] = {&step<CellKind::RnnTanh>, &step<CellKind::RnnRelu>,
                                                                    &step<CellKind::Lstm>, &step<CellKind::Gru>};
};

}  // namespace
}  // namespace kernels
}  // namespace torchrnn
