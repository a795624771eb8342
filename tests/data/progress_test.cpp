// SPDX-License-Identifier: MIT
// ProgressBar in terminal mode (redraws in place) and pipe mode (periodic plain lines), with an
// injected stream, terminal flag and clock; LinePlot's SVG.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/test.hpp"

namespace progress_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace data = tapegrad::data;
using tg_test::Contains;

namespace {

std::size_t count_of(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace

TEST_CASE("ProgressBar: terminal mode redraws one line in place") {
  std::ostringstream out;
  double now = 100;  // steps of 1/8 s: exact in binary, so the redraw times are exact too
  {
    data::ProgressBar bar(data::ProgressOptions(10).description("epoch 1/2").output(out).terminal(true).min_interval(0.25).clock(
        [&] { return now; }));
    CHECK(bar.terminal());
    for (int step = 1; step <= 10; ++step) {
      now += 0.125;
      bar.set_postfix("loss", 1.0 / step);
      bar.update();
      if (step == 4) CHECK(bar.line() == "epoch 1/2:  40%|########            | 4/10 [00:00<00:00, 8.00it/s, loss=0.25]");
    }
    CHECK(count_of(out.str(), "\n") == 0);  // nothing but redraws so far
    bar.close();
    bar.close();  // once only
  }
  const std::string s = out.str();
  CHECK(count_of(s, "\n") == 1);
  CHECK(s.back() == '\n');
  CHECK(count_of(s, "\r") == 6);  // the first step, then every 0.25 s: steps 3, 5, 7, 9, and close()
  const std::string last = s.substr(s.rfind('\r') + 1);
  CHECK(last == "epoch 1/2: 100%|####################| 10/10 [00:01<00:00, 8.00it/s, loss=0.1]  \n");  // blanks over the longer loss=0.1111
}

TEST_CASE("ProgressBar: terminal mode blanks what a longer line left behind") {
  std::ostringstream out;
  double now = 0;
  data::ProgressBar bar(data::ProgressOptions(0).output(out).terminal(true).min_interval(0).clock([&] { return now; }));
  bar.set_postfix("note", "a long note");
  now = 1;
  bar.update();
  bar.set_postfix("note", "x");
  now = 2;
  bar.update();
  const std::string s = out.str();
  CHECK(s == "\r1it [00:01, 1.00it/s, note=a long note]\r2it [00:02, 1.00it/s, note=x]          ");
}

TEST_CASE("ProgressBar: pipe mode prints plain lines every log_interval seconds and at close") {
  std::ostringstream out;
  double now = 0;
  data::ProgressBar bar(
      data::ProgressOptions(10).description("epoch 1").output(out).terminal(false).log_interval(1.0).clock([&] { return now; }));
  CHECK_FALSE(bar.terminal());
  for (int step = 1; step <= 10; ++step) {
    now += 0.25;
    bar.set_postfix("loss", 0.5);
    bar.update();
  }
  bar.close();
  CHECK(out.str() ==
        "epoch 1:  40% 4/10 [00:01<00:01, 4.00it/s, loss=0.5]\n"
        "epoch 1:  80% 8/10 [00:02<00:00, 4.00it/s, loss=0.5]\n"
        "epoch 1: 100% 10/10 [00:02<00:00, 4.00it/s, loss=0.5]\n");
  CHECK(count_of(out.str(), "\r") == 0);
}

TEST_CASE("ProgressBar: a plain stream is not a terminal, the destructor closes, long times") {
  std::ostringstream out;
  double now = 0;
  {
    data::ProgressBar bar(data::ProgressOptions(5000).output(out).clock([&] { return now; }));
    CHECK_FALSE(bar.terminal());
    now = 3725;
    bar.update(1000);
    CHECK(bar.count() == 1000);
    CHECK(bar.line() == " 20% 1000/5000 [1:02:05<4:08:20, 0.27it/s]");
  }
  CHECK(out.str() == " 20% 1000/5000 [1:02:05<4:08:20, 0.27it/s]\n");
  std::ostringstream none;
  data::ProgressBar zero(data::ProgressOptions(3).output(none).clock([] { return 0.0; }));
  CHECK(zero.line() == "  0% 0/3 [00:00<?, ?it/s]");
  CHECK_THROWS_WITH(data::ProgressBar(data::ProgressOptions(-1)), Contains("total = -1 must be non-negative"));
}

TEST_CASE("LinePlot: a well-formed SVG with the title, labels, legend, ticks and one group per series") {
  data::LinePlot plot;
  plot.title("Loss <train & test>").x_label("epoch").y_label("loss");
  plot.add("train", {1.0, 0.6, 0.4, 0.3}).add("test", {1.1, 0.8, NAN, 0.6}, "#000");
  const std::string svg = plot.to_svg();
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(svg.size() >= 7);
  CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
  CHECK(count_of(svg, "<svg") == 1);
  CHECK(count_of(svg, "<g class=\"series\"") == 2);
  CHECK(count_of(svg, "<polyline points=") == 3);  // the NaN splits the test line in two
  CHECK_THAT(svg, Contains("Loss &lt;train &amp; test&gt;"));
  CHECK_THAT(svg, Contains(">epoch</text>"));
  CHECK_THAT(svg, Contains("stroke=\"#000\""));
  CHECK_THAT(svg, Contains("stroke=\"#1f77b4\""));
  // y from 0.3 to 1.1: ticks every 0.2 from 0.2 to 1.2, x ticks every 1 from 0 to 3
  for (const char* tick : {">0.2</text>", ">0.4</text>", ">1.2</text>", ">0</text>", ">2</text>", ">3</text>"})
    CHECK_THAT(svg, Contains(tick));
  CHECK(count_of(svg, "<") == count_of(svg, ">"));
  const auto path = std::filesystem::temp_directory_path() / "tapegrad_plot_test.svg";
  plot.save(path);
  std::ifstream in(path);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == svg);
  std::filesystem::remove(path);
  CHECK_THROWS_AS(plot.add("bad", std::vector<double>{1, 2}, std::vector<double>{1}), tg::ValueError);
  CHECK_THROWS_AS(data::LinePlot().y_range(1, 1), tg::ValueError);
}

TEST_CASE("LinePlot: fixed ranges and nice ticks") {
  data::LinePlot plot;
  plot.y_range(-1, 1).add("s", std::vector<double>(26, 0.0));
  const std::string svg = plot.to_svg();
  for (const char* tick : {">-1</text>", ">-0.5</text>", ">0</text>", ">0.5</text>", ">1</text>", ">25</text>", ">5</text>"})
    CHECK_THAT(svg, Contains(tick));
  CHECK(count_of(svg, "stroke=\"#888\"") == 1);  // the zero line
  const std::string flat = data::LinePlot().add("one", {2.0}).to_svg();  // a single point still has an axis
  CHECK(count_of(flat, "<g class=\"series\"") == 1);
}

}  // namespace progress_test
