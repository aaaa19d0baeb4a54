// The xsimd kernels for neon (this file is compiled with its -m flags only).
#include "src/kernels/xsimd/xsimd_kernels-inl.h"

namespace descent {
namespace xsimd_kernels {
kernels::Kernels NeonTable() { return Isa<xsimd::neon64>::Table(); }
}  // namespace xsimd_kernels
}  // namespace descent
