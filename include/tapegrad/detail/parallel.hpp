// SPDX-License-Identifier: MIT
// Optional OpenMP: large kernels split their work across threads when tapegrad is built with
// TAPEGRAD_OPENMP (CMake option; it defines the macro and links OpenMP). Small ones never do.
#pragma once

#include <cstdint>

#if defined(TAPEGRAD_OPENMP)
#include <omp.h>
#endif

namespace tapegrad::detail {

/// Memory traffic (bytes read + written) below which a kernel stays on one thread. A fork/join
/// costs about 0.5 us here and a second thread only helps once the work is well above that; at
/// 1 MiB (10-20 us of work) a second thread pays even when it starts late, and small training
/// steps (an embedding lookup of 32 x 16 rows) never pay for a thread they cannot use.
inline constexpr double kParallelMinBytes = double(1 << 20);

/// How many threads a kernel with this much memory traffic would use (1 without OpenMP).
inline int threads_for(double bytes) {
#if defined(TAPEGRAD_OPENMP)
  if (bytes < kParallelMinBytes || omp_in_parallel()) return 1;
  return omp_get_max_threads();
#else
  (void)bytes;
  return 1;
#endif
}

/// Calls f(begin, end) on contiguous pieces of [0, n), one per thread, in parallel when the work
/// (bytes of memory traffic) is large enough and OpenMP is on; otherwise f(0, n). f must not throw.
template <class F>
void parallel_for(std::int64_t n, double bytes, F&& f) {
#if defined(TAPEGRAD_OPENMP)
  const int threads = threads_for(bytes);
  if (threads > 1 && n > 1) {
#pragma omp parallel num_threads(threads)
    {
      const std::int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
      const std::int64_t begin = n * t / nt, end = n * (t + 1) / nt;
      if (begin < end) f(begin, end);
    }
    return;
  }
#else
  (void)bytes;
#endif
  if (n > 0) f(std::int64_t(0), n);
}

}  // namespace tapegrad::detail
