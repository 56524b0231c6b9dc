// Fills a KernelTable from the SIMD templates for one register type V. Private to the unit that
// includes it (see avx512_vector.h for why).
#pragma once

#include "kernels.h"
#include "simd_activations.h"
#include "simd_gemm.h"
#include "simd_recurrent.h"

namespace torchrnn {
namespace kernels {
namespace {

template <class V>
KernelTable<typename V::Scalar> makeSimdTable(const char* name) {
  KernelTable<typename V::Scalar> table{};
  table.name = name;
  table.gemmPanelCols = GemmGeometry<V>::kPanelCols;
  table.recurrentPanelUnits = V::kLanes;
  table.packedGemm = &simdPackedGemm<V>;
  table.recurrentStep[static_cast<std::size_t>(CellKind::RnnTanh)] = &simdRecurrentStep<V, CellKind::RnnTanh>;
  table.recurrentStep[static_cast<std::size_t>(CellKind::RnnRelu)] = &simdRecurrentStep<V, CellKind::RnnRelu>;
  table.recurrentStep[static_cast<std::size_t>(CellKind::Lstm)] = &simdRecurrentStep<V, CellKind::Lstm>;
  table.recurrentStep[static_cast<std::size_t>(CellKind::Gru)] = &simdRecurrentStep<V, CellKind::Gru>;
  table.sigmoid = &applyActivation<V, &sigmoidVector<V>>;
  table.tanh = &applyActivation<V, &tanhVector<V>>;
  return table;
}

}  // namespace
}  // namespace kernels
}  // namespace torchrnn
