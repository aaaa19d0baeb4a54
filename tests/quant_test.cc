// TFLite's integer requantization (src/core/quant/fixed_point.h) against independent
// implementations: gemmlowp's own fixed-point functions (Debian's libgemmlowp-dev, the header
// TFLite's reference kernels and CMSIS-NN use) and QuantizeMultiplier as TFLite writes it, with
// libm's frexp and round.
#include <math.h>
#include <stdint.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "descent/rng.h"
#include "gemmlowp/fixedpoint/fixedpoint.h"
#include "src/core/quant/fixed_point.h"
#include "tests/doctest_config.h"

namespace descent {
namespace {

// tflite::QuantizeMultiplier (tensorflow/lite/kernels/internal/quantization_util.cc).
quant::QuantizedMultiplier TfliteQuantizeMultiplier(double double_multiplier) {
  quant::QuantizedMultiplier out;
  if (double_multiplier == 0.) return out;
  int shift = 0;
  const double q = std::frexp(double_multiplier, &shift);
  auto q_fixed = static_cast<int64_t>(std::round(q * (1LL << 31)));
  REQUIRE(q_fixed <= (1LL << 31));
  if (q_fixed == (1LL << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) {
    shift = 0;
    q_fixed = 0;
  }
  out.multiplier = static_cast<int32_t>(q_fixed);
  out.shift = shift;
  return out;
}

// tflite::MultiplyByQuantizedMultiplier on gemmlowp's functions.
int32_t TfliteMultiply(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  return gemmlowp::RoundingDivideByPOT(gemmlowp::SaturatingRoundingDoublingHighMul(x * (1 << left), multiplier), right);
}

int32_t Int32(Rng& rng) {
  const uint64_t u = (static_cast<uint64_t>(rng.Below(1u << 31)) << 1) ^ rng.Below(2);
  return static_cast<int32_t>(static_cast<uint32_t>(u));
}

TEST_CASE("quant: gemmlowp's fixed-point primitives, to the bit") {
  const int32_t edges[] = {0, 1, -1, 2, -2, 3, -3, INT32_MAX, INT32_MIN, INT32_MIN + 1, 1 << 30, -(1 << 30),
                           (1 << 30) + 1, 12345, -12345, 0x40000000, 0x3FFFFFFF};
  for (int32_t a : edges)
    for (int32_t b : edges) CHECK(quant::SaturatingRoundingDoublingHighMul(a, b) == gemmlowp::SaturatingRoundingDoublingHighMul(a, b));
  Rng rng(3);
  size_t same = 0, total = 0;
  for (int i = 0; i < 200000; ++i) {
    const int32_t a = Int32(rng), b = i % 3 ? Int32(rng) : static_cast<int32_t>(rng.Below(1 << 16)) - (1 << 15);
    same += quant::SaturatingRoundingDoublingHighMul(a, b) == gemmlowp::SaturatingRoundingDoublingHighMul(a, b);
    const int e = static_cast<int>(rng.Below(32));
    same += quant::RoundingDivideByPOT(a, e) == gemmlowp::RoundingDivideByPOT(a, e);
    total += 2;
  }
  CHECK(same == total);
  for (int32_t x : edges)
    for (int e = 0; e <= 31; ++e) CHECK(quant::RoundingDivideByPOT(x, e) == gemmlowp::RoundingDivideByPOT(x, e));
}

TEST_CASE("quant: QuantizeMultiplier and MultiplyByQuantizedMultiplier are TFLite's, without libm") {
  Rng rng(5);
  size_t same = 0, total = 0;
  for (int i = 0; i < 100000; ++i) {
    // Multipliers as requantization makes them (input scale x weight scale / output scale), over
    // every magnitude that occurs and beyond, ties of the rounding included.
    const double mantissa = 0.5 + 0.5 * (static_cast<double>(rng.Below(1u << 31)) / 2147483648.0);
    const int exponent = static_cast<int>(rng.Below(80)) - 60;
    double real = std::ldexp(mantissa, exponent);
    if (i % 7 == 0) real = std::ldexp(std::floor(mantissa * (1 << 30)) + 0.5, exponent - 30);  // exact halves
    if (i % 11 == 0) real = -real;
    const quant::QuantizedMultiplier ours = quant::QuantizeMultiplier(real), want = TfliteQuantizeMultiplier(real);
    same += ours.multiplier == want.multiplier && ours.shift == want.shift;
    ++total;
    if (want.shift > 20 || want.multiplier == 0) continue;
    for (int k = 0; k < 4; ++k) {
      // Accumulators small enough that TFLite's left shift does not overflow.
      const int32_t x = static_cast<int32_t>(rng.Below(1u << 20)) - (1 << 19);
      const int32_t scaled = want.shift > 0 ? x >> want.shift : x;
      same += quant::MultiplyByQuantizedMultiplier(scaled, ours) == TfliteMultiply(scaled, want.multiplier, want.shift);
      ++total;
    }
  }
  CHECK(same == total);
  // The edges: 0, the largest mantissa (rounds up to 2^31: halved, shift + 1), below 2^-31.
  CHECK(quant::QuantizeMultiplier(0.0).multiplier == 0);
  const double just_below_one = std::nextafter(1.0, 0.0);
  CHECK(quant::QuantizeMultiplier(just_below_one).multiplier == TfliteQuantizeMultiplier(just_below_one).multiplier);
  CHECK(quant::QuantizeMultiplier(just_below_one).shift == 1);
  CHECK(quant::QuantizeMultiplier(std::ldexp(0.75, -40)).multiplier == 0);
  CHECK(quant::QuantizeMultiplier(1.0).multiplier == (1 << 30));
  CHECK(quant::QuantizeMultiplier(1.0).shift == 1);
}

}  // namespace
}  // namespace descent

#include "src/core/quant/int8_reference.h"

namespace descent {
namespace {

// A layer quantized as the tests below do it: the input asymmetric over [-1, 2], the weights symmetric
// per output channel (`per_out` of them each), the bias in input x weight scale.
struct QuantizedLayer {
  float in_scale = 3.0f / 255.0f;
  int32_t in_zp = -128 + quant::RoundHalfAway(1.0f / (3.0f / 255.0f));
  std::vector<int8_t> xq, wq;
  std::vector<float> w_scale;
  std::vector<int32_t> bq;
};
QuantizedLayer Quantize(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
                        size_t per_out) {
  QuantizedLayer q;
  const size_t out = b.size();
  q.xq.resize(x.size()), q.wq.resize(w.size()), q.w_scale.resize(out), q.bq.resize(out);
  for (size_t i = 0; i < x.size(); ++i) q.xq[i] = quant::QuantizeValue(x[i], q.in_scale, q.in_zp);
  for (size_t o = 0; o < out; ++o) {
    float m = 0;
    for (size_t k = 0; k < per_out; ++k) m = std::max(m, std::fabs(w[o * per_out + k]));
    q.w_scale[o] = m / 127.0f;
    for (size_t k = 0; k < per_out; ++k) q.wq[o * per_out + k] = quant::QuantizeValue(w[o * per_out + k], q.w_scale[o], 0);
    q.bq[o] = quant::RoundHalfAway(b[o] / (q.in_scale * q.w_scale[o]));
  }
  return q;
}

// The output's asymmetric quantization over [lo, hi] (lo <= 0 <= hi), and each channel's multiplier.
struct Requantization {
  float out_scale;
  int32_t out_zp;
  std::vector<quant::QuantizedMultiplier> m;
};
Requantization Requantize(double lo, double hi, const QuantizedLayer& q) {
  Requantization r;
  r.out_scale = static_cast<float>((hi - lo) / 255.0);
  r.out_zp = -128 - quant::RoundHalfAway(static_cast<float>(lo) / r.out_scale);
  for (float ws : q.w_scale) r.m.push_back(quant::QuantizeMultiplier(static_cast<double>(q.in_scale) * ws / r.out_scale));
  return r;
}

TEST_CASE("quant: TFLite's rounding and Quantize without libm") {
  Rng rng(9);
  const float edges[] = {0.5f, -0.5f, 1.5f, -1.5f, 2.5f, 0.49999997f, -0.49999997f, 8388607.5f, -8388607.5f,
                         1e9f, -1e9f, 0.0f, -0.0f, 3e9f, -3e9f};
  for (float v : edges) {
    CAPTURE(v);
    const double want = std::round(static_cast<double>(v));
    CHECK(quant::RoundHalfAway(v) == (want > 2147483520.0 ? INT32_MAX : want < -2147483520.0 ? INT32_MIN : static_cast<int32_t>(want)));
  }
  size_t same = 0, total = 0;
  for (int i = 0; i < 200000; ++i) {
    const float x = (static_cast<float>(rng.Below(1u << 24)) / 16777216.0f - 0.5f) * static_cast<float>(1 << (i % 12));
    const float scale = 0.001f + static_cast<float>(rng.Below(1000)) / 997.0f;
    const int32_t zp = static_cast<int32_t>(rng.Below(256)) - 128;
    // TFLite: static_cast<int32_t>(TfLiteRound(val / scale)) + zero_point, clamped.
    const int32_t want = std::min(127, std::max(-128, static_cast<int32_t>(std::round(x / scale)) + zp));
    same += quant::QuantizeValue(x, scale, zp) == want;
    ++total;
  }
  CHECK(same == total);
}

TEST_CASE("quant: a per-channel int8 FullyConnected stays within one output step of its float twin") {
  Rng rng(11);
  constexpr size_t kRows = 9, kIn = 37, kOut = 13;
  std::vector<float> x(kRows * kIn), w(kOut * kIn), b(kOut);
  for (float& v : x) v = 3.0f * rng.Uniform01() - 1.0f;  // asymmetric: [-1, 2)
  for (float& v : w) v = 0.4f * rng.Uniform01() - 0.2f;
  for (float& v : b) v = 0.2f * rng.Uniform01() - 0.1f;
  const QuantizedLayer q = Quantize(x, w, b, kIn);
  const float in_scale = q.in_scale;
  const int32_t in_zp = q.in_zp;
  const std::vector<int8_t>&xq = q.xq, &wq = q.wq;
  const std::vector<float>& w_scale = q.w_scale;
  const std::vector<int32_t>& bq = q.bq;
  // The float twin on the dequantized inputs and weights, and an output range around it.
  std::vector<double> y(kRows * kOut);
  double lo = 0, hi = 0;
  for (size_t r = 0; r < kRows; ++r)
    for (size_t o = 0; o < kOut; ++o) {
      double acc = bq[o] * static_cast<double>(in_scale) * w_scale[o];
      for (size_t i = 0; i < kIn; ++i)
        acc += (xq[r * kIn + i] - in_zp) * static_cast<double>(in_scale) * wq[o * kIn + i] * w_scale[o];
      y[r * kOut + o] = acc;
      lo = std::min(lo, acc), hi = std::max(hi, acc);
    }
  const Requantization rq = Requantize(lo, hi, q);
  const float out_scale = rq.out_scale;
  const int32_t out_zp = rq.out_zp;
  const std::vector<quant::QuantizedMultiplier>& m = rq.m;
  for (bool relu : {false, true}) {
    CAPTURE(relu);
    std::vector<int8_t> yq(kRows * kOut);
    quant::FullyConnected(xq.data(), kRows, kIn, in_zp, wq.data(), bq.data(), kOut, m.data(), out_zp,
                          quant::Int8Range(relu, out_zp), yq.data());
    double worst = 0;
    for (size_t k = 0; k < yq.size(); ++k) {
      const double want = relu ? std::max(0.0, y[k]) : y[k];
      worst = std::max(worst, std::fabs((yq[k] - out_zp) * static_cast<double>(out_scale) - want));
    }
    CHECK(worst <= 0.5 * out_scale + 1e-6);  // rounding to the nearest step, nothing more
  }
}


TEST_CASE("quant: a per-channel int8 Conv2d (stride, padding, groups) stays within one output step of its float twin") {
  Rng rng(12);
  constexpr size_t kC = 4, kH = 9, kW = 8, kOut = 6, kGroups = 2, kCg = kC / kGroups;
  const Window win = SquareWindow(3, 2, 1, 1, false);
  const size_t ho = win.OutH(kH), wo = win.OutW(kW);
  std::vector<float> x(kC * kH * kW), w(kOut * kCg * 9), b(kOut);
  for (float& v : x) v = 3.0f * rng.Uniform01() - 1.0f;
  for (float& v : w) v = 0.6f * rng.Uniform01() - 0.3f;
  for (float& v : b) v = 0.2f * rng.Uniform01() - 0.1f;
  const QuantizedLayer q = Quantize(x, w, b, kCg * 9);
  const float in_scale = q.in_scale;
  const int32_t in_zp = q.in_zp;
  const std::vector<int8_t>&xq = q.xq, &wq = q.wq;
  const std::vector<float>& w_scale = q.w_scale;
  const std::vector<int32_t>& bq = q.bq;
  // The float twin on the dequantized values (the padding is a real 0).
  std::vector<double> y(kOut * ho * wo);
  double lo = 0, hi = 0;
  for (size_t o = 0; o < kOut; ++o)
    for (size_t oy = 0; oy < ho; ++oy)
      for (size_t ox = 0; ox < wo; ++ox) {
        double acc = bq[o] * static_cast<double>(in_scale) * w_scale[o];
        for (size_t ci = 0; ci < kCg; ++ci)
          for (size_t ky = 0; ky < 3; ++ky)
            for (size_t kx = 0; kx < 3; ++kx) {
              const long iy = static_cast<long>(oy * 2 + ky) - 1, ix = static_cast<long>(ox * 2 + kx) - 1;
              if (iy < 0 || iy >= static_cast<long>(kH) || ix < 0 || ix >= static_cast<long>(kW)) continue;
              const size_t c = o / (kOut / kGroups) * kCg + ci;
              acc += (xq[(c * kH + static_cast<size_t>(iy)) * kW + static_cast<size_t>(ix)] - in_zp) *
                     static_cast<double>(in_scale) * wq[((o * kCg + ci) * 3 + ky) * 3 + kx] * w_scale[o];
            }
        y[(o * ho + oy) * wo + ox] = acc;
        lo = std::min(lo, acc), hi = std::max(hi, acc);
      }
  const Requantization rq = Requantize(lo, hi, q);
  const float out_scale = rq.out_scale;
  const int32_t out_zp = rq.out_zp;
  const std::vector<quant::QuantizedMultiplier>& m = rq.m;
  for (bool relu : {false, true}) {
    CAPTURE(relu);
    std::vector<int8_t> yq(y.size());
    quant::ConvPerChannel(xq.data(), kC, kH, kW, in_zp, wq.data(), bq.data(), kOut, kGroups, win, m.data(), out_zp,
                          quant::Int8Range(relu, out_zp), yq.data());
    for (size_t k = 0; k < y.size(); ++k) {
      const double want = relu ? std::max(0.0, y[k]) : y[k];
      CHECK(std::fabs((yq[k] - out_zp) * static_cast<double>(out_scale) - want) <= 0.5001 * out_scale);
    }
  }
}

TEST_CASE("quant: int8 pooling is TFLite's: the maximum, and the average rounded half away from zero") {
  Rng rng(13);
  constexpr size_t kC = 3, kH = 7, kW = 6;
  std::vector<int8_t> x(kC * kH * kW);
  for (int8_t& v : x) v = static_cast<int8_t>(static_cast<int32_t>(rng.Below(256)) - 128);
  const Window win = SquareWindow(3, 2, 1, 1, false);
  const size_t ho = win.OutH(kH), wo = win.OutW(kW);
  std::vector<int8_t> avg(kC * ho * wo), top(avg.size());
  const quant::ActivationRange all;
  quant::Pool(x.data(), kC, kH, kW, win, false, all, avg.data());
  quant::Pool(x.data(), kC, kH, kW, win, true, all, top.data());
  for (size_t c = 0; c < kC; ++c)
    for (size_t oy = 0; oy < ho; ++oy)
      for (size_t ox = 0; ox < wo; ++ox) {
        long sum = 0, count = 0, best = -128;
        for (long y = static_cast<long>(oy * 2) - 1; y < static_cast<long>(oy * 2) + 2; ++y)
          for (long xx = static_cast<long>(ox * 2) - 1; xx < static_cast<long>(ox * 2) + 2; ++xx) {
            if (y < 0 || y >= static_cast<long>(kH) || xx < 0 || xx >= static_cast<long>(kW)) continue;
            const long v = x[(c * kH + static_cast<size_t>(y)) * kW + static_cast<size_t>(xx)];
            sum += v, ++count, best = std::max(best, v);
          }
        const double exact = static_cast<double>(sum) / static_cast<double>(count);
        const long rounded = static_cast<long>(exact >= 0 ? std::floor(exact + 0.5) : -std::floor(-exact + 0.5));
        CHECK(avg[(c * ho + oy) * wo + ox] == rounded);
        CHECK(top[(c * ho + oy) * wo + ox] == best);
      }
}

}  // namespace
}  // namespace descent
