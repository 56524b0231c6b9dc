// Inverted dropout between layers, with masks drawn from a counter-based generator: element e of
// layer l keeps or drops by a hash of (seed, l, e) alone, so a seed reproduces its masks exactly,
// whatever the thread count or the order in which elements are visited.
#pragma once

#include <cstddef>
#include <cstdint>

namespace torchrnn {
namespace engine {

// True when element `index` of layer `layer`'s output survives dropout with probability p of zeroing.
bool dropoutKeeps(std::uint32_t seed, std::size_t layer, std::size_t index, double p);

// values[i] = keep ? values[i] / (1 - p) : 0 for i in [0, count); p == 1 zeroes everything.
template <class T>
void applyDropout(T* values, std::size_t count, double p, std::uint32_t seed, std::size_t layer);

}  // namespace engine
}  // namespace torchrnn
