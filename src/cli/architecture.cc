#include "src/cli/architecture.h"

#include <stdio.h>
#include <stdlib.h>

#include <cmath>
#include <iterator>

namespace descent {
namespace cli {
namespace {

const char* const kActivationNames[] = {"relu", "leaky-relu", "tanh", "sigmoid", "gelu", "gelu-tanh", "identity"};
const ActivationKind kActivationKinds[] = {ActivationKind::kRelu, ActivationKind::kLeakyRelu, ActivationKind::kTanh,
                                           ActivationKind::kSigmoid, ActivationKind::kGelu, ActivationKind::kGeluTanh,
                                           ActivationKind::kIdentity};
const char* const kLossNames[] = {"nll", "cross-entropy", "mse", "l1", "huber", "bce"};
const LossKind kLossKinds[] = {LossKind::kNll, LossKind::kCrossEntropy, LossKind::kMse,
                               LossKind::kL1, LossKind::kHuber, LossKind::kBceWithLogits};
// --net's module names: torch's class names in lower case.
const char* const kModuleNames =
    "linear, conv2d, conv1d, maxpool2d, maxpool1d, avgpool2d, avgpool1d, adaptiveavgpool2d, adaptiveavgpool1d, "
    "batchnorm2d, batchnorm1d, dropout, relu, leakyrelu, tanh, sigmoid, gelu, identity, flatten";

std::string Number(double v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}
// The shortest text that reads back as the same float: 0.2, not 0.200000003.
std::string FloatText(float v) {
  char buf[32];
  for (int digits = 6; digits <= 9; ++digits) {
    snprintf(buf, sizeof(buf), "%.*g", digits, static_cast<double>(v));
    if (strtof(buf, nullptr) == v) break;
  }
  return buf;
}

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

// A decimal number, all of `text`.
bool ParseReal(const std::string& text, double* out) {
  if (text.empty() || text.find_first_of("xXpP") != std::string::npos) return false;
  char* end = nullptr;
  *out = strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(*out);
}
bool ParseCount(const std::string& text, size_t* out) {
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) return false;
  *out = static_cast<size_t>(strtoull(text.c_str(), nullptr, 10));
  return true;
}
// torch's booleans and strings as they are written in Python: True/False, 'tanh' or "tanh".
std::string Unquote(const std::string& v) {
  if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front()) return v.substr(1, v.size() - 2);
  return v;
}
bool ParseBool(const std::string& v, bool* out) {
  if (v == "true" || v == "True") return *out = true, true;
  if (v == "false" || v == "False") return *out = false, true;
  return false;
}

// One item of a spec: `name` or `name(arg, key=value, ...)`; *error says what is wrong with it.
bool ParseModule(const std::string& item, Module* m, std::string* error) {
  const size_t open = item.find('(');
  const std::string name = Trim(item.substr(0, open));
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> named;
  if (open != std::string::npos) {
    if (item.back() != ')') return *error = "expected `)` at its end", false;
    const std::string inside = item.substr(open + 1, item.size() - open - 2);
    size_t begin = 0;
    while (begin <= inside.size() && !Trim(inside).empty()) {
      const size_t comma = std::min(inside.find(',', begin), inside.size());
      const std::string arg = Trim(inside.substr(begin, comma - begin));
      const size_t eq = arg.find('=');
      if (arg.empty()) return *error = "has an empty argument", false;
      if (eq == std::string::npos) {
        if (!named.empty()) return *error = "has a positional argument after a keyword argument", false;
        positional.push_back(arg);
      } else {
        named.push_back({Trim(arg.substr(0, eq)), Unquote(Trim(arg.substr(eq + 1)))});
      }
      begin = comma + 1;
      if (comma == inside.size()) break;
    }
  }
  // The arguments one kind takes, by position then by name; anything left is an error.
  auto take = [&](size_t position, const char* key, std::string* value) {
    if (position < positional.size()) {
      *value = positional[position];
      positional[position].clear();
    }
    for (auto& [k, v] : named)
      if (k == key) {
        if (!value->empty()) return *error = std::string("gives ") + key + " twice", false;
        *value = v;
        k.clear();
      }
    return true;
  };
  auto leftovers = [&]() {
    for (const std::string& p : positional)
      if (!p.empty()) return *error = "takes no argument `" + p + "` (" + name + "'s arguments: see --help)", false;
    for (const auto& [k, v] : named)
      if (!k.empty()) return *error = "has no argument `" + k + "`", false;
    return true;
  };
  m->bias = true;
  if (name == "linear") {
    m->kind = Module::Kind::kLinear;
    std::string out, bias;
    if (!take(0, "out_features", &out) || !take(1, "bias", &bias)) return false;
    if (out.empty()) return *error = "needs out_features (the input size comes from the layer before)", false;
    if (!ParseCount(out, &m->out) || m->out == 0 || m->out > kMaxWidth)
      return *error = "out_features must be an integer in [1, 65536], got `" + out + "`", false;
    if (!bias.empty() && !ParseBool(bias, &m->bias)) return *error = "bias must be true or false, got `" + bias + "`", false;
    return leftovers();
  }
  // A size argument: a whole number in [lo, 65536].
  auto size_arg = [&](const char* key, const std::string& v, size_t lo, size_t* out) {
    if (v.empty()) return true;
    if (ParseCount(v, out) && *out >= lo && *out <= kMaxWidth) return true;
    *error = std::string(key) + " must be an integer in [" + std::to_string(lo) + ", 65536], got `" + v + "`" +
             (v.find('(') != std::string::npos || v.find('[') != std::string::npos ? " (square sizes only: one number)" : "");
    return false;
  };
  m->one_d = name.size() > 2 && name.compare(name.size() - 2, 2, "1d") == 0;
  if (name == "conv2d" || name == "conv1d") {
    m->kind = Module::Kind::kConv;
    std::string out, k, stride, padding, dilation, groups, bias, mode;
    if (!take(0, "out_channels", &out) || !take(1, "kernel_size", &k) || !take(2, "stride", &stride) ||
        !take(3, "padding", &padding) || !take(4, "dilation", &dilation) || !take(5, "groups", &groups) ||
        !take(6, "bias", &bias) || !take(7, "padding_mode", &mode))
      return false;
    if (out.empty() || k.empty())
      return *error = "needs out_channels and kernel_size (the input channels come from the layer before)", false;
    padding = Unquote(padding);
    m->same = padding == "same";
    if (padding == "same" || padding == "valid") padding.clear();
    if (!size_arg("out_channels", out, 1, &m->out) || !size_arg("kernel_size", k, 1, &m->kernel) ||
        !size_arg("stride", stride, 1, &m->stride) || !size_arg("padding", padding, 0, &m->padding) ||
        !size_arg("dilation", dilation, 1, &m->dilation) || !size_arg("groups", groups, 1, &m->groups))
      return false;
    if (m->same && m->stride != 1) return *error = "padding='same' needs stride 1 (as torch)", false;
    if (!bias.empty() && !ParseBool(bias, &m->bias)) return *error = "bias must be true or false, got `" + bias + "`", false;
    if (!mode.empty() && Unquote(mode) != "zeros") return *error = "pads with zeros only (padding_mode='zeros')", false;
    return leftovers();
  }
  if (name == "maxpool2d" || name == "maxpool1d" || name == "avgpool2d" || name == "avgpool1d") {
    m->kind = Module::Kind::kPool;
    m->pool = name[0] == 'm' ? PoolKind::kMax : PoolKind::kAvg;
    std::string k, stride, padding, dilation, ceil, include, divisor, indices;
    if (!take(0, "kernel_size", &k) || !take(1, "stride", &stride) || !take(2, "padding", &padding)) return false;
    if (m->pool == PoolKind::kMax) {
      if (!take(3, "dilation", &dilation) || !take(4, "return_indices", &indices) || !take(5, "ceil_mode", &ceil))
        return false;
    } else if (!take(3, "ceil_mode", &ceil) || !take(4, "count_include_pad", &include) ||
               !take(5, "divisor_override", &divisor)) {
      return false;
    }
    if (k.empty()) return *error = "needs kernel_size", false;
    m->stride = 0;  // torch's default: the kernel size
    if (!size_arg("kernel_size", k, 1, &m->kernel) || !size_arg("stride", stride, 1, &m->stride) ||
        !size_arg("padding", padding, 0, &m->padding) || !size_arg("dilation", dilation, 1, &m->dilation))
      return false;
    bool flag = false;
    if (!ceil.empty() && (!ParseBool(ceil, &flag) || flag)) return *error = "supports ceil_mode=False only", false;
    if (!indices.empty() && (!ParseBool(indices, &flag) || flag)) return *error = "supports return_indices=False only", false;
    if (!divisor.empty() && divisor != "None") return *error = "supports divisor_override=None only", false;
    if (!include.empty() && !ParseBool(include, &m->count_include_pad))
      return *error = "count_include_pad must be true or false, got `" + include + "`", false;
    return leftovers();
  }
  // A float argument (as torch keeps it: a float32).
  auto real_arg = [&](const char* key, const std::string& v, float* out) {
    double d = 0;
    if (v.empty()) return true;
    if (ParseReal(v, &d) && std::isfinite(static_cast<float>(d))) return *out = static_cast<float>(d), true;
    *error = std::string(key) + " must be a finite number, got `" + v + "`";
    return false;
  };
  if (name == "batchnorm2d" || name == "batchnorm1d") {
    m->kind = Module::Kind::kBatchNorm;
    std::string eps, momentum, affine, track;
    if (!take(0, "eps", &eps) || !take(1, "momentum", &momentum) || !take(2, "affine", &affine) ||
        !take(3, "track_running_stats", &track))
      return false;
    if (!real_arg("eps", eps, &m->eps) || !real_arg("momentum", momentum, &m->momentum)) return false;
    if (!(m->eps > 0.0f)) return *error = "eps must be positive", false;
    if (!(m->momentum >= 0.0f && m->momentum <= 1.0f))
      return *error = "momentum must be in [0, 1] (None, the cumulative average, is not supported)", false;
    if (!affine.empty() && !ParseBool(affine, &m->bias)) return *error = "affine must be true or false, got `" + affine + "`", false;
    bool flag = true;
    if (!track.empty() && (!ParseBool(track, &flag) || !flag)) return *error = "supports track_running_stats=True only", false;
    return leftovers();
  }
  if (name == "dropout") {
    m->kind = Module::Kind::kDropout;
    std::string p, inplace;
    if (!take(0, "p", &p) || !take(1, "inplace", &inplace)) return false;
    if (!real_arg("p", p, &m->p)) return false;
    if (!(m->p >= 0.0f && m->p < 1.0f)) return *error = "p must be in [0, 1), got `" + p + "`", false;
    bool flag = false;
    if (!inplace.empty() && !ParseBool(inplace, &flag)) return *error = "inplace must be true or false", false;
    return leftovers();  // inplace changes nothing here
  }
  if (name == "adaptiveavgpool2d" || name == "adaptiveavgpool1d") {
    m->kind = Module::Kind::kGlobalPool;
    std::string size;
    if (!take(0, "output_size", &size)) return false;
    if (size != "1") return *error = "supports output_size 1 only (global average pooling), got `" + size + "`", false;
    return leftovers();
  }
  if (name == "flatten" || name == "identity") {
    m->kind = name == "flatten" ? Module::Kind::kFlatten : Module::Kind::kIdentity;
    if (name == "flatten") {  // nn.Flatten(start_dim=1, end_dim=-1): the only one that keeps the batch apart
      std::string start, end;
      if (!take(0, "start_dim", &start) || !take(1, "end_dim", &end)) return false;
      if ((!start.empty() && start != "1") || (!end.empty() && end != "-1"))
        return *error = "flattens from start_dim=1 to end_dim=-1 only", false;
    }
    return leftovers();
  }
  m->kind = Module::Kind::kActivation;
  if (name == "relu" || name == "tanh" || name == "sigmoid") {
    m->act.kind = name == "relu" ? ActivationKind::kRelu : name == "tanh" ? ActivationKind::kTanh : ActivationKind::kSigmoid;
    return leftovers();
  }
  if (name == "leakyrelu") {
    m->act.kind = ActivationKind::kLeakyRelu;
    std::string slope;
    double v = 0.01;
    if (!take(0, "negative_slope", &slope)) return false;
    if (!slope.empty() && (!ParseReal(slope, &v) || !std::isfinite(static_cast<float>(v))))
      return *error = "negative_slope must be a finite number (as a float), got `" + slope + "`", false;
    m->act.negative_slope = static_cast<float>(v);
    return leftovers();
  }
  if (name == "gelu") {
    std::string approximate;
    if (!take(0, "approximate", &approximate)) return false;
    approximate = Unquote(approximate);
    if (approximate != "" && approximate != "none" && approximate != "tanh")
      return *error = "approximate must be none or tanh, got `" + approximate + "`", false;
    m->act.kind = approximate == "tanh" ? ActivationKind::kGeluTanh : ActivationKind::kGelu;
    return leftovers();
  }
  if (name.empty()) return *error = "is empty", false;
  return *error = "unknown module `" + name + "` (one of " + kModuleNames + ")", false;
}

std::string ShapeText(const std::vector<size_t>& shape) {
  std::string s;
  for (size_t d : shape) s += (s.empty() ? "" : ",") + std::to_string(d);
  return s;
}

}  // namespace

