// What the CPU (and the operating system, which must save the wider registers) can run, asked once.
#pragma once

namespace torchrnn {
namespace kernels {

struct CpuFeatures {
  bool avx2Fma = false;  // AVX2 + FMA3, with the OS saving YMM state
  bool avx512 = false;   // AVX-512 F, VL, BW, DQ, with the OS saving ZMM and mask state
  bool f16c = false;     // F16C half-precision conversions, with avx2Fma (reduced-precision weights only)
  bool avx512Vnni = false;  // AVX-512 VNNI int8 dot products (vpdpbusd), with avx512 (qint8 weights only)
  bool avx512Bf16 = false;  // AVX-512 BF16 dot products (vdpbf16ps), with avx512 (bfloat16 weights only)
  bool neon = false;     // Advanced SIMD with double lanes: every arm64 CPU
};

CpuFeatures detectCpuFeatures();

}  // namespace kernels
}  // namespace torchrnn
