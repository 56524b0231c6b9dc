#include "result_buffers.h"

#include <cstdint>
#include <new>
#include <string>

#include "../engine/checked_math.h"
#include "../engine/errors.h"

namespace torchrnn {
namespace binding {

namespace {

// V8's largest typed array (v8::TypedArray::kMaxLength in Node 18-20: 2^32 elements on 64-bit, the Smi
// range on 32-bit; later versions allow more). Beyond it napi_create_typedarray is a fatal V8 check.
constexpr std::size_t kMaxTypedArrayLength =
    sizeof(void*) == 8 ? static_cast<std::size_t>(std::uint64_t{1} << 32) : std::size_t{(1u << 30) - 1};

// From this size on the memory is tried with malloc first: V8 aborts the process (FatalProcessOutOfMemory)
// when an ArrayBuffer's allocation fails, while malloc fails gracefully, and with the same overcommit rules.
constexpr std::size_t kProbeBytes = std::size_t{64} << 20;

}  // namespace

template <class T>
ResultArray<T>::ResultArray(Napi::Env env, std::size_t size) : size_(size) {
  const std::size_t bytes = engine::checkedMul(size, sizeof(T), "result size in bytes");
  if (size > kMaxTypedArrayLength)
    throw engine::SizeError("torchrnn: not enough memory for this call: a result of " + std::to_string(size) +
                            " elements is more than a typed array can hold (" +
                            std::to_string(kMaxTypedArrayLength) + ")");
  if (bytes >= kProbeBytes) {
    void* probe = std::malloc(bytes);
    if (probe == nullptr) throw std::bad_alloc();
    std::free(probe);
  }
  buffer_ = Napi::ArrayBuffer::New(env, bytes);
  data_ = size ? static_cast<T*>(buffer_.Data()) : nullptr;
}

template <class T>
void ResultArray<T>::persist() {
  persistent_ = Napi::Persistent(buffer_);
}

template <class T>
Napi::TypedArrayOf<T> ResultArray<T>::toJs(Napi::Env env) const {
  const Napi::ArrayBuffer buffer = persistent_.IsEmpty() ? buffer_ : persistent_.Value();
  return Napi::TypedArrayOf<T>::New(env, size_, buffer, 0);
}

template <class T>
ForwardResultBuffers<T>::ForwardResultBuffers(Napi::Env env, const engine::ForwardPlan& plan, bool lstm)
    : output(env, plan.outputElements), hN(env, plan.hiddenElements), hasCell(lstm) {
  if (lstm) cN = ResultArray<T>(env, plan.cellElements);
}

template <class T>
engine::ForwardOutputs<T> ForwardResultBuffers<T>::destinations() const {
  engine::ForwardOutputs<T> out;
  out.output = output.data();
  out.hN = hN.data();
  out.cN = hasCell ? cN.data() : nullptr;
  return out;
}

template <class T>
void ForwardResultBuffers<T>::persist() {
  output.persist();
  hN.persist();
  if (hasCell) cN.persist();
}

template <class T>
Napi::Object ForwardResultBuffers<T>::toJs(Napi::Env env) const {
  constexpr auto attributes = static_cast<napi_property_attributes>(napi_writable | napi_enumerable | napi_configurable);
  Napi::Object result = Napi::Object::New(env);
  result.DefineProperty(Napi::PropertyDescriptor::Value("output", output.toJs(env), attributes));
  result.DefineProperty(Napi::PropertyDescriptor::Value("hN", hN.toJs(env), attributes));
  if (hasCell) result.DefineProperty(Napi::PropertyDescriptor::Value("cN", cN.toJs(env), attributes));
  return result;
}

template class ResultArray<float>;
template class ResultArray<double>;
template struct ForwardResultBuffers<float>;
template struct ForwardResultBuffers<double>;

}  // namespace binding
}  // namespace torchrnn
