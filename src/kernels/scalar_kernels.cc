// The scalar reference backend: plain loops that define the semantics every
// SIMD backend reproduces bit for bit. std::fma marks each fused operation.
#include <cmath>

#include "src/kernels/kernels.h"
#include "src/kernels/scalar_math.h"

namespace descent {
namespace kernels {
namespace {

using std::fma;

void ScalePixels(const uint8_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]) * (1.0f / 256.0f);
}

// The dense loops: skipping zero terms (other backends) gives the same sums.
void LinearForward(const float* x, size_t x_stride, const float* wt, size_t wt_stride, float* y,
                   size_t y_stride, size_t rows, size_t in, size_t out, bool relu, bool /*sparse_x*/) {
  const float* b = wt + in * wt_stride;
  for (size_t r = 0; r < rows; ++r) {
    for (size_t o = 0; o < out; ++o) {
      float acc = 0.0f;
      for (size_t i = 0; i < in; ++i) acc = fma(x[r * x_stride + i], wt[i * wt_stride + o], acc);
      float v = acc + b[o];
      if (relu) v = v < 0.0f ? 0.0f : v;  // keeps NaN, like torch.relu
      y[r * y_stride + o] = v;
    }
  }
}

void LinearBackwardInput(const float* dy, size_t dy_stride, const float* wp, size_t wp_stride,
                         const float* act, size_t act_stride, float* dx, size_t dx_stride,
                         size_t rows, size_t in, size_t out) {
  for (size_t r = 0; r < rows; ++r) {
    for (size_t i = 0; i < in; ++i) {
      float acc = 0.0f;
      for (size_t o = 0; o < out; ++o) acc = fma(dy[r * dy_stride + o], wp[o * wp_stride + i], acc);
      dx[r * dx_stride + i] = act[r * act_stride + i] > 0.0f ? acc : 0.0f;
    }
  }
}

void BiasGradient(const float* dy, size_t dy_stride, float* db, size_t rows, size_t out) {
  for (size_t o = 0; o < out; ++o) {
    float acc = 0.0f;
    for (size_t r = 0; r < rows; ++r) acc += dy[r * dy_stride + o];
    db[o] = acc;
  }
}

void LinearBackwardParams(const float* dy, size_t dy_stride, const float* x, size_t x_stride,
                          float* dw, float* db, size_t rows, size_t in, size_t out) {
  for (size_t o = 0; o < out; ++o)
    for (size_t i = 0; i < in; ++i) {
      float acc = 0.0f;
      for (size_t r = 0; r < rows; ++r) acc = fma(dy[r * dy_stride + o], x[r * x_stride + i], acc);
      dw[o * in + i] = acc;
    }
  BiasGradient(dy, dy_stride, db, rows, out);
}

void LinearBackwardParamsT(const float* x, size_t x_stride, const float* dy, size_t dy_stride, float* dwt,
                           size_t dwt_stride, size_t rows, size_t in, size_t out) {
  for (size_t i = 0; i < in; ++i)
    for (size_t o = 0; o < out; ++o) {
      float acc = 0.0f;
      for (size_t r = 0; r < rows; ++r) acc = fma(x[r * x_stride + i], dy[r * dy_stride + o], acc);
      dwt[i * dwt_stride + o] = acc;
    }
}

// torch: out = z - max - log(sum exp(z - max)); nll backward puts
// s = -1/batch at the label; log_softmax backward gives dz = g - exp(out) * s.
void LogSoftmaxNll(const float* z, size_t stride, const uint8_t* labels, size_t rows,
                   size_t classes, size_t batch, float* loss, float* dz) {
  const float s = -(1.0f / static_cast<float>(batch));
  for (size_t r = 0; r < rows; ++r) {
    const float* zr = z + r * stride;
    float* dr = dz + r * stride;
    float max = zr[0];
    for (size_t j = 1; j < classes; ++j) max = zr[j] > max ? zr[j] : max;
    float sum = 0.0f;
    for (size_t j = 0; j < classes; ++j) sum += math::Exp(zr[j] - max);
    const float lse = math::Log(sum);
    for (size_t j = 0; j < classes; ++j) {
      const float logp = (zr[j] - max) - lse;
      const float g = j == labels[r] ? s : 0.0f;
      dr[j] = g - math::Exp(logp) * s;
      if (j == labels[r]) loss[r] = -logp;
    }
  }
}

// Weight decay folded into the gradient, as every rule but AdamW does.
inline float Decayed(bool on, float p, float wd, float g) { return on ? fma(p, wd, g) : g; }

// Adam's moments, m = b1 m + (1-b1) g and v = b2 v + (1-b2) g^2, fused as torch does.
template <class Args>
inline void Moments(const Args& a, float d, float* m, float* v) {
  *m = fma(d, a.one_minus_beta1, *m * a.beta1);
  *v = fma(a.one_minus_beta2 * d, d, *v * a.beta2);
}

void Sgd(const SgdArgs& a, float* p, const float* g, float* buf, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    float d = Decayed(a.has_weight_decay, p[i], a.weight_decay, g[i]);
    if (a.has_momentum) {
      const float b = a.first_step ? d : fma(d, a.one_minus_dampening, buf[i] * a.momentum);
      buf[i] = b;
      d = a.nesterov ? fma(b, a.momentum, d) : b;
    }
    p[i] = fma(d, a.neg_lr, p[i]);
  }
}

