// Backend selection for -Dsimd=scalar: the reference loops are the kernels.
#include "src/kernels/kernels.h"

namespace descent {
namespace kernels {
const Kernels& ActiveKernels() { return ScalarKernels(); }
}  // namespace kernels
}  // namespace descent
