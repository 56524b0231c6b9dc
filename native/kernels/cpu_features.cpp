// On x86, cpuid says what the silicon has; xgetbv says whether the OS saves the wide registers across
// context switches. Both must agree before a kernel family that uses those registers is safe to pick.
#include "cpu_features.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define TORCHRNN_X86_CPUID 1
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <immintrin.h>
#include <intrin.h>
#define TORCHRNN_X86_CPUID 1
#endif

namespace torchrnn {
namespace kernels {

#ifdef TORCHRNN_X86_CPUID
namespace {

struct CpuidRegisters {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegisters cpuid(unsigned leaf, unsigned subleaf) {
  CpuidRegisters r;
#if defined(_MSC_VER) && !defined(__clang__)
  int regs[4];
  __cpuidex(regs, static_cast<int>(leaf), static_cast<int>(subleaf));
  r.eax = regs[0], r.ebx = regs[1], r.ecx = regs[2], r.edx = regs[3];
#else
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
#endif
  return r;
}

// XCR0: which register states the OS enabled. Spelled as the raw instruction so that this unit needs no
// -mxsave flag (the rest of the addon is compiled for baseline x86-64).
unsigned long long readXcr0() {
#if defined(_MSC_VER) && !defined(__clang__)
  return _xgetbv(0);
#else
  unsigned eax = 0, edx = 0;
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
#endif
}

bool bit(unsigned value, int index) { return (value >> index) & 1u; }

}  // namespace

CpuFeatures detectCpuFeatures() {
  CpuFeatures f;
  const unsigned maxLeaf = cpuid(0, 0).eax;
  if (maxLeaf < 7) return f;
  const CpuidRegisters leaf1 = cpuid(1, 0);
  const bool osSavesState = bit(leaf1.ecx, 27);  // OSXSAVE: xgetbv is usable
  if (!osSavesState || !bit(leaf1.ecx, 28)) return f;  // no AVX at all
  const unsigned long long xcr0 = readXcr0();
  const bool ymmState = (xcr0 & 0x6) == 0x6;           // XMM and YMM
  const bool zmmState = (xcr0 & 0xe6) == 0xe6;         // plus opmask, ZMM_Hi256, Hi16_ZMM
  const CpuidRegisters leaf7 = cpuid(7, 0);
  const bool fma = bit(leaf1.ecx, 12);
  f.avx2Fma = ymmState && fma && bit(leaf7.ebx, 5);
  const bool avx512fvlbwdq = bit(leaf7.ebx, 16) && bit(leaf7.ebx, 31) && bit(leaf7.ebx, 30) && bit(leaf7.ebx, 17);
  f.avx512 = f.avx2Fma && zmmState && avx512fvlbwdq;
  f.f16c = f.avx2Fma && bit(leaf1.ecx, 29);
  f.avx512Vnni = f.avx512 && bit(leaf7.ecx, 11);
  f.avx512Bf16 = f.avx512 && leaf7.eax >= 1 && bit(cpuid(7, 1).eax, 5);  // leaf 7's subleaf 1, when it has one
  return f;
}
#elif defined(__aarch64__) || defined(_M_ARM64)
CpuFeatures detectCpuFeatures() {
  CpuFeatures f;
  f.neon = true;  // Advanced SIMD is mandatory in AArch64: nothing to ask
  return f;
}
#else
CpuFeatures detectCpuFeatures() { return CpuFeatures{}; }
#endif

}  // namespace kernels
}  // namespace torchrnn
