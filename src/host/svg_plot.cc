// SVG rendering of a Chart: axes with "nice" ticks, grid, legend, markers.
#include "src/host/svg_plot.h"

#include <math.h>
#include <stdio.h>

#include <algorithm>

namespace descent {
namespace host {
namespace {

// Tableau 10: distinguishable, colour-blind-aware.
const char* const kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
// Dash patterns too, so curves that lie on top of each other stay distinguishable.
const char* const kDashes[] = {"", "9 4", "2 3"};
std::string Dash(size_t k) {
  return kDashes[k % 3][0] ? std::string(" stroke-dasharray=\"") + kDashes[k % 3] + "\"" : "";
}

std::string Num(double v, int precision = 2) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.*f", precision, v);
  return buf;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

std::string TickLabel(double v) {
  char buf[32];
  if (v != 0 && (fabs(v) < 1e-3 || fabs(v) >= 1e5)) snprintf(buf, sizeof(buf), "%.0e", v);
  else snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

// About `target` round-numbered ticks covering [lo, hi].
std::vector<double> LinearTicks(double lo, double hi, int target) {
  const double raw = (hi - lo) / target;
  const double mag = pow(10.0, floor(log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw) { step = m * mag; break; }
  std::vector<double> ticks;
  for (double t = ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push_back(t);
  return ticks;
}

// Decades, plus 2 and 5 (or every integer mantissa) when the range is short.
std::vector<double> LogTicks(double lo, double hi) {
  std::vector<double> ticks;
  const double decades = log10(hi) - log10(lo);
  std::vector<double> mantissas = decades > 3 ? std::vector<double>{1} :
                                  decades > 1.2 ? std::vector<double>{1, 2, 5} :
                                  std::vector<double>{1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9};
  for (double e = floor(log10(lo)); e <= ceil(log10(hi)); e += 1)
    for (double m : mantissas) {
      const double t = m * pow(10.0, e);
      if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push_back(t);
    }
  return ticks;
}

}  // namespace

std::string RenderSvg(const Chart& chart) {
  // The legend's column grows with its longest entry (about 7 px per character at 13 px).
  size_t longest = 0;
  for (const Series& s : chart.series) longest = std::max(longest, s.name.size() + (s.note.empty() ? 0 : s.note.size() + 1));
  const double right = std::max(250.0, 60.0 + 7.6 * static_cast<double>(longest));
  const double width = 730 + right, height = 600;
  const double left = 78, top = 70, bottom = 62;
  const double pw = width - left - right, ph = height - top - bottom;

  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const Series& s : chart.series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!isfinite(s.y[i]) || (chart.log_y && s.y[i] <= 0) || (chart.log_x && s.x[i] <= 0)) continue;
      x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
    }
  if (!(x0 < x1)) x0 = chart.log_x ? 0.1 : 0, x1 = chart.log_x ? 10 : 1;
  if (!(y0 < y1)) y0 = chart.log_y ? 0.1 : 0, y1 = chart.log_y ? 10 : 1;
  // Breathing room: 4 % of the (log) range on both ends.
  if (chart.log_y) {
    const double pad = (log10(y1) - log10(y0)) * 0.04;
    y0 = pow(10.0, log10(y0) - pad), y1 = pow(10.0, log10(y1) + pad);
  } else {
    const double pad = (y1 - y0) * 0.04;
    y0 -= pad, y1 += pad;
  }
  auto px = [&](double x) {
    return left + (chart.log_x ? (log10(x) - log10(x0)) / (log10(x1) - log10(x0)) : (x - x0) / (x1 - x0)) * pw;
  };
  auto py = [&](double y) {
    const double f = chart.log_y ? (log10(y) - log10(y0)) / (log10(y1) - log10(y0)) : (y - y0) / (y1 - y0);
    return top + (1 - f) * ph;
  };

  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Num(width, 0) + "\" height=\"" +
                    Num(height, 0) + "\" viewBox=\"0 0 " + Num(width, 0) + " " + Num(height, 0) +
                    "\" font-family=\"Helvetica, Arial, sans-serif\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += "<text x=\"" + Num(left) + "\" y=\"32\" font-size=\"22\" font-weight=\"bold\" fill=\"#222\">" +
         Escape(chart.title) + "</text>\n";
  if (!chart.subtitle.empty())
    svg += "<text x=\"" + Num(left) + "\" y=\"54\" font-size=\"13\" fill=\"#666\">" + Escape(chart.subtitle) + "</text>\n";

  // Grid and tick labels.
  svg += "<g font-size=\"12\" fill=\"#444\">\n";
  for (double t : chart.log_y ? LogTicks(y0, y1) : LinearTicks(y0, y1, 6)) {
    const double y = py(t);
    svg += "<line x1=\"" + Num(left) + "\" x2=\"" + Num(left + pw) + "\" y1=\"" + Num(y) + "\" y2=\"" + Num(y) +
           "\" stroke=\"#e6e6e6\"/>\n";
    svg += "<text x=\"" + Num(left - 8) + "\" y=\"" + Num(y + 4) + "\" text-anchor=\"end\">" + TickLabel(t) + "</text>\n";
  }
  for (double t : chart.log_x ? LogTicks(x0, x1) : LinearTicks(x0, x1, 8)) {
    const double x = px(t);
    svg += "<line x1=\"" + Num(x) + "\" x2=\"" + Num(x) + "\" y1=\"" + Num(top) + "\" y2=\"" + Num(top + ph) +
           "\" stroke=\"#f0f0f0\"/>\n";
    svg += "<text x=\"" + Num(x) + "\" y=\"" + Num(top + ph + 18) + "\" text-anchor=\"middle\">" + TickLabel(t) +
           "</text>\n";
  }
  svg += "</g>\n";
  for (size_t i = 0; i < chart.x_markers.size(); ++i) {
    const double x = px(chart.x_markers[i]);
    svg += "<line x1=\"" + Num(x) + "\" x2=\"" + Num(x) + "\" y1=\"" + Num(top) + "\" y2=\"" + Num(top + ph) +
           "\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n";
    if (i < chart.x_marker_labels.size())
      svg += "<text x=\"" + Num(x + 4) + "\" y=\"" + Num(top + 14) + "\" font-size=\"11\" fill=\"#888\">" +
             Escape(chart.x_marker_labels[i]) + "</text>\n";
  }
  svg += "<rect x=\"" + Num(left) + "\" y=\"" + Num(top) + "\" width=\"" + Num(pw) + "\" height=\"" + Num(ph) +
         "\" fill=\"none\" stroke=\"#888\"/>\n";
  svg += "<text x=\"" + Num(left + pw / 2) + "\" y=\"" + Num(height - 16) +
         "\" font-size=\"14\" text-anchor=\"middle\" fill=\"#222\">" + Escape(chart.x_label) + "</text>\n";
  svg += "<text transform=\"translate(20," + Num(top + ph / 2) + ") rotate(-90)\" font-size=\"14\" "
         "text-anchor=\"middle\" fill=\"#222\">" + Escape(chart.y_label) + "</text>\n";

  // Curves, clipped to the plot area.
  svg += "<clipPath id=\"plot\"><rect x=\"" + Num(left) + "\" y=\"" + Num(top) + "\" width=\"" + Num(pw) +
         "\" height=\"" + Num(ph) + "\"/></clipPath>\n<g clip-path=\"url(#plot)\" fill=\"none\" "
         "stroke-width=\"1.8\" stroke-linejoin=\"round\">\n";
  for (size_t k = 0; k < chart.series.size(); ++k) {
    const Series& s = chart.series[k];
    const size_t c = s.color >= 0 ? static_cast<size_t>(s.color) : k;
    std::string points, dots;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!isfinite(s.y[i]) || (chart.log_y && s.y[i] <= 0) || (chart.log_x && s.x[i] <= 0)) continue;
      points += Num(px(s.x[i])) + "," + Num(py(s.y[i])) + " ";
      if (s.dots) dots += "<circle cx=\"" + Num(px(s.x[i])) + "\" cy=\"" + Num(py(s.y[i])) + "\" r=\"3.5\"/>";
    }
    svg += "<polyline stroke=\"" + std::string(kPalette[c % 10]) + "\"" + (s.dots ? " stroke-width=\"1\"" : Dash(k)) +
           " points=\"" + points + "\"><title>" + Escape(s.name) + "</title></polyline>\n";
    if (s.dots) svg += "<g fill=\"" + std::string(kPalette[c % 10]) + "\">" + dots + "</g>\n";
  }
  svg += "</g>\n";

