// The program's model, the notebook's MLP, and its weight files: safetensors
// named like the notebook's SimpleNet state_dict (linears.{i}.weight [out, in],
// linears.{i}.bias), so torch's load_state_dict reads them and back.
#ifndef DESCENT_SRC_CLI_MODEL_H_
#define DESCENT_SRC_CLI_MODEL_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "descent/descent.h"
#include "src/host/safetensors.h"

namespace descent {
namespace cli {

using Net = Mlp<784, 100, 100, 10>;
inline constexpr size_t kMaxBatch = 1024;  // the largest --batch the workspace holds
using TrainWorkspace = Workspace<Net, kMaxBatch>;

std::string Architecture();  // "784-100-100-10"

// The most any rule keeps per parameter.
constexpr size_t MaxSlots() {
  size_t most = 0;
  ForEachType(Rules{}, [&](auto rule) { most = decltype(rule)::kSlots > most ? decltype(rule)::kSlots : most; });
  return most;
}
// What a model or checkpoint file of this architecture can be: its weights, every optimizer
// state array and a header of at most 1 MiB. Readers stop at these limits.
inline constexpr host::SafetensorsLimits kModelFileLimits = {8 + (size_t{1} << 20) + 4 * Net::kNumParams * (1 + MaxSlots()),
                                                             size_t{1} << 20, 64};

// Our files' checksums, in their metadata: tensor_crc32 over the tensor data in file order and
// header_crc32 over the whole JSON header (metadata included) with its own value zeroed.
std::string EncodeWithChecksums(const std::vector<host::TensorRef>& tensors, host::Metadata metadata);
// Checks them where a file has them; `required`: a file without them is refused.
host::Error VerifyChecksums(const host::Safetensors& file, bool required);

// The weights under the state_dict names, in state_dict order.
std::vector<host::TensorRef> WeightTensors(const Net& net);
// Reads them back from a parsed file, each checked for dtype and shape.
host::Error ReadWeights(const host::Safetensors& file, Net* net);

host::Error SaveModel(const std::string& path, const Net& net);
// Reads weights (or a checkpoint's weights) into *net, verifying the checksums of the files this
// program wrote and refusing non-finite weights; on failure *net is as it was.
// staging: a scratch model the file is read into first.
host::Error LoadModel(const std::string& path, Net* net, Net* staging);
// FNV-1a of all weights and biases as little-endian float32 in safetensors order.
uint64_t ParamsHash(const Net& net);

}  // namespace cli
}  // namespace descent

#endif  // DESCENT_SRC_CLI_MODEL_H_