Window Module::window() const {
  return SquareWindow(kernel, stride ? stride : kernel, padding, dilation, one_d, same);
}

std::string Module::Spec() const {
  const std::string d = one_d ? "1d(" : "2d(";
  auto option = [](const char* key, size_t v, size_t fallback) {
    return v == fallback ? std::string() : std::string(",") + key + "=" + std::to_string(v);
  };
  switch (kind) {
    case Kind::kLinear: return "linear(" + std::to_string(out) + (bias ? "" : ",bias=false") + ")";
    case Kind::kConv:
      return "conv" + d + std::to_string(out) + "," + std::to_string(kernel) + option("stride", stride, 1) +
             (same ? ",padding='same'" : option("padding", padding, 0)) + option("dilation", dilation, 1) +
             option("groups", groups, 1) + (bias ? "" : ",bias=false") + ")";
    case Kind::kPool:
      return (pool == PoolKind::kMax ? "maxpool" : "avgpool") + d + std::to_string(kernel) +
             option("stride", stride, 0) + option("padding", padding, 0) + option("dilation", dilation, 1) +
             (count_include_pad ? "" : ",count_include_pad=false") + ")";
    case Kind::kGlobalPool: return "adaptiveavgpool" + d + "1)";
    case Kind::kBatchNorm: {
      std::string args = (eps != 1e-5f ? ",eps=" + FloatText(eps) : "") + (momentum != 0.1f ? ",momentum=" + FloatText(momentum) : "") +
                         (bias ? "" : ",affine=false");
      return "batchnorm" + d.substr(0, 2) + (args.empty() ? "" : "(" + args.substr(1) + ")");
    }
    case Kind::kDropout: return p == 0.5f ? "dropout" : "dropout(" + FloatText(p) + ")";
    case Kind::kFlatten: return "flatten";
    case Kind::kIdentity: return "identity";
    case Kind::kActivation: break;
  }
  switch (act.kind) {
    case ActivationKind::kRelu: return "relu";
    case ActivationKind::kLeakyRelu: return "leakyrelu(" + FloatText(act.negative_slope) + ")";
    case ActivationKind::kTanh: return "tanh";
    case ActivationKind::kSigmoid: return "sigmoid";
    case ActivationKind::kGelu: return "gelu";
    case ActivationKind::kGeluTanh: return "gelu(approximate=tanh)";
    case ActivationKind::kIdentity: return "identity";
  }
  return "?";
}