void Adagrad(const AdagradArgs& a, float* p, const float* g, float* sum, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float d = Decayed(a.has_weight_decay, p[i], a.weight_decay, g[i]);
    const float s = fma(d, d, sum[i]);
    sum[i] = s;
    p[i] = p[i] + (a.neg_clr * d) / (std::sqrt(s) + a.eps);
  }
}

void Adadelta(const AdadeltaArgs& a, float* p, const float* g, float* sq, float* acc, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float d = Decayed(a.has_weight_decay, p[i], a.weight_decay, g[i]);
    const float s = fma(a.one_minus_rho * d, d, sq[i] * a.rho);
    sq[i] = s;
    const float std_dev = std::sqrt(s + a.eps);
    const float delta = (std::sqrt(acc[i] + a.eps) / std_dev) * d;
    acc[i] = fma(a.one_minus_rho * delta, delta, acc[i] * a.rho);
    p[i] = fma(delta, a.neg_lr, p[i]);
  }
}

void RmsProp(const RmsPropArgs& a, float* p, const float* g, float* sq, float* buf, float* ga,
             size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float d = Decayed(a.has_weight_decay, p[i], a.weight_decay, g[i]);
    const float s = fma(a.one_minus_alpha * d, d, sq[i] * a.alpha);
    sq[i] = s;
    float avg;
    if (a.centered) {
      const float m = fma(d, a.one_minus_alpha, ga[i] * a.alpha);
      ga[i] = m;
      avg = std::sqrt(fma(-m, m, s));
    } else {
      avg = std::sqrt(s);
    }
    avg = avg + a.eps;
    if (a.has_momentum) {
      const float b = buf[i] * a.momentum + d / avg;
      buf[i] = b;
      p[i] = fma(b, a.neg_lr, p[i]);
    } else {
      p[i] = p[i] + (a.neg_lr * d) / avg;
    }
  }
}

void Adam(const AdamArgs& a, float* p, const float* g, float* m, float* v, float* vmax, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    float w = p[i];
    if (a.decoupled) w = w * a.decay;
    const float d = Decayed(a.has_weight_decay, w, a.weight_decay, g[i]);
    Moments(a, d, &m[i], &v[i]);
    const float mi = m[i], vi = v[i];
    float used = vi;
    if (a.amsgrad) {
      used = vmax[i] > vi ? vmax[i] : vi;
      vmax[i] = used;
    }
    const float denom = std::sqrt(used) / a.bc2_sqrt + a.eps;
    p[i] = w + (a.neg_step_size * mi) / denom;
  }
}

void Adamax(const AdamaxArgs& a, float* p, const float* g, float* m, float* u, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float d = Decayed(a.has_weight_decay, p[i], a.weight_decay, g[i]);
    const float mi = fma(d, a.one_minus_beta1, m[i] * a.beta1);
    const float decayed = u[i] * a.beta2;
    const float bound = std::fabs(d) + a.eps;
    const float ui = decayed > bound ? decayed : bound;
    m[i] = mi;
    u[i] = ui;
    p[i] = p[i] + (a.neg_clr * mi) / ui;
  }
}

void NAdam(const NAdamArgs& a, float* p, const float* g, float* m, float* v, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float d = Decayed(a.has_weight_decay, p[i], a.weight_decay, g[i]);
    Moments(a, d, &m[i], &v[i]);
    const float mi = m[i], vi = v[i];
    const float denom = std::sqrt(vi / a.bc2) + a.eps;
    float w = p[i] + (a.grad_coef * d) / denom;
    p[i] = w + (a.avg_coef * mi) / denom;
  }
}

void RAdam(const RAdamArgs& a, float* p, const float* g, float* m, float* v, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float d = Decayed(a.has_weight_decay, p[i], a.weight_decay, g[i]);
    Moments(a, d, &m[i], &v[i]);
    const float mi = m[i], vi = v[i];
    const float mhat = mi / a.bc1;
    float update = mhat * a.lr;
    if (a.rectified) {
      const float adapt = (1.0f / (std::sqrt(vi) + a.eps)) * a.bc2_sqrt;
      update = (update * adapt) * a.rect;
    }
    p[i] = p[i] - update;
  }
}

}  // namespace

const Kernels& ScalarKernels() {
  static constexpr Kernels kTable = {
      "scalar",       ScalePixels, LinearForward, LinearBackwardInput,
      LinearBackwardParams, LinearBackwardParamsT, BiasGradient, LogSoftmaxNll, Sgd, Adagrad, Adadelta, RmsProp, Adam, Adamax, NAdam,
      RAdam,
  };
  return kTable;
}

}  // namespace kernels
}  // namespace descent
