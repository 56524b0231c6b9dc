// A 16-byte vector of floats or doubles for the portable kernels: GCC/Clang vector extensions, which
// compile to the baseline SIMD of any target (SSE2 on x86-64, NEON on arm64), and plain arrays for other
// compilers. Left to itself the auto-vectoriser picks the wrong loop of a register tile (it vectorises
// over k with shuffles and spills); spelling the vectors out keeps the tile in registers.
#pragma once

#include <cstddef>
#include <cstring>

namespace torchrnn {
namespace kernels {

template <class T>
struct PortableVector {
  static constexpr std::size_t kLanes = 16 / sizeof(T);

#if defined(__GNUC__) || defined(__clang__)
  typedef T Native __attribute__((vector_size(16)));
  Native v;

  static PortableVector zero() { return PortableVector{Native{}}; }
  static PortableVector load(const T* p) {
    PortableVector out;
    std::memcpy(&out.v, p, sizeof out.v);  // an unaligned vector load
    return out;
  }
  void store(T* p) const { std::memcpy(p, &v, sizeof v); }
  // this += a * b, with a broadcast to every lane
  void addScaled(T a, const PortableVector& b) { v += a * b.v; }
#else
  T v[kLanes];

  static PortableVector zero() { return PortableVector{}; }
  static PortableVector load(const T* p) {
    PortableVector out;
    std::memcpy(out.v, p, sizeof out.v);
    return out;
  }
  void store(T* p) const { std::memcpy(p, v, sizeof v); }
  void addScaled(T a, const PortableVector& b) {
    for (std::size_t i = 0; i < kLanes; ++i) v[i] += a * b.v[i];
  }
#endif
};

}  // namespace kernels
}  // namespace torchrnn
