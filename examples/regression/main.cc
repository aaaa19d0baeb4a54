// Regression on float features: a model with tanh hidden layers and a mean
// squared error, trained on standardized rows, then used for inference through
// a forward-only workspace. Everything is static: no heap. Exits 1 unless the
// held-out error is small.
//
// The task: y = 2 x0 - x1 + 0.5 x2 x3 + noise, with x3 on a scale 100 times larger
// than the others (what standardization is for).
#include <math.h>
#include <stdio.h>

#include "descent/descent.h"

namespace {

using Net = descent::Model<descent::Sizes<4, 16, 16, 1>, descent::Tanh, descent::Mse>;
constexpr size_t kTrain = 512, kTest = 256, kBatch = 32, kFeatures = Net::kInputs;

Net net;
descent::Workspace<Net, kBatch> ws;                    // gradients and activations for training
descent::InferenceWorkspace<Net, kTest> inference;     // forward only: no gradients, no weight copies
descent::Optimizer<descent::Adam, Net::kNumTrainable> opt;
float features[(kTrain + kTest) * kFeatures], targets[kTrain + kTest];
float shift[kFeatures], scale[kFeatures];  // standardization: (x - mean) * (1 / std)
float predictions[kTest];

void MakeData() {
  descent::Rng rng(7);
  for (size_t i = 0; i < kTrain + kTest; ++i) {
    float* x = features + i * kFeatures;
    for (size_t f = 0; f < kFeatures; ++f) x[f] = 2.0f * rng.Uniform01() - 1.0f;
    x[3] *= 100.0f;
    targets[i] = 2 * x[0] - x[1] + 0.5f * x[2] * x[3] / 100.0f + 0.05f * (rng.Uniform01() - 0.5f);
  }
}

// Mean and standard deviation of each feature over the training rows.
void FitStandardization() {
  for (size_t f = 0; f < kFeatures; ++f) {
    double sum = 0, squares = 0;
    for (size_t i = 0; i < kTrain; ++i) sum += features[i * kFeatures + f];
    const double mean = sum / kTrain;
    for (size_t i = 0; i < kTrain; ++i) squares += (features[i * kFeatures + f] - mean) * (features[i * kFeatures + f] - mean);
    shift[f] = static_cast<float>(mean);
    scale[f] = static_cast<float>(1.0 / sqrt(squares / kTrain));
  }
}

}  // namespace

int main() {
  MakeData();
  FitStandardization();
  descent::Adam hp;
  hp.lr = 0.01;
  opt.reset(hp);
  descent::Init(net, 1);
  uint32_t order[kTrain];
  float loss = 0;
  for (uint64_t epoch = 0; epoch < 60; ++epoch) {
    descent::EpochOrder(order, kTrain, 1, epoch, true);  // a reshuffle per epoch, from the seed
    for (size_t first = 0; first < kTrain; first += kBatch) {
      if (ws.LoadRows(features, targets, order + first, kBatch, shift, scale) != descent::Status::kOk ||
          descent::TrainStep(net, ws, opt, kBatch, &loss) != descent::Status::kOk) {
        fprintf(stderr, "regression: training failed\n");
        return 1;
      }
    }
  }
  // Inference on the held-out rows: the outputs are the predictions themselves for MSE.
  if (inference.LoadRows(features + kTrain * kFeatures, nullptr, kTest, shift, scale) != descent::Status::kOk ||
      descent::Forward(net, inference, kTest) != descent::Status::kOk ||
      descent::Probabilities(inference, kTest, predictions) != descent::Status::kOk)
    return 1;
  double squared = 0, variance = 0;
  for (size_t i = 0; i < kTest; ++i) {
    squared += (predictions[i] - targets[kTrain + i]) * (predictions[i] - targets[kTrain + i]);
    variance += targets[kTrain + i] * targets[kTrain + i];
  }
  printf("regression: last training loss %.5f, held-out MSE %.5f (target variance %.3f)\n", loss, squared / kTest,
         variance / kTest);
  return squared / kTest < 0.02 * variance / kTest ? 0 : 1;
}
