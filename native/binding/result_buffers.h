// The result arrays of a forward call: allocated natively (so an impossible size fails with a RangeError
// instead of aborting V8), filled by the engine, and handed to JS without a copy.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>

#include <napi.h>

#include "../engine/forward.h"

namespace torchrnn {
namespace binding {

template <class T>
class NativeBuffer {
 public:
  NativeBuffer() = default;
  explicit NativeBuffer(std::size_t size);  // throws std::bad_alloc

  T* data() { return data_.get(); }
  std::size_t size() const { return size_; }
  // Gives the memory to a new JS typed array, which frees it when collected.
  Napi::TypedArrayOf<T> releaseToJs(Napi::Env env);

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
  std::size_t size_ = 0;
};

// output, h_n and (LSTM) c_n, sized by a plan.
template <class T>
struct ForwardResultBuffers {
  NativeBuffer<T> output, hN, cN;
  bool hasCell = false;

  ForwardResultBuffers(const engine::ForwardPlan& plan, bool lstm);
  engine::ForwardOutputs<T> destinations();
  // { output, hN, cN? } as JS typed arrays; the buffers are empty afterwards.
  Napi::Object releaseToJs(Napi::Env env);
};

}  // namespace binding
}  // namespace torchrnn
