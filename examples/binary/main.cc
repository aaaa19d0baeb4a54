// Binary classification: one output and BCEWithLogitsLoss, GELU hidden layers,
// then fine-tuning with the first layer frozen (its weights read from a const
// block, as they would be from flash: no gradient, no optimizer state for it),
// and the trained weights saved into a buffer with a CRC. No heap. Exits 1
// unless both models classify held-out points well.
//
// The task: is a point of the plane inside the ring 0.4 < |p| < 0.8?
#include <stdio.h>
#include <string.h>

#include "descent/descent.h"

namespace {

using Net = descent::Model<descent::Sizes<2, 32, 32, 1>, descent::Gelu, descent::BceWithLogits>;
using Tuned = descent::Model<descent::Sizes<2, 32, 32, 1>, descent::Gelu, descent::BceWithLogits, descent::Frozen<1>>;
constexpr size_t kTrain = 2048, kTest = 512, kBatch = 64;

Net net;
Tuned tuned;
descent::Workspace<Net, kBatch> ws;
descent::Workspace<Tuned, kBatch> tuned_ws;  // smaller: no gradient of the frozen layer
descent::InferenceWorkspace<Net, kTest> inference;
descent::InferenceWorkspace<Tuned, kTest> tuned_inference;
descent::Optimizer<descent::Adam, Net::kNumTrainable> opt;
descent::Optimizer<descent::Adam, Tuned::kNumTrainable> tuned_opt;  // state for layers 1 and 2 only
float points[(kTrain + kTest) * 2], inside[kTrain + kTest], probability[kTest];
uint8_t image[descent::WeightsBytes<Tuned>()];

void MakeData() {
  descent::Rng rng(3);
  for (size_t i = 0; i < kTrain + kTest; ++i) {
    const float x = 2 * rng.Uniform01() - 1, y = 2 * rng.Uniform01() - 1, r2 = x * x + y * y;
    points[2 * i] = x, points[2 * i + 1] = y;
    inside[i] = r2 > 0.16f && r2 < 0.64f ? 1.0f : 0.0f;
  }
}

template <class Model, class Ws, class Opt>
bool Train(Model& model, Ws& workspace, Opt& optimizer, int epochs) {
  uint32_t order[kTrain];
  float loss;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    descent::EpochOrder(order, kTrain, 5, static_cast<uint64_t>(epoch), true);
    for (size_t first = 0; first < kTrain; first += kBatch)
      if (workspace.LoadRows(points, inside, order + first, kBatch) != descent::Status::kOk ||
          descent::TrainStep(model, workspace, optimizer, kBatch, &loss) != descent::Status::kOk)
        return false;
  }
  return true;
}

// Held-out accuracy: sigmoid(logit) > 0.5.
template <class Model, class Iws>
double Accuracy(Model& model, Iws& workspace) {
  if (workspace.LoadRows(points + 2 * kTrain, nullptr, kTest) != descent::Status::kOk ||
      descent::Forward(model, workspace, kTest) != descent::Status::kOk ||
      descent::Probabilities(workspace, kTest, probability) != descent::Status::kOk)
    return 0;
  size_t right = 0;
  for (size_t i = 0; i < kTest; ++i) right += (probability[i] > 0.5f) == (inside[kTrain + i] > 0.5f);
  return static_cast<double>(right) / kTest;
}

}  // namespace

int main() {
  MakeData();
  descent::Adam hp;
  hp.lr = 0.01;
  opt.reset(hp);
  tuned_opt.reset(hp);
  descent::Init(net, 2);
  if (!Train(net, ws, opt, 30)) return 1;
  const double accuracy = Accuracy(net, inference);
  // Fine-tune from the trained model with layer 0 frozen where it is (net's parameter block
  // starts with it), the other layers re-initialized.
  tuned.set_frozen_params(net.params());
  descent::Init(tuned, 9);
  if (!Train(tuned, tuned_ws, tuned_opt, 30)) return 1;
  const double tuned_accuracy = Accuracy(tuned, tuned_inference);
  size_t written = 0;
  if (descent::SaveWeights(tuned, image, sizeof(image), &written) != descent::Status::kOk) return 1;
  printf("binary: held-out accuracy %.1f %%; fine-tuned above a frozen first layer %.1f %% "
         "(%zu trained parameters of %zu, image %zu bytes)\n",
         100 * accuracy, 100 * tuned_accuracy, Tuned::kNumTrainable, Tuned::kNumParams, written);
  return accuracy > 0.9 && tuned_accuracy > 0.9 ? 0 : 1;
}
