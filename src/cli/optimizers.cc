// Optimizer presets and hyperparameter listing for the CLI.
#include "src/cli/optimizers.h"

#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <type_traits>

namespace descent {
namespace cli {

const std::vector<std::string>& PresetNames() {
  static const std::vector<std::string> names = {"sgd",     "momentum", "nesterov", "adagrad",
                                                 "adadelta", "rmsprop", "adam",     "adamw",
                                                 "adamax",  "nadam",    "radam"};
  return names;
}

const std::vector<std::string>& NotebookNames() {
  static const std::vector<std::string> names = {"sgd",     "momentum", "nesterov", "adagrad",
                                                 "rmsprop", "adam",     "adamax",   "nadam"};
  return names;
}

bool Preset(const std::string& name, OptimizerConfig* out) {
  out->name = name;
  if (name == "sgd") out->rule = Sgd{};
  else if (name == "momentum" || name == "nesterov") {
    Sgd hp;
    hp.momentum = 0.9;
    hp.nesterov = name == "nesterov";
    out->rule = hp;
  } else if (name == "adagrad") out->rule = Adagrad{};
  else if (name == "adadelta") out->rule = Adadelta{};
  else if (name == "rmsprop") out->rule = RmsProp{};
  else if (name == "adam") out->rule = Adam{};
  else if (name == "adamw") out->rule = AdamW{};
  else if (name == "adamax") out->rule = Adamax{};
  else if (name == "nadam") out->rule = NAdam{};
  else if (name == "radam") out->rule = RAdam{};
  else return false;
  return true;
}

bool NotebookPreset(const std::string& name, OptimizerConfig* out) {
  if (!Preset(name, out)) return false;
  if (std::find(NotebookNames().begin(), NotebookNames().end(), name) == NotebookNames().end())
    return true;
  std::visit([&](auto& hp) { hp.lr = name == "sgd" ? 1e-2 : 1e-3; }, out->rule);
  if (auto* rms = std::get_if<RmsProp>(&out->rule)) rms->alpha = 0.9;
  return true;
}

const std::vector<std::string>& AllHyperparameterNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    auto add = [&](const char* n, auto&) {
      if (std::find(all.begin(), all.end(), n) == all.end()) all.push_back(n);
    };
    AnyRule rules[] = {Sgd{}, Adagrad{}, Adadelta{}, RmsProp{}, Adam{}, AdamW{}, Adamax{}, NAdam{}, RAdam{}};
    for (auto& r : rules) std::visit([&](auto& hp) { ForEachHyperparameter(hp, add); }, r);
    return all;
  }();
  return names;
}

std::string Describe(const OptimizerConfig& config) {
  std::string out;
  AnyRule copy = config.rule;
  std::visit([&](auto& hp) {
    ForEachHyperparameter(hp, [&](const char* n, auto& v) {
      char buf[64];
      if constexpr (std::is_same_v<std::decay_t<decltype(v)>, bool>) snprintf(buf, sizeof(buf), "%s", v ? "true" : "false");
      else {
        snprintf(buf, sizeof(buf), "%.15g", v);  // shortest form that reads back exactly
        if (strtod(buf, nullptr) != v) snprintf(buf, sizeof(buf), "%.17g", v);
      }
      out += (out.empty() ? "" : " ") + std::string(n) + "=" + buf;
    });
  }, copy);
  return out;
}

const char* InvalidReason(const OptimizerConfig& config) {
  return std::visit([](const auto& hp) { return descent::InvalidReason(hp); }, config.rule);
}

}  // namespace cli
}  // namespace descent
