// The generic SIMD layer: every vector kernel written once, against a small
// adapter `Ops`, and instantiated by each backend (highway/, xsimd/) for each of
// its instruction sets. Like simdjson's generic/: a backend includes this file
// *inside its own per-instruction-set namespace*, after <stdint.h>, <string.h>,
// <cmath>, <limits>, src/kernels/kernels.h and src/kernels/scalar_math.h, and
// with DESCENT_ATTR defined (the attribute its lambdas need, or nothing), so
// each instruction set gets its own copy and no inline function is shared
// between translation units compiled with different flags. No include guard.
//
// An Ops adapter is a struct of static functions over its vector type V:
//   kMaxLanes, Lanes(), kTileRows, kTileVecs (the products' register tile)
//   Zero() Set(x) Load(p) Store(v, p) (unaligned), LoadStrided(p, stride) and
//   StoreStrided(v, p, stride) (lane k at p[k*stride]), FromBytes(p) (uint8 lanes as floats)
//   Fma(a, b, c) (a*b + c rounded once, on every target), Sqrt Abs Neg,
//   Select(mask, yes, no), Or(mask, mask), Pow2(n) (2^n, n integral in [-126, 127]),
//   NonzeroBits(p) (bit i set where p[i], i < Lanes() <= 64, is neither +0 nor -0),
//   Exponent(x) / Mantissa(x) (x's exponent field - 126 as a float / its mantissa in [0.5, 1))
// and the operators + - * / < > == != of V. ScalarOps (V = float) is one; the
// loops run it for the elements past the last whole vector, so nothing is read
// or written past n, and every element gets the same operations either way.

#include "src/kernels/generic/scalar_ops-inl.h"
#include "src/kernels/generic/math-inl.h"
#include "src/kernels/generic/live_terms-inl.h"
#include "src/kernels/generic/gemm-inl.h"
#include "src/kernels/generic/linear-inl.h"
#include "src/kernels/generic/loss-inl.h"
#include "src/kernels/generic/activations-inl.h"
#include "src/kernels/generic/updates-inl.h"

// The whole kernel table of one instruction set.
template <class O>
kernels::Kernels MakeTable(const char* backend) {
  kernels::Kernels k{};
  k.backend = backend;
#define DESCENT_FILL(field, Function, params) k.field = &Function<O>;
  DESCENT_KERNELS(DESCENT_FILL)
#undef DESCENT_FILL
  ForEachType(Rules{}, [&](auto rule) {
    using Rule = decltype(rule);
    k.set_update<Rule>(&Update<O>);
  });
  return k;
}
