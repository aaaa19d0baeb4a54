// The program's model description: a list of torch modules (--net, or the --layers
// shorthand) with a loss, checked and turned into the core's Layout at run time.
//
//   --net 'flatten,linear(100),tanh,linear(100),relu,linear(10)'
//
// Module names are torch's class names in lower case with torch's constructor arguments,
// minus the input size, which comes from the previous layer (or the data): linear(out[,
// bias=false]), conv2d / conv1d(out_channels, kernel_size[, stride, padding (a number, 'same'
// or 'valid'), dilation, groups, bias]), maxpool2d / maxpool1d(kernel_size[, stride, padding,
// dilation]), avgpool2d / avgpool1d(kernel_size[, stride, padding, count_include_pad]),
// adaptiveavgpool2d / adaptiveavgpool1d(1), batchnorm2d / batchnorm1d([eps, momentum, affine]),
// dropout([p]), relu, leakyrelu([negative_slope]), tanh, sigmoid,
// gelu([approximate=tanh]), identity, flatten. Sizes are single numbers (square kernels).
#ifndef DESCENT_SRC_CLI_ARCHITECTURE_H_
#define DESCENT_SRC_CLI_ARCHITECTURE_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "descent/layout.h"

namespace descent {
namespace cli {

// One module of the list.
struct Module {
  enum class Kind : uint8_t { kLinear, kConv, kPool, kGlobalPool, kBatchNorm, kDropout, kActivation, kFlatten, kIdentity };
  Kind kind = Kind::kLinear;
  size_t out = 0;    // kLinear: out_features; kConv: out_channels
  bool bias = true;  // kLinear, kConv
  bool one_d = false;  // kConv, kPool, kGlobalPool: the 1-d module
  // kConv, kPool: as given (stride 0: the kernel size, pooling's default).
  size_t kernel = 0, stride = 1, padding = 0, dilation = 1, groups = 1;
  bool same = false;   // kConv: padding='same'
  PoolKind pool = PoolKind::kMax;  // kPool
  bool count_include_pad = true;   // kPool, average
  float eps = 1e-5f, momentum = 0.1f;  // kBatchNorm (bias: affine)
  float p = 0.5f;                      // kDropout
  ActivationSpec act;  // kActivation
  Window window() const;  // kConv, kPool: the core's window
  std::string Spec() const;  // "linear(10,bias=false)", "leakyrelu(0.2)", ...
};

struct Architecture {
  // C, or C,L or C,H,W (features in torch's row-major order); empty until a --net model sees
  // its data (IDX images: 1,28,28; CSV rows: F, or --input-shape).
  std::vector<size_t> input_shape;
  std::vector<Module> modules;
  // --net: nn.Sequential's parameter names (`1.weight`) and the spec in the files' metadata;
  // else the --layers shorthand: the notebook's SimpleNet names (`linears.0.weight`), as ever.
  bool sequential = false;
  ActivationSpec activation;  // --layers' hidden activation (what its files record)
  LossSpec loss;

  Architecture();  // the notebook's: 784-100-100-10, ReLU, NLL
  // The --layers shorthand: Linear layers of `sizes` (input first), `activation` between them.
  static Architecture Mlp(const std::vector<size_t>& sizes, const ActivationSpec& activation, const LossSpec& loss);

  std::vector<size_t> Widths() const;  // the Linear layers' widths, input first: {784, 100, 100, 10}
  std::string Sizes() const;           // "784-100-100-10"
  std::string Spec() const;            // the --net text: "linear(100),relu,linear(100),relu,linear(10)"
  std::string Describe() const;        // "784-100-100-10 relu nll" (--layers), "net SPEC nll" (--net), + loss parameters
  std::string Title() const;           // for charts: the sizes alone for the notebook's ReLU + NLL
  std::string InputShape() const;      // "1,28,28"
  size_t inputs() const;               // features per sample (0 while the input shape is unknown)
  size_t outputs() const;              // the last Linear's out_features
  // The core's description, with a training plan for max_batch rows (0: none).
  Layout MakeLayout(size_t max_batch = 0, bool lean = false) const;

 private:
  struct Empty {};
  explicit Architecture(Empty) {}
};

const std::vector<std::string>& ActivationNames();  // relu leaky-relu tanh sigmoid gelu gelu-tanh identity
const std::vector<std::string>& LossNames();        // nll cross-entropy mse l1 huber bce
const char* Name(ActivationKind kind);
const char* Name(LossKind kind);
bool ParseActivation(const std::string& name, ActivationKind* kind);
bool ParseLoss(const std::string& name, LossKind* kind);

// Parses a --net spec; false with *error naming the item, its position and the problem.
bool ParseNet(const std::string& text, std::vector<Module>* modules, std::string* error);
// Parses "C", "C,L" or "C,H,W" (each in [1, 65536]).
bool ParseShape(const std::string& text, std::vector<size_t>* shape);
// Why an architecture cannot be built (naming the module and the shapes), or "".
std::string InvalidReason(const Architecture& a);

}  // namespace cli
}  // namespace descent

#endif  // DESCENT_SRC_CLI_ARCHITECTURE_H_
