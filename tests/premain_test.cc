// With -Ddispatch=static, linking the core allocates nothing before main (the
// dynamic build links libhwy.so, whose load-time initializer allocates 519 times
// here). Counts every malloc from process start; no test framework, whose own
// registration would allocate. The only allocation allowed is libstdc++'s own:
// its emergency exception pool, one block (72,704 bytes with GCC 12) made when
// libstdc++.so is loaded, by any C++ program that uses it. The first training
// step is counted too (the instruction-set choice included): nothing.
#include <stdio.h>
#include <stdlib.h>

#include "descent/descent.h"

extern "C" void* __libc_malloc(size_t);
extern "C" void* __libc_calloc(size_t, size_t);
extern "C" void* __libc_realloc(void*, size_t);

namespace {
size_t g_allocations = 0, g_first_size = 0;
}  // namespace

extern "C" void* malloc(size_t n) {
  if (g_allocations++ == 0) g_first_size = n;
  return __libc_malloc(n);
}
extern "C" void* calloc(size_t n, size_t m) { return ++g_allocations, __libc_calloc(n, m); }
extern "C" void* realloc(void* p, size_t n) { return ++g_allocations, __libc_realloc(p, n); }

int main() {
  const size_t before_main = g_allocations;
  static descent::Mlp<16, 8, 4> net;
  static descent::Workspace<descent::Mlp<16, 8, 4>, 4> ws;
  static descent::Optimizer<descent::Adam, descent::Mlp<16, 8, 4>::kNumParams> opt;
  static const uint8_t pixels[4 * 16] = {1, 2, 3}, labels[4] = {0, 1, 2, 3};
  descent::Init(net, 1);
  float loss = 0;
  const bool ok = ws.LoadImages(pixels, labels, nullptr, 4) == descent::Status::kOk &&
                  descent::TrainStep(net, ws, opt, 4, &loss) == descent::Status::kOk;
  const size_t in_step = g_allocations - before_main;
  printf("allocations before main: %zu (first %zu bytes), in the first training step: %zu (%s)\n", before_main,
         g_first_size, in_step, descent::ActiveIsa());
  const size_t libstdcxx_pool = before_main == 1 && g_first_size >= 64 * 1024 ? 1 : 0;
  return ok && before_main == libstdcxx_pool && in_step == 0 ? 0 : 1;
}
