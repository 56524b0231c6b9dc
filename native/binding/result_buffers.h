// The result arrays of a call: V8-owned ArrayBuffers, allocated (with every size checked first, so an
// impossible size is a RangeError instead of a V8 abort), filled by the engine, handed to JS without a copy.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>

#include <napi.h>

#include "../engine/forward.h"

namespace torchrnn {
namespace binding {

// One result of `size` elements of T in a new, zero-filled, V8-owned ArrayBuffer.
// V8-owned rather than malloc'd + external: V8 frees it at the next GC that finds it unreachable and counts
// it towards its heap limits, while an external buffer's finalizer is deferred by Node to setImmediate, so a
// synchronous loop of calls never freed any (measured: RSS grew by every result, ~4 kB/call; docs/HARDENING.md).
template <class T>
class ResultArray {
 public:
  ResultArray() = default;
  // Throws SizeError / std::bad_alloc (-> RangeError) before asking V8 for a size it could not provide.
  ResultArray(Napi::Env env, std::size_t size);

  T* data() const { return data_; }
  std::size_t size() const { return size_; }
  // Keeps the buffer alive beyond the current HandleScope (forwardAsync: from the call until OnOK). The data
  // pointer stays valid as long as the buffer lives: JS holds no reference to it before toJs, so nobody can
  // detach or resize it.
  void persist();
  // A typed array over the whole buffer.
  Napi::TypedArrayOf<T> toJs(Napi::Env env) const;

 private:
  Napi::ArrayBuffer buffer_;  // a handle: valid in the HandleScope that created it
  Napi::Reference<Napi::ArrayBuffer> persistent_;  // set by persist()
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

// output, h_n and (LSTM) c_n, sized by a plan.
template <class T>
struct ForwardResultBuffers {
  ResultArray<T> output, hN, cN;
  bool hasCell = false;

  ForwardResultBuffers() = default;
  ForwardResultBuffers(Napi::Env env, const engine::ForwardPlan& plan, bool lstm);
  engine::ForwardOutputs<T> destinations() const;
  void persist();
  // { output, hN, cN? } as own data properties (defined, not assigned: no setter on Object.prototype runs).
  Napi::Object toJs(Napi::Env env) const;
};

}  // namespace binding
}  // namespace torchrnn
