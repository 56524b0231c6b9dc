// One weight matrix in the kernels' panel layout, stored at the module's own precision or a reduced one
// (bfloat16, float16, int8 with a scale per row). The forward never looks inside: it asks the matrix to
// point a kernel's arguments at the panels (bind), and the table chosen for the format reads them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../kernels/kernels.h"
#include "aligned_array.h"

namespace torchrnn {
namespace engine {

// A row-major matrix as handed to packing: `values` elements of T (Float32 format: the module's own type),
// or of uint16_t (BFloat16, Float16 bits) or int8_t (Int8, with one scale per row in `scales`).
template <class T>
struct WeightSource {
  kernels::WeightFormat format = kernels::WeightFormat::Float32;
  const void* values = nullptr;
  std::size_t size = 0;           // elements
  const float* scales = nullptr;  // Int8 only
  std::size_t scaleCount = 0;
};

template <class T>
class PackedMatrix {
 public:
  PackedMatrix() = default;

  // [n, k] into packGemmPanels' layout. The source's size (and for Int8 its scale count, n) must already
  // have been checked by the caller.
  static PackedMatrix gemm(const WeightSource<T>& source, std::size_t n, std::size_t k, std::size_t panelCols);
  // [gates * units, k] into packRecurrentPanels' layout; Int8 scales follow the columns of the panels.
  static PackedMatrix recurrent(const WeightSource<T>& source, std::size_t gates, std::size_t units, std::size_t k,
                                std::size_t panelUnits);

  kernels::WeightFormat format() const { return format_; }

 private:
  // Reduced panels of `cols` columns into the layout of the kernels in use (kernels::dotDepthGroup()).
  void groupDepth(std::size_t cols);

 public:

  // Points a GEMM at the panels from column `firstColumn` on (a multiple of the panel width).
  void bind(kernels::GemmArgs<T>& g, std::size_t firstColumn) const;
  // Points a recurrent step at the panels.
  void bind(kernels::RecurrentStepArgs<T>& a) const;

 private:
  kernels::WeightFormat format_ = kernels::WeightFormat::Float32;
  std::size_t depth_ = 0;            // k: elements of one packed column
  AlignedArray<T> values_;           // Float32 format
  AlignedArray<unsigned char> reduced_;  // reduced formats: the same panels, bytesPerWeight(format_) each
  AlignedArray<float> scales_;       // Int8: one per packed column, zero past the matrix's rows
  AlignedArray<std::int32_t> sums_;  // Int8 in the dot-product layout: each packed column's sum, as scales_
  std::size_t columns_ = 0;          // packed columns, padding included
};

}  // namespace engine
}  // namespace torchrnn
