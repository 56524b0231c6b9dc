// Scratch memory kept between forward calls: a big workspace (the input projection of a long batch runs
// to tens of MB) costs page faults every time it is freshly allocated. A call takes a buffer and gives it
// back when done; concurrent calls take different buffers.
#pragma once

#include <cstddef>

#include "aligned_array.h"

namespace torchrnn {
namespace engine {

// At least `bytes` bytes, 64-byte aligned, uninitialised.
AlignedArray<unsigned char> takeScratch(std::size_t bytes);

// Returns a buffer for later calls (the pool keeps a few, dropping the smallest beyond that).
void returnScratch(AlignedArray<unsigned char>&& buffer);

}  // namespace engine
}  // namespace torchrnn
