// SPDX-License-Identifier: MIT
// LinePlot: a small SVG line plot (loss curves and the like) with a title, axis labels, ticks, a
// grid and a legend, shared by the examples.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/detail/input.hpp"
#include "tapegrad/error.hpp"
#include "tapegrad/io/detail/file.hpp"

namespace tapegrad::data {

/// One named line of a LinePlot.
struct PlotSeries {
  std::string name;
  std::vector<double> x, y;
  std::string color;  // any SVG colour; empty: the next colour of the palette
};

namespace detail {

/// Text with &, <, > and " escaped for XML.
inline std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

/// A number as a tick label: up to 6 significant digits, no trailing zeros, never "-0".
inline std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v == 0 ? 0.0 : v);
  return buf;
}

/// An axis: [lo, hi] widened to whole multiples of a "nice" step (1, 2 or 5 times a power of ten)
/// that gives about `target` intervals.
struct Axis {
  double lo = 0, hi = 1, step = 0.2;
  static Axis nice(double lo, double hi, int target = 5) {
    if (!(lo < hi)) {  // one value (or none): a unit interval around it
      const double pad = lo == 0 || !std::isfinite(lo) ? 1.0 : std::abs(lo) * 0.5;
      if (!std::isfinite(lo)) lo = 0;
      lo -= pad, hi = lo + 2 * pad;
    }
    const double raw = (hi - lo) / target;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double r = raw / magnitude;
    const double step = (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * magnitude;
    // The small slack keeps an end that is already a multiple (up to rounding) from moving a step.
    return {std::floor(lo / step + 1e-9) * step, std::ceil(hi / step - 1e-9) * step, step};
  }
  std::vector<double> ticks() const {
    std::vector<double> out;
    const auto n = static_cast<long>(std::lround((hi - lo) / step));
    for (long i = 0; i <= n; ++i) out.push_back(lo + step * static_cast<double>(i));
    return out;
  }
};

}  // namespace detail

/// A line plot written as SVG:
///
///     data::LinePlot plot;
///     plot.title("Training loss").x_label("epoch").y_label("loss").add("train", losses);
///     plot.save("loss.svg");
///
/// Axes span the data rounded out to "nice" ticks (1, 2 or 5 times a power of ten), unless
/// x_range/y_range fix them. Points that are NaN or infinite break a line instead of bending it.
class LinePlot {
 public:
  LinePlot& title(std::string v) { title_ = std::move(v); return *this; }
  LinePlot& x_label(std::string v) { x_label_ = std::move(v); return *this; }
  LinePlot& y_label(std::string v) { y_label_ = std::move(v); return *this; }
  /// The size of the picture in pixels (default 640 x 420).
  LinePlot& size(int width, int height) {
    if (width < 200 || height < 150)
      throw ValueError(tapegrad::detail::cat("LinePlot::size: ", width, " x ", height, " is too small (at least 200 x 150)"));
    width_ = width, height_ = height;
    return *this;
  }
  /// Fixes the x axis to [lo, hi] (ValueError unless lo < hi).
  LinePlot& x_range(double lo, double hi) { x_range_ = checked_range("x_range", lo, hi); return *this; }
  /// Fixes the y axis to [lo, hi] (ValueError unless lo < hi).
  LinePlot& y_range(double lo, double hi) { y_range_ = checked_range("y_range", lo, hi); return *this; }

