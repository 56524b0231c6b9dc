// The engine's own threads: the caller plus (threads - 1) workers, shared by the whole process.
//
// One forward at a time holds the pool through a Lease; a forward that finds the pool taken (several
// forwardAsync calls on libuv's threadpool, or a sync call meanwhile) runs single-threaded on its own
// thread rather than wait, so concurrent calls never share workers or scratch and never deadlock.
// Workers spin briefly after a job (back-to-back calls pay no wake-up), then sleep on a condition
// variable: an idle process burns no CPU. Independent members (runShared) go to whichever thread claims
// them first, so on a busy machine a worker that is not scheduled yet delays nothing: the caller does
// its share too. Members that meet every step (run, StepGroup) need a thread each, though the others take
// over the shares of one that is late.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace torchrnn {
namespace engine {

// Physical cores (SMT siblings counted once, from /sys where it exists), else hardware_concurrency.
std::size_t physicalCoreCount();

// Rounds of a wait for another thread that only spin, about the time a short job takes.
constexpr std::size_t kSpinRounds = 1 << 10;

// One round of a wait for another thread: a pause for the first kSpinRounds, then the core is yielded, so
// a thread that waits for a descheduled one lets it run on a busy machine.
void spinWait(std::size_t round);

// Test-only: how often a step group's members ran another's share, ran rounds alone, and rejoined.
struct StepGroupCounts {
  std::uint64_t stolenShares = 0, soloRounds = 0, rejoins = 0;
};
StepGroupCounts stepGroupCounts();

// Test-only: member `member` (modulo the group's size) of every step group stays away from every
// `everyRounds`-th round until the others have run it without it, like a member descheduled by another
// process now and then; and a split offered again after rounds alone waits for every member's claim, like
// members all scheduled in time for it. Lateness and punctuality come from round numbers, not the clock,
// so what happens does not depend on the machine's load. Zero turns it off.
void setStepGroupLatenessForTesting(std::size_t member, std::size_t everyRounds);

// The members of one split recurrent step: each round (a step, or a part of one that every unit needs
// before the next) has one share per member, and ends when every share is done. A member claims its own
// share when it arrives; one that finishes its own and finds another's still unclaimed (its owner is late:
// descheduled on a busy machine) claims and runs that one too, so nobody waits a time slice for a member
// that has not started. Having found a member late (or waited long for one that started and was then
// descheduled), a member runs every share of the next rounds alone for a stretch, which doubles while the
// others stay late and halves with each round they are punctual for; the late member rejoins at
// whichever round it finds open. The caller makes a share compute the same thing whoever runs it, so the
// results do not depend on who ran what.
class StepGroup {
 public:
  // Members the claim word has room for.
  static constexpr std::size_t kMaxMembers = 24;

  // What one member carries from round to round; every member of a group sees the same rounds in order.
  struct Member {
    explicit Member(std::size_t index) : index(index) {}
    std::size_t index;
    std::uint32_t round = 0;
    bool opened = false;       // this member opened `round`, its own share claimed with it
    std::size_t soloLeft = 0;  // rounds still to run alone
    bool offering = false;     // the stretch alone is over: this round offers the split again
    std::size_t stretch = 0;   // rounds alone after the last lateness
    std::chrono::steady_clock::duration share{};  // how long its own share took when last timed
  };

  explicit StepGroup(std::size_t members) : members_(members) {}
  std::size_t members() const { return members_; }

  // Called by each member after its last round, so that none sleeps on for rounds that will not come.
  void leave();

