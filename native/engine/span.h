// A read-only view of caller-owned elements, carrying its length so every consumer can check it.
#pragma once

#include <cstddef>

namespace torchrnn {
namespace engine {

template <class T>
struct Span {
  const T* data = nullptr;
  std::size_t size = 0;
};

}  // namespace engine
}  // namespace torchrnn