const std::vector<std::string>& ActivationNames() {
  static const std::vector<std::string> names(std::begin(kActivationNames), std::end(kActivationNames));
  return names;
}
const std::vector<std::string>& LossNames() {
  static const std::vector<std::string> names(std::begin(kLossNames), std::end(kLossNames));
  return names;
}
const char* Name(ActivationKind kind) {
  for (size_t i = 0; i < std::size(kActivationKinds); ++i)
    if (kActivationKinds[i] == kind) return kActivationNames[i];
  return "?";
}
const char* Name(LossKind kind) {
  for (size_t i = 0; i < std::size(kLossKinds); ++i)
    if (kLossKinds[i] == kind) return kLossNames[i];
  return "?";
}
bool ParseActivation(const std::string& name, ActivationKind* kind) {
  for (size_t i = 0; i < std::size(kActivationKinds); ++i)
    if (name == kActivationNames[i]) return *kind = kActivationKinds[i], true;
  return false;
}
bool ParseLoss(const std::string& name, LossKind* kind) {
  for (size_t i = 0; i < std::size(kLossKinds); ++i)
    if (name == kLossNames[i]) return *kind = kLossKinds[i], true;
  return false;
}

bool ParseNet(const std::string& text, std::vector<Module>* modules, std::string* error) {
  modules->clear();
  // Items are separated by the commas outside parentheses.
  std::vector<std::string> items(1);
  int depth = 0;
  for (const char c : text) {
    if (c == '(' && ++depth > 1) return *error = "--net: nested parentheses in `" + text + "`", false;
    if (c == ')' && --depth < 0) return *error = "--net: unbalanced `)` in `" + text + "`", false;
    if (c == ',' && depth == 0) items.emplace_back();
    else items.back() += c;
  }
  if (depth != 0) return *error = "--net: unclosed `(` in `" + text + "`", false;
  if (items.size() > 16 * kMaxLayers) return *error = "--net: too many modules", false;
  for (size_t i = 0; i < items.size(); ++i) {
    Module m;
    std::string why;
    if (!ParseModule(Trim(items[i]), &m, &why)) {
      *error = "--net: item " + std::to_string(i + 1) + " `" + Trim(items[i]) + "` " + why;
      return false;
    }
    modules->push_back(m);
  }
  return true;
}