  /// Adds a line through (0, y[0]), (1, y[1]), ... (one value per epoch from epoch 0, say).
  LinePlot& add(std::string name, const std::vector<double>& y, std::string color = "") {
    std::vector<double> x(y.size());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i);
    return add(std::move(name), std::move(x), y, std::move(color));
  }
  /// Adds a line through (x[i], y[i]); ValueError if x and y differ in length.
  LinePlot& add(std::string name, std::vector<double> x, std::vector<double> y, std::string color = "") {
    if (x.size() != y.size())
      throw ValueError(tapegrad::detail::cat("LinePlot::add: series ", tapegrad::detail::quote(name), " has ", x.size(),
                                             " x values but ", y.size(), " y values"));
    series_.push_back({std::move(name), std::move(x), std::move(y), std::move(color)});
    return *this;
  }
  const std::vector<PlotSeries>& series() const noexcept { return series_; }

  /// The plot as an SVG document.
  std::string to_svg() const {
    const int left = 70, right = 20, top = 75, bottom = 55;
    const int plot_w = width_ - left - right, plot_h = height_ - top - bottom;
    const detail::Axis xa = axis(x_range_, true), ya = axis(y_range_, false);
    const auto px = [&](double x) { return left + plot_w * (x - xa.lo) / (xa.hi - xa.lo); };
    const auto py = [&](double y) { return top + plot_h * (ya.hi - y) / (ya.hi - ya.lo); };
    std::ostringstream s;
    s.imbue(std::locale::classic());
    s.setf(std::ios::fixed);
    s.precision(1);
    s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width_ << "\" height=\"" << height_ << "\" viewBox=\"0 0 "
      << width_ << " " << height_ << "\" font-family=\"sans-serif\" font-size=\"13\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    if (!title_.empty())
      s << "<text x=\"" << width_ / 2 << "\" y=\"25\" text-anchor=\"middle\" font-size=\"15\">" << detail::xml_escape(title_)
        << "</text>\n";
    double legend_x = left + 20;  // the legend: a row above the plot
    for (std::size_t c = 0; c < series_.size(); ++c) {
      s << "<line x1=\"" << legend_x << "\" y1=\"50\" x2=\"" << legend_x + 25 << "\" y2=\"50\" stroke-width=\"2.5\" stroke=\""
        << color(c) << "\"/>\n<text x=\"" << legend_x + 32 << "\" y=\"54\">" << detail::xml_escape(series_[c].name) << "</text>\n";
      legend_x += 60 + 7.5 * static_cast<double>(series_[c].name.size());
    }
    for (double y : ya.ticks())  // horizontal grid lines and the y ticks
      s << "<line x1=\"" << left << "\" y1=\"" << py(y) << "\" x2=\"" << left + plot_w << "\" y2=\"" << py(y)
        << "\" stroke=\"" << (std::abs(y) < ya.step * 1e-9 ? "#888" : "#ddd") << "\"/>\n<text x=\"" << left - 8 << "\" y=\""
        << py(y) + 4 << "\" text-anchor=\"end\">" << detail::tick_label(y) << "</text>\n";
    for (double x : xa.ticks())
      s << "<line x1=\"" << px(x) << "\" y1=\"" << top + plot_h << "\" x2=\"" << px(x) << "\" y2=\"" << top + plot_h + 5
        << "\" stroke=\"black\"/>\n<text x=\"" << px(x) << "\" y=\"" << top + plot_h + 20 << "\" text-anchor=\"middle\">"
        << detail::tick_label(x) << "</text>\n";
    s << "<polyline fill=\"none\" stroke=\"black\" points=\"" << left << "," << top << " " << left << "," << top + plot_h << " "
      << left + plot_w << "," << top + plot_h << "\"/>\n";
    if (!x_label_.empty())
      s << "<text x=\"" << left + plot_w / 2 << "\" y=\"" << height_ - 12 << "\" text-anchor=\"middle\">"
        << detail::xml_escape(x_label_) << "</text>\n";
    if (!y_label_.empty())
      s << "<text transform=\"translate(22 " << top + plot_h / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
        << detail::xml_escape(y_label_) << "</text>\n";
    s.precision(2);
    for (std::size_t c = 0; c < series_.size(); ++c) {
      const PlotSeries& line = series_[c];
      s << "<g class=\"series\" fill=\"none\" stroke-width=\"2.5\" stroke=\"" << color(c) << "\">";
      bool open = false;  // inside a <polyline> (NaN and infinite points close it)
      for (std::size_t i = 0; i < line.x.size(); ++i) {
        if (!std::isfinite(line.x[i]) || !std::isfinite(line.y[i])) {
          if (open) s << "\"/>";
          open = false;
          continue;
        }
        s << (open ? " " : "<polyline points=\"") << px(line.x[i]) << "," << py(line.y[i]);
        open = true;
      }
      if (open) s << "\"/>";
      s << "</g>\n";
    }
    s << "</svg>\n";
    return s.str();
  }

  /// Writes to_svg() to `path`; the file is replaced only once complete (IoError if it cannot be).
  void save(const std::filesystem::path& path) const {
    const std::string text = to_svg();
    io::detail::write_atomically("LinePlot::save", path, [&](io::detail::Sink& sink) { sink.write(text); });
  }

 private:
  static std::pair<double, double> checked_range(const char* what, double lo, double hi) {
    if (!(lo < hi) || !std::isfinite(lo) || !std::isfinite(hi))
      throw ValueError(tapegrad::detail::cat("LinePlot::", what, ": [", lo, ", ", hi, "] is not a range (need finite lo < hi)"));
    return {lo, hi};
  }

  // The fixed range, or the nice range around the finite data.
  detail::Axis axis(const std::optional<std::pair<double, double>>& fixed, bool is_x) const {
    if (fixed) {
      detail::Axis a = detail::Axis::nice(fixed->first, fixed->second);
      return {fixed->first, fixed->second, a.step};
    }
    double lo = INFINITY, hi = -INFINITY;
    for (const PlotSeries& line : series_)
      for (std::size_t i = 0; i < line.x.size(); ++i)
        if (std::isfinite(line.x[i]) && std::isfinite(line.y[i])) {
          const double v = is_x ? line.x[i] : line.y[i];
          lo = std::min(lo, v), hi = std::max(hi, v);
        }
    return detail::Axis::nice(lo, hi);
  }

  std::string color(std::size_t c) const {
    static const char* const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    return series_[c].color.empty() ? palette[c % 10] : series_[c].color;
  }

  std::string title_, x_label_, y_label_;
  int width_ = 640, height_ = 420;
  std::optional<std::pair<double, double>> x_range_, y_range_;
  std::vector<PlotSeries> series_;
};

}  // namespace tapegrad::data
