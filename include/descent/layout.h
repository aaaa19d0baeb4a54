// A model as the size-erased code sees it: an ordered list of layers (torch's
// nn.Sequential), its parameter tensors, and where a plan puts each layer's
// buffers. Built by one constexpr LayoutBuilder from a compile-time layer list
// (descent/model.h) or from the CLI's --net spec at run time,
// so both find the same offsets and run the same code.
//
// Each layer (Linear, a convolution, a pooling) is one entry of `layers`, with the
// activation that follows it (identity: none): the products fuse ReLU, and every
// other activation runs as its own pass over the layer's output. Flatten and
// Identity change no values and need no buffer (a sample is its [C, H, W] values in
// torch's order, so flattening is free); they only count in the module indices that
// name the parameters (`3.weight`).
#ifndef DESCENT_LAYOUT_H_
#define DESCENT_LAYOUT_H_

#include <stddef.h>
#include <stdint.h>

#include "descent/config.h"
#include "descent/layers.h"

namespace descent {

// Layers in one model (the arrays below are sized by it; raise it to go deeper).
inline constexpr size_t kMaxLayers = 32;
// Features of one layer, classes of a class loss (labels are 16-bit).
inline constexpr size_t kMaxWidth = 65536;

// The kinds of layer the core runs; each has its code in one home, src/core/layers/<kind>.cc.
//   kLinear  torch.nn.Linear: weight [out, in], bias [out]
//   kConv    nn.Conv2d / nn.Conv1d: weight [out_c, in_c / groups, kh, kw] ([.., k] for 1-d), bias [out_c]
//   kPool    nn.MaxPool2d/1d, nn.AvgPool2d/1d, nn.AdaptiveAvgPool2d/1d(1): no parameters
//   kBatchNorm  nn.BatchNorm2d/1d: weight [C] and bias [C] (affine), buffers running_mean [C],
//            running_var [C] and num_batches_tracked
//   kDropout nn.Dropout: no parameters
enum class LayerKind : uint8_t { kLinear, kConv, kPool, kBatchNorm, kDropout };

// A sample's values between layers: [c, h, w] in torch's order (1-d data: h = 1; features: c only).
struct Shape {
  size_t c = 0, h = 1, w = 1;
  constexpr size_t size() const { return c * h * w; }
  constexpr size_t positions() const { return h * w; }
};

// A sliding window over [h, w] (convolutions and pooling; 1-d: the h entries are 1 and 0).
struct Window {
  size_t kh = 1, kw = 1;            // kernel
  size_t sh = 1, sw = 1;            // stride
  size_t top = 0, left = 0;         // zero padding before ...
  size_t bottom = 0, right = 0;     // ... and after (`padding='same'` with an even kernel: one more after)
  size_t dh = 1, dw = 1;            // dilation
  constexpr size_t OutH(size_t h) const { return Out(h, kh, sh, top + bottom, dh); }
  constexpr size_t OutW(size_t w) const { return Out(w, kw, sw, left + right, dw); }
  // floor((n + pad - d (k - 1) - 1) / s) + 1, or 0 where the window does not fit.
  static constexpr size_t Out(size_t n, size_t k, size_t s, size_t pad, size_t d) {
    return n + pad < d * (k - 1) + 1 ? 0 : (n + pad - d * (k - 1) - 1) / s + 1;
  }
};

// A square window (1-d: one side) with the same padding before and after; 'same' padding
// (stride 1): the total d (k - 1), the odd one after, as torch.
constexpr Window SquareWindow(size_t k, size_t stride, size_t padding, size_t dilation, bool one_d, bool same = false) {
  Window w;
  size_t before = padding, after = padding;
  if (same) {
    before = dilation * (k - 1) / 2;
    after = dilation * (k - 1) - before;
  }
  w.kw = k, w.sw = stride, w.left = before, w.right = after, w.dw = dilation;
  if (!one_d) w.kh = k, w.sh = stride, w.top = before, w.bottom = after, w.dh = dilation;
  return w;
}

enum class PoolKind : uint8_t { kMax, kAvg };

// One layer and the activation after it.
struct Layer {
  LayerKind kind = LayerKind::kLinear;
  size_t in = 0, out = 0;        // features in and out (in_shape.size(), out_shape.size())
  Shape in_shape, out_shape;
  bool one_d = false;            // kConv, kPool: the 1-d module (its weight has one kernel dimension)
  Window window;                 // kConv, kPool
  size_t groups = 1;             // kConv
  PoolKind pool = PoolKind::kMax;  // kPool
  bool count_include_pad = true;   // kPool, kAvg: the divisor counts the zero padding (torch's default)
  bool has_bias = true;          // kLinear, kConv, kBatchNorm (affine: weight and bias)
  float eps = 1e-5f, momentum = 0.1f;  // kBatchNorm
  size_t running = 0;            // kBatchNorm: running_mean's offset in the model's running statistics
                                 // (running_var follows it), and its num_batches_tracked's index
  size_t tracked = 0;
  float p = 0.5f;                // kDropout: the probability of zeroing an element
  ActivationSpec act{ActivationKind::kIdentity};
  size_t module = 0;             // its index in the nn.Sequential (state_dict names)
  size_t weight = 0, bias = 0;   // offsets in parameter order (bias: has_bias only)
  constexpr bool has_params() const {
    return kind == LayerKind::kLinear || kind == LayerKind::kConv || (kind == LayerKind::kBatchNorm && has_bias);
  }
  // kConv: each output channel's products run over `fan_in` terms (in_c / groups * kh * kw).
  constexpr size_t fan_in() const {
    return kind == LayerKind::kConv ? in_shape.c / groups * window.kh * window.kw : in;
  }
};

// The element type of a workspace buffer (int8 joins with quantized layers).
enum class Dtype : uint8_t { kFloat32, kUint8 };
constexpr size_t SizeOf(Dtype t) { return t == Dtype::kUint8 ? 1 : 4; }

// A named buffer of a plan: where it starts in the workspace (bytes, a multiple of kAlign)
// and what it holds.
struct Slot {
  size_t offset = 0;
  Dtype dtype = Dtype::kFloat32;
};

// One parameter tensor, in state_dict order: a weight ([out, in], [out, in/groups, kh, kw],
// [out, in/groups, k]) or a bias [out].
struct ParamTensor {
  size_t layer = 0;
  bool is_bias = false;
  size_t offset = 0;
  size_t dims = 1;
  size_t shape[4] = {};  // torch's shape, shape[0..dims)
  constexpr size_t size() const {
    size_t n = 1;
    for (size_t d = 0; d < dims; ++d) n *= shape[d];
    return n;
  }
};

struct Layout {
  // The model.
  size_t num_layers = 0;
  Layer layers[kMaxLayers] = {};
  size_t sizes[kMaxLayers + 1] = {};  // layers[i].in, then the last layer's out
  LossSpec loss;  // on the last layer's outputs
  size_t frozen = 0;  // Linear layers 0..frozen-1 get no gradient, state or update
  // Parameter names: the notebook's SimpleNet (`linears.{i}.weight`) or nn.Sequential's (`{module}.weight`).
  bool sequential_names = false;
  size_t num_modules = 0;
  size_t num_tensors = 0;
  ParamTensor tensors[2 * kMaxLayers] = {};
  size_t num_params = 0;
  size_t trainable_begin = 0;  // the trained parameters are [trainable_begin, num_params)
  size_t num_trainable = 0;
  // Batch norm's state besides the parameters: running means and variances (floats, in layer
  // order) and a num_batches_tracked per batch-norm layer.
  size_t num_running = 0;
  size_t num_tracked = 0;

