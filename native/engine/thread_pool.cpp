#include "thread_pool.h"

#include <chrono>
#include <fstream>
#include <set>
#include <string>

#if defined(__linux__)
#include <pthread.h>
#endif

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#include <emmintrin.h>
#define TORCHRNN_SPIN_PAUSE() _mm_pause()
#else
#define TORCHRNN_SPIN_PAUSE() ((void)0)
#endif

namespace torchrnn {
namespace engine {

namespace {

// How long an idle worker keeps checking for work before it sleeps: covers the gap between
// back-to-back forwards, and is nothing next to a second of idleness.
constexpr auto kIdleSpin = std::chrono::microseconds(300);
// Spins in a step barrier (or while the caller waits for its workers) before yielding the core: a
// member may have been descheduled on a busy machine, and spinning then only delays it.
constexpr std::size_t kBarrierSpins = kSpinRounds;

}  // namespace

std::size_t physicalCoreCount() {
  const unsigned logical = std::thread::hardware_concurrency();
  if (logical == 0) return 1;
  std::set<std::string> cores;
  for (unsigned cpu = 0; cpu < logical; ++cpu) {
    std::ifstream siblings("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/thread_siblings_list");
    std::string list;
    if (!(siblings >> list)) return logical;  // no /sys topology: count every logical CPU
    cores.insert(list);
  }
  return cores.empty() ? logical : cores.size();
}

void spinWait(std::size_t round) {
  if (round < kBarrierSpins)
    TORCHRNN_SPIN_PAUSE();
  else
    std::this_thread::yield();
}

namespace {

std::atomic<std::uint64_t> stolenShares{0}, soloRounds{0}, rejoins{0};
std::atomic<std::size_t> lateMember{0}, lateEvery{0};

// Whether the test hook keeps member m away from round r.
bool keptAwayForTesting(std::uint32_t r, std::size_t m, std::size_t members) {
  const std::size_t every = lateEvery.load(std::memory_order_relaxed);
  return every != 0 && r % every == 0 && m == lateMember.load(std::memory_order_relaxed) % members;
}

}  // namespace

std::atomic<bool> StepGroup::testLateness_{false};

StepGroupCounts stepGroupCounts() {
  StepGroupCounts counts;
  counts.stolenShares = stolenShares.load();
  counts.soloRounds = soloRounds.load();
  counts.rejoins = rejoins.load();
  return counts;
}

void setStepGroupLatenessForTesting(std::size_t member, std::size_t everyRounds) {
  lateMember.store(member);
  lateEvery.store(everyRounds);
  StepGroup::testLateness_.store(everyRounds != 0);
}

bool StepGroup::beLateForTesting(const Member& self, std::uint32_t r, bool ownClaimed) {
  if (!heldAwayForTesting(r, self.index)) return ownClaimed;
  std::uint64_t word = word_.load(std::memory_order_acquire);
  if (roundOf(word) != r) return false;  // the others ran the round while this member was not there
  // Give back a share claimed when this member opened the round: the round cannot end without it.
  while (ownClaimed && !word_.compare_exchange_weak(word, word & ~claimBit(self.index))) {
  }
  // Away until the others have run the round without it, however long that takes on a busy machine.
  for (std::size_t spins = 0; roundOf(word_.load(std::memory_order_acquire)) == r; ++spins) spinWait(spins);
  return false;
}

void StepGroup::awaitClaimsForTesting(std::uint32_t r) {
  for (std::size_t spins = 0;; ++spins) {
    const std::uint64_t word = word_.load(std::memory_order_acquire);
    if (roundOf(word) != r || left_.load()) return;
    bool all = true;
    for (std::size_t m = 0; m < members_; ++m)
      if ((word & claimBit(m)) == 0 && !heldAwayForTesting(r, m)) all = false;
    if (all) return;
    spinWait(spins);
  }
}

bool StepGroup::heldAwayForTesting(std::uint32_t r, std::size_t m) const {
  return keptAwayForTesting(r, m, members_);
}

// Counted only off the fast path: each is a round that already lost time to a late member.
void StepGroup::countStolen() { stolenShares.fetch_add(1, std::memory_order_relaxed); }
void StepGroup::countSolo() { soloRounds.fetch_add(1, std::memory_order_relaxed); }
void StepGroup::countRejoin() { rejoins.fetch_add(1, std::memory_order_relaxed); }

bool StepGroup::claim(std::uint32_t r, std::size_t m) {
  const std::uint64_t bit = claimBit(m);
  std::uint64_t word = word_.load(std::memory_order_acquire);
  for (;;) {
    if (roundOf(word) != r || (word & bit) != 0) return false;
    if (word_.compare_exchange_weak(word, word | bit, std::memory_order_acq_rel, std::memory_order_acquire)) return true;
  }
}

bool StepGroup::finish(std::uint32_t r, std::size_t self) {
  // This share is claimed and not yet counted, so the word is still round r's: one add, never retried.
  const std::uint64_t before = word_.fetch_add(1, std::memory_order_acq_rel);
  if ((before & 0xff) + 1 != members_) return false;
  // Every share is claimed and done, so nobody else writes the word until it holds round r + 1.
  // Sequentially consistent, as sleepers_ is: a sleeper that counted itself in after this is seen by the
  // member that opens its wake round, or sees that round itself.
  const std::uint32_t alone = alone_.load(std::memory_order_relaxed);
  const bool claimNext = alone == 0 || alone == self + 1;
  word_.store(std::uint64_t(r + 1) << kRoundShift | (claimNext ? claimBit(self) : 0), std::memory_order_seq_cst);
  return claimNext;
}

void StepGroup::sleepWhileAlone(std::uint32_t r) {
  const std::uint32_t wake = wakeRound_.load();
  auto awake = [&] { return left_.load() || std::int32_t(roundOf(word_.load()) - wake) >= 0; };
  if (std::int32_t(wake - r) <= 1) return;  // the offer is too near to sleep
  sleepers_.fetch_add(1);
  {
    std::unique_lock<std::mutex> lock(sleepMutex_);
    // The bound only caps what a missed wake-up could cost; the wake-up itself comes from wakeSleepers.
    sleep_.wait_for(lock, std::chrono::milliseconds(20), awake);
  }
  sleepers_.fetch_sub(1);
}

void StepGroup::wakeSleepers(std::uint32_t r) {
  // Round r is open, so the word holds r: a sleeper that checks after this sees it, one that checked
  // before is waiting on the condition variable by the time the lock is taken here.
  if (std::int32_t(r - wakeRound_.load()) < 0) return;
  { std::lock_guard<std::mutex> held(sleepMutex_); }
  sleep_.notify_all();
}

void StepGroup::leave() {
  if (members_ == 1) return;
  left_.store(true);
  { std::lock_guard<std::mutex> held(sleepMutex_); }
  sleep_.notify_all();
}

void StepGroup::waitForOffer(std::uint32_t r) {
  const auto until = std::chrono::steady_clock::now() + 2 * kWakeAhead;
  for (std::size_t spins = 0; roundOf(word_.load(std::memory_order_acquire)) == r; ++spins) {
    if ((spins & 255) == 0 && std::chrono::steady_clock::now() > until) {
      waitForRound(r);
      return;
    }
    TORCHRNN_SPIN_PAUSE();
  }
}

StepGroup::Clock::duration StepGroup::waitForRound(std::uint32_t r) {
  // A later round's number in the word means round r is complete; the word never goes back.
  Clock::time_point since;
  for (std::size_t spins = 0; roundOf(word_.load(std::memory_order_acquire)) == r; ++spins) {
    if (spins == kUntimedSpins) since = Clock::now();
    spinWait(spins);
  }
  return since == Clock::time_point() ? Clock::duration(0) : Clock::now() - since;
}

ThreadPool& ThreadPool::instance() {
  static ThreadPool pool;
  return pool;
}

ThreadPool::ThreadPool() {
  threads_ = physicalCoreCount();
  resize(threads_.load() - 1);
}

ThreadPool::~ThreadPool() { resize(0); }

void ThreadPool::setThreadCount(std::size_t threads) {
  if (threads == 0) threads = 1;
  std::lock_guard<std::mutex> held(leaseMutex_);
  if (threads == threads_) return;
  resize(threads - 1);
  threads_ = threads;
}

std::size_t ThreadPool::threadCount() const { return threads_.load(); }

ThreadPool::Lease ThreadPool::lease() {
  std::unique_lock<std::mutex> lock(leaseMutex_, std::try_to_lock);
  const std::size_t threads = lock.owns_lock() ? threads_.load() : 1;
  return Lease(this, std::move(lock), threads);
}

// Called with leaseMutex_ held, so no job is running.
void ThreadPool::resize(std::size_t workers) {
  if (!workers_.empty()) {
    {
      std::lock_guard<std::mutex> held(wakeMutex_);
      stopping_.store(true);
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
    stopping_.store(false);
  }
  workers_.reserve(workers);
  // A worker starts from the generation of now: a job posted before its thread first runs is still new to it.
  const std::size_t generation = jobGeneration_.load();
  for (std::size_t i = 0; i < workers; ++i)
    workers_.emplace_back([this, i, generation] { workerLoop(i + 1, generation); });
}

void ThreadPool::claimAndRun(const Job& job, std::size_t generation) {
  const unsigned long long tag = static_cast<unsigned long long>(generation & 0xffffffffu) << 32;
  unsigned long long current = claim_.load(std::memory_order_acquire);
  for (;;) {
    if ((current & ~0xffffffffull) != tag) return;  // another job's counter: this one is finished
    const std::size_t member = static_cast<std::size_t>(current & 0xffffffffu);
    if (member >= job.members) return;
    if (!claim_.compare_exchange_weak(current, current + 1, std::memory_order_acq_rel)) continue;
    job.call(job.context, member);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
    current = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::runJob(const Job& job) {
  std::size_t generation;
  {
    std::lock_guard<std::mutex> held(wakeMutex_);
    job_ = job;
    generation = jobGeneration_.load(std::memory_order_relaxed) + 1;
    pending_.store(job.shared ? job.members : job.members - 1, std::memory_order_relaxed);
    claim_.store(static_cast<unsigned long long>(generation & 0xffffffffu) << 32, std::memory_order_relaxed);
    jobGeneration_.store(generation, std::memory_order_release);
  }
  wake_.notify_all();
  if (job.shared)
    claimAndRun(job, generation);
  else
    job.call(job.context, 0);
  for (std::size_t spins = 0; pending_.load(std::memory_order_acquire) != 0; ++spins) {
    if (spins < kBarrierSpins)
      TORCHRNN_SPIN_PAUSE();
    else
      std::this_thread::yield();
  }
}

void ThreadPool::workerLoop(std::size_t member, std::size_t seen) {
#if defined(__linux__)
  // A name `top -H` shows, and the idle-CPU test finds in /proc/self/task.
  pthread_setname_np(pthread_self(), "torchrnn-worker");
#endif
  for (;;) {
    // Spin a little for the next job, then sleep until one is posted.
    const auto spinUntil = std::chrono::steady_clock::now() + kIdleSpin;
    std::size_t spins = 0;
    while (jobGeneration_.load(std::memory_order_acquire) == seen && !stopping_.load(std::memory_order_relaxed)) {
      // Every 64th round gives the core away: on a busy machine the thread that posts the next job (or
      // runs on alone meanwhile) may be waiting for this core; on a quiet one the yield returns at once.
      if ((++spins & 63) == 0)
        std::this_thread::yield();
      else
        TORCHRNN_SPIN_PAUSE();
      if ((spins & 255) == 0 && std::chrono::steady_clock::now() > spinUntil) {
        std::unique_lock<std::mutex> lock(wakeMutex_);
        wake_.wait(lock, [&] { return jobGeneration_.load(std::memory_order_acquire) != seen || stopping_.load(); });
        break;
      }
    }
    if (stopping_.load()) return;
    Job job;
    {
      std::lock_guard<std::mutex> held(wakeMutex_);
      job = job_;
      seen = jobGeneration_.load(std::memory_order_acquire);
    }
    if (job.shared) {
      claimAndRun(job, seen);
    } else if (member < job.members) {
      job.call(job.context, member);
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }
}

}  // namespace engine
}  // namespace torchrnn
