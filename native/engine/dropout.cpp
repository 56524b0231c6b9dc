#include "dropout.h"

namespace torchrnn {
namespace engine {

namespace {

// SplitMix64's finaliser: a bijective mix with full avalanche, cheap enough to run per element.
std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x;
}

constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

std::uint64_t streamKey(std::uint32_t seed, std::size_t layer) {
  return mix64((static_cast<std::uint64_t>(seed) << 32) ^ static_cast<std::uint64_t>(layer));
}

// Uniform in [0, 1) from the top 53 bits.
double uniformAt(std::uint64_t key, std::size_t index) {
  const std::uint64_t bits = mix64(key + (static_cast<std::uint64_t>(index) + 1) * kGolden);
  return static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace

bool dropoutKeeps(std::uint32_t seed, std::size_t layer, std::size_t index, double p) {
  return uniformAt(streamKey(seed, layer), index) >= p;
}

template <class T>
void applyDropout(T* values, std::size_t count, double p, std::uint32_t seed, std::size_t layer) {
  if (!(p > 0)) return;
  if (p >= 1) {
    for (std::size_t i = 0; i < count; ++i) values[i] = T(0);
    return;
  }
  const std::uint64_t key = streamKey(seed, layer);
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  for (std::size_t i = 0; i < count; ++i) values[i] = uniformAt(key, i) >= p ? values[i] * scale : T(0);
}

template void applyDropout<float>(float*, std::size_t, double, std::uint32_t, std::size_t);
template void applyDropout<double>(double*, std::size_t, double, std::uint32_t, std::size_t);

}  // namespace engine
}  // namespace torchrnn
