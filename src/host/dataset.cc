// IDX and Kaggle-CSV readers: validate everything before trusting anything.
#include "src/host/dataset.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

namespace descent {
namespace host {
namespace {

// The largest IDX data this reader takes (60,000 28x28 images are 47 MB).
constexpr uint64_t kMaxIdxBytes = uint64_t{1} << 31;

uint32_t BigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Checks an IDX header of unsigned bytes with `dims` dimensions; returns the dims.
Error IdxHeader(const std::string& name, const std::vector<uint8_t>& b, uint32_t dims,
                uint32_t* sizes) {
  if (b.size() < 4) return Fail(name, "too short for an IDX header (" + std::to_string(b.size()) + " bytes)");
  if (b[0] != 0 || b[1] != 0)
    return Fail(name, "not an IDX file (bad magic number; expected 00 00 08 0" + std::to_string(dims) + ")");
  if (b[2] != 0x08) return Fail(name, "IDX element type " + std::to_string(b[2]) + " is not unsigned byte (8)");
  if (b[3] != dims)
    return Fail(name, "IDX file has " + std::to_string(b[3]) + " dimensions, expected " + std::to_string(dims));
  const size_t header = 4 + 4 * size_t{dims};
  if (b.size() < header) return Fail(name, "truncated IDX header");
  uint64_t expected = header;
  uint64_t elements = 1;
  for (uint32_t d = 0; d < dims; ++d) {
    sizes[d] = BigEndian32(&b[4 + 4 * d]);
    elements *= sizes[d];
    if (elements > kMaxIdxBytes) return Fail(name, "IDX dimensions are implausibly large");
  }
  expected += elements;
  if (b.size() < expected)
    return Fail(name, "truncated: the header promises " + std::to_string(expected) + " bytes, the file has " +
                          std::to_string(b.size()));
  if (b.size() > expected)
    return Fail(name, "has bytes after the data the header describes (" + std::to_string(expected) + " bytes)");
  return Error{};
}

}  // namespace

Error ParseIdx(const std::string& images_name, std::vector<uint8_t> images,
               const std::string& labels_name, std::vector<uint8_t> labels, Dataset* out) {
  uint32_t image_dims[3], label_dims[1];
  if (Error e = IdxHeader(images_name, images, 3, image_dims)) return e;
  if (Error e = IdxHeader(labels_name, labels, 1, label_dims)) return e;
  if (image_dims[0] != label_dims[0])
    return Fail(labels_name, "has " + std::to_string(label_dims[0]) + " labels but " + images_name + " has " +
                                 std::to_string(image_dims[0]) + " images");
  if (image_dims[0] == 0) return Fail(images_name, "holds no images");
  out->source = images_name;
  out->labels_source = labels_name;
  out->count = image_dims[0];
  out->pixels_per_image = size_t{image_dims[1]} * image_dims[2];
  images.erase(images.begin(), images.begin() + 16);  // drop the headers in place
  labels.erase(labels.begin(), labels.begin() + 8);
  out->pixels = std::move(images);
  out->labels = std::move(labels);
  return Error{};
}

Error ParseCsv(const std::string& name, std::string_view text, Dataset* out) {
  size_t at = 0;
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) at = 3;  // UTF-8 byte order mark
  size_t line_no = 0;
  // Returns the next line without its terminator; false at the end of text.
  auto next_line = [&](std::string* line) {
    if (at >= text.size()) return false;
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    *line = std::string(text.substr(at, end - at));
    if (!line->empty() && line->back() == '\r') line->pop_back();
    at = end + 1;
    ++line_no;
    return true;
  };
  std::string line;
  if (!next_line(&line) || line.empty()) return Fail(name, "empty file, expected a header line `label,pixel0,...`");
  size_t columns = 1;
  for (char c : line) columns += c == ',';
  if (line.compare(0, 6, "label,") != 0 || line.find("pixel0") == std::string::npos)
    return Fail(name, "line 1: expected the header `label,pixel0,pixel1,...`, found `" + line.substr(0, 40) + "`");
  const size_t pixels = columns - 1;
  out->source = out->labels_source = name;
  out->pixels_per_image = pixels;
  out->pixels.clear();
  out->labels.clear();
  const size_t rows = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  out->pixels.reserve(rows * pixels), out->labels.reserve(rows);
  while (next_line(&line)) {
    if (line.empty()) {
      if (at >= text.size()) break;  // a final newline
      return Fail(name, "line " + std::to_string(line_no) + ": empty line");
    }
    const char* p = line.c_str();
    for (size_t col = 0; col < columns; ++col) {
      auto where = [&] { return "line " + std::to_string(line_no) + ", column " + std::to_string(col + 1); };
      unsigned value = 0;
      size_t digits = 0;
      while (*p >= '0' && *p <= '9' && digits < 4) value = value * 10 + static_cast<unsigned>(*p++ - '0'), ++digits;
      if (digits == 0) return Fail(name, where() + ": expected a non-negative integer, found `" + std::string(p).substr(0, 12) + "`");
      if (value > 255 || (*p >= '0' && *p <= '9'))
        return Fail(name, where() + ": value out of range (pixels and labels are 0..255)");
      const char expected = col + 1 == columns ? '\0' : ',';
      if (*p != expected) {
        if (expected == '\0') return Fail(name, "line " + std::to_string(line_no) + ": more than the header's " + std::to_string(columns) + " columns");
        if (*p == '\0') return Fail(name, "line " + std::to_string(line_no) + ": " + std::to_string(col + 1) + " columns, the header has " + std::to_string(columns));
        return Fail(name, where() + ": unexpected character `" + std::string(1, *p) + "`");
      }
      if (*p) ++p;
      (col == 0 ? out->labels : out->pixels).push_back(static_cast<uint8_t>(value));
    }
  }
  out->count = out->labels.size();
  if (out->count == 0) return Fail(name, "has a header but no data rows");
  return Error{};
}

Error ReadIdxFile(const std::string& path, uint32_t dims, std::vector<uint8_t>* out) {
  GzipReader reader;
  if (Error e = reader.Open(path)) return e;
  // The header says how much data there is: read that much and one byte more, no further.
  uint8_t header[16] = {};
  const size_t header_size = 4 + 4 * size_t{dims};
  size_t got = 0;
  if (Error e = reader.Read(header, header_size, &got)) return e;
  std::vector<uint8_t> head(header, header + got);
  uint64_t elements = 1;
  if (got == header_size) {
    for (uint32_t d = 0; d < dims && head[3] == dims; ++d) elements *= BigEndian32(&header[4 + 4 * d]);
    if (elements > kMaxIdxBytes) return Fail(path, "IDX dimensions are implausibly large");
  }
  const size_t budget = got == header_size ? header_size + static_cast<size_t>(elements) + 1 : got;
  *out = std::move(head);
  out->reserve(std::max(got, reader.ExpectedSize(budget)));  // what the file can hold, not what its header claims
  uint8_t chunk[1 << 16];
  while (out->size() < budget) {
    size_t n = 0;
    if (Error e = reader.Read(chunk, std::min(sizeof(chunk), budget - out->size()), &n)) return e;
    if (n == 0) break;
    out->insert(out->end(), chunk, chunk + n);
  }
  return Error{};
}

Error LoadDataset(const std::string& path, const std::string& prefix, Dataset* out) {
  if (!IsDirectory(path)) {  // a CSV file (or pipe)
    if (access(path.c_str(), F_OK) != 0 && errno == ENOENT) return Fail(path, "no such file or directory");
    std::vector<uint8_t> bytes;
    if (Error e = ReadFile(path, kMaxCsvBytes, &bytes)) return e;
    return ParseCsv(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), out);
  }
  if (access(path.c_str(), R_OK | X_OK) != 0) return Fail(path, std::string("cannot read the directory: ") + strerror(errno));
  auto find = [&](const std::string& stem, std::string* found) {
    for (const char* suffix : {"", ".gz"}) {
      const std::string candidate = path + "/" + stem + suffix;
      if (IsFile(candidate)) return *found = candidate, true;
    }
    return false;
  };
  std::string images_path, labels_path;
  const std::string images_stem = prefix + "-images-idx3-ubyte";
  const std::string labels_stem = prefix + "-labels-idx1-ubyte";
  if (!find(images_stem, &images_path)) return Fail(path, "has no " + images_stem + "[.gz]");
  if (!find(labels_stem, &labels_path)) return Fail(path, "has no " + labels_stem + "[.gz]");
  std::vector<uint8_t> images, labels;
  if (Error e = ReadIdxFile(images_path, 3, &images)) return e;
  if (Error e = ReadIdxFile(labels_path, 1, &labels)) return e;
  return ParseIdx(images_path, std::move(images), labels_path, std::move(labels), out);
}

Error CheckFits(const Dataset& data, size_t inputs, size_t classes) {
  if (data.pixels_per_image != inputs)
    return Fail(data.source, "images have " + std::to_string(data.pixels_per_image) + " pixels, the model takes " +
                                 std::to_string(inputs));
  for (size_t i = 0; i < data.count; ++i)
    if (data.labels[i] >= classes)
      return Fail(data.labels_source, "label " + std::to_string(data.labels[i]) + " of sample " + std::to_string(i) +
                                   " is out of range (the model has " + std::to_string(classes) + " classes)");
  return Error{};
}

}  // namespace host
}  // namespace descent
