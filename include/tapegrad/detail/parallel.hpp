// SPDX-License-Identifier: MIT
// Optional OpenMP: large kernels split their work across threads when tapegrad is built with
// TAPEGRAD_OPENMP (CMake option; it defines the macro and links OpenMP). Small ones never do.
#pragma once

#include <cstdint>

#if defined(TAPEGRAD_OPENMP)
#include <omp.h>
#endif

namespace tapegrad::detail {

/// Memory traffic (bytes read + written) below which a kernel stays on one thread: 32 MiB, about
/// a millisecond of work. On an idle machine a fork/join costs about 0.5 us, but on a shared one
/// (2 vCPUs, other processes busy) the second thread can be off the CPU for a scheduler time
/// slice, milliseconds, while the first waits at the join: under a load average of 2.6 a
/// batch-1024 training step with parallel regions from 1 MiB up ran 20x slower on 2 threads
/// than on 1, and still 9x slower from 8 MiB up. Only kernels long enough to absorb a lost time
/// slice are split (the gathers and scatters of 1M-row tables at large batches).
inline constexpr double kParallelMinBytes = double(32 << 20);

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