bool ParseShape(const std::string& text, std::vector<size_t>* shape) {
  shape->clear();
  size_t begin = 0;
  for (;;) {
    const size_t comma = std::min(text.find(',', begin), text.size());
    size_t n = 0;
    if (!ParseCount(Trim(text.substr(begin, comma - begin)), &n) || n == 0 || n > kMaxWidth) return false;
    shape->push_back(n);
    if (comma == text.size()) break;
    begin = comma + 1;
  }
  return shape->size() <= 3;
}

namespace {
// One module onto the builder: kNone, or why it cannot follow the ones before it.
LayoutError Add(const Module& m, LayoutBuilder* b) {
  switch (m.kind) {
    case Module::Kind::kLinear: return b->Linear(m.out, m.bias);
    case Module::Kind::kConv: return b->Conv(m.out, m.window(), m.groups, m.bias, m.one_d);
    case Module::Kind::kPool: return b->Pool(m.pool, m.window(), m.count_include_pad, m.one_d);
    case Module::Kind::kGlobalPool: return b->GlobalAvgPool(m.one_d);
    case Module::Kind::kBatchNorm: return b->BatchNorm(m.one_d, m.eps, m.momentum, m.bias);
    case Module::Kind::kDropout: return b->Dropout(m.p);
    case Module::Kind::kActivation: return b->Activation(m.act);
    case Module::Kind::kFlatten: return b->Flatten();
    case Module::Kind::kIdentity: return b->Identity();
  }
  return LayoutError::kNone;
}
}  // namespace

