// descent/io.h: model weights as safetensors, over the host library's reader and writer.
#include "descent/io.h"

#include <cmath>

#include "src/host/dataset.h"
#include "src/host/safetensors.h"

namespace descent {
namespace io {

Error WriteWeights(const std::string& path, const Layout& layout, const float* params) {
  const host::Error e = host::WriteFileAtomic(
      path, host::EncodeWithChecksums(host::WeightTensors(layout, params), {{"format", "pt"}}));
  return {e.message};
}

Error ReadWeights(const std::string& path, const Layout& layout, float* params) {
  host::Safetensors file;
  const size_t bytes = 4 * layout.num_params;
  if (host::Error e = host::ReadSafetensors(path, &file, {8 + (size_t{1} << 20) + 4 * bytes, size_t{1} << 20, 64}))
    return {e.message};
  if (host::Error e = host::VerifyChecksums(file, false)) return {e.message};
  std::vector<float> staging(layout.num_params);
  const std::vector<host::TensorRef> tensors = host::WeightTensors(layout, staging.data());
  for (const host::TensorRef& t : tensors)
    if (host::Error e = file.ReadF32(t.name, t.shape, const_cast<float*>(t.data))) return {e.message};
  size_t weights = 0;  // a checkpoint also holds "optimizer.*" tensors
  for (const auto& entry : file.entries) weights += entry.name.rfind("optimizer.", 0) != 0;
  if (weights != tensors.size())
    return {path + ": has " + std::to_string(weights) + " weight tensors, the model has " + std::to_string(tensors.size())};
  for (size_t i = 0; i < staging.size(); ++i)
    if (!std::isfinite(staging[i])) return {path + ": holds a non-finite weight (parameter " + std::to_string(i) + ")"};
  std::copy(staging.begin(), staging.end(), params);
  return {};
}

Error ReadCsv(const std::string& path, const std::string& target, Table* out) {
  host::Dataset data;
  if (host::IsDirectory(path)) return {path + ": is a directory, expected a CSV file"};
  if (host::Error e = host::LoadDataset(path, "", target, &data)) return {e.message};
  Table t;
  t.rows = data.count;
  t.features = data.features;
  t.target = data.target_name;
  t.x.resize(t.rows * t.features);
  t.y.resize(t.rows);
  bool integral = true;
  for (size_t i = 0; i < t.rows; ++i) {
    for (size_t f = 0; f < t.features; ++f) t.x[i * t.features + f] = data.Feature(i, f);
    t.y[i] = data.Target(i);
    integral = integral && t.y[i] >= 0.0f && t.y[i] <= 65535.0f && t.y[i] == static_cast<float>(static_cast<int>(t.y[i]));
  }
  if (integral)
    for (float v : t.y) t.labels.push_back(static_cast<uint16_t>(v));
  *out = std::move(t);
  return {};
}

}  // namespace io
}  // namespace descent
