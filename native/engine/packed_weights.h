// The weights in the engine's layout, built once from PyTorch's flat parameter list and read-only after.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "../kernels/kernels.h"
#include "aligned_array.h"
#include "model_spec.h"
#include "packed_matrix.h"
#include "span.h"

namespace torchrnn {
namespace engine {

template <class T>
struct PackedDirection {
  PackedMatrix<T> whh;  // gate-interleaved panels (kernels::packRecurrentPanels)
  AlignedArray<T> bhn;  // GRU with bias: b_hn, which stays inside r * (W_hn h + b_hn); else zeros
  PackedMatrix<T> whr;  // LSTM projection W_hr as GEMM panels; empty without projection
};

template <class T>
struct PackedLayer {
  std::size_t inputSize = 0;    // In_k
  PackedMatrix<T> wih;          // both directions' W_ih stacked, [D * G, In_k], as GEMM panels
  AlignedArray<T> foldedBias;   // [D * G]: b_ih + b_hh, except GRU's n rows, which get b_in only
  PackedDirection<T> directions[2];
};

template <class T>
struct PackedWeights {
  ModelSpec spec;
  kernels::WeightFormat format = kernels::WeightFormat::Float32;  // of every weight matrix; biases stay T
  const kernels::KernelTable<T>* kernels = nullptr;                // the table that reads `format`
  std::vector<PackedLayer<T>> layers;
};

// `parameters` in parameterShapes(spec) order; each length is checked against its shape.
// Throws ArgumentError / SizeError naming the parameter.
template <class T>
std::shared_ptr<const PackedWeights<T>> packWeights(const ModelSpec& spec, const std::vector<Span<T>>& parameters);

// A float32 stack whose weight matrices (weight_ih, weight_hh, weight_hr) are already in the reduced
// `format` (kernels::quantizeRows' output: uint16_t bits, or int8_t values with a scale per row) and whose
// biases are float32, every entry in parameterShapes(spec) order with its format set. Throws ArgumentError /
// SizeError naming the parameter whose format, length or scale count does not fit.
std::shared_ptr<const PackedWeights<float>> packReducedWeights(const ModelSpec& spec, kernels::WeightFormat format,
                                                               const std::vector<WeightSource<float>>& parameters);

}  // namespace engine
}  // namespace torchrnn