Architecture::Architecture() : Architecture(Mlp({784, 100, 100, 10}, ActivationSpec{}, LossSpec{})) {}

Architecture Architecture::Mlp(const std::vector<size_t>& sizes, const ActivationSpec& activation, const LossSpec& loss) {
  Architecture a(Empty{});
  a.input_shape = {sizes.empty() ? 0 : sizes[0]};
  for (size_t i = 1; i < sizes.size(); ++i) {
    Module linear;
    linear.out = sizes[i];
    a.modules.push_back(linear);
    if (i + 1 < sizes.size() && activation.kind != ActivationKind::kIdentity) {
      Module act;
      act.kind = Module::Kind::kActivation;
      act.act = activation;
      a.modules.push_back(act);
    }
  }
  a.sequential = false;
  a.activation = activation;
  a.loss = loss;
  return a;
}

std::vector<size_t> Architecture::Widths() const {
  std::vector<size_t> w = {inputs()};
  for (const Module& m : modules)
    if (m.kind == Module::Kind::kLinear) w.push_back(m.out);
  return w;
}

std::string Architecture::Sizes() const {
  std::string s;
  for (size_t w : Widths()) s += (s.empty() ? "" : "-") + std::to_string(w);
  return s;
}

std::string Architecture::Spec() const {
  std::string s;
  for (const Module& m : modules) s += (s.empty() ? "" : ",") + m.Spec();
  return s;
}

std::string Architecture::InputShape() const { return ShapeText(input_shape); }

