// The xsimd backend's kernels for one instruction set: the generic kernels
// (src/kernels/generic/) over xsimd's batch type. src/meson.build compiles this
// file once per instruction set, each time with that set's -m flags and
//   -DDESCENT_XSIMD_ARCH=<xsimd architecture> -DDESCENT_XSIMD_TABLE=<table function name>.
// Everything but the table function has internal linkage, so no code compiled
// for one instruction set can be picked by the linker for another.
#include <stdint.h>
#include <string.h>

#include <cmath>
#include <limits>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "src/kernels/kernels.h"
#include "src/kernels/scalar_math.h"

namespace descent {
namespace xsimd_kernels {
namespace {

template <class Arch>
struct Ops {
  using V = xsimd::batch<float, Arch>;
  using I = xsimd::batch<int32_t, Arch>;
  static constexpr size_t kMaxLanes = V::size;
  static constexpr bool kSmallRegisterFile =
      std::is_same<Arch, xsimd::sse4_2>::value || std::is_same<Arch, xsimd::fma3<xsimd::avx2>>::value;
  // Register tile (see the Highway adapter): 32 vector registers or 16.
  static constexpr size_t kTileRows = kSmallRegisterFile ? 4 : 6, kTileVecs = kSmallRegisterFile ? 2 : 4;
  // Architectures with FMA hardware fuse; the others compute each lane with
  // the exactly rounded std::fma rather than rounding twice.
  static constexpr bool kFused = !std::is_same<Arch, xsimd::sse4_2>::value;

  static size_t Lanes() { return V::size; }
  static V Zero() { return V(0.0f); }
  static V Set(float x) { return V(x); }
  static V Load(const float* p) { return V::load_unaligned(p); }
  static void Store(V v, float* p) { v.store_unaligned(p); }
  static I Offsets(size_t stride) {
    alignas(64) int32_t lanes[V::size];
    for (size_t k = 0; k < V::size; ++k) lanes[k] = static_cast<int32_t>(k * stride);
    return I::load_aligned(lanes);
  }
  static V LoadStrided(const float* p, size_t stride) { return V::gather(p, Offsets(stride)); }
  static void StoreStrided(V v, float* p, size_t stride) { v.scatter(p, Offsets(stride)); }
  static V FromBytes(const uint8_t* p) {
    alignas(64) int32_t lanes[V::size];
    for (size_t k = 0; k < V::size; ++k) lanes[k] = p[k];
    return xsimd::batch_cast<float>(I::load_aligned(lanes));
  }
  static V Fma(V a, V b, V c) {
#if defined(__AVX512F__)
    // xsimd 8.1 has no fused fma for avx512f (it falls back to a*b + c).
    if constexpr (std::is_same<Arch, xsimd::avx512f>::value) return V(_mm512_fmadd_ps(a, b, c));
#endif
    if constexpr (kFused) {
      return xsimd::fma(a, b, c);
    } else {
      alignas(64) float va[V::size], vb[V::size], vc[V::size];
      a.store_aligned(va), b.store_aligned(vb), c.store_aligned(vc);
      for (size_t i = 0; i < V::size; ++i) vc[i] = std::fma(va[i], vb[i], vc[i]);
      return V::load_aligned(vc);
    }
  }
  // Bit i set where lane i of p[0, Lanes()) is non-zero (+0 and -0 are zero).
  static uint64_t NonzeroBits(const float* p) {
    const auto live = (xsimd::bitwise_cast<I>(Load(p)) & I(0x7FFFFFFF)) != I(0);
    alignas(64) int32_t lanes[V::size];
    xsimd::select(live, I(1), I(0)).store_aligned(lanes);
    uint64_t bits = 0;
    for (size_t i = 0; i < V::size; ++i) bits |= static_cast<uint64_t>(lanes[i]) << i;
    return bits;
  }
  static V Sqrt(V x) { return xsimd::sqrt(x); }
  static V Abs(V x) { return xsimd::abs(x); }
  static V Neg(V x) { return -x; }
  template <class M>
  static V Select(M mask, V yes, V no) { return xsimd::select(mask, yes, no); }
  template <class M>
  static M Or(M a, M b) { return a || b; }
  static V Pow2(V n) { return xsimd::bitwise_cast<V>((xsimd::batch_cast<int32_t>(n) + I(127)) << 23); }
  static V Exponent(V x) {
    return xsimd::batch_cast<float>(((xsimd::bitwise_cast<I>(x) >> 23) & I(0x1FF)) - I(126));
  }
  static V Mantissa(V x) { return xsimd::bitwise_cast<V>((xsimd::bitwise_cast<I>(x) & I(0x007FFFFF)) | I(0x3F000000)); }
};

#define DESCENT_ATTR
#include "src/kernels/generic/kernels-inl.h"
#undef DESCENT_ATTR

}  // namespace

kernels::Kernels DESCENT_XSIMD_TABLE() { return MakeTable<Ops<DESCENT_XSIMD_ARCH>>("xsimd"); }

}  // namespace xsimd_kernels
}  // namespace descent