  // Runs this member's part of its next round: share(m) for every share m it claims; returns when every
  // share of the round is done (their writes visible). A member running the round alone takes the shares
  // last to first with `lastFirst` (where the caller alternates its order, so what it read last is in cache).
  template <class Share>
  void round(Member& self, Share&& share, bool lastFirst = false) {
    const std::uint32_t r = self.round++;
    if (members_ == 1) {
      share(std::size_t(0));
      return;
    }
    // The member that opened round r claimed its own share of it in the same write (it is running, not
    // waiting to be scheduled, and nobody runs alone), so only the others pay a claim at its start.
    bool ownClaimed = self.opened;
    self.opened = false;
    const bool testing = testLateness_.load(std::memory_order_relaxed);
    if (testing) ownClaimed = beLateForTesting(self, r, ownClaimed);
    if (sleepers_.load() != 0) wakeSleepers(r);
    if (self.soloLeft > 0) {
      self.offering = --self.soloLeft == 0;
      if (self.offering) alone_.store(0, std::memory_order_relaxed);
      countSolo();
      for (std::size_t i = 0; i < members_; ++i) {
        const std::size_t m = lastFirst ? members_ - 1 - i : i;
        if ((m == self.index && ownClaimed) || claim(r, m)) runShare(self, r, m, share);
      }
      waitForRound(r);
      return;
    }
    // Its own share is timed now and then (a share's length changes little from step to step), so that
    // the common round does not read the clock at all.
    const bool timed = r % kTimedEvery == 0 || self.share == Clock::duration(0);
    const auto start = timed ? Clock::now() : Clock::time_point();
    const bool ranOwn = ownClaimed || claim(r, self.index);
    if (ranOwn) runShare(self, r, self.index, share);
    if (timed && ranOwn) self.share = Clock::now() - start;
    // Offered the split again after a stretch alone: under the test hook, every member is there for it.
    const bool offered = self.offering;
    self.offering = false;
    if (testing && offered) awaitClaimsForTesting(r);
    bool stole = false, stoleFromHeld = false;
    for (std::size_t m = 0; m < members_; ++m)
      if (m != self.index && claim(r, m)) {
        runShare(self, r, m, share);
        stole = true;
        countStolen();
        if (testing) stoleFromHeld = stoleFromHeld || heldAwayForTesting(r, m);
      }
    if (!ranOwn) {  // this member was the late one: the others ran its share
      sleepWhileAlone(r);
      waitForOffer(r);
      return;
    }
    const Clock::duration waited = waitForRound(r);
    bool late;
    if (testing) {
      late = stoleFromHeld;  // under the test hook only its absences are lateness, whatever the clock says
    } else {
      // A share taken after a short own share (the state moved in, a worker just woken for the job) says
      // little: the others may simply not have got there yet.
      late = (stole && self.share > kLateShare) || waited > std::max<Clock::duration>(kLateWait, 4 * self.share);
    }
    if (late) {
      self.stretch = std::min(kMaxStretch, std::max<std::size_t>(kMinStretch, 2 * self.stretch));
      self.soloLeft = self.stretch;
      alone_.store(std::uint32_t(self.index + 1), std::memory_order_relaxed);
      // The split is offered again at round r + stretch + 1; the late member is woken about kWakeAhead
      // before, a round alone taking about as long as every member's share.
      const auto roundAlone = std::max<Clock::duration>(std::chrono::microseconds(1), self.share * members_);
      const std::size_t ahead = std::min<std::size_t>(self.stretch, 2 + std::size_t(kWakeAhead / roundAlone));
      wakeRound_.store(r + std::uint32_t(self.stretch + 1 - ahead));
    } else if (self.stretch > 0) {  // every member punctual: the next stretch alone, if any, is shorter
      self.stretch /= 2;
      if (offered) countRejoin();  // offered the split again after a stretch alone, and it was taken
    }
  }

 private:
  using Clock = std::chrono::steady_clock;
  // Waits for the others longer than this (and than a few of this member's own shares) mean one was
  // descheduled midway: on a quiet machine they finish within microseconds of each other.
  static constexpr auto kLateWait = std::chrono::microseconds(50);
  static constexpr auto kLateShare = std::chrono::microseconds(5);
  // Spins of a wait for the round's end (a few microseconds) before it is timed: far below kLateWait.
  static constexpr std::size_t kUntimedSpins = 64;
  // Every how many rounds a member times its own share.
  static constexpr std::uint32_t kTimedEvery = 8;
  static constexpr std::size_t kMinStretch = 2, kMaxStretch = 256;
  // How long before the offer a sleeping member is woken: a wake-up takes tens of microseconds.
  static constexpr auto kWakeAhead = std::chrono::microseconds(200);

  // The claim word: the round (high 32 bits), the shares claimed in it (bits 8..31), shares done (bits 0..7).
  static constexpr int kRoundShift = 32, kClaimShift = 8;
  static std::uint32_t roundOf(std::uint64_t word) { return std::uint32_t(word >> kRoundShift); }
  static std::uint64_t claimBit(std::size_t m) { return std::uint64_t(1) << (kClaimShift + m); }

  friend void setStepGroupLatenessForTesting(std::size_t, std::size_t);
  static std::atomic<bool> testLateness_;
  // Keeps this member away from round r if the test hook says so, until the others have run it; returns
  // whether its share of round r is still its own to run.
  bool beLateForTesting(const Member& self, std::uint32_t r, bool ownClaimed);
  // Waits until every member not kept away from round r has claimed its share (or the round is over).
  void awaitClaimsForTesting(std::uint32_t r);
  // Whether the test hook keeps member m away from round r.
  bool heldAwayForTesting(std::uint32_t r, std::size_t m) const;
  static void countStolen();
  static void countSolo();
  static void countRejoin();

