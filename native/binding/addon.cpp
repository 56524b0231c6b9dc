// Module entry: exports the PackedModel and PackedLinear classes and the engine settings (backend(), threads).
#include <napi.h>

#include "engine_settings.h"
#include "packed_linear.h"
#include "packed_model.h"
#include "quantize_weights.h"

namespace torchrnn {
namespace binding {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  exportEngineSettings(env, exports);
  exportQuantization(env, exports);
  exports.Set("PackedModel", PackedModel::defineClass(env));
  exports.Set("PackedLinear", PackedLinear::defineClass(env));
  return exports;
}

}  // namespace binding
}  // namespace torchrnn

using torchrnn::binding::init;
NODE_API_MODULE(torchrnn, init)
