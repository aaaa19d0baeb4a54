// TFLite's int8 reference kernels' arithmetic for the layers descent will deploy (the scalar
// ground truth int8 kernels will be checked against, as scalar_kernels.cc is for float):
// Quantize (float to int8), FullyConnected and Conv with per-channel weights, max and average
// pooling. The integers are TFLite's (tensorflow/lite/kernels/internal/reference/integer_ops/
// fully_connected.h, conv.h, pooling.h): symmetric int8 weights (zero point 0), asymmetric int8
// activations, int32 biases, requantized per output channel and clamped to the activation's
// range. Integer sums are exact, so their order (and the layout: torch's NCHW here, TFLite's NHWC
// there) changes no bit.
#ifndef DESCENT_SRC_CORE_QUANT_INT8_REFERENCE_H_
#define DESCENT_SRC_CORE_QUANT_INT8_REFERENCE_H_

#include <stddef.h>
#include <stdint.h>

#include "descent/layout.h"
#include "src/core/quant/fixed_point.h"

namespace descent {
namespace quant {

// TfLiteRound of a float: to nearest, ties away from zero (no libm: the fraction a float keeps
// after truncation is exact).
inline int32_t RoundHalfAway(float v) {
  if (!(v > -2147483520.0f && v < 2147483520.0f)) return v > 0 ? INT32_MAX : INT32_MIN;  // (NaN: INT32_MIN)
  const int32_t t = static_cast<int32_t>(v);
  const float frac = v - static_cast<float>(t);
  return t + (frac >= 0.5f ? 1 : frac <= -0.5f ? -1 : 0);
}

// tflite reference Quantize (AffineQuantize): round(x / scale) + zero point, clamped to int8.
inline int8_t QuantizeValue(float x, float scale, int32_t zero_point) {
  const int64_t q = static_cast<int64_t>(RoundHalfAway(x / scale)) + zero_point;
  return static_cast<int8_t>(q < -128 ? -128 : q > 127 ? 127 : q);
}

// The clamp after a fused activation: ReLU starts at the output's zero point (real 0).
struct ActivationRange {
  int32_t min = -128, max = 127;
};
inline ActivationRange Int8Range(bool relu, int32_t output_zero_point) {
  ActivationRange r;
  if (relu && output_zero_point > r.min) r.min = output_zero_point > 127 ? 127 : output_zero_point;
  return r;
}

// y[r, o] = clamp(MultiplyByQuantizedMultiplier(sum_i (x[r, i] - input_zp) * w[o, i] + bias[o],
// multiplier[o]) + output_zp, range): int8 x [rows, in], w [out, in] (torch's layout), int32 sums.
inline void FullyConnected(const int8_t* x, size_t rows, size_t in, int32_t input_zero_point, const int8_t* w,
                           const int32_t* bias, size_t out, const QuantizedMultiplier* multiplier,
                           int32_t output_zero_point, ActivationRange range, int8_t* y) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t o = 0; o < out; ++o) {
      int32_t acc = 0;
      for (size_t i = 0; i < in; ++i)
        acc += (static_cast<int32_t>(x[r * in + i]) - input_zero_point) * static_cast<int32_t>(w[o * in + i]);
      if (bias) acc += bias[o];
      int32_t v = MultiplyByQuantizedMultiplier(acc, multiplier[o]) + output_zero_point;
      v = v < range.min ? range.min : v > range.max ? range.max : v;
      y[r * out + o] = static_cast<int8_t>(v);
    }
}

// One sample's convolution, torch's layouts (x [C, H, W], w [out, C / groups, kh, kw]): per output
// (o, oy, ox) the int32 sum over its taps inside the input of (x - input_zp) * w (a tap in the
// padding reads the real 0, the input's zero point: it adds nothing, as TFLite skips it), + bias,
// requantized with multiplier[o], + output_zp, clamped. Window as descent/layout.h's.
inline void ConvPerChannel(const int8_t* x, size_t c, size_t h, size_t w_in, int32_t input_zero_point,
                           const int8_t* w, const int32_t* bias, size_t out, size_t groups, const Window& win,
                           const QuantizedMultiplier* multiplier, int32_t output_zero_point, ActivationRange range,
                           int8_t* y) {
  const size_t ho = win.OutH(h), wo = win.OutW(w_in), cg = c / groups, og = out / groups;
  for (size_t o = 0; o < out; ++o)
    for (size_t oy = 0; oy < ho; ++oy)
      for (size_t ox = 0; ox < wo; ++ox) {
        int32_t acc = 0;
        for (size_t ci = 0; ci < cg; ++ci)
          for (size_t ky = 0; ky < win.kh; ++ky)
            for (size_t kx = 0; kx < win.kw; ++kx) {
              const size_t iy = oy * win.sh + ky * win.dh, ix = ox * win.sw + kx * win.dw;  // padded
              if (iy < win.top || iy - win.top >= h || ix < win.left || ix - win.left >= w_in) continue;
              const int32_t xv = x[((o / og * cg + ci) * h + iy - win.top) * w_in + ix - win.left];
              acc += (xv - input_zero_point) * static_cast<int32_t>(w[((o * cg + ci) * win.kh + ky) * win.kw + kx]);
            }
        if (bias) acc += bias[o];
        int32_t v = MultiplyByQuantizedMultiplier(acc, multiplier[o]) + output_zero_point;
        v = v < range.min ? range.min : v > range.max ? range.max : v;
        y[(o * ho + oy) * wo + ox] = static_cast<int8_t>(v);
      }
}

// One sample's pooling over x [C, H, W] (no dilation): max, or TFLite's average — the int32 sum of
// the taps inside the input divided by their count, rounded half away from zero (the padding is
// not counted: torch's count_include_pad=False) — clamped to the range.
inline void Pool(const int8_t* x, size_t c, size_t h, size_t w_in, const Window& win, bool max, ActivationRange range,
                 int8_t* y) {
  const size_t ho = win.OutH(h), wo = win.OutW(w_in);
  for (size_t ch = 0; ch < c; ++ch)
    for (size_t oy = 0; oy < ho; ++oy)
      for (size_t ox = 0; ox < wo; ++ox) {
        int32_t sum = 0, count = 0, top = -128;
        for (size_t ky = 0; ky < win.kh; ++ky)
          for (size_t kx = 0; kx < win.kw; ++kx) {
            const size_t iy = oy * win.sh + ky, ix = ox * win.sw + kx;
            if (iy < win.top || iy - win.top >= h || ix < win.left || ix - win.left >= w_in) continue;
            const int32_t v = x[(ch * h + iy - win.top) * w_in + ix - win.left];
            sum += v, ++count, top = v > top ? v : top;
          }
        int32_t v = max ? top : count == 0 ? 0 : sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
        v = v < range.min ? range.min : v > range.max ? range.max : v;
        y[(ch * ho + oy) * wo + ox] = static_cast<int8_t>(v);
      }
}

}  // namespace quant
}  // namespace descent

#endif  // DESCENT_SRC_CORE_QUANT_INT8_REFERENCE_H_
