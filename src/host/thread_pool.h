// A small thread pool that implements the core's ParallelFor hook. Workers
// spin briefly between parallel loops (a training step runs a dozen of them,
// each tens of microseconds long), then sleep.
#ifndef DESCENT_SRC_HOST_THREAD_POOL_H_
#define DESCENT_SRC_HOST_THREAD_POOL_H_

#include <stddef.h>
#include <stdint.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "descent/parallel.h"

namespace descent {
namespace host {

class ThreadPool {
 public:
  // `threads` workers in all, the calling thread included.
  explicit ThreadPool(size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // The hook to pass to the core; serial when threads == 1.
  ParallelFor parallel_for();

 private:
  static void Run(void* pool, size_t parts, ParallelFor::Task task, void* context);
  void Work();          // a worker's life
  void RunParts(uint64_t generation);  // take parts of that loop until none is left

  size_t threads_;
  std::vector<std::thread> workers_;
  std::atomic<ParallelFor::Task> task_{nullptr};
  std::atomic<void*> context_{nullptr};
  std::atomic<size_t> offset_{0}, remaining_{0};
  std::atomic<uint64_t> loop_{0};  // generation | parts | next part (see .cc)
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace host
}  // namespace descent

#endif  // DESCENT_SRC_HOST_THREAD_POOL_H_
