// safetensors files of float32 tensors (https://github.com/huggingface/safetensors):
// an 8-byte little-endian header length, a JSON header, then the raw data.
#ifndef DESCENT_SRC_HOST_SAFETENSORS_H_
#define DESCENT_SRC_HOST_SAFETENSORS_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <utility>
#include <vector>

#include "descent/layout.h"
#include "src/host/files.h"

namespace descent {
namespace host {

struct TensorRef {
  std::string name;
  std::vector<size_t> shape;
  const float* data;  // product(shape) floats
  const int64_t* ints = nullptr;  // instead: product(shape) int64s (I64, e.g. num_batches_tracked)
  bool is_i64 = false;
};
using Metadata = std::vector<std::pair<std::string, std::string>>;

// Serialises tensors (in the given order) and string metadata.
std::string EncodeSafetensors(const std::vector<TensorRef>& tensors, const Metadata& metadata);
inline Error WriteSafetensors(const std::string& path, const std::vector<TensorRef>& tensors,
                              const Metadata& metadata) {
  return WriteFileAtomic(path, EncodeSafetensors(tensors, metadata));
}

// A parsed file: every header entry validated (dtype, shape, offsets inside
// the data, no overlap), data not yet copied out.
struct Safetensors {
  struct Entry {
    std::string name, dtype;
    std::vector<size_t> shape;
    size_t begin = 0, end = 0;  // byte range in `data`
  };
  std::string path;
  std::vector<Entry> entries;
  Metadata metadata;
  std::vector<uint8_t> bytes;
  size_t data_start = 0;

  const Entry* Find(const std::string& name) const;  // linear: files hold a few tensors
  // Whether tensor `name` is there, F32, of exactly `shape` (the error names it and both shapes).
  Error CheckF32(const std::string& name, const std::vector<size_t>& shape) const;
  Error Check(const std::string& name, const std::vector<size_t>& shape, const std::string& dtype) const;
  Error Check(const TensorRef& t) const { return Check(t.name, t.shape, t.is_i64 ? "I64" : "F32"); }
  // Copies tensor `name` into dst after checking it is F32 of exactly `shape`.
  Error ReadF32(const std::string& name, const std::vector<size_t>& shape, float* dst) const;
  // Copies tensor t (F32 or I64 as t says) into where t points, after checking it.
  Error Read(const TensorRef& t) const;
  const std::string* Meta(const std::string& key) const;
};

// Limits: the whole file (max_file_bytes, checked as it is read), the JSON header
// (max_header_bytes; the format allows 100 MB) and its entries (max_entries tensors
// and metadata keys). Parsing is linear in the header's size.
struct SafetensorsLimits {
  size_t max_file_bytes = size_t{4} << 30;
  size_t max_header_bytes = 100u << 20;
  size_t max_entries = 4096;
};
Error ParseSafetensors(const std::string& path, std::vector<uint8_t> bytes, Safetensors* out,
                       const SafetensorsLimits& limits = {});
Error ReadSafetensors(const std::string& path, Safetensors* out, const SafetensorsLimits& limits = {});

std::string ShapeString(const std::vector<size_t>& shape);

// A parameter tensor's state_dict name: nn.Sequential's (`{module}.weight`) or the
// notebook's SimpleNet's (`linears.{i}.weight`), as the layout says.
std::string TensorName(const Layout& layout, const ParamTensor& tensor);
// A model's parameter tensors (params: layout.num_params floats in state_dict order, or
// nullptr for the names and shapes alone) under their names, with torch's shapes, and batch
// norm's buffers (running_mean, running_var, num_batches_tracked: I64 []) after each one's
// parameters, as torch's state_dict lists them.
std::vector<TensorRef> WeightTensors(const Layout& layout, const float* params, const float* running = nullptr,
                                     const int64_t* tracked = nullptr);

// The checksums descent writes into its files' metadata: tensor_crc32 over the tensor data in file
// order and header_crc32 over the whole JSON header (metadata included) with its own value zeroed.
std::string EncodeWithChecksums(const std::vector<TensorRef>& tensors, Metadata metadata);
// Checks them where a file has them; `required`: a file without them is refused.
Error VerifyChecksums(const Safetensors& file, bool required);

}  // namespace host
}  // namespace descent

#endif  // DESCENT_SRC_HOST_SAFETENSORS_H_
