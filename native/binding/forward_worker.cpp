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
  inputs_ = call.inputs;
  inputs_.input = copyInto(input_, call.inputs.input);
  if (call.inputs.h0) inputs_.h0 = copyInto(h0_, *call.inputs.h0);
  if (call.inputs.c0) inputs_.c0 = copyInto(c0_, *call.inputs.c0);
}

template <class T>
void ForwardWorker<T>::Execute() {
  // Runs off the main thread: no N-API calls here; a failure is kept for OnOK to report.
  try {
    results_ = std::make_unique<ForwardResultBuffers<T>>(plan_, weights_->spec.mode == engine::Mode::Lstm);
    engine::runForward(*weights_, plan_, inputs_, results_->destinations());
  } catch (...) {
    failure_ = std::current_exception();
  }
}

template <class T>
void ForwardWorker<T>::OnOK() {
  const Napi::Env env = Env();
  Napi::HandleScope scope(env);
  try {
    if (failure_) std::rethrow_exception(failure_);
    deferred_.Resolve(results_->releaseToJs(env));
  } catch (const Napi::Error& error) {
    deferred_.Reject(error.Value());
  } catch (...) {
    deferred_.Reject(toJsError(env, std::current_exception()).Value());
  }
}

template <class T>
void ForwardWorker<T>::OnError(const Napi::Error& error) {
  deferred_.Reject(error.Value());
}

template class ForwardWorker<float>;
template class ForwardWorker<double>;

}  // namespace binding
}  // namespace torchrnn
