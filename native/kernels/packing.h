// Packing: the one-time rewrite of a weight matrix into the panels the kernels stream through.
// A panel holds every k for a few output columns, so a micro-kernel reads it front to back.
#pragma once

#include <cstddef>

namespace torchrnn {
namespace kernels {

// Elements packGemmPanels writes for an [n, k] matrix: n rounded up to whole panels, times k.
std::size_t gemmPanelsSize(std::size_t n, std::size_t k, std::size_t panelCols);

// B is [n, k] row-major (ldb = k). Panel p holds rows [p * panelCols, +panelCols) of B as
// [k][panelCols], zero-padded past n.
template <class T>
void packGemmPanels(const T* b, std::size_t n, std::size_t k, std::size_t panelCols, T* packed);

// Elements packRecurrentPanels writes for W_hh with `gates` blocks of `units` rows and k columns.
std::size_t recurrentPanelsSize(std::size_t gates, std::size_t units, std::size_t k, std::size_t panelUnits);

// W is [gates * units, k] row-major in PyTorch's gate-major order. Panel p holds units
// [p * panelUnits, +panelUnits) of every gate side by side, as [k][gate][panelUnits], zero-padded past
// `units`, so one register tile yields all gates of the same hidden units.
template <class T>
void packRecurrentPanels(const T* w, std::size_t gates, std::size_t units, std::size_t k, std::size_t panelUnits,
                         T* packed);

}  // namespace kernels
}  // namespace torchrnn
