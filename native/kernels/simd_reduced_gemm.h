// The packed GEMM on bfloat16, float16 or int8 B panels read in registers, on any float register type V
// and a family's `Widen` (simd_reduced_recurrent.h's): each weight vector is widened as it is loaded and
// swept by a tile of rows of A with float32 FMAs; int8 column scales are applied once to the finished
// sums. In place of decoding every panel to float32 per call, which costs as much as the products when A
// has few rows (an LSTM projection at every step). Private to the unit that includes it (see
// avx512_vector.h for why).
#pragma once

#include <algorithm>
#include <cstddef>

#include "kernels.h"

namespace torchrnn {
namespace kernels {
namespace {

template <class V>
struct ReducedGemmGeometry {
  static constexpr std::size_t kVectors = 2;                                // the float tables' panel: 2 vectors
  static constexpr std::size_t kPanelCols = kVectors * V::kLanes;
  static constexpr std::size_t kTileRows = (V::kRegisters - 4) / kVectors;  // 14 (AVX-512), 6 (AVX2)
  static constexpr std::size_t kRowBlock = kTileRows * 8;                   // rows of A (in L2) per pass over B
};

template <class V, class Widen, WeightFormat Format, std::size_t Rows>
void reducedGemmTile(const GemmArgs<float>& g, std::size_t row0, std::size_t j0) {
  using Reg = typename V::Reg;
  constexpr std::size_t L = V::kLanes;
  constexpr std::size_t P = ReducedGemmGeometry<V>::kPanelCols;
  const float* a = g.a + row0 * g.lda;
  const std::size_t panel = j0 * g.k;  // elements of B before this panel
  Reg acc[Rows][2];
#pragma GCC unroll 16
  for (std::size_t r = 0; r < Rows; ++r) acc[r][0] = acc[r][1] = V::zero();
  for (std::size_t k = 0; k < g.k; ++k) {
    const Reg w0 = Widen::template load<Format>(g.bReduced, panel + k * P);
    const Reg w1 = Widen::template load<Format>(g.bReduced, panel + k * P + L);
#pragma GCC unroll 16
    for (std::size_t r = 0; r < Rows; ++r) {
      const Reg x = V::set1(a[r * g.lda + k]);
      acc[r][0] = V::fma(x, w0, acc[r][0]);
      acc[r][1] = V::fma(x, w1, acc[r][1]);
    }
  }
#pragma GCC unroll 2
  for (std::size_t v = 0; v < 2; ++v) {
    const std::size_t col = j0 + v * L;
    if (col >= g.n) continue;
    const std::size_t lanes = std::min(L, g.n - col);
    // Scales and biases past the matrix's columns: scales are packed for whole panels, biases are not.
    const Reg scale = Format == WeightFormat::Int8 ? V::load(g.bScales + col) : V::set1(1.0f);
    const Reg bias = g.bias ? V::loadFirst(g.bias + col, lanes) : V::zero();
#pragma GCC unroll 16
    for (std::size_t r = 0; r < Rows; ++r) {
      Reg sum = acc[r][v];
      if constexpr (Format == WeightFormat::Int8) sum = V::mul(sum, scale);
      V::storeFirst(g.c + (row0 + r) * g.ldc + col, V::add(sum, bias), lanes);
    }
  }
}

template <class V, class Widen, WeightFormat Format, std::size_t Rows>
void reducedGemmFewRows(std::size_t rows, const GemmArgs<float>& g, std::size_t row0, std::size_t j0) {
  if constexpr (Rows > 0) {
    if (rows == Rows) return reducedGemmTile<V, Widen, Format, Rows>(g, row0, j0);
    reducedGemmFewRows<V, Widen, Format, Rows - 1>(rows, g, row0, j0);
  }
}

// C[m, n] = A·Bᵀ (+ bias) with B the panels of packGemmPanels in `Format`, P = the float table's
// gemmPanelCols columns each.
template <class V, class Widen, WeightFormat Format>
void reducedGemm(const GemmArgs<float>& g) {
  using Geometry = ReducedGemmGeometry<V>;
  constexpr std::size_t R = Geometry::kTileRows;
  if (g.m == 0 || g.n == 0) return;
  // Blocks of equal size, so that a few rows past a multiple of the block do not stream all of B again.
  const std::size_t blocks = (g.m + Geometry::kRowBlock - 1) / Geometry::kRowBlock;
  const std::size_t blockRows = (g.m + blocks - 1) / blocks;
  for (std::size_t b0 = 0; b0 < g.m; b0 += blockRows) {
    const std::size_t b1 = std::min(g.m, b0 + blockRows);
    for (std::size_t j0 = 0; j0 < g.n; j0 += Geometry::kPanelCols) {
      std::size_t r0 = b0;
      for (; r0 + R <= b1; r0 += R) reducedGemmTile<V, Widen, Format, R>(g, r0, j0);
      if (r0 < b1) reducedGemmFewRows<V, Widen, Format, R - 1>(b1 - r0, g, r0, j0);
    }
  }
}

}  // namespace
}  // namespace kernels
}  // namespace torchrnn
