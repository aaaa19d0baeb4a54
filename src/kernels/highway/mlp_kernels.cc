// The MLP's hot loops as Highway kernels: one register-tiled matrix product
// serves the forward pass and both backward products, plus pixel scaling and
// the fused log-softmax + NLL.
//
// Bit-identity with the scalar reference: products are vectorized across
// output columns, never across the reduction index, so each output element is
// the same chain acc = fma(a_k, b_k, acc), k = 0, 1, ..., at every vector width.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/kernels/highway/mlp_kernels.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "src/kernels/highway/vector_math-inl.h"
#include "src/kernels/kernels.h"
#include "src/kernels/live_terms.h"

HWY_BEFORE_NAMESPACE();
namespace descent {
namespace HWY_NAMESPACE {
namespace {

using D = hn::ScalableTag<float>;
using V = hn::Vec<D>;

// Register tile: kTileRows x kTileVecs accumulators, plus kTileVecs loads of B
// and one broadcast of A, must fit the register file (32 on AVX-512 and NEON, 16 else).
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL || HWY_ARCH_ARM_A64
constexpr size_t kTileRows = 6, kTileVecs = 4;
#else
constexpr size_t kTileRows = 4, kTileVecs = 2;
#endif

// C tile = sum_k A(m, k) * B[k, n] for kRows rows m of A and kVecs vectors of
// columns n; A(m, k) = a[m*a_m + k*a_k], B row k at b + k*ldb. store(m, vec, sum).
// With a `live` list, only those k are summed (the others have A == 0 in all
// kRows rows, see live_terms.h); without one, every k in [0, K).
template <size_t kRows, size_t kVecs, class Store>
HWY_INLINE void Tile(const float* HWY_RESTRICT a, size_t a_m, size_t a_k, const float* HWY_RESTRICT b,
                     size_t ldb, size_t K, const uint16_t* live, size_t m0, size_t vec0, const Store& store) {
  const D d;
  const size_t N = hn::Lanes(d);
  V acc[kRows][kVecs];
  for (size_t r = 0; r < kRows; ++r)
    for (size_t v = 0; v < kVecs; ++v) acc[r][v] = hn::Zero(d);
  const float* a0 = a + m0 * a_m;
  const float* b0 = b + vec0 * N;
  auto term = [&](size_t k) HWY_ATTR {
    V bv[kVecs];
    for (size_t v = 0; v < kVecs; ++v) bv[v] = hn::LoadU(d, b0 + k * ldb + v * N);
    for (size_t r = 0; r < kRows; ++r) {
      const V av = hn::Set(d, a0[r * a_m + k * a_k]);
      for (size_t v = 0; v < kVecs; ++v) acc[r][v] = Fma(d, av, bv[v], acc[r][v]);
    }
  };
  if (live) {
    for (size_t j = 0; j < K; ++j) term(live[j]);
  } else {
    for (size_t k = 0; k < K; ++k) term(k);
  }
  for (size_t r = 0; r < kRows; ++r)
    for (size_t v = 0; v < kVecs; ++v) store(m0 + r, vec0 + v, acc[r][v]);
}

// Tiles of kRows rows for every vector of columns; the remainder takes narrower tiles.
template <size_t kRows, class Store>
HWY_INLINE void TileRow(const float* a, size_t a_m, size_t a_k, const float* b, size_t ldb, size_t vecs, size_t K,
                        const uint16_t* live, size_t m0, const Store& store) {
  size_t vec = 0;
  for (; vec + kTileVecs <= vecs; vec += kTileVecs) Tile<kRows, kTileVecs>(a, a_m, a_k, b, ldb, K, live, m0, vec, store);
  switch (vecs - vec) {
    case 3: Tile<kRows, 3>(a, a_m, a_k, b, ldb, K, live, m0, vec, store); break;
    case 2: Tile<kRows, 2>(a, a_m, a_k, b, ldb, K, live, m0, vec, store); break;
    case 1: Tile<kRows, 1>(a, a_m, a_k, b, ldb, K, live, m0, vec, store); break;
    default: break;
  }
}

// C[m, vec] for m < M and `vecs` vectors of columns. kSparse: A has many
// zeros; each row tile first lists the k where it has any (live_terms.h).
template <bool kSparse, class Store>
void Gemm(const float* a, size_t a_m, size_t a_k, const float* b, size_t ldb, size_t M, size_t vecs, size_t K,
          const Store& store) {
  uint16_t live_buf[kernels::kMaxLiveTerms];
  const bool sparse = kSparse && K <= kernels::kMaxLiveTerms;
  const uint16_t* live = sparse ? live_buf : nullptr;
  size_t m = 0;
  for (; m + kTileRows <= M; m += kTileRows) {
    const size_t k = sparse ? kernels::LiveTerms(a + m * a_m, a_m, a_k, kTileRows, K, live_buf) : K;
    TileRow<kTileRows>(a, a_m, a_k, b, ldb, vecs, k, live, m, store);
  }
  for (; m < M; ++m) {
    const size_t k = sparse ? kernels::LiveTerms(a + m * a_m, a_m, a_k, 1, K, live_buf) : K;
    TileRow<1>(a, a_m, a_k, b, ldb, vecs, k, live, m, store);
  }
}

size_t VectorsFor(size_t n) {
  const size_t N = hn::Lanes(D());
  return (n + N - 1) / N;
}

void LinearForward(const float* HWY_RESTRICT x, size_t x_stride, const float* HWY_RESTRICT wt, size_t wt_stride,
                   float* HWY_RESTRICT y, size_t y_stride, size_t rows, size_t in, size_t out, bool relu,
                   bool sparse_x) {
  const D d;
  const size_t N = hn::Lanes(d);
  const float* bias = wt + in * wt_stride;
  auto store = [&](size_t r, size_t vec, V sum) {
    V v = hn::Add(sum, hn::LoadU(d, bias + vec * N));
    if (relu) v = hn::IfThenZeroElse(hn::Lt(v, hn::Zero(d)), v);  // keeps NaN, like the scalar code
    hn::StoreU(v, d, y + r * y_stride + vec * N);
  };
  if (sparse_x) Gemm<true>(x, x_stride, 1, wt, wt_stride, rows, VectorsFor(out), in, store);
  else Gemm<false>(x, x_stride, 1, wt, wt_stride, rows, VectorsFor(out), in, store);
}

void LinearBackwardInput(const float* HWY_RESTRICT dy, size_t dy_stride, const float* HWY_RESTRICT wp,
                         size_t wp_stride, const float* HWY_RESTRICT act, size_t act_stride, float* HWY_RESTRICT dx,
                         size_t dx_stride, size_t rows, size_t in, size_t out) {
  const D d;
  const size_t N = hn::Lanes(d);
  Gemm<false>(dy, dy_stride, 1, wp, wp_stride, rows, VectorsFor(in), out, [&](size_t r, size_t vec, V sum) {
    const V a = hn::LoadU(d, act + r * act_stride + vec * N);
    hn::StoreU(hn::IfThenElseZero(hn::Gt(a, hn::Zero(d)), sum), d, dx + r * dx_stride + vec * N);
  });
}

void BiasGradient(const float* HWY_RESTRICT dy, size_t dy_stride, float* HWY_RESTRICT db, size_t rows, size_t out) {
  ForEachLane(out, [&](auto d, size_t o) {
    auto acc = hn::Zero(d);
    for (size_t r = 0; r < rows; ++r) acc = hn::Add(acc, hn::LoadU(d, dy + r * dy_stride + o));
    hn::StoreU(acc, d, db + o);
  });
}

void LinearBackwardParams(const float* HWY_RESTRICT dy, size_t dy_stride, const float* HWY_RESTRICT x,
                          size_t x_stride, float* HWY_RESTRICT dw, float* HWY_RESTRICT db, size_t rows, size_t in,
                          size_t out) {
  const D d;
  const size_t N = hn::Lanes(d);
  // dW = dY^T X: A(o, r) = dy[r*dy_stride + o]. Rows of dW are not padded, so the
  // last vector of a row is stored lane by lane.
  Gemm<false>(dy, 1, dy_stride, x, x_stride, out, VectorsFor(in), rows, [&](size_t o, size_t vec, V sum) {
    float* row = dw + o * in + vec * N;
    if ((vec + 1) * N <= in) {
      hn::StoreU(sum, d, row);
    } else {
      HWY_ALIGN float lanes[hn::MaxLanes(d)];
      hn::Store(sum, d, lanes);
      for (size_t i = 0; i < in - vec * N; ++i) row[i] = lanes[i];
    }
  });
  BiasGradient(dy, dy_stride, db, rows, out);
}

// dW^T = X^T dY: A(i, r) = x[r*x_stride + i], skipping samples whose pixels
// i..i+kTileRows are all zero; dwt rows are padded, so whole vectors are stored.
void LinearBackwardParamsT(const float* HWY_RESTRICT x, size_t x_stride, const float* HWY_RESTRICT dy,
                           size_t dy_stride, float* HWY_RESTRICT dwt, size_t dwt_stride, size_t rows, size_t in,
                           size_t out) {
  const D d;
  const size_t N = hn::Lanes(d);
  Gemm<true>(x, 1, x_stride, dy, dy_stride, in, VectorsFor(out), rows, [&](size_t i, size_t vec, V sum) {
    hn::StoreU(sum, d, dwt + i * dwt_stride + vec * N);
  });
}

void ScalePixels(const uint8_t* HWY_RESTRICT src, float* HWY_RESTRICT dst, size_t n) {
  ForEachLane(n, [&](auto d, size_t i) {
    const hn::RebindToSigned<decltype(d)> di;
    const hn::Rebind<uint8_t, decltype(d)> d8;
    const auto pixels = hn::ConvertTo(d, hn::PromoteTo(di, hn::LoadU(d8, src + i)));
    hn::StoreU(hn::Mul(pixels, hn::Set(d, 1.0f / 256.0f)), d, dst + i);
  });
}

// One lane per row: classes are read with a strided gather, so each lane runs
// the scalar code's loop over classes in the same order.
void LogSoftmaxNll(const float* HWY_RESTRICT z, size_t stride, const uint8_t* HWY_RESTRICT labels, size_t rows,
                   size_t classes, size_t batch, float* HWY_RESTRICT loss, float* HWY_RESTRICT dz) {
  const float s = -(1.0f / static_cast<float>(batch));
  ForEachLane(rows, [&](auto d, size_t r0) {
    const hn::RebindToSigned<decltype(d)> di;
    const size_t N = hn::Lanes(d);
    HWY_ALIGN int32_t label_lanes[hn::MaxLanes(d)];
    for (size_t k = 0; k < N; ++k) label_lanes[k] = labels[r0 + k];
    const auto label = hn::Load(di, label_lanes);
    const auto offsets = hn::Mul(hn::Iota(di, 0), hn::Set(di, static_cast<int32_t>(stride)));
    const float* zr = z + r0 * stride;
    auto max = hn::GatherIndex(d, zr, offsets);
    for (size_t j = 1; j < classes; ++j) max = Greater(hn::GatherIndex(d, zr + j, offsets), max);
    auto sum = hn::Zero(d);
    for (size_t j = 0; j < classes; ++j) sum = hn::Add(sum, Exp(d, hn::Sub(hn::GatherIndex(d, zr + j, offsets), max)));
    const auto lse = Log(d, sum);
    const auto scale = hn::Set(d, s);
    auto row_loss = hn::Zero(d);
    for (size_t j = 0; j < classes; ++j) {
      const auto logp = hn::Sub(hn::Sub(hn::GatherIndex(d, zr + j, offsets), max), lse);
      const auto is_label = hn::RebindMask(d, hn::Eq(label, hn::Set(di, static_cast<int32_t>(j))));
      const auto g = hn::IfThenElseZero(is_label, scale);
      hn::ScatterIndex(hn::Sub(g, hn::Mul(Exp(d, logp), scale)), d, dz + r0 * stride + j, offsets);
      row_loss = hn::IfThenElse(is_label, hn::Neg(logp), row_loss);
    }
    hn::StoreU(row_loss, d, loss + r0);
  });
}

}  // namespace
}  // namespace HWY_NAMESPACE
}  // namespace descent
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace descent {
namespace highway {

HWY_EXPORT(ScalePixels);
HWY_EXPORT(LinearForward);
HWY_EXPORT(LinearBackwardInput);
HWY_EXPORT(LinearBackwardParams);
HWY_EXPORT(LinearBackwardParamsT);
HWY_EXPORT(BiasGradient);
HWY_EXPORT(LogSoftmaxNll);

void ScalePixels(const uint8_t* src, float* dst, size_t n) { HWY_DYNAMIC_DISPATCH(ScalePixels)(src, dst, n); }
void LinearForward(const float* x, size_t x_stride, const float* wt, size_t wt_stride, float* y, size_t y_stride,
                   size_t rows, size_t in, size_t out, bool relu, bool sparse_x) {
  HWY_DYNAMIC_DISPATCH(LinearForward)(x, x_stride, wt, wt_stride, y, y_stride, rows, in, out, relu, sparse_x);
}
void LinearBackwardParamsT(const float* x, size_t x_stride, const float* dy, size_t dy_stride, float* dwt,
                           size_t dwt_stride, size_t rows, size_t in, size_t out) {
  HWY_DYNAMIC_DISPATCH(LinearBackwardParamsT)(x, x_stride, dy, dy_stride, dwt, dwt_stride, rows, in, out);
}
void BiasGradient(const float* dy, size_t dy_stride, float* db, size_t rows, size_t out) {
  HWY_DYNAMIC_DISPATCH(BiasGradient)(dy, dy_stride, db, rows, out);
}
void LinearBackwardInput(const float* dy, size_t dy_stride, const float* wp, size_t wp_stride, const float* act,
                         size_t act_stride, float* dx, size_t dx_stride, size_t rows, size_t in, size_t out) {
  HWY_DYNAMIC_DISPATCH(LinearBackwardInput)(dy, dy_stride, wp, wp_stride, act, act_stride, dx, dx_stride, rows, in,
                                            out);
}
void LinearBackwardParams(const float* dy, size_t dy_stride, const float* x, size_t x_stride, float* dw, float* db,
                          size_t rows, size_t in, size_t out) {
  HWY_DYNAMIC_DISPATCH(LinearBackwardParams)(dy, dy_stride, x, x_stride, dw, db, rows, in, out);
}
void LogSoftmaxNll(const float* z, size_t stride, const uint8_t* labels, size_t rows, size_t classes, size_t batch,
                   float* loss, float* dz) {
  HWY_DYNAMIC_DISPATCH(LogSoftmaxNll)(z, stride, labels, rows, classes, batch, loss, dz);
}

}  // namespace highway
}  // namespace descent
#endif  // HWY_ONCE
