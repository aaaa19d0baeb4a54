// A live progress line on stderr, only when it is a terminal; at most 10 updates/s.
#ifndef DESCENT_SRC_CLI_PROGRESS_H_
#define DESCENT_SRC_CLI_PROGRESS_H_

#include <stddef.h>

#include <string>

namespace descent {
namespace cli {

double NowSeconds();  // monotonic

class Progress {
 public:
  explicit Progress(std::string label);
  ~Progress();
  // step and batch are 1-based, as in the loss CSV.
  void Update(size_t epoch, size_t epochs, size_t batch, size_t batches_per_epoch, float loss,
              double samples_per_second);

 private:
  std::string label_;
  bool enabled_;
  double last_ = -1.0;
  bool shown_ = false;
};

}  // namespace cli
}  // namespace descent

#endif  // DESCENT_SRC_CLI_PROGRESS_H_
