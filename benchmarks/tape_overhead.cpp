// SPDX-License-Identifier: MIT
// Per-op overhead of the tape: 100 alternating add/mul ops on 2x2 float tensors, then a sum.
// Reports ns per op for: forward without grad, forward recording the graph, forward + backward, and
// forward + backward written with the Tensor methods (y.add(w), y.mul(w), y.sum()); with libtorch's
// figures from the same process when it was found at configure time (its operators and methods are
// the same calls, so the method row is compared with its forward + backward).
#include <cstdio>

#include <tapegrad/tapegrad.hpp>

#include "harness.hpp"
#include "torch_peer.hpp"

namespace tg = tapegrad;

namespace {

constexpr int kOps = 100;

tg::Tensor<float> chain(const tg::Tensor<float>& x, const tg::Tensor<float>& w) {
  tg::Tensor<float> y = x;
  for (int i = 0; i < kOps; ++i) y = (i % 2 == 0) ? y + w : y * w;
  return tg::sum(y);
}

// The same chain in libtorch's method style: the methods forward to the free functions.
tg::Tensor<float> chain_methods(const tg::Tensor<float>& x, const tg::Tensor<float>& w) {
  tg::Tensor<float> y = x;
  for (int i = 0; i < kOps; ++i) y = (i % 2 == 0) ? y.add(w) : y.mul(w);
  return y.sum();
}

}  // namespace

int main() {
  torch_peer::set_threads(1);
  std::printf("tape overhead: %d alternating add/mul ops on 2x2 float32 tensors, then sum (1 thread)\n", kOps);
  auto x = tg::tensor<float>({0.1f, 0.2f, 0.3f, 0.4f}, {2, 2}, true);
  auto w = tg::tensor<float>({1.0f, 0.99f, 1.01f, 1.0f}, {2, 2}, true);

  auto fwd_nograd = [&] {
    tg::NoGradGuard no_grad;
    volatile float sink = chain(x, w).item();
    (void)sink;
  };
  auto fwd_record = [&] { volatile float sink = chain(x, w).item(); (void)sink; };
  auto fwd_bwd = [&] {
    x.mutable_grad() = tg::Tensor<float>();
    w.mutable_grad() = tg::Tensor<float>();
    chain(x, w).backward();
  };
  auto fwd_bwd_methods = [&] {
    x.mutable_grad() = tg::Tensor<float>();
    w.mutable_grad() = tg::Tensor<float>();
    chain_methods(x, w).backward();
  };

  const char* names[] = {"forward, no grad", "forward, recording", "forward + backward", "fwd + bwd, methods"};
  std::vector<std::function<void()>> ours{fwd_nograd, fwd_record, fwd_bwd, fwd_bwd_methods};
  std::vector<std::function<void()>> theirs = torch_peer::tape_cases(kOps);
  if (!theirs.empty()) theirs.push_back(theirs[2]);  // libtorch's methods are its operators
  const int reps = bench::quick() ? 1 : 7;
  std::printf("%-22s %12s %14s %10s\n", "case", "tapegrad ns", "libtorch ns", "speed-up");
  for (int c = 0; c < 4; ++c) {
    std::vector<std::function<void()>> fs{ours[c]};
    if (!theirs.empty()) fs.push_back(theirs[static_cast<std::size_t>(c)]);
    const auto t = bench::time_interleaved(fs, bench::quick() ? 1 : 3, reps);
    const double ns_ours = t[0] * 1e9 / kOps;
    if (t.size() > 1) {
      const double ns_torch = t[1] * 1e9 / kOps;
      std::printf("%-22s %12.1f %14.1f %9.1fx\n", names[c], ns_ours, ns_torch, ns_torch / ns_ours);
    } else {
      std::printf("%-22s %12.1f %14s %10s\n", names[c], ns_ours, "n/a", "n/a");
    }
  }
  if (theirs.empty()) std::printf("(libtorch not found at configure time: install libtorch-dev for the comparison)\n");
  return 0;
}
