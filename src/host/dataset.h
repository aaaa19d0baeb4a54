// Image classification data sets in memory: MNIST-style IDX files (gzip'd or
// raw) and the Kaggle CSV (`label,pixel0,...` with a header line).
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

struct Dataset {
  std::string source;            // the images file, for messages
  std::string labels_source;     // the labels file (the same file for CSV)
  size_t count = 0;              // images
  size_t pixels_per_image = 0;   // rows * cols
  std::vector<uint8_t> pixels;   // count * pixels_per_image, row-major images
  std::vector<uint8_t> labels;   // count
};

// Parses an IDX pair already in memory (names are for messages). Checks the
// magic numbers, the element type, that sizes match the header, and that
// image and label counts agree.
// Takes the buffers over (no copy of the pixels is made).
Error ParseIdx(const std::string& images_name, std::vector<uint8_t> images,
               const std::string& labels_name, std::vector<uint8_t> labels, Dataset* out);
// Parses the Kaggle CSV: a header `label,pixel0,...`, then rows of integers
// (label first, pixels 0..255). Accepts a UTF-8 BOM and CRLF line ends.
Error ParseCsv(const std::string& name, std::string_view text, Dataset* out);
// The largest CSV text LoadDataset reads (Kaggle's 42,000-row MNIST train.csv is 73 MB).
inline constexpr size_t kMaxCsvBytes = size_t{512} << 20;
// Reads an IDX file of `dims` dimensions: the header, then only as much data as it
// promises and one byte more (ParseIdx reports the excess).
Error ReadIdxFile(const std::string& path, uint32_t dims, std::vector<uint8_t>* out);

// Loads `path`: a CSV file (or pipe), or a directory holding `<prefix>-images-idx3-ubyte`
// and `<prefix>-labels-idx1-ubyte` (each optionally .gz), prefix "train" or "t10k".
Error LoadDataset(const std::string& path, const std::string& prefix, Dataset* out);

// Checks that the images have `inputs` pixels and every label is < classes.
Error CheckFits(const Dataset& data, size_t inputs, size_t classes);

}  // namespace host
}  // namespace descent

#endif  // DESCENT_SRC_HOST_DATASET_H_
