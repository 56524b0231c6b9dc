// A hint that memory will be read soon: its cache lines are requested now, into L2, so that the reads
// later do not wait on memory. A hint only: it never faults, whatever the address. Used by the kernels
// (the next weights and output rows) and by the engine (the next step's gates); the instruction is part of
// every baseline, so one definition serves every kernel family.
#pragma once

#include <cstddef>

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#if defined(_M_X64) || defined(_M_IX86)
#include <xmmintrin.h>
#endif
#endif

namespace torchrnn {
namespace kernels {
namespace {  // like the kernels that use it: never merged across units built with other flags

inline void prefetchToL2(const void* p) {
#if defined(_MSC_VER) && !defined(__clang__)
#if defined(_M_X64) || defined(_M_IX86)
  _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T1);
#else
  __prefetch(p);  // MSVC's only portable form on arm64: into L1
#endif
#else
  __builtin_prefetch(p, 0, 2);
#endif
}

// Every 64-byte line of [p, p + bytes).
inline void prefetchBytesToL2(const void* p, std::size_t bytes) {
  const char* c = static_cast<const char*>(p);
  for (std::size_t offset = 0; offset < bytes; offset += 64) prefetchToL2(c + offset);
}

}  // namespace
}  // namespace kernels
}  // namespace torchrnn
