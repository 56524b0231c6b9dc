// The packed GEMM of the SIMD kernel families, C = A·Bᵀ (+ bias), on any register type V. BLIS's loops
// around one register-blocked micro-kernel, with BLIS's operands swapped (B, the weights, is packed once
// ahead, so B takes the place of BLIS's L2-resident block and a few rows of A that of its L1 micro-panel):
// rows of A in blocks (224 on AVX-512, in L2 or L3) copied into tile-shaped micro-panels (the rows no
// longer sit a power of two apart in the same L1 sets; for floats on AVX-512 and AVX2 the copy is a
// register transpose, else it costs up to 8% of a 256-wide product), K in chunks of 2 KB of a row (512
// floats: a 14-row micro-panel is 28 KB of L1's 48), B panels in column blocks of 512 KB per chunk (half
// of L2), then a Rows x (Vectors * lanes) tile of C held in registers while an A micro-panel (in L1) meets
// each B panel of the block (streamed from L2): 2 vector loads and Rows broadcasts per 2 * Rows FMAs. C is
// read and written once per K chunk; a C of 8 MiB or more with K in one chunk (a long sequence's input
// projection) is written by non-temporal stores, whole aligned lines around the caches, fenced before the
// call returns. B is the pre-packed weights. A small product (A within 32 KB) skips the packing of A and
// its blocking: its tiles read A's rows as they are. Private to the unit that includes it (see
// avx512_vector.h for why).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "kernels.h"
#include "prefetch.h"

