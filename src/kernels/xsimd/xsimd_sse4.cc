// The xsimd kernels for sse4 (this file is compiled with its -m flags only).
#include "src/kernels/xsimd/xsimd_kernels-inl.h"

namespace descent {
namespace xsimd_kernels {
kernels::Kernels Sse4Table() { return Isa<xsimd::sse4_2>::Table(); }
}  // namespace xsimd_kernels
}  // namespace descent
