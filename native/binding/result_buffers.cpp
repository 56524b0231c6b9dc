#include "result_buffers.h"

#include <new>

#include "../engine/checked_math.h"

namespace torchrnn {
namespace binding {

template <class T>
NativeBuffer<T>::NativeBuffer(std::size_t size) : size_(size) {
  if (size == 0) return;
  const std::size_t bytes = engine::checkedMul(size, sizeof(T), "result size in bytes");
  data_.reset(static_cast<T*>(std::malloc(bytes)));
  if (!data_) throw std::bad_alloc();
}

template <class T>
Napi::TypedArrayOf<T> NativeBuffer<T>::releaseToJs(Napi::Env env) {
  const std::size_t size = size_;
  size_ = 0;
  if (size == 0) return Napi::TypedArrayOf<T>::New(env, 0);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, data_.get(), size * sizeof(T),
                                                    [](Napi::Env, void* data) { std::free(data); });
  data_.release();  // owned by the ArrayBuffer from here on
  return Napi::TypedArrayOf<T>::New(env, size, buffer, 0);
}

template <class T>
ForwardResultBuffers<T>::ForwardResultBuffers(const engine::ForwardPlan& plan, bool lstm)
    : output(plan.outputElements), hN(plan.hiddenElements), hasCell(lstm) {
  if (lstm) cN = NativeBuffer<T>(plan.cellElements);
}

template <class T>
engine::ForwardOutputs<T> ForwardResultBuffers<T>::destinations() {
  engine::ForwardOutputs<T> out;
  out.output = output.data();
  out.hN = hN.data();
  out.cN = hasCell ? cN.data() : nullptr;
  return out;
}

template <class T>
Napi::Object ForwardResultBuffers<T>::releaseToJs(Napi::Env env) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("output", output.releaseToJs(env));
  result.Set("hN", hN.releaseToJs(env));
  if (hasCell) result.Set("cN", cN.releaseToJs(env));
  return result;
}

template class NativeBuffer<float>;
template class NativeBuffer<double>;
template struct ForwardResultBuffers<float>;
template struct ForwardResultBuffers<double>;

}  // namespace binding
}  // namespace torchrnn
