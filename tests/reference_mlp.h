// A plain-loop MLP templated on the number type: the mathematical reference
// the float kernels are checked against (and itself checked by finite
// differences in double). Test-only: it allocates and calls std::exp/log.
#ifndef DESCENT_TESTS_REFERENCE_MLP_H_
#define DESCENT_TESTS_REFERENCE_MLP_H_

#include <stddef.h>
#include <stdint.h>

#include <cmath>
#include <vector>

namespace descent {
namespace reference {

// params in torch order (weight [out, in] then bias, per layer); x is rows x sizes[0].
// Returns the mean NLL; fills grads (same layout as params) when grads != nullptr.
template <class T>
T LossAndGradient(const std::vector<size_t>& sizes, const std::vector<T>& params, const std::vector<T>& x,
                  const std::vector<uint8_t>& labels, size_t rows, std::vector<T>* grads) {
  const size_t layers = sizes.size() - 1;
  std::vector<std::vector<T>> acts(layers + 1);
  std::vector<size_t> w_at(layers), b_at(layers);
  size_t at = 0;
  for (size_t l = 0; l < layers; ++l) {
    w_at[l] = at;
    b_at[l] = at + sizes[l] * sizes[l + 1];
    at = b_at[l] + sizes[l + 1];
  }
  acts[0] = x;
  for (size_t l = 0; l < layers; ++l) {
    const size_t in = sizes[l], out = sizes[l + 1];
    acts[l + 1].assign(rows * out, T(0));
    for (size_t r = 0; r < rows; ++r)
      for (size_t o = 0; o < out; ++o) {
        T acc = params[b_at[l] + o];
        for (size_t i = 0; i < in; ++i) acc += acts[l][r * in + i] * params[w_at[l] + o * in + i];
        acts[l + 1][r * out + o] = (l + 1 < layers && acc < T(0)) ? T(0) : acc;
      }
  }
  const size_t classes = sizes.back();
  std::vector<T> dz(rows * classes);
  T loss = 0;
  for (size_t r = 0; r < rows; ++r) {
    const T* z = &acts[layers][r * classes];
    T max = z[0];
    for (size_t j = 1; j < classes; ++j) max = z[j] > max ? z[j] : max;
    T sum = 0;
    for (size_t j = 0; j < classes; ++j) sum += std::exp(z[j] - max);
    const T lse = max + std::log(sum);
    loss -= z[labels[r]] - lse;
    for (size_t j = 0; j < classes; ++j)
      dz[r * classes + j] = (std::exp(z[j] - lse) - (j == labels[r] ? T(1) : T(0))) / T(rows);
  }
  loss /= T(rows);
  if (!grads) return loss;
  grads->assign(params.size(), T(0));
  std::vector<T> dy = dz;
  for (size_t l = layers; l-- > 0;) {
    const size_t in = sizes[l], out = sizes[l + 1];
    std::vector<T> dx(rows * in, T(0));
    for (size_t r = 0; r < rows; ++r)
      for (size_t o = 0; o < out; ++o) {
        const T d = dy[r * out + o];
        (*grads)[b_at[l] + o] += d;
        for (size_t i = 0; i < in; ++i) {
          (*grads)[w_at[l] + o * in + i] += d * acts[l][r * in + i];
          dx[r * in + i] += d * params[w_at[l] + o * in + i];
        }
      }
    for (size_t k = 0; k < dx.size(); ++k) dx[k] = acts[l][k] > T(0) ? dx[k] : T(0);
    dy.swap(dx);
  }
  return loss;
}

}  // namespace reference
}  // namespace descent

#endif  // DESCENT_TESTS_REFERENCE_MLP_H_
