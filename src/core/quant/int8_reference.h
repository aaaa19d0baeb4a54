// TFLite's int8 reference kernels' arithmetic for the layers descent will deploy (the scalar
// ground truth int8 kernels will be checked against, as scalar_kernels.cc is for float):
// Quantize (float to int8), FullyConnected with per-channel weights. The integers are TFLite's
// (tensorflow/lite/kernels/internal/reference/integer_ops/fully_connected.h): symmetric int8
// weights (zero point 0), asymmetric int8 activations, int32 biases, requantized per output
// channel and clamped to the activation's range.
#ifndef DESCENT_SRC_CORE_QUANT_INT8_REFERENCE_H_
#define DESCENT_SRC_CORE_QUANT_INT8_REFERENCE_H_

#include <stddef.h>
#include <stdint.h>

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

}  // namespace quant
}  // namespace descent

#endif  // DESCENT_SRC_CORE_QUANT_INT8_REFERENCE_H_
