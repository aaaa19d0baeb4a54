// Schedules by name, from flags.
#include "src/cli/schedules.h"

#include <stdlib.h>

#include <ctype.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace descent {
namespace cli {

const std::vector<std::string>& ScheduleNames() {
  static const std::vector<std::string> names = {"constant", "step",     "multistep", "exponential",
                                                 "cosine",   "warmup-cosine", "onecycle", "plateau"};
  return names;
}

namespace {
// Each schedule's flags (torch's parameter names, dashed).
const std::map<std::string, std::vector<std::string>>& FlagsBySchedule() {
  static const std::map<std::string, std::vector<std::string>> flags = {
      {"constant", {}},
      {"step", {"step-size", "gamma"}},
      {"multistep", {"milestones", "gamma"}},
      {"exponential", {"gamma"}},
      {"cosine", {"t-max", "eta-min"}},
      {"warmup-cosine", {"warmup-steps", "start-factor", "t-max", "eta-min"}},
      {"onecycle", {"max-lr", "total-steps", "pct-start", "anneal-strategy", "cycle-momentum", "base-momentum",
                    "max-momentum", "div-factor", "final-div-factor", "three-phase"}},
      {"plateau", {"mode", "factor", "patience", "threshold", "threshold-mode", "cooldown", "min-lr", "plateau-eps"}},
  };
  return flags;
}

std::string Text(double v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}
}  // namespace

const std::vector<std::string>& ScheduleFlagNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (const auto& entry : FlagsBySchedule())
      for (const std::string& f : entry.second)
        if (std::find(all.begin(), all.end(), f) == all.end()) all.push_back(f);
    return all;
  }();
  return names;
}

