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
  // Copies every input out of JS memory and allocates the results; the call then depends on nothing the
  // caller still holds. Runs no JS: `call`'s views must stay valid until it returns.
  ForwardWorker(Napi::Env env, std::shared_ptr<const engine::PackedWeights<T>> weights, ForwardCall<T> call);

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override;
  // Neither lets an exception out (it would reach std::terminate through node-addon-api when the worker's
  // environment is terminating); there, the result is dropped.
  void OnOK() override;
  void OnError(const Napi::Error& error) override;

 private:
  // Keeps the packed weights this call started with alive, even if the model is repacked meanwhile.
  std::shared_ptr<const engine::PackedWeights<T>> weights_;
  engine::ForwardPlan plan_;
  std::vector<T> input_, h0_, c0_;
  engine::ForwardInputs<T> inputs_;
  // V8 ArrayBuffers held by persistent references from the call to OnOK, unreachable from JS until then:
  // Execute writes into them off the main thread with no N-API call.
  ForwardResultBuffers<T> results_;
  std::exception_ptr failure_;  // rethrown on the main thread as the matching JS error
  Napi::Promise::Deferred deferred_;
};

}  // namespace binding
}  // namespace torchrnn