std::string Architecture::Describe() const {
  std::string s;
  if (sequential) {
    s = "net " + Spec() + (input_shape.empty() ? "" : " on [" + InputShape() + "]");
  } else {
    s = Sizes() + " " + Name(activation.kind);
    if (activation.kind == ActivationKind::kLeakyRelu) s += "(" + Number(activation.negative_slope) + ")";
  }
  s += std::string(" ") + Name(loss.kind);
  if (loss.kind == LossKind::kCrossEntropy && loss.label_smoothing != 0.0f)
    s += "(label_smoothing=" + Number(loss.label_smoothing) + ")";
  if (loss.kind == LossKind::kHuber) s += "(delta=" + Number(loss.delta) + ")";
  if (loss.kind == LossKind::kBceWithLogits && loss.pos_weight != 1.0f) s += "(pos_weight=" + Number(loss.pos_weight) + ")";
  return s;
}

std::string Architecture::Title() const {
  if (sequential) return Describe();
  const Architecture notebook;
  return Describe() == Sizes() + " " + notebook.Describe().substr(notebook.Sizes().size() + 1) ? Sizes() : Describe();
}

size_t Architecture::inputs() const {
  if (input_shape.empty()) return 0;
  size_t n = 1;
  for (size_t d : input_shape) n *= d;
  return n;
}

size_t Architecture::outputs() const {
  if (!input_shape.empty()) {  // the last module's features
    LayoutBuilder b(input_shape.data(), input_shape.size(), sequential);
    for (const Module& m : modules) Add(m, &b);
    if (b.error() == LayoutError::kNone) return b.width();
  }
  for (size_t i = modules.size(); i-- > 0;)
    if (modules[i].kind == Module::Kind::kLinear) return modules[i].out;
  return 0;
}

Layout Architecture::MakeLayout(size_t max_batch, bool lean) const {
  LayoutBuilder b(input_shape.data(), input_shape.size(), sequential);
  for (const Module& m : modules) Add(m, &b);
  b.Finish(loss);
  return b.layout().Planned(max_batch, lean);
}

std::string InvalidReason(const Architecture& a) {
  if (!a.sequential) {  // --layers: its own words, as ever
    const std::vector<size_t> w = a.Widths();
    if (w.size() < 2) return "a model needs an input and an output size";
    if (w.size() > kMaxLayers + 1) return "at most " + std::to_string(kMaxLayers) + " layers";
    for (size_t s : w)
      if (s == 0 || s > kMaxWidth) return "layer sizes must be in [1, 65536]";
    if (HasClassTargets(a.loss.kind) && a.outputs() < 2)
      return std::string(Name(a.loss.kind)) + " needs at least two outputs (one output: mse, l1, huber or bce)";
    if (const char* why = InvalidReason(a.activation)) return why;
  }
  if (const char* why = InvalidReason(a.loss)) return why;
  if (a.input_shape.empty()) return "";  // a --net model is checked again once its data gives the input shape
  // Module by module, so the message names the one that cannot follow the others.
  LayoutBuilder b(a.input_shape.data(), a.input_shape.size(), a.sequential);
  if (b.error() != LayoutError::kNone) return "input shape [" + a.InputShape() + "]: " + Describe(b.error());
  std::vector<size_t> shape = a.input_shape;
  for (size_t i = 0; i < a.modules.size(); ++i) {
    const Module& m = a.modules[i];
    if (const LayoutError e = Add(m, &b); e != LayoutError::kNone)
      return "item " + std::to_string(i + 1) + " `" + m.Spec() + "` on a [" + ShapeText(shape) + "] input: " + Describe(e);
    if (m.kind == Module::Kind::kLinear || m.kind == Module::Kind::kFlatten) {
      shape = {b.width()};
    } else if (m.kind == Module::Kind::kConv || m.kind == Module::Kind::kPool || m.kind == Module::Kind::kGlobalPool) {
      const Shape& s = b.layout().layers[b.layout().num_layers - 1].out_shape;
      shape = m.one_d ? std::vector<size_t>{s.c, s.w} : std::vector<size_t>{s.c, s.h, s.w};
    }
  }
  if (LayoutError e = b.Finish(a.loss); e != LayoutError::kNone) return Describe(e);
  return "";
}

}  // namespace cli
}  // namespace descent
