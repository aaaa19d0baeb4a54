// The kernels written with xsimd, templated on the architecture and
// instantiated once per instruction set (xsimd_<isa>.cc, each compiled with
// its own -m flags). Same algorithms as the Highway kernels; remainders that
// do not fill a vector run the scalar reference loops, which perform the same
// operations per element, so every instruction set gives the same bits.
#ifndef DESCENT_SRC_KERNELS_XSIMD_XSIMD_KERNELS_INL_H_
#define DESCENT_SRC_KERNELS_XSIMD_XSIMD_KERNELS_INL_H_

#include <cmath>
#include <limits>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "src/kernels/kernels.h"
#include "src/kernels/live_terms.h"
#include "src/kernels/scalar_math.h"

namespace descent {
namespace xsimd_kernels {

template <class Arch>
struct Isa {
  using F = xsimd::batch<float, Arch>;
  using I = xsimd::batch<int32_t, Arch>;
  static constexpr size_t N = F::size;
  // Architectures with FMA hardware fuse; the others compute each lane with
  // the exactly rounded std::fma rather than rounding twice.
  static constexpr bool kFused = !std::is_same<Arch, xsimd::sse4_2>::value;
  // Register tile (see the Highway kernels): 32 vector registers or 16.
  static constexpr size_t kTileRows = std::is_same<Arch, xsimd::sse4_2>::value ||
                                              std::is_same<Arch, xsimd::fma3<xsimd::avx2>>::value ? 4 : 6;
  static constexpr size_t kTileVecs = kTileRows == 4 ? 2 : 4;

  static F Fma(F a, F b, F c) {
#if defined(__AVX512F__)
    // xsimd 8.1 has no fused fma for avx512f (it falls back to a*b + c).
    if constexpr (std::is_same<Arch, xsimd::avx512f>::value) return F(_mm512_fmadd_ps(a, b, c));
#endif
    if constexpr (kFused) {
      return xsimd::fma(a, b, c);
    } else {
      alignas(64) float va[N], vb[N], vc[N];
      a.store_aligned(va), b.store_aligned(vb), c.store_aligned(vc);
      for (size_t i = 0; i < N; ++i) vc[i] = std::fma(va[i], vb[i], vc[i]);
      return F::load_aligned(vc);
    }
  }
  static F Greater(F x, F y) { return xsimd::select(x > y, x, y); }
  static F Set(float x) { return F(x); }

  static F Exp(F x) {
    namespace m = descent::math;
    const auto underflow = x < Set(m::kExpMin);
    x = xsimd::select(x > Set(m::kExpMax), Set(m::kExpMax), x);
    x = xsimd::select(x < Set(m::kExpMin), Set(m::kExpMin), x);
    const F magic = Set(m::kRoundMagic);
    const F n = Fma(x, Set(m::kLog2e), magic) - magic;
    F r = Fma(n, Set(-m::kLn2Hi), x);
    r = Fma(n, Set(-m::kLn2Lo), r);
    F p = Fma(Set(m::kExpP0), r, Set(m::kExpP1));
    p = Fma(p, r, Set(m::kExpP2));
    p = Fma(p, r, Set(m::kExpP3));
    p = Fma(p, r, Set(m::kExpP4));
    p = Fma(p, r, Set(m::kExpP5));
    const F y = Fma(p, r * r, r) + Set(1.0f);
    const I bits = (xsimd::batch_cast<int32_t>(n) + I(127)) << 23;
    return xsimd::select(underflow, Set(0.0f), y * xsimd::bitwise_cast<F>(bits));
  }

  static F Log(F x) {
    namespace m = descent::math;
    const I bits = xsimd::bitwise_cast<I>(x);
    F e = xsimd::batch_cast<float>(((bits >> 23) & I(0x1FF)) - I(126));
    const F mant = xsimd::bitwise_cast<F>((bits & I(0x007FFFFF)) | I(0x3F000000));
    const auto small = mant < Set(m::kSqrtHalf);
    const F one = Set(1.0f);
    e = xsimd::select(small, e - one, e);
    const F f = xsimd::select(small, (mant + mant) - one, mant - one);
    const F z = f * f;
    F q = Fma(Set(m::kLogQ0), f, Set(m::kLogQ1));
    q = Fma(q, f, Set(m::kLogQ2));
    q = Fma(q, f, Set(m::kLogQ3));
    q = Fma(q, f, Set(m::kLogQ4));
    q = Fma(q, f, Set(m::kLogQ5));
    q = Fma(q, f, Set(m::kLogQ6));
    q = Fma(q, f, Set(m::kLogQ7));
    q = Fma(q, f, Set(m::kLogQ8));
    F y = (q * f) * z;
    y = Fma(e, Set(m::kLn2Lo), y);
    y = Fma(Set(-0.5f), z, y);
    F result = f + y;
    result = Fma(e, Set(m::kLn2Hi), result);
    const F inf = Set(std::numeric_limits<float>::infinity());
    result = xsimd::select(x == inf, x, result);
    result = xsimd::select(x == Set(0.0f), -inf, result);
    return xsimd::select((x < Set(0.0f)) || (x != x), Set(std::numeric_limits<float>::quiet_NaN()), result);
  }

