// The core has no threads of its own: a caller who wants several supplies a
// parallel-for. Work is split by outputs (batch rows, weight rows, parameter
// ranges), never inside a sum, so results are bit-identical for every number
// of workers.
#ifndef DESCENT_PARALLEL_H_
#define DESCENT_PARALLEL_H_

#include <stddef.h>

namespace descent {

struct ParallelFor {
  using Task = void (*)(void* context, size_t part);
  // Runs task(context, part) for every part in [0, parts), possibly
  // concurrently, and returns when all have finished.
  void (*run)(void* pool, size_t parts, Task task, void* context) = nullptr;
  void* pool = nullptr;
  size_t workers = 1;  // how many parts to split each loop into

  // Serial when no pool is set.
  template <class F>
  void For(size_t parts, const F& f) const {
    if (!run || parts <= 1) {
      for (size_t p = 0; p < parts; ++p) f(p);
      return;
    }
    run(pool, parts, [](void* context, size_t part) { (*static_cast<const F*>(context))(part); },
        const_cast<F*>(&f));
  }

  // For with a yes/no answer per part: whether f(part) said yes for all of them.
  // Each answer has its own place on the stack, 64 parts at a time.
  template <class F>
  bool All(size_t parts, const F& f) const {
    constexpr size_t kBatch = 64;
    bool all = true;
    for (size_t first = 0; first < parts; first += kBatch) {
      const size_t n = parts - first < kBatch ? parts - first : kBatch;
      bool yes[kBatch];
      For(n, [&](size_t part) { yes[part] = f(first + part); });
      for (size_t part = 0; part < n; ++part) all = all && yes[part];
    }
    return all;
  }
};

// [begin, end) of part p of n items split into `parts` ranges whose
// boundaries are multiples of `grain` (the last range takes the rest).
struct Range {
  size_t begin, end;
};
inline Range Split(size_t n, size_t parts, size_t p, size_t grain) {
  const size_t units = (n + grain - 1) / grain;
  const size_t b = units * p / parts * grain, e = units * (p + 1) / parts * grain;
  return {b < n ? b : n, e < n ? e : n};
}

}  // namespace descent

#endif  // DESCENT_PARALLEL_H_
