// Spin-then-sleep thread pool behind ParallelFor.
#include "src/host/thread_pool.h"

namespace descent {
namespace host {
namespace {
inline void Pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}
constexpr int kSpins = 20000;  // ~100 us before a worker sleeps
}  // namespace

ThreadPool::ThreadPool(size_t threads) : threads_(threads < 1 ? 1 : threads) {
  for (size_t i = 1; i < threads_; ++i) workers_.emplace_back([this] { Work(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

ParallelFor ThreadPool::parallel_for() {
  ParallelFor pf;
  pf.workers = threads_;
  if (threads_ > 1) {
    pf.run = &ThreadPool::Run;
    pf.pool = this;
  }
  return pf;
}

void ThreadPool::RunParts() {
  for (;;) {
    const size_t part = next_.fetch_add(1);
    if (part >= parts_.load()) return;
    task_.load()(context_.load(), part);
    remaining_.fetch_sub(1);
  }
}

void ThreadPool::Run(void* pool, size_t parts, ParallelFor::Task task, void* context) {
  ThreadPool& self = *static_cast<ThreadPool*>(pool);
  // A worker still leaving the previous loop may take one more index: make it
  // out of range until the new loop is fully described (all atomics are seq_cst).
  self.next_ = size_t{1} << 62;
  self.task_ = task;
  self.context_ = context;
  self.parts_ = parts;
  self.remaining_ = parts;
  self.next_ = 0;
  {
    std::lock_guard<std::mutex> lock(self.mutex_);
    ++self.generation_;
  }
  self.wake_.notify_all();
  self.RunParts();
  while (self.remaining_.load() != 0) Pause();
}

void ThreadPool::Work() {
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    while (generation_.load() == seen && !stop_.load() && spins < kSpins) Pause(), ++spins;
    if (generation_.load() == seen && !stop_.load()) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load() != seen || stop_.load(); });
    }
    if (stop_.load()) return;
    seen = generation_.load();
    RunParts();
  }
}

}  // namespace host
}  // namespace descent
