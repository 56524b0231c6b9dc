// One forward call through the whole stack: every layer, both directions, every time step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "model_spec.h"
#include "packed_weights.h"
#include "sequence_layout.h"
#include "span.h"

namespace torchrnn {
namespace engine {

// The sizes of a call's results, known before anything runs so that the caller allocates them once.
struct ForwardPlan {
  SequenceLayout layout;
  std::size_t inputElements = 0;   // rows * inputSize
  std::size_t outputElements = 0;  // rows * D * Hout
  std::size_t hiddenElements = 0;  // numLayers * D * batch * Hout (h0 and h_n)
  std::size_t cellElements = 0;    // LSTM: numLayers * D * batch * hiddenSize (c0 and c_n); else 0
};

ForwardPlan planForward(const ModelSpec& spec, SequenceLayout layout);

template <class T>
struct ForwardInputs {
  Span<T> input;
  std::optional<Span<T>> h0;  // absent: zeros
  std::optional<Span<T>> c0;  // LSTM only; absent: zeros
  double dropout = 0;
  std::uint32_t dropoutSeed = 0;
};

template <class T>
struct ForwardOutputs {
  T* output = nullptr;  // plan.outputElements
  T* hN = nullptr;      // plan.hiddenElements
  T* cN = nullptr;      // plan.cellElements (LSTM only)
};

// Throws SizeError / ArgumentError naming the argument whose length or value does not fit the plan.
template <class T>
void checkForwardInputs(const ModelSpec& spec, const ForwardPlan& plan, const ForwardInputs<T>& inputs);

// Checks the inputs, then fills every element of the outputs.
template <class T>
void runForward(const PackedWeights<T>& weights, const ForwardPlan& plan, const ForwardInputs<T>& inputs,
                const ForwardOutputs<T>& outputs);

}  // namespace engine
}  // namespace torchrnn
