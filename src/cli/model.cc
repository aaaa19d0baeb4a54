#include "src/cli/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace descent {
namespace cli {
namespace {

std::string Number(double v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}
std::string Floats(const std::vector<float>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + Number(v[i]);
  return s;
}
bool ParseFloats(const std::string& text, size_t n, std::vector<float>* out) {
  out->clear();
  const char* p = text.c_str();
  for (size_t i = 0; i < n; ++i) {
    char* end = nullptr;
    const float v = strtof(p, &end);
    if (end == p || !std::isfinite(v) || (*end != ',' && *end != '\0') || (*end == '\0' && i + 1 < n)) return false;
    out->push_back(v);
    p = *end ? end + 1 : end;
  }
  return *p == '\0';
}
}  // namespace

bool InputTransform::IsPixelScale() const {
  if (!shift.empty()) return false;
  for (float s : scale)
    if (s != 1.0f / 256.0f) return false;
  return true;
}

std::string InputTransform::Describe() const {
  if (!shift.empty()) return "standardized";
  if (IsPixelScale()) return "scale 1/256";
  return "scale " + Number(scale.empty() ? 1.0 : scale[0]);
}

InputTransform UniformScale(size_t inputs, double scale) {
  InputTransform t;
  t.scale.assign(inputs, static_cast<float>(scale));
  return t;
}

InputTransform Standardization(const host::Dataset& data) {
  InputTransform t;
  const size_t n = data.features;
  std::vector<double> sum(n, 0.0), squares(n, 0.0);
  for (size_t i = 0; i < data.count; ++i)
    for (size_t f = 0; f < n; ++f) sum[f] += data.Feature(i, f);
  for (size_t f = 0; f < n; ++f) sum[f] /= static_cast<double>(data.count);
  for (size_t i = 0; i < data.count; ++i)
    for (size_t f = 0; f < n; ++f) {
      const double d = data.Feature(i, f) - sum[f];
      squares[f] += d * d;
    }
  for (size_t f = 0; f < n; ++f) {
    const double sd = std::sqrt(squares[f] / static_cast<double>(data.count));
    t.shift.push_back(static_cast<float>(sum[f]));
    // A deviation so small that 1/sd is no finite float (or none at all): a constant feature.
    const float scale = static_cast<float>(1.0 / sd);
    t.scale.push_back(sd > 0.0 && std::isfinite(scale) ? scale : 1.0f);
  }
  return t;
}

void Net::Configure(const Architecture& architecture) {
  architecture_ = architecture;
  layout_ = architecture.MakeLayout(0);
  params_.assign(layout_.num_params, 0.0f);
  running_.assign(layout_.num_running, 0.0f);
  for (size_t i = 0; i < layout_.num_layers; ++i)  // running_var starts at 1 (torch's reset_running_stats)
    if (layout_.layers[i].kind == LayerKind::kBatchNorm)
      for (size_t c = 0; c < layout_.layers[i].in_shape.c; ++c) running_[layout_.layers[i].running + layout_.layers[i].in_shape.c + c] = 1.0f;
  tracked_.assign(layout_.num_tracked, 0);
  transform_ = UniformScale(architecture.inputs(), 1.0 / 256.0);
}

void TrainWorkspace::Configure(const Architecture& architecture, size_t max_batch, bool lean) {
  layout_ = architecture.MakeLayout(max_batch, lean);
  grads_.assign(lean ? 0 : layout_.num_trainable, 0.0f);
  scratch_.assign(layout_.workspace_bytes / sizeof(float), 0.0f);
  row_loss_.assign(max_batch, 0.0f);
  const bool classes = HasClassTargets(architecture.loss.kind);
  labels8_.assign(classes && layout_.outputs() <= 256 ? max_batch : 0, 0);
  labels16_.assign(classes && layout_.outputs() > 256 ? max_batch : 0, 0);
}

internal::WorkRef TrainWorkspace::Ref() {
  return {&layout_, grads_.empty() ? nullptr : grads_.data(), reinterpret_cast<unsigned char*>(scratch_.data()),
          row_loss_.data(),
          labels8_.empty() ? nullptr : labels8_.data(), labels16_.empty() ? nullptr : labels16_.data(), rows_,
          layout_.has_dropout() ? noise : nullptr};
}

Status TrainWorkspace::Load(const host::Dataset& data, const InputTransform& transform, const uint32_t* order,
                            size_t rows, const ParallelFor& pf) {
  // Bytes at the notebook's scale take the vectorized 1/256; anything else the transform itself.
  const bool pixel_scale = !data.pixels.empty() && transform.IsPixelScale();
  const uint8_t* bytes = data.pixels.empty() ? nullptr : data.pixels.data();
  const float* floats = data.values.empty() ? nullptr : data.values.data();
  const float* shift = transform.shift.empty() ? nullptr : transform.shift.data();
  const float* scale = pixel_scale ? nullptr : transform.scale.data();
  if (layout_.lean) {  // read where they are during the step (the data, order and transform outlive it)
    if (rows == 0 || rows > layout_.max_batch) return Status::kCapacityExceeded;
    rows_ = {bytes, floats, order, shift, scale};
  } else if (Status s = internal::LoadFeatures(layout_, Ref().F(layout_.act[0]), Padded(layout_.inputs()), 1,
                                               layout_.max_batch, bytes, floats, order, rows, shift, scale, pf);
             s != Status::kOk) {
    return s;
  }
  for (size_t r = 0; r < rows && data.has_targets; ++r) {  // data to predict on has none
    const size_t i = order ? order[r] : r;
    if (!labels8_.empty()) labels8_[r] = static_cast<uint8_t>(data.Target(i));
    else if (!labels16_.empty()) labels16_[r] = static_cast<uint16_t>(data.Target(i));
    else Ref().F(layout_.targets)[r] = data.Target(i);  // element losses: one output
  }
  return Status::kOk;
}

host::Error PrepareData(const Architecture& a, host::Dataset* data) {
  const std::string& file = data->source;
  if (data->features != a.inputs())
    return host::Fail(file, "has " + std::to_string(data->features) + " features per sample, the model takes " +
                                std::to_string(a.inputs()) +
                                (a.sequential ? " (input shape [" + a.InputShape() + "])"
                                              : " (--layers " + a.Sizes() + ")"));
  const std::string& labels = data->labels_source;
  const size_t outputs = a.outputs();  // builds the layout: once, not per sample
  if (HasClassTargets(a.loss.kind)) {
    for (size_t i = 0; i < data->count; ++i) {
      const float t = data->Target(i);
      if (!(t >= 0.0f && t < static_cast<float>(outputs)) || t != static_cast<float>(static_cast<uint32_t>(t)))
        return host::Fail(labels, data->Where(i, data->features) + ": target " + Number(t) +
                                      " is not a class of the model (an integer in [0, " + std::to_string(outputs) +
                                      "))");
    }
  } else {
    if (outputs != 1)
      return host::Fail(labels, "has one target per sample, the model has " + std::to_string(outputs) +
                                    " outputs (--loss " + Name(a.loss.kind) + " reads one target: end " +
                                    (a.sequential ? "--net with linear(1))" : "--layers with 1)"));
    if (a.loss.kind == LossKind::kBceWithLogits)
      for (size_t i = 0; i < data->count; ++i)
        if (!(data->Target(i) >= 0.0f && data->Target(i) <= 1.0f))
          return host::Fail(labels, data->Where(i, data->features) + ": target " + Number(data->Target(i)) +
                                        " is outside [0, 1] (--loss bce takes probabilities)");
  }
  return host::Error{};
}

host::SafetensorsLimits ModelFileLimits(size_t num_params) {
  return {8 + kMaxModelHeader + 4 * num_params * (1 + MaxSlots()), kMaxModelHeader, 4 * kMaxLayers + 128};
}

std::vector<host::TensorRef> WeightTensors(const Net& net) {
  return host::WeightTensors(net.layout(), net.params(), net.running(), net.tracked());
}

host::Metadata ModelMetadata(const Net& net) {
  const Architecture& a = net.architecture();
  host::Metadata m = {{"format", "pt"}, {"architecture", a.Sizes()}};
  if (a.sequential) {  // the layer list as --net takes it, on its input shape
    m.push_back({"net", a.Spec()});
    m.push_back({"input_shape", a.InputShape()});
  } else {
    m.push_back({"activation", Name(a.activation.kind)});
  }
  m.push_back({"loss", Name(a.loss.kind)});
  if (!a.sequential && a.activation.kind == ActivationKind::kLeakyRelu)
    m.push_back({"negative_slope", Number(a.activation.negative_slope)});
  if (a.loss.kind == LossKind::kCrossEntropy) m.push_back({"label_smoothing", Number(a.loss.label_smoothing)});
  if (a.loss.kind == LossKind::kHuber) m.push_back({"delta", Number(a.loss.delta)});
  if (a.loss.kind == LossKind::kBceWithLogits) m.push_back({"pos_weight", Number(a.loss.pos_weight)});
  const InputTransform& t = net.transform();
  if (!t.target.empty()) m.push_back({"target", t.target});
  if (!t.IsPixelScale()) {
    m.push_back({"input_scale", Floats(t.scale)});
    if (!t.shift.empty()) m.push_back({"input_shift", Floats(t.shift)});
  }
  return m;
}

host::Error ReadModelMetadata(const host::Safetensors& file, Architecture* a, InputTransform* transform) {
  *a = Architecture{};
  const std::string* sizes = file.Meta("architecture");
  std::vector<size_t> widths(std::begin(kNotebookSizes), std::end(kNotebookSizes));
  if (sizes) {
    widths.clear();
    size_t value = 0, digits = 0;
    for (const char c : *sizes + "-") {
      if (c >= '0' && c <= '9' && digits < 6) value = value * 10 + static_cast<size_t>(c - '0'), ++digits;
      else if (c == '-' && digits) widths.push_back(value), value = 0, digits = 0;
      else return host::Fail(file.path, "has a malformed architecture `" + *sizes + "`");
    }
  }
  if (const std::string* net = file.Meta("net")) {  // a layer list (--net)
    std::string why;
    const std::string* shape = file.Meta("input_shape");
    if (!ParseNet(*net, &a->modules, &why)) return host::Fail(file.path, "has a malformed net: " + why);
    if (!shape || !ParseShape(*shape, &a->input_shape))
      return host::Fail(file.path, "has a net without a valid input_shape (C, C,L or C,H,W)");
    a->sequential = true;
  }
  auto number = [&](const char* key, float* out) {
    const std::string* v = file.Meta(key);
    std::vector<float> parsed;
    if (v && !ParseFloats(*v, 1, &parsed)) return false;
    if (v) *out = parsed[0];
    return true;
  };
  const std::string* activation = file.Meta("activation");
  const std::string* loss = file.Meta("loss");
  if ((activation && !ParseActivation(*activation, &a->activation.kind)) || (loss && !ParseLoss(*loss, &a->loss.kind)) ||
      !number("negative_slope", &a->activation.negative_slope) || !number("label_smoothing", &a->loss.label_smoothing) ||
      !number("delta", &a->loss.delta) || !number("pos_weight", &a->loss.pos_weight))
    return host::Fail(file.path, "has an activation or loss this program does not know");
  if (!a->sequential) *a = Architecture::Mlp(widths, a->activation, a->loss);
  if (const std::string why = InvalidReason(*a); !why.empty())
    return host::Fail(file.path, "describes an unusable model: " + why);
  // Every tensor of the model it describes is there with its shape, before anything is sized
  // for it (a small file's metadata may describe a huge model).
  if (sizes || file.Meta("net")) {
    const Layout l = a->MakeLayout();
    for (const host::TensorRef& t : host::WeightTensors(l, nullptr))
      if (host::Error e = file.Check(t)) return e;
  }
  *transform = UniformScale(a->inputs(), 1.0 / 256.0);
  if (const std::string* target = file.Meta("target")) transform->target = *target;
  if (const std::string* scale = file.Meta("input_scale")) {
    if (!ParseFloats(*scale, a->inputs(), &transform->scale))
      return host::Fail(file.path, "has a malformed input_scale (" + std::to_string(a->inputs()) + " numbers expected)");
    if (const std::string* shift = file.Meta("input_shift"))
      if (!ParseFloats(*shift, a->inputs(), &transform->shift))
        return host::Fail(file.path, "has a malformed input_shift (" + std::to_string(a->inputs()) + " numbers expected)");
  }
  return host::Error{};
}

host::Error ReadWeights(const host::Safetensors& file, Net* net) {
  for (const host::TensorRef& t : WeightTensors(*net))
    if (host::Error e = file.Read(t)) return e;
  return host::Error{};
}

host::Error SaveModel(const std::string& path, const Net& net) {
  return host::WriteFileAtomic(path, host::EncodeWithChecksums(WeightTensors(net), ModelMetadata(net)));
}

host::Error LoadModel(const std::string& path, bool adopt, Net* net) {
  host::Safetensors file;
  const size_t limit = adopt ? kMaxFileParams : net->num_params();
  if (host::Error e = host::ReadSafetensors(path, &file, ModelFileLimits(limit))) return e;
  if (host::Error e = host::VerifyChecksums(file, false)) return e;
  Architecture a;
  InputTransform transform;
  if (host::Error e = ReadModelMetadata(file, &a, &transform)) return e;
  const Architecture& ours = net->architecture();
  const bool described = file.Meta("architecture") || file.Meta("net");
  // A file without descent's description (torch's state_dict) has this run's layers, as far as its
  // tensors' names and shapes agree (ReadWeights checks each). Weights do not depend on the loss.
  if (!adopt && described && (a.sequential != ours.sequential || a.Spec() != ours.Spec() || a.InputShape() != ours.InputShape()))
    return host::Fail(path, "holds a " + a.Describe() + " model, this run's is " + ours.Describe());
  if (!adopt) a = ours;
  Net staging;
  staging.Configure(a);
  staging.transform() = adopt ? transform : net->transform();
  if (host::Error e = ReadWeights(file, &staging)) return e;
  size_t weights = 0;  // a checkpoint also holds "optimizer.*" tensors
  for (const auto& entry : file.entries) weights += entry.name.rfind("optimizer.", 0) != 0;
  const size_t expected = WeightTensors(staging).size();
  if (weights != expected)
    return host::Fail(path, "has " + std::to_string(weights) + " weight tensors, a " + a.Sizes() + " model has " +
                                std::to_string(expected));
  for (size_t i = 0; i < staging.num_params(); ++i)
    if (!std::isfinite(staging.params()[i]))
      return host::Fail(path, "holds a non-finite weight (parameter " + std::to_string(i) + ")");
  *net = std::move(staging);
  return host::Error{};
}

host::Error ReadModelFileInfo(const std::string& path, ModelFileInfo* info) {
  *info = ModelFileInfo{};
  host::Safetensors file;
  if (host::Error e = host::ReadSafetensors(path, &file, ModelFileLimits(kMaxFileParams))) return e;
  if (host::Error e = host::VerifyChecksums(file, false)) return e;
  info->described = file.Meta("architecture") || file.Meta("net");
  if (info->described) return ReadModelMetadata(file, &info->architecture, &info->transform);
  // SimpleNet's chain: linears.0.weight [h1, in], linears.1.weight [h2, h1], ...
  for (size_t i = 0;; ++i) {
    const host::Safetensors::Entry* w = file.Find("linears." + std::to_string(i) + ".weight");
    if (!w || w->shape.size() != 2) break;
    if (i == 0) info->widths.push_back(w->shape[1]);
    if (w->shape[1] != info->widths.back())
      return host::Fail(path, "tensor \"linears." + std::to_string(i) + ".weight\" has shape " +
                                  host::ShapeString(w->shape) + ", but the layer before has " +
                                  std::to_string(info->widths.back()) + " outputs");
    info->widths.push_back(w->shape[0]);
  }
  info->sequential_names = info->widths.empty() && (file.Find("0.weight") || file.Find("1.weight"));
  return host::Error{};
}

// The parameters' bytes, and batch norm's running statistics and counts after them where there are any.
uint64_t ParamsHash(const Net& net) {
  std::string bytes(reinterpret_cast<const char*>(net.params()), sizeof(float) * net.num_params());
  if (net.layout().num_tracked) {
    bytes.append(reinterpret_cast<const char*>(net.running()), sizeof(float) * net.layout().num_running);
    bytes.append(reinterpret_cast<const char*>(net.tracked()), sizeof(int64_t) * net.layout().num_tracked);
  }
  return host::Fnv1a64(bytes.data(), bytes.size());
}

}  // namespace cli
}  // namespace descent
