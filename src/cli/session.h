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
#include "src/cli/schedules.h"
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
  std::string schedule;        // "<name> <parameters>" ("constant" when none)
  std::string clip;            // "max_norm=X clip_value=Y"
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
  ScheduleConfig schedule;       // sets the rate (and OneCycleLR's momentum) before every step
  GradClip clip;
  // Evaluation on `test` every eval_every steps (or epochs), and early stopping:
  // stop after `early_stop` evaluations without a test loss below best - min_delta,
  // and end with the best weights.
  const host::Dataset* test = nullptr;
  size_t eval_every = 0;
  bool eval_every_epochs = false;
  size_t early_stop = 0;
  double min_delta = 0.0;
};

struct StepRecord {
  size_t step, epoch, batch;  // 1-based
  float loss;
  double lr;                  // the rate this step used
};

struct EvalRecord {
  size_t step;  // after this many steps
  double test_loss, test_accuracy;
};

struct TrainResult {
  Status status = Status::kOk;       // kNonFinite: stopped at steps.back()
  std::string error;                 // a checkpoint that could not be written or loaded
  std::vector<StepRecord> steps;
  std::vector<EvalRecord> evals;
  size_t best_eval = 0;              // with early stopping: the evaluation whose weights the model holds
  bool stopped_early = false;        // early stopping or the observer ended the run
  double train_loss = 0.0;           // mean batch loss of the last epoch
  double seconds = 0.0;
  size_t samples = 0;
};

// Called after every step with (record, steps per epoch, samples per second); false stops the run.
using StepObserver = std::function<bool(const StepRecord&, size_t, double)>;

// Trains TheNet() from its current weights; batch order from (seed, epoch).
TrainResult Train(const TrainConfig& config, const host::Dataset& data, const StepObserver& observe);

// Smith's learning-rate range test, as fastai's lr_find: the rate grows
// exponentially from start_lr to end_lr over `steps` steps (passes over the data
// repeat if needed) from the current weights, which are restored afterwards.
struct LrFindPoint {
  double lr;
  float loss;
  double smoothed;  // exponential moving average (beta 0.98), bias-corrected
};
struct LrFindResult {
  std::vector<LrFindPoint> points;  // up to where the smoothed loss exceeded 4x its minimum
  bool diverged = false;
  double suggestion = 0.0;          // steepest descent of the smoothed loss against log lr
  size_t suggestion_index = 0;
};
LrFindResult FindLr(const TrainConfig& config, const host::Dataset& data, double start_lr, double end_lr,
                    size_t steps);

struct EvalResult {
  double loss = 0.0;      // mean NLL
  double accuracy = 0.0;  // fraction correct
};
EvalResult Evaluate(const host::Dataset& data, size_t threads = 1);
EvalResult Evaluate(const host::Dataset& data, const ParallelFor& pf);

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
std::string DescribeClip(const GradClip& clip);

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
