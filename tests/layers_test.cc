// Activations, losses, float features, frozen layers and inference against
// torch (tests/golden/make_layers_golden.py), and bit-identity of each across
// instruction sets and thread counts.
#include <string.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "descent/descent.h"
#include "src/host/thread_pool.h"
#include "tests/doctest_config.h"
#include "tests/golden/layers_golden.h"
#include "tests/isa_util.h"

namespace descent {
namespace {

template <size_t kN>
std::vector<float> Floats(const uint32_t (&bits)[kN]) {
  std::vector<float> v(kN);
  memcpy(v.data(), bits, sizeof(bits));
  return v;
}

// |a - b| in units of b's float spacing (at least that of `floor`).
double Ulps(float a, float b, float floor = 1e-30f) {
  if (a == b) return 0;
  if (std::isnan(a) || std::isnan(b)) return 1e30;
  const float m = std::max(std::fabs(b), floor);
  return std::fabs(static_cast<double>(a) - b) / (std::nextafter(m, INFINITY) - m);
}

// ours within `ulps` of want, plus `absolute` (an error that does not shrink with the result).
bool Close(float ours, float want, double ulps, double absolute) {
  if (memcmp(&ours, &want, 4) == 0) return true;
  if (std::isnan(ours) || std::isnan(want)) return false;
  const float m = std::fabs(want);
  return std::fabs(static_cast<double>(ours) - want) <= ulps * (std::nextafter(m, INFINITY) - m) + absolute;
}

struct ActivationCase {
  const char* name;
  ActivationSpec spec;
  const uint32_t* y;
  const uint32_t* dx;
  // Against torch's float results: 0 = the same bits. Otherwise a few ulps, plus an absolute
  // 2^-22 |x| (y) or 2^-22 |g| max(1, |x|) (dx): torch's vectorized erf is Abramowitz-Stegun
  // 7.1.26 (absolute error 1.5e-7) and its tanh reaches +-1 earlier than the exact function.
  double ulps;
};

TEST_CASE("activations: forward and backward follow torch, the same bits on every ISA") {
  using namespace golden;
  const std::vector<float> x = Floats(kActX), g = Floats(kActGrad);
  const ActivationCase cases[] = {
      {"relu", {ActivationKind::kRelu}, kAct_relu_y, kAct_relu_dx, 0},
      {"leaky_relu", {ActivationKind::kLeakyRelu, 0.01f}, kAct_leaky_relu_y, kAct_leaky_relu_dx, 0},
      {"leaky_relu_neg", {ActivationKind::kLeakyRelu, -0.2f}, kAct_leaky_relu_neg_y, kAct_leaky_relu_neg_dx, 0},
      {"identity", {ActivationKind::kIdentity}, kAct_identity_y, kAct_identity_dx, 0},
      {"tanh", {ActivationKind::kTanh}, kAct_tanh_y, kAct_tanh_dx, 4},
      {"sigmoid", {ActivationKind::kSigmoid}, kAct_sigmoid_y, kAct_sigmoid_dx, 4},
      {"gelu", {ActivationKind::kGelu}, kAct_gelu_y, kAct_gelu_dx, 4},
      {"gelu_tanh", {ActivationKind::kGeluTanh}, kAct_gelu_tanh_y, kAct_gelu_tanh_dx, 4},
  };
  const size_t n = x.size();
  const double kAbs = std::ldexp(1.0, -22);
  for (const ActivationCase& c : cases) {
    CAPTURE(std::string(c.name));
    auto run = [&] {
      const auto& k = kernels::ActiveKernels();
      std::vector<float> y(n), dx = g;
      k.activation_forward(c.spec, x.data(), y.data(), n);
      k.activation_backward(c.spec, y.data(), NeedsPreActivation(c.spec) ? x.data() : nullptr, dx.data(), n);
      y.insert(y.end(), dx.begin(), dx.end());
      return y;
    };
    const std::vector<float> ours = OnScalarIsa(run);
    ForEachIsa([&](const kernels::Kernels&) { CHECK(SameBits(run(), ours)); });
    size_t far_y = 0, far_dx = 0;
    for (size_t i = 0; i < n; ++i) {
      float ty, tdx;
      memcpy(&ty, c.y + i, 4);
      memcpy(&tdx, c.dx + i, 4);
      const double ax = std::fabs(x[i]), exact = c.ulps == 0 ? 0.0 : 1.0;
      far_y += !Close(ours[i], ty, c.ulps, exact * kAbs * ax);
      far_dx += !Close(ours[n + i], tdx, c.ulps, exact * kAbs * std::fabs(g[i]) * std::max(1.0, ax));
    }
    CHECK(far_y == 0);
    CHECK(far_dx == 0);
  }
}

TEST_CASE("activations: our tanh is within 2 ulps of the exact function, erf within 1.2e-7") {
  std::vector<float> x;
  for (float v = -12.0f; v <= 12.0f; v += 1.0f / 4096) x.push_back(v);
  for (float v = 1e-30f; v < 1.0f; v *= 1.37f) x.push_back(v), x.push_back(-v);
  std::vector<float> t(x.size()), gl(x.size());
  const auto& k = kernels::ActiveKernels();
  k.activation_forward({ActivationKind::kTanh}, x.data(), t.data(), x.size());
  k.activation_forward({ActivationKind::kGelu}, x.data(), gl.data(), x.size());
  size_t far_tanh = 0, far_erf = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    far_tanh += !Close(t[i], static_cast<float>(std::tanh(static_cast<double>(x[i]))), 2, 0);
    // GELU = x/2 (1 + erf(x/sqrt 2)): erf's absolute error times |x|/2, and the result's roundings.
    const double exact = 0.5 * x[i] * (1.0 + std::erf(static_cast<double>(x[i] * static_cast<float>(M_SQRT1_2))));
    far_erf += !Close(gl[i], static_cast<float>(exact), 3, 1.2e-7 * 0.5 * std::fabs(x[i]));
  }
  CHECK(far_tanh == 0);
  CHECK(far_erf == 0);
}

// A one-layer model whose outputs are its inputs (identity weight, zero bias):
// the loss then sees exactly the values it is given.
template <class Loss, size_t kOut, class T>
std::vector<float> LossOf(const std::vector<float>& z, const T* targets, float* loss) {
  using Net = Model<Sizes<kOut, kOut>, Relu, Loss>;
  static Net net;
  static Workspace<Net, 7> ws;
  for (size_t o = 0; o < kOut; ++o) net.weight(0)[o * kOut + o] = 1.0f;
  REQUIRE(ws.LoadRows(z.data(), targets, nullptr, 7) == Status::kOk);
  REQUIRE(ForwardBackward(net, ws, 7, loss) == Status::kOk);
  std::vector<float> dz;
  for (size_t r = 0; r < 7; ++r) {
    const float* row = ws.slot(Workspace<Net, 7>::kLayout.dy[Net::kNumLayers - 1]) + r * Padded(kOut);
    dz.insert(dz.end(), row, row + kOut);
  }
  return dz;
}

struct Huber05 {
  static constexpr LossSpec kSpec{LossKind::kHuber, 0.0f, 0.5f};
};
struct BcePosWeight {
  static constexpr LossSpec kSpec{LossKind::kBceWithLogits, 0.0f, 1.0f, 2.5f};
};
struct Smooth01 {
  static constexpr LossSpec kSpec{LossKind::kCrossEntropy, 0.1f};
};

template <class Loss, size_t kOut, class T, size_t kN>
void CheckLoss(const char* name, const std::vector<float>& z, const T* targets, const uint32_t (&want_loss)[1],
               const uint32_t (&want_dz)[kN], double max_ulps) {
  CAPTURE(std::string(name));
  auto run = [&] {
    float loss;
    std::vector<float> dz = LossOf<Loss, kOut>(z, targets, &loss);
    dz.push_back(loss);
    return dz;
  };
  const std::vector<float> ours = OnScalarIsa(run);
  ForEachIsa([&](const kernels::Kernels&) { CHECK(SameBits(run(), ours)); });
  const std::vector<float> dz = Floats(want_dz);
  REQUIRE(ours.size() == dz.size() + 1);
  CHECK(Ulps(ours.back(), Floats(want_loss)[0]) <= 8);  // torch sums in another order
  double worst = 0;
  for (size_t i = 0; i < dz.size(); ++i) worst = std::max(worst, Ulps(ours[i], dz[i], 1e-6f));
  CHECK(worst <= max_ulps);
}

TEST_CASE("losses: value and gradient follow torch, the same bits on every ISA") {
  using namespace golden;
  const std::vector<float> z = Floats(kLossZ), zc = Floats(kLossZc), treg = Floats(kLossTReg), tbin = Floats(kLossTBin);
  // Gradients are torch's operations in torch's order: the same bits, except where exp/log enter.
  CheckLoss<Mse, 3>("mse", z, treg.data(), kLoss_mse, kLoss_mse_dz, 0);
  CheckLoss<L1, 3>("l1", z, treg.data(), kLoss_l1, kLoss_l1_dz, 0);
  CheckLoss<Huber, 3>("huber", z, treg.data(), kLoss_huber, kLoss_huber_dz, 0);
  CheckLoss<Huber05, 3>("huber_05", z, treg.data(), kLoss_huber_05, kLoss_huber_05_dz, 0);
  CheckLoss<BceWithLogits, 3>("bce", z, tbin.data(), kLoss_bce, kLoss_bce_dz, 4);
  CheckLoss<BcePosWeight, 3>("bce_pw", z, tbin.data(), kLoss_bce_pw, kLoss_bce_pw_dz, 4);
  CheckLoss<Nll, 5>("nll", zc, kLossLabels, kLoss_nll, kLoss_nll_dz, 4);
  CheckLoss<CrossEntropy, 5>("ce", zc, kLossLabels, kLoss_ce, kLoss_ce_dz, 4);
  CheckLoss<Smooth01, 5>("ce_smooth", zc, kLossLabels, kLoss_ce_smooth, kLoss_ce_smooth_dz, 16);
}

TEST_CASE("losses: bad targets are refused") {
  using Bin = Model<Sizes<3, 2>, Relu, BceWithLogits>;
  static Bin bin;
  static Workspace<Bin, 2> ws;
  const float x[6] = {1, 2, 3, 4, 5, 6};
  float loss;
  for (float bad : {-0.5f, 1.5f, NAN}) {
    const float t[4] = {0.0f, 1.0f, bad, 0.5f};
    REQUIRE(ws.LoadRows(x, t, nullptr, 2) == Status::kOk);
    CHECK(ForwardBackward(bin, ws, 2, &loss) == Status::kInvalidArgument);
  }
  using Cls = Model<Sizes<3, 4>, Relu, CrossEntropy>;
  static Cls cls;
  static Workspace<Cls, 2> wc;
  const int labels[2] = {1, 4};
  REQUIRE(wc.LoadRows(x, labels, nullptr, 2) == Status::kOk);
  CHECK(ForwardBackward(cls, wc, 2, &loss) == Status::kInvalidArgument);
  const int negative[2] = {1, -1}, wide[2] = {1, 300};
  CHECK(wc.LoadRows(x, negative, nullptr, 2) == Status::kInvalidArgument);
  CHECK(wc.LoadRows(x, wide, nullptr, 2) == Status::kInvalidArgument);  // bytes hold up to 255
}

TEST_CASE("losses: more than 256 classes take 16-bit labels; cross-entropy equals the byte path") {
  using Wide = Model<Sizes<4, 300>, Relu, Nll>;
  static_assert(std::is_same<Wide::Label, uint16_t>::value, "16-bit labels");
  static Wide wide;
  static Workspace<Wide, 3> ws;
  Init(wide, 1);
  const float x[12] = {0.1f, -0.2f, 0.3f, 0.4f, 1, 2, 3, 4, -1, 0, 1, 0.5f};
  const uint16_t labels[3] = {299, 0, 257};
  REQUIRE(ws.LoadRows(x, labels, nullptr, 3) == Status::kOk);
  float loss;
  REQUIRE(ForwardBackward(wide, ws, 3, &loss) == Status::kOk);
  double expected = 0;  // -log softmax at the labels, in double
  for (size_t r = 0; r < 3; ++r) {
    const float* z = ws.logits(r);
    double sum = 0;
    for (size_t j = 0; j < 300; ++j) sum += std::exp(static_cast<double>(z[j]));
    expected += (std::log(sum) - z[labels[r]]) / 3;
  }
  CHECK(loss == doctest::Approx(expected).epsilon(1e-6));
  // The scalar class-loss path (16-bit labels) and the vector kernel (bytes) agree bit for bit.
  using Narrow = Model<Sizes<4, 200>, Relu, Nll>;
  static Narrow narrow;
  static Workspace<Narrow, 3> wn;
  using Smooth0 = Model<Sizes<4, 200>, Relu, CrossEntropy>;
  static Smooth0 ce;
  static Workspace<Smooth0, 3> wc;
  Init(narrow, 2);
  memcpy(ce.params(), narrow.params(), sizeof(float) * Narrow::kNumParams);
  const uint8_t small[3] = {199, 0, 57};
  REQUIRE(wn.LoadRows(x, small, nullptr, 3) == Status::kOk);
  REQUIRE(wc.LoadRows(x, small, nullptr, 3) == Status::kOk);
  float a, b;
  REQUIRE(ForwardBackward(narrow, wn, 3, &a) == Status::kOk);
  REQUIRE(ForwardBackward(ce, wc, 3, &b) == Status::kOk);
  CHECK(a == b);
  CHECK(memcmp(wn.grads(), wc.grads(), sizeof(float) * Narrow::kNumParams) == 0);
}

// Trains a model from torch's initial weights over the golden data in order,
// batch 32; returns the per-step losses then the final parameters.
template <class Net, class Rule, class T>
std::vector<float> Curve(const Rule& hp, const std::vector<float>& init, const float* x, const T* y, size_t steps,
                         const ParallelFor& pf = {}) {
  static Net net;
  static Workspace<Net, 32> ws;
  static Optimizer<Rule, Net::kNumTrainable> opt;
  static std::vector<float> frozen;
  frozen.assign(init.begin(), init.begin() + Net::kNumFrozen);
  if constexpr (Net::kFrozenLayers > 0) net.set_frozen_params(frozen.data());
  memcpy(net.params(), init.data() + Net::kNumFrozen, sizeof(float) * Net::kNumTrainable);
  opt.reset(hp);
  std::vector<float> out;
  constexpr size_t kOut = HasClassTargets(Net::kLoss.kind) ? 1 : Net::kOutputs;
  for (size_t s = 0; s < steps; ++s) {
    const size_t first = (s * 32) % golden::kRows;
    float loss;
    REQUIRE(ws.LoadRows(x + first * Net::kInputs, y + first * kOut, nullptr, 32, nullptr, nullptr, pf) == Status::kOk);
    REQUIRE(TrainStep(net, ws, opt, 32, &loss, pf) == Status::kOk);
    out.push_back(loss);
  }
  out.insert(out.end(), net.params(), net.params() + Net::kNumTrainable);
  // A frozen block is never written.
  CHECK(memcmp(frozen.data(), init.data(), sizeof(float) * Net::kNumFrozen) == 0);
  return out;
}

template <class Net, class Rule, class T, size_t kI, size_t kL, size_t kF>
void CheckCurve(const char* name, const Rule& hp, const uint32_t (&init)[kI], const float* x, const T* y,
                const uint32_t (&losses)[kL], const uint32_t (&final_params)[kF]) {
  CAPTURE(std::string(name));
  static_assert(kI == Net::kNumParams && kF == Net::kNumParams, "golden for another model");
  const std::vector<float> start = Floats(init), want = Floats(losses), want_final = Floats(final_params);
  const std::vector<float> ours = OnScalarIsa([&] { return Curve<Net>(hp, start, x, y, kL); });
  double worst = 0;
  for (size_t s = 0; s < kL; ++s) worst = std::max(worst, std::fabs(static_cast<double>(ours[s]) - want[s]) / std::fabs(want[s]));
  CHECK(worst < 1e-5);  // the issue asks 1e-4; measured about 3e-7
  double worst_param = 0, scale = 0;
  for (size_t i = 0; i < Net::kNumTrainable; ++i) {
    worst_param = std::max(worst_param, std::fabs(static_cast<double>(ours[kL + i]) - want_final[Net::kNumFrozen + i]));
    scale = std::max(scale, std::fabs(static_cast<double>(want_final[Net::kNumFrozen + i])));
  }
  CHECK(worst_param < 2e-5 * scale);
  ForEachIsa([&](const kernels::Kernels&) { CHECK(SameBits(Curve<Net>(hp, start, x, y, kL), ours)); });
  for (size_t threads : {2, 3}) {
    CAPTURE(threads);
    host::ThreadPool pool(threads);
    CHECK(SameBits(Curve<Net>(hp, start, x, y, kL, pool.parallel_for()), ours));
  }
}

TEST_CASE("curves: tanh + MSE, sigmoid + BCE, GELU + cross-entropy, a frozen layer: torch's within 1e-4") {
  using namespace golden;
  const std::vector<float> diabetes = Floats(kDiabetesX), diabetes_y = Floats(kDiabetesY);
  const std::vector<float> cancer = Floats(kCancerX), cancer_y = Floats(kCancerY), digits = Floats(kDigitsX);
  Sgd sgd;
  sgd.lr = 0.05, sgd.momentum = 0.9;
  Adam adam;
  adam.lr = 0.01;
  CheckCurve<Model<Sizes<10, 16, 1>, Tanh, Mse>>("tanh_mse", sgd, kCurve_tanh_mse_init, diabetes.data(),
                                                  diabetes_y.data(), kCurve_tanh_mse_losses, kCurve_tanh_mse_final);
  CheckCurve<Model<Sizes<30, 16, 1>, Sigmoid, BceWithLogits>>("sigmoid_bce", adam, kCurve_sigmoid_bce_init,
                                                              cancer.data(), cancer_y.data(),
                                                              kCurve_sigmoid_bce_losses, kCurve_sigmoid_bce_final);
  CheckCurve<Model<Sizes<64, 32, 10>, Gelu, Smooth01>>("gelu_ce", adam, kCurve_gelu_ce_init, digits.data(), kDigitsY,
                                                       kCurve_gelu_ce_losses, kCurve_gelu_ce_final);
  CheckCurve<Model<Sizes<64, 32, 16, 10>, Relu, Nll, Frozen<1>>>("frozen", adam, kCurve_frozen_relu_nll_init,
                                                                 digits.data(), kDigitsY,
                                                                 kCurve_frozen_relu_nll_losses,
                                                                 kCurve_frozen_relu_nll_final);
}

struct Leaky02 {
  static constexpr ActivationSpec kSpec{ActivationKind::kLeakyRelu, 0.2f};
};

TEST_CASE("curves: layer lists (an activation per layer, a Linear without bias, a sigmoid on the outputs): torch's") {
  using namespace golden;
  const std::vector<float> diabetes = Floats(kDiabetesX), diabetes_y = Floats(kDiabetesY), digits = Floats(kDigitsX);
  Sgd sgd;
  sgd.lr = 0.05, sgd.momentum = 0.9;
  Adam adam;
  adam.lr = 0.01;
  using Mixed = Sequential<Input<64>, Linear<32>, Tanh, Linear<16, false>, Leaky02, Linear<10>, CrossEntropy>;
  CheckCurve<Mixed>("list_mixed_ce", adam, kCurve_list_mixed_ce_init, digits.data(), kDigitsY,
                    kCurve_list_mixed_ce_losses, kCurve_list_mixed_ce_final);
  using Squashed = Sequential<Input<10>, Linear<16>, Gelu, Linear<1>, Sigmoid, Mse>;
  CheckCurve<Squashed>("list_sigmoid_out_mse", sgd, kCurve_list_sigmoid_out_mse_init, diabetes.data(),
                       diabetes_y.data(), kCurve_list_sigmoid_out_mse_losses, kCurve_list_sigmoid_out_mse_final);
}

TEST_CASE("frozen layers: no gradient, state or input-gradient buffers for them") {
  using Full = Mlp<784, 100, 100, 10>;
  using Tuned = Model<Sizes<784, 100, 100, 10>, Relu, Nll, Frozen<2>>;
  static_assert(Tuned::kNumTrainable == 100 * 10 + 10, "only the last layer is trained");
  static_assert(sizeof(Tuned) < sizeof(Full) / 50, "the model holds the trained parameters (and a pointer)");
  static_assert(sizeof(Optimizer<Adam, Tuned::kNumTrainable>) < sizeof(Optimizer<Adam, Full::kNumParams>) / 50,
                "state for the trained parameters only");
  static_assert(sizeof(Workspace<Tuned, 32>) < sizeof(Workspace<Full, 32>), "no gradients or padded weights below");
  static_assert(Workspace<Tuned, 32>::kLayout.workspace_bytes / 4 + Tuned::kNumTrainable <
                    Workspace<Full, 32>::kLayout.workspace_bytes / 4 + Full::kNumParams - 80000,
                "no padded copies of the frozen layers' weights");
  // The same bits as the full model wherever the full model's lower layers are not updated:
  // one step from the same weights gives the full model's last-layer gradient exactly.
  static Full full;
  static Tuned tuned;
  static Workspace<Full, 8> wf;
  static Workspace<Tuned, 8> wt;
  Init(full, 3);
  Init(tuned, 3);
  tuned.set_frozen_params(full.params());
  CHECK(memcmp(tuned.params(), full.params() + Tuned::kNumFrozen, sizeof(float) * Tuned::kNumTrainable) == 0);
  std::vector<uint8_t> pixels(8 * 784), labels(8);
  Rng rng(4);
  for (auto& p : pixels) p = static_cast<uint8_t>(rng.Next() >> 56);
  for (auto& l : labels) l = static_cast<uint8_t>(rng.Below(10));
  REQUIRE(wf.LoadImages(pixels.data(), labels.data(), nullptr, 8) == Status::kOk);
  REQUIRE(wt.LoadImages(pixels.data(), labels.data(), nullptr, 8) == Status::kOk);
  float a, b;
  REQUIRE(ForwardBackward(full, wf, 8, &a) == Status::kOk);
  REQUIRE(ForwardBackward(tuned, wt, 8, &b) == Status::kOk);
  CHECK(a == b);
  CHECK(memcmp(wt.grads(), wf.grads() + Tuned::kNumFrozen, sizeof(float) * Tuned::kNumTrainable) == 0);
  // Without its frozen block a model is refused, not read through a null pointer.
  static Tuned orphan;
  CHECK(ForwardBackward(orphan, wt, 8, &b) == Status::kInvalidArgument);
}

template <class Net>
void CheckInference(uint64_t seed) {
  static Net net;
  static Workspace<Net, 37> ws;
  static InferenceWorkspace<Net, 37> iws;
  static_assert(sizeof(InferenceWorkspace<Net, 37>) < sizeof(Workspace<Net, 37>), "inference needs less");
  Init(net, seed);
  std::vector<float> x(37 * Net::kInputs), t(37 * Net::kOutputs);
  Rng rng(seed);
  for (float& v : x) v = 4.0f * rng.Uniform01() - 2.0f;
  for (float& v : t) v = rng.Uniform01();
  std::vector<uint8_t> labels(37);
  for (auto& l : labels) l = static_cast<uint8_t>(rng.Below(Net::kOutputs));
  if constexpr (HasClassTargets(Net::kLoss.kind)) REQUIRE(ws.LoadRows(x.data(), labels.data(), nullptr, 37) == Status::kOk);
  else REQUIRE(ws.LoadRows(x.data(), t.data(), nullptr, 37) == Status::kOk);
  REQUIRE(iws.LoadRows(x.data(), nullptr, 37) == Status::kOk);
  ForEachIsa([&](const kernels::Kernels&) {
    REQUIRE(Forward(net, ws, 37) == Status::kOk);
    REQUIRE(Forward(net, iws, 37) == Status::kOk);
    bool same = true;
    for (size_t r = 0; r < 37; ++r)
      for (size_t o = 0; o < Net::kOutputs; ++o) {
        const float a = ws.logits(r)[o], b = iws.output(r, o);
        same = same && memcmp(&a, &b, 4) == 0;
      }
    CHECK(same);
  });
  {  // split over threads by output unit: the same bits
    host::ThreadPool pool(3);
    std::vector<float> one(37 * Net::kOutputs);
    for (size_t r = 0; r < 37; ++r)
      for (size_t o = 0; o < Net::kOutputs; ++o) one[r * Net::kOutputs + o] = iws.output(r, o);
    REQUIRE(Forward(net, iws, 37, pool.parallel_for()) == Status::kOk);
    bool same = true;
    for (size_t r = 0; r < 37; ++r)
      for (size_t o = 0; o < Net::kOutputs; ++o) {
        const float b = iws.output(r, o);
        same = same && memcmp(&one[r * Net::kOutputs + o], &b, 4) == 0;
      }
    CHECK(same);
  }
  std::vector<float> p(37 * Net::kOutputs);
  REQUIRE(Probabilities(iws, 37, p.data()) == Status::kOk);
  if constexpr (HasClassTargets(Net::kLoss.kind)) {
    std::vector<uint16_t> predicted(37);
    REQUIRE(Predict(iws, 37, predicted.data()) == Status::kOk);
    typename Net::Label narrow[37];  // the model's own label type gives the same classes
    REQUIRE(Predict(iws, 37, narrow) == Status::kOk);
    for (size_t r = 0; r < 37; ++r) CHECK(narrow[r] == predicted[r]);
    for (size_t r = 0; r < 37; ++r) {
      const float* z = ws.logits(r);
      CHECK(predicted[r] == std::max_element(z, z + Net::kOutputs) - z);
      double sum = 0;
      for (size_t o = 0; o < Net::kOutputs; ++o) sum += p[r * Net::kOutputs + o];
      CHECK(sum == doctest::Approx(1.0).epsilon(1e-6));
    }
  } else if constexpr (Net::kLoss.kind == LossKind::kBceWithLogits) {
    for (size_t r = 0; r < 37; ++r)
      CHECK(p[r] == doctest::Approx(1.0 / (1.0 + std::exp(-static_cast<double>(ws.logits(r)[0])))).epsilon(1e-6));
    uint16_t unused[37];
    CHECK(Predict(iws, 37, unused) == Status::kInvalidArgument);
  }
}

TEST_CASE("inference: an inference workspace gives the training workspace's outputs, bit for bit") {
  CheckInference<Mlp<13, 7, 5, 4>>(1);
  CheckInference<Model<Sizes<30, 17, 33, 1>, Gelu, BceWithLogits>>(2);
  CheckInference<Model<Sizes<10, 40, 3>, Tanh, Mse>>(3);
  CheckInference<Model<Sizes<64, 20, 20, 10>, LeakyRelu, CrossEntropy>>(4);
  // Layer lists: no bias, an activation of each layer's own, one on the outputs.
  CheckInference<Sequential<Input<1, 5, 6>, Flatten, Linear<20, false>, Tanh, Linear<9>, Leaky02, Linear<4, false>>>(5);
  CheckInference<Sequential<Input<12>, Linear<7>, Gelu, Linear<3>, Sigmoid, Mse>>(6);
}

TEST_CASE("features: shift and scale are applied as (x - shift) * scale") {
  using Net = Model<Sizes<3, 2>, Identity, Mse>;
  static Workspace<Net, 2> ws;
  const float x[6] = {1, 2, 3, 4, 5, 6}, t[4] = {}, shift[3] = {1, 1, 2}, scale[3] = {0.5f, 2, 3};
  REQUIRE(ws.LoadRows(x, t, nullptr, 2, shift, scale) == Status::kOk);
  CHECK(ws.input(0)[0] == 0.0f);
  CHECK(ws.input(0)[1] == 2.0f);
  CHECK(ws.input(1)[2] == 12.0f);
  const uint32_t order[2] = {1, 0};
  REQUIRE(ws.LoadRows(x, t, order, 2) == Status::kOk);
  CHECK(ws.input(0)[0] == 4.0f);
  CHECK(ws.LoadRows(x, t, nullptr, 3) == Status::kCapacityExceeded);
}

}  // namespace
}  // namespace descent
