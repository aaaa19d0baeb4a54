// torch.nn.BatchNorm2d and nn.BatchNorm1d on FastPlan, per channel c over the batch's n samples
// and each sample's positions p (torch's NCHW), statistics in double, summed in the order of n
// then p (the same bits everywhere; torch's CPU kernels accumulate in double too):
//   training   mean, biased var over the batch; y = x * a + b with a = w / sqrt(var + eps) and
//              b = bias - mean * a; running_mean and running_var (unbiased) move by `momentum`,
//              num_batches_tracked counts the step;
//   evaluation the same transform with the running statistics;
//   backward   db = sum dy, dw = sum dy * xhat, dx = (dy - db / m - xhat * dw / m) * w / sqrt(var + eps)
//              (m values per channel), from the kept input and the batch's mean and 1/sqrt(var + eps).
#include <cmath>

#include "src/core/layers/layer_ops.h"
#include "src/core/passes.h"

namespace descent {
namespace internal {
namespace batchnorm {

// weight 1, bias 0; running_mean 0, running_var 1, no batch seen. Nothing is drawn.
void Init(const ModelRef& model, size_t i, Rng&) {
  const Layout& l = *model.layout;
  const Layer& d = l.layers[i];
  const size_t C = d.in_shape.c;
  if (d.has_bias && d.weight >= l.trainable_begin)
    for (size_t c = 0; c < C; ++c) {
      model.params[d.weight - l.trainable_begin + c] = 1.0f;
      model.params[d.bias - l.trainable_begin + c] = 0.0f;
    }
  if (model.running) {
    for (size_t c = 0; c < C; ++c) model.running[d.running + c] = 0.0f, model.running[d.running + C + c] = 1.0f;
    model.tracked[d.tracked] = 0;
  }
}

void Forward(const ModelRef& model, const WorkRef& work, size_t i, size_t rows, const ParallelFor& pf) {
  const Layout& l = *work.layout;
  const Layer& d = l.layers[i];
  const size_t C = d.in_shape.c, P = d.in_shape.positions(), stride = Padded(d.in);
  const float* x = work.F(l.act[i]);
  float* y = work.F(l.act[i + 1]);
  float* z = l.keeps_pre[i + 1] ? work.F(l.pre[i + 1]) : y;
  float* stats = work.F(l.norm[i]);  // mean[C], then 1/sqrt(var + eps)[C]
  const bool relu = d.act.kind == ActivationKind::kRelu;
  const double m = static_cast<double>(rows * P);
  SplitRows(pf, C, 1, [&](size_t c0, size_t c1) {
    for (size_t c = c0; c < c1; ++c) {
      double mean, var;
      if (work.training) {
        double sum = 0.0;
        for (size_t n = 0; n < rows; ++n)
          for (size_t p = 0; p < P; ++p) sum += x[n * stride + c * P + p];
        mean = sum / m;
        double squares = 0.0;
        for (size_t n = 0; n < rows; ++n)
          for (size_t p = 0; p < P; ++p) {
            const double dev = x[n * stride + c * P + p] - mean;
            squares += dev * dev;
          }
        var = squares / m;
        if (model.running) {
          const double k = d.momentum;
          float& rm = model.running[d.running + c];
          float& rv = model.running[d.running + C + c];
          rm = static_cast<float>(k * mean + (1.0 - k) * rm);
          rv = static_cast<float>(k * (m > 1 ? squares / (m - 1) : var) + (1.0 - k) * rv);
        }
      } else {
        mean = model.running[d.running + c];
        var = model.running[d.running + C + c];
      }
      const double invstd = 1.0 / std::sqrt(var + static_cast<double>(d.eps));
      stats[c] = static_cast<float>(mean);
      stats[C + c] = static_cast<float>(invstd);
      const double w = d.has_bias ? model.at(d.weight)[c] : 1.0, b = d.has_bias ? model.at(d.bias)[c] : 0.0;
      const float alpha = static_cast<float>(invstd * w), beta = static_cast<float>(b - mean * invstd * w);
      for (size_t n = 0; n < rows; ++n)
        for (size_t p = 0; p < P; ++p) {
          const float v = x[n * stride + c * P + p] * alpha + beta;
          z[n * stride + c * P + p] = relu && v < 0.0f ? 0.0f : v;
        }
    }
  });
  if (work.training && model.tracked) ++model.tracked[d.tracked];
  if (OwnPass(d.act))
    SplitRows(pf, rows, 1, [&](size_t r0, size_t r1) {
      ActivationPass(d.act, z + r0 * stride, y + r0 * stride, (r1 - r0) * stride);
    });
}

void Backward(const ModelRef& model, const WorkRef& work, size_t i, size_t rows, const ParallelFor& pf) {
  const Layout& l = *work.layout;
  const Layer& d = l.layers[i];
  const size_t C = d.in_shape.c, P = d.in_shape.positions(), stride = Padded(d.in);
  const float* x = work.F(l.act[i]);
  const float* dy = work.F(l.dy[i]);
  const float* stats = work.F(l.norm[i]);
  const bool input_gradient = i > l.frozen;
  float* dx = input_gradient ? work.F(l.dy[i - 1]) : nullptr;
  const double m = static_cast<double>(rows * P);
  SplitRows(pf, C, 1, [&](size_t c0, size_t c1) {
    for (size_t c = c0; c < c1; ++c) {
      const double mean = stats[c], invstd = stats[C + c];
      double sum_dy = 0.0, sum_dy_xhat = 0.0;
      for (size_t n = 0; n < rows; ++n)
        for (size_t p = 0; p < P; ++p) {
          const size_t k = n * stride + c * P + p;
          sum_dy += dy[k];
          sum_dy_xhat += dy[k] * ((x[k] - mean) * invstd);
        }
      if (d.has_bias && d.weight >= l.trainable_begin) {
        work.grads[d.weight - l.trainable_begin + c] = static_cast<float>(sum_dy_xhat);
        work.grads[d.bias - l.trainable_begin + c] = static_cast<float>(sum_dy);
      }
      if (!input_gradient) continue;
      const double w = d.has_bias ? model.at(d.weight)[c] : 1.0;
      const double scale = w * invstd, mean_dy = sum_dy / m, mean_dy_xhat = sum_dy_xhat / m;
      for (size_t n = 0; n < rows; ++n)
        for (size_t p = 0; p < P; ++p) {
          const size_t k = n * stride + c * P + p;
          const double xhat = (x[k] - mean) * invstd;
          dx[k] = static_cast<float>((dy[k] - mean_dy - xhat * mean_dy_xhat) * scale);
        }
    }
  });
  if (input_gradient) SplitRows(pf, rows, 1, [&](size_t r0, size_t r1) { BelowDerivative(work, i, r0, r1); });
}

}  // namespace batchnorm
}  // namespace internal
}  // namespace descent
