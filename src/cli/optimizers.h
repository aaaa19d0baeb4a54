// The optimizers by name: the CLI's presets, and each rule's hyperparameters
// by their torch names, for flags, messages and file metadata.
#ifndef DESCENT_SRC_CLI_OPTIMIZERS_H_
#define DESCENT_SRC_CLI_OPTIMIZERS_H_

#include <string>
#include <variant>
#include <vector>

#include "descent/optimizer.h"

namespace descent {
namespace cli {

using AnyRule = std::variant<Sgd, Adagrad, Adadelta, RmsProp, Adam, AdamW, Adamax, NAdam, RAdam>;

struct OptimizerConfig {
  std::string name;  // preset name: sgd, momentum, nesterov, adagrad, ...
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

// Calls f(name, double&) or f(name, bool&) for each hyperparameter, torch names.
template <class F> void ForEachHyperparameter(Sgd& h, F&& f) {
  f("lr", h.lr), f("momentum", h.momentum), f("dampening", h.dampening),
      f("weight_decay", h.weight_decay), f("nesterov", h.nesterov);
}
template <class F> void ForEachHyperparameter(Adagrad& h, F&& f) {
  f("lr", h.lr), f("lr_decay", h.lr_decay), f("weight_decay", h.weight_decay),
      f("initial_accumulator_value", h.initial_accumulator_value), f("eps", h.eps);
}
template <class F> void ForEachHyperparameter(Adadelta& h, F&& f) {
  f("lr", h.lr), f("rho", h.rho), f("eps", h.eps), f("weight_decay", h.weight_decay);
}
template <class F> void ForEachHyperparameter(RmsProp& h, F&& f) {
  f("lr", h.lr), f("alpha", h.alpha), f("eps", h.eps), f("weight_decay", h.weight_decay),
      f("momentum", h.momentum), f("centered", h.centered);
}
template <class F> void ForEachHyperparameter(Adam& h, F&& f) {
  f("lr", h.lr), f("beta1", h.beta1), f("beta2", h.beta2), f("eps", h.eps),
      f("weight_decay", h.weight_decay), f("amsgrad", h.amsgrad);
}
template <class F> void ForEachHyperparameter(AdamW& h, F&& f) {
  f("lr", h.lr), f("beta1", h.beta1), f("beta2", h.beta2), f("eps", h.eps),
      f("weight_decay", h.weight_decay), f("amsgrad", h.amsgrad);
}
template <class F> void ForEachHyperparameter(Adamax& h, F&& f) {
  f("lr", h.lr), f("beta1", h.beta1), f("beta2", h.beta2), f("eps", h.eps),
      f("weight_decay", h.weight_decay);
}
template <class F> void ForEachHyperparameter(NAdam& h, F&& f) {
  f("lr", h.lr), f("beta1", h.beta1), f("beta2", h.beta2), f("eps", h.eps),
      f("weight_decay", h.weight_decay), f("momentum_decay", h.momentum_decay);
}
template <class F> void ForEachHyperparameter(RAdam& h, F&& f) {
  f("lr", h.lr), f("beta1", h.beta1), f("beta2", h.beta2), f("eps", h.eps),
      f("weight_decay", h.weight_decay);
}

// Every hyperparameter name any rule has.
const std::vector<std::string>& AllHyperparameterNames();
// "lr=0.001 beta1=0.9 ..." for messages and metadata.
std::string Describe(const OptimizerConfig& config);
// nullptr if valid, else torch's complaint.
const char* InvalidReason(const OptimizerConfig& config);

}  // namespace cli
}  // namespace descent

#endif  // DESCENT_SRC_CLI_OPTIMIZERS_H_
