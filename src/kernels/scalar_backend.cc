// Backend selection for -Dsimd=scalar: the reference loops are the kernels.
#include <string.h>

#include "descent/backend.h"
#include "src/kernels/kernels.h"

namespace descent {

const char* BackendName() { return "scalar"; }

size_t CompiledIsas(const char** names, size_t capacity) {
  if (capacity > 0) names[0] = "scalar";
  return 1;
}
size_t SupportedIsas(const char** names, size_t capacity) { return CompiledIsas(names, capacity); }
const char* ActiveIsa() { return "scalar"; }
Status SelectIsa(const char* name) { return strcmp(name, "scalar") == 0 ? Status::kOk : Status::kUnsupported; }

namespace kernels {
const Kernels& ActiveKernels() { return ScalarKernels(); }
}  // namespace kernels

}  // namespace descent
