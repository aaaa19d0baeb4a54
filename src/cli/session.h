// What the descent program trains with: a Session owns the model, its
// workspace and the weight copies a run needs (early stopping's best weights,
// the range test's start, a file being loaded), and runs the epoch loop,
// the learning-rate range test and evaluation over host data sets.
//
// Configure() sizes the model and workspace (the architecture from the flags,
// a model file or a checkpoint); until then it is the notebook's MLP.
#ifndef DESCENT_SRC_CLI_SESSION_H_
#define DESCENT_SRC_CLI_SESSION_H_

#include <stdint.h>

#include <functional>
#include <string>
#include <vector>

#include "src/cli/checkpoint.h"
#include "src/cli/model.h"
#include "src/cli/optimizers.h"
#include "src/cli/schedules.h"
#include "src/host/dataset.h"

namespace descent {
namespace cli {

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
  std::string eval_name = "test";  // what `test` is: "test", or "validation" (--validation-split)
  bool eval_accuracy = true;       // the loss has an accuracy (class losses, bce): CSV columns for it
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
  std::string nonfinite = "the loss or the weights";  // what became non-finite
  size_t checkpoints = 0;            // written by this run
  std::string error;                 // a checkpoint that could not be written or loaded
  std::vector<StepRecord> steps;
  std::vector<EvalRecord> evals;
  size_t best_eval = 0;              // with early stopping: the evaluation whose weights the model holds
  bool stopped_early = false;        // early stopping or the observer ended the run
  bool kept_best = false;            // early stopping restored the best evaluation's weights
  double train_loss = 0.0;           // mean batch loss of the last epoch
  double seconds = 0.0;
  size_t samples = 0;
};

// Called after every step with (record, steps per epoch, samples per second); false stops the run.
using StepObserver = std::function<bool(const StepRecord&, size_t, double)>;

// Smith's learning-rate range test, as fastai's lr_find.
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

struct EvalResult {
  double loss = 0.0;      // the loss's mean over the samples
  double accuracy = 0.0;  // fraction correct (class losses and bce; 0 for regression losses)
};

class Session {
 public:
  Session() { Configure(Architecture{}, kEvalRows); }
  // The model's architecture (weights zeroed, transform the notebook's), the largest batch and
  // the plan (lean: LeanPlan, the memory floor; the same bits).
  void Configure(const Architecture& architecture, size_t max_batch, bool lean = false);
  Net& net() { return net_; }
  const Net& net() const { return net_; }
  void Init(uint64_t seed) { internal::Init(net_.Ref(), seed); }

  // Trains the model from its current weights (or the checkpoint's); batch order from (seed, epoch).
  TrainResult Train(const TrainConfig& config, const host::Dataset& data, const StepObserver& observe);
  // The rate grows exponentially from start_lr to end_lr over `steps` steps (passes over the
  // data repeat if needed) from the current weights, which are restored afterwards.
  LrFindResult FindLr(const TrainConfig& config, const host::Dataset& data, double start_lr, double end_lr,
                      size_t steps);
  EvalResult Evaluate(const host::Dataset& data, size_t threads = 1);
  // The threads worth using for steps of `rows` rows of this model: `threads`, or 1 where the
  // work is too small to pay for the hand-over (the results are the same either way).
  size_t Workers(size_t threads, size_t rows) const;
  EvalResult Evaluate(const host::Dataset& data, const ParallelFor& pf);

  // The model's outputs (logits for the class losses and bce) for every sample of `data`, in
  // order: outputs[i * outputs + o]. The data need no targets.
  std::vector<float> Outputs(const host::Dataset& data, const ParallelFor& pf);

  host::Error SaveModel(const std::string& path) const { return cli::SaveModel(path, net_); }
  // adopt: take the file's architecture (eval); else it must be the configured one (--init).
  host::Error LoadModel(const std::string& path, bool adopt);
  uint64_t ParamsHash() const { return cli::ParamsHash(net_); }

 private:
  // f(first, rows) after each batch of `data` (in order, kEvalRows at a time) is loaded.
  template <class F>
  void ForEachBatch(const host::Dataset& data, const ParallelFor& pf, const F& f);
  template <class Rule>
  TrainResult TrainWith(const Rule& hp, const TrainConfig& config, const host::Dataset& data,
                        const StepObserver& observe);

  Net net_;
  TrainWorkspace ws_;
  size_t max_batch_ = 0;
  bool lean_ = false;
  Net best_;   // early stopping's best weights so far
  Net start_;  // the range test's starting weights
};

}  // namespace cli
}  // namespace descent

#endif  // DESCENT_SRC_CLI_SESSION_H_
