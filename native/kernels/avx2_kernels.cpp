// The AVX2 + FMA kernel family. This unit alone is compiled with those flags; dispatch.cpp calls into it
// only after cpu_features.cpp has seen the CPU and the OS support them.
#include "avx2_vector.h"
#include "simd_table.h"

namespace torchrnn {
namespace kernels {

const KernelTable<float>& avx2KernelsF32() {
  static const KernelTable<float> table = makeSimdTable<Avx2Float>("avx2");
  return table;
}

const KernelTable<double>& avx2KernelsF64() {
  static const KernelTable<double> table = makeSimdTable<Avx2Double>("avx2");
  return table;
}

}  // namespace kernels
}  // namespace torchrnn
