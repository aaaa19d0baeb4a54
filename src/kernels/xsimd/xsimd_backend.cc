// The xsimd backend: one kernel table per instruction set compiled in, the
// best one the CPU runs chosen at first use, or the one DESCENT_ISA names.
#include <stdlib.h>
#include <string.h>

#include <xsimd/config/xsimd_cpuid.hpp>

#include "descent/backend.h"
#include "src/kernels/kernels.h"

namespace descent {
namespace xsimd_kernels {
// Each defined in xsimd_<isa>.cc, built only where the compiler targets it.
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

kernels::Kernels g_tables[kNumIsas];
const kernels::Kernels* g_active = nullptr;
const char* g_isa = nullptr;

Status Select(size_t i) {
  if (!kIsas[i].supported()) return Status::kUnsupported;
  if (!g_tables[i].backend) g_tables[i] = kIsas[i].table();
  g_active = &g_tables[i];
  g_isa = kIsas[i].name;
  return Status::kOk;
}

void Initialize() {
  if (g_active) return;
  for (size_t i = 0; i < kNumIsas; ++i)
    if (Select(i) == Status::kOk) break;
  if (const char* pinned = getenv("DESCENT_ISA")) (void)SelectIsa(pinned);
}

}  // namespace
}  // namespace xsimd_kernels

const char* BackendName() { return "xsimd"; }

size_t CompiledIsas(const char** names, size_t capacity) {
  for (size_t i = 0; i < xsimd_kernels::kNumIsas && i < capacity; ++i) names[i] = xsimd_kernels::kIsas[i].name;
  return xsimd_kernels::kNumIsas;
}

size_t SupportedIsas(const char** names, size_t capacity) {
  size_t n = 0;
  for (const auto& isa : xsimd_kernels::kIsas) {
    if (!isa.supported()) continue;
    if (n < capacity) names[n] = isa.name;
    ++n;
  }
  return n;
}

const char* ActiveIsa() {
  xsimd_kernels::Initialize();
  return xsimd_kernels::g_isa;
}

Status SelectIsa(const char* name) {
  xsimd_kernels::Initialize();
  for (size_t i = 0; i < xsimd_kernels::kNumIsas; ++i)
    if (strcmp(name, xsimd_kernels::kIsas[i].name) == 0) return xsimd_kernels::Select(i);
  return Status::kUnsupported;
}

namespace kernels {
const Kernels& ActiveKernels() {
  xsimd_kernels::Initialize();
  return *xsimd_kernels::g_active;
}
}  // namespace kernels

}  // namespace descent
