// A hint that memory will be read soon: its cache lines are requested now (into L2), so that the reads
// later do not wait on memory. A hint only: it never faults, whatever the address.
#pragma once

#include <cstddef>

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#if defined(_M_X64) || defined(_M_IX86)
#include <xmmintrin.h>
#endif
#endif

namespace torchrnn {
namespace engine {

inline void prefetchLine(const void* p) {
#if defined(_MSC_VER) && !defined(__clang__)
#if defined(_M_X64) || defined(_M_IX86)
  _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T1);
#else
  __prefetch(p);
#endif
#else
  __builtin_prefetch(p, 0, 2);
#endif
}

// Every 64-byte line of [p, p + bytes).
inline void prefetchBytes(const void* p, std::size_t bytes) {
  const char* c = static_cast<const char*>(p);
  for (std::size_t offset = 0; offset < bytes; offset += 64) prefetchLine(c + offset);
}

}  // namespace engine
}  // namespace torchrnn
