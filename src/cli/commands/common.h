// What several commands share: output files, and turning the optimizer, schedule and
// training-control flags into a TrainConfig (the model's flags: model_flags.h).
#ifndef DESCENT_SRC_CLI_COMMANDS_COMMON_H_
#define DESCENT_SRC_CLI_COMMANDS_COMMON_H_

#include <string>
#include <vector>

#include "src/cli/commands/model_flags.h"
#include "src/cli/flags.h"
#include "src/cli/session.h"

namespace descent {
namespace cli {

extern const char* const kDefaultDataDir;  // the bundled data
extern const char* const kDataHelp;        // --data --test --epochs --batch --seed --threads
extern const char* const kFindHelp;        // --start-lr --end-lr --steps
std::string ControlHelp();                 // --schedule ... --early-stop

// --test, else the --data directory; "" for CSV --data without --test (no test set).
std::string DefaultTest(const Flags& flags);
void WriteOrDie(const std::string& path, const std::string& text);

// A file a command reads or writes, and what names it ("--save", "--out").
struct NamedPath {
  std::string what, path;
};
// --validation-split F, checked against the training data's size (0: none).
double ValidationFraction(const Flags& flags, size_t samples);
// Holds out round(fraction * count) samples of *train, chosen by a shuffle from (seed,
// validation) and kept in their order: returns them, and *train keeps the rest, in order.
host::Dataset SplitValidation(double fraction, uint64_t seed, host::Dataset* train);
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
