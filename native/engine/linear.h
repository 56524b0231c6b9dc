// nn.Linear's weights packed once for the GEMM kernel: y = x·Wᵀ + b over rows of x.
#pragma once

#include <cstddef>

#include "../kernels/kernels.h"
#include "aligned_array.h"
#include "packed_matrix.h"
#include "span.h"

namespace torchrnn {
namespace engine {

template <class T>
class PackedLinear {
 public:
  // weight is [outFeatures, inFeatures] row-major; bias holds outFeatures values, or is null for none.
  // Every length is checked against the sizes: throws SizeError on a mismatch or an overflowing product.
  PackedLinear(std::size_t inFeatures, std::size_t outFeatures, Span<T> weight, const Span<T>* bias);
  // The same with the weight already in a reduced format (kernels::quantizeRows' output, float modules
  // only): its element count, and for Int8 its scale count (outFeatures), are checked as above.
  PackedLinear(std::size_t inFeatures, std::size_t outFeatures, const WeightSource<T>& weight, const Span<T>* bias);

  kernels::WeightFormat format() const { return panels_.format(); }

  std::size_t inFeatures() const { return in_; }
  std::size_t outFeatures() const { return out_; }

  // Elements forward writes for `rows` rows (rows * outFeatures), checked for overflow.
  std::size_t outputSize(std::size_t rows) const;

  // output[rows, out] = input[rows, in]·Wᵀ + b. input must hold exactly rows * inFeatures values and
  // output exactly outputSize(rows): throws SizeError otherwise, before touching either.
  void forward(Span<T> input, std::size_t rows, T* output, std::size_t outputLength) const;

 private:
  const kernels::KernelTable<T>* kernels_;
  std::size_t in_;
  std::size_t out_;
  PackedMatrix<T> panels_;  // packGemmPanels(W, out, in, gemmPanelCols), in the weight's format
  AlignedArray<T> bias_;    // empty without bias
};

}  // namespace engine
}  // namespace torchrnn
