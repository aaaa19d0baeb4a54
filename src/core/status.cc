// Status messages, the contract-violation handler and the epoch order.
#include <stdio.h>
#include <stdlib.h>

#include "descent/config.h"
#include "descent/rng.h"
#include "descent/status.h"

namespace descent {

const char* StatusMessage(Status status) {
  switch (status) {
    case Status::kOk: return "ok";
    case Status::kInvalidArgument: return "invalid argument";
    case Status::kShapeMismatch: return "shape mismatch";
    case Status::kNonFinite: return "non-finite value (NaN or infinity)";
    case Status::kCapacityExceeded: return "capacity exceeded";
    case Status::kUnsupported: return "unsupported";
  }
  return "unknown status";
}

namespace {
void DefaultAbort(const char* file, int line, const char* condition) {
  fprintf(stderr, "descent: contract violated at %s:%d: %s\n", file, line, condition);
  abort();
}
AbortHandler g_abort = DefaultAbort;
}  // namespace

void SetAbortHandler(AbortHandler handler) { g_abort = handler ? handler : DefaultAbort; }

void Abort(const char* file, int line, const char* condition) {
  g_abort(file, line, condition);
  abort();  // a handler that returns still ends here
}

void EpochOrder(uint32_t* order, size_t n, uint64_t seed, uint64_t epoch, bool shuffle) {
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
  if (!shuffle) return;
  Rng rng(seed, kStreamShuffle, epoch);
  for (size_t i = n; i > 1; --i) {
    const uint32_t j = rng.Below(static_cast<uint32_t>(i));
    const uint32_t t = order[i - 1];
    order[i - 1] = order[j];
    order[j] = t;
  }
}

}  // namespace descent
