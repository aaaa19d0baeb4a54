// Data sets in memory: MNIST-style IDX files (gzip'd or raw) and CSV files of
// numbers with a header line (Kaggle's `label,pixel0,...` among them).
#ifndef DESCENT_SRC_HOST_DATASET_H_
#define DESCENT_SRC_HOST_DATASET_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <string_view>
#include <vector>

#include "src/host/files.h"

namespace descent {
namespace host {

// Samples in memory: features (bytes for images, floats otherwise) and one target
// each (a byte label, or a float from a CSV's target column).
struct Dataset {
  std::string source;            // the features' file, for messages
  std::string labels_source;     // the targets' file (the same file for CSV)
  size_t count = 0;              // samples
  size_t features = 0;           // per sample (pixels of an image)
  std::vector<size_t> shape;     // IDX images: 1, rows, columns (torch's [C, H, W]); CSV: none
  bool images = false;           // IDX, or a CSV with Kaggle's `label,pixel0,...` header: pixels 0..255
  bool has_targets = true;       // false: a CSV without the target column (data to predict on)
  std::vector<uint8_t> pixels;   // count * features bytes, when every value is an integer 0..255
  std::vector<float> values;     // count * features floats, otherwise
  std::vector<uint8_t> labels;   // count byte targets, when every target is an integer 0..255
  std::vector<float> targets;    // count float targets, otherwise
  // CSV only, for messages: the target column's name and index, the features' column indices.
  std::string target_name;
  size_t target_column = 0;
  std::vector<size_t> feature_columns;

  float Feature(size_t sample, size_t f) const {
    return pixels.empty() ? values[sample * features + f] : static_cast<float>(pixels[sample * features + f]);
  }
  float Target(size_t sample) const { return labels.empty() ? targets[sample] : static_cast<float>(labels[sample]); }
  // "line 7, column 3 (age)" of a CSV sample's feature (or target: f == features); "sample 7" elsewhere.
  std::string Where(size_t sample, size_t f) const;
};

// Parses an IDX pair already in memory (names are for messages). Checks the
// magic numbers, the element type, that sizes match the header, and that
// image and label counts agree.
// Takes the buffers over (no copy of the pixels is made).
Error ParseIdx(const std::string& images_name, std::vector<uint8_t> images,
               const std::string& labels_name, std::vector<uint8_t> labels, Dataset* out);
// Parses a CSV of numbers with a header line: one column is the target (`target`: a
// column name, else a 0-based index; empty: the first column, as Kaggle's `label`), every
// other column a feature. Accepts a UTF-8 BOM, CRLF line ends and quoted header names.
// Values must be finite numbers; errors name the line and column. Integers 0..255 are kept
// as bytes (Kaggle's MNIST), anything else as floats.
// target_optional (data to predict on): a named target the header lacks means no target column.
Error ParseCsv(const std::string& name, std::string_view text, const std::string& target, Dataset* out,
               bool target_optional = false);
// The largest CSV text LoadDataset reads (Kaggle's 42,000-row MNIST train.csv is 73 MB).
inline constexpr size_t kMaxCsvBytes = size_t{512} << 20;
// Reads an IDX file of `dims` dimensions: the header, then only as much data as it
// promises and one byte more (ParseIdx reports the excess).
Error ReadIdxFile(const std::string& path, uint32_t dims, std::vector<uint8_t>* out);

// Loads `path`: a CSV file (or pipe), or a directory holding `<prefix>-images-idx3-ubyte`
// and `<prefix>-labels-idx1-ubyte` (each optionally .gz), prefix "train" or "t10k".
// `target`: the CSV target column (see ParseCsv).
Error LoadDataset(const std::string& path, const std::string& prefix, const std::string& target, Dataset* out,
                  bool target_optional = false);

}  // namespace host
}  // namespace descent

#endif  // DESCENT_SRC_HOST_DATASET_H_