std::string MakeSchedule(const std::string& name, const std::function<const std::string*(const std::string&)>& get,
                         int64_t total_steps, double lr, ScheduleConfig* out) {
  const auto known = FlagsBySchedule().find(name);
  if (known == FlagsBySchedule().end()) {
    std::string list;
    for (const std::string& n : ScheduleNames()) list += (list.empty() ? "" : ", ") + n;
    return "unknown schedule '" + name + "' (one of " + list + ")";
  }
  for (const std::string& flag : ScheduleFlagNames())
    if (get(flag) && std::find(known->second.begin(), known->second.end(), flag) == known->second.end())
      return "--" + flag + " does not apply to --schedule " + name;
  std::string error;
  auto number = [&](const char* flag, double* v) {
    if (const std::string* text = get(flag)) {
      char* end = nullptr;
      *v = strtod(text->c_str(), &end);
      if (text->empty() || *end != '\0' || !std::isfinite(*v))
        error = error.empty() ? "--" + std::string(flag) + " expects a number, got '" + *text + "'" : error;
    }
  };
  auto count = [&](const char* flag, int64_t* v) {
    double d = static_cast<double>(*v);
    number(flag, &d);
    if (d != std::floor(d) || d < 0 || d > 1e15)
      error = error.empty() ? "--" + std::string(flag) + " expects a whole number" : error;
    *v = static_cast<int64_t>(d);
  };
  auto choice = [&](const char* flag, const char* a, const char* b, bool* is_b) {
    if (const std::string* text = get(flag)) {
      if (*text != a && *text != b)
        error = error.empty() ? "--" + std::string(flag) + " expects " + a + " or " + b + ", got '" + *text + "'" : error;
      *is_b = *text == b;
    }
  };
  auto required = [&](const char* flag) {
    if (!get(flag) && error.empty()) error = "--schedule " + name + " needs --" + flag;
  };
  out->name = name;
  const char* invalid = nullptr;
  if (name == "constant") {
    out->rule = std::monostate();
  } else if (name == "step") {
    StepLR s;
    required("step-size");
    count("step-size", &s.step_size);
    number("gamma", &s.gamma);
    invalid = s.InvalidReason(), out->rule = s;
  } else if (name == "multistep") {
    MultiStepLR s;
    required("milestones");
    number("gamma", &s.gamma);
    if (const std::string* text = get("milestones")) {
      size_t at = 0;
      while (at <= text->size() && error.empty()) {
        size_t comma = text->find(',', at);
        if (comma == std::string::npos) comma = text->size();
        const std::string item = text->substr(at, comma - at);
        char* end = nullptr;
        const long long m = strtoll(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || s.num_milestones == MultiStepLR::kMaxMilestones)
          error = "--milestones expects up to 16 comma-separated step numbers, got '" + *text + "'";
        else
          s.milestones[s.num_milestones++] = m;
        at = comma + 1;
      }
    }
    invalid = s.InvalidReason(), out->rule = s;
  } else if (name == "exponential") {
    ExponentialLR s;
    required("gamma");
    number("gamma", &s.gamma);
    invalid = s.InvalidReason(), out->rule = s;
  } else if (name == "cosine") {
    CosineAnnealingLR s;
    s.T_max = total_steps;
    count("t-max", &s.T_max);
    number("eta-min", &s.eta_min);
    invalid = s.InvalidReason(), out->rule = s;
  } else if (name == "warmup-cosine") {
    WarmupCosineLR s;
    count("warmup-steps", &s.warmup_steps);
    number("start-factor", &s.start_factor);
    s.T_max = total_steps - s.warmup_steps;
    count("t-max", &s.T_max);
    number("eta-min", &s.eta_min);
    invalid = s.InvalidReason(), out->rule = s;
  } else if (name == "onecycle") {
    OneCycleLR s;
    s.max_lr = lr;
    s.total_steps = total_steps;
    number("max-lr", &s.max_lr);
    count("total-steps", &s.total_steps);
    number("pct-start", &s.pct_start);
    bool linear = false, no_cycle = false, three = false;
    choice("anneal-strategy", "cos", "linear", &linear);
    choice("cycle-momentum", "true", "false", &no_cycle);
    choice("three-phase", "false", "true", &three);
    s.anneal_cos = !linear, s.cycle_momentum = !no_cycle, s.three_phase = three;
    number("base-momentum", &s.base_momentum);
    number("max-momentum", &s.max_momentum);
    number("div-factor", &s.div_factor);
    number("final-div-factor", &s.final_div_factor);
    invalid = s.InvalidReason(), out->rule = s;
  } else {
    ReduceLROnPlateau s;
    choice("mode", "min", "max", &s.mode_max);
    number("factor", &s.factor);
    count("patience", &s.patience);
    number("threshold", &s.threshold);
    choice("threshold-mode", "rel", "abs", &s.threshold_abs);
    count("cooldown", &s.cooldown);
    number("min-lr", &s.min_lr);
    number("plateau-eps", &s.eps);
    invalid = s.InvalidReason(), out->rule = s;
  }
  if (error.empty() && invalid) error = "--schedule " + name + ": " + invalid;
  return error;
}

std::string Describe(const ScheduleConfig& c) {
  struct {
    std::string operator()(const std::monostate&) const { return ""; }
    std::string operator()(const StepLR& s) const {
      return "step_size=" + std::to_string(s.step_size) + " gamma=" + Text(s.gamma);
    }
    std::string operator()(const MultiStepLR& s) const {
      std::string m;
      for (size_t i = 0; i < s.num_milestones; ++i) m += (i ? "," : "") + std::to_string(s.milestones[i]);
      return "milestones=" + m + " gamma=" + Text(s.gamma);
    }
    std::string operator()(const ExponentialLR& s) const { return "gamma=" + Text(s.gamma); }
    std::string operator()(const CosineAnnealingLR& s) const {
      return "T_max=" + std::to_string(s.T_max) + " eta_min=" + Text(s.eta_min);
    }
    std::string operator()(const WarmupCosineLR& s) const {
      return "warmup_steps=" + std::to_string(s.warmup_steps) + " start_factor=" + Text(s.start_factor) +
             " T_max=" + std::to_string(s.T_max) + " eta_min=" + Text(s.eta_min);
    }
    std::string operator()(const OneCycleLR& s) const {
      return "max_lr=" + Text(s.max_lr) + " total_steps=" + std::to_string(s.total_steps) + " pct_start=" +
             Text(s.pct_start) + " anneal_strategy=" + (s.anneal_cos ? "cos" : "linear") +
             " cycle_momentum=" + (s.cycle_momentum ? "true" : "false") + " base_momentum=" + Text(s.base_momentum) +
             " max_momentum=" + Text(s.max_momentum) + " div_factor=" + Text(s.div_factor) +
             " final_div_factor=" + Text(s.final_div_factor) + " three_phase=" + (s.three_phase ? "true" : "false");
    }
    std::string operator()(const ReduceLROnPlateau& s) const {
      return std::string("mode=") + (s.mode_max ? "max" : "min") + " factor=" + Text(s.factor) +
             " patience=" + std::to_string(s.patience) + " threshold=" + Text(s.threshold) +
             " threshold_mode=" + (s.threshold_abs ? "abs" : "rel") + " cooldown=" + std::to_string(s.cooldown) +
             " min_lr=" + Text(s.min_lr) + " eps=" + Text(s.eps);
    }
  } describe;
  const std::string parameters = std::visit(describe, c.rule);
  return c.name + (parameters.empty() ? "" : " " + parameters) + (c.per_epoch ? " unit=epoch" : "");
}

