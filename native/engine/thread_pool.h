// The engine's own threads: the caller plus (threads - 1) workers, shared by the whole process.
//
// One forward at a time holds the pool through a Lease; a forward that finds the pool taken (several
// forwardAsync calls on libuv's threadpool, or a sync call meanwhile) runs single-threaded on its own
// thread rather than wait, so concurrent calls never share workers or scratch and never deadlock.
// Workers spin briefly after a job (back-to-back calls pay no wake-up), then sleep on a condition
// variable: an idle process burns no CPU. Independent members (runShared) go to whichever thread claims
// them first, so on a busy machine a worker that is not scheduled yet delays nothing: the caller does
// its share too. Members that meet at a barrier (run) need a thread each.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
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

// Spin barrier for the members of one parallel job (one per recurrent step): spins, then yields, so an
// oversubscribed machine still makes progress.
class StepBarrier {
 public:
  explicit StepBarrier(std::size_t members) : members_(members) {}
  void arriveAndWait();

 private:
  const std::size_t members_;
  std::atomic<std::size_t> arrived_{0};
  std::atomic<std::size_t> generation_{0};
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