  // A training workspace's plan, for max_batch rows: every layer's input `act`,
  // its kept pre-activation output `pre` (where the activation's derivative reads it),
  // the gradient w.r.t. each layer's product output `dy`, per layer the weights transposed
  // (plus the bias as a last row) `wt` and row-padded `wp`, the float targets of element
  // losses. act[num_layers] holds the outputs (logits).
  size_t max_batch = 0;
  bool lean = false;
  Slot act[kMaxLayers + 1] = {};
  Slot pre[kMaxLayers + 1] = {};
  bool keeps_pre[kMaxLayers + 1] = {};
  Slot dy[kMaxLayers] = {};
  Slot wt[kMaxLayers] = {};
  Slot wp[kMaxLayers] = {};
  Slot targets;   // max_batch * outputs floats, element losses only
  Slot grad_row;  // LeanPlan: one row of a weight gradient and a bias gradient
  // FastPlan: each convolution's unrolled input for the batch, transposed ([positions, taps] per
  // sample: cols[i], written by its forward pass for its weight gradient), and one scratch for
  // the unrolled input of the forward pass and the unrolled input gradient of the backward.
  Slot cols[kMaxLayers] = {};
  Slot columns;
  // FastPlan, batch norm: the batch's mean and 1/sqrt(var + eps) per channel, for the backward pass.
  Slot norm[kMaxLayers] = {};
  // LeanPlan with convolutions or pooling (streamed: one sample at a time, see StreamBuffers):
  // each max pooling's argmax (the tap in its window) for one sample, the whole step's gradient,
  // and one column of a convolution's output gradient.
  Slot argmax[kMaxLayers] = {};
  Slot grads;
  Slot dy_column;
  size_t workspace_bytes = 0;

