// What several commands share: data loading, output files, and turning the
// optimizer, schedule and training-control flags into a TrainConfig.
#ifndef DESCENT_SRC_CLI_COMMANDS_COMMON_H_
#define DESCENT_SRC_CLI_COMMANDS_COMMON_H_

#include <string>
#include <vector>

#include "src/cli/flags.h"
#include "src/cli/session.h"

namespace descent {
namespace cli {

extern const char* const kDefaultDataDir;  // the bundled data
extern const char* const kDataHelp;        // --data --test --epochs --batch --seed --threads
extern const char* const kFindHelp;        // --start-lr --end-lr --steps
std::string ControlHelp();                 // --schedule ... --early-stop

// The model from the flags: --net (--input-shape) or --layers and --activation (--negative-slope),
// --loss (--label-smoothing, --delta, --pos-weight), the data's --target column, the input
// transform (--input-scale, --standardize) and the workspace's --plan.
struct ModelSpec {
  Architecture architecture;  // a --net model's input shape is empty until ResolveInput
  bool given = false;  // any architecture flag
  std::vector<size_t> input_shape;  // --input-shape
  std::string target;
  double input_scale = 1.0 / 256.0;
  bool standardize = false;
  bool lean = false;  // --plan lean
};
extern const char* const kModelHelp;
void AddModelFlags(std::vector<std::string>* valued, std::vector<std::string>* switches);
ModelSpec ReadModelSpec(const Flags& flags);
// The input transform the spec asks for (standardization: from the training data).
InputTransform MakeTransform(const ModelSpec& spec, const host::Dataset& train);
// Loads a data set and checks it fits the model; bad files end the program with status 3.
host::Dataset LoadData(const std::string& path, const char* prefix, const Architecture& architecture,
                       const std::string& target);
// A --net model without an input shape takes its data's (IDX images: 1,H,W; CSV rows: F, or
// --input-shape), then is checked whole (a module that cannot take its input: exit 2).
void ResolveInput(const Flags& flags, const host::Dataset& data, ModelSpec* spec);
// The training data (prefix "train"): loaded, the model's input resolved from it, checked.
host::Dataset LoadTrainData(const Flags& flags, const std::string& path, ModelSpec* spec);
// Sizes the session for the spec and batch and gives it the spec's input transform.
void SetUpModel(const ModelSpec& spec, const host::Dataset& train, size_t batch, Session* session);
// Whether the loss has an accuracy (class losses and bce).
bool HasAccuracy(const Architecture& architecture);
// "nll" -> "NLL", the loss's name for charts.
std::string LossLabel(const Architecture& architecture);
// --test, else the --data directory, else the bundled data.
std::string DefaultTest(const Flags& flags);
void WriteOrDie(const std::string& path, const std::string& text);

// A file a command reads or writes, and what names it ("--save", "--out").
struct NamedPath {
  std::string what, path;
};
// The data files a data set was read from.
std::vector<NamedPath> DataFiles(const char* what, const host::Dataset& data);
// Before any work: every output can be written (exit 3 naming it), and no output is an
// input or another output (exit 2). `allowed`: one output that may be an input (a
// checkpoint updating the one it resumes).
void CheckOutputs(const Flags& flags, const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs,
                  const std::pair<std::string, std::string>& allowed = {});
void OrDie(const host::Error& e);

// Every hyperparameter as a flag: the booleans are switches, the rest take a value.
void AddHyperparameterFlags(std::vector<std::string>* valued, std::vector<std::string>* switches);
// Applies hyperparameter flags to the preset; a flag the rule does not have is a usage error.
void ApplyHyperparameters(const Flags& flags, OptimizerConfig* config);
// The preset --optimizer names (or `fallback`), a usage error if unknown.
OptimizerConfig PresetOrDie(const Flags& flags, const std::string& name);

std::vector<std::string> ControlFlags();
// Schedule, clipping, evaluation and early stopping from the flags, for a run of
// `epochs` epochs of `batches` steps with the optimizer already in config.
void ApplyControls(const Flags& flags, size_t epochs, size_t batches, TrainConfig* config,
                   const Checkpoint* resume = nullptr);

struct FindSettings {
  double start_lr, end_lr;
  size_t steps;
};
FindSettings ReadFindSettings(const Flags& flags);

}  // namespace cli
}  // namespace descent

#endif  // DESCENT_SRC_CLI_COMMANDS_COMMON_H_
