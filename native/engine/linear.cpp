#include "linear.h"

#include <algorithm>
#include <string>
#include <type_traits>

#include "../kernels/packing.h"
#include "checked_math.h"
#include "errors.h"

namespace torchrnn {
namespace engine {

namespace {

void checkLength(std::size_t actual, std::size_t expected, const char* what) {
  if (actual != expected)
    throw SizeError(std::string(what) + " must hold " + std::to_string(expected) + " values, got " +
                    std::to_string(actual));
}

}  // namespace

template <class T>
PackedLinear<T>::PackedLinear(std::size_t inFeatures, std::size_t outFeatures, Span<T> weight, const Span<T>* bias)
    : PackedLinear(inFeatures, outFeatures, WeightSource<T>{kernels::WeightFormat::Float32, weight.data, weight.size}, bias) {}

template <class T>
PackedLinear<T>::PackedLinear(std::size_t inFeatures, std::size_t outFeatures, const WeightSource<T>& weight,
                              const Span<T>* bias)
    : kernels_(&kernels::selectKernels<T>()), in_(inFeatures), out_(outFeatures) {
  if (weight.format != kernels::WeightFormat::Float32) {
    if constexpr (std::is_same_v<T, float>)
      kernels_ = &kernels::reducedKernels(weight.format);
    else
      throw ArgumentError("reduced-precision Linear weights need a float32 layer");
  }
  checkLength(weight.size, checkedMul(outFeatures, inFeatures, "Linear weight size"), "Linear weight");
  if (weight.format == kernels::WeightFormat::Int8) checkLength(weight.scaleCount, outFeatures, "Linear weight scales");
  if (bias) {
    checkLength(bias->size, outFeatures, "Linear bias");
    bias_ = AlignedArray<T>(outFeatures);
    std::copy(bias->data, bias->data + outFeatures, bias_.data());
  }
  // The packed size rounds out up to whole panels; the product is checked before anything is allocated.
  const std::size_t panelCols = kernels_->gemmPanelCols;
  const std::size_t roundedOut = checkedMul((outFeatures + panelCols - 1) / panelCols, panelCols, "Linear weight panels");
  checkedMul(roundedOut, inFeatures, "Linear weight panels");
  panels_ = PackedMatrix<T>::gemm(weight, outFeatures, inFeatures, panelCols);
}

template <class T>
std::size_t PackedLinear<T>::outputSize(std::size_t rows) const {
  return checkedMul(rows, out_, "Linear output size");
}

template <class T>
void PackedLinear<T>::forward(Span<T> input, std::size_t rows, T* output, std::size_t outputLength) const {
  checkLength(input.size, checkedMul(rows, in_, "Linear input size"), "Linear input");
  checkLength(outputLength, outputSize(rows), "Linear output");
  if (rows == 0 || out_ == 0) return;
  if (in_ == 0) {
    // An empty sum: the kernel is never asked for k = 0; the result is the bias alone.
    for (std::size_t r = 0; r < rows; ++r) {
      T* row = output + r * out_;
      if (bias_.size() > 0)
        std::copy(bias_.data(), bias_.data() + out_, row);
      else
        std::fill(row, row + out_, T(0));
    }
    return;
  }
  // On the calling thread: a head over a recurrent layer's output is small next to the recurrence, and
  // the thread pool stays with the recurrent forward that leases it.
  kernels::GemmArgs<T> g;
  g.m = rows;
  g.n = out_;
  g.k = in_;
  g.a = input.data;
  g.lda = in_;
  panels_.bind(g, 0);
  g.bias = bias_.size() > 0 ? bias_.data() : nullptr;
  g.c = output;
  g.ldc = out_;
  kernels_->packedGemm(g);
}

template class PackedLinear<float>;
template class PackedLinear<double>;

}  // namespace engine
}  // namespace torchrnn
