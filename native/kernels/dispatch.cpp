// Chooses the kernel family once per process: the best one this architecture's CPU allows (cpuid +
// xgetbv on x86-64, NEON on every arm64), or a lower one forced by TORCHRNN_ISA (so that tests run every
// family on one machine).
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
#if defined(TORCHRNN_X86_KERNELS)
  return cpu.avx512 ? Isa::Avx512 : cpu.avx2Fma ? Isa::Avx2 : Isa::Scalar;
#elif defined(TORCHRNN_NEON_KERNELS)
  return cpu.neon ? Isa::Neon : Isa::Scalar;
#else
  (void)cpu;
  return Isa::Scalar;
#endif
}

// Whether `requested` runs wherever `best` does: the same family, or a lower one of its architecture.
bool atOrBelow(Isa requested, Isa best) {
  switch (requested) {
    case Isa::Scalar: return true;
    case Isa::Avx2: return best == Isa::Avx2 || best == Isa::Avx512;
    case Isa::Avx512: return best == Isa::Avx512;
    case Isa::Neon: return best == Isa::Neon;
  }
  return false;
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
  else if (std::strcmp(forced, "neon") == 0)
    requested = Isa::Neon;
  else if (std::strcmp(forced, "scalar") == 0)
    requested = Isa::Scalar;
  else
    throw std::invalid_argument("TORCHRNN_ISA must be one of avx512, avx2, neon, scalar, got '" + std::string(forced) +
                                "'");
  return atOrBelow(requested, best) ? requested : best;
}

template <class T>
struct FamilyTables;

template <>
struct FamilyTables<float> {
  static const KernelTable<float>& of(Isa isa) {
    switch (isa) {
#ifdef TORCHRNN_X86_KERNELS
      case Isa::Avx512: return avx512KernelsF32();
      case Isa::Avx2: return avx2KernelsF32();
#endif
#ifdef TORCHRNN_NEON_KERNELS
      case Isa::Neon: return neonKernelsF32();
#endif
      default: return portableKernelsF32();
    }
  }
};

template <>
struct FamilyTables<double> {
  static const KernelTable<double>& of(Isa isa) {
    switch (isa) {
#ifdef TORCHRNN_X86_KERNELS
      case Isa::Avx512: return avx512KernelsF64();
      case Isa::Avx2: return avx2KernelsF64();
#endif
#ifdef TORCHRNN_NEON_KERNELS
      case Isa::Neon: return neonKernelsF64();
#endif
      default: return portableKernelsF64();
    }
  }
};

}  // namespace

Isa chosenIsa() {
  static const Isa chosen = decideIsa();
  return chosen;
}

template <class T>
const KernelTable<T>& selectKernels() {
  static const KernelTable<T>& chosen = FamilyTables<T>::of(chosenIsa());
  return chosen;
}

template const KernelTable<float>& selectKernels<float>();
template const KernelTable<double>& selectKernels<double>();

const char* backendName() { return selectKernels<float>().name; }

}  // namespace kernels
}  // namespace torchrnn
