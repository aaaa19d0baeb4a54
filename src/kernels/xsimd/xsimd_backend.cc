// The xsimd backend: one kernel table per instruction set compiled in
// (xsimd_isa.cc), all built once, thread-safely, on first use; the best one the
// CPU runs is chosen then, or the one DESCENT_ISA names.
#include <stdlib.h>
#include <string.h>

#include <atomic>
#include <mutex>
#include <xsimd/config/xsimd_cpuid.hpp>

#include "descent/backend.h"
#include "src/kernels/kernels.h"

namespace descent {
namespace xsimd_kernels {
// Each defined by xsimd_isa.cc, built only where the compiler targets it.
kernels::Kernels Avx512Table();
kernels::Kernels Avx2Table();
kernels::Kernels Sse4Table();
kernels::Kernels NeonTable();

namespace {

struct Isa {
  const char* name;
  bool (*supported)();
  kernels::Kernels (*table)();
};

const Isa kIsas[] = {
#if DESCENT_XSIMD_AVX512
    {"avx512", [] { return xsimd::available_architectures().avx512f != 0; }, Avx512Table},
#endif
#if DESCENT_XSIMD_AVX2
    {"avx2", [] { return xsimd::available_architectures().fma3_avx2 != 0; }, Avx2Table},
#endif
#if DESCENT_XSIMD_SSE4
    {"sse4", [] { return xsimd::available_architectures().sse4_2 != 0; }, Sse4Table},
#endif
#if DESCENT_XSIMD_NEON
    {"neon", [] { return xsimd::available_architectures().neon64 != 0; }, NeonTable},
#endif
    {"scalar", [] { return true; }, [] { return kernels::ScalarKernels(); }},
};
constexpr size_t kNumIsas = sizeof(kIsas) / sizeof(kIsas[0]);

std::once_flag g_once;
kernels::Kernels g_tables[kNumIsas];
bool g_runs[kNumIsas];
std::atomic<size_t> g_active{kNumIsas - 1};

size_t Find(const char* name) {
  for (size_t i = 0; i < kNumIsas; ++i)
    if (strcmp(name, kIsas[i].name) == 0) return i;
  return kNumIsas;
}

void Initialize() {
  std::call_once(g_once, [] {
    size_t best = kNumIsas;
    for (size_t i = 0; i < kNumIsas; ++i) {
      g_runs[i] = kIsas[i].supported();
      if (!g_runs[i]) continue;
      g_tables[i] = kIsas[i].table();
      if (best == kNumIsas) best = i;
    }
    if (const char* pinned = getenv("DESCENT_ISA")) {
      const size_t i = Find(pinned);
      if (i < kNumIsas && g_runs[i]) best = i;
    }
    g_active.store(best, std::memory_order_release);
  });
}

}  // namespace
}  // namespace xsimd_kernels

const char* BackendName() { return "xsimd"; }

size_t CompiledIsas(const char** names, size_t capacity) {
  for (size_t i = 0; i < xsimd_kernels::kNumIsas && i < capacity; ++i) names[i] = xsimd_kernels::kIsas[i].name;
  return xsimd_kernels::kNumIsas;
}

size_t SupportedIsas(const char** names, size_t capacity) {
  xsimd_kernels::Initialize();
  size_t n = 0;
  for (size_t i = 0; i < xsimd_kernels::kNumIsas; ++i) {
    if (!xsimd_kernels::g_runs[i]) continue;
    if (n < capacity) names[n] = xsimd_kernels::kIsas[i].name;
    ++n;
  }
  return n;
}

const char* ActiveIsa() {
  xsimd_kernels::Initialize();
  return xsimd_kernels::kIsas[xsimd_kernels::g_active.load(std::memory_order_acquire)].name;
}

Status SelectIsa(const char* name) {
  xsimd_kernels::Initialize();
  const size_t i = xsimd_kernels::Find(name);
  if (i >= xsimd_kernels::kNumIsas || !xsimd_kernels::g_runs[i]) return Status::kUnsupported;
  xsimd_kernels::g_active.store(i, std::memory_order_release);
  return Status::kOk;
}

namespace kernels {
const Kernels& ActiveKernels() {
  xsimd_kernels::Initialize();
  return xsimd_kernels::g_tables[xsimd_kernels::g_active.load(std::memory_order_acquire)];
}
}  // namespace kernels

}  // namespace descent