  constexpr size_t inputs() const { return sizes[0]; }
  constexpr size_t outputs() const { return sizes[num_layers]; }
  // The activation that follows layer i (identity: none).
  constexpr const ActivationSpec& act_of(size_t i) const { return layers[i].act; }
  // The hidden activation when every hidden layer has the same one and the last none (the
  // MLPs of Model<Sizes<...>> and --layers), else nullptr.
  constexpr const ActivationSpec* uniform_activation() const {
    if (layers[num_layers - 1].act.kind != ActivationKind::kIdentity) return nullptr;
    for (size_t i = 0; i < num_layers; ++i)
      if (!layers[i].has_bias || layers[i].kind != LayerKind::kLinear) return nullptr;
    for (size_t i = 1; i + 1 < num_layers; ++i)
      if (layers[i].act.kind != layers[0].act.kind || layers[i].act.negative_slope != layers[0].act.negative_slope)
        return nullptr;
    return &layers[0].act;
  }

  // The MLP of Model<Sizes<...>, Act, Loss, Frozen<k>> and of --layers: `count` sizes, the
  // activation after every layer but the last, SimpleNet's names; with a plan for max_batch rows.
  static constexpr Layout Of(const size_t* s, size_t count, size_t max_batch, ActivationSpec activation = {},
                             LossSpec loss = {}, size_t frozen = 0, bool lean = false);
  // Whether every layer is a Linear (what LeanPlan and InferenceWorkspace run, for now).
  constexpr bool all_linear() const {
    for (size_t i = 0; i < num_layers; ++i)
      if (layers[i].kind != LayerKind::kLinear) return false;
    return true;
  }
  constexpr bool has_dropout() const {
    for (size_t i = 0; i < num_layers; ++i)
      if (layers[i].kind == LayerKind::kDropout) return true;
    return false;
  }
  // Whether layer i (a convolution) hands its outputs straight to the max pooling after it: the
  // streamed LeanPlan then keeps only the pooled values and their argmax, never the convolution's
  // whole output (the derivative of ReLU, or of none, is read off the pooled value).
  constexpr bool FusedIntoPool(size_t i) const {
    return layers[i].kind == LayerKind::kConv && i + 1 < num_layers && layers[i + 1].kind == LayerKind::kPool &&
           layers[i + 1].pool == PoolKind::kMax && layers[i + 1].act.kind == ActivationKind::kIdentity &&
           (layers[i].act.kind == ActivationKind::kRelu || layers[i].act.kind == ActivationKind::kIdentity);
  }
  // Whether the streamed LeanPlan runs this model: convolutions, pooling, Linear layers and
  // activations (batch norm needs the whole batch's statistics; dropout is not streamed yet);
  // max pooling windows of at most 256 taps (the argmax is a byte); no frozen layers; the first
  // layer a convolution or a Linear (the others read the caller's rows in place).
  constexpr bool streamable() const {
    if (frozen > 0 || num_layers == 0 || layers[0].kind == LayerKind::kPool) return false;
    for (size_t i = 0; i < num_layers; ++i) {
      const Layer& d = layers[i];
      if (d.kind == LayerKind::kBatchNorm || d.kind == LayerKind::kDropout) return false;
      if (d.kind == LayerKind::kPool && d.pool == PoolKind::kMax && d.window.kh * d.window.kw > 256) return false;
    }
    return true;
  }
  // This model with a training plan for max_batch rows.
  constexpr Layout Planned(size_t batch, bool lean_plan) const {
    Layout l = *this;
    l.max_batch = batch;
    l.lean = lean_plan;
    l.workspace_bytes = 0;
    if (batch == 0) return l;
    size_t at = !lean_plan ? l.FastBuffers() : l.all_linear() ? l.LeanBuffers() : l.StreamBuffers();
    l.targets = F32(at);
    at += HasClassTargets(loss.kind) ? 0 : batch * outputs();
    l.workspace_bytes = at * SizeOf(Dtype::kFloat32);
    return l;
  }

