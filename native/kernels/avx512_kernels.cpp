// The AVX-512 kernel family (F, VL, BW, DQ + FMA). This unit alone is compiled with those flags;
// dispatch.cpp calls into it only after cpu_features.cpp has seen the CPU and the OS support them.
#include "avx512_vector.h"
#include "simd_table.h"

namespace torchrnn {
namespace kernels {

const KernelTable<float>& avx512KernelsF32() {
  static const KernelTable<float> table = makeSimdTable<Avx512Float>("avx512");
  return table;
}

const KernelTable<double>& avx512KernelsF64() {
  static const KernelTable<double> table = makeSimdTable<Avx512Double>("avx512");
  return table;
}

}  // namespace kernels
}  // namespace torchrnn
