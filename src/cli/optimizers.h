// The optimizers by name, all derived from descent::Rules and each rule's
// Reflect: the CLI's presets, hyperparameter flags and help, and the text
// form of a configuration for messages and file metadata.
#ifndef DESCENT_SRC_CLI_OPTIMIZERS_H_
#define DESCENT_SRC_CLI_OPTIMIZERS_H_

#include <string>
#include <variant>
#include <vector>

#include "descent/optimizer.h"

namespace descent {
namespace cli {

template <class List>
struct RuleVariant;
template <class... R>
struct RuleVariant<TypeList<R...>> {
  using type = std::variant<R...>;
};
using AnyRule = RuleVariant<Rules>::type;

struct OptimizerConfig {
  std::string name;  // preset name: a rule's kName, or momentum / nesterov
  AnyRule rule;
};

// Names accepted by --optimizer, in the order help text lists them.
const std::vector<std::string>& PresetNames();
// torch's defaults for the rule behind `name`; momentum and nesterov are SGD
// with momentum 0.9 (and nesterov). False for an unknown name.
bool Preset(const std::string& name, OptimizerConfig* out);
// The notebook's configurations for `compare` (sgd lr 1e-2; rmsprop alpha 0.9;
// the others lr 1e-3); rules the notebook did not use keep torch's defaults.
bool NotebookPreset(const std::string& name, OptimizerConfig* out);
const std::vector<std::string>& NotebookNames();

// Every hyperparameter name any rule has (torch names), and which are booleans.
const std::vector<std::string>& AllHyperparameterNames();
bool IsBooleanHyperparameter(const std::string& name);
// One line per rule: "  --lr --beta1 ... (adam)", for help texts.
std::string HyperparameterHelp();

// Sets the hyperparameter `name` (torch name) from text: a number, or true/false.
// Returns false if the rule has no such hyperparameter; *bad_value tells a bad text.
bool SetHyperparameter(OptimizerConfig* config, const std::string& name, const std::string& text, bool* bad_value);
// The rule's hyperparameter names, dashed, for messages.
std::vector<std::string> HyperparameterFlags(const OptimizerConfig& config);
// "lr=0.001 beta1=0.9 ..." for messages and metadata.
std::string Describe(const OptimizerConfig& config);
// Applies Describe's format to config; false on an unknown name, a bad value or invalid hyperparameters.
bool ParseHyperparameters(const std::string& text, OptimizerConfig* config);
// nullptr if valid, else torch's complaint.
const char* InvalidReason(const OptimizerConfig& config);
double LearningRate(const OptimizerConfig& config);
void SetLearningRate(OptimizerConfig* config, double lr);

}  // namespace cli
}  // namespace descent

#endif  // DESCENT_SRC_CLI_OPTIMIZERS_H_