bool ParseSchedule(const std::string& text, ScheduleConfig* out) {
  std::map<std::string, std::string> flags;  // torch name -> flag: T_max -> t-max, eps -> plateau-eps
  size_t at = text.find(' ');
  const std::string name = text.substr(0, at);
  bool per_epoch = false;
  while (at != std::string::npos && at + 1 < text.size()) {
    const size_t end = text.find(' ', at + 1);
    const std::string item = text.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
    at = end;
    const size_t eq = item.find('=');
    if (eq == std::string::npos) return false;
    std::string key = item.substr(0, eq);
    const std::string value = item.substr(eq + 1);
    if (key == "unit") {
      per_epoch = value == "epoch";
      continue;
    }
    for (char& c : key) c = c == '_' ? '-' : static_cast<char>(tolower(c));
    flags[key == "eps" ? "plateau-eps" : key] = value;
  }
  const std::string error = MakeSchedule(
      name, [&](const std::string& flag) { auto it = flags.find(flag); return it == flags.end() ? nullptr : &it->second; },
      1, 0.0, out);
  out->per_epoch = per_epoch;
  return error.empty();
}

bool CyclesMomentum(const ScheduleConfig& c) {
  const OneCycleLR* s = std::get_if<OneCycleLR>(&c.rule);
  return s && s->cycle_momentum;
}

bool IsPlateau(const ScheduleConfig& c) { return std::holds_alternative<ReduceLROnPlateau>(c.rule); }

ScheduleRunner::ScheduleRunner(const ScheduleConfig& config, bool plateau_on_eval, double base_lr)
    : config_(config), plateau_on_eval_(plateau_on_eval), base_lr_(base_lr) {
  std::visit([&](auto& s) {
    if constexpr (!std::is_same_v<std::decay_t<decltype(s)>, std::monostate>) s.Start(base_lr);
  }, config_.rule);
}

namespace {
template <class S>
void Advance(S& s) {
  if constexpr (!std::is_same_v<S, std::monostate> && !std::is_same_v<S, ReduceLROnPlateau>) s.Step();
}
}  // namespace

void ScheduleRunner::AfterStep() {
  if (!config_.per_epoch) std::visit([](auto& s) { Advance(s); }, config_.rule);
}

void ScheduleRunner::AfterEpoch(double train_loss) {
  if (config_.per_epoch) std::visit([](auto& s) { Advance(s); }, config_.rule);
  if (auto* s = std::get_if<ReduceLROnPlateau>(&config_.rule); s && !plateau_on_eval_) s->Step(train_loss);
}

void ScheduleRunner::AfterEval(double test_loss) {
  if (auto* s = std::get_if<ReduceLROnPlateau>(&config_.rule); s && plateau_on_eval_) s->Step(test_loss);
}

double ScheduleRunner::lr() const {
  return std::visit([&](const auto& s) {
    if constexpr (std::is_same_v<std::decay_t<decltype(s)>, std::monostate>) return base_lr_;
    else return s.lr();
  }, config_.rule);
}

double ScheduleRunner::momentum() const {
  const OneCycleLR* s = std::get_if<OneCycleLR>(&config_.rule);
  return s ? s->momentum() : 0.0;
}

}  // namespace cli
}  // namespace descent
