// The packed GEMM of the SIMD kernel families, C = A·Bᵀ (+ bias), on any register type V. BLIS's loops
// around one register-blocked micro-kernel: rows of A in blocks copied into tile-shaped micro-panels (a
// block stays in L2, and its rows no longer sit a power of two apart in the same L1 sets), K in chunks,
// B panels in column blocks (a chunk of a block stays in L2), then a Rows x (Vectors * lanes) tile of C
// held in registers while an A micro-panel (in L1) meets each B panel of the block. B is the pre-packed
// weights. Private to the unit that includes it (see
// avx512_vector.h for why).
#pragma once

#include <cstddef>
#include <memory>
#include <new>

#include "kernels.h"
#include "prefetch.h"

namespace torchrnn {
namespace kernels {
namespace {

template <class V>
struct GemmGeometry {
  static constexpr std::size_t kVectors = 2;                                 // vectors of B per tile row
  static constexpr std::size_t kPanelCols = kVectors * V::kLanes;           // the table's gemmPanelCols
  static constexpr std::size_t kTileRows = (V::kRegisters - 4) / kVectors;  // 14 (AVX-512), 6 (AVX2)
  static constexpr std::size_t kDepthChunk = 256;
  // Rows of A packed at a time: 112 KB of floats or doubles, held on the stack.
  static constexpr std::size_t kRowBlock = kTileRows * (sizeof(typename V::Scalar) == 4 ? 8 : 4);
  static constexpr std::size_t kColumnBlock = kPanelCols * 16;  // a K chunk of these B panels stays in L2
  // With K innermost: a row block of C this wide (56 KB of floats per 14 rows) stays in L2 with a K chunk
  // of these panels and the next chunk on its way.
  static constexpr std::size_t kDeepColumnBlock = kPanelCols * 8;
  // A C or B bigger than this is not expected to be in L2: only then is fetching it ahead worth its cost.
  static constexpr std::size_t kFetchAheadBytes = std::size_t(1) << 20;
};

inline std::size_t smaller(std::size_t a, std::size_t b) { return a < b ? a : b; }


// Rows x kc of A as [k][Rows], so a tile reads its broadcasts front to back.
template <class S>
void packRowsOfA(std::size_t rows, std::size_t tileRows, std::size_t kc, const S* a, std::size_t lda, S* packed) {
  for (std::size_t k = 0; k < kc; ++k)
    for (std::size_t r = 0; r < rows; ++r) packed[k * tileRows + r] = a[r * lda + k];
}

// `a` is a micro-panel [kc][Rows] of packed A. With Fetch, the tile also starts its rows of C on their way
// to L2 (their stores, or their loads after the first chunk, then need not wait on memory) and, unless
// `ahead` is null, fetches ahead + k * aheadStep, a slice of B wanted soon, into L2 at step k.
template <class V, std::size_t Rows, bool Fetch = false>
void gemmTile(std::size_t kc, const typename V::Scalar* a, const typename V::Scalar* panel,
              typename V::Scalar* c, std::size_t ldc, std::size_t cols, bool firstChunk,
              const typename V::Scalar* bias, const char* ahead = nullptr, std::size_t aheadStep = 0) {
  using Reg = typename V::Reg;
  constexpr std::size_t kVectors = GemmGeometry<V>::kVectors;
  constexpr std::size_t kPanelCols = GemmGeometry<V>::kPanelCols;
  Reg acc[Rows][kVectors];
  for (std::size_t r = 0; r < Rows; ++r)
    for (std::size_t j = 0; j < kVectors; ++j) acc[r][j] = V::zero();
  auto step = [&](std::size_t k) {
    Reg b[kVectors];
    for (std::size_t j = 0; j < kVectors; ++j) b[j] = V::load(panel + k * kPanelCols + j * V::kLanes);
    for (std::size_t r = 0; r < Rows; ++r) {
      const Reg ar = V::set1(a[k * Rows + r]);
      for (std::size_t j = 0; j < kVectors; ++j) acc[r][j] = V::fma(ar, b[j], acc[r][j]);
    }
  };
  std::size_t k = 0;
  if constexpr (Fetch) {
    for (const std::size_t early = smaller(kc, Rows); k < early; ++k) {
      prefetchToL2(c + k * ldc);
      prefetchToL2(c + k * ldc + cols - 1);
      step(k);
    }
    if (ahead) {
      for (; k < kc; ++k) {
        prefetchToL2(ahead + k * aheadStep);
        step(k);
      }
    }
  }
  for (; k < kc; ++k) step(k);
  for (std::size_t j = 0; j < kVectors; ++j) {
    const std::size_t col = j * V::kLanes;
    if (col >= cols) break;
    const std::size_t lanes = smaller(V::kLanes, cols - col);
    const bool whole = lanes == V::kLanes;
    Reg addend = V::zero();
    if (firstChunk && bias) addend = whole ? V::load(bias + col) : V::loadFirst(bias + col, lanes);
    for (std::size_t r = 0; r < Rows; ++r) {
      typename V::Scalar* cr = c + r * ldc + col;
      Reg sum = acc[r][j];
      if (firstChunk)
        sum = V::add(sum, addend);
      else
        sum = V::add(sum, whole ? V::load(cr) : V::loadFirst(cr, lanes));
      if (whole)
        V::store(cr, sum);
      else
        V::storeFirst(cr, sum, lanes);
    }
  }
}

// A tile of `rows` (< kTileRows) rows: the row count becomes a template argument.
template <class V, std::size_t Rows>
void gemmEdgeTile(std::size_t rows, std::size_t kc, const typename V::Scalar* a, const typename V::Scalar* panel,
                  typename V::Scalar* c, std::size_t ldc, std::size_t cols, bool firstChunk,
                  const typename V::Scalar* bias) {
  if constexpr (Rows > 0) {
    if (rows == Rows) return gemmTile<V, Rows>(kc, a, panel, c, ldc, cols, firstChunk, bias);
    gemmEdgeTile<V, Rows - 1>(rows, kc, a, panel, c, ldc, cols, firstChunk, bias);
  }
}

// One K chunk [k0, k0 + kc) of rows [i0, iEnd) against the B panels of columns [jc, jcEnd): every tile's
// A micro-panel (packed at `packedA`, tile i's at (i - i0) * kc) meets each panel in turn. When `fetch`,
// full tiles also start their rows of C on the way to L2 and, with `next`, each tile pass brings its share
// of the B block computed next (columns from nextColumn, K from nextK) into L2, so that block's first pass
// does not wait on memory.
template <class V>
struct NextBlock {
  bool present = false;
  std::size_t column = 0, k0 = 0;
};

template <class V>
void gemmBlock(const GemmArgs<typename V::Scalar>& g, std::size_t i0, std::size_t iEnd, std::size_t k0,
               std::size_t kc, const typename V::Scalar* packedA, std::size_t jc, std::size_t jcEnd, bool fetch,
               NextBlock<V> next) {
  using S = typename V::Scalar;
  using Geo = GemmGeometry<V>;
  const bool firstChunk = k0 == 0;
  const std::size_t tiles = (iEnd - i0 + Geo::kTileRows - 1) / Geo::kTileRows;
  const bool hasNext = next.present && tiles > 1;
  const std::size_t kcNext = smaller(Geo::kDepthChunk, g.k - next.k0);
  const std::size_t sliceBytes = kcNext * Geo::kPanelCols * sizeof(S) / tiles;
  const std::size_t aheadStep = sliceBytes / kc;
  for (std::size_t i = i0; i < iEnd; i += Geo::kTileRows) {
    const std::size_t rows = smaller(Geo::kTileRows, iEnd - i);
    const S* a = packedA + (i - i0) * kc;
    for (std::size_t j0 = jc; j0 < jcEnd; j0 += Geo::kPanelCols) {
      const S* panel = g.bPacked + j0 * g.k + k0 * Geo::kPanelCols;
      const std::size_t cols = smaller(Geo::kPanelCols, g.n - j0);
      const S* bias = g.bias ? g.bias + j0 : nullptr;
      S* c = g.c + i * g.ldc + j0;
      if (rows == Geo::kTileRows && fetch) {
        const char* ahead = nullptr;
        const std::size_t jNext = next.column + (j0 - jc);
        if (hasNext && aheadStep > 0 && jNext < g.n)
          ahead = reinterpret_cast<const char*>(g.bPacked + jNext * g.k + next.k0 * Geo::kPanelCols) +
                  (i - i0) / Geo::kTileRows * sliceBytes;
        gemmTile<V, Geo::kTileRows, true>(kc, a, panel, c, g.ldc, cols, firstChunk, bias, ahead, aheadStep);
      } else if (rows == Geo::kTileRows) {
        gemmTile<V, Geo::kTileRows>(kc, a, panel, c, g.ldc, cols, firstChunk, bias);
      } else {
        gemmEdgeTile<V, Geo::kTileRows - 1>(rows, kc, a, panel, c, g.ldc, cols, firstChunk, bias);
      }
    }
  }
}

template <class V>
void packRowBlock(const GemmArgs<typename V::Scalar>& g, std::size_t i0, std::size_t iEnd, std::size_t k0,
                  std::size_t kc, typename V::Scalar* packed) {
  using Geo = GemmGeometry<V>;
  for (std::size_t i = i0; i < iEnd; i += Geo::kTileRows) {
    const std::size_t rows = smaller(Geo::kTileRows, iEnd - i);
    packRowsOfA(rows, rows, kc, g.a + i * g.lda + k0, g.lda, packed + (i - i0) * kc);
  }
}

template <class V>
void simdPackedGemm(const GemmArgs<typename V::Scalar>& g) {
  using S = typename V::Scalar;
  using Geo = GemmGeometry<V>;
  if (g.k == 0) {  // no products: C is the bias (or zero)
    for (std::size_t i = 0; i < g.m; ++i)
      for (std::size_t j = 0; j < g.n; ++j) g.c[i * g.ldc + j] = g.bias ? g.bias[j] : S(0);
    return;
  }
  const bool fetchC = g.m * g.n * sizeof(S) > Geo::kFetchAheadBytes;
  const bool fetchB = g.n * g.k * sizeof(S) > Geo::kFetchAheadBytes;
  const bool fetch = fetchC || fetchB;

  // Deep and wide (several K chunks, several column blocks): the K chunks go innermost, so that a block of
  // C (kRowBlock x kDeepColumnBlock) stays in L2 from one chunk to the next instead of travelling to L3 and
  // back for every chunk, which a row block of C as wide as N cannot avoid. A row block's A is then packed
  // for every chunk at once, on the heap; without that memory, the order below. Both orders sum every
  // element of C over the same chunks in the same order: the same bits.
  if (g.k > Geo::kDepthChunk && g.n > Geo::kDeepColumnBlock) {
    std::unique_ptr<S[]> deepA(new (std::nothrow) S[Geo::kRowBlock * g.k]);
    if (deepA) {
      for (std::size_t i0 = 0; i0 < g.m; i0 += Geo::kRowBlock) {
        const std::size_t iEnd = smaller(i0 + Geo::kRowBlock, g.m);
        for (std::size_t k0 = 0; k0 < g.k; k0 += Geo::kDepthChunk)
          packRowBlock<V>(g, i0, iEnd, k0, smaller(Geo::kDepthChunk, g.k - k0), deepA.get() + k0 * Geo::kRowBlock);
        for (std::size_t jc = 0; jc < g.n; jc += Geo::kDeepColumnBlock) {
          const std::size_t jcEnd = smaller(jc + Geo::kDeepColumnBlock, g.n);
          for (std::size_t k0 = 0; k0 < g.k; k0 += Geo::kDepthChunk) {
            const std::size_t kc = smaller(Geo::kDepthChunk, g.k - k0);
            // The block after this one: the next chunk of these columns, else the next columns' first.
            NextBlock<V> next;
            next.present = fetchB;
            if (k0 + kc < g.k) {
              next.column = jc, next.k0 = k0 + kc;
            } else if (jcEnd < g.n) {
              next.column = jcEnd, next.k0 = 0;
            } else if (iEnd < g.m) {
              next.column = 0, next.k0 = 0;
            } else {
              next.present = false;
            }
            gemmBlock<V>(g, i0, iEnd, k0, kc, deepA.get() + k0 * Geo::kRowBlock, jc, jcEnd, fetch, next);
          }
        }
      }
      return;
    }
  }

  // Row blocks outermost: a block's packed A stays in cache across every K chunk. Within a chunk, one
  // tile's A micro-panel stays in L1 while a block of B panels (in L2) goes past it.
  alignas(64) S packedA[Geo::kRowBlock * Geo::kDepthChunk];
  for (std::size_t i0 = 0; i0 < g.m; i0 += Geo::kRowBlock) {
    const std::size_t iEnd = smaller(i0 + Geo::kRowBlock, g.m);
    for (std::size_t k0 = 0; k0 < g.k; k0 += Geo::kDepthChunk) {
      const std::size_t kc = smaller(Geo::kDepthChunk, g.k - k0);
      packRowBlock<V>(g, i0, iEnd, k0, kc, packedA);
      for (std::size_t jc = 0; jc < g.n; jc += Geo::kColumnBlock) {
        const std::size_t jcEnd = smaller(jc + Geo::kColumnBlock, g.n);
        // The block after this one: the next columns at this chunk, else the next chunk's (or the next
        // row block's) first columns.
        NextBlock<V> next;
        next.present = fetchB;
        next.column = jcEnd, next.k0 = k0;
        if (next.column >= g.n) {
          next.column = 0;
          if (k0 + kc < g.k)
            next.k0 = k0 + kc;
          else if (iEnd < g.m)
            next.k0 = 0;
          else
            next.present = false;
        }
        gemmBlock<V>(g, i0, iEnd, k0, kc, packedA, jc, jcEnd, fetch, next);
      }
    }
  }
}

}  // namespace
}  // namespace kernels
}  // namespace torchrnn
