// Line charts as standalone SVG: loss curves on log axes, one colour per series.
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
  int color = -1;    // palette index; -1: the series' own position
  bool dots = false; // sparse points (evaluations): a thin line with a dot at each point
};

struct Chart {
  std::string title, subtitle, x_label, y_label;
  bool log_y = true;
  bool log_x = false;
  std::vector<double> x_markers;            // dashed vertical lines (e.g. epoch starts)
  std::vector<std::string> x_marker_labels;
  std::vector<Series> series;
};

std::string RenderSvg(const Chart& chart);

}  // namespace host
}  // namespace descent

#endif  // DESCENT_SRC_HOST_SVG_PLOT_H_
