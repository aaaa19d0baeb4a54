// Fine-tuning on a microcontroller: the notebook's MLP 784-100-100-10 with its first
// two layers frozen in flash (a model trained on the host, finetune-base.safetensors,
// embedded at build time by make_weights.py) and a new last layer trained with Adam
// at batch 32 on new digits (the first 512 of the bundled test set), in a LeanPlan
// workspace. RAM holds the last layer, its Adam state and the workspace: no gradient,
// optimizer state or input gradient for the frozen layers, no copy of their weights.
// Prints the held-out accuracy (the next 256 test digits) before and after. Like
// main.cc, built for the Cortex-M7 and as finetune-host; CI compares the two reports
// and holds the link's data + bss to 64 KiB.
#include <stdint.h>

#include "board.h"
#include "descent/descent.h"
#include "finetune-digits.h" // the bundled test digits 0..767: fine-tuning 0..511, held out 512..767
#include "finetune_base.h"   // kFrozenWeights: layers 0 and 1 of the host-trained model
#include "report.h"

using Tuned = descent::Model<descent::Sizes<784, 100, 100, 10>, descent::Relu, descent::Nll, descent::Frozen<2>>;
constexpr size_t kBatch = 32, kTrain = 512, kHeldOut = 256;
using Ws = descent::Workspace<Tuned, kBatch, descent::LeanPlan>;
using Opt = descent::Optimizer<descent::Adam, Tuned::kNumTrainable, 2>;  // the two moments (no amsgrad)
static_assert(kFrozenFloats == Tuned::kNumFrozen, "the frozen block is layers 0 and 1");
static_assert(kDigits >= kTrain + kHeldOut, "enough digits");

static Tuned g_net;
static Ws g_ws;
static Opt g_opt{[] {
  descent::Adam hp;
  hp.lr = 3e-3;
  return hp;
}()};
// 1,010 trained parameters, their Adam state, and the batch-32 workspace: the frozen
// layers' outputs pass through a buffer the backward pass reuses.
static_assert(descent::Footprint<Tuned, Ws, Opt>() <= 48 * 1024, "the RAM plan of this example");

constexpr int kEpochs = 8;

static uint32_t HeldOutCorrect() {
  double loss_sum = 0;
  size_t correct = 0;
  for (size_t first = kTrain; first < kTrain + kHeldOut; first += kBatch) {
    (void)g_ws.LoadImages(kDigitPixels + first * 784, kDigitLabels + first, nullptr, kBatch);
    (void)descent::Evaluate(g_net, g_ws, kBatch, &loss_sum, &correct);
  }
  return static_cast<uint32_t>(correct);
}

int FirmwareMain() {
  uint32_t status = 0;
  g_net.set_frozen_params(kFrozenWeights);
  descent::Init(g_net, 1);  // a new last layer on the frozen features
  const uint32_t before = HeldOutCorrect();
  uint32_t order[kTrain];
  float loss = 0.0f;
  for (uint64_t epoch = 0; epoch < kEpochs && status == 0; ++epoch) {
    descent::EpochOrder(order, kTrain, 3, epoch, true);
    for (size_t first = 0; first < kTrain && status == 0; first += kBatch)
      if (g_ws.LoadImages(kDigitPixels, kDigitLabels, order + first, kBatch) != descent::Status::kOk ||
          descent::TrainStep(g_net, g_ws, g_opt, kBatch, &loss) != descent::Status::kOk)
        status = 1;
  }
  const uint32_t after = HeldOutCorrect();
  Report report;
  report.Add("held_out", kHeldOut);
  report.Add("correct_before", before);
  report.Add("correct_after", after);
  report.Add("last_loss", Bits(loss));
  report.Add("status", status);
  report.Add("params_crc32", descent::Crc32(g_net.params(), sizeof(float) * Tuned::kNumTrainable));
  BoardPrint(report.Line());
  return status == 0 && after > before ? 0 : 1;
}
