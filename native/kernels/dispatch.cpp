// Chooses the kernel family once per process. Only the portable family exists so far; faster families
// slot in here, each behind its own CPU feature test.
#include "kernels.h"

namespace torchrnn {
namespace kernels {

template <>
const KernelTable<float>& selectKernels<float>() {
  static const KernelTable<float>& chosen = portableKernelsF32();
  return chosen;
}

template <>
const KernelTable<double>& selectKernels<double>() {
  static const KernelTable<double>& chosen = portableKernelsF64();
  return chosen;
}

const char* backendName() { return selectKernels<float>().name; }

}  // namespace kernels
}  // namespace torchrnn
