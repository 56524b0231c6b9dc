// Chooses the kernel family once per process: the best one cpuid + xgetbv allow, or a lower one forced
// by TORCHRNN_ISA (so that tests run every family on one machine).
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "cpu_features.h"
#include "kernels.h"

namespace torchrnn {
namespace kernels {

namespace {

Isa bestSupported() {
  const CpuFeatures cpu = detectCpuFeatures();
  return cpu.avx512 ? Isa::Avx512 : cpu.avx2Fma ? Isa::Avx2 : Isa::Scalar;
}

Isa decideIsa() {
  const Isa best = bestSupported();
  const char* forced = std::getenv("TORCHRNN_ISA");
  if (forced == nullptr || *forced == '\0') return best;
  Isa requested;
  if (std::strcmp(forced, "avx512") == 0)
    requested = Isa::Avx512;
  else if (std::strcmp(forced, "avx2") == 0)
    requested = Isa::Avx2;
  else if (std::strcmp(forced, "scalar") == 0)
    requested = Isa::Scalar;
  else
    throw std::invalid_argument("TORCHRNN_ISA must be one of avx512, avx2, scalar, got '" + std::string(forced) + "'");
  return requested < best ? requested : best;
}

}  // namespace

Isa chosenIsa() {
  static const Isa chosen = decideIsa();
  return chosen;
}

template <>
const KernelTable<float>& selectKernels<float>() {
  static const KernelTable<float>& chosen = chosenIsa() == Isa::Avx512 ? avx512KernelsF32()
                                            : chosenIsa() == Isa::Avx2 ? avx2KernelsF32()
                                                                       : portableKernelsF32();
  return chosen;
}

template <>
const KernelTable<double>& selectKernels<double>() {
  static const KernelTable<double>& chosen = chosenIsa() == Isa::Avx512 ? avx512KernelsF64()
                                             : chosenIsa() == Isa::Avx2 ? avx2KernelsF64()
                                                                        : portableKernelsF64();
  return chosen;
}

const char* backendName() { return selectKernels<float>().name; }

}  // namespace kernels
}  // namespace torchrnn
