// The scratch memory of one forward call, sized up front and taken as one buffer from the scratch pool
// (reused across calls), so nothing is allocated per layer or per step and concurrent calls never share
// scratch.
#pragma once

#include <cstddef>

#include "aligned_array.h"
#include "model_spec.h"
#include "sequence_layout.h"

namespace torchrnn {
namespace engine {

// One direction's recurrent state, double-buffered: a step reads *Prev while writing *Next.
template <class T>
struct DirectionState {
  T* hPrev = nullptr;   // [batch, Hout]
  T* hNext = nullptr;
  T* cPrev = nullptr;   // LSTM: [batch, H]
  T* cNext = nullptr;
  T* cellOut = nullptr; // LSTM with projection: o * tanh(c) before W_hr, [batch, H]
};

template <class T>
class Workspace {
 public:
  Workspace(const ModelSpec& spec, const SequenceLayout& layout);
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  T* gates() { return gates_; }                         // [rows, D * G]: the input projection
  T* layerBuffer(std::size_t i) { return layerBuffers_[i]; }  // [rows, D * Hout], ping-pong between layers
  DirectionState<T>& state(std::size_t direction) { return states_[direction]; }

 private:
  AlignedArray<unsigned char> storage_;
  T* gates_ = nullptr;
  T* layerBuffers_[2] = {nullptr, nullptr};
  DirectionState<T> states_[2];
};

}  // namespace engine
}  // namespace torchrnn
