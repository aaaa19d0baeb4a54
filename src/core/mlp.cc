// Forward, backward and evaluation of an Mlp through its size-erased Layout:
// one copy of this code serves every model shape.
#include <string.h>

#include <cmath>

#include "descent/mlp.h"
#include "descent/rng.h"
#include "src/kernels/kernels.h"

namespace descent {
namespace internal {
namespace {

const kernels::Kernels& K() { return kernels::ActiveKernels(); }

// Calls f(begin, end) for one range of [0, n) per worker, boundaries on
// multiples of `grain` (a kernel's register tile), none empty.
template <class F>
void SplitRows(const ParallelFor& pf, size_t n, size_t grain, const F& f) {
  const size_t parts = n >= 2 * grain ? pf.workers : 1;
  pf.For(parts, [&](size_t part) {
    const Range r = Split(n, parts, part, grain);
    if (r.end > r.begin) f(r.begin, r.end);
  });
}
constexpr size_t kRowGrain = 12;  // a multiple of every target's tile height (4, 6)

// Copies of the weights in the layouts the products read (no arithmetic):
// wt[i, o] = w[o, i] plus the bias as row `in` (forward), and w with rows
// padded to whole vectors (input gradient). Split by destination rows, in
// 16 x 16 blocks so both sides stay in cache.
void TransposeWeights(const float* w, const float* b, size_t out, size_t in, float* wt, const ParallelFor& pf) {
  const size_t stride = Padded(out);
  SplitRows(pf, in, 16, [&](size_t i0, size_t i1) {
    for (size_t ib = i0; ib < i1; ib += 16)
      for (size_t ob = 0; ob < out; ob += 16)
        for (size_t i = ib; i < i1 && i < ib + 16; ++i)
          for (size_t o = ob; o < out && o < ob + 16; ++o) wt[i * stride + o] = w[o * in + i];
  });
  memcpy(wt + in * stride, b, out * sizeof(float));
}

void PadRows(const float* w, size_t out, size_t in, float* wp) {
  for (size_t o = 0; o < out; ++o) memcpy(wp + o * Padded(in), w + o * in, in * sizeof(float));
}

Status CheckRows(const Layout& layout, size_t rows) {
  return rows == 0 || rows > layout.max_batch ? Status::kCapacityExceeded : Status::kOk;
}

// Logits and d(loss)/d(logits) of the loaded rows; per-row losses in row_loss.
Status LossAndLogitGradient(const Layout& l, const WorkRef& work, size_t rows, const ParallelFor& pf) {
  const size_t classes = l.sizes[l.num_layers], stride = Padded(classes);
  for (size_t r = 0; r < rows; ++r)
    if (work.labels[r] >= classes) return Status::kInvalidArgument;
  SplitRows(pf, rows, kRowGrain, [&](size_t b, size_t e) {
    K().log_softmax_nll(work.scratch + l.act[l.num_layers] + b * stride, stride, work.labels + b, e - b, classes,
                        rows, work.row_loss + b, work.scratch + l.dact[0] + b * stride);
  });
  return Status::kOk;
}

}  // namespace

// Non-finite parameters make a model unusable, and would let the zero-skipping
// products (kernels/generic/live_terms-inl.h) differ from dense ones: Forward refuses them.
bool ParamsFinite(const float* p, size_t n) {
  uint32_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    memcpy(&bits, &p[i], 4);
    bad |= (bits & 0x7F800000u) == 0x7F800000u;
  }
  return bad == 0;
}

void Init(ModelRef model, uint64_t seed) {
  const Layout& l = *model.layout;
  Rng rng(seed, kStreamInit, 0);
  for (size_t i = 0; i < l.num_layers; ++i) {
    const float bound = static_cast<float>(1.0 / std::sqrt(static_cast<double>(l.sizes[i])));
    // Weights then bias, each in memory order: the stream order is the layout order.
    for (size_t k = l.weight[i]; k < l.bias[i] + l.sizes[i + 1]; ++k)
      model.params[k] = bound * (2.0f * rng.Uniform01() - 1.0f);
  }
}

Status LoadImages(WorkRef work, const uint8_t* pixels, const uint8_t* labels,
                  const uint32_t* order, size_t rows, const ParallelFor& pf) {
  const Layout& l = *work.layout;
  if (Status s = CheckRows(l, rows); s != Status::kOk) return s;
  const size_t inputs = l.sizes[0];
  SplitRows(pf, rows, kRowGrain, [&](size_t b, size_t e) {
    for (size_t r = b; r < e; ++r) {
      const size_t index = order ? order[r] : r;
      K().scale_pixels(pixels + index * inputs, work.scratch + l.act[0] + r * Padded(inputs), inputs);
      work.labels[r] = labels[index];
    }
  });
  return Status::kOk;
}

Status Forward(ModelRef model, WorkRef work, size_t rows, const ParallelFor& pf) {
  const Layout& l = *model.layout;
  const Layout& w = *work.layout;
  if (Status s = CheckRows(w, rows); s != Status::kOk) return s;
  if (!ParamsFinite(model.params, l.num_params)) return Status::kNonFinite;
  for (size_t i = 0; i < l.num_layers; ++i) {
    const size_t in = l.sizes[i], out = l.sizes[i + 1];
    float* wt = work.scratch + w.wt[i];
    TransposeWeights(model.params + l.weight[i], model.params + l.bias[i], out, in, wt, pf);
    const float* x = work.scratch + w.act[i];
    float* y = work.scratch + w.act[i + 1];
    SplitRows(pf, rows, kRowGrain, [&](size_t b, size_t e) {
      K().linear_forward(x + b * Padded(in), Padded(in), wt, Padded(out), y + b * Padded(out), Padded(out), e - b,
                         in, out, /*relu=*/i + 1 < l.num_layers, /*sparse_x=*/i == 0);
    });
  }
  return Status::kOk;
}

Status ForwardBackward(ModelRef model, WorkRef work, size_t rows, float* loss, const ParallelFor& pf) {
  const Layout& l = *model.layout;
  const Layout& w = *work.layout;
  if (Status s = Forward(model, work, rows, pf); s != Status::kOk) return s;
  if (Status s = LossAndLogitGradient(w, work, rows, pf); s != Status::kOk) return s;
  double sum = 0.0;
  for (size_t r = 0; r < rows; ++r) sum += work.row_loss[r];
  *loss = static_cast<float>(sum / static_cast<double>(rows));
  if (!std::isfinite(*loss)) return Status::kNonFinite;

  // dy of layer i sits in dact[cur]; layer i writes dx (= dy of layer i-1) to the other.
  size_t cur = 0;
  for (size_t i = l.num_layers; i-- > 0;) {
    const size_t in = l.sizes[i], out = l.sizes[i + 1];
    const float* dy = work.scratch + w.dact[cur];
    const float* x = work.scratch + w.act[i];
    float* dw = work.grads + l.weight[i];
    float* db = work.grads + l.bias[i];
    if (i == 0) {
      // The input layer's gradient as dW^T = X^T dY, which skips the zero pixels,
      // into the transposed-weight buffer the forward pass no longer needs.
      float* dwt = work.scratch + w.wt[0];
      SplitRows(pf, in, kRowGrain, [&](size_t b, size_t e) {
        K().linear_backward_params_t(x + b, Padded(in), dy, Padded(out), dwt + b * Padded(out), Padded(out), rows,
                                     e - b, out);
      });
      K().bias_gradient(dy, Padded(out), db, rows, out);
      SplitRows(pf, out, 16, [&](size_t o0, size_t o1) {
        for (size_t ob = o0; ob < o1; ob += 16)
          for (size_t kb = 0; kb < in; kb += 16)
            for (size_t o = ob; o < o1 && o < ob + 16; ++o)
              for (size_t k = kb; k < in && k < kb + 16; ++k) dw[o * in + k] = dwt[k * Padded(out) + o];
      });
    } else {
      // Split by output unit: each keeps its whole sum over rows.
      SplitRows(pf, out, kRowGrain, [&](size_t b, size_t e) {
        K().linear_backward_params(dy + b, Padded(out), x, Padded(in), dw + b * in, db + b, rows, in, e - b);
      });
    }
    if (i > 0) {
      float* wp = work.scratch + w.wp[i];
      float* dx = work.scratch + w.dact[1 - cur];
      PadRows(model.params + l.weight[i], out, in, wp);
      SplitRows(pf, rows, kRowGrain, [&](size_t b, size_t e) {
        K().linear_backward_input(dy + b * Padded(out), Padded(out), wp, Padded(in), x + b * Padded(in), Padded(in),
                                  dx + b * Padded(in), Padded(in), e - b, in, out);
      });
      cur = 1 - cur;
    }
  }
  return Status::kOk;
}

Status Evaluate(ModelRef model, WorkRef work, size_t rows, double* loss_sum, size_t* correct,
                const ParallelFor& pf) {
  const Layout& w = *work.layout;
  if (Status s = Forward(model, work, rows, pf); s != Status::kOk) return s;
  if (Status s = LossAndLogitGradient(w, work, rows, pf); s != Status::kOk) return s;
  const size_t classes = w.sizes[w.num_layers];
  for (size_t r = 0; r < rows; ++r) {
    *loss_sum += work.row_loss[r];
    const float* z = work.scratch + w.act[w.num_layers] + r * Padded(classes);
    size_t best = 0;
    for (size_t j = 1; j < classes; ++j) best = z[j] > z[best] ? j : best;
    *correct += best == work.labels[r];
  }
  return Status::kOk;
}

}  // namespace internal
}  // namespace descent