 private:
  // The plans below count in floats (every buffer is float32 for now) and name slots in bytes.
  static constexpr Slot F32(size_t floats) { return Slot{floats * SizeOf(Dtype::kFloat32), Dtype::kFloat32}; }
  constexpr size_t Rows(size_t width) const { return max_batch * Padded(width); }
  // Whether the output of layer j-1 (= act[j]) is kept before its activation.
  constexpr bool NeedsPre(size_t j) const { return j > 0 && NeedsPreActivation(layers[j - 1].act); }
  // FastPlan: every activation, two gradient buffers of the widest layer (layer i's dy in
  // one, its input gradient into the other), and per layer the weights transposed (with the
  // bias as a last row) and row-padded.
  constexpr size_t FastBuffers() {
    size_t at = 0, widest = 0;
    for (size_t i = 0; i <= num_layers; ++i) {
      act[i] = F32(at);
      at += Rows(sizes[i]);
      widest = i > 0 && Padded(sizes[i]) > widest ? Padded(sizes[i]) : widest;
    }
    for (size_t j = 1; j <= num_layers; ++j) {
      keeps_pre[j] = NeedsPre(j);
      if (!keeps_pre[j]) continue;
      pre[j] = F32(at);
      at += Rows(sizes[j]);
    }
    const size_t buffers[2] = {at, at + max_batch * widest};
    at += 2 * max_batch * widest;
    for (size_t i = 0; i < num_layers; ++i) dy[i] = F32(buffers[(num_layers - 1 - i) % 2]);
    size_t unrolled = 0;
    for (size_t i = 0; i < num_layers; ++i) {
      if (layers[i].kind == LayerKind::kConv) {  // the unrolled input transposed, and the weights row-padded
        const Layer& d = layers[i];
        unrolled = Max(unrolled, ColumnFloats(d));
        cols[i] = F32(at);
        at += max_batch * d.out_shape.positions() * Padded(d.fan_in() * d.groups);
        wp[i] = F32(at);
        at += i <= frozen ? 0 : d.out_shape.c * Padded(d.fan_in());
      }
      if (layers[i].kind == LayerKind::kBatchNorm) {
        norm[i] = F32(at);
        at += Padded(2 * layers[i].in_shape.c);
      }
      if (layers[i].kind != LayerKind::kLinear) continue;
      wt[i] = F32(at);
      at += (sizes[i] + 1) * Padded(sizes[i + 1]);
      wp[i] = F32(at);
      at += i <= frozen ? 0 : sizes[i + 1] * Padded(sizes[i]);  // only layers above a trained one pass a gradient down
    }
    columns = F32(at);
    return at + unrolled + (unrolled ? kLanePad : 0);  // the products read up to a vector past a row
  }
  // A convolution's scratch for the batch: per sample its unrolled input [fan_in * groups,
  // positions] (the forward pass), then its unrolled input gradient [positions, fan_in * groups].
  constexpr size_t ColumnFloats(const Layer& d) const {
    const size_t k = d.fan_in() * d.groups, p = d.out_shape.positions();
    return max_batch * Max(k * Padded(p), p * Padded(k));
  }
  // LeanPlan: the input is read where the caller keeps it; only the hidden outputs the
  // backward pass reads are kept (from the first trained layer's input up); the frozen
  // layers' outputs, the logits and the gradients share two buffers, each sized for what
  // passes through it; one weight-gradient row.
  constexpr size_t LeanBuffers() {
    const size_t n = num_layers;
    size_t at = 0;
    for (size_t j = 1; j < n; ++j) {
      if (j < frozen) continue;
      act[j] = F32(at);
      at += Rows(sizes[j]);
      keeps_pre[j] = NeedsPre(j) && j > frozen;  // read by layer j's input gradient
      if (keeps_pre[j]) {
        pre[j] = F32(at);
        at += Rows(sizes[j]);
      }
    }
    keeps_pre[n] = NeedsPre(n);  // the last layer's own activation, undone before its backward
    if (keeps_pre[n]) {
      pre[n] = F32(at);
      at += Rows(sizes[n]);
    }
    // Buffer 0 holds the loss's gradient (layer n-1's dy) and buffer 1 the logits; going down,
    // layer i's dy alternates between them, and so do the frozen layers' outputs going up.
    size_t slot[2] = {Rows(sizes[n]), Rows(sizes[n])};
    for (size_t j = 1; j < frozen; ++j) slot[(j - 1) % 2] = Max(slot[(j - 1) % 2], Rows(sizes[j]));
    for (size_t i = frozen + 1; i < n; ++i) {  // layer i's input gradient is layer i-1's dy
      const size_t k = (n - i) % 2;
      slot[k] = Max(slot[k], Rows(sizes[i]));
    }
    const size_t buffers[2] = {at, at + slot[0]};
    at += slot[0] + slot[1];
    for (size_t i = 0; i < n; ++i) dy[i] = F32(buffers[(n - 1 - i) % 2]);
    for (size_t j = 1; j < frozen && j < n; ++j) act[j] = F32(buffers[(j - 1) % 2]);
    act[n] = F32(buffers[1]);
    size_t row = 0, column = 0;
    for (size_t i = frozen; i < n; ++i) {
      row = Max(row, sizes[i]);
      column = Max(column, sizes[i + 1]);
    }
    grad_row = F32(at);
    return at + row + column;
  }
  // LeanPlan with convolutions or pooling: the step runs the samples one at a time, twice (the
  // first pass only keeps the outputs, for the loss over the whole batch; the second runs each
  // sample forward again and backward, adding to the step's gradient), so every buffer holds one
  // sample but the outputs, their gradient and the gradient of the parameters. A convolution
  // followed by max pooling keeps neither its output nor its output's gradient (FusedIntoPool).
  constexpr size_t StreamBuffers() {
    const size_t n = num_layers;
    size_t at = 0;
    auto take = [&](size_t floats) {
      const Slot s = F32(at);
      at += Padded(floats);
      return s;
    };
    for (size_t j = 1; j < n; ++j) {
      if (FusedIntoPool(j - 1)) continue;
      act[j] = take(sizes[j]);
      keeps_pre[j] = NeedsPre(j);
      if (keeps_pre[j]) pre[j] = take(sizes[j]);
    }
    act[n] = take(max_batch * Padded(sizes[n]));  // every sample's outputs: the loss is over the batch
    keeps_pre[n] = NeedsPre(n);
    if (keeps_pre[n]) pre[n] = take(max_batch * Padded(sizes[n]));
    dy[n - 1] = take(sizes[n]);  // the loss's gradient, one sample at a time
    // The other output gradients alternate between two buffers from the top down, each sized
    // for what passes through it (a fused convolution's is never kept).
    size_t sizes_of[2] = {0, 0}, k = 0;
    for (size_t i = n - 1; i-- > 0;)
      if (!FusedIntoPool(i)) sizes_of[k % 2] = Max(sizes_of[k % 2], sizes[i + 1]), ++k;
    const Slot buffers[2] = {take(sizes_of[0]), take(sizes_of[1])};
    k = 0;
    for (size_t i = n - 1; i-- > 0;)
      if (!FusedIntoPool(i)) dy[i] = buffers[k++ % 2];
    size_t bytes = 0, outs = 0;  // the fused poolings' argmax bytes, the widest output column
    for (size_t i = 0; i < n; ++i) {
      if (i > 0 && FusedIntoPool(i - 1)) bytes += Padded(layers[i].out);
      if (layers[i].kind == LayerKind::kConv) outs = Max(outs, layers[i].out_shape.c);
    }
    dy_column = take(outs);
    grads = take(num_trainable);
    size_t byte_at = at * SizeOf(Dtype::kFloat32);
    for (size_t i = 1; i < n; ++i)
      if (FusedIntoPool(i - 1)) {
        argmax[i] = Slot{byte_at, Dtype::kUint8};
        byte_at += Padded(layers[i].out);
      }
    return at + bytes / SizeOf(Dtype::kFloat32);
  }
  static constexpr size_t Max(size_t a, size_t b) { return a > b ? a : b; }
};

// Why a layer list cannot be built, as a code (the compile-time list turns each into a
// static_assert; the CLI into a message naming the item).
enum class LayoutError : uint8_t {
  kNone,
  kTooManyLayers,      // more than kMaxLayers layers
  kBadWidth,           // a Linear's out_features outside [1, kMaxWidth]
  kMultiDimensional,   // a Linear on a [C, L] or [C, H, W] input without Flatten
  kActivationPlace,    // an activation not right after a layer
  kFrozenAfterTrained, // only leading Linear layers can be frozen
  kNoLinear,           // no layer with parameters at all
  kWrongDims,          // a 2-d convolution or pooling on a non-[C, H, W] input, a 1-d one on a non-[C, L] one
  kBadChannels,        // out_channels outside [1, kMaxWidth], or channels not divisible by groups
  kBadWindow,          // a zero kernel size, stride or dilation, padding over half the kernel (pooling)
  kWindowTooLarge,     // the window does not fit in the (padded) input: an output size below 1
  kBadNorm,            // batch norm: eps not positive or momentum outside [0, 1]; a 2-d one not on
                       // [C, H, W], a 1-d one not on [C] or [C, L]
  kBadDropout,         // p outside [0, 1)
  kTooLarge,           // a layer's output over 2^26 values, or a convolution's over 2^24 taps per output
  kAllFrozen,          // nothing to train
  kBadInput,           // an input shape with a zero or too many features
  kBadActivation,      // InvalidReason(ActivationSpec)
  kBadLoss,            // InvalidReason(LossSpec)
  kTooFewOutputs,      // a class loss over one output
  kTooManyClasses,     // a class loss over more than kMaxWidth outputs
};
constexpr const char* Describe(LayoutError e) {
  switch (e) {
    case LayoutError::kNone: return "";
    case LayoutError::kTooManyLayers: return "too many layers (kMaxLayers = 32 Linear, convolution and pooling layers)";
    case LayoutError::kBadWidth: return "a Linear's out_features must be in [1, 65536]";
    case LayoutError::kMultiDimensional:
      return "a Linear on a multi-dimensional input acts on its last dimension in torch: put flatten before it";
    case LayoutError::kActivationPlace:
      return "an activation must follow a Linear, convolution or pooling layer (at most one after each)";
    case LayoutError::kFrozenAfterTrained: return "only leading Linear layers can be frozen";
    case LayoutError::kNoLinear: return "a model needs at least one layer with parameters (linear, conv)";
    case LayoutError::kWrongDims:
      return "a 2-d convolution or pooling needs a [C, H, W] input, a 1-d one a [C, L] input";
    case LayoutError::kBadChannels:
      return "out_channels must be in [1, 65536], and in_channels and out_channels divisible by groups";
    case LayoutError::kBadWindow:
      return "kernel size, stride and dilation must be at least 1 and padding at most half the kernel (pooling)";
    case LayoutError::kWindowTooLarge: return "the kernel does not fit in the padded input (an output size below 1)";
    case LayoutError::kBadNorm:
      return "batchnorm2d needs a [C, H, W] input and batchnorm1d a [C] or [C, L] one; eps > 0, momentum in [0, 1]";
    case LayoutError::kBadDropout: return "dropout's p must be in [0, 1)";
    case LayoutError::kTooLarge:
      return "too large: a layer's output may have at most 2^26 values, a convolution at most 2^24 taps per output, "
             "a window's sizes and padding at most 65536";
    case LayoutError::kAllFrozen: return "at least the last Linear layer must be trained";
    case LayoutError::kBadInput: return "the input shape must have 1 to 3 dimensions, each in [1, 65536]";
    case LayoutError::kBadActivation: return "invalid activation parameters";
    case LayoutError::kBadLoss: return "invalid loss parameters";
    case LayoutError::kTooFewOutputs:
      return "log-softmax + NLL / cross-entropy needs at least two outputs (one output: mse, l1, huber or bce)";
    case LayoutError::kTooManyClasses: return "labels are 16-bit: at most 65536 classes";
  }
  return "";
}

// Builds a Layout layer by layer, in nn.Sequential's order; each call answers kNone or why
// the layer cannot follow the ones before it (the layout is then unusable).
class LayoutBuilder {
 public:
  constexpr LayoutBuilder(const size_t* shape, size_t dims, bool sequential_names) {
    l_.sequential_names = sequential_names;
    size_t features = 1;
    bool ok = dims >= 1 && dims <= 3;
    for (size_t d = 0; ok && d < dims; ++d) {
      ok = shape[d] >= 1 && shape[d] <= kMaxWidth;
      features *= ok ? shape[d] : 1;
    }
    if (!ok || features > (size_t{1} << 26)) error_ = LayoutError::kBadInput;
    width_ = features;
    dims_ = dims;
    if (ok) shape_ = dims == 3 ? Shape{shape[0], shape[1], shape[2]} : dims == 2 ? Shape{shape[0], 1, shape[1]}
                                                                     : Shape{shape[0], 1, 1};
  }
  constexpr LayoutError Linear(size_t out, bool bias = true, bool frozen = false) {
    if (error_ != LayoutError::kNone) return error_;
    if (l_.num_layers == kMaxLayers) return Fail(LayoutError::kTooManyLayers);
    if (out == 0 || out > kMaxWidth) return Fail(LayoutError::kBadWidth);
    if (dims_ > 1) return Fail(LayoutError::kMultiDimensional);
    if (frozen && l_.frozen != l_.num_layers) return Fail(LayoutError::kFrozenAfterTrained);
    Layer& d = Append(LayerKind::kLinear, Shape{out, 1, 1});
    d.has_bias = bias;
    l_.frozen += frozen;
    return LayoutError::kNone;
  }
  // nn.Conv2d (one_d: nn.Conv1d) with out_channels, its window and groups, on [C, H, W] ([C, L]).
  constexpr LayoutError Conv(size_t out_channels, const Window& w, size_t groups, bool bias, bool one_d) {
    if (LayoutError e = CheckWindow(w, one_d, false); e != LayoutError::kNone) return e;
    if (out_channels == 0 || out_channels > kMaxWidth || groups == 0 || shape_.c % groups != 0 ||
        out_channels % groups != 0)
      return Fail(LayoutError::kBadChannels);
    const Shape out{out_channels, w.OutH(shape_.h), w.OutW(shape_.w)};
    if (out.size() > (size_t{1} << 26) || shape_.c * w.kh * w.kw > (size_t{1} << 24)) return Fail(LayoutError::kTooLarge);
    Layer& d = Append(LayerKind::kConv, out);
    d.one_d = one_d;
    d.window = w;
    d.groups = groups;
    d.has_bias = bias;
    return LayoutError::kNone;
  }
  // nn.MaxPool2d / nn.AvgPool2d (one_d: the 1-d ones); nn.AdaptiveAvgPool2d(1) is an average
  // over the whole [H, W] (Global below).
  constexpr LayoutError Pool(PoolKind kind, const Window& w, bool count_include_pad, bool one_d) {
    if (LayoutError e = CheckWindow(w, one_d, true); e != LayoutError::kNone) return e;
    const Shape out{shape_.c, w.OutH(shape_.h), w.OutW(shape_.w)};
    if (out.size() > (size_t{1} << 26)) return Fail(LayoutError::kTooLarge);
    Layer& d = Append(LayerKind::kPool, out);
    d.one_d = one_d;
    d.window = w;
    d.pool = kind;
    d.count_include_pad = count_include_pad;
    return LayoutError::kNone;
  }
  // nn.BatchNorm2d (one_d: nn.BatchNorm1d) over the current channels; affine: a weight and a bias.
  constexpr LayoutError BatchNorm(bool one_d, float eps = 1e-5f, float momentum = 0.1f, bool affine = true) {
    if (error_ != LayoutError::kNone) return error_;
    if (l_.num_layers == kMaxLayers) return Fail(LayoutError::kTooManyLayers);
    if ((one_d ? dims_ > 2 : dims_ != 3) || !(eps > 0.0f) || !(momentum >= 0.0f && momentum <= 1.0f) ||
        eps > 1e30f)
      return Fail(LayoutError::kBadNorm);
    Layer& d = Append(LayerKind::kBatchNorm, shape_);
    d.one_d = one_d;
    d.eps = eps;
    d.momentum = momentum;
    d.has_bias = affine;
    d.running = l_.num_running;
    d.tracked = l_.num_tracked++;
    l_.num_running += 2 * shape_.c;
    return LayoutError::kNone;
  }
  // nn.Dropout(p): identity in evaluation.
  constexpr LayoutError Dropout(float p) {
    if (error_ != LayoutError::kNone) return error_;
    if (l_.num_layers == kMaxLayers) return Fail(LayoutError::kTooManyLayers);
    if (!(p >= 0.0f && p < 1.0f)) return Fail(LayoutError::kBadDropout);
    Layer& d = Append(LayerKind::kDropout, shape_);
    d.p = p;
    return LayoutError::kNone;
  }
  constexpr LayoutError GlobalAvgPool(bool one_d) {
    Window w;  // the whole [H, W] (checked as a window like any other)
    w.kh = shape_.h;
    w.kw = shape_.w;
    return Pool(PoolKind::kAvg, w, true, one_d);
  }
  constexpr LayoutError Activation(const ActivationSpec& a) {
    if (error_ != LayoutError::kNone) return error_;
    if (InvalidReason(a)) return Fail(LayoutError::kBadActivation);
    if (a.kind == ActivationKind::kIdentity) return Identity();
    if (!can_activate_) return Fail(LayoutError::kActivationPlace);
    l_.layers[l_.num_layers - 1].act = a;
    can_activate_ = false;
    ++l_.num_modules;
    return LayoutError::kNone;
  }
  constexpr LayoutError Flatten() {
    if (error_ != LayoutError::kNone) return error_;
    dims_ = 1;
    shape_ = Shape{width_, 1, 1};
    ++l_.num_modules;
    return LayoutError::kNone;
  }
  constexpr LayoutError Identity() {
    if (error_ != LayoutError::kNone) return error_;
    ++l_.num_modules;
    return LayoutError::kNone;
  }
  // The loss, the parameter tensors and their offsets: the model is complete.
  constexpr LayoutError Finish(const LossSpec& loss) {
    if (error_ != LayoutError::kNone) return error_;
    bool has_params = false;
    for (size_t i = 0; i < l_.num_layers; ++i) has_params |= l_.layers[i].has_params();
    if (!has_params) return Fail(LayoutError::kNoLinear);
    if (l_.frozen == l_.num_layers) return Fail(LayoutError::kAllFrozen);
    if (InvalidReason(loss)) return Fail(LayoutError::kBadLoss);
    if (HasClassTargets(loss.kind) && width_ < 2) return Fail(LayoutError::kTooFewOutputs);
    if (HasClassTargets(loss.kind) && width_ > kMaxWidth) return Fail(LayoutError::kTooManyClasses);
    l_.loss = loss;
    for (size_t i = 0; i < l_.num_layers; ++i) {
      Layer& d = l_.layers[i];
      l_.sizes[i] = d.in;
      if (i == l_.frozen) l_.trainable_begin = l_.num_params;
      if (!d.has_params()) continue;
      const size_t rows = d.out_shape.c;  // out_features, out_channels, num_features
      if (d.kind == LayerKind::kBatchNorm) {  // weight [C], bias [C]
        l_.tensors[l_.num_tensors++] = {i, false, d.weight = l_.num_params, 1, {rows, 0, 0, 0}};
        l_.tensors[l_.num_tensors++] = {i, true, d.bias = l_.num_params + rows, 1, {rows, 0, 0, 0}};
        l_.num_params += 2 * rows;
        continue;
      }
      ParamTensor weight{i, false, d.weight = l_.num_params, 2, {rows, d.fan_in(), 0, 0}};
      if (d.kind == LayerKind::kConv) {
        weight.dims = d.one_d ? 3 : 4;
        const size_t kernel[4] = {rows, d.in_shape.c / d.groups, d.window.kh, d.window.kw};
        for (size_t k = 0; k < 4; ++k) weight.shape[k] = kernel[k];
        if (d.one_d) weight.shape[2] = d.window.kw;
      }
      l_.tensors[l_.num_tensors++] = weight;
      l_.num_params += weight.size();
      if (d.has_bias) {
        d.bias = l_.num_params;
        l_.tensors[l_.num_tensors++] = {i, true, d.bias, 1, {rows, 0, 0, 0}};
        l_.num_params += rows;
      }
    }
    l_.sizes[l_.num_layers] = width_;
    l_.num_trainable = l_.num_params - l_.trainable_begin;
    return LayoutError::kNone;
  }
  constexpr LayoutError error() const { return error_; }
  constexpr const Layout& layout() const { return l_; }
  constexpr size_t width() const { return width_; }  // features after the layers so far

