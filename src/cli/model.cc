#include "src/cli/model.h"

#include <cmath>

namespace descent {
namespace cli {
namespace {
std::string LayerName(size_t layer, const char* what) { return "linears." + std::to_string(layer) + "." + what; }
}  // namespace

std::string Architecture() {
  std::string s;
  for (size_t i = 0; i <= Net::kNumLayers; ++i) s += (i ? "-" : "") + std::to_string(Net::sizes()[i]);
  return s;
}

std::vector<host::TensorRef> WeightTensors(const Net& net) {
  std::vector<host::TensorRef> tensors;
  for (size_t l = 0; l < Net::kNumLayers; ++l) {
    const size_t in = Net::sizes()[l], out = Net::sizes()[l + 1];
    tensors.push_back({LayerName(l, "weight"), {out, in}, net.weight(l)});
    tensors.push_back({LayerName(l, "bias"), {out}, net.bias(l)});
  }
  return tensors;
}

host::Error ReadWeights(const host::Safetensors& file, Net* net) {
  for (const host::TensorRef& t : WeightTensors(*net))
    if (host::Error e = file.ReadF32(t.name, t.shape, const_cast<float*>(t.data))) return e;
  return host::Error{};
}

host::Error SaveModel(const std::string& path, const Net& net) {
  return host::WriteSafetensors(path, WeightTensors(net), {{"format", "pt"}, {"architecture", Architecture()}});
}

host::Error LoadModel(const std::string& path, Net* net, Net* staging) {
  host::Safetensors file;
  if (host::Error e = host::ReadSafetensors(path, &file)) return e;
  if (host::Error e = ReadWeights(file, staging)) return e;
  size_t weights = 0;  // a checkpoint also holds "optimizer.*" tensors
  for (const auto& entry : file.entries) weights += entry.name.rfind("optimizer.", 0) != 0;
  if (weights != 2 * Net::kNumLayers)
    return host::Fail(path, "has " + std::to_string(weights) + " weight tensors, a " + Architecture() + " model has " +
                                std::to_string(2 * Net::kNumLayers));
  for (size_t i = 0; i < Net::kNumParams; ++i)
    if (!std::isfinite(staging->params()[i]))
      return host::Fail(path, "holds a non-finite weight (parameter " + std::to_string(i) + ")");
  *net = *staging;
  return host::Error{};
}

uint64_t ParamsHash(const Net& net) { return host::Fnv1a64(net.params(), sizeof(float) * Net::kNumParams); }

}  // namespace cli
}  // namespace descent
