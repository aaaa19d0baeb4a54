// The model's flags, shared by the commands that build or read a model: --net or --layers,
// the loss, the data's target column, the input transform and the plan; loading data sets
// checked against the model.
#ifndef DESCENT_SRC_CLI_COMMANDS_MODEL_FLAGS_H_
#define DESCENT_SRC_CLI_COMMANDS_MODEL_FLAGS_H_

#include <string>
#include <vector>

#include "src/cli/flags.h"
#include "src/cli/session.h"

namespace descent {
namespace cli {

// The model from the flags: --net (--input-shape) or --layers and --activation (--negative-slope),
// --loss (--label-smoothing, --delta, --pos-weight), the data's --target column, the input
// transform (--input-scale, --standardize) and the workspace's --plan.
struct ModelSpec {
  Architecture architecture;  // a --net model's input shape is empty until ResolveInput
  bool given = false;  // any architecture flag
  std::vector<size_t> input_shape;  // --input-shape
  std::string target;
  double input_scale = 1.0 / 256.0;  // --input-scale, when input_scale_given
  bool input_scale_given = false;
  bool standardize = false;
  bool lean = false;  // --plan lean
};
extern const char* const kModelHelp;
void AddModelFlags(std::vector<std::string>* valued, std::vector<std::string>* switches);
ModelSpec ReadModelSpec(const Flags& flags);
// The input transform the spec asks for (standardization: from the training data), with the
// training data's target column (none for images: Kaggle's `label`, or IDX labels).
InputTransform MakeTransform(const ModelSpec& spec, const host::Dataset& train);
// --input-scale, else the pixel scale 1/256 for images (IDX, Kaggle's CSV), else 1.
double InputScale(const ModelSpec& spec, const host::Dataset& data);
// Each model flag given (and only those) must agree with the model `path` holds; else exit 2.
void CheckGivenFlags(const Flags& flags, const ModelSpec& spec, const Architecture& file, const std::string& path);
// Loads a data set and checks it fits the model; bad files end the program with status 3.
host::Dataset LoadData(const std::string& path, const char* prefix, const Architecture& architecture,
                       const std::string& target);
// A --net model without an input shape takes its data's (IDX images: 1,H,W; CSV rows: F, or
// --input-shape), then is checked whole (a module that cannot take its input: exit 2).
void ResolveInput(const Flags& flags, const host::Dataset& data, ModelSpec* spec);
// The test data (prefix "t10k"), its target the training data's column (a CSV's by name).
host::Dataset LoadTestData(const std::string& path, const ModelSpec& spec, const host::Dataset& train);
// The training data (prefix "train"): loaded, the model's input resolved from it, checked.
host::Dataset LoadTrainData(const Flags& flags, const std::string& path, ModelSpec* spec);
// Sizes the session for the spec and batch and gives it the spec's input transform.
// A model too large for its files to be read back is a usage error.
void SetUpModel(const Flags& flags, const ModelSpec& spec, const host::Dataset& train, size_t batch, Session* session);
// A saved model (`path`) and the data it runs on (eval, predict): a file descent wrote gives its
// model, transform and target column (model flags given must agree); a torch state_dict takes
// them from the flags (a SimpleNet file its widths from its tensors). targets_required: false
// for data to predict on, which may lack the target column. Errors end the program.
void PrepareSavedModel(const Flags& flags, const std::string& path, const std::string& data_path, ModelSpec* spec,
                       Session* session, host::Dataset* data, bool targets_required);
// Whether the loss has an accuracy (class losses and bce).
bool HasAccuracy(const Architecture& architecture);
// "nll" -> "NLL", the loss's name for charts.
std::string LossLabel(const Architecture& architecture);

}  // namespace cli
}  // namespace descent

#endif  // DESCENT_SRC_CLI_COMMANDS_MODEL_FLAGS_H_
