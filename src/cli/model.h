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

// The weights under the state_dict names, in state_dict order.
std::vector<host::TensorRef> WeightTensors(const Net& net);
// Reads them back from a parsed file, each checked for dtype and shape.
host::Error ReadWeights(const host::Safetensors& file, Net* net);

host::Error SaveModel(const std::string& path, const Net& net);
// Reads weights (or a checkpoint's weights) into *net; on failure *net is as it was.
// staging: a scratch model the file is read into first.
host::Error LoadModel(const std::string& path, Net* net, Net* staging);
// FNV-1a of all weights and biases as little-endian float32 in safetensors order.
uint64_t ParamsHash(const Net& net);

}  // namespace cli
}  // namespace descent

#endif  // DESCENT_SRC_CLI_MODEL_H_
