// IDX and CSV readers: validate everything before trusting anything.
#include "src/host/dataset.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
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
  out->features = size_t{image_dims[1]} * image_dims[2];
  out->images = true;
  out->shape = {1, size_t{image_dims[1]}, size_t{image_dims[2]}};
  images.erase(images.begin(), images.begin() + 16);  // drop the headers in place
  labels.erase(labels.begin(), labels.begin() + 8);
  out->pixels = std::move(images);
  out->labels = std::move(labels);
  return Error{};
}

std::string Dataset::Where(size_t sample, size_t f) const {
  if (feature_columns.empty()) return "sample " + std::to_string(sample);
  const size_t column = f < features ? feature_columns[f] : target_column;
  return "line " + std::to_string(sample + 2) + ", column " + std::to_string(column + 1) +
         (f < features ? "" : " (" + target_name + ")");
}

Error ParseCsv(const std::string& name, std::string_view text, const std::string& target, Dataset* out,
               bool target_optional) {
  size_t at = 0;
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) at = 3;  // UTF-8 byte order mark
  size_t line_no = 0;
  // The next line without its terminator; false at the end of text.
  auto next_line = [&](std::string_view* line) {
    if (at >= text.size()) return false;
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    *line = text.substr(at, end - at);
    if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
    at = end < text.size() ? end + 1 : end;  // never past the text (a last line without its newline)
    ++line_no;
    return true;
  };
  std::string_view line;
  if (!next_line(&line) || line.empty()) return Fail(name, "empty file, expected a header line of column names");
  if (line.find('\r') != std::string_view::npos)
    return Fail(name, "line 1: a carriage return inside a line: CR-only line ends (classic Mac) are not read; "
                      "convert them to LF or CRLF");
  // Columns are counted before any is stored: a header of millions of commas is refused cheaply.
  constexpr size_t kMaxColumns = size_t{1} << 20;
  if (const size_t commas = static_cast<size_t>(std::count(line.begin(), line.end(), ',')); commas >= kMaxColumns)
    return Fail(name, "line 1: " + std::to_string(commas + 1) + " columns, more than the " + std::to_string(kMaxColumns) +
                          " this reader takes");
  std::vector<std::string> names;
  for (size_t begin = 0;;) {
    const size_t comma = std::min(line.find(',', begin), line.size());
    std::string field(line.substr(begin, comma - begin));
    if (field.size() >= 2 && field.front() == '"' && field.back() == '"') field = field.substr(1, field.size() - 2);
    names.push_back(field);
    if (comma == line.size()) break;
    begin = comma + 1;
  }
  const size_t columns = names.size();
  if (columns < 2) return Fail(name, "line 1: a header with a target and at least one feature column is expected");
  // The target: a column name, else an index; with target_optional, a named target the file
  // does not have means no target column at all (data to predict on).
  size_t target_column = 0;
  const size_t kNoTarget = columns;
  if (target_optional && !target.empty() && std::find(names.begin(), names.end(), target) == names.end()) {
    target_column = kNoTarget;
  } else if (!target.empty()) {
    const auto it = std::find(names.begin(), names.end(), target);
    if (std::count(names.begin(), names.end(), target) > 1)
      return Fail(name, "line 1: the target `" + target + "` names " +
                            std::to_string(std::count(names.begin(), names.end(), target)) +
                            " columns (give its 0-based index instead)");
    if (it != names.end()) {
      target_column = static_cast<size_t>(it - names.begin());
    } else if (target.find_first_not_of("0123456789") == std::string::npos && target.size() < 10 &&
               static_cast<size_t>(std::stoul(target)) < columns) {
      target_column = std::stoul(target);
    } else {
      std::string list;
      for (size_t c = 0; c < columns && c < 12; ++c) list += (c ? ", " : "") + names[c];
      return Fail(name, "line 1: no target column `" + target + "` (columns: " + list + (columns > 12 ? ", ..." : "") +
                            "; or a 0-based index below " + std::to_string(columns) + ")");
    }
  }
  *out = Dataset{};
  out->source = out->labels_source = name;
  out->has_targets = target_column != kNoTarget;
  out->features = out->has_targets ? columns - 1 : columns;
  out->target_name = out->has_targets ? names[target_column] : target;
  out->target_column = target_column;
  // Kaggle's MNIST layout, `label,pixel0,pixel1,...`: images, as IDX files are.
  out->images = out->has_targets && target_column == 0 && names[0] == "label";
  for (size_t c = 1; out->images && c < columns; ++c) out->images = names[c] == "pixel" + std::to_string(c - 1);
  for (size_t c = 0; c < columns; ++c)
    if (c != target_column) out->feature_columns.push_back(c);
  const size_t rows = static_cast<size_t>(std::count(text.begin() + static_cast<long>(at), text.end(), '\n'));
  out->values.reserve(rows * out->features), out->targets.reserve(rows);
  bool feature_bytes = true, target_bytes = true;  // every value an integer 0..255 so far
  size_t count = 0;
  while (next_line(&line)) {
    if (line.empty()) {
      if (at >= text.size()) break;  // a final newline
      return Fail(name, "line " + std::to_string(line_no) + ": empty line");
    }
    const char* p = line.data();
    const char* const end = line.data() + line.size();
    for (size_t col = 0; col < columns; ++col) {
      auto where = [&] {
        return "line " + std::to_string(line_no) + ", column " + std::to_string(col + 1) + " (" + names[col] + ")";
      };
      const char* field_end = std::find(p, end, ',');
      float value = 0.0f;
      // As numpy reads them: a leading '+', and numbers below float's range rounded to 0 or a subnormal.
      const char* first = p + (field_end - p > 1 && *p == '+' && p[1] != '-' && p[1] != '+');
      auto parsed = std::from_chars(first, field_end, value);
      if (p == field_end) return Fail(name, where() + ": empty value");
      if (parsed.ec == std::errc::result_out_of_range) {
        double wide = 0.0;
        parsed = std::from_chars(first, field_end, wide);
        if (parsed.ec != std::errc() || !(std::fabs(wide) < 1.0)) return Fail(name, where() + ": number out of float range");
        value = static_cast<float>(wide);
      }
      if (parsed.ec != std::errc() || parsed.ptr != field_end)
        return Fail(name, where() + ": expected a number, found `" + std::string(p, field_end).substr(0, 16) + "`");
      if (!std::isfinite(value)) return Fail(name, where() + ": not a finite number (" + std::string(p, field_end) + ")");
      const bool byte = !std::signbit(value) && value <= 255.0f && value == static_cast<float>(static_cast<int>(value));
      (col == target_column ? target_bytes : feature_bytes) &= byte;
      (col == target_column ? out->targets : out->values).push_back(value);
      if (field_end == end && col + 1 < columns)
        return Fail(name, "line " + std::to_string(line_no) + ": " + std::to_string(col + 1) + " columns, the header has " +
                              std::to_string(columns));
      if (field_end != end && col + 1 == columns)
        return Fail(name, "line " + std::to_string(line_no) + ": more than the header's " + std::to_string(columns) + " columns");
      p = field_end + (field_end != end);
    }
    ++count;
  }
  out->count = count;
  if (out->count == 0) return Fail(name, "has a header but no data rows");
  // Integers 0..255 (Kaggle's pixels and digit labels) as bytes: a quarter of the memory, the byte path.
  if (feature_bytes) out->pixels.assign(out->values.begin(), out->values.end()), out->values = {};
  if (target_bytes && out->has_targets) out->labels.assign(out->targets.begin(), out->targets.end()), out->targets = {};
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

Error LoadDataset(const std::string& path, const std::string& prefix, const std::string& target, Dataset* out,
                  bool target_optional) {
  NoteReading(path);
  if (!IsDirectory(path)) {  // a CSV file (or pipe)
    if (access(path.c_str(), F_OK) != 0 && errno == ENOENT) return Fail(path, "no such file or directory");
    std::vector<uint8_t> bytes;
    if (Error e = ReadFile(path, kMaxCsvBytes, &bytes)) return e;
    return ParseCsv(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), target, out,
                    target_optional);
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

}  // namespace host
}  // namespace descent
