// A CNN trained on the microcontroller: torch's
//   nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
//                 nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 10))
// (5,258 parameters) with Adam at batch 16 on digits held in flash, in a LeanPlan workspace: the
// step streams the samples one at a time (src/core/stream_plan.cc), each convolution hands its
// outputs straight to its max pooling, so RAM holds the parameters, Adam's two moments (the
// floor: 63,096 bytes), the step's gradient and one sample's pooled activations. Built for a
// bare-metal Cortex-M7 like the other examples; CI holds its RAM to 100 KiB, runs it under
// qemu-system-arm and compares its report with the same program run on the build machine.
#include <stdint.h>

#include "board.h"
#include "descent/descent.h"
#include "cnn-digits.h"
#include "report.h"

using Net = descent::Sequential<descent::Input<1, 28, 28>, descent::Conv2d<8, 3>, descent::Relu, descent::MaxPool2d<2>,
                                descent::Conv2d<16, 3>, descent::Relu, descent::MaxPool2d<2>, descent::Flatten,
                                descent::Linear<10>, descent::CrossEntropy>;
constexpr size_t kBatch = 16;
using Opt = descent::Optimizer<descent::Adam, Net::kNumTrainable, 2>;  // the two moments (no amsgrad)
using Ws = descent::Workspace<Net, kBatch, descent::LeanPlan>;
static_assert(Net::kNumParams == 5258, "the issue's CNN");

static Net g_net;
static Ws g_ws;
static Opt g_opt{[] {
  descent::Adam hp;
  hp.lr = 2e-3;
  return hp;
}()};
static_assert(descent::Footprint<Net, Ws, Opt>() <= 100 * 1024, "the RAM plan of this example");

constexpr int kEpochs = 4;

static float Epoch(uint32_t* status) {
  float loss = 0.0f;
  for (unsigned first = 0; first < kDigits; first += kBatch) {
    if (g_ws.LoadImages(kDigitPixels + first * 784, kDigitLabels + first, nullptr, kBatch) != descent::Status::kOk ||
        descent::TrainStep(g_net, g_ws, g_opt, kBatch, &loss) != descent::Status::kOk) {
      *status = 1;
      return loss;
    }
  }
  return loss;
}

int FirmwareMain() {
  uint32_t status = 0;
  descent::Init(g_net, 0);
  const float first_loss = Epoch(&status);
  float last_loss = first_loss;
  for (int epoch = 1; epoch < kEpochs && status == 0; ++epoch) last_loss = Epoch(&status);
  double loss_sum = 0;
  size_t correct = 0;
  for (unsigned first = 0; first < kDigits; first += kBatch) {
    (void)g_ws.LoadImages(kDigitPixels + first * 784, kDigitLabels + first, nullptr, kBatch);
    (void)descent::Evaluate(g_net, g_ws, kBatch, &loss_sum, &correct);
  }
  // The loss bits, the accuracy on the digits trained on and a CRC of every weight: equal on every machine.
  Report report;
  report.Add("first_loss", Bits(first_loss));
  report.Add("last_loss", Bits(last_loss));
  report.Add("correct", static_cast<uint32_t>(correct));
  report.Add("status", status);
  report.Add("params_crc32", descent::Crc32(g_net.params(), sizeof(float) * Net::kNumParams));
  BoardPrint(report.Line());
  return status == 0 && last_loss < first_loss ? 0 : 1;
}
