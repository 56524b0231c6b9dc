#include "workspace.h"

#include <algorithm>
#include <utility>

#include "checked_math.h"
#include "scratch_pool.h"

namespace torchrnn {
namespace engine {

namespace {

// Rounds a region up to whole cache lines so that every region starts aligned.
template <class T>
std::size_t alignedElements(std::size_t elements) {
  constexpr std::size_t perLine = AlignedArray<T>::kAlignment / sizeof(T);
  return checkedAdd(elements, perLine - 1, "workspace size") / perLine * perLine;
}

}  // namespace

template <class T>
Workspace<T>::Workspace(const ModelSpec& spec, const SequenceLayout& layout) {
  const std::size_t D = directionCount(spec);
  const std::size_t N = layout.batch();
  const std::size_t H = spec.hiddenSize;
  const std::size_t Hout = stateSize(spec);
  const bool lstm = spec.mode == Mode::Lstm;

  const std::size_t gatesSize = alignedElements<T>(checkedMul(layout.rows(), D, gateRows(spec), "input projection"));
  const std::size_t layerSize = alignedElements<T>(checkedMul(layout.rows(), D, Hout, "layer output"));
  const std::size_t layerCount = std::min<std::size_t>(2, spec.numLayers - 1);  // the last layer writes the output
  const std::size_t hSize = alignedElements<T>(checkedMul(N, Hout, "hidden state"));
  const std::size_t cSize = lstm ? alignedElements<T>(checkedMul(N, H, "cell state")) : 0;
  const std::size_t cellOutSize = spec.projSize > 0 ? cSize : 0;
  const std::size_t perDirection =
      checkedAdd(checkedMul(2, checkedAdd(hSize, cSize, "state"), "state"), cellOutSize, "state");

  std::size_t total = gatesSize;
  total = checkedAdd(total, checkedMul(layerCount, layerSize, "layer buffers"), "workspace size");
  total = checkedAdd(total, checkedMul(D, perDirection, "state"), "workspace size");
  storage_ = takeScratch(checkedMul(total, sizeof(T), "workspace size"));

  T* next = reinterpret_cast<T*>(storage_.data());
  auto take = [&next](std::size_t elements) {
    T* region = elements ? next : nullptr;
    next += elements;
    return region;
  };
  gates_ = take(gatesSize);
  for (std::size_t i = 0; i < layerCount; ++i) layerBuffers_[i] = take(layerSize);
  for (std::size_t d = 0; d < D; ++d) {
    states_[d].hPrev = take(hSize);
    states_[d].hNext = take(hSize);
    states_[d].cPrev = take(cSize);
    states_[d].cNext = take(cSize);
    states_[d].cellOut = take(cellOutSize);
  }
}

template <class T>
Workspace<T>::~Workspace() {
  returnScratch(std::move(storage_));
}

template class Workspace<float>;
template class Workspace<double>;

}  // namespace engine
}  // namespace torchrnn
