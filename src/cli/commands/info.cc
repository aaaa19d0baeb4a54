// descent info: the kernel backend and instruction sets; with a model (--net or --layers), each
// layer's output shape and parameters and the bytes each plan takes.
#include <stdio.h>

#include <algorithm>

#include "descent/backend.h"
#include "src/cli/commands/commands.h"
#include "src/cli/commands/common.h"
#include "src/host/safetensors.h"

namespace descent {
namespace cli {
namespace {

std::string Grouped(size_t n) {
  std::string s = std::to_string(n);
  for (size_t at = s.size(); at > 3; at -= 3) s.insert(at - 3, ",");
  return s;
}

// The bytes of a training workspace of the plan (as descent::Workspace lays it out: the plan's
// floats, FastPlan's gradient, the per-row losses and labels), and of an inference workspace.
size_t TrainingBytes(const Architecture& a, size_t batch, bool lean) {
  const Layout l = a.MakeLayout(batch, lean);
  const size_t labels = HasClassTargets(a.loss.kind) ? batch * (a.outputs() <= 256 ? 1 : 2) : 0;
  return l.workspace_bytes + 4 * ((lean ? 0 : l.num_trainable) + batch) + labels;
}

void PrintModel(const ModelSpec& spec, size_t batch) {
  const Architecture& a = spec.architecture;
  const Layout l = a.MakeLayout();
  const std::vector<host::TensorRef> tensors = host::WeightTensors(l, nullptr);  // names and shapes
  printf("model: %s\n", a.Describe().c_str());
  printf("%-4s %-26s %-14s %s\n", "#", "module", "output", "parameters");
  std::vector<size_t> shape = a.input_shape;
  printf("%-4s %-26s %-14s\n", "", "input", host::ShapeString(shape).c_str());
  size_t layer = 0;  // the layout's entry of each module that is one (not activations, flatten, identity)
  for (size_t i = 0; i < a.modules.size(); ++i) {
    const Module& m = a.modules[i];
    std::string params = "0";
    if (m.kind == Module::Kind::kFlatten) {
      size_t features = 1;
      for (size_t d : shape) features *= d;
      shape = {features};
    } else if (m.kind != Module::Kind::kActivation && m.kind != Module::Kind::kIdentity) {
      const Layer& d = l.layers[layer];
      const Shape& s = d.out_shape;
      if (m.kind == Module::Kind::kLinear) shape = {s.c};
      else if (m.kind != Module::Kind::kBatchNorm && m.kind != Module::Kind::kDropout)  // batch norm, dropout: as before
        shape = m.one_d ? std::vector<size_t>{s.c, s.w} : std::vector<size_t>{s.c, s.h, s.w};
      size_t count = 0;
      std::string names;
      const std::string prefix = l.sequential_names ? std::to_string(d.module) + "." : "linears." + std::to_string(layer) + ".";
      for (const host::TensorRef& t : tensors) {
        if (t.name.compare(0, prefix.size(), prefix) != 0) continue;
        size_t n = 1;
        for (size_t k : t.shape) n *= k;
        if (t.name.find("running_") == std::string::npos && !t.is_i64) count += n;
        names += " " + t.name + " " + host::ShapeString(t.shape);
      }
      params = Grouped(count) + " " + names;
      ++layer;
    }
    printf("%-4zu %-26s %-14s %s\n", i, m.Spec().c_str(), host::ShapeString(shape).c_str(), params.c_str());
  }
  printf("parameters: %s (%s bytes as float32)\n", Grouped(l.num_params).c_str(), Grouped(4 * l.num_params).c_str());
  if (l.num_running)
    printf("buffers: %s running statistics (%s bytes), %zu batch counts\n", Grouped(l.num_running).c_str(),
           Grouped(4 * l.num_running).c_str(), l.num_tracked);
  if (l.all_linear())
    printf("workspace at batch %zu: fast %s bytes, lean %s bytes, inference %s bytes\n", batch,
           Grouped(TrainingBytes(a, batch, false)).c_str(), Grouped(TrainingBytes(a, batch, true)).c_str(),
           Grouped(4 * InferencePlan::Of(l, batch).floats).c_str());
  else  // LeanPlan and the inference workspace run Linear layers only, for now
    printf("workspace at batch %zu: fast %s bytes\n", batch, Grouped(TrainingBytes(a, batch, false)).c_str());
}

}  // namespace

int InfoCommand(Session&, int argc, char** argv) {
  std::vector<std::string> valued = {"batch"}, switches;
  AddModelFlags(&valued, &switches);
  const Flags flags("info", argc, argv, valued, switches);
  if (flags.help()) {
    printf("usage: descent info [--net SPEC [--input-shape C[,L|,H,W]] | --layers N,N,...] [--batch N]\n\n"
           "Prints the kernel backend, the instruction sets it was compiled for, those this\n"
           "CPU runs, and the one in use (pin it with the environment variable DESCENT_ISA).\n"
           "With a model: each module's output shape and parameters (torch's state_dict names) and the\n"
           "bytes a training workspace takes on each plan at --batch N (default 256), and an inference one.\n"
           "A --net model's input is --input-shape, else an IDX image's 1,28,28.\n");
    return 0;
  }
  const char* names[32];
  const size_t compiled = std::min<size_t>(CompiledIsas(names, 32), 32);
  printf("backend: %s\ncompiled: %s\n", BackendName(), Join(std::vector<std::string>(names, names + compiled), " ").c_str());
  const size_t supported = std::min<size_t>(SupportedIsas(names, 32), 32);
  printf("supported: %s\nactive: %s\n", Join(std::vector<std::string>(names, names + supported), " ").c_str(), ActiveIsa());
  ModelSpec spec = ReadModelSpec(flags);
  for (const char* f : {"target", "input-scale", "standardize", "plan"})
    if (flags.Has(f)) flags.Usage(std::string("--") + f + " has no meaning for info");
  const size_t batch = flags.Count("batch", 256, 1, kMaxBatch);
  if (!spec.given) {
    if (flags.Has("batch")) flags.Usage("--batch applies to a model (--net or --layers)");
    return 0;
  }
  if (spec.architecture.input_shape.empty()) {  // --net: --input-shape, else the IDX images' shape
    host::Dataset shape_only;
    shape_only.shape = spec.input_shape.empty() ? std::vector<size_t>{1, 28, 28} : spec.input_shape;
    shape_only.features = 1;
    for (size_t d : shape_only.shape) shape_only.features *= d;
    spec.input_shape.clear();
    ResolveInput(flags, shape_only, &spec);
  }
  PrintModel(spec, batch);
  return 0;
}

}  // namespace cli
}  // namespace descent