 private:
  constexpr LayoutError Fail(LayoutError e) { return error_ = e; }
  // The next layer entry, from the current shape to `out`; the shape moves on.
  constexpr Layer& Append(LayerKind kind, const Shape& out) {
    Layer& d = l_.layers[l_.num_layers++];
    d.kind = kind;
    d.in_shape = shape_;
    d.in = width_;
    d.out_shape = out;
    d.out = out.size();
    d.module = l_.num_modules++;
    shape_ = out;
    width_ = out.size();
    can_activate_ = true;
    return d;
  }
  // A window that fits the current input: 2-d on [C, H, W], 1-d on [C, L] (h entries 1 and 0).
  constexpr LayoutError CheckWindow(const Window& w, bool one_d, bool pooling) {
    if (error_ != LayoutError::kNone) return error_;
    if (l_.num_layers == kMaxLayers) return Fail(LayoutError::kTooManyLayers);
    if (dims_ != (one_d ? 2 : 3)) return Fail(LayoutError::kWrongDims);
    if (w.kh == 0 || w.kw == 0 || w.sh == 0 || w.sw == 0 || w.dh == 0 || w.dw == 0) return Fail(LayoutError::kBadWindow);
    if (one_d && (w.kh != 1 || w.top + w.bottom != 0)) return Fail(LayoutError::kBadWindow);
    // torch: "pad should be at most half of effective kernel size"
    if (pooling && (2 * w.top > w.kh || 2 * w.left > w.kw || w.bottom != w.top || w.right != w.left))
      return Fail(LayoutError::kBadWindow);
    if (w.kh > kMaxWidth || w.kw > kMaxWidth || w.sh > kMaxWidth || w.sw > kMaxWidth || w.dh > kMaxWidth ||
        w.dw > kMaxWidth || w.top + w.bottom > kMaxWidth || w.left + w.right > kMaxWidth)
      return Fail(LayoutError::kTooLarge);
    if (w.OutH(shape_.h) == 0 || w.OutW(shape_.w) == 0) return Fail(LayoutError::kWindowTooLarge);
    return LayoutError::kNone;
  }
  Layout l_;
  LayoutError error_ = LayoutError::kNone;
  size_t width_ = 0, dims_ = 0;
  Shape shape_;
  bool can_activate_ = false;
};

constexpr Layout Layout::Of(const size_t* s, size_t count, size_t max_batch, ActivationSpec activation,
                            LossSpec loss, size_t frozen, bool lean) {
  LayoutBuilder b(s, 1, false);
  for (size_t i = 1; i < count; ++i) {
    b.Linear(s[i], true, i - 1 < frozen);
    if (i + 1 < count) b.Activation(activation);
  }
  b.Finish(loss);
  return b.layout().Planned(max_batch, lean);
}

}  // namespace descent

#endif  // DESCENT_LAYOUT_H_
