// The engine's own threads: the caller plus (threads - 1) workers, shared by the whole process.
//
// One forward at a time holds the pool through a Lease; a forward that finds the pool taken (several
// forwardAsync calls on libuv's threadpool, or a sync call meanwhile) runs single-threaded on its own
// thread rather than wait, so concurrent calls never share workers or scratch and never deadlock.
// Workers spin briefly after a job (back-to-back calls pay no wake-up), then sleep on a condition
// variable: an idle process burns no CPU.
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

  // Threads a forward may use, the caller's included (>= 1). Waits for a running job to finish.
  void setThreadCount(std::size_t threads);
  std::size_t threadCount();

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
  };
  void resize(std::size_t workers);
  void workerLoop(std::size_t member, std::size_t seenGeneration);
  void runJob(const Job& job);

  std::mutex leaseMutex_;  // held by the forward that owns the workers
  std::size_t threads_ = 1;
  std::vector<std::thread> workers_;

  std::mutex wakeMutex_;
  std::condition_variable wake_;
  Job job_;
  std::atomic<std::size_t> jobGeneration_{0};
  std::atomic<std::size_t> pending_{0};
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
    if (members <= 1) {
      task(std::size_t{0});
      return;
    }
    Job job;
    job.call = [](void* context, std::size_t member) { (*static_cast<Task*>(context))(member); };
    job.context = &task;
    job.members = members;
    pool_->runJob(job);
  }

 private:
  ThreadPool* pool_;
  std::unique_lock<std::mutex> lock_;
  std::size_t threads_;
};

}  // namespace engine
}  // namespace torchrnn
