// The xsimd kernels for avx512 (this file is compiled with its -m flags only).
#include "src/kernels/xsimd/xsimd_kernels-inl.h"

namespace descent {
namespace xsimd_kernels {
kernels::Kernels Avx512Table() { return Isa<xsimd::avx512f>::Table(); }
}  // namespace xsimd_kernels
}  // namespace descent