  // ---- matrix products -------------------------------------------------------

  // With a `live` list only those k are summed (see live_terms.h), else every k < K.
  template <size_t kRows, size_t kVecs, class Store>
  static void Tile(const float* a, size_t a_m, size_t a_k, const float* b, size_t ldb, size_t K,
                   const uint16_t* live, size_t m0, size_t vec0, const Store& store) {
    F acc[kRows][kVecs];
    for (size_t r = 0; r < kRows; ++r)
      for (size_t v = 0; v < kVecs; ++v) acc[r][v] = Set(0.0f);
    const float* a0 = a + m0 * a_m;
    const float* b0 = b + vec0 * N;
    auto term = [&](size_t k) {
      F bv[kVecs];
      for (size_t v = 0; v < kVecs; ++v) bv[v] = F::load_unaligned(b0 + k * ldb + v * N);
      for (size_t r = 0; r < kRows; ++r) {
        const F av(a0[r * a_m + k * a_k]);
        for (size_t v = 0; v < kVecs; ++v) acc[r][v] = Fma(av, bv[v], acc[r][v]);
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

  template <size_t kRows, class Store>
  static void TileRow(const float* a, size_t a_m, size_t a_k, const float* b, size_t ldb, size_t vecs, size_t K,
                      const uint16_t* live, size_t m0, const Store& store) {
    size_t vec = 0;
    for (; vec + kTileVecs <= vecs; vec += kTileVecs)
      Tile<kRows, kTileVecs>(a, a_m, a_k, b, ldb, K, live, m0, vec, store);
    switch (vecs - vec) {
      case 3: Tile<kRows, 3>(a, a_m, a_k, b, ldb, K, live, m0, vec, store); break;
      case 2: Tile<kRows, 2>(a, a_m, a_k, b, ldb, K, live, m0, vec, store); break;
      case 1: Tile<kRows, 1>(a, a_m, a_k, b, ldb, K, live, m0, vec, store); break;
      default: break;
    }
  }

  template <bool kSparse, class Store>
  static void Gemm(const float* a, size_t a_m, size_t a_k, const float* b, size_t ldb, size_t M, size_t vecs,
                   size_t K, const Store& store) {
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

  static size_t Vectors(size_t n) { return (n + N - 1) / N; }

  static void LinearForward(const float* x, size_t x_stride, const float* wt, size_t wt_stride, float* y,
                            size_t y_stride, size_t rows, size_t in, size_t out, bool relu, bool sparse_x) {
    const float* bias = wt + in * wt_stride;
    auto store = [&](size_t r, size_t vec, F sum) {
      F v = sum + F::load_unaligned(bias + vec * N);
      if (relu) v = xsimd::select(v < Set(0.0f), Set(0.0f), v);
      v.store_unaligned(y + r * y_stride + vec * N);
    };
    if (sparse_x) Gemm<true>(x, x_stride, 1, wt, wt_stride, rows, Vectors(out), in, store);
    else Gemm<false>(x, x_stride, 1, wt, wt_stride, rows, Vectors(out), in, store);
  }

  static void LinearBackwardInput(const float* dy, size_t dy_stride, const float* wp, size_t wp_stride,
                                  const float* act, size_t act_stride, float* dx, size_t dx_stride, size_t rows,
                                  size_t in, size_t out) {
    Gemm<false>(dy, dy_stride, 1, wp, wp_stride, rows, Vectors(in), out, [&](size_t r, size_t vec, F sum) {
      const F a = F::load_unaligned(act + r * act_stride + vec * N);
      xsimd::select(a > Set(0.0f), sum, Set(0.0f)).store_unaligned(dx + r * dx_stride + vec * N);
    });
  }

  static void LinearBackwardParams(const float* dy, size_t dy_stride, const float* x, size_t x_stride, float* dw,
                                   float* db, size_t rows, size_t in, size_t out) {
    Gemm<false>(dy, 1, dy_stride, x, x_stride, out, Vectors(in), rows, [&](size_t o, size_t vec, F sum) {
      float* row = dw + o * in + vec * N;
      if ((vec + 1) * N <= in) {
        sum.store_unaligned(row);
      } else {
        alignas(64) float lanes[N];
        sum.store_aligned(lanes);
        for (size_t i = 0; i < in - vec * N; ++i) row[i] = lanes[i];
      }
    });
    BiasGradient(dy, dy_stride, db, rows, out);
  }

  static void LinearBackwardParamsT(const float* x, size_t x_stride, const float* dy, size_t dy_stride, float* dwt,
                                    size_t dwt_stride, size_t rows, size_t in, size_t out) {
    Gemm<true>(x, 1, x_stride, dy, dy_stride, in, Vectors(out), rows,
               [&](size_t i, size_t vec, F sum) { sum.store_unaligned(dwt + i * dwt_stride + vec * N); });
  }

  static void BiasGradient(const float* dy, size_t dy_stride, float* db, size_t rows, size_t out) {
    size_t o = 0;
    for (; o + N <= out; o += N) {
      F acc = Set(0.0f);
      for (size_t r = 0; r < rows; ++r) acc = acc + F::load_unaligned(dy + r * dy_stride + o);
      acc.store_unaligned(db + o);
    }
    for (; o < out; ++o) {
      float acc = 0.0f;
      for (size_t r = 0; r < rows; ++r) acc += dy[r * dy_stride + o];
      db[o] = acc;
    }
  }

  static void ScalePixels(const uint8_t* src, float* dst, size_t n) {
    size_t i = 0;
    for (; i + N <= n; i += N) {
      alignas(64) int32_t lanes[N];
      for (size_t k = 0; k < N; ++k) lanes[k] = src[i + k];
      (xsimd::batch_cast<float>(I::load_aligned(lanes)) * Set(1.0f / 256.0f)).store_unaligned(dst + i);
    }
    kernels::ScalarKernels().scale_pixels(src + i, dst + i, n - i);
  }

  static void LogSoftmaxNll(const float* z, size_t stride, const uint8_t* labels, size_t rows, size_t classes,
                            size_t batch, float* loss, float* dz) {
    const F scale = Set(-(1.0f / static_cast<float>(batch)));
    alignas(64) int32_t offset_lanes[N];
    for (size_t k = 0; k < N; ++k) offset_lanes[k] = static_cast<int32_t>(k * stride);
    const I offsets = I::load_aligned(offset_lanes);
    size_t r0 = 0;
    for (; r0 + N <= rows; r0 += N) {
      alignas(64) float label_lanes[N];
      for (size_t k = 0; k < N; ++k) label_lanes[k] = labels[r0 + k];
      const F label = F::load_aligned(label_lanes);
      const float* zr = z + r0 * stride;
      F max = F::gather(zr, offsets);
      for (size_t j = 1; j < classes; ++j) max = Greater(F::gather(zr + j, offsets), max);
      F sum = Set(0.0f);
      for (size_t j = 0; j < classes; ++j) sum = sum + Exp(F::gather(zr + j, offsets) - max);
      const F lse = Log(sum);
      F row_loss = Set(0.0f);
      for (size_t j = 0; j < classes; ++j) {
        const F logp = (F::gather(zr + j, offsets) - max) - lse;
        const auto is_label = label == Set(static_cast<float>(j));
        const F g = xsimd::select(is_label, scale, Set(0.0f));
        (g - Exp(logp) * scale).scatter(dz + r0 * stride + j, offsets);
        row_loss = xsimd::select(is_label, -logp, row_loss);
      }
      row_loss.store_unaligned(loss + r0);
    }
    kernels::ScalarKernels().log_softmax_nll(z + r0 * stride, stride, labels + r0, rows - r0, classes, batch,
                                             loss + r0, dz + r0 * stride);
  }

  // ---- optimizer updates -------------------------------------------------------

  static F Decayed(bool on, F p, float wd, F g) { return on ? Fma(p, Set(wd), g) : g; }

  // Adam's moments at m, v: m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, stored and returned.
  template <class Args>
  static void Moments(const Args& a, F grad, float* m, float* v, F* mi, F* vi) {
    *mi = Fma(grad, Set(a.one_minus_beta1), F::load_unaligned(m) * Set(a.beta1));
    *vi = Fma(Set(a.one_minus_beta2) * grad, grad, F::load_unaligned(v) * Set(a.beta2));
    mi->store_unaligned(m);
    vi->store_unaligned(v);
  }

  // body(i) for every whole vector; returns where the scalar remainder starts.
  template <class Body>
  static size_t Vectorized(size_t n, const Body& body) {
    size_t i = 0;
    for (; i + N <= n; i += N) body(i);
    return i;
  }

  static void Sgd(const kernels::SgdArgs& a, float* p, const float* g, float* buf, size_t n) {
    const size_t done = Vectorized(n, [&](size_t i) {
      const F w = F::load_unaligned(p + i);
      F step = Decayed(a.has_weight_decay, w, a.weight_decay, F::load_unaligned(g + i));
      if (a.has_momentum) {
        const F mu = Set(a.momentum);
        const F b = a.first_step ? step : Fma(step, Set(a.one_minus_dampening), F::load_unaligned(buf + i) * mu);
        b.store_unaligned(buf + i);
        step = a.nesterov ? Fma(b, mu, step) : b;
      }
      Fma(step, Set(a.neg_lr), w).store_unaligned(p + i);
    });
    kernels::ScalarKernels().sgd(a, p + done, g + done, buf + done, n - done);
  }

  static void Adagrad(const kernels::AdagradArgs& a, float* p, const float* g, float* sum, size_t n) {
    const size_t done = Vectorized(n, [&](size_t i) {
      const F w = F::load_unaligned(p + i);
      const F grad = Decayed(a.has_weight_decay, w, a.weight_decay, F::load_unaligned(g + i));
      const F s = Fma(grad, grad, F::load_unaligned(sum + i));
      s.store_unaligned(sum + i);
      (w + (Set(a.neg_clr) * grad) / (xsimd::sqrt(s) + Set(a.eps))).store_unaligned(p + i);
    });
    kernels::ScalarKernels().adagrad(a, p + done, g + done, sum + done, n - done);
  }

  static void Adadelta(const kernels::AdadeltaArgs& a, float* p, const float* g, float* sq, float* acc, size_t n) {
    const size_t done = Vectorized(n, [&](size_t i) {
      const F w = F::load_unaligned(p + i);
      const F grad = Decayed(a.has_weight_decay, w, a.weight_decay, F::load_unaligned(g + i));
      const F rho = Set(a.rho), one_minus_rho = Set(a.one_minus_rho), eps = Set(a.eps);
      const F s = Fma(one_minus_rho * grad, grad, F::load_unaligned(sq + i) * rho);
      s.store_unaligned(sq + i);
      const F old_acc = F::load_unaligned(acc + i);
      const F delta = (xsimd::sqrt(old_acc + eps) / xsimd::sqrt(s + eps)) * grad;
      Fma(one_minus_rho * delta, delta, old_acc * rho).store_unaligned(acc + i);
      Fma(delta, Set(a.neg_lr), w).store_unaligned(p + i);
    });
    kernels::ScalarKernels().adadelta(a, p + done, g + done, sq + done, acc + done, n - done);
  }

  static void RmsProp(const kernels::RmsPropArgs& a, float* p, const float* g, float* sq, float* buf, float* ga,
                      size_t n) {
    const size_t done = Vectorized(n, [&](size_t i) {
      const F w = F::load_unaligned(p + i);
      const F grad = Decayed(a.has_weight_decay, w, a.weight_decay, F::load_unaligned(g + i));
      const F alpha = Set(a.alpha), one_minus_alpha = Set(a.one_minus_alpha);
      const F s = Fma(one_minus_alpha * grad, grad, F::load_unaligned(sq + i) * alpha);
      s.store_unaligned(sq + i);
      F avg = xsimd::sqrt(s);
      if (a.centered) {
        const F mean = Fma(grad, one_minus_alpha, F::load_unaligned(ga + i) * alpha);
        mean.store_unaligned(ga + i);
        avg = xsimd::sqrt(Fma(-mean, mean, s));
      }
      avg = avg + Set(a.eps);
      if (a.has_momentum) {
        const F b = F::load_unaligned(buf + i) * Set(a.momentum) + grad / avg;
        b.store_unaligned(buf + i);
        Fma(b, Set(a.neg_lr), w).store_unaligned(p + i);
      } else {
        (w + (Set(a.neg_lr) * grad) / avg).store_unaligned(p + i);
      }
    });
    kernels::ScalarKernels().rmsprop(a, p + done, g + done, sq + done, buf + done, ga + done, n - done);
  }

  static void Adam(const kernels::AdamArgs& a, float* p, const float* g, float* m, float* v, float* vmax, size_t n) {
    const size_t done = Vectorized(n, [&](size_t i) {
      F w = F::load_unaligned(p + i);
      if (a.decoupled) w = w * Set(a.decay);
      const F grad = Decayed(a.has_weight_decay, w, a.weight_decay, F::load_unaligned(g + i));
      F mi, vi;
      Moments(a, grad, m + i, v + i, &mi, &vi);
      F used = vi;
      if (a.amsgrad) {
        used = Greater(F::load_unaligned(vmax + i), vi);
        used.store_unaligned(vmax + i);
      }
      const F denom = xsimd::sqrt(used) / Set(a.bc2_sqrt) + Set(a.eps);
      (w + (Set(a.neg_step_size) * mi) / denom).store_unaligned(p + i);
    });
    kernels::ScalarKernels().adam(a, p + done, g + done, m + done, v + done, vmax + done, n - done);
  }

  static void Adamax(const kernels::AdamaxArgs& a, float* p, const float* g, float* m, float* u, size_t n) {
    const size_t done = Vectorized(n, [&](size_t i) {
      const F w = F::load_unaligned(p + i);
      const F grad = Decayed(a.has_weight_decay, w, a.weight_decay, F::load_unaligned(g + i));
      const F mi = Fma(grad, Set(a.one_minus_beta1), F::load_unaligned(m + i) * Set(a.beta1));
      const F ui = Greater(F::load_unaligned(u + i) * Set(a.beta2), xsimd::abs(grad) + Set(a.eps));
      mi.store_unaligned(m + i);
      ui.store_unaligned(u + i);
      (w + (Set(a.neg_clr) * mi) / ui).store_unaligned(p + i);
    });
    kernels::ScalarKernels().adamax(a, p + done, g + done, m + done, u + done, n - done);
  }

  static void NAdam(const kernels::NAdamArgs& a, float* p, const float* g, float* m, float* v, size_t n) {
    const size_t done = Vectorized(n, [&](size_t i) {
      const F w = F::load_unaligned(p + i);
      const F grad = Decayed(a.has_weight_decay, w, a.weight_decay, F::load_unaligned(g + i));
      F mi, vi;
      Moments(a, grad, m + i, v + i, &mi, &vi);
      const F denom = xsimd::sqrt(vi / Set(a.bc2)) + Set(a.eps);
      const F w1 = w + (Set(a.grad_coef) * grad) / denom;
      (w1 + (Set(a.avg_coef) * mi) / denom).store_unaligned(p + i);
    });
    kernels::ScalarKernels().nadam(a, p + done, g + done, m + done, v + done, n - done);
  }

  static void RAdam(const kernels::RAdamArgs& a, float* p, const float* g, float* m, float* v, size_t n) {
    const size_t done = Vectorized(n, [&](size_t i) {
      const F w = F::load_unaligned(p + i);
      const F grad = Decayed(a.has_weight_decay, w, a.weight_decay, F::load_unaligned(g + i));
      F mi, vi;
      Moments(a, grad, m + i, v + i, &mi, &vi);
      F update = (mi / Set(a.bc1)) * Set(a.lr);
      if (a.rectified) {
        const F adapt = (Set(1.0f) / (xsimd::sqrt(vi) + Set(a.eps))) * Set(a.bc2_sqrt);
        update = (update * adapt) * Set(a.rect);
      }
      (w - update).store_unaligned(p + i);
    });
    kernels::ScalarKernels().radam(a, p + done, g + done, m + done, v + done, n - done);
  }

  static kernels::Kernels Table() {
    kernels::Kernels k{};
    k.backend = "xsimd";
    k.scale_pixels = ScalePixels;
    k.linear_forward = LinearForward;
    k.linear_backward_input = LinearBackwardInput;
    k.linear_backward_params = LinearBackwardParams;
    k.linear_backward_params_t = LinearBackwardParamsT;
    k.bias_gradient = BiasGradient;
    k.log_softmax_nll = LogSoftmaxNll;
    k.sgd = Sgd;
    k.adagrad = Adagrad;
    k.adadelta = Adadelta;
    k.rmsprop = RmsProp;
    k.adam = Adam;
    k.adamax = Adamax;
    k.nadam = NAdam;
    k.radam = RAdam;
    return k;
  }
};

}  // namespace xsimd_kernels
}  // namespace descent

#endif  // DESCENT_SRC_KERNELS_XSIMD_XSIMD_KERNELS_INL_H_
