// TFLite's integer requantization, to the bit: a real multiplier (input scale x weight scale /
// output scale) as a Q31 fixed-point number and a power-of-two shift (QuantizeMultiplier), applied
// to an int32 accumulator with gemmlowp's saturating rounding doubling high multiply and rounding
// right shift (MultiplyByQuantizedMultiplier). CMSIS-NN and TFLite Micro compute the same integers.
// No libm: the double's exponent and mantissa are read from its bits.
#ifndef DESCENT_SRC_CORE_QUANT_FIXED_POINT_H_
#define DESCENT_SRC_CORE_QUANT_FIXED_POINT_H_

#include <stdint.h>
#include <string.h>

namespace descent {
namespace quant {

// gemmlowp::SaturatingRoundingDoublingHighMul: the high 32 bits of 2ab, rounded to nearest (ties
// away from zero); the one overflow, INT32_MIN squared, saturates to INT32_MAX.
inline int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

// gemmlowp::RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero;
// exponent in [0, 31].
inline int32_t RoundingDivideByPOT(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

struct QuantizedMultiplier {
  int32_t multiplier = 0;  // Q31: the real value's mantissa in [0.5, 1) times 2^31
  int shift = 0;           // the power of two: positive shifts left
};

// tflite::QuantizeMultiplier: real = q * 2^shift with q in [0.5, 1) (frexp), q * 2^31 rounded half
// away from zero (a q that rounds to 2^31 becomes 2^30 with shift + 1), and a shift below -31
// (every bit shifted out) as 0 * 2^0.
inline QuantizedMultiplier QuantizeMultiplier(double real) {
  QuantizedMultiplier out;
  uint64_t bits;
  memcpy(&bits, &real, sizeof(bits));
  const bool negative = bits >> 63;
  const int biased = static_cast<int>((bits >> 52) & 0x7FF);
  const uint64_t mantissa = bits & ((uint64_t{1} << 52) - 1);
  if (biased == 0 || biased == 0x7FF) return out;  // zero, subnormal (shift far below -31), inf, NaN
  int shift = biased - 1022;                       // frexp's exponent: real = (1.m / 2) * 2^shift
  // (1.m / 2) * 2^31 = (2^52 + m) / 2^22, rounded half away from zero.
  int64_t q = static_cast<int64_t>(((uint64_t{1} << 52) + mantissa + (uint64_t{1} << 21)) >> 22);
  if (q == (int64_t{1} << 31)) q /= 2, ++shift;
  if (shift < -31) return out;
  out.multiplier = static_cast<int32_t>(negative ? -q : q);
  out.shift = shift;
  return out;
}

// tflite::MultiplyByQuantizedMultiplier: x * real, as TFLite's reference kernels requantize
// an accumulator (left shift first, then the high multiply, then the rounding right shift).
inline int32_t MultiplyByQuantizedMultiplier(int32_t x, const QuantizedMultiplier& m) {
  const int left = m.shift > 0 ? m.shift : 0, right = m.shift > 0 ? 0 : -m.shift;
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(static_cast<int32_t>(static_cast<uint32_t>(x) << left),
                                                               m.multiplier),
                             right);
}

}  // namespace quant
}  // namespace descent

#endif  // DESCENT_SRC_CORE_QUANT_FIXED_POINT_H_
