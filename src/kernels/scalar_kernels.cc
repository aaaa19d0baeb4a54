// The scalar reference backend: plain loops that define the semantics every
// SIMD backend reproduces bit for bit. std::fma marks each fused operation.
// (The update rules' reference loops are each rule's Reference(), src/core/optim/.)
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

// The dense loops: skipping zero terms (other backends) gives the same sums. Each output's sum
// is one chain of fmas in index order; the loops keep kBlock neighbouring chains in registers
// at a time (the blocking changes which loads are shared, never an element's chain).
constexpr size_t kBlock = 16;

DESCENT_FMA_CLONES void LinearForward(const float* x, size_t x_stride, const float* wt, size_t wt_stride, float* y,
                                      size_t y_stride, size_t rows, size_t in, size_t out, bool relu,
                                      bool /*sparse_x*/) {
  const float* b = wt + in * wt_stride;
  for (size_t r = 0; r < rows; ++r)
    for (size_t o0 = 0; o0 < out; o0 += kBlock) {
      const size_t n = out - o0 < kBlock ? out - o0 : kBlock;
      float acc[kBlock] = {};
      for (size_t i = 0; i < in; ++i) {
        const float xi = x[r * x_stride + i];
        for (size_t k = 0; k < n; ++k) acc[k] = fma(xi, wt[i * wt_stride + o0 + k], acc[k]);
      }
      for (size_t k = 0; k < n; ++k) {
        float v = acc[k] + b[o0 + k];
        if (relu) v = v < 0.0f ? 0.0f : v;  // keeps NaN, like torch.relu
        y[r * y_stride + o0 + k] = v;
      }
    }
}

DESCENT_FMA_CLONES void LinearForwardT(const float* w, const float* b, const float* xt, size_t xt_stride, float* yt, size_t yt_stride,
                    size_t rows, size_t in, size_t out, bool relu) {
  for (size_t o = 0; o < out; ++o)
    for (size_t r = 0; r < rows; ++r) {
      float acc = 0.0f;
      for (size_t i = 0; i < in; ++i) acc = fma(w[o * in + i], xt[i * xt_stride + r], acc);
      float v = acc + (b ? b[o] : 0.0f);
      if (relu) v = v < 0.0f ? 0.0f : v;
      yt[o * yt_stride + r] = v;
    }
}

DESCENT_FMA_CLONES void LinearBackwardInput(const float* dy, size_t dy_stride, const float* wp, size_t wp_stride,
                                            const float* act, size_t act_stride, float* dx, size_t dx_stride,
                                            size_t rows, size_t in, size_t out) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t i0 = 0; i0 < in; i0 += kBlock) {
      const size_t n = in - i0 < kBlock ? in - i0 : kBlock;
      float acc[kBlock] = {};
      for (size_t o = 0; o < out; ++o) {
        const float g = dy[r * dy_stride + o];
        for (size_t k = 0; k < n; ++k) acc[k] = fma(g, wp[o * wp_stride + i0 + k], acc[k]);
      }
      for (size_t k = 0; k < n; ++k)
        dx[r * dx_stride + i0 + k] = !act || act[r * act_stride + i0 + k] > 0.0f ? acc[k] : 0.0f;
    }
}

void BiasGradient(const float* dy, size_t dy_stride, float* db, size_t rows, size_t out) {
  for (size_t o = 0; o < out; ++o) {
    float acc = 0.0f;
    for (size_t r = 0; r < rows; ++r) acc += dy[r * dy_stride + o];
    db[o] = acc;
  }
}

DESCENT_FMA_CLONES void LinearBackwardParams(const float* dy, size_t dy_stride, const float* x, size_t x_stride,
                                             float* dw, float* db, size_t rows, size_t in, size_t out) {
  for (size_t o = 0; o < out; ++o)
    for (size_t i0 = 0; i0 < in; i0 += kBlock) {
      const size_t n = in - i0 < kBlock ? in - i0 : kBlock;
      float acc[kBlock] = {};
      for (size_t r = 0; r < rows; ++r) {
        const float d = dy[r * dy_stride + o];
        for (size_t k = 0; k < n; ++k) acc[k] = fma(d, x[r * x_stride + i0 + k], acc[k]);
      }
      for (size_t k = 0; k < n; ++k) dw[o * in + i0 + k] = acc[k];
    }
  BiasGradient(dy, dy_stride, db, rows, out);
}

DESCENT_FMA_CLONES void LinearBackwardParamsT(const float* x, size_t x_stride, const float* dy, size_t dy_stride,
                                              float* dwt, size_t dwt_stride, size_t rows, size_t in, size_t out) {
  for (size_t i = 0; i < in; ++i)
    for (size_t o0 = 0; o0 < out; o0 += kBlock) {
      const size_t n = out - o0 < kBlock ? out - o0 : kBlock;
      float acc[kBlock] = {};
      for (size_t r = 0; r < rows; ++r) {
        const float xv = x[r * x_stride + i];
        for (size_t k = 0; k < n; ++k) acc[k] = fma(xv, dy[r * dy_stride + o0 + k], acc[k]);
      }
      for (size_t k = 0; k < n; ++k) dwt[i * dwt_stride + o0 + k] = acc[k];
    }
}

DESCENT_FMA_CLONES void Matmul(const float* a, size_t a_m, size_t a_k, const float* b, size_t ldb, float* c, size_t ldc,
                               size_t M, size_t n, size_t K, const float* bias, bool accumulate, bool relu) {
  for (size_t m = 0; m < M; ++m)
    for (size_t j = 0; j < n; ++j) {
      float acc = accumulate ? c[m * ldc + j] : 0.0f;
      for (size_t k = 0; k < K; ++k) acc = fma(a[m * a_m + k * a_k], b[k * ldb + j], acc);
      if (bias) acc = acc + bias[m];
      if (relu) acc = acc < 0.0f ? 0.0f : acc;
      c[m * ldc + j] = acc;
    }
}

// torch: out = z - max - log(sum exp(z - max)); nll backward puts
// s = -1/batch at the label; log_softmax backward gives dz = g - exp(out) * s.
DESCENT_FMA_CLONES void LogSoftmaxNll(const float* z, size_t stride, const uint8_t* labels, size_t rows,
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

// The activations have one source (generic/activations-inl.h); its ScalarOps
// instantiation, which every vector backend also runs for its tails, is the reference.
namespace generic {
#define DESCENT_ATTR
#include "src/kernels/generic/scalar_ops-inl.h"
#include "src/kernels/generic/math-inl.h"
#include "src/kernels/generic/activations-inl.h"
#undef DESCENT_ATTR
}  // namespace generic
constexpr auto& ActivationForward = generic::ActivationForward<generic::ScalarOps>;
constexpr auto& ActivationBackward = generic::ActivationBackward<generic::ScalarOps>;

constexpr Kernels MakeScalarTable() {
  Kernels k{};
  k.backend = "scalar";
#define DESCENT_FILL(field, Function, params) k.field = &Function;
  DESCENT_KERNELS(DESCENT_FILL)
#undef DESCENT_FILL
  ForEachType(Rules{}, [&](auto rule) {
    using Rule = decltype(rule);
    k.set_update<Rule>(&Rule::Reference);
  });
  return k;
}

// Constant-initialised: no guard variable and no start-up code on bare metal.
constexpr Kernels kScalarTable = MakeScalarTable();

}  // namespace

const Kernels& ScalarKernels() { return kScalarTable; }

}  // namespace kernels
}  // namespace descent
