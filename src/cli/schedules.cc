// Schedules by name, from flags and file metadata: all through each schedule's Reflect.
#include "src/cli/schedules.h"

#include <string.h>

#include <ctype.h>
#include <stdio.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <type_traits>

#include "src/cli/flags.h"
#include "src/cli/optimizers.h"

namespace descent {
namespace cli {
namespace {

template <class T, class U>
constexpr bool kIs = std::is_same_v<std::decay_t<T>, U>;
template <class T>
struct IsChoice : std::false_type {};
template <class B>
struct IsChoice<Choice<B>> : std::true_type {};
template <class T>
struct IsMilestones : std::false_type {};
template <class I, class N>
struct IsMilestones<Milestones<I, N>> : std::true_type {};

// A parameter's flag: its torch name, dashed and lower case; where that is an
// optimizer's flag too (eps), prefixed with the schedule's name (plateau-eps).
template <class S>
std::string FlagOf(const char* torch_name) {
  std::string flag = Dashed(torch_name);
  for (char& c : flag) c = static_cast<char>(tolower(c));
  const auto& hp = AllHyperparameterNames();
  return std::find(hp.begin(), hp.end(), torch_name) == hp.end() ? flag : std::string(S::kName) + "-" + flag;
}

template <class S>
std::vector<std::string> FlagsOf() {
  std::vector<std::string> flags;
  S s;
  S::Reflect(s, [&](const char* n, auto&&) { flags.push_back(FlagOf<S>(n)); });
  return flags;
}

// What the CLI fills in from the run where torch needs a value: T_max and
// total_steps default to the run's length, OneCycleLR's max_lr to the optimizer's rate.
void RunDefaults(CosineAnnealingLR& s, int64_t length, double) { s.T_max = length; }
void RunDefaults(WarmupCosineLR& s, int64_t length, double) { s.T_max = length - s.warmup_steps; }
void RunDefaults(OneCycleLR& s, int64_t length, double lr) { s.max_lr = lr, s.total_steps = length; }
template <class S>
void RunDefaults(S&, int64_t, double) {}

std::string Text(double v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

std::string Short(double v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

// A field's value as Describe writes it.
template <class Field>
std::string ValueText(const Field& field) {
  if constexpr (kIs<Field, double>) return Text(field);
  else if constexpr (kIs<Field, bool>) return field ? "true" : "false";
  else if constexpr (IsChoice<std::decay_t<Field>>::value) return field.is_second ? field.second : field.first;
  else if constexpr (IsMilestones<std::decay_t<Field>>::value) {
    std::string m;
    for (size_t i = 0; i < field.count; ++i) m += (i ? "," : "") + std::to_string(field.values[i]);
    return m;
  } else {
    return std::to_string(field);
  }
}

// Sets a field from text; an empty string or what is wrong (flag names the field for messages).
template <class Field>
std::string SetField(Field&& field, const std::string& text, const std::string& flag) {
  using F = std::decay_t<Field>;
  if constexpr (std::is_same_v<F, double>) {
    if (!ParseDouble(text, &field)) return "--" + flag + " expects a number, got '" + text + "'";
  } else if constexpr (std::is_same_v<F, int64_t>) {
    double d = 0;
    if (!ParseDouble(text, &d) || d != std::floor(d) || d < 0 || d > 1e15)
      return "--" + flag + " expects a whole number, got '" + text + "'";
    field = static_cast<int64_t>(d);
  } else if constexpr (std::is_same_v<F, bool>) {
    if (text != "true" && text != "false") return "--" + flag + " expects true or false, got '" + text + "'";
    field = text == "true";
  } else if constexpr (IsChoice<F>::value) {
    if (text != field.first && text != field.second)
      return "--" + flag + " expects " + field.first + " or " + field.second + ", got '" + text + "'";
    field.is_second = text == field.second;
  } else {
    static_assert(IsMilestones<F>::value, "a schedule parameter of a kind this file does not know");
    field.count = 0;
    for (size_t at = 0; at <= text.size();) {
      size_t comma = text.find(',', at);
      if (comma == std::string::npos) comma = text.size();
      int64_t m = 0;
      if (!ParseSigned(text.substr(at, comma - at), &m) || field.count == field.capacity)
        return "--" + flag + " expects up to " + std::to_string(field.capacity) +
               " comma-separated step numbers, got '" + text + "'";
      field.values[field.count++] = m;
      at = comma + 1;
    }
  }
  return "";
}

// Builds S from values by torch name (lookup returns nullptr when absent).
template <class S, class Lookup>
std::string Build(const Lookup& lookup, int64_t total_steps, double lr, AnySchedule* out) {
  S s;
  std::string error;
  auto apply = [&] {
    S::Reflect(s, [&](const char* n, auto&& field) {
      const std::string* text = lookup(n);
      if (text && error.empty()) error = SetField(field, *text, FlagOf<S>(n));
    });
  };
  apply();
  RunDefaults(s, total_steps, lr);
  apply();  // the given values win over the run's defaults
  if (error.empty() && s.InvalidReason()) {
    // The reason names torch's parameter first: name its flag instead.
    std::string why = s.InvalidReason();
    S::Reflect(s, [&](const char* n, auto&&) {
      if (why.rfind(std::string(n) + " ", 0) == 0) why = "--" + FlagOf<S>(n) + why.substr(strlen(n));
    });
    if constexpr (std::is_same<S, WarmupCosineLR>::value)  // T_max defaulted to what the warm-up leaves
      if (!lookup("T_max") && s.T_max < 1 && s.warmup_steps >= 1)
        why = "--warmup-steps " + std::to_string(s.warmup_steps) + " is as long as the run (" +
              std::to_string(total_steps) + " steps): no step is left for the cosine";
    error = std::string("--schedule ") + S::kName + ": " + why;
  }
  *out = s;
  return error;
}

// Calls f(S{}) for the schedule named `name`; false if there is none.
template <class F>
bool WithSchedule(const std::string& name, F&& f) {
  bool found = false;
  ForEachType(Schedules{}, [&](auto s) {
    if (found || name != decltype(s)::kName) return;
    found = true;
    f(s);
  });
  return found;
}

}  // namespace

const std::vector<std::string>& ScheduleNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all = {"constant"};
    ForEachType(Schedules{}, [&](auto s) { all.push_back(decltype(s)::kName); });
    return all;
  }();
  return names;
}

const std::vector<std::string>& ScheduleFlagNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    ForEachType(Schedules{}, [&](auto s) {
      for (const std::string& f : FlagsOf<decltype(s)>())
        if (std::find(all.begin(), all.end(), f) == all.end()) all.push_back(f);
    });
    return all;
  }();
  return names;
}

