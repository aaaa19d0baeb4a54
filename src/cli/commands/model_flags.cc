#include "src/cli/commands/model_flags.h"

#include <unistd.h>

#include <algorithm>
#include <iterator>

#include "src/cli/commands/common.h"
#include "src/host/dataset.h"

namespace descent {
namespace cli {

const char* const kModelHelp =
    "  --net SPEC       the model as torch modules in order, torch's class names in lower case and their\n"
    "                   arguments except the input size (it comes from the layer before, or the data):\n"
    "                   'flatten,linear(100),tanh,linear(100),relu,linear(10)'; modules: linear(N[,bias=false]),\n"
    "                   conv2d|conv1d(out_channels,kernel_size[,stride=1,padding=0|'same',dilation=1,groups=1,\n"
    "                   bias=true]), maxpool2d|maxpool1d(kernel_size[,stride,padding,dilation]),\n"
    "                   avgpool2d|avgpool1d(kernel_size[,stride,padding,count_include_pad=true]),\n"
    "                   adaptiveavgpool2d|adaptiveavgpool1d(1), batchnorm2d|batchnorm1d([eps,momentum,affine]),\n"
    "                   dropout([p]), relu, leakyrelu([slope]), tanh, sigmoid, gelu([approximate=tanh]), identity,\n"
    "                   flatten (sizes are single numbers: square kernels). Parameters and buffers are named as\n"
    "                   nn.Sequential names them (0.weight, 1.running_mean, ...). Convolutions, pooling, batch\n"
    "                   norm and dropout train on --plan fast\n"
    "  --input-shape C[,L|,H,W]  a CSV row's shape for --net (default: the row's F features; IDX images\n"
    "                   are 1,28,28), features in torch's row-major order\n"
    "  --layers N,N,...  shorthand: Linear layers of these sizes, input first (default 784,100,100,10, the\n"
    "                   notebook's), --activation between them; named as the notebook's SimpleNet\n"
    "  --activation NAME between layers: relu leaky-relu tanh sigmoid gelu gelu-tanh identity (default relu)\n"
    "  --negative-slope X  leaky-relu's slope (default 0.01)\n"
    "  --loss NAME      nll (log-softmax + NLL, default), cross-entropy, mse, l1, huber, bce (with logits)\n"
    "  --label-smoothing X  cross-entropy's (default 0)   --delta X  huber's (default 1)\n"
    "  --pos-weight X   bce's weight of positive targets (default 1)\n"
    "  --target NAME|INDEX  a CSV's target column, by name or 0-based index (default the first column);\n"
    "                   every other column is a feature. Class losses take integer targets in [0, classes),\n"
    "                   bce targets in [0, 1], the others one number per sample (one output)\n"
    "  --input-scale X  multiply every feature by X (default 1/256, the notebook's pixel scale)\n"
    "  --standardize    z-score every feature with the training data's mean and standard deviation\n"
    "                   (saved with the model; eval applies it again)\n"
    "  --plan fast|lean the workspace: fast (SIMD products, every activation kept; default) or lean (the\n"
    "                   memory floor: rows read in place, fused backward and update); the same results\n";

void AddModelFlags(std::vector<std::string>* valued, std::vector<std::string>* switches) {
  for (const char* f : {"net", "input-shape", "layers", "activation", "negative-slope", "loss", "label-smoothing",
                        "delta", "pos-weight", "target", "input-scale", "plan"})
    valued->push_back(f);
  switches->push_back("standardize");
}

ModelSpec ReadModelSpec(const Flags& flags) {
  ModelSpec spec;
  Architecture& a = spec.architecture;
  for (const char* f : {"net", "input-shape", "layers", "activation", "negative-slope", "loss", "label-smoothing",
                        "delta", "pos-weight"})
    spec.given = spec.given || flags.Has(f);
  std::vector<size_t> sizes(std::begin(kNotebookSizes), std::end(kNotebookSizes));
  if (flags.Has("layers")) {
    sizes.clear();
    const std::string text = flags.Text("layers", "");
    size_t begin = 0;
    for (;;) {
      const size_t comma = std::min(text.find(',', begin), text.size());
      uint64_t n = 0;
      if (!ParseUnsigned(text.substr(begin, comma - begin), &n) || n == 0 || n > 65536)
        flags.Usage("--layers expects sizes in [1, 65536] separated by commas, input first (e.g. 64,32,10), got '" +
                    text + "'");
      sizes.push_back(n);
      if (comma == text.size()) break;
      begin = comma + 1;
    }
  }
  ActivationSpec activation;
  const std::string activation_name = flags.Text("activation", "relu");
  if (!ParseActivation(activation_name, &activation.kind))
    flags.Usage("unknown activation '" + activation_name + "' (one of " + Join(ActivationNames(), ", ") + ")");
  LossSpec loss;
  const std::string loss_name = flags.Text("loss", "nll");
  if (!ParseLoss(loss_name, &loss.kind))
    flags.Usage("unknown loss '" + loss_name + "' (one of " + Join(LossNames(), ", ") + ")");
  auto parameter = [&](const char* flag, bool applies, const char* owner, float* value) {
    if (!flags.Has(flag)) return;
    if (!applies) flags.Usage(std::string("--") + flag + " applies to " + owner + " only");
    *value = static_cast<float>(flags.Number(flag, 0.0));
  };
  parameter("negative-slope", activation.kind == ActivationKind::kLeakyRelu, "--activation leaky-relu",
            &activation.negative_slope);
  parameter("label-smoothing", loss.kind == LossKind::kCrossEntropy, "--loss cross-entropy", &loss.label_smoothing);
  parameter("delta", loss.kind == LossKind::kHuber, "--loss huber", &loss.delta);
  parameter("pos-weight", loss.kind == LossKind::kBceWithLogits, "--loss bce", &loss.pos_weight);
  a = Architecture::Mlp(sizes, activation, loss);
  if (flags.Has("net")) {
    for (const char* f : {"layers", "activation", "negative-slope"})
      if (flags.Has(f))
        flags.Usage(std::string("--net and --") + f + " exclude each other (--net names every layer and activation)");
    std::string why;
    if (!ParseNet(flags.Text("net", ""), &a.modules, &why)) flags.Usage(why);
    a.sequential = true;
    a.input_shape.clear();  // the data's, or --input-shape
    if (flags.Has("input-shape") && !ParseShape(flags.Text("input-shape", ""), &spec.input_shape))
      flags.Usage("--input-shape expects C, C,L or C,H,W (each in [1, 65536]), got '" + flags.Text("input-shape", "") +
                  "'");
  } else if (flags.Has("input-shape")) {
    flags.Usage("--input-shape applies to --net only (--layers names the input size first)");
  }
  if (const std::string why = InvalidReason(a); !why.empty()) flags.Usage("model " + a.Describe() + ": " + why);
  spec.target = flags.Text("target", "");
  spec.standardize = flags.Has("standardize") && flags.Switch("standardize");
  if (spec.standardize && flags.Has("input-scale")) flags.Usage("--standardize and --input-scale exclude each other");
  spec.input_scale = flags.Number("input-scale", 1.0 / 256.0);
  spec.input_scale_given = flags.Has("input-scale");
  if (!(spec.input_scale > 0.0 && spec.input_scale < 1e30) || !(static_cast<float>(spec.input_scale) >= 1.17549435e-38f))
    flags.Usage("--input-scale must be positive and finite as a float (at least 1.2e-38), got " + flags.Text("input-scale", ""));
  const std::string plan = flags.Text("plan", "fast");
  if (plan != "fast" && plan != "lean") flags.Usage("--plan must be fast or lean, got '" + plan + "'");
  spec.lean = plan == "lean";
  return spec;
}

void ResolveInput(const Flags& flags, const host::Dataset& data, ModelSpec* spec) {
  Architecture& a = spec->architecture;
  if (!a.input_shape.empty()) return;
  if (!spec->input_shape.empty()) {
    a.input_shape = spec->input_shape;
    if (a.inputs() != data.features)
      OrDie(host::Fail(data.source, "has " + std::to_string(data.features) + " features per sample, --input-shape " +
                                        a.InputShape() + " has " + std::to_string(a.inputs())));
  } else {
    a.input_shape = data.shape.empty() ? std::vector<size_t>{data.features} : data.shape;
  }
  if (const std::string why = InvalidReason(a); !why.empty()) flags.Usage("model " + a.Describe() + ": " + why);
}

InputTransform MakeTransform(const ModelSpec& spec, const host::Dataset& train) {
  InputTransform t = spec.standardize ? Standardization(train) : UniformScale(spec.architecture.inputs(), InputScale(spec, train));
  t.target = train.images ? "" : train.target_name;  // images: their label (a file without a target key)
  return t;
}

double InputScale(const ModelSpec& spec, const host::Dataset& data) {
  return spec.input_scale_given ? spec.input_scale : data.images ? 1.0 / 256.0 : 1.0;
}

void CheckGivenFlags(const Flags& flags, const ModelSpec& spec, const Architecture& file, const std::string& path) {
  const Architecture& a = spec.architecture;
  auto contradicts = [&](const char* flag, bool same) {
    if (flags.Has(flag) && !same)
      flags.Usage(std::string("--") + flag + " " + flags.Text(flag, "") + " contradicts " + path + "'s model (" +
                  file.Describe() + ")");
  };
  contradicts("net", file.sequential && a.Spec() == file.Spec());
  contradicts("input-shape", file.sequential && spec.input_shape == file.input_shape);
  contradicts("layers", !file.sequential && a.Widths() == file.Widths());
  contradicts("activation", !file.sequential && a.activation.kind == file.activation.kind);
  contradicts("negative-slope", !file.sequential && a.activation.negative_slope == file.activation.negative_slope);
  contradicts("loss", a.loss.kind == file.loss.kind);
  contradicts("label-smoothing", a.loss.label_smoothing == file.loss.label_smoothing);
  contradicts("delta", a.loss.delta == file.loss.delta);
  contradicts("pos-weight", a.loss.pos_weight == file.loss.pos_weight);
}

host::Dataset LoadData(const std::string& path, const char* prefix, const Architecture& architecture,
                       const std::string& target) {
  host::Dataset data;
  OrDie(host::LoadDataset(path, prefix, target, &data));
  OrDie(PrepareData(architecture, &data));
  return data;
}

host::Dataset LoadTestData(const std::string& path, const ModelSpec& spec, const host::Dataset& train) {
  return LoadData(path, "t10k", spec.architecture, train.target_name.empty() ? spec.target : train.target_name);
}

host::Dataset LoadTrainData(const Flags& flags, const std::string& path, ModelSpec* spec) {
  host::Dataset data;
  if (flags.Has("target") && host::IsDirectory(path))
    flags.Usage("--target names a CSV column; IDX data (" + path + ") has its labels in their own file");
  OrDie(host::LoadDataset(path, "train", spec->target, &data));
  ResolveInput(flags, data, spec);
  OrDie(PrepareData(spec->architecture, &data));
  return data;
}

// What LeanPlan cannot run is refused, not run another way; a workspace larger than most of this
// machine's memory is refused before it is touched (the kernel would end the process instead).
void CheckPlan(const Flags& flags, const ModelSpec& spec, size_t batch) {
  const Layout l = spec.architecture.MakeLayout();
  if (spec.lean && !l.all_linear() && !l.streamable())
    flags.Usage("--plan lean trains Linear layers, convolutions and pooling: batch norm and dropout (and pooling "
                "as the first layer) need --plan fast");
  const double bytes = static_cast<double>(spec.architecture.MakeLayout(batch, spec.lean).workspace_bytes) +
                       4.0 * static_cast<double>(l.num_params) * (spec.lean ? 1 : 2);
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  const double memory = pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 0.0;
  if (memory > 0 && bytes > 0.75 * memory)
    flags.Usage("model " + spec.architecture.Describe() + " needs " + std::to_string(static_cast<long long>(bytes / 1e6)) +
                " MB of workspace at batch " + std::to_string(batch) + ", more than this machine's " +
                std::to_string(static_cast<long long>(memory / 1e6)) + " MB can give: lower --batch" +
                (spec.lean ? "" : " or use --plan lean"));
}

void SetUpModel(const Flags& flags, const ModelSpec& spec, const host::Dataset& train, size_t batch, Session* session) {
  CheckPlan(flags, spec, batch);
  // What is trained can be saved and read back (eval, --resume): refused before any work.
  const size_t params = spec.architecture.MakeLayout().num_params;
  if (params > kMaxFileParams)
    flags.Usage("model " + spec.architecture.Describe() + " has " + std::to_string(params) +
                " parameters; model files hold at most " + std::to_string(kMaxFileParams));
  InputTransform transform = MakeTransform(spec, train);
  if (!transform.IsPixelScale() && spec.architecture.inputs() > kMaxSavedInputs)
    flags.Usage("an input transform (--standardize, --input-scale, or CSV data) over " +
                std::to_string(spec.architecture.inputs()) + " features cannot be saved with the model (at most " +
                std::to_string(kMaxSavedInputs) + ")");
  session->Configure(spec.architecture, batch, spec.lean);
  session->net().transform() = std::move(transform);
}

void PrepareSavedModel(const Flags& flags, const std::string& path, const std::string& data_path, ModelSpec* spec,
                       Session* session, host::Dataset* data, bool targets_required) {
  if (spec->standardize) flags.Usage("--standardize is saved with the model, and it is applied from there");
  ModelFileInfo info;
  OrDie(ReadModelFileInfo(path, &info));
  InputTransform transform;
  if (info.described) {
    CheckGivenFlags(flags, *spec, info.architecture, path);
    if (spec->input_scale_given && !(info.transform.shift.empty() &&
                                     info.transform.scale == UniformScale(info.architecture.inputs(), spec->input_scale).scale))
      flags.Usage("--input-scale " + flags.Text("input-scale", "") + " contradicts " + path + "'s saved transform (" +
                  info.transform.Describe() + ")");
    spec->architecture = info.architecture;
    transform = info.transform;
  } else if (!flags.Has("net") && !flags.Has("layers")) {
    if (info.sequential_names)
      flags.Usage(path + " holds nn.Sequential tensors without descent's description: give its modules with --net");
    if (!info.widths.empty())  // SimpleNet's names: the widths are the tensors'
      spec->architecture = Architecture::Mlp(info.widths, spec->architecture.activation, spec->architecture.loss);
  }
  std::string target = flags.Has("target") ? spec->target : transform.target;
  // Data to predict on may lack the target; an image model's is Kaggle's `label`.
  if (!targets_required && target.empty()) target = "label";
  if (flags.Has("target") && host::IsDirectory(data_path))
    flags.Usage("--target names a CSV column; IDX data (" + data_path + ") has its labels in their own file");
  OrDie(host::LoadDataset(data_path, "t10k", target, data, !targets_required));
  if (!info.described) {
    ResolveInput(flags, *data, spec);  // a --net model without its shape takes the data's
    transform = UniformScale(spec->architecture.inputs(), InputScale(*spec, *data));
  }
  CheckPlan(flags, *spec, kEvalRows);
  session->Configure(spec->architecture, kEvalRows, spec->lean);
  session->net().transform() = transform;
  OrDie(session->LoadModel(path, /*adopt=*/false));
}

bool HasAccuracy(const Architecture& a) {
  return HasClassTargets(a.loss.kind) || a.loss.kind == LossKind::kBceWithLogits;
}

std::string LossLabel(const Architecture& a) {
  switch (a.loss.kind) {
    case LossKind::kNll: return "NLL";
    case LossKind::kCrossEntropy: return "cross-entropy";
    case LossKind::kMse: return "MSE";
    case LossKind::kL1: return "L1";
    case LossKind::kHuber: return "Huber";
    case LossKind::kBceWithLogits: return "BCE";
  }
  return "loss";
}

}  // namespace cli
}  // namespace descent
