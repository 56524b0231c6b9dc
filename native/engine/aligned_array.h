// An owned, cache-line aligned array of trivially copyable elements, uninitialised on creation
// (every user overwrites it), so that panels and workspaces start on a 64-byte boundary.
#pragma once

#include <cstddef>
#include <memory>
#include <new>

#include "checked_math.h"

namespace torchrnn {
namespace engine {

template <class T>
class AlignedArray {
 public:
  static constexpr std::size_t kAlignment = 64;

  AlignedArray() = default;
  explicit AlignedArray(std::size_t size) : size_(size) {
    if (size == 0) return;
    const std::size_t bytes = checkedMul(size, sizeof(T), "buffer size in bytes");
    data_.reset(static_cast<T*>(::operator new(bytes, std::align_val_t(kAlignment))));
  }

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  T& operator[](std::size_t i) { return data_.get()[i]; }
  const T& operator[](std::size_t i) const { return data_.get()[i]; }

 private:
  struct Release {
    void operator()(T* p) const { ::operator delete(p, std::align_val_t(kAlignment)); }
  };
  std::unique_ptr<T, Release> data_;
  std::size_t size_ = 0;
};

}  // namespace engine
}  // namespace torchrnn
