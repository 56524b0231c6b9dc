// The portable kernel family: plain C++ over 16-byte vectors (portable_vector.h), so it runs at the
// baseline SIMD width of any target. Register tiles are small arrays of compile-time size.
#include <algorithm>
#include <cstddef>

#include "activations.h"
#include "kernels.h"
#include "portable_vector.h"

namespace torchrnn {
namespace kernels {
namespace {

// Packed GEMM geometry: a kGemmTileRows x (2 vectors) register tile; K split into cache-sized chunks so a
// panel slice stays in L1 while a block of A rows (in L2) sweeps past it.
template <class T>
constexpr std::size_t kGemmPanelCols = 2 * PortableVector<T>::kLanes;
constexpr std::size_t kGemmTileRows = 4;
constexpr std::size_t kGemmDepthBlock = 256;
constexpr std::size_t kGemmRowBlock = 64;

// Recurrent geometry: one vector of hidden units per gate in a W_hh panel.
template <class T>
constexpr std::size_t kRecurrentPanelUnits = PortableVector<T>::kLanes;

// acc = A[Rows, kc] · panel[kc, panelCols]; then C = acc (+ bias) on the first K chunk, C += acc after.
template <class T, std::size_t Rows>
void gemmTile(std::size_t kc, const T* a, std::size_t lda, const T* panel, T* c, std::size_t ldc,
              std::size_t cols, bool firstChunk, const T* bias) {
  using V = PortableVector<T>;
  constexpr std::size_t kVectors = kGemmPanelCols<T> / V::kLanes;
  V acc[Rows][kVectors];
  for (std::size_t r = 0; r < Rows; ++r)
    for (std::size_t j = 0; j < kVectors; ++j) acc[r][j] = V::zero();
  for (std::size_t k = 0; k < kc; ++k) {
    V b[kVectors];
    for (std::size_t j = 0; j < kVectors; ++j) b[j] = V::load(panel + k * kGemmPanelCols<T> + j * V::kLanes);
    for (std::size_t r = 0; r < Rows; ++r) {
      const T ar = a[r * lda + k];
      for (std::size_t j = 0; j < kVectors; ++j) acc[r][j].addScaled(ar, b[j]);
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    T sums[kGemmPanelCols<T>];
    for (std::size_t j = 0; j < kVectors; ++j) acc[r][j].store(sums + j * V::kLanes);
    T* cr = c + r * ldc;
    if (firstChunk) {
      for (std::size_t j = 0; j < cols; ++j) cr[j] = bias ? sums[j] + bias[j] : sums[j];
    } else {
      for (std::size_t j = 0; j < cols; ++j) cr[j] += sums[j];
    }
  }
}

template <class T>
void packedGemm(const GemmArgs<T>& g) {
  if (g.k == 0) {  // no products: C is the bias (or zero)
    for (std::size_t i = 0; i < g.m; ++i)
      for (std::size_t j = 0; j < g.n; ++j) g.c[i * g.ldc + j] = g.bias ? g.bias[j] : T(0);
    return;
  }
  for (std::size_t k0 = 0; k0 < g.k; k0 += kGemmDepthBlock) {
    const std::size_t kc = std::min(kGemmDepthBlock, g.k - k0);
    const bool firstChunk = k0 == 0;
    for (std::size_t i0 = 0; i0 < g.m; i0 += kGemmRowBlock) {
      const std::size_t iEnd = std::min(i0 + kGemmRowBlock, g.m);
      for (std::size_t j0 = 0; j0 < g.n; j0 += kGemmPanelCols<T>) {
        const T* panel = g.bPacked + j0 * g.k + k0 * kGemmPanelCols<T>;
        const std::size_t cols = std::min(kGemmPanelCols<T>, g.n - j0);
        const T* bias = g.bias ? g.bias + j0 : nullptr;
        std::size_t i = i0;
        for (; i + kGemmTileRows <= iEnd; i += kGemmTileRows)
          gemmTile<T, kGemmTileRows>(kc, g.a + i * g.lda + k0, g.lda, panel, g.c + i * g.ldc + j0, g.ldc, cols,
                                     firstChunk, bias);
        for (; i < iEnd; ++i)
          gemmTile<T, 1>(kc, g.a + i * g.lda + k0, g.lda, panel, g.c + i * g.ldc + j0, g.ldc, cols, firstChunk,
                         bias);
      }
    }
  }
}

// The fused gate epilogue of each cell: from the tile's h·W_hhᵀ sums for units [unit0, unit0 + count)
// of one row to that row's new state. acc holds gate g of panel unit u at [g * kRecurrentPanelUnits + u].
template <class T, CellKind Kind>
struct CellUpdate;

template <class T>
struct CellUpdate<T, CellKind::RnnTanh> {
  static void apply(const RecurrentStepArgs<T>& s, std::size_t row, std::size_t unit0, std::size_t count,
                    const T* acc) {
    const T* gx = s.gx + row * s.ldgx + unit0;
    T* h = s.hNext + row * s.ldhNext + unit0;
    for (std::size_t u = 0; u < count; ++u) h[u] = tanhActivation(gx[u] + acc[u]);
  }
};

template <class T>
struct CellUpdate<T, CellKind::RnnRelu> {
  static void apply(const RecurrentStepArgs<T>& s, std::size_t row, std::size_t unit0, std::size_t count,
                    const T* acc) {
    const T* gx = s.gx + row * s.ldgx + unit0;
    T* h = s.hNext + row * s.ldhNext + unit0;
    for (std::size_t u = 0; u < count; ++u) h[u] = relu(gx[u] + acc[u]);
  }
};

template <class T>
struct CellUpdate<T, CellKind::Lstm> {
  static void apply(const RecurrentStepArgs<T>& s, std::size_t row, std::size_t unit0, std::size_t count,
                    const T* acc) {
    const std::size_t H = s.hiddenSize;
    constexpr std::size_t U = kRecurrentPanelUnits<T>;
    const T* gx = s.gx + row * s.ldgx + unit0;
    const T* cPrev = s.cPrev + row * s.ldc + unit0;
    T* cNext = s.cNext + row * s.ldc + unit0;
    T* h = s.hNext + row * s.ldhNext + unit0;
    for (std::size_t u = 0; u < count; ++u) {
      const T i = sigmoid(gx[u] + acc[u]);
      const T f = sigmoid(gx[H + u] + acc[U + u]);
      const T g = tanhActivation(gx[2 * H + u] + acc[2 * U + u]);
      const T o = sigmoid(gx[3 * H + u] + acc[3 * U + u]);
      const T c = f * cPrev[u] + i * g;
      cNext[u] = c;
      h[u] = o * tanhActivation(c);
    }
  }
};

template <class T>
struct CellUpdate<T, CellKind::Gru> {
  static void apply(const RecurrentStepArgs<T>& s, std::size_t row, std::size_t unit0, std::size_t count,
                    const T* acc) {
    const std::size_t H = s.hiddenSize;
    constexpr std::size_t U = kRecurrentPanelUnits<T>;
    const T* gx = s.gx + row * s.ldgx + unit0;
    const T* hPrev = s.hPrev + row * s.ldhPrev + unit0;  // GRU has no projection: Hout == H
    const T* bhn = s.bhn + unit0;
    T* h = s.hNext + row * s.ldhNext + unit0;
    for (std::size_t u = 0; u < count; ++u) {
      const T r = sigmoid(gx[u] + acc[u]);
      const T z = sigmoid(gx[H + u] + acc[U + u]);
      const T n = tanhActivation(gx[2 * H + u] + r * (acc[2 * U + u] + bhn[u]));
      h[u] = (T(1) - z) * n + z * hPrev[u];
    }
  }
};

// Rows x (one vector per gate) register tile over the whole inner dimension, then the fused epilogue.
template <class T, CellKind Kind, std::size_t Rows>
void recurrentTile(const RecurrentStepArgs<T>& s, std::size_t row0, const T* panel, std::size_t unit0,
                   std::size_t count) {
  using V = PortableVector<T>;
  constexpr std::size_t kGates = gatesPerUnit(Kind);
  constexpr std::size_t kCols = kGates * V::kLanes;
  V acc[Rows][kGates];
  for (std::size_t r = 0; r < Rows; ++r)
    for (std::size_t g = 0; g < kGates; ++g) acc[r][g] = V::zero();
  for (std::size_t k = 0; k < s.stateSize; ++k) {
    V w[kGates];
    for (std::size_t g = 0; g < kGates; ++g) w[g] = V::load(panel + k * kCols + g * V::kLanes);
    for (std::size_t r = 0; r < Rows; ++r) {
      const T hr = s.hPrev[(row0 + r) * s.ldhPrev + k];
      for (std::size_t g = 0; g < kGates; ++g) acc[r][g].addScaled(hr, w[g]);
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    T sums[kCols];
    for (std::size_t g = 0; g < kGates; ++g) acc[r][g].store(sums + g * V::kLanes);
    CellUpdate<T, Kind>::apply(s, row0 + r, unit0, count, sums);
  }
}

template <class T, CellKind Kind>
void recurrentStep(const RecurrentStepArgs<T>& s, std::size_t unitBegin, std::size_t unitEnd) {
  constexpr std::size_t kGates = gatesPerUnit(Kind);
  // Wide cells (GRU, LSTM) already fill the registers with few rows.
  constexpr std::size_t kRows = kGates == 1 ? 4 : 2;
  unitEnd = std::min(unitEnd, s.hiddenSize);
  if (unitBegin >= unitEnd) return;
  for (std::size_t unit0 = unitBegin; unit0 < unitEnd; unit0 += kRecurrentPanelUnits<T>) {
    const T* panel = s.whhPacked + unit0 * kGates * s.stateSize;
    const std::size_t count = std::min(kRecurrentPanelUnits<T>, unitEnd - unit0);
    std::size_t row = 0;
    for (; row + kRows <= s.rows; row += kRows) recurrentTile<T, Kind, kRows>(s, row, panel, unit0, count);
    for (; row < s.rows; ++row) recurrentTile<T, Kind, 1>(s, row, panel, unit0, count);
  }
  if (s.out) {  // the layer output gets the same values, written while they are still in cache
    for (std::size_t r = 0; r < s.rows; ++r)
      std::copy(s.hNext + r * s.ldhNext + unitBegin, s.hNext + r * s.ldhNext + unitEnd, s.out + r * s.ldout + unitBegin);
  }
}

template <class T>
void sigmoidArray(const T* x, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = sigmoid(x[i]);
}

template <class T>
void tanhArray(const T* x, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = tanhActivation(x[i]);
}

template <class T>
KernelTable<T> makePortableTable() {
  KernelTable<T> table{};
  table.name = "scalar";
  table.gemmPanelCols = kGemmPanelCols<T>;
  table.recurrentPanelUnits = kRecurrentPanelUnits<T>;
  table.packedGemm = &packedGemm<T>;
  table.recurrentStep[static_cast<std::size_t>(CellKind::RnnTanh)] = &recurrentStep<T, CellKind::RnnTanh>;
  table.recurrentStep[static_cast<std::size_t>(CellKind::RnnRelu)] = &recurrentStep<T, CellKind::RnnRelu>;
  table.recurrentStep[static_cast<std::size_t>(CellKind::Lstm)] = &recurrentStep<T, CellKind::Lstm>;
  table.recurrentStep[static_cast<std::size_t>(CellKind::Gru)] = &recurrentStep<T, CellKind::Gru>;
  table.sigmoid = &sigmoidArray<T>;
  table.tanh = &tanhArray<T>;
  return table;
}

}  // namespace

const KernelTable<float>& portableKernelsF32() {
  static const KernelTable<float> table = makePortableTable<float>();
  return table;
}

const KernelTable<double>& portableKernelsF64() {
  static const KernelTable<double> table = makePortableTable<double>();
  return table;
}

}  // namespace kernels
}  // namespace torchrnn
