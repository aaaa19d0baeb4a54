// Spin-then-sleep thread pool behind ParallelFor.
//
// A loop is described by one atomic word: generation (high 32 bits), number of
// parts (16 bits) and next unclaimed part (low 16 bits). A worker claims a part
// with a compare-and-swap on the word it woke for, so a slow worker left over
// from the previous loop can never claim (and count down) a part of the next
// one: its swap fails as soon as the generation has moved on.
#include "src/host/thread_pool.h"

#include <chrono>

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
// How long an idle worker spins before it sleeps: longer than the serial gaps
// between the parallel loops of a training step (a sleeping worker costs a futex
// wake-up, and the loop that woke it runs on the caller alone meanwhile). Timed,
// not counted: a PAUSE takes ~3 cycles on Zen 1 and ~140 on Skylake.
constexpr auto kSpinTime = std::chrono::microseconds(200);
constexpr uint64_t kMaxParts = 0xFFFF;

constexpr uint64_t Generation(uint64_t word) { return word >> 32; }
constexpr uint64_t Parts(uint64_t word) { return (word >> 16) & kMaxParts; }
constexpr uint64_t Next(uint64_t word) { return word & kMaxParts; }
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

void ThreadPool::RunParts(uint64_t generation) {
  uint64_t word = loop_.load();
  for (;;) {
    if (Generation(word) != generation || Next(word) >= Parts(word)) return;
    if (!loop_.compare_exchange_weak(word, word + 1)) continue;  // `word` reloaded
    // The loop cannot be replaced while this part is unfinished, so task_ and
    // context_ still describe it.
    task_.load()(context_.load(), offset_.load() + Next(word));
    remaining_.fetch_sub(1);
    word = loop_.load();
  }
}

void ThreadPool::Run(void* pool, size_t parts, ParallelFor::Task task, void* context) {
  ThreadPool& self = *static_cast<ThreadPool*>(pool);
  for (size_t offset = 0; offset < parts; offset += kMaxParts) {
    const uint64_t n = parts - offset < kMaxParts ? parts - offset : kMaxParts;
    self.task_ = task;
    self.context_ = context;
    self.offset_ = offset;
    self.remaining_ = n;
    uint64_t generation;
    {
      std::lock_guard<std::mutex> lock(self.mutex_);
      generation = Generation(self.loop_.load()) + 1;
      self.loop_ = generation << 32 | n << 16;  // publishes the loop (seq_cst)
    }
    self.wake_.notify_all();
    self.RunParts(generation);
    while (self.remaining_.load() != 0) Pause();
  }
}

void ThreadPool::Work() {
  uint64_t seen = 0;
  const auto fresh = [&] { return Generation(loop_.load()) != seen || stop_.load(); };
  for (;;) {
    const auto give_up = std::chrono::steady_clock::now() + kSpinTime;
    for (int spins = 1; !fresh(); ++spins) {
      Pause();
      if (spins % 64 == 0 && std::chrono::steady_clock::now() > give_up) break;
    }
    if (!fresh()) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, fresh);
    }
    if (stop_.load()) return;
    seen = Generation(loop_.load());
    RunParts(seen);
  }
}

}  // namespace host
}  // namespace descent
