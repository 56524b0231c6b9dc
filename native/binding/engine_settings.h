// The engine's process-wide settings as JS functions: backend(), setNumThreads(n), getNumThreads(), and
// the test-only activationDiagnostic(name, values).
#pragma once

#include <napi.h>

namespace torchrnn {
namespace binding {

// Adds the functions to `exports`. Throws a JS Error when TORCHRNN_ISA names no kernel family.
void exportEngineSettings(Napi::Env env, Napi::Object exports);

}  // namespace binding
}  // namespace torchrnn
