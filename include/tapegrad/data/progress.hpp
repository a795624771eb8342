// SPDX-License-Identifier: MIT
// ProgressBar: step/total, rate, ETA and user values (loss...) for long loops, like tqdm.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#include "tapegrad/error.hpp"

namespace tapegrad::data {

/// Options of a ProgressBar. Everything it talks to can be replaced, for tests: the stream, whether
/// that is a terminal, and the clock.
struct ProgressOptions {
  ProgressOptions() = default;
  explicit ProgressOptions(std::int64_t total) : total_(total) {}
  /// The number of steps of the loop; 0: unknown (no percentage, bar or ETA).
  ProgressOptions& total(std::int64_t v) { total_ = v; return *this; }
  /// Text before the counts, e.g. "epoch 3/10".
  ProgressOptions& description(std::string v) { description_ = std::move(v); return *this; }
  /// Where to write (default std::cerr, as tqdm). The stream must outlive the bar.
  ProgressOptions& output(std::ostream& v) { output_ = &v; return *this; }
  /// Whether the output is a terminal (redraw in place) or not (plain lines); default: isatty() of
  /// stdout or stderr when the output is std::cout or std::cerr/std::clog, else not a terminal.
  ProgressOptions& terminal(std::optional<bool> v) { terminal_ = v; return *this; }
  /// The clock, in seconds (default std::chrono::steady_clock).
  ProgressOptions& clock(std::function<double()> v) { clock_ = std::move(v); return *this; }
  /// Terminal mode: the least time between two redraws (tqdm's mininterval; default 0.1 s).
  ProgressOptions& min_interval(double seconds) { min_interval_ = seconds; return *this; }
  /// Not a terminal: a line every this many seconds while the loop runs (default 10 s), and always
  /// one at close().
  ProgressOptions& log_interval(double seconds) { log_interval_ = seconds; return *this; }
  /// Width of the bar in characters (default 20).
  ProgressOptions& bar_width(int v) { bar_width_ = v; return *this; }

  std::int64_t total() const noexcept { return total_; }
  const std::string& description() const noexcept { return description_; }
  std::ostream& output() const noexcept { return *output_; }
  std::optional<bool> terminal() const noexcept { return terminal_; }
  const std::function<double()>& clock() const noexcept { return clock_; }
  double min_interval() const noexcept { return min_interval_; }
  double log_interval() const noexcept { return log_interval_; }
  int bar_width() const noexcept { return bar_width_; }

 private:
  std::int64_t total_ = 0;
  std::string description_;
  std::ostream* output_ = &std::cerr;
  std::optional<bool> terminal_;
  std::function<double()> clock_;
  double min_interval_ = 0.1, log_interval_ = 10.0;
  int bar_width_ = 20;
};

/// A progress bar for a loop of known (or unknown) length:
///
///     data::ProgressBar bar(data::ProgressOptions(loader.size()).description("epoch 1/5"));
///     for (auto& batch : loader) { ...; bar.set_postfix("loss", loss.item()); bar.update(); }
///     bar.close();
///
/// On a terminal it redraws one line in place ('\r', at most every min_interval seconds):
///     epoch 1/5:  40%|########            | 4/10 [00:02<00:03, 2.00it/s, loss=0.6931]
/// Elsewhere (CI logs, pipes) it prints that line without the bar, as a line of its own, every
/// log_interval seconds and at close(), so logs get a few lines instead of thousands. close() (or the
/// destructor) writes the final state with its newline once.
class ProgressBar {
 public:
  explicit ProgressBar(ProgressOptions options = {}) : options_(std::move(options)) {
    if (options_.total() < 0)
      throw ValueError(tapegrad::detail::cat("ProgressBar: total = ", options_.total(), " must be non-negative (0: unknown)"));
    if (options_.bar_width() < 1)
      throw ValueError(tapegrad::detail::cat("ProgressBar: bar_width = ", options_.bar_width(), " must be at least 1"));
    terminal_ = options_.terminal() ? *options_.terminal() : is_terminal(options_.output());
    start_ = now();
    last_print_ = start_;
  }
  /// A bar over `total` steps labelled `description`.
  ProgressBar(std::int64_t total, std::string description)
      : ProgressBar(ProgressOptions(total).description(std::move(description))) {}
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar() {
    try {
      close();
    } catch (...) {  // a destructor must not throw; a failing stream is not worth a crash
    }
  }

  /// Counts `n` more steps (tqdm's update) and redraws or logs if it is time to.
  void update(std::int64_t n = 1) {
    count_ += n;
    const double t = now();
    if (terminal_) {
      if (!drawn_ || t - last_print_ >= options_.min_interval()) draw(t);
    } else if (t - last_print_ >= options_.log_interval()) {
      print_line(t);
    }
  }

