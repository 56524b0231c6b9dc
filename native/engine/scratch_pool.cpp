#include "scratch_pool.h"

#include <mutex>
#include <utility>
#include <vector>

namespace torchrnn {
namespace engine {

namespace {

constexpr std::size_t kBuffersKept = 4;  // enough for a few concurrent forwardAsync calls

struct ScratchPool {
  std::mutex mutex;
  std::vector<AlignedArray<unsigned char>> free;
};

ScratchPool& pool() {
  static ScratchPool* shared = new ScratchPool;  // never destroyed: workers may return buffers at exit
  return *shared;
}

}  // namespace

AlignedArray<unsigned char> takeScratch(std::size_t bytes) {
  {
    ScratchPool& p = pool();
    std::lock_guard<std::mutex> held(p.mutex);
    std::size_t best = p.free.size();
    for (std::size_t i = 0; i < p.free.size(); ++i)
      if (p.free[i].size() >= bytes && (best == p.free.size() || p.free[i].size() < p.free[best].size())) best = i;
    if (best != p.free.size()) {
      AlignedArray<unsigned char> found = std::move(p.free[best]);
      p.free.erase(p.free.begin() + static_cast<std::ptrdiff_t>(best));
      return found;
    }
  }
  return AlignedArray<unsigned char>(bytes);
}

void returnScratch(AlignedArray<unsigned char>&& buffer) {
  if (buffer.size() == 0) return;
  ScratchPool& p = pool();
  std::lock_guard<std::mutex> held(p.mutex);
  p.free.push_back(std::move(buffer));
  if (p.free.size() > kBuffersKept) {
    std::size_t smallest = 0;
    for (std::size_t i = 1; i < p.free.size(); ++i)
      if (p.free[i].size() < p.free[smallest].size()) smallest = i;
    p.free.erase(p.free.begin() + static_cast<std::ptrdiff_t>(smallest));
  }
}

}  // namespace engine
}  // namespace torchrnn
