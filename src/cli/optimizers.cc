#include "src/cli/optimizers.h"

#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <type_traits>

#include "src/cli/flags.h"

namespace descent {
namespace cli {
namespace {

template <class T>
constexpr bool kIsBool = std::is_same_v<std::decay_t<T>, bool>;

// SGD's presets besides plain sgd.
bool SgdPreset(const std::string& name, Sgd* hp) {
  if (name != "momentum" && name != "nesterov") return false;
  hp->momentum = 0.9;
  hp->nesterov = name == "nesterov";
  return true;
}

std::string NumberText(double v) {
  char buf[64];
  snprintf(buf, sizeof(buf), "%.15g", v);  // shortest form that reads back exactly
  if (strtod(buf, nullptr) != v) snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

}  // namespace

const std::vector<std::string>& PresetNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    ForEachType(Rules{}, [&](auto rule) {
      all.push_back(rule.kName);
      if (std::is_same_v<decltype(rule), Sgd>) all.insert(all.end(), {"momentum", "nesterov"});
    });
    return all;
  }();
  return names;
}

const std::vector<std::string>& NotebookNames() {
  static const std::vector<std::string> names = {"sgd",     "momentum", "nesterov", "adagrad",
                                                 "rmsprop", "adam",     "adamax",   "nadam"};
  return names;
}

bool Preset(const std::string& name, OptimizerConfig* out) {
  bool found = false;
  ForEachType(Rules{}, [&](auto rule) {
    bool match = name == rule.kName;
    if constexpr (std::is_same_v<decltype(rule), Sgd>) match = match || SgdPreset(name, &rule);
    if (!match || found) return;
    out->name = name, out->rule = rule, found = true;
  });
  return found;
}

bool NotebookPreset(const std::string& name, OptimizerConfig* out) {
  if (!Preset(name, out)) return false;
  if (std::find(NotebookNames().begin(), NotebookNames().end(), name) == NotebookNames().end()) return true;
  SetLearningRate(out, name == "sgd" ? 1e-2 : 1e-3);
  if (auto* rms = std::get_if<RmsProp>(&out->rule)) rms->alpha = 0.9;
  return true;
}

const std::vector<std::string>& AllHyperparameterNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    ForEachType(Rules{}, [&](auto rule) {
      decltype(rule)::Reflect(rule, [&](const char* n, auto&) {
        if (std::find(all.begin(), all.end(), n) == all.end()) all.push_back(n);
      });
    });
    return all;
  }();
  return names;
}

bool IsBooleanHyperparameter(const std::string& name) {
  bool is_bool = false;
  ForEachType(Rules{}, [&](auto rule) {
    decltype(rule)::Reflect(rule, [&](const char* n, auto& field) { is_bool |= kIsBool<decltype(field)> && name == n; });
  });
  return is_bool;
}

std::string HyperparameterHelp() {
  // Rules with the same flags share a line: "(adam, adamw)".
  std::vector<std::pair<std::string, std::vector<std::string>>> lines;
  for (const std::string& preset : PresetNames()) {
    OptimizerConfig config;
    Preset(preset, &config);
    const std::string flags = "--" + Join(HyperparameterFlags(config), " --");
    auto line = std::find_if(lines.begin(), lines.end(), [&](const auto& l) { return l.first == flags; });
    if (line == lines.end()) lines.push_back({flags, {preset}});
    else line->second.push_back(preset);
  }
  std::string help;
  for (const auto& line : lines) help += "  " + line.first + " (" + Join(line.second, ", ") + ")\n";
  return help;
}

bool SetHyperparameter(OptimizerConfig* config, const std::string& name, const std::string& text, bool* bad_value) {
  bool found = false;
  *bad_value = false;
  std::visit([&](auto& hp) {
    std::decay_t<decltype(hp)>::Reflect(hp, [&](const char* n, auto& field) {
      if (name != n) return;
      found = true;
      if constexpr (kIsBool<decltype(field)>) {
        *bad_value = !(text == "true" || text == "false");
        field = text == "true";
      } else {
        *bad_value = !ParseDouble(text, &field);
      }
    });
  }, config->rule);
  return found;
}

std::vector<std::string> HyperparameterFlags(const OptimizerConfig& config) {
  std::vector<std::string> flags;
  std::visit([&](const auto& hp) {
    std::decay_t<decltype(hp)>::Reflect(hp, [&](const char* n, const auto&) { flags.push_back(Dashed(n)); });
  }, config.rule);
  return flags;
}

std::string Describe(const OptimizerConfig& config) {
  std::string out;
  std::visit([&](const auto& hp) {
    std::decay_t<decltype(hp)>::Reflect(hp, [&](const char* n, const auto& v) {
      std::string value;
      if constexpr (kIsBool<decltype(v)>) value = v ? "true" : "false";
      else value = NumberText(v);
      out += (out.empty() ? "" : " ") + std::string(n) + "=" + value;
    });
  }, config.rule);
  return out;
}

bool ParseHyperparameters(const std::string& text, OptimizerConfig* config) {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find(' ', at);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(at, end - at);
    at = end + 1;
    const size_t eq = item.find('=');
    bool bad = false;
    if (eq == std::string::npos || !SetHyperparameter(config, item.substr(0, eq), item.substr(eq + 1), &bad) || bad)
      return false;
  }
  return InvalidReason(*config) == nullptr;
}

const char* InvalidReason(const OptimizerConfig& config) {
  return std::visit([](const auto& hp) { return hp.InvalidReason(); }, config.rule);
}

double LearningRate(const OptimizerConfig& config) {
  return std::visit([](const auto& hp) { return hp.lr; }, config.rule);
}

void SetLearningRate(OptimizerConfig* config, double lr) {
  std::visit([&](auto& hp) { hp.lr = lr; }, config->rule);
}

}  // namespace cli
}  // namespace descent
