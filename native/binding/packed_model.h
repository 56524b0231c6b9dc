// The JS class PackedModel: weights packed once in the constructor, then forward / forwardAsync / forwardInto / step.
#pragma once

#include <memory>
#include <variant>

#include <napi.h>

#include "../engine/packed_weights.h"

namespace torchrnn {
namespace binding {

class PackedModel : public Napi::ObjectWrap<PackedModel> {
 public:
  static Napi::Function defineClass(Napi::Env env);

  // new PackedModel(spec, weights)
  explicit PackedModel(const Napi::CallbackInfo& info);

 private:
  Napi::Value forward(const Napi::CallbackInfo& info);
  Napi::Value forwardAsync(const Napi::CallbackInfo& info);
  // step(batch, input, h0, c0, hOut, cOut): one step of a one-layer, one-direction model (a cell), its
  // arguments positional and its results written into the caller's arrays; returns undefined.
  Napi::Value step(const Napi::CallbackInfo& info);
  // forwardInto(seqLen, batch, batchFirst, input, h0, c0, output, hN, cN, dropout, dropoutSeed): forward on
  // padded input with positional arguments, its results written into the caller's arrays; returns undefined.
  Napi::Value forwardInto(const Napi::CallbackInfo& info);

  template <class T>
  Napi::Value forwardWith(const Napi::CallbackInfo& info, const std::shared_ptr<const engine::PackedWeights<T>>& weights);
  template <class T>
  void stepWith(const Napi::CallbackInfo& info, const std::shared_ptr<const engine::PackedWeights<T>>& weights);
  template <class T>
  void forwardIntoWith(const Napi::CallbackInfo& info, const std::shared_ptr<const engine::PackedWeights<T>>& weights);
  template <class T>
  Napi::Value forwardAsyncWith(const Napi::CallbackInfo& info,
                               const std::shared_ptr<const engine::PackedWeights<T>>& weights);

  // Shared, never mutated: a running forwardAsync keeps its own reference.
  std::variant<std::shared_ptr<const engine::PackedWeights<float>>,
               std::shared_ptr<const engine::PackedWeights<double>>>
      weights_;
};

}  // namespace binding
}  // namespace torchrnn
