// The Highway backend: the generic kernels (src/kernels/generic/) compiled once
// per instruction set by foreach_target, one kernel table per target, and the
// choice among them (made once, thread-safely; Highway's own dispatch state is
// never consulted or changed). With -Ddispatch=static only the compiler's target
// is compiled and nothing of libhwy is linked.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/kernels/highway/highway_kernels.cc"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>

#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "src/kernels/kernels.h"
#include "src/kernels/scalar_math.h"

HWY_BEFORE_NAMESPACE();
namespace descent {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The generic layer's adapter for this target's full vectors.
struct Ops {
  using D = hn::ScalableTag<float>;
  using V = hn::Vec<D>;
  static constexpr size_t kMaxLanes = hn::MaxLanes(D());
  // Register tile: kTileRows x kTileVecs accumulators, plus kTileVecs loads of B
  // and one broadcast of A, must fit the register file (32 on AVX-512 and NEON, 16 else).
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL || HWY_ARCH_ARM_A64
  static constexpr size_t kTileRows = 6, kTileVecs = 4;
#else
  static constexpr size_t kTileRows = 4, kTileVecs = 2;
#endif
  static HWY_INLINE size_t Lanes() { return hn::Lanes(D()); }
  static HWY_INLINE V Zero() { return hn::Zero(D()); }
  static HWY_INLINE V Set(float x) { return hn::Set(D(), x); }
  static HWY_INLINE V Load(const float* p) { return hn::LoadU(D(), p); }
  static HWY_INLINE void Store(V v, float* p) { hn::StoreU(v, D(), p); }
  static HWY_INLINE hn::Vec<hn::RebindToSigned<D>> Offsets(size_t stride) {
    const hn::RebindToSigned<D> di;
    return hn::Mul(hn::Iota(di, 0), hn::Set(di, static_cast<int32_t>(stride)));
  }
  static HWY_INLINE V LoadStrided(const float* p, size_t stride) { return hn::GatherIndex(D(), p, Offsets(stride)); }
  static HWY_INLINE void StoreStrided(V v, float* p, size_t stride) { hn::ScatterIndex(v, D(), p, Offsets(stride)); }
  static HWY_INLINE V FromBytes(const uint8_t* p) {
    const hn::RebindToSigned<D> di;
    const hn::Rebind<uint8_t, D> d8;
    return hn::ConvertTo(D(), hn::PromoteTo(di, hn::LoadU(d8, p)));
  }
  // a*b + c rounded once. Targets without FMA hardware (SSE4, EMU128, SCALAR)
  // would otherwise round twice, so they call the exactly rounded std::fma per
  // lane: slow, but the same bits as every other target.
  static HWY_INLINE V Fma(V a, V b, V c) {
#if HWY_NATIVE_FMA
    return hn::MulAdd(a, b, c);
#else
    HWY_ALIGN float va[kMaxLanes], vb[kMaxLanes], vc[kMaxLanes];
    hn::Store(a, D(), va), hn::Store(b, D(), vb), hn::Store(c, D(), vc);
    for (size_t i = 0; i < Lanes(); ++i) vc[i] = std::fma(va[i], vb[i], vc[i]);
    return hn::Load(D(), vc);
#endif
  }
  // Bit i set where lane i of p[0, Lanes()) is non-zero (+0 and -0 are zero).
  static HWY_INLINE uint64_t NonzeroBits(const float* p) {
    const hn::RebindToUnsigned<D> du;
    const auto magnitude = hn::And(hn::BitCast(du, hn::LoadU(D(), p)), hn::Set(du, 0x7FFFFFFFu));
    uint8_t bytes[8] = {};  // lane i is bit i % 8 of byte i / 8
    hn::StoreMaskBits(du, hn::Ne(magnitude, hn::Zero(du)), bytes);
    uint64_t bits;
    memcpy(&bits, bytes, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    bits = __builtin_bswap64(bits);
#endif
    return bits;
  }
  static HWY_INLINE V Sqrt(V x) { return hn::Sqrt(x); }
  static HWY_INLINE V Abs(V x) { return hn::Abs(x); }
  static HWY_INLINE V Neg(V x) { return hn::Neg(x); }
  template <class M>
  static HWY_INLINE V Select(M mask, V yes, V no) { return hn::IfThenElse(mask, yes, no); }
  template <class M>
  static HWY_INLINE M Or(M a, M b) { return hn::Or(a, b); }
  static HWY_INLINE V Pow2(V n) {
    const hn::RebindToSigned<D> di;
    return hn::BitCast(D(), hn::ShiftLeft<23>(hn::Add(hn::ConvertTo(di, n), hn::Set(di, 127))));
  }
  static HWY_INLINE V Exponent(V x) {
    const hn::RebindToUnsigned<D> du;
    const hn::RebindToSigned<D> di;
    return hn::ConvertTo(D(), hn::Sub(hn::BitCast(di, hn::ShiftRight<23>(hn::BitCast(du, x))), hn::Set(di, 126)));
  }
  static HWY_INLINE V Mantissa(V x) {
    const hn::RebindToUnsigned<D> du;
    return hn::BitCast(D(), hn::Or(hn::And(hn::BitCast(du, x), hn::Set(du, 0x007FFFFFu)), hn::Set(du, 0x3F000000u)));
  }
};

#define DESCENT_ATTR HWY_ATTR
#include "src/kernels/generic/kernels-inl.h"
#undef DESCENT_ATTR

kernels::Kernels Table() { return MakeTable<Ops>("highway"); }

}  // namespace HWY_NAMESPACE
}  // namespace descent
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "descent/backend.h"

