// Module entry: exports the PackedModel class and backend().
#include <napi.h>

#include "../kernels/kernels.h"
#include "packed_model.h"

namespace torchrnn {
namespace binding {

namespace {

Napi::Value backend(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), kernels::backendName());
}

}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("PackedModel", PackedModel::defineClass(env));
  exports.Set("backend", Napi::Function::New(env, backend, "backend"));
  return exports;
}

}  // namespace binding
}  // namespace torchrnn

using torchrnn::binding::init;
NODE_API_MODULE(torchrnn, init)
