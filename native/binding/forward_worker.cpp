#include "forward_worker.h"

#include <exception>
#include <utility>

#include "js_errors.h"

namespace torchrnn {
namespace binding {

namespace {

template <class T>
engine::Span<T> copyInto(std::vector<T>& owned, const engine::Span<T>& source) {
  owned.assign(source.data, source.data + source.size);
  return engine::Span<T>{owned.data(), owned.size()};
}

}  // namespace

template <class T>
ForwardWorker<T>::ForwardWorker(Napi::Env env, std::shared_ptr<const engine::PackedWeights<T>> weights,
                                ForwardCall<T> call)
    : Napi::AsyncWorker(env, "torchrnn.forwardAsync"),
      weights_(std::move(weights)),
      plan_(std::move(call.plan)),
      deferred_(Napi::Promise::Deferred::New(env)) {
  // Copied now, not read later: the caller may detach or transfer these ArrayBuffers while the worker runs.
  // (The packed batchSizes are already copied into plan_.layout.)
  inputs_ = call.inputs;
  inputs_.input = copyInto(input_, call.inputs.input);
  if (call.inputs.h0) inputs_.h0 = copyInto(h0_, *call.inputs.h0);
  if (call.inputs.c0) inputs_.c0 = copyInto(c0_, *call.inputs.c0);
  // Allocated here, on the main thread, so that a size V8 cannot provide rejects before anything runs.
  results_ = withJsErrors(env, [&] { return ForwardResultBuffers<T>(env, plan_, weights_->spec.mode == engine::Mode::Lstm); });
  results_.persist();
}

template <class T>
void ForwardWorker<T>::Execute() {
  // Runs off the main thread: no N-API calls here; a failure is kept for OnOK to report.
  try {
    engine::runForward(*weights_, plan_, inputs_, results_.destinations());
  } catch (...) {
    failure_ = std::current_exception();
  }
}

template <class T>
void ForwardWorker<T>::OnOK() {
  // In a terminating environment (worker.terminate() with calls in flight) every N-API call below fails
  // and throws: the outer catch drops the result, since no JS will ever see the Promise.
  try {
    const Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Napi::Value error;
    try {
      if (failure_) std::rethrow_exception(failure_);
      deferred_.Resolve(results_.toJs(env));
      return;
    } catch (const Napi::Error& e) {
      error = e.Value();
    } catch (...) {
      error = toJsError(env, std::current_exception()).Value();
    }
    deferred_.Reject(error);
  } catch (...) {
  }
}

template <class T>
void ForwardWorker<T>::OnError(const Napi::Error& error) {
  // Not reached (Execute never calls SetError), but it must not throw either.
  try {
    deferred_.Reject(error.Value());
  } catch (...) {
  }
}

template class ForwardWorker<float>;
template class ForwardWorker<double>;

}  // namespace binding
}  // namespace torchrnn