namespace descent {
namespace highway {
namespace {

// Every target this build compiled, best first, under our names.
struct Target {
  int64_t bit;
  const char* name;
  kernels::Kernels (*table)();
};
constexpr Target kTargets[] = {
#if HWY_TARGETS & HWY_AVX3_DL
    {HWY_AVX3_DL, "avx512_dl", &N_AVX3_DL::Table},
#endif
#if HWY_TARGETS & HWY_AVX3
    {HWY_AVX3, "avx512", &N_AVX3::Table},
#endif
#if HWY_TARGETS & HWY_AVX2
    {HWY_AVX2, "avx2", &N_AVX2::Table},
#endif
#if HWY_TARGETS & HWY_SSE4
    {HWY_SSE4, "sse4", &N_SSE4::Table},
#endif
#if HWY_TARGETS & HWY_NEON
    {HWY_NEON, "neon", &N_NEON::Table},
#endif
#if HWY_TARGETS & HWY_EMU128
    {HWY_EMU128, "emu128", &N_EMU128::Table},
#endif
#if HWY_TARGETS & HWY_SCALAR
    {HWY_SCALAR, "hwy_scalar", &N_SCALAR::Table},
#endif
};
constexpr size_t kNumTargets = sizeof(kTargets) / sizeof(kTargets[0]);

// The tables, built once; entry kNumTargets is the scalar reference.
struct Choice {
  kernels::Kernels tables[kNumTargets + 1];
  int64_t supported = 0;
};
std::once_flag g_once;
Choice g_choice;
std::atomic<size_t> g_active{kNumTargets};

bool Runs(size_t i) { return i == kNumTargets || (g_choice.supported & kTargets[i].bit) != 0; }
const char* NameOf(size_t i) { return i == kNumTargets ? "scalar" : kTargets[i].name; }

size_t Find(const char* name) {
  for (size_t i = 0; i <= kNumTargets; ++i)
    if (strcmp(name, NameOf(i)) == 0) return i;
  return kNumTargets + 1;
}

void Initialize() {
  std::call_once(g_once, [] {
#if DESCENT_STATIC_DISPATCH
    g_choice.supported = HWY_STATIC_TARGET;  // the build's -march: the CPU must have it
#else
    g_choice.supported = hwy::SupportedTargets();
#endif
    // A target's table is built by code compiled for that target (AVX-512 stores
    // fill it), so only the targets this CPU runs are built.
    for (size_t i = 0; i < kNumTargets; ++i)
      if (Runs(i)) g_choice.tables[i] = kTargets[i].table();
    g_choice.tables[kNumTargets] = kernels::ScalarKernels();
    size_t best = 0;
    while (!Runs(best)) ++best;
    if (const char* pinned = getenv("DESCENT_ISA")) {
      const size_t i = Find(pinned);
      if (i <= kNumTargets && Runs(i)) best = i;
    }
    g_active.store(best, std::memory_order_release);
  });
}

size_t List(bool only_supported, const char** names, size_t capacity) {
  Initialize();
  size_t n = 0;
  for (size_t i = 0; i <= kNumTargets; ++i) {
    if (only_supported && !Runs(i)) continue;
    if (n < capacity) names[n] = NameOf(i);
    ++n;
  }
  return n;
}

}  // namespace
}  // namespace highway

const char* BackendName() { return "highway"; }
size_t CompiledIsas(const char** names, size_t capacity) { return highway::List(false, names, capacity); }
size_t SupportedIsas(const char** names, size_t capacity) { return highway::List(true, names, capacity); }

const char* ActiveIsa() {
  highway::Initialize();
  return highway::NameOf(highway::g_active.load(std::memory_order_acquire));
}

Status SelectIsa(const char* name) {
  highway::Initialize();
  const size_t i = highway::Find(name);
  if (i > highway::kNumTargets || !highway::Runs(i)) return Status::kUnsupported;
  highway::g_active.store(i, std::memory_order_release);
  return Status::kOk;
}

namespace kernels {
const Kernels& ActiveKernels() {
  highway::Initialize();
  return highway::g_choice.tables[highway::g_active.load(std::memory_order_acquire)];
}
}  // namespace kernels

}  // namespace descent
#endif  // HWY_ONCE
