// Reading the JS model spec ({ mode, inputSize, hiddenSize, ... }) into the engine's ModelSpec.
#pragma once

#include <napi.h>

#include "../engine/model_spec.h"

namespace torchrnn {
namespace binding {

// Throws a TypeError / RangeError naming the field; the engine then checks the combination.
engine::ModelSpec readModelSpec(const Napi::Value& value);

}  // namespace binding
}  // namespace torchrnn
