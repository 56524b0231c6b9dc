// forwardAsync: one forward call on libuv's threadpool, resolving a Promise with the results.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <napi.h>

#include "../engine/forward.h"
#include "../engine/packed_weights.h"
#include "forward_args.h"
#include "result_buffers.h"

namespace torchrnn {
namespace binding {

template <class T>
class ForwardWorker : public Napi::AsyncWorker {
 public:
  // Copies every input out of JS memory; the call then depends on nothing the caller still holds.
  ForwardWorker(Napi::Env env, std::shared_ptr<const engine::PackedWeights<T>> weights, ForwardCall<T> call);

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& error) override;

 private:
  // Keeps the packed weights this call started with alive, even if the model is repacked meanwhile.
  std::shared_ptr<const engine::PackedWeights<T>> weights_;
  engine::ForwardPlan plan_;
  std::vector<T> input_, h0_, c0_;
  engine::ForwardInputs<T> inputs_;
  std::unique_ptr<ForwardResultBuffers<T>> results_;
  std::exception_ptr failure_;  // rethrown on the main thread as the matching JS error
  Napi::Promise::Deferred deferred_;
};

}  // namespace binding
}  // namespace torchrnn
