// The xsimd kernels for avx2 (this file is compiled with its -m flags only).
#include "src/kernels/xsimd/xsimd_kernels-inl.h"

namespace descent {
namespace xsimd_kernels {
kernels::Kernels Avx2Table() { return Isa<xsimd::fma3<xsimd::avx2>>::Table(); }
}  // namespace xsimd_kernels
}  // namespace descent