namespace torchrnn {
namespace kernels {
namespace {

template <class V>
struct GemmGeometry {
  using S = typename V::Scalar;
  static constexpr std::size_t kVectors = 2;                                 // vectors of B per tile row
  static constexpr std::size_t kPanelCols = kVectors * V::kLanes;           // the table's gemmPanelCols
  static constexpr std::size_t kTileRows = (V::kRegisters - 4) / kVectors;  // 14 (AVX-512), 6 (AVX2)
  // K per chunk: a tile's A micro-panel (kTileRows x kDepthChunk, 28 KB of floats on AVX-512) stays in
  // L1 while B panels stream past it from L2.
  static constexpr std::size_t kDepthChunk = 2048 / sizeof(S);
  // Rows of A packed at a time (on the heap, per thread): their K chunk stays in L2 or L3 while every
  // column block of B goes past it.
  static constexpr std::size_t kRowBlock = kTileRows * 16;
  // Bytes of B panels one K chunk of a column block takes: they stay in L2 (half of it) while the tiles
  // of a row block go past them.
  static constexpr std::size_t kColumnBlockBytes = std::size_t(512) << 10;
  // Columns of such a block for a chunk of depth kc: whole panels, at least one.
  static std::size_t columnBlock(std::size_t kc) {
    const std::size_t panels = kColumnBlockBytes / (kc * kPanelCols * sizeof(S));
    return (panels > 0 ? panels : 1) * kPanelCols;
  }
  // With K innermost: a row block of C this wide stays in L2 with a K chunk of these panels and the next
  // chunk on its way.
  static constexpr std::size_t kDeepColumnBlock = kPanelCols * 8;
  // A C or B bigger than this is not expected to be in L2: only then is fetching it ahead worth its cost.
  static constexpr std::size_t kFetchAheadBytes = std::size_t(1) << 20;
  // An A at most this big is read as it is, unpacked (smallGemm): it stays in L1 (measured no slower up
  // to 120 KB, 8-13% faster at seed-lstm's 23 KB and 7 KB).
  static constexpr std::size_t kSmallABytes = std::size_t(32) << 10;
  // A C at least this big (per call: a thread's rows) is far past L2 and this core's share of L3: its
  // lines are written around the caches (see simdPackedGemm).
  static constexpr std::size_t kStreamOutputBytes = std::size_t(8) << 20;
};

inline std::size_t smaller(std::size_t a, std::size_t b) { return a < b ? a : b; }


// Rows x kc of A as [k][Rows], so a tile reads its broadcasts front to back.
template <class S>
void packRowsOfA(std::size_t rows, std::size_t tileRows, std::size_t kc, const S* a, std::size_t lda, S* packed) {
  for (std::size_t k = 0; k < kc; ++k)
    for (std::size_t r = 0; r < rows; ++r) packed[k * tileRows + r] = a[r * lda + k];
}

#if defined(__AVX512F__)
// Shuffles for the transpose below, in their all-lanes masked forms: GCC 12 warns of the unmasked ones'
// undefined pass-through operand.
inline __m512 interleaveLow(__m512 x, __m512 y) { return _mm512_maskz_unpacklo_ps(0xffff, x, y); }
inline __m512 interleaveHigh(__m512 x, __m512 y) { return _mm512_maskz_unpackhi_ps(0xffff, x, y); }
inline __m512 interleavePairsLow(__m512 x, __m512 y) {
  return _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(0xff, _mm512_castps_pd(x), _mm512_castps_pd(y)));
}
inline __m512 interleavePairsHigh(__m512 x, __m512 y) {
  return _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(0xff, _mm512_castps_pd(x), _mm512_castps_pd(y)));
}
// 128-bit lanes 0 and 2 (Odd: 1 and 3) of x, then the same of y.
template <bool Odd>
__m512 evenOrOddLanes(__m512 x, __m512 y) {
  return _mm512_maskz_shuffle_f32x4(0xffff, x, y, Odd ? _MM_SHUFFLE(3, 1, 3, 1) : _MM_SHUFFLE(2, 0, 2, 0));
}

// packRowsOfA for 14 rows of floats, 16 k at a time transposed in registers (the element loop costs as much
// as 8% of a 256- or 512-wide product): 14 row loads, 64 shuffles and 16 stores per 224 floats.
inline void packFourteenRowsOfA(std::size_t kc, const float* a, std::size_t lda, float* packed) {
  std::size_t k = 0;
  for (; k + 16 <= kc; k += 16) {
    __m512 r[16];
    for (std::size_t i = 0; i < 16; ++i) r[i] = i < 14 ? _mm512_loadu_ps(a + i * lda + k) : _mm512_setzero_ps();
    // Pairs, then quads of rows interleaved within each 128-bit lane: t[4g + m] holds, in lane j, column
    // 4j + m of rows 4g .. 4g + 3.
    __m512 t[16];
    for (std::size_t g = 0; g < 4; ++g) {
      const __m512 lo01 = interleaveLow(r[4 * g], r[4 * g + 1]), hi01 = interleaveHigh(r[4 * g], r[4 * g + 1]);
      const __m512 lo23 = interleaveLow(r[4 * g + 2], r[4 * g + 3]), hi23 = interleaveHigh(r[4 * g + 2], r[4 * g + 3]);
      t[4 * g] = interleavePairsLow(lo01, lo23);
      t[4 * g + 1] = interleavePairsHigh(lo01, lo23);
      t[4 * g + 2] = interleavePairsLow(hi01, hi23);
      t[4 * g + 3] = interleavePairsHigh(hi01, hi23);
    }
    // Then a 4 x 4 transpose of 128-bit lanes across the quads: column 4j + m gathers lane j of each.
    float* out = packed + k * 14;
    const __mmask16 first14 = 0x3fff;
    for (std::size_t m = 0; m < 4; ++m) {
      const __m512 even01 = evenOrOddLanes<false>(t[m], t[4 + m]), odd01 = evenOrOddLanes<true>(t[m], t[4 + m]);
      const __m512 even23 = evenOrOddLanes<false>(t[8 + m], t[12 + m]);
      const __m512 odd23 = evenOrOddLanes<true>(t[8 + m], t[12 + m]);
      _mm512_mask_storeu_ps(out + m * 14, first14, evenOrOddLanes<false>(even01, even23));
      _mm512_mask_storeu_ps(out + (4 + m) * 14, first14, evenOrOddLanes<false>(odd01, odd23));
      _mm512_mask_storeu_ps(out + (8 + m) * 14, first14, evenOrOddLanes<true>(even01, even23));
      _mm512_mask_storeu_ps(out + (12 + m) * 14, first14, evenOrOddLanes<true>(odd01, odd23));
    }
  }
  if (k < kc) packRowsOfA<float>(14, 14, kc - k, a + k, lda, packed + k * 14);
}
#endif

#if defined(__AVX2__)
// packRowsOfA for the AVX2 tile's 6 rows of floats, 8 k at a time (rows 6 and 7 of the 8 x 8 transpose are zero). Each
// transposed column is stored whole, its two spare lanes overwritten by the next column; the last one
// stores 6 lanes only.
inline void packSixRowsOfA(std::size_t kc, const float* a, std::size_t lda, float* packed) {
  std::size_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    __m256 r[8];
    for (std::size_t i = 0; i < 8; ++i) r[i] = i < 6 ? _mm256_loadu_ps(a + i * lda + k) : _mm256_setzero_ps();
    // u[4h + m] holds, in 128-bit lane j, column 4j + m of rows 4h .. 4h + 3.
    __m256 u[8];
    for (std::size_t h = 0; h < 2; ++h) {
      const __m256 lo01 = _mm256_unpacklo_ps(r[4 * h], r[4 * h + 1]), hi01 = _mm256_unpackhi_ps(r[4 * h], r[4 * h + 1]);
      const __m256 lo23 = _mm256_unpacklo_ps(r[4 * h + 2], r[4 * h + 3]);
      const __m256 hi23 = _mm256_unpackhi_ps(r[4 * h + 2], r[4 * h + 3]);
      u[4 * h] = _mm256_shuffle_ps(lo01, lo23, 0x44);
      u[4 * h + 1] = _mm256_shuffle_ps(lo01, lo23, 0xEE);
      u[4 * h + 2] = _mm256_shuffle_ps(hi01, hi23, 0x44);
      u[4 * h + 3] = _mm256_shuffle_ps(hi01, hi23, 0xEE);
    }
    __m256 col[8];
    for (std::size_t m = 0; m < 4; ++m) {
      col[m] = _mm256_permute2f128_ps(u[m], u[4 + m], 0x20);
      col[4 + m] = _mm256_permute2f128_ps(u[m], u[4 + m], 0x31);
    }
    float* out = packed + k * 6;
    for (std::size_t c = 0; c < 7; ++c) _mm256_storeu_ps(out + c * 6, col[c]);
    _mm256_maskstore_ps(out + 42, _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0), col[7]);
  }
  if (k < kc) packRowsOfA<float>(6, 6, kc - k, a + k, lda, packed + k * 6);
}
#endif

