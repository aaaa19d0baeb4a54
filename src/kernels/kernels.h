// The hot loops of the core, over plain strided arrays. Every backend (scalar,
// Highway, xsimd) fills one Kernels table with the same semantics: each output
// element is produced by the same sequence of IEEE operations in every backend
// (reductions run in index order, fused multiply-adds exactly where the scalar
// code calls std::fma), so all backends give bit-identical results.
#ifndef DESCENT_SRC_KERNELS_KERNELS_H_
#define DESCENT_SRC_KERNELS_KERNELS_H_

#include <stddef.h>
#include <stdint.h>

namespace descent {
namespace kernels {

// Per-step scalars of each update rule, derived in double and rounded once
// (src/core/optimizer.cc). Flags select the branch torch takes.
struct SgdArgs {
  float neg_lr, momentum, one_minus_dampening, weight_decay;
  bool has_weight_decay, has_momentum, nesterov, first_step;
};
struct AdagradArgs {
  float neg_clr, eps, weight_decay;
  bool has_weight_decay;
};
struct AdadeltaArgs {
  float neg_lr, rho, one_minus_rho, eps, weight_decay;
  bool has_weight_decay;
};
struct RmsPropArgs {
  float neg_lr, alpha, one_minus_alpha, eps, momentum, weight_decay;
  bool has_weight_decay, has_momentum, centered;
};
// Adam and AdamW (decoupled: p *= decay first, g not decayed).
struct AdamArgs {
  float beta1, one_minus_beta1, beta2, one_minus_beta2;
  float neg_step_size, bc2_sqrt, eps, weight_decay, decay;
  bool has_weight_decay, decoupled, amsgrad;
};
struct AdamaxArgs {
  float beta1, one_minus_beta1, beta2, eps, neg_clr, weight_decay;
  bool has_weight_decay;
};
struct NAdamArgs {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, bc2, eps;
  float grad_coef, avg_coef, weight_decay;  // -lr(1-mu_t)/(1-P_t), -lr mu_{t+1}/(1-P_{t+1})
  bool has_weight_decay;
};
struct RAdamArgs {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, bc1, lr, eps, bc2_sqrt, rect, weight_decay;
  bool has_weight_decay, rectified;
};

struct Kernels {
  const char* backend;  // "scalar", "highway", "xsimd"

  // dst[i] = src[i] * (1/256): pixels as the notebook scales them.
  void (*scale_pixels)(const uint8_t* src, float* dst, size_t n);
  // y[r,o] = relu?(sum_i x[r,i]*wt[i,o] + wt[in,o]); sum in order i = 0..in-1: wt is the
  // weight [out, in] transposed with the bias as one more row, see src/core/mlp.cc.
  // Strides are multiples of 16; rows of x, wt and y are readable/writable up to Padded().
  // sparse_x: x has many zeros, worth skipping (live_terms.h; the result is the same).
  void (*linear_forward)(const float* x, size_t x_stride, const float* wt, size_t wt_stride,
                         float* y, size_t y_stride, size_t rows, size_t in, size_t out, bool relu,
                         bool sparse_x);
  // dx[r,i] = (act[r,i] > 0) ? sum_o dy[r,o]*wp[o,i] : 0; sum in order o = 0..out-1.
  void (*linear_backward_input)(const float* dy, size_t dy_stride, const float* wp, size_t wp_stride,
                                const float* act, size_t act_stride, float* dx, size_t dx_stride,
                                size_t rows, size_t in, size_t out);
  // dw[o,i] = sum_r dy[r,o]*x[r,i]; db[o] = sum_r dy[r,o]; sums in order r = 0..rows-1.
  // dw and db are exactly [out, in] and [out] (no padding).
  void (*linear_backward_params)(const float* dy, size_t dy_stride, const float* x, size_t x_stride,
                                 float* dw, float* db, size_t rows, size_t in, size_t out);
  // The same weight gradient transposed, for sparse x: dwt[i,o] = sum_r x[r,i]*dy[r,o],
  // sum in order r = 0..rows-1, terms with x[r,i] == 0 skipped. dwt rows padded.
  void (*linear_backward_params_t)(const float* x, size_t x_stride, const float* dy, size_t dy_stride,
                                   float* dwt, size_t dwt_stride, size_t rows, size_t in, size_t out);
  // db[o] = sum_r dy[r,o], in order r = 0..rows-1.
  void (*bias_gradient)(const float* dy, size_t dy_stride, float* db, size_t rows, size_t out);
  // Row-wise log-softmax + NLL: loss[r] = -log_softmax(z[r])[label[r]] and
  // dz = d(mean loss)/dz with the mean over `batch` rows (torch's grad_input).
  void (*log_softmax_nll)(const float* z, size_t stride, const uint8_t* labels, size_t rows,
                          size_t classes, size_t batch, float* loss, float* dz);

  void (*sgd)(const SgdArgs& a, float* p, const float* g, float* buf, size_t n);
  void (*adagrad)(const AdagradArgs& a, float* p, const float* g, float* sum, size_t n);
  void (*adadelta)(const AdadeltaArgs& a, float* p, const float* g, float* sq, float* acc, size_t n);
  void (*rmsprop)(const RmsPropArgs& a, float* p, const float* g, float* sq, float* buf, float* ga,
                  size_t n);
  void (*adam)(const AdamArgs& a, float* p, const float* g, float* m, float* v, float* vmax, size_t n);
  void (*adamax)(const AdamaxArgs& a, float* p, const float* g, float* m, float* u, size_t n);
  void (*nadam)(const NAdamArgs& a, float* p, const float* g, float* m, float* v, size_t n);
  void (*radam)(const RAdamArgs& a, float* p, const float* g, float* m, float* v, size_t n);
};

// The plain-loop reference: the ground truth for every other backend.
const Kernels& ScalarKernels();
// The backend this build selected (meson -Dsimd=...).
const Kernels& ActiveKernels();

}  // namespace kernels
}  // namespace descent

#endif  // DESCENT_SRC_KERNELS_KERNELS_H_
