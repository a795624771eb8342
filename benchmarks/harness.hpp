// SPDX-License-Identifier: MIT
// A small timing harness: each case runs for at least `min_time` per repetition, the minimum over
// repetitions is reported (the least disturbed run), and cases can be interleaved in one process.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace bench {

inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Seconds per call of `f`: min over `reps` repetitions of batches lasting >= min_time.
inline double time_per_call(const std::function<void()>& f, int reps = 7, double min_time = 0.015) {
  f();  // warm up caches, allocators and lazy initialisation
  long iters = 1;
  for (;;) {
    const double t0 = now_seconds();
    for (long i = 0; i < iters; ++i) f();
    const double dt = now_seconds() - t0;
    if (dt >= min_time) break;
    iters = dt <= 0 ? iters * 10 : std::max(iters + 1, static_cast<long>(static_cast<double>(iters) * min_time * 1.2 / dt));
  }
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_seconds();
    for (long i = 0; i < iters; ++i) f();
    best = std::min(best, (now_seconds() - t0) / static_cast<double>(iters));
  }
  return best;
}

/// Several candidates timed round-robin, so drift in machine load hits all of them alike.
inline std::vector<double> time_interleaved(const std::vector<std::function<void()>>& fs, int rounds = 3, int reps = 3,
                                            double min_time = 0.015) {
  std::vector<double> best(fs.size(), 1e300);
  for (int r = 0; r < rounds; ++r)
    for (std::size_t i = 0; i < fs.size(); ++i) best[i] = std::min(best[i], time_per_call(fs[i], reps, min_time));
  return best;
}

/// Optional quick mode for smoke tests: TAPEGRAD_BENCH_QUICK=1 shortens every measurement.
inline bool quick() { return std::getenv("TAPEGRAD_BENCH_QUICK") != nullptr; }

}  // namespace bench