// `a` is a micro-panel [kc][Rows] of packed A, or with RowsOfA A's own rows, `lda` apart. With Fetch, the
// tile also starts its rows of C on their way to L2 (their stores, or their loads after the first chunk,
// then need not wait on memory) and, unless `ahead` is null, fetches ahead + k * aheadStep, a slice of B
// wanted soon, into L2 at step k. With Stream (whole panels of aligned rows only), its rows of C go to
// memory around the caches instead, so they are not fetched.
template <class V, std::size_t Rows, bool Fetch = false, bool Stream = false, bool RowsOfA = false>
void gemmTile(std::size_t kc, const typename V::Scalar* a, const typename V::Scalar* panel,
              typename V::Scalar* c, std::size_t ldc, std::size_t cols, bool firstChunk,
              const typename V::Scalar* bias, const char* ahead = nullptr, std::size_t aheadStep = 0,
              std::size_t lda = 0) {
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
      const Reg ar = V::set1(RowsOfA ? a[r * lda + k] : a[k * Rows + r]);
      for (std::size_t j = 0; j < kVectors; ++j) acc[r][j] = V::fma(ar, b[j], acc[r][j]);
    }
  };
  std::size_t k = 0;
  if constexpr (Fetch && !Stream) {
    for (const std::size_t early = smaller(kc, Rows); k < early; ++k) {
      prefetchToL2(c + k * ldc);
      prefetchToL2(c + k * ldc + cols - 1);
      step(k);
    }
  }
  if constexpr (Fetch) {
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
      if (Stream)
        V::stream(cr, sum);
      else if (whole)
        V::store(cr, sum);
      else
        V::storeFirst(cr, sum, lanes);
    }
  }
}

// A tile of `rows` (< kTileRows) rows: the row count becomes a template argument.
template <class V, std::size_t Rows, bool RowsOfA = false>
void gemmEdgeTile(std::size_t rows, std::size_t kc, const typename V::Scalar* a, const typename V::Scalar* panel,
                  typename V::Scalar* c, std::size_t ldc, std::size_t cols, bool firstChunk,
                  const typename V::Scalar* bias, std::size_t lda = 0) {
  if constexpr (Rows > 0) {
    if (rows == Rows)
      return gemmTile<V, Rows, false, false, RowsOfA>(kc, a, panel, c, ldc, cols, firstChunk, bias, nullptr, 0, lda);
    gemmEdgeTile<V, Rows - 1, RowsOfA>(rows, kc, a, panel, c, ldc, cols, firstChunk, bias, lda);
  }
}

