// The input projection of a layer in time chunks, computed beside the recurrence that reads them
// (LayerRun::projectAlongside in forward.cpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <thread>

#include "thread_pool.h"

namespace torchrnn {
namespace engine {

// Chunks of a layer's input projection (Gx in time chunks), each computed by whichever thread gets to it
// first: the recurrence asks for the chunk its next step reads (ensure), a helper thread computes ahead
// (computeAll). A chunk the helper started but has not finished after a short spin (its thread may have
// been descheduled on a busy machine) is computed again by the recurrence, into a buffer of its own, so
// the time loop never waits for a thread that is not running. Every copy of a chunk has the same bits.
template <class T>
class ProjectionChunks {
 public:
  // compute(c, dest) writes chunk c's rows at dest; rowBegin(c) is the first row of chunk c in gates,
  // whose rows are ld values apart.
  template <class Compute, class RowBegin>
  ProjectionChunks(std::size_t count, T* gates, std::size_t ld, std::size_t maxRows, Compute& compute,
                   RowBegin& rowBegin)
      : count_(count), gates_(gates), ld_(ld), maxRows_(maxRows), state_(new std::atomic<unsigned char>[count]),
        compute_(&compute), call_([](void* f, std::size_t c, T* dest) { (*static_cast<Compute*>(f))(c, dest); }),
        rowBegin_(&rowBegin), begin_([](void* f, std::size_t c) { return (*static_cast<RowBegin*>(f))(c); }) {
    for (std::size_t c = 0; c < count; ++c) state_[c].store(kFree, std::memory_order_relaxed);
  }

  // Where chunk c's gates are once computed: its first row's. Chunks must be asked for in order.
  const T* ensure(std::size_t c) {
    T* shared = gates_ + begin_(rowBegin_, c) * ld_;
    for (std::size_t round = 0;; ++round) {
      unsigned char state = state_[c].load(std::memory_order_acquire);
      if (state == kReady) return shared;
      if (state == kTaken) return own_.get();  // taken over at an earlier step of this chunk
      if (state == kFree) {
        if (state_[c].compare_exchange_strong(state, kReady, std::memory_order_acquire)) {
          call_(compute_, c, shared);  // nobody else touches a chunk once it has left kFree
          return shared;
        }
        continue;
      }
      if (round < kSpinRounds) {
        spinWait(round);
        continue;
      }
      if (!own_) own_.reset(new (std::nothrow) T[maxRows_ * ld_]);
      if (!own_) {  // no memory for a copy: wait for the helper after all
        spinWait(round);
        continue;
      }
      if (state_[c].compare_exchange_strong(state, kTaken, std::memory_order_acquire)) {
        late_ = true;
        call_(compute_, c, own_.get());
        return own_.get();
      }
    }
  }

  // Computes chunks that nobody has started, first to last, then gives its core away until the
  // recurrence is done: spinning there, as an idle worker does, would take the core from the recurrence
  // itself when another process keeps the other one busy.
  void computeAll() {
    for (std::size_t c = 0; c < count_; ++c) {
      unsigned char state = kFree;
      if (!state_[c].compare_exchange_strong(state, kHelping, std::memory_order_acquire)) continue;
      call_(compute_, c, gates_ + begin_(rowBegin_, c) * ld_);
      helped_.fetch_add(1, std::memory_order_relaxed);
      state = kHelping;
      state_[c].compare_exchange_strong(state, kReady, std::memory_order_release);  // fails when taken over
    }
    while (!finished_.load(std::memory_order_acquire)) std::this_thread::yield();
  }

  // Said by the recurrence after its last step.
  void finish() { finished_.store(true, std::memory_order_release); }

  // Whether the helper fell behind: it computed fewer than half the chunks, or the recurrence had to take
  // one over. Asked after the recurrence's last step.
  bool helperWasLate() const { return late_ || helped_.load(std::memory_order_relaxed) * 2 < count_; }

 private:
  static constexpr unsigned char kFree = 0, kHelping = 1, kReady = 2, kTaken = 3;
  const std::size_t count_;
  T* const gates_;
  const std::size_t ld_, maxRows_;
  std::unique_ptr<std::atomic<unsigned char>[]> state_;
  std::atomic<bool> finished_{false};
  std::atomic<std::size_t> helped_{0};  // chunks the helper computed and published
  bool late_ = false;                   // the recurrence took a chunk over (written and read by it alone)
  std::unique_ptr<T[]> own_;  // the recurrence's copy of the chunk it took over (only the current one is read)
  void* compute_;
  void (*call_)(void*, std::size_t, T*);
  void* rowBegin_;
  std::size_t (*begin_)(void*, std::size_t);
};

}  // namespace engine
}  // namespace torchrnn
