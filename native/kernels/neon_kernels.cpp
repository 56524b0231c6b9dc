// The NEON kernel family, built on arm64 only. Advanced SIMD is part of the arm64 baseline, so this unit
// needs no extra flags and dispatch.cpp picks it on every arm64 CPU.
#include "neon_vector.h"
#include "simd_table.h"

namespace torchrnn {
namespace kernels {

const KernelTable<float>& neonKernelsF32() {
  static const KernelTable<float> table = makeSimdTable<NeonFloat>("neon");
  return table;
}

const KernelTable<double>& neonKernelsF64() {
  static const KernelTable<double> table = makeSimdTable<NeonDouble>("neon");
  return table;
}

}  // namespace kernels
}  // namespace torchrnn
