// The weights in the engine's layout, built once from PyTorch's flat parameter list and read-only after.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "../kernels/kernels.h"
#include "aligned_array.h"
#include "model_spec.h"
#include "span.h"

namespace torchrnn {
namespace engine {

template <class T>
struct PackedDirection {
  AlignedArray<T> whh;  // gate-interleaved panels (kernels::packRecurrentPanels)
  AlignedArray<T> bhn;  // GRU with bias: b_hn, which stays inside r * (W_hn h + b_hn); else zeros
  AlignedArray<T> whr;  // LSTM projection W_hr as GEMM panels; empty without projection
};

template <class T>
struct PackedLayer {
  std::size_t inputSize = 0;    // In_k
  AlignedArray<T> wih;          // both directions' W_ih stacked, [D * G, In_k], as GEMM panels
  AlignedArray<T> foldedBias;   // [D * G]: b_ih + b_hh, except GRU's n rows, which get b_in only
  PackedDirection<T> directions[2];
};

template <class T>
struct PackedWeights {
  ModelSpec spec;
  const kernels::KernelTable<T>* kernels = nullptr;
  std::vector<PackedLayer<T>> layers;
};

// `parameters` in parameterShapes(spec) order; each length is checked against its shape.
// Throws ArgumentError / SizeError naming the parameter.
template <class T>
std::shared_ptr<const PackedWeights<T>> packWeights(const ModelSpec& spec, const std::vector<Span<T>>& parameters);

}  // namespace engine
}  // namespace torchrnn