std::string ScheduleHelp() {
  std::string help = "constant (default)";
  ForEachType(Schedules{}, [&](auto fresh) {
    using S = decltype(fresh);
    // The fields the run fills in (they differ after RunDefaults) show as N (a count) or LR.
    S fitted = fresh;
    RunDefaults(fitted, 1 << 20, 1e300);
    std::vector<std::string> before, after;
    S::Reflect(fresh, [&](const char*, const auto& field) { before.push_back(ValueText(field)); });
    S::Reflect(fitted, [&](const char*, const auto& field) { after.push_back(ValueText(field)); });
    size_t i = 0;
    help += std::string("; ") + S::kName;
    S::Reflect(fresh, [&](const char* n, const auto& field) {
      using F = std::decay_t<decltype(field)>;
      std::string value;
      const bool required = S::kRequired && std::string(n) == S::kRequired;
      if (before[i] != after[i]) value = kIs<F, double> ? "LR" : "N";
      else if (required && !IsMilestones<F>::value) value = kIs<F, double> ? "X" : "N";
      else if constexpr (IsChoice<F>::value) value = ValueText(field) + "|" + (field.is_second ? field.first : field.second);
      else if constexpr (IsMilestones<F>::value) value = "a,b,...";
      else if constexpr (kIs<F, bool>) value = field ? "true|false" : "false|true";
      else if constexpr (kIs<F, double>) value = Short(field);
      else value = ValueText(field);
      ++i;
      const std::string flag = "--" + FlagOf<S>(n) + " " + value;
      help += required ? " " + flag : " [" + flag + "]";
    });
  });
  return help;
}

std::string MakeSchedule(const std::string& name, const std::function<const std::string*(const std::string&)>& get,
                         int64_t total_steps, double lr, ScheduleConfig* out) {
  out->name = name;
  if (name == "constant") {
    for (const std::string& flag : ScheduleFlagNames())
      if (get(flag)) return "--" + flag + " does not apply to --schedule constant";
    out->rule = std::monostate();
    return "";
  }
  std::string error;
  const bool known = WithSchedule(name, [&](auto s) {
    using S = decltype(s);
    const std::vector<std::string> own = FlagsOf<S>();
    for (const std::string& flag : ScheduleFlagNames())
      if (get(flag) && std::find(own.begin(), own.end(), flag) == own.end() && error.empty())
        error = "--" + flag + " does not apply to --schedule " + name;
    if (S::kRequired && !get(FlagOf<S>(S::kRequired)) && error.empty())
      error = "--schedule " + name + " needs --" + FlagOf<S>(S::kRequired);
    const std::string built =
        Build<S>([&](const char* torch_name) { return get(FlagOf<S>(torch_name)); }, total_steps, lr, &out->rule);
    if (error.empty()) error = built;
  });
  if (!known) return "unknown schedule '" + name + "' (one of " + Join(ScheduleNames(), ", ") + ")";
  return error;
}

std::string Describe(const ScheduleConfig& c) {
  std::string parameters;
  std::visit([&](const auto& s) {
    using S = std::decay_t<decltype(s)>;
    if constexpr (!std::is_same_v<S, std::monostate>)
      S::Reflect(s, [&](const char* n, const auto& field) {
        parameters += (parameters.empty() ? "" : " ") + std::string(n) + "=" + ValueText(field);
      });
  }, c.rule);
  return c.name + (parameters.empty() ? "" : " " + parameters) + (c.per_epoch ? " unit=epoch" : "");
}

bool ParseSchedule(const std::string& text, ScheduleConfig* out) {
  std::map<std::string, std::string> values;  // by torch name
  size_t at = text.find(' ');
  const std::string name = text.substr(0, at);
  bool per_epoch = false;
  while (at != std::string::npos && at + 1 < text.size()) {
    const size_t end = text.find(' ', at + 1);
    const std::string item = text.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
    at = end;
    const size_t eq = item.find('=');
    if (eq == std::string::npos) return false;
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "unit") per_epoch = value == "epoch";
    else values[key] = value;
  }
  out->name = name;
  out->per_epoch = per_epoch;
  if (name == "constant") {
    out->rule = std::monostate();
    return values.empty();
  }
  std::string error = "unknown";
  WithSchedule(name, [&](auto s) {
    using S = decltype(s);
    size_t known = 0;
    S::Reflect(s, [&](const char* n, auto&&) { known += values.count(n); });
    if (known != values.size()) return;  // a name the schedule does not have
    error = Build<S>([&](const char* n) {
      auto it = values.find(n);
      return it == values.end() ? nullptr : &it->second;
    }, 1, 0.0, &out->rule);
  });
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