  // Legend to the right of the plot.
  const double lx = left + pw + 20;
  svg += "<g font-size=\"13\" fill=\"#222\">\n";
  for (size_t k = 0; k < chart.series.size(); ++k) {
    const double y = top + 12 + 24.0 * k;
    const Series& s = chart.series[k];
    const char* color = kPalette[(s.color >= 0 ? static_cast<size_t>(s.color) : k) % 10];
    if (s.dots)
      svg += "<circle cx=\"" + Num(lx + 12) + "\" cy=\"" + Num(y) + "\" r=\"4\" fill=\"" + color + "\"/>\n";
    else
      svg += "<line x1=\"" + Num(lx) + "\" x2=\"" + Num(lx + 24) + "\" y1=\"" + Num(y) + "\" y2=\"" + Num(y) +
             "\" stroke=\"" + color + "\" stroke-width=\"3\"" + Dash(k) + "/>\n";
    svg += "<text x=\"" + Num(lx + 32) + "\" y=\"" + Num(y + 4) + "\">" + Escape(chart.series[k].name) +
           (chart.series[k].note.empty() ? "" : " <tspan fill=\"#777\">" + Escape(chart.series[k].note) + "</tspan>") +
           "</text>\n";
  }
  svg += "</g>\n</svg>\n";
  return svg;
}

}  // namespace host
}  // namespace descent