// A product small enough to stay in cache as it is (A's rows within kSmallABytes, K one chunk, B and C under
// kFetchAheadBytes: a small model's input projection, seed-lstm's 60 x 100 and 60 x 30): its tiles
// broadcast A's elements straight from A's rows. Packing A would cost more than it saves here (seed-lstm's
// two projections: 7.6 and 3.1 us packed, 7.0 and 2.8 us so). Every tile runs over the whole K in the
// same order as a packed tile: the same bits.
template <class V>
void smallGemm(const GemmArgs<typename V::Scalar>& g) {
  using S = typename V::Scalar;
  using Geo = GemmGeometry<V>;
  for (std::size_t i = 0; i < g.m; i += Geo::kTileRows) {
    const std::size_t rows = smaller(Geo::kTileRows, g.m - i);
    const S* a = g.a + i * g.lda;
    for (std::size_t j0 = 0; j0 < g.n; j0 += Geo::kPanelCols) {
      const S* panel = g.bPacked + j0 * g.k;
      const std::size_t cols = smaller(Geo::kPanelCols, g.n - j0);
      const S* bias = g.bias ? g.bias + j0 : nullptr;
      S* c = g.c + i * g.ldc + j0;
      if (rows == Geo::kTileRows)
        gemmTile<V, Geo::kTileRows, false, false, true>(g.k, a, panel, c, g.ldc, cols, true, bias, nullptr, 0, g.lda);
      else
        gemmEdgeTile<V, Geo::kTileRows - 1, true>(rows, g.k, a, panel, c, g.ldc, cols, true, bias, g.lda);
    }
  }
}

// One K chunk [k0, k0 + kc) of rows [i0, iEnd) against the B panels of columns [jc, jcEnd): every tile's
// A micro-panel (packed at `packedA`, tile i's at (i - i0) * kc) meets each panel in turn. When `fetch`,
// full tiles also start their rows of C on the way to L2 and, with `next`, each tile pass brings its share
// of the B block computed next (columns from nextColumn, K from nextK) into L2, so that block's first pass
// does not wait on memory. With `stream`, whole panels of full tiles are stored around the caches.
template <class V>
struct NextBlock {
  bool present = false;
  std::size_t column = 0, k0 = 0;
};

template <class V>
void gemmBlock(const GemmArgs<typename V::Scalar>& g, std::size_t i0, std::size_t iEnd, std::size_t k0,
               std::size_t kc, const typename V::Scalar* packedA, std::size_t jc, std::size_t jcEnd, bool fetch,
               NextBlock<V> next, bool stream) {
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
      const bool streamTile = stream && cols == Geo::kPanelCols;
      if (rows == Geo::kTileRows && fetch) {
        const char* ahead = nullptr;
        const std::size_t jNext = next.column + (j0 - jc);
        if (hasNext && aheadStep > 0 && jNext < g.n)
          ahead = reinterpret_cast<const char*>(g.bPacked + jNext * g.k + next.k0 * Geo::kPanelCols) +
                  (i - i0) / Geo::kTileRows * sliceBytes;
        if (streamTile)
          gemmTile<V, Geo::kTileRows, true, true>(kc, a, panel, c, g.ldc, cols, firstChunk, bias, ahead, aheadStep);
        else
          gemmTile<V, Geo::kTileRows, true>(kc, a, panel, c, g.ldc, cols, firstChunk, bias, ahead, aheadStep);
      } else if (rows == Geo::kTileRows && streamTile) {
        gemmTile<V, Geo::kTileRows, false, true>(kc, a, panel, c, g.ldc, cols, firstChunk, bias);
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
#if defined(__AVX512F__)
    if constexpr (sizeof(typename V::Scalar) == 4 && V::kLanes == 16 && Geo::kTileRows == 14) {
      if (rows == 14) {
        packFourteenRowsOfA(kc, g.a + i * g.lda + k0, g.lda, packed + (i - i0) * kc);
        continue;
      }
    }
#endif
#if defined(__AVX2__)
    if constexpr (sizeof(typename V::Scalar) == 4 && V::kLanes == 8 && Geo::kTileRows == 6) {
      if (1 && rows == 6) {
        packSixRowsOfA(kc, g.a + i * g.lda + k0, g.lda, packed + (i - i0) * kc);
        continue;
      }
    }
#endif
    packRowsOfA(rows, rows, kc, g.a + i * g.lda + k0, g.lda, packed + (i - i0) * kc);
  }
}

