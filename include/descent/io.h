// Host-side files (libdescent_host; pkg-config descent-io): CSV data sets, and weights as
// safetensors under torch's state_dict names: nn.Sequential's for a Sequential (`0.weight`,
// `2.bias`), the notebook's SimpleNet's for Model<Sizes<...>> (`linears.{i}.weight` [out, in]),
// so `net.load_state_dict(safetensors.torch.load_file(path))` reads them in Python and torch's
// files read here. Files carry CRC-32s of their header and tensors
// (checked where present: torch's own files have none). Unlike the core, this
// library allocates and needs an OS; writes are atomic (a temporary file renamed).
//
//   descent::Model<descent::Sizes<30, 16, 1>, descent::Tanh, descent::BceWithLogits> net;
//   if (descent::io::Error e = descent::io::Load("model.safetensors", &net)) puts(e.message.c_str());
#ifndef DESCENT_IO_H_
#define DESCENT_IO_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "descent/train.h"

namespace descent {
namespace io {

struct Error {
  std::string message;  // names the file and the problem; empty: success
  explicit operator bool() const { return !message.empty(); }
};

// All layers' weights and biases: layout.num_params floats in state_dict order.
Error WriteWeights(const std::string& path, const Layout& layout, const float* params);
// Checks every tensor's name, dtype and shape, the checksums and that every weight is
// finite before writing any of `params`; on failure `params` is untouched.
Error ReadWeights(const std::string& path, const Layout& layout, float* params);

// A model's weights. With frozen layers, Save writes the frozen block too (a whole
// model file) and Load fills the trained layers only (the frozen block is the caller's).
template <class Net>
Error Save(const std::string& path, const Net& net) {
  if constexpr (Net::kFrozenLayers == 0) {
    return WriteWeights(path, Net::kLayout, net.params());
  } else {
    if (!net.frozen_params()) return {path + ": the model's frozen weights are not set"};
    std::vector<float> all(net.frozen_params(), net.frozen_params() + Net::kNumFrozen);
    all.insert(all.end(), net.params(), net.params() + Net::kNumTrainable);
    return WriteWeights(path, Net::kLayout, all.data());
  }
}
template <class Net>
Error Load(const std::string& path, Net* net) {
  std::vector<float> all(Net::kNumParams);
  if (Error e = ReadWeights(path, Net::kLayout, all.data())) return e;
  for (size_t i = 0; i < Net::kNumTrainable; ++i) net->params()[i] = all[Net::kNumFrozen + i];
  return {};
}

// A CSV of numbers with a header line, as the descent program reads it: one column is the
// target (`target`: its name, else a 0-based index; empty: the first column), every other
// one a feature. Every value is checked (a finite number, every row as wide as the header);
// errors name the file, line and column.
struct Table {
  size_t rows = 0, features = 0;
  std::vector<float> x;  // rows * features, row-major: LoadRows' features
  std::vector<float> y;  // rows targets: LoadRows' targets for a one-output element loss
  std::vector<uint16_t> labels;  // the same targets as class labels, when every one is an integer 0..65535
  std::string target;            // the target column's name
};
Error ReadCsv(const std::string& path, const std::string& target, Table* out);

}  // namespace io
}  // namespace descent

#endif  // DESCENT_IO_H_
