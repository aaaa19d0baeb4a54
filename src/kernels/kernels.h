// The hot loops of the core, over plain strided arrays, as one table per
// backend and instruction set. Every table has the same semantics: each output
// element is produced by the same sequence of IEEE operations (reductions in
// index order, fused multiply-adds exactly where the scalar reference calls
// std::fma), so every backend and instruction set gives bit-identical results.
//
// The tables are filled from two lists, never by hand: DESCENT_KERNELS below
// (the model's loops) and descent::Rules (one update kernel per rule).
// References: scalar_kernels.cc and each rule's Reference(); vector bodies:
// generic/*-inl.h, instantiated by highway/ and xsimd/.
#ifndef DESCENT_SRC_KERNELS_KERNELS_H_
#define DESCENT_SRC_KERNELS_KERNELS_H_

#include <stddef.h>
#include <stdint.h>

#include <tuple>

#include "descent/layers.h"
#include "descent/optimizer.h"

namespace descent {
namespace kernels {

// X(field, Function, parameter list). The contracts:
//  scale_pixels: dst[i] = src[i] * (1/256), pixels as the notebook scales them.
//  linear_forward: y[r,o] = relu?(sum_i x[r,i]*wt[i,o] + wt[in,o]), sum in order i = 0..in-1;
//    wt is the weight [out, in] transposed with the bias as one more row (src/core/layers/linear.cc).
//    Strides are multiples of 16; rows of x, wt and y are readable/writable up to Padded().
//    sparse_x: x has many zeros, worth skipping (generic/live_terms-inl.h; same result).
//  linear_forward_t: the same sums for activations stored transposed ([features, rows]), reading
//    the weight [out, in] in place (no copy): yt[o,r] = relu?(sum_i w[o,i]*xt[i,r] + b[o]), sum in
//    order i = 0..in-1 (the same bits as linear_forward); b == nullptr adds 0. Row strides are multiples of 16.
//  linear_backward_input: dx[r,i] = (act[r,i] > 0) ? sum_o dy[r,o]*wp[o,i] : 0, in order o = 0..out-1;
//    act == nullptr: no mask (activations other than ReLU apply their derivative after).
//  linear_backward_params: dw[o,i] = sum_r dy[r,o]*x[r,i]; db[o] = sum_r dy[r,o]; in order
//    r = 0..rows-1; dw and db are exactly [out, in] and [out] (no padding).
//  linear_backward_params_t: the same weight gradient transposed, for sparse x:
//    dwt[i,o] = sum_r x[r,i]*dy[r,o], in order r, terms with x[r,i] == 0 skipped; rows padded.
//  bias_gradient: db[o] = sum_r dy[r,o], in order r = 0..rows-1.
//  matmul: c[m,j] = relu?(c0 + sum_k a[m*a_m + k*a_k] * b[k*ldb + j] (+ bias[m])) for m < M, j < n, in
//    order k = 0..K-1, c0 = c[m,j] (accumulate: a chain continued over calls) or 0; bias may be nullptr.
//    c's rows are exactly n floats; b's rows readable up to Padded(n). (The convolutions' products.)
//  log_softmax_nll: loss[r] = -log_softmax(z[r])[label[r]] and dz = d(mean loss)/dz with the
//    mean over `batch` rows (torch's grad_input).
//  activation_forward: y[i] = f(z[i]); activation_backward: g[i] *= f'(z[i]) in torch's operation
//    order, from y (and z where NeedsPreActivation). In place allowed. (generic/activations-inl.h)
#define DESCENT_KERNELS(X)                                                                                    \
  X(scale_pixels, ScalePixels, (const uint8_t* src, float* dst, size_t n))                                   \
  X(linear_forward, LinearForward,                                                                           \
    (const float* x, size_t x_stride, const float* wt, size_t wt_stride, float* y, size_t y_stride,          \
     size_t rows, size_t in, size_t out, bool relu, bool sparse_x))                                          \
  X(linear_forward_t, LinearForwardT,                                                                        \
    (const float* w, const float* b, const float* xt, size_t xt_stride, float* yt, size_t yt_stride,         \
     size_t rows, size_t in, size_t out, bool relu))                                                         \
  X(linear_backward_input, LinearBackwardInput,                                                              \
    (const float* dy, size_t dy_stride, const float* wp, size_t wp_stride, const float* act,                 \
     size_t act_stride, float* dx, size_t dx_stride, size_t rows, size_t in, size_t out))                    \
  X(linear_backward_params, LinearBackwardParams,                                                            \
    (const float* dy, size_t dy_stride, const float* x, size_t x_stride, float* dw, float* db, size_t rows,  \
     size_t in, size_t out))                                                                                 \
  X(linear_backward_params_t, LinearBackwardParamsT,                                                         \
    (const float* x, size_t x_stride, const float* dy, size_t dy_stride, float* dwt, size_t dwt_stride,      \
     size_t rows, size_t in, size_t out))                                                                    \
  X(bias_gradient, BiasGradient, (const float* dy, size_t dy_stride, float* db, size_t rows, size_t out))    \
  X(matmul, Matmul,                                                                                          \
    (const float* a, size_t a_m, size_t a_k, const float* b, size_t ldb, float* c, size_t ldc, size_t M,     \
     size_t n, size_t K, const float* bias, bool accumulate, bool relu))                                     \
  X(log_softmax_nll, LogSoftmaxNll,                                                                          \
    (const float* z, size_t stride, const uint8_t* labels, size_t rows, size_t classes, size_t batch,        \
     float* loss, float* dz))                                                                                \
  X(activation_forward, ActivationForward, (const ActivationSpec& spec, const float* z, float* y, size_t n))  \
  X(activation_backward, ActivationBackward,                                                                 \
    (const ActivationSpec& spec, const float* y, const float* z, float* g, size_t n))

// One update of n elements with a rule's per-step scalars; slots[k] is its k-th state array.
template <class Rule>
using UpdateFn = void (*)(const typename Rule::Scalars& a, float* p, const float* g, float* const* slots,
                          size_t n);
template <class List>
struct UpdateTable;
template <class... R>
struct UpdateTable<TypeList<R...>> {
  std::tuple<UpdateFn<R>...> fns;
};

struct Kernels {
  const char* backend;  // "scalar", "highway", "xsimd"
#define DESCENT_KERNEL_FIELD(field, Function, params) void(*field) params;
  DESCENT_KERNELS(DESCENT_KERNEL_FIELD)
#undef DESCENT_KERNEL_FIELD
  UpdateTable<Rules> updates;

  template <class Rule>
  constexpr UpdateFn<Rule> update() const {
    return std::get<TypeIndex<Rule, Rules>::value>(updates.fns);
  }
  template <class Rule>
  constexpr void set_update(UpdateFn<Rule> fn) {
    std::get<TypeIndex<Rule, Rules>::value>(updates.fns) = fn;
  }
};

// The plain-loop reference: the ground truth for every other backend.
const Kernels& ScalarKernels();
// The table in use: this build's backend (meson -Dsimd=...) at the instruction
// set chosen once, on first use, thread-safely (backend.h).
const Kernels& ActiveKernels();

}  // namespace kernels
}  // namespace descent

#endif  // DESCENT_SRC_KERNELS_KERNELS_H_
