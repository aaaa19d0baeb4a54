// A minimal app on descent: a small MLP, its optimizer and workspace as
// static objects, trained on a synthetic task (is the brighter half the left
// one?) and evaluated. Exits 1 unless it learns the task.
#include <stdio.h>

#include "descent/descent.h"

using Net = descent::Mlp<64, 16, 2>;
static Net net;
static descent::Workspace<Net, 32> ws;
static descent::Optimizer<descent::Adam, Net::kNumParams> opt{[] {
  descent::Adam hp;
  hp.lr = 1e-2;
  return hp;
}()};

// 32 random 8x8 "images" and whether their left half is brighter.
static void MakeBatch(descent::Rng& rng, uint8_t* pixels, uint8_t* labels) {
  for (int r = 0; r < 32; ++r) {
    int left = 0, right = 0;
    for (int i = 0; i < 64; ++i) {
      const uint8_t p = static_cast<uint8_t>(rng.Below(256));
      pixels[r * 64 + i] = p;
      (i % 8 < 4 ? left : right) += p;
    }
    labels[r] = left > right;
  }
}

int main() {
  descent::Init(net, 1);
  descent::Rng rng(2);
  uint8_t pixels[32 * 64], labels[32];
  float loss = 0;
  for (int step = 0; step < 300; ++step) {
    MakeBatch(rng, pixels, labels);
    if (ws.LoadImages(pixels, labels, nullptr, 32) != descent::Status::kOk ||
        descent::TrainStep(net, ws, opt, 32, &loss) != descent::Status::kOk) {
      fprintf(stderr, "training failed\n");
      return 1;
    }
  }
  double loss_sum = 0;
  size_t correct = 0;
  for (int batch = 0; batch < 10; ++batch) {
    MakeBatch(rng, pixels, labels);
    (void)ws.LoadImages(pixels, labels, nullptr, 32);
    (void)descent::Evaluate(net, ws, 32, &loss_sum, &correct);
  }
  printf("descent-app: last training loss %.4f, held-out accuracy %.1f %%\n", loss, correct / 3.2);
  return correct >= 288 ? 0 : 1;  // 90 % of 320
}
