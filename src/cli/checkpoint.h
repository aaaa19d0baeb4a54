// Checkpoints: a safetensors file with the weights (state_dict names), every
// optimizer state array ("optimizer.<torch state name>") and, in its metadata,
// everything needed to continue a run exactly (README, "Checkpoints"). The
// writer and the parser of the format live together in checkpoint.cc.
#ifndef DESCENT_SRC_CLI_CHECKPOINT_H_
#define DESCENT_SRC_CLI_CHECKPOINT_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "src/cli/model.h"
#include "src/cli/optimizers.h"
#include "src/host/dataset.h"

namespace descent {
namespace cli {

// Where a run stands.
struct Checkpoint {
  Architecture architecture;   // the model it trains (read from the file)
  InputTransform transform;
  OptimizerConfig optimizer;
  size_t batch = 0;
  uint64_t seed = 0;
  bool shuffle = true;
  size_t epoch = 0;            // the epoch in progress (0-based)...
  size_t next_batch = 0;       // ...and the next batch in it; == batches when the epoch is done
  double epoch_loss_sum = 0;   // the batch losses of that epoch so far
  StepClock clock;             // clock.step: the steps done
  std::string schedule;        // "<name> <parameters>" ("constant" when none)
  std::string clip;            // DescribeClip's text
  std::string data;            // DataFingerprint of the training data
  host::Safetensors file;      // read: the weights and optimizer slots
};

// An optimizer's state arrays, by torch's state names.
struct SlotsRef {
  size_t count;
  const char* const* names;
  float* const* data;  // count arrays of net.num_params() floats
};

host::Error WriteCheckpoint(const std::string& path, const Checkpoint& at, const Net& net, const SlotsRef& slots);
// Reads and validates a checkpoint: format, architecture, every field, the checksum of the tensors.
host::Error ReadCheckpoint(const std::string& path, Checkpoint* out);
host::Error ParseCheckpoint(const std::string& path, std::vector<uint8_t> bytes, Checkpoint* out);
// The largest --epochs.
inline constexpr size_t kMaxEpochs = 1000000;
// Whether the checkpoint's position is one a run over `samples` samples reaches
// (step = epoch * batches + next_batch), so replaying a schedule to it is bounded by the run.
host::Error CheckPosition(const Checkpoint& checkpoint, size_t samples, const std::string& path);
size_t EpochsDone(const Checkpoint& checkpoint, size_t samples);
// The weights and optimizer state of a read checkpoint, all finite; *net is left alone on failure.
// *net has the checkpoint's architecture.
host::Error RestoreCheckpoint(const Checkpoint& from, Net* net, const SlotsRef& slots);

// "<samples>:<FNV-1a of the features and targets>": resuming on other data is refused.
std::string DataFingerprint(const host::Dataset& data);
// "max_norm=X clip_value=Y", and back (false if it does not parse).
std::string DescribeClip(const GradClip& clip);
bool ParseClip(const std::string& text, GradClip* clip);

}  // namespace cli
}  // namespace descent

#endif  // DESCENT_SRC_CLI_CHECKPOINT_H_