  template <class Share>
  void runShare(Member& self, std::uint32_t r, std::size_t m, Share& share) {
    share(m);
    if (finish(r, self.index)) self.opened = true;
  }
  // Claims share m of round r; false when it is taken or the round is over.
  bool claim(std::uint32_t r, std::size_t m);
  // Counts one share of round r done by member `self`; the last one opens round r + 1, with that member's
  // share of it claimed unless another runs alone (it would keep the late member in), and returns whether
  // it claimed one.
  bool finish(std::uint32_t r, std::size_t self);
  // Returns about how long it waited, or zero for a wait of no more than kUntimedSpins spins.
  Clock::duration waitForRound(std::uint32_t r);
  // The same for a member that was late: it spins without giving its core away for a while (yielding on a
  // busy machine can cost a time slice, and it would be late for the offer again), then as waitForRound.
  void waitForOffer(std::uint32_t r);
  // A member whose share of round r was taken: while the others run alone it sleeps, so that its core
  // goes to them (or to whatever keeps it busy) instead of to a spin, until 2 rounds before the offer.
  void sleepWhileAlone(std::uint32_t r);
  // Wakes the sleepers once round r is the one they sleep until.
  void wakeSleepers(std::uint32_t r);

  const std::size_t members_;
  // The claim word on a line of its own (two directions' groups run side by side); what every member reads
  // each round but seldom changes on another, so that reading it never waits for the claim word's line.
  alignas(64) std::atomic<std::uint64_t> word_{0};
  alignas(64) std::atomic<int> sleepers_{0};
  std::atomic<std::uint32_t> wakeRound_{0};  // the round until which a member whose share was taken sleeps
  std::atomic<bool> left_{false};            // a member has run every round: every round is over
  std::atomic<std::uint32_t> alone_{0};      // 1 + the index of a member running alone, or 0
  std::mutex sleepMutex_;
  std::condition_variable sleep_;
};

class ThreadPool {
 public:
  static ThreadPool& instance();

  // Threads a forward may use, the caller's included (>= 1). Setting waits for a running job to finish;
  // reading does not (it is asked from the JS thread while forwards run on others).
  void setThreadCount(std::size_t threads);
  std::size_t threadCount() const;

  class Lease;
  // Claims the pool for one forward; threads() is 1 when another forward holds it.
  Lease lease();

  ~ThreadPool();

 private:
  ThreadPool();
  struct Job {
    void (*call)(void* context, std::size_t member) = nullptr;
    void* context = nullptr;
    std::size_t members = 0;
    bool shared = false;  // members go to whichever thread claims them, not one thread each
  };
  void resize(std::size_t workers);
  void workerLoop(std::size_t member, std::size_t seenGeneration);
  void runJob(const Job& job);
  // Runs unclaimed members of the shared job posted as `generation` until none is left.
  void claimAndRun(const Job& job, std::size_t generation);

  std::mutex leaseMutex_;  // held by the forward that owns the workers
  std::atomic<std::size_t> threads_{1};  // written with leaseMutex_ held; read without it
  std::vector<std::thread> workers_;

  std::mutex wakeMutex_;
  std::condition_variable wake_;
  Job job_;
  std::atomic<std::size_t> jobGeneration_{0};
  std::atomic<std::size_t> pending_{0};
  // Shared jobs: the job's generation (low 32 bits) above the next unclaimed member, so a worker that
  // wakes after its job has finished cannot claim a member of the next one.
  std::atomic<unsigned long long> claim_{0};
  std::atomic<bool> stopping_{false};
};

class ThreadPool::Lease {
 public:
  Lease(ThreadPool* pool, std::unique_lock<std::mutex> lock, std::size_t threads)
      : pool_(pool), lock_(std::move(lock)), threads_(threads) {}

  std::size_t threads() const { return threads_; }

  // Calls task(member) for member in [0, members) (members <= threads()), member 0 on this thread, and
  // returns when all are done.
  template <class Task>
  void run(std::size_t members, Task& task) {
    post(members, task, false);
  }

  // The same for members that never wait for one another: each runs on whichever thread claims it first
  // (possibly all on this one).
  template <class Task>
  void runShared(std::size_t members, Task& task) {
    post(members, task, true);
  }

 private:
  template <class Task>
  void post(std::size_t members, Task& task, bool shared) {
    if (members <= 1 || (shared && threads_ <= 1)) {  // members that meet at a barrier need their threads
      for (std::size_t m = 0; m < members; ++m) task(m);
      return;
    }
    Job job;
    job.call = [](void* context, std::size_t member) { (*static_cast<Task*>(context))(member); };
    job.context = &task;
    job.members = members;
    job.shared = shared;
    pool_->runJob(job);
  }

  ThreadPool* pool_;
  std::unique_lock<std::mutex> lock_;
  std::size_t threads_;
};

}  // namespace engine
}  // namespace torchrnn
