#include "src/cli/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

namespace descent {
namespace cli {

double NowSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

Progress::Progress(std::string label) : label_(std::move(label)), enabled_(isatty(STDERR_FILENO)) {}

Progress::~Progress() {
  if (shown_) fprintf(stderr, "\r\033[K");
}

void Progress::Update(size_t epoch, size_t epochs, size_t batch, size_t batches_per_epoch, float loss,
                      double samples_per_second) {
  if (!enabled_) return;
  const double now = NowSeconds();
  const bool last = epoch == epochs && batch == batches_per_epoch;
  if (!last && now - last_ < 0.1) return;
  last_ = now;
  shown_ = true;
  fprintf(stderr, "\r\033[K%s  epoch %zu/%zu  batch %zu/%zu  loss %.4f  %.0f samples/s", label_.c_str(), epoch, epochs,
          batch, batches_per_epoch, static_cast<double>(loss), samples_per_second);
  fflush(stderr);
}

}  // namespace cli
}  // namespace descent
