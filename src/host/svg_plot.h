// Line charts as standalone SVG: loss curves on a log axis, one colour per series.
#ifndef DESCENT_SRC_HOST_SVG_PLOT_H_
#define DESCENT_SRC_HOST_SVG_PLOT_H_

#include <string>
#include <vector>

namespace descent {
namespace host {

struct Series {
  std::string name;
  std::vector<double> x, y;
  std::string note;  // shown after the name in the legend, e.g. the final loss
};

struct Chart {
  std::string title, subtitle, x_label, y_label;
  bool log_y = true;
  std::vector<double> x_markers;            // dashed vertical lines (e.g. epoch starts)
  std::vector<std::string> x_marker_labels;
  std::vector<Series> series;
};

std::string RenderSvg(const Chart& chart);

}  // namespace host
}  // namespace descent

#endif  // DESCENT_SRC_HOST_SVG_PLOT_H_
