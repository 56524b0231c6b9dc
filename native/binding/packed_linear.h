// The JS class PackedLinear: a Linear layer's weight packed once in the constructor, then forward.
#pragma once

#include <memory>
#include <variant>

#include <napi.h>

#include "../engine/linear.h"

namespace torchrnn {
namespace binding {

class PackedLinear : public Napi::ObjectWrap<PackedLinear> {
 public:
  static Napi::Function defineClass(Napi::Env env);

  // new PackedLinear(inFeatures, outFeatures, weight, bias | null)
  explicit PackedLinear(const Napi::CallbackInfo& info);

 private:
  // forward(input, rows): a new typed array of rows * outFeatures values.
  Napi::Value forward(const Napi::CallbackInfo& info);

  template <class T>
  Napi::Value forwardWith(const Napi::CallbackInfo& info, const engine::PackedLinear<T>& linear);

  std::variant<std::unique_ptr<const engine::PackedLinear<float>>, std::unique_ptr<const engine::PackedLinear<double>>>
      linear_;
};

}  // namespace binding
}  // namespace torchrnn
