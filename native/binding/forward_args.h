// Reading one forward call's JS arguments into a plan (result sizes) and views of the inputs.
#pragma once

#include <napi.h>

#include "../engine/forward.h"
#include "../engine/model_spec.h"

namespace torchrnn {
namespace binding {

template <class T>
struct ForwardCall {
  engine::ForwardPlan plan;
  engine::ForwardInputs<T> inputs;  // views into JS memory: valid until JS next runs (a getter may detach them)
};

// Reads every field (running any getter) before taking any view, then checks every type and length against
// `spec`; throws a JS error naming the argument.
template <class T>
ForwardCall<T> readForwardArgs(const Napi::Value& args, const engine::ModelSpec& spec);

}  // namespace binding
}  // namespace torchrnn
