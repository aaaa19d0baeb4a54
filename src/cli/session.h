// What the descent program trains: the notebook's MLP, its optimizer and
// workspace as static objects, the epoch loop, evaluation and model files.
#ifndef DESCENT_SRC_CLI_SESSION_H_
#define DESCENT_SRC_CLI_SESSION_H_

#include <stdint.h>

#include <functional>
#include <string>
#include <vector>

#include "descent/descent.h"
#include "src/cli/optimizers.h"
#include "src/host/dataset.h"
#include "src/host/safetensors.h"

namespace descent {
namespace cli {

using Net = Mlp<784, 100, 100, 10>;
inline constexpr size_t kMaxBatch = 1024;  // the largest --batch the workspace holds
using TrainWorkspace = Workspace<Net, kMaxBatch>;

// The one model the program works on.
Net& TheNet();

// Where a run stands, as a checkpoint file records it (see README, "Checkpoints").
struct Checkpoint {
  OptimizerConfig optimizer;
  size_t batch = 0;
  uint64_t seed = 0;
  bool shuffle = true;
  uint64_t step = 0;           // steps done
  size_t epoch = 0;            // the epoch in progress (0-based)...
  size_t next_batch = 0;       // ...and the next batch in it; == batches when the epoch is done
  double epoch_loss_sum = 0;   // the batch losses of that epoch so far
  StepClock clock;
  std::string data;            // "<samples>:<fingerprint>" of the training data
  host::Safetensors file;      // weights and optimizer slots
};

struct TrainConfig {
  OptimizerConfig optimizer;
  size_t epochs = 3;
  size_t batch = 256;
  uint64_t seed = 0;
  bool shuffle = true;
  size_t threads = 1;            // results do not depend on it
  std::string checkpoint;        // written every checkpoint_every steps (0: never) and at the end
  size_t checkpoint_every = 0;
  const Checkpoint* resume = nullptr;  // continue from here (weights and state included)
};

struct StepRecord {
  size_t step, epoch, batch;  // 1-based
  float loss;
};

struct TrainResult {
  Status status = Status::kOk;       // kNonFinite: stopped at steps.back()
  std::string error;                 // a checkpoint that could not be written or loaded
  std::vector<StepRecord> steps;
  double train_loss = 0.0;           // mean batch loss of the last epoch
  double seconds = 0.0;
  size_t samples = 0;
};

// Called after every step with (record, steps per epoch, samples per second).
using StepObserver = std::function<void(const StepRecord&, size_t, double)>;

// Trains TheNet() from its current weights; batch order from (seed, epoch).
TrainResult Train(const TrainConfig& config, const host::Dataset& data, const StepObserver& observe);

struct EvalResult {
  double loss = 0.0;      // mean NLL
  double accuracy = 0.0;  // fraction correct
};
EvalResult Evaluate(const host::Dataset& data, size_t threads = 1);

// The weights as the notebook's SimpleNet state_dict: linears.{i}.weight [out, in], linears.{i}.bias.
host::Error SaveModel(const std::string& path);
host::Error LoadModel(const std::string& path);
uint64_t ParamsHash();

// Reads and validates a checkpoint: format, architecture, checksum of the tensors.
host::Error ReadCheckpoint(const std::string& path, Checkpoint* out);
host::Error ParseCheckpoint(const std::string& name, std::vector<uint8_t> bytes, Checkpoint* out);
// "<samples>:<FNV-1a of pixels and labels>": resuming on other data is refused.
std::string DataFingerprint(const host::Dataset& data);
// Applies "lr=0.001 beta1=0.9 ..." (Describe's format) to config; false on an unknown name or bad value.
bool ParseHyperparameters(const std::string& text, OptimizerConfig* config);
std::string Architecture();  // "784-100-100-10"

// Live progress on stderr, only when it is a terminal; at most 10 updates/s.
class Progress {
 public:
  explicit Progress(std::string label);
  ~Progress();
  void Update(const StepRecord& r, size_t epochs, size_t batches_per_epoch, double samples_per_second);

 private:
  std::string label_;
  bool enabled_;
  double last_ = -1.0;
  bool shown_ = false;
};

double NowSeconds();

}  // namespace cli
}  // namespace descent

#endif  // DESCENT_SRC_CLI_SESSION_H_
