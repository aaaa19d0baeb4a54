// The program's model: a layer list (src/cli/architecture.h: --net, or --layers and
// --activation; default the notebook's 784-100-100-10, ReLU, log-softmax + NLL) or one
// from a model file, sized at run time over the core's size-erased code (the same
// kernels, the same bits as descent::Sequential and descent::Model). Its weight files are
// safetensors under torch's state_dict names (nn.Sequential's `1.weight` for --net, the
// notebook's SimpleNet's `linears.0.weight` for --layers), so torch's load_state_dict reads
// them and back; their metadata carries the model and the input transform (--input-scale,
// --standardize).
#ifndef DESCENT_SRC_CLI_MODEL_H_
#define DESCENT_SRC_CLI_MODEL_H_

#include <stdint.h>

#include <iterator>
#include <string>
#include <vector>

#include "descent/descent.h"
#include "src/cli/architecture.h"
#include "src/host/dataset.h"
#include "src/host/safetensors.h"

namespace descent {
namespace cli {

inline constexpr size_t kMaxBatch = 1024;  // the largest --batch
inline constexpr size_t kEvalRows = 256;   // rows per evaluation batch

// The notebook's layer sizes (an array: GCC 12 warns falsely on a vector's initializer list).
inline constexpr size_t kNotebookSizes[] = {784, 100, 100, 10};

// What the first layer sees: x * scale[f] - as (x - shift[f]) * scale[f] with a shift.
// The notebook's is every pixel times 1/256.
// ... and which column of a CSV the targets are (saved with the model, so eval and predict
// read the data as training did).
struct InputTransform {
  std::vector<float> shift, scale;  // shift empty: none
  std::string target;               // the target column's name ("label" for images); empty: unknown
  bool IsPixelScale() const;        // exactly the notebook's (uint8 data can take the byte path)
  std::string Describe() const;     // "scale 1/256", "standardized", "scale X"
};
InputTransform UniformScale(size_t inputs, double scale);
// z-scores with the data's mean and (population) standard deviation per feature, in double,
// as scikit-learn's StandardScaler; a constant feature is only centred.
InputTransform Standardization(const host::Dataset& data);

class Net {
 public:
  Net() { Configure(Architecture{}); }
  void Configure(const Architecture& architecture);
  const Architecture& architecture() const { return architecture_; }
  const Layout& layout() const { return layout_; }
  float* params() { return params_.data(); }
  const float* params() const { return params_.data(); }
  size_t num_params() const { return params_.size(); }
  // Batch norm's running statistics and num_batches_tracked (nullptr without batch norm).
  float* running() { return running_.empty() ? nullptr : running_.data(); }
  const float* running() const { return running_.empty() ? nullptr : running_.data(); }
  int64_t* tracked() { return tracked_.empty() ? nullptr : tracked_.data(); }
  const int64_t* tracked() const { return tracked_.empty() ? nullptr : tracked_.data(); }
  internal::ModelRef Ref() { return {&layout_, params_.data(), nullptr, running(), tracked()}; }
  InputTransform& transform() { return transform_; }
  const InputTransform& transform() const { return transform_; }

 private:
  Architecture architecture_;
  Layout layout_;
  std::vector<float> params_, running_;
  std::vector<int64_t> tracked_;
  InputTransform transform_;
};

// Gradients, activations and targets for up to max_batch rows of a Net.
class TrainWorkspace {
 public:
  // lean: LeanPlan (the memory floor: rows read where the data set keeps them, no gradient).
  void Configure(const Architecture& architecture, size_t max_batch, bool lean = false);
  float* grads() { return grads_.data(); }
  internal::WorkRef Ref();
  const Layout& layout() const { return layout_; }
  // Rows order[0..rows) of `data` (prepared for this model, see PrepareData), transformed.
  Status Load(const host::Dataset& data, const InputTransform& transform, const uint32_t* order, size_t rows,
              const ParallelFor& pf);

 private:
  Layout layout_;
  std::vector<float> grads_, scratch_, row_loss_;
  std::vector<uint8_t> labels8_;
  std::vector<uint16_t> labels16_;
  internal::InputRows rows_;  // LeanPlan: the rows of the last Load, where they are
 public:
  uint64_t noise[2] = {};  // dropout's seed and step (descent/workspace.h's WorkRef::noise)
};

// Checks a data set against the model and puts its targets in the form the loss takes:
// the features count, every class label an integer in [0, classes), BCE targets in [0, 1],
// regression targets finite (element losses read one target per sample: one output).
// Errors name the file, line and column.
host::Error PrepareData(const Architecture& a, host::Dataset* data);

// The most any rule keeps per parameter.
constexpr size_t MaxSlots() {
  size_t most = 0;
  ForEachType(Rules{}, [&](auto rule) { most = decltype(rule)::kSlots > most ? decltype(rule)::kSlots : most; });
  return most;
}
// What a model or checkpoint file of n parameters can be: its weights, every optimizer
// state array and a header of at most kMaxModelHeader bytes. Readers stop at these limits.
host::SafetensorsLimits ModelFileLimits(size_t num_params);
// A model file of an architecture not known beforehand (eval): up to 16 M parameters. Train
// refuses larger models, so that whatever it saves can be read back.
inline constexpr size_t kMaxFileParams = size_t{16} << 20;
// A header holds the metadata: an input transform of up to kMaxSavedInputs features (two
// numbers each, at most 16 characters) fits with room to spare.
inline constexpr size_t kMaxModelHeader = size_t{16} << 20;
inline constexpr size_t kMaxSavedInputs = 400000;

// The weights under the state_dict names, in state_dict order.
std::vector<host::TensorRef> WeightTensors(const Net& net);
// The architecture and input transform as file metadata, and back. A file without them
// (torch's, or one written before they were recorded) is the notebook's model.
host::Metadata ModelMetadata(const Net& net);
host::Error ReadModelMetadata(const host::Safetensors& file, Architecture* a, InputTransform* transform);
// Reads the weights back from a parsed file, each checked for dtype and shape.
host::Error ReadWeights(const host::Safetensors& file, Net* net);

host::Error SaveModel(const std::string& path, const Net& net);
// Reads weights (or a checkpoint's weights) into *net, verifying the checksums of the files this
// program wrote and refusing non-finite weights; on failure *net is as it was. With `adopt`, *net
// takes the file's architecture and input transform; without, they must match *net's.
host::Error LoadModel(const std::string& path, bool adopt, Net* net);

// What a model file says of itself, before any weight is read: whether descent described it
// (its model and transform in the metadata) and, for a file that does not (torch's state_dict),
// the Linear widths its tensors imply (SimpleNet's `linears.{i}` chain; empty otherwise).
struct ModelFileInfo {
  bool described = false;
  Architecture architecture;  // described files
  InputTransform transform;   // described files
  std::vector<size_t> widths;     // undescribed files with SimpleNet names: input first
  bool sequential_names = false;  // undescribed files with nn.Sequential names (`0.weight`)
};
host::Error ReadModelFileInfo(const std::string& path, ModelFileInfo* info);
// FNV-1a of all weights and biases as little-endian float32 in safetensors order.
uint64_t ParamsHash(const Net& net);

}  // namespace cli
}  // namespace descent

#endif  // DESCENT_SRC_CLI_MODEL_H_