  /// Shows `name=value` after the counts (tqdm's set_postfix); a name set before keeps its place.
  void set_postfix(const std::string& name, double value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", value);
    set_postfix(name, std::string(buf));
  }
  /// Shows `name=value` after the counts, the value as given.
  void set_postfix(const std::string& name, const std::string& value) {
    for (auto& entry : postfix_)
      if (entry.first == name) {
        entry.second = value;
        return;
      }
    postfix_.emplace_back(name, value);
  }
  /// Replaces the text before the counts.
  void set_description(std::string description) { options_.description(std::move(description)); }

  /// Writes the final state and a newline; later calls do nothing.
  void close() {
    if (closed_) return;
    closed_ = true;
    const double t = now();
    if (terminal_) {
      draw(t);
      options_.output() << '\n';
    } else {
      print_line(t);
    }
    options_.output().flush();
  }

  /// Steps counted so far.
  std::int64_t count() const noexcept { return count_; }
  /// Seconds since the bar was made.
  double elapsed() const { return now() - start_; }
  /// Whether the bar redraws in place (the output is a terminal).
  bool terminal() const noexcept { return terminal_; }

  /// The text of the current state as it would be shown (with the bar in terminal mode, without '\r').
  std::string line() const { return format(now()); }

 private:
  static bool is_terminal(const std::ostream& os) {
#if defined(__unix__) || defined(__APPLE__)
    if (&os == &std::cout) return ::isatty(STDOUT_FILENO) != 0;
    if (&os == &std::cerr || &os == &std::clog) return ::isatty(STDERR_FILENO) != 0;
#else
    (void)os;
#endif
    return false;
  }

  double now() const {
    if (options_.clock()) return options_.clock()();
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }

  // "mm:ss", or "h:mm:ss" from an hour on.
  static std::string clock_time(double seconds) {
    if (!(seconds >= 0) || !std::isfinite(seconds)) return "?";
    const auto s = static_cast<std::int64_t>(seconds);
    char buf[40];
    if (s >= 3600)
      std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                    static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
    else
      std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
    return buf;
  }

  std::string format(double t) const {
    const double elapsed = t - start_;
    const std::int64_t total = options_.total();
    std::string out = options_.description().empty() ? "" : options_.description() + ": ";
    char buf[64];
    if (total > 0) {
      const double fraction = std::min(1.0, static_cast<double>(count_) / static_cast<double>(total));
      std::snprintf(buf, sizeof buf, "%3d%%", static_cast<int>(fraction * 100));
      out += buf;
      if (terminal_) {
        const int filled = static_cast<int>(fraction * options_.bar_width());
        out += '|' + std::string(static_cast<std::size_t>(filled), '#') +
               std::string(static_cast<std::size_t>(options_.bar_width() - filled), ' ') + '|';
      }
      out += tapegrad::detail::cat(" ", count_, "/", total);
    } else {
      out += tapegrad::detail::cat(count_, "it");
    }
    const double rate = elapsed > 0 ? static_cast<double>(count_) / elapsed : NAN;
    out += " [" + clock_time(elapsed);
    if (total > 0) out += "<" + (rate > 0 ? clock_time(static_cast<double>(std::max<std::int64_t>(total - count_, 0)) / rate) : "?");
    if (std::isfinite(rate)) std::snprintf(buf, sizeof buf, ", %.2fit/s", rate);
    else std::snprintf(buf, sizeof buf, ", ?it/s");
    out += buf;
    for (const auto& [name, value] : postfix_) out += ", " + name + "=" + value;
    return out + "]";
  }

  void draw(double t) {
    std::string text = format(t);
    const std::size_t length = text.size();
    if (length < drawn_length_) text.append(drawn_length_ - length, ' ');  // cover the end of a longer line
    options_.output() << '\r' << text << std::flush;
    drawn_length_ = length;
    drawn_ = true;
    last_print_ = t;
  }

  void print_line(double t) {
    std::string text = format(t);
    if (text != printed_) options_.output() << text << '\n';  // close() right after a periodic line: no repeat
    printed_ = std::move(text);
    last_print_ = t;
  }

  ProgressOptions options_;
  bool terminal_ = false;
  bool drawn_ = false;
  bool closed_ = false;
  std::int64_t count_ = 0;
  double start_ = 0, last_print_ = 0;
  std::size_t drawn_length_ = 0;
  std::string printed_;  // the last line printed in pipe mode
  std::vector<std::pair<std::string, std::string>> postfix_;
};

}  // namespace tapegrad::data
