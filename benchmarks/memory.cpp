// SPDX-License-Identifier: MIT
// Peak memory of Embedding training iterations (zero_grad, forward, backward, SGD step), each
// case in its own child process so that the peak (VmHWM) belongs to that case alone; and the
// resident size after warm-up against after the last step (no growth), with page faults per step.
// Usage: bench_memory            (runs every case in a child)
//        bench_memory --child LIB MODE V D B STEPS   (one case; LIB tapegrad|libtorch, MODE dense|sparse)
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include <tapegrad/tapegrad.hpp>

#include "suite.hpp"

namespace tg = tapegrad;

namespace {

constexpr std::int64_t kWarmSteps = 100;  // the resident size after these is the "no growth" baseline

long status_kb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::strlen(key)));
  return -1;
}

// One case, in this (child) process. Prints "RESULT baseline table hwm warm end faults seconds".
int child(const std::string& lib, bool sparse, std::int64_t v, std::int64_t d, std::int64_t b, std::int64_t steps) {
  bench::set_threads(1);
  const long baseline = status_kb("VmRSS:");
  std::vector<std::vector<std::int64_t>> batches;
  for (unsigned k = 0; k < 16; ++k) batches.push_back(bench::uniform_indices(v, b, 100 + k));
  std::function<void(std::int64_t)> step;
  tg::Tensor<float> leaf, grad_out;
  std::vector<tg::Tensor<std::int64_t>> idx;
  std::unique_ptr<tg::optim::SGD<float>> opt;
  torch_peer::Case torch_step;
  if (lib == "tapegrad") {
    leaf = tg::empty<float>({v, d});
    bench::fill_unit_variance(leaf.data(), v * d);
    leaf.requires_grad_();
    grad_out = tg::empty<float>({b, d});
    bench::fill_unit_variance(grad_out.data(), b * d, 3);
    for (const auto& batch : batches) idx.push_back(tg::tensor<std::int64_t>(batch, {b}));
    opt = std::make_unique<tg::optim::SGD<float>>(std::vector<tg::Tensor<float>>{leaf}, tg::optim::SGDOptions(0.1));
    const auto options = tg::nn::functional::EmbeddingFuncOptions().sparse(sparse);
    step = [&](std::int64_t i) {
      opt->zero_grad();
      auto y = tg::nn::functional::embedding(idx[static_cast<std::size_t>(i % 16)], leaf, options);
      y.backward(grad_out);
      opt->step();
    };
  } else {
    torch_step = torch_peer::embedding_train(v, d, batches[0], sparse);
    if (!torch_step) {
      std::printf("RESULT none\n");
      return 0;
    }
    step = [&](std::int64_t) { torch_step(); };
  }
  const double t0 = bench::now_seconds();
  const std::int64_t warm = std::min(kWarmSteps, steps);
  for (std::int64_t i = 0; i < warm; ++i) step(i);
  const long rss_warm = status_kb("VmRSS:");
  const long f0 = bench::minor_faults();
  for (std::int64_t i = warm; i < steps; ++i) step(i);
  const long faults = bench::minor_faults() - f0;
  const long rss_end = status_kb("VmRSS:");
  const double seconds = bench::now_seconds() - t0;
  std::printf("RESULT %ld %lld %ld %ld %ld %.2f %.1f\n", baseline, static_cast<long long>(v * d * 4 / 1024),
              status_kb("VmHWM:"), rss_warm, rss_end, steps > warm ? static_cast<double>(faults) / static_cast<double>(steps - warm) : 0.0,
              seconds);
  return 0;
}

struct Config {
  const char* lib;
  const char* mode;
  std::int64_t v, d, b, steps;
};

void run_child(char** argv, const Config& c) {
  int fds[2];
  if (::pipe(fds) != 0) return;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    const std::string v = std::to_string(c.v), d = std::to_string(c.d), b = std::to_string(c.b), s = std::to_string(c.steps);
    const char* args[] = {argv[0], "--child", c.lib, c.mode, v.c_str(), d.c_str(), b.c_str(), s.c_str(), nullptr};
    ::execv("/proc/self/exe", const_cast<char**>(args));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const auto at = out.find("RESULT ");
  char label[96];
  std::snprintf(label, sizeof label, "%-8s %-6s V=%lld D=%lld B=%lld steps=%lld", c.lib, c.mode, static_cast<long long>(c.v),
                static_cast<long long>(c.d), static_cast<long long>(c.b), static_cast<long long>(c.steps));
  if (at == std::string::npos || out.compare(at, 11, "RESULT none") == 0) {
    std::printf("%-58s %s\n", label, at == std::string::npos ? "FAILED (no result)" : "n/a");
    return;
  }
  std::istringstream in(out.substr(at + 7));
  double base, table, hwm, warm, end, faults, secs;
  in >> base >> table >> hwm >> warm >> end >> faults >> secs;
  std::printf("%-58s %8.0f %8.0f %8.0f %7.2fx %7.2fx %+9.0f %9.2f %7.1f\n", label, table / 1024, base / 1024, hwm / 1024,
              hwm / table, (hwm - base) / table, (end - warm) / 1024, faults, secs);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 8 && std::strcmp(argv[1], "--child") == 0)
    return child(argv[2], std::strcmp(argv[3], "sparse") == 0, std::stoll(argv[4]), std::stoll(argv[5]), std::stoll(argv[6]),
                 std::stoll(argv[7]));
  bench::run_libtorch_at_its_best(argv);
  bench::print_header("Memory of Embedding training iterations (SGD lr 0.1; each case in its own process)");
  std::printf("MiB: table = V*D*4; base = resident before the table; peak = VmHWM. peak/table counts everything\n"
              "(libraries included); (peak-base)/table what training added. growth = resident after the last step minus\n"
              "after step %lld. faults = minor page faults per step after that. Targets (1M x 300): sparse <= 1.1x the\n"
              "table, dense <= 2.1x, no growth.\n",
              static_cast<long long>(kWarmSteps));
  std::printf("%-58s %8s %8s %8s %8s %8s %9s %9s %7s\n", "case", "table", "base", "peak", "pk/tbl", "add/tbl", "growth",
              "faults", "seconds");
  const std::vector<Config> configs =
      bench::quick() ? std::vector<Config>{{"tapegrad", "dense", 10000, 64, 32, 200}, {"tapegrad", "sparse", 10000, 64, 32, 200}}
                     : std::vector<Config>{{"tapegrad", "sparse", 1000000, 300, 4096, 10000},
                                           {"tapegrad", "dense", 1000000, 300, 4096, 200},
                                           {"tapegrad", "sparse", 1000000, 300, 65536, 300},
                                           {"tapegrad", "dense", 10000, 300, 4096, 10000},
                                           {"libtorch", "sparse", 1000000, 300, 4096, 2000},
                                           {"libtorch", "dense", 1000000, 300, 4096, 20}};
  for (const Config& c : configs) run_child(argv, c);
  bench::print_footer();
  return 0;
}
