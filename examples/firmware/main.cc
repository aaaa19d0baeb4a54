// A firmware-style program: an MLP 784-32-10, its SGD-momentum state and its
// workspace in static storage, trained on 64 digits held in flash with a
// cosine schedule and gradient clipping. Built for
// a bare-metal Cortex-M7 (cross/cortex-m7.ini, board_mps2.cc); CI checks that
// the link holds no heap, exception or RTTI machinery, runs it under
// qemu-system-arm and compares its report with the same program run on the
// build machine (board_host.cc): the bits must agree.
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "descent/descent.h"
#include "digits.h"

using Net = descent::Mlp<784, 32, 10>;
constexpr size_t kBatch = 8;
using Opt = descent::Optimizer<descent::Sgd, Net::kNumParams>;

static Net g_net;
static descent::Workspace<Net, kBatch> g_ws;
static Opt g_opt{[] {
  descent::Sgd hp;
  hp.lr = 0.05;
  hp.momentum = 0.9;
  return hp;
}()};
// The model and optimizer as a CRC-protected image, as it would be kept in flash.
static uint8_t g_image[descent::StateBytes<Net, Opt>()];
static_assert(descent::Footprint<Net, descent::Workspace<Net, kBatch>, Opt>() + sizeof(g_image) <= 1024 * 1024,
              "fits the 1 MiB SRAM of an STM32H7-class Cortex-M7");

struct Report {
  float first_loss, last_loss;
  uint32_t correct, status;
};
static Report g_report;

// "name=0x%08x " without printf (newlib's would pull in malloc).
static char* Hex(char* out, const char* name, uint32_t v) {
  while (*name) *out++ = *name++;
  *out++ = '=', *out++ = '0', *out++ = 'x';
  for (int shift = 28; shift >= 0; shift -= 4) *out++ = "0123456789abcdef"[(v >> shift) & 0xF];
  *out++ = ' ';
  return out;
}
static uint32_t Bits(float f) {
  uint32_t b;
  memcpy(&b, &f, 4);
  return b;
}

constexpr int kEpochs = 20;
// The rate follows a cosine over the whole run; gradients are clipped to norm 5.
static descent::CosineAnnealingLR g_schedule;
static descent::GradClip g_clip;

static float Epoch(const descent::ParallelFor& serial) {
  float loss = 0.0f;
  for (unsigned first = 0; first < kDigits; first += kBatch) {
    g_opt.hyperparameters().lr = g_schedule.lr();
    if (g_ws.LoadImages(kDigitPixels + first * 784, kDigitLabels + first, nullptr, kBatch, serial) !=
            descent::Status::kOk ||
        descent::TrainStep(g_net, g_ws, g_opt, kBatch, &loss, serial, g_clip) != descent::Status::kOk) {
      g_report.status = 1;
      return loss;
    }
    g_schedule.Step();
  }
  return loss;
}

int FirmwareMain() {
  const descent::ParallelFor serial;
  descent::Init(g_net, 0);
  g_schedule.T_max = kEpochs * kDigits / kBatch;
  g_schedule.Start(g_opt.hyperparameters().lr);
  g_clip.max_norm = 5.0;
  g_report.first_loss = Epoch(serial);
  for (int epoch = 1; epoch < kEpochs; ++epoch) g_report.last_loss = Epoch(serial);
  size_t written = 0;
  if (descent::SaveState(g_net, g_opt, g_image, sizeof(g_image), &written) != descent::Status::kOk ||
      descent::LoadState(g_net, g_opt, g_image, written) != descent::Status::kOk)
    g_report.status = 2;
  double loss_sum = 0;
  size_t correct = 0;
  for (unsigned first = 0; first < kDigits; first += kBatch) {
    (void)g_ws.LoadImages(kDigitPixels + first * 784, kDigitLabels + first, nullptr, kBatch);
    (void)descent::Evaluate(g_net, g_ws, kBatch, &loss_sum, &correct);
  }
  g_report.correct = static_cast<uint32_t>(correct);
  // The loss bits, the accuracy and a CRC of every weight: equal on every machine.
  char line[160];
  char* at = Hex(line, "first_loss", Bits(g_report.first_loss));
  at = Hex(at, "last_loss", Bits(g_report.last_loss));
  at = Hex(at, "correct", g_report.correct);
  at = Hex(at, "status", g_report.status);
  at = Hex(at, "params_crc32", descent::Crc32(g_net.params(), sizeof(float) * Net::kNumParams));
  at[-1] = '\n', *at = '\0';
  BoardPrint(line);
  return g_report.status == 0 && g_report.last_loss < g_report.first_loss ? 0 : 1;
}
