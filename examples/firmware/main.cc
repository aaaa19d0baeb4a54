// A firmware-style program: an MLP 784-32-10 trained with SGD-momentum at batch 32
// on 64 digits held in flash, with a cosine schedule and gradient clipping, in a
// LeanPlan workspace (descent/workspace.h): the digits are read where they are, the
// weights in place, and each gradient row updates its weights at once, so RAM holds
// little more than the parameters and the momentum. The trained state is streamed
// into a flash region through a StateWriter and read back: no RAM copy of it.
// Built for a bare-metal Cortex-M7 (cross/cortex-m7.ini, board_mps2.cc); CI checks
// its RAM budget and that the link holds no heap, exception or RTTI machinery, runs it
// under qemu-system-arm and compares its report with the same program run on the build
// machine (board_host.cc): the bits must agree.
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "descent/descent.h"
#include "digits.h"
#include "report.h"

using Net = descent::Mlp<784, 32, 10>;
constexpr size_t kBatch = 32;
using Opt = descent::Optimizer<descent::Sgd, Net::kNumParams>;
using Ws = descent::Workspace<Net, kBatch, descent::LeanPlan>;

static Net g_net;
static Ws g_ws;
static Opt g_opt{[] {
  descent::Sgd hp;
  hp.lr = 0.05;
  hp.momentum = 0.9;
  return hp;
}()};
// The parameters and the momentum are the floor (2 x 101,800 bytes); the batch-32 lean
// workspace adds 13.5 KB. CI holds the whole link (data + bss) to 256 KiB.
static_assert(descent::Footprint<Net, Ws, Opt>() <= 220 * 1024, "the RAM plan of this example");

constexpr int kEpochs = 30;
// The rate follows a cosine over the whole run; gradients are clipped to norm 5 (the lean
// step then runs its backward pass twice, with the same bits).
static descent::CosineAnnealingLR g_schedule;
static descent::GradClip g_clip;

static float Epoch(const descent::ParallelFor& serial, uint32_t* status) {
  float loss = 0.0f;
  for (unsigned first = 0; first < kDigits; first += kBatch) {
    g_opt.hyperparameters().lr = g_schedule.lr();
    if (g_ws.LoadImages(kDigitPixels + first * 784, kDigitLabels + first, nullptr, kBatch, serial) !=
            descent::Status::kOk ||
        descent::TrainStep(g_net, g_ws, g_opt, kBatch, &loss, serial, g_clip) != descent::Status::kOk) {
      *status = 1;
      return loss;
    }
    g_schedule.Step();
  }
  return loss;
}

// Programs the state flash in order, as a flash driver would.
static bool WriteFlash(void* context, size_t offset, const void* bytes, size_t size) {
  const FlashRegion& flash = *static_cast<const FlashRegion*>(context);
  if (offset > flash.size || size > flash.size - offset) return false;
  memcpy(flash.start + offset, bytes, size);
  return true;
}
static bool ReadFlash(void* context, size_t offset, void* bytes, size_t size) {
  const FlashRegion& flash = *static_cast<const FlashRegion*>(context);
  if (offset > flash.size || size > flash.size - offset) return false;
  memcpy(bytes, flash.start + offset, size);
  return true;
}

int FirmwareMain() {
  const descent::ParallelFor serial;
  uint32_t status = 0;
  descent::Init(g_net, 0);
  g_schedule.T_max = kEpochs * kDigits / kBatch;
  g_schedule.Start(g_opt.hyperparameters().lr);
  g_clip.max_norm = 5.0;
  const float first_loss = Epoch(serial, &status);
  float last_loss = first_loss;
  for (int epoch = 1; epoch < kEpochs && status == 0; ++epoch) last_loss = Epoch(serial, &status);
  FlashRegion flash = BoardStateFlash();
  size_t written = 0;
  if (descent::SaveState(g_net, g_opt, descent::StateWriter{&flash, &WriteFlash}, &written) != descent::Status::kOk ||
      descent::LoadState(g_net, g_opt, descent::StateReader{&flash, &ReadFlash}, written) != descent::Status::kOk)
    status = 2;
  double loss_sum = 0;
  size_t correct = 0;
  for (unsigned first = 0; first < kDigits; first += kBatch) {
    (void)g_ws.LoadImages(kDigitPixels + first * 784, kDigitLabels + first, nullptr, kBatch);
    (void)descent::Evaluate(g_net, g_ws, kBatch, &loss_sum, &correct);
  }
  // The loss bits, the accuracy and a CRC of every weight: equal on every machine.
  Report report;
  report.Add("first_loss", Bits(first_loss));
  report.Add("last_loss", Bits(last_loss));
  report.Add("correct", static_cast<uint32_t>(correct));
  report.Add("status", status);
  report.Add("params_crc32", descent::Crc32(g_net.params(), sizeof(float) * Net::kNumParams));
  BoardPrint(report.Line());
  return status == 0 && last_loss < first_loss ? 0 : 1;
}