// `count` elements aligned to a cache line, kept for this thread's later calls (null if memory runs out):
// a row block's packed A is as big as L2's share, too big for a thread's stack.
template <class S>
S* rowBlockBuffer(std::size_t count) {
  static thread_local std::unique_ptr<S[]> buffer;
  static thread_local std::size_t capacity = 0;
  constexpr std::size_t kAlign = 64 / sizeof(S);
  if (capacity < count) {
    buffer.reset(new (std::nothrow) S[count + kAlign]);
    capacity = buffer ? count : 0;
    if (!buffer) return nullptr;
  }
  S* p = buffer.get();
  while (reinterpret_cast<std::uintptr_t>(p) % 64 != 0) ++p;
  return p;
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
  if (!fetch && g.k <= Geo::kDepthChunk && g.m * g.lda * sizeof(S) <= Geo::kSmallABytes) return smallGemm<V>(g);
  // A C far larger than the caches (a long sequence's input projection, read later by the recurrence)
  // would be read in by every store that misses before being written over: as much traffic again, and the
  // products wait on it. Its whole lines go straight to memory instead. Only when K is one chunk: C is
  // then written once, never read (a deeper C is read back chunk after chunk, and streaming its last chunk
  // measured 3% slower). Only where every whole vector of a panel is aligned: C's start and row stride in
  // whole cache lines.
  const bool streamC = g.k <= Geo::kDepthChunk && g.m * g.n * sizeof(S) >= Geo::kStreamOutputBytes &&
                       reinterpret_cast<std::uintptr_t>(g.c) % 64 == 0 && g.ldc * sizeof(S) % 64 == 0 &&
                       Geo::kPanelCols * sizeof(S) % 64 == 0;

  // Deep and wide (several K chunks, several column blocks): the K chunks go innermost, so that a block of
  // C (kRowBlock x kDeepColumnBlock) stays in L2 from one chunk to the next instead of travelling to L3 and
  // back for every chunk, which a row block of C as wide as N cannot avoid. A row block's A is then packed
  // for every chunk at once, on the heap; without that memory, the order below. Both orders sum every
  // element of C over the same chunks in the same order: the same bits.
  if (g.k > Geo::kDepthChunk && g.n > Geo::kDeepColumnBlock) {
    std::unique_ptr<S[]> deepBuffer(new (std::nothrow) S[Geo::kRowBlock * g.k]);
    if (S* deepA = deepBuffer.get()) {
      for (std::size_t i0 = 0; i0 < g.m; i0 += Geo::kRowBlock) {
        const std::size_t iEnd = smaller(i0 + Geo::kRowBlock, g.m);
        for (std::size_t k0 = 0; k0 < g.k; k0 += Geo::kDepthChunk)
          packRowBlock<V>(g, i0, iEnd, k0, smaller(Geo::kDepthChunk, g.k - k0), deepA + k0 * Geo::kRowBlock);
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
            // Never streamed: C comes back for every chunk.
            gemmBlock<V>(g, i0, iEnd, k0, kc, deepA + k0 * Geo::kRowBlock, jc, jcEnd, fetch, next, false);
          }
        }
      }
      return;
    }
  }

  // Row blocks outermost: a block's packed A stays in cache across every K chunk. Within a chunk, one
  // tile's A micro-panel stays in L1 while a block of B panels (in L2) goes past it.
  // The row block's packed A, in a buffer this thread keeps; without that memory, one tile at a time.
  alignas(64) S oneTile[Geo::kTileRows * Geo::kDepthChunk];
  S* packedA = oneTile;
  std::size_t rowBlock = Geo::kTileRows;
  if (g.m > Geo::kTileRows) {
    if (S* buffer = rowBlockBuffer<S>(Geo::kRowBlock * Geo::kDepthChunk)) packedA = buffer, rowBlock = Geo::kRowBlock;
  }
  for (std::size_t i0 = 0; i0 < g.m; i0 += rowBlock) {
    const std::size_t iEnd = smaller(i0 + rowBlock, g.m);
    for (std::size_t k0 = 0; k0 < g.k; k0 += Geo::kDepthChunk) {
      const std::size_t kc = smaller(Geo::kDepthChunk, g.k - k0);
      packRowBlock<V>(g, i0, iEnd, k0, kc, packedA);
      const std::size_t columns = Geo::columnBlock(kc);
      for (std::size_t jc = 0; jc < g.n; jc += columns) {
        const std::size_t jcEnd = smaller(jc + columns, g.n);
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
        gemmBlock<V>(g, i0, iEnd, k0, kc, packedA, jc, jcEnd, fetch, next, streamC);
      }
    }
  }
  if (streamC) V::streamFence();  // the streamed lines visible before any thread is told C is done
}

}  // namespace
}  // namespace kernels
}  // namespace torchrnn
