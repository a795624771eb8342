// SPDX-License-Identifier: MIT
// What every benchmark program shares: the report header (machine, load, OpenBLAS core type,
// OpenMP), libtorch at its best (re-executed without OPENBLAS_CORETYPE), thread control, and the
// one-line-per-case report: time, rate, ratio to libtorch, % of the physical reference, 2 threads.
#pragma once

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <sys/resource.h>
#include <tapegrad/detail/gemm.hpp>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#if defined(TAPEGRAD_OPENMP)
#include <omp.h>
#endif

#include "harness.hpp"
#include "torch_peer.hpp"

namespace bench {

/// This environment may set OPENBLAS_CORETYPE=Haswell, which runs OpenBLAS (and so libtorch's
/// GEMM) on AVX2 kernels at half speed. The peer to beat is libtorch at its best, so the program
/// re-executes itself once without the variable (and its companion OPENBLAS_L2_SIZE). Set
/// TAPEGRAD_BENCH_KEEP_CORETYPE=1 to measure with the variable in force instead.
inline void run_libtorch_at_its_best(char** argv) {
  const char* core = std::getenv("OPENBLAS_CORETYPE");
  if (!core || std::getenv("TAPEGRAD_BENCH_KEEP_CORETYPE")) return;
  ::setenv("TAPEGRAD_BENCH_DROPPED_CORETYPE", core, 1);
  ::unsetenv("OPENBLAS_CORETYPE");
  ::unsetenv("OPENBLAS_L2_SIZE");
  ::execv("/proc/self/exe", argv);
  std::perror("re-exec without OPENBLAS_CORETYPE failed; continuing with it");
}

inline bool openmp_on() {
#if defined(TAPEGRAD_OPENMP)
  return true;
#else
  return false;
#endif
}

/// Thread counts each case runs at: 1, and 2 when tapegrad was built with OpenMP.
inline std::vector<int> thread_counts() { return openmp_on() ? std::vector<int>{1, 2} : std::vector<int>{1}; }

/// OpenBLAS's own controls, when OpenBLAS is loaded (by libtorch or by TAPEGRAD_USE_BLAS): looked up
/// at run time, so the programs need no OpenBLAS at link time.
inline void openblas_set_threads(int threads) {
  using Fn = void (*)(int);
  if (auto f = reinterpret_cast<Fn>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(threads);
}

/// "OpenBLAS 0.3.21 ..., core Cooperlake", or "not loaded".
inline std::string openblas_description() {
  using Fn = char* (*)();
  auto core = reinterpret_cast<Fn>(::dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  auto config = reinterpret_cast<Fn>(::dlsym(RTLD_DEFAULT, "openblas_get_config"));
  if (!core) return "not loaded";
  return std::string(config ? config() : "OpenBLAS") + "; core type in force: " + core();
}

/// Pins tapegrad (OpenMP, which Eigen's GEMM also uses), libtorch (intra-op) and OpenBLAS.
inline void set_threads(int threads) {
#if defined(TAPEGRAD_OPENMP)
  omp_set_num_threads(threads);
#endif
  torch_peer::set_threads(threads);
  openblas_set_threads(threads);
}

inline std::string first_line_with(const char* path, const char* key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return line;
  return "";
}

inline std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

inline void print_header(const char* title) {
  std::string cpu = first_line_with("/proc/cpuinfo", "model name");
  if (auto p = cpu.find(": "); p != std::string::npos) cpu = cpu.substr(p + 2);
  std::printf("== %s\n", title);
  std::printf("machine: %s, %ld vCPUs; load average at start: %s\n", cpu.c_str(), ::sysconf(_SC_NPROCESSORS_ONLN),
              load_average().c_str());
#if defined(__clang__)
  const char* compiler = "clang " __clang_version__;
#else
  const char* compiler = "g++ " __VERSION__;
#endif
  const char* blas = tapegrad::detail::gemm_uses_blas() ? "on (matrix products in the BLAS, kernels chosen at run time)"
                                                       : "off (Eigen's GEMM, the compiler's vector ISA)";
  // What the compiler was allowed to use: the default build has no -march (TAPEGRAD_BENCH_NATIVE adds it).
#if defined(__AVX512F__)
  const char* isa = "AVX-512";
#elif defined(__AVX2__) && defined(__FMA__)
  const char* isa = "AVX2+FMA";
#elif defined(__AVX__)
  const char* isa = "AVX";
#elif defined(__SSE2__)
  const char* isa = "SSE2";
#else
  const char* isa = "scalar";
#endif
#if defined(TAPEGRAD_BENCH_NATIVE)
  const char* arch = "-march=native";
#else
  const char* arch = "no -march";
#endif
  std::printf("build: %s, -O3, %s (vector ISA %s), OpenMP %s, TAPEGRAD_USE_BLAS %s\n", compiler, arch, isa,
              openmp_on() ? "on (threads 1 and 2)" : "off (1 thread)", blas);
  std::printf("peer: %s\n", torch_peer::describe().c_str());
  std::printf("OpenBLAS: %s (OPENBLAS_CORETYPE %s)\n", openblas_description().c_str(),
              std::getenv("OPENBLAS_CORETYPE") ? std::getenv("OPENBLAS_CORETYPE") : "unset");
  if (const char* dropped = std::getenv("TAPEGRAD_BENCH_DROPPED_CORETYPE"))
    std::printf("note: OPENBLAS_CORETYPE=%s was set; re-executed without it so libtorch runs at its best\n", dropped);
  if (quick()) std::printf("quick mode (TAPEGRAD_BENCH_QUICK): smoke-test sizes and timings, not for reporting\n");
  std::printf("times are the minimum over repetitions; candidates are timed interleaved in this process\n");
}

inline void print_footer() { std::printf("load average at end: %s\n", load_average().c_str()); }

/// Minor page faults of this process so far (a fault per 4 KiB page touched for the first time).
inline long minor_faults() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

/// "12.3 us" with a unit that keeps 3-4 significant digits.
inline std::string format_time(double s) {
  char buf[32];
  if (s < 1e-6)
    std::snprintf(buf, sizeof buf, "%.0f ns", s * 1e9);
  else if (s < 1e-3)
    std::snprintf(buf, sizeof buf, "%.2f us", s * 1e6);
  else if (s < 1)
    std::snprintf(buf, sizeof buf, "%.2f ms", s * 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.3f s", s);
  return buf;
}

/// One benchmark case: tapegrad, and optionally libtorch and the physical reference, each a
/// closure running one iteration. `work` is bytes (rate in GB/s) or FLOP (GFLOP/s) per iteration.
struct Case {
  std::string name;
  std::function<void()> tapegrad, libtorch, reference;
  double work = 0;
  bool flops = false;
  std::string note;  // an extra column, e.g. ns per looked-up row
};

/// What run() measured, for programs that derive more figures (per-row costs, checks).
struct Result {
  double tapegrad = 0, libtorch = 0, reference = 0;  // seconds per iteration at 1 thread
  double tapegrad_2t = 0, libtorch_2t = 0;          // at 2 threads (0 when not measured)
};

inline void print_columns() {
  std::printf("%-38s %10s %12s %10s %8s %10s %6s", "case", "tapegrad", "rate", "libtorch", "speed-up", "reference",
              "%ref");
  if (openmp_on()) std::printf(" | %9s %9s", "tg 2T/1T", "lt 2T/1T");
  std::printf("\n");
}

/// Times the case (1 thread, then 2 with OpenMP), prints one line and returns the figures.
/// speed-up = libtorch time / tapegrad time; %ref = reference time / tapegrad time;
/// "2T/1T" = how much faster 2 threads are than 1 (below 1.00: slower).
inline Result run(const Case& c, int rounds = 3, int reps = 3) {
  if (quick()) rounds = reps = 1;
  const double min_time = quick() ? 0.001 : 0.015;
  Result r;
  set_threads(1);
  std::vector<std::function<void()>> fs{c.tapegrad};
  if (c.libtorch) fs.push_back(c.libtorch);
  if (c.reference) fs.push_back(c.reference);
  std::vector<double> t = time_interleaved(fs, rounds, reps, min_time);
  std::size_t k = 0;
  r.tapegrad = t[k++];
  if (c.libtorch) r.libtorch = t[k++];
  if (c.reference) r.reference = t[k++];
  if (openmp_on()) {
    set_threads(2);
    std::vector<std::function<void()>> fs2{c.tapegrad};
    if (c.libtorch) fs2.push_back(c.libtorch);
    const std::vector<double> t2 = time_interleaved(fs2, rounds, reps, min_time);
    r.tapegrad_2t = t2[0];
    if (c.libtorch) r.libtorch_2t = t2[1];
    set_threads(1);
  }
  char rate[32] = "";
  if (c.work > 0)
    std::snprintf(rate, sizeof rate, "%.1f %s", c.work / r.tapegrad * 1e-9, c.flops ? "GFLOP/s" : "GB/s");
  std::printf("%-38s %10s %12s", c.name.c_str(), format_time(r.tapegrad).c_str(), rate);
  if (c.libtorch)
    std::printf(" %10s %7.2fx", format_time(r.libtorch).c_str(), r.libtorch / r.tapegrad);
  else
    std::printf(" %10s %8s", "n/a", "");
  if (c.reference)
    std::printf(" %10s %5.0f%%", format_time(r.reference).c_str(), 100 * r.reference / r.tapegrad);
  else
    std::printf(" %10s %6s", "", "");
  if (openmp_on()) {
    std::printf(" | %8.2fx", r.tapegrad / r.tapegrad_2t);
    if (c.libtorch)
      std::printf(" %8.2fx", r.libtorch / r.libtorch_2t);
    else
      std::printf(" %9s", "");
  }
  if (!c.note.empty()) std::printf("  %s", c.note.c_str());
  std::printf("\n");
  std::fflush(stdout);
  return r;
}

/// The widest FMA this CPU runs, chosen at run time (cpuid): the benchmarks are built without
/// -march, so the compiler's own vector ISA says nothing about the host's peak.
struct FmaPeak {
  double gflops;    // single-thread fp32, 12 independent FMA chains (enough to hide the latency)
  const char* isa;  // "AVX-512", "AVX2+FMA" or "SSE2 (no FMA)"
};

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// Each kernel runs `iters` rounds of 12 independent multiply-adds on full vectors and returns the
// sum so the work cannot be dropped. Only called when cpuid says the CPU has the instructions.
__attribute__((target("avx512f"))) inline float fma_chains_avx512(long iters) {
  const __m512 a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(1e-4f);
  __m512 c[12];
  for (auto& v : c) v = a;
  for (long k = 0; k < iters; ++k)
    for (auto& v : c) v = _mm512_fmadd_ps(v, a, b);
  __m512 sum = c[0];
  for (int j = 1; j < 12; ++j) sum = _mm512_add_ps(sum, c[j]);
  alignas(64) float lanes[16];  // not _mm512_reduce_add_ps: GCC 12's trips -Wuninitialized
  _mm512_store_ps(lanes, sum);
  return lanes[0] + lanes[15];
}
__attribute__((target("avx2,fma"))) inline float fma_chains_avx2(long iters) {
  const __m256 a = _mm256_set1_ps(0.9999f), b = _mm256_set1_ps(1e-4f);
  __m256 c[12];
  for (auto& v : c) v = a;
  for (long k = 0; k < iters; ++k)
    for (auto& v : c) v = _mm256_fmadd_ps(v, a, b);
  __m256 sum = c[0];
  for (int j = 1; j < 12; ++j) sum = _mm256_add_ps(sum, c[j]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  return lanes[0] + lanes[7];
}
#endif
#if defined(__x86_64__)
// SSE2 has no FMA: a multiply and an add per lane are the peak of the baseline ISA.
inline float fma_chains_sse2(long iters) {
  const __m128 a = _mm_set1_ps(0.9999f), b = _mm_set1_ps(1e-4f);
  __m128 c[12];
  for (auto& v : c) v = a;
  for (long k = 0; k < iters; ++k)
    for (auto& v : c) v = _mm_add_ps(_mm_mul_ps(v, a), b);
  __m128 sum = c[0];
  for (int j = 1; j < 12; ++j) sum = _mm_add_ps(sum, c[j]);
  return _mm_cvtss_f32(sum);
}
#else
inline float fma_chains_sse2(long iters) {  // not x86: scalar chains, a lower bound of the peak
  float c[12] = {};
  for (long k = 0; k < iters; ++k)
    for (auto& v : c) v = v * 0.9999f + 1e-4f;
  return c[0] + c[11];
}
#endif

/// Measures the host's single-thread fp32 peak with the widest FMA its CPU has (best of 3).
inline FmaPeak fma_peak() {
  float (*kernel)(long) = fma_chains_sse2;
#if defined(__x86_64__)
  FmaPeak peak{0, "SSE2 (no FMA)"};
  int lanes = 4;
#else
  FmaPeak peak{0, "scalar"};
  int lanes = 1;
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  // The library's own cpuid queries (detail/cpu.hpp), so the peak's ISA and the kernels' agree.
  if (tapegrad::detail::cpu_has_avx512f()) {
    kernel = fma_chains_avx512, lanes = 16, peak.isa = "AVX-512";
  } else if (tapegrad::detail::cpu_has_avx2_fma()) {
    kernel = fma_chains_avx2, lanes = 8, peak.isa = "AVX2+FMA";
  }
#endif
  const long iters = quick() ? 100000 : 2000000;
  for (int rep = 0; rep < 3; ++rep) {
    const double t0 = now_seconds();
    volatile float sink = kernel(iters);
    (void)sink;
    const double dt = now_seconds() - t0;
    peak.gflops = std::max(peak.gflops, static_cast<double>(iters) * 12 * 2 * lanes / dt * 1e-9);
  }
  return peak;
}

/// B uniform indices in [0, V), the same for every library (fixed seed).
inline std::vector<std::int64_t> uniform_indices(std::int64_t v, std::int64_t b, unsigned seed = 42) {
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<std::int64_t> dist(0, v - 1);
  std::vector<std::int64_t> idx(static_cast<std::size_t>(b));
  for (auto& i : idx) i = dist(gen);
  return idx;
}

/// Fills with cheap values of unit variance (uniform on [-sqrt 3, sqrt 3)): a 1M x 300 table
/// would take seconds to fill from a normal distribution.
inline void fill_unit_variance(float* p, std::int64_t n, std::uint64_t seed = 7) {
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (std::int64_t i = 0; i < n; ++i) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;  // xorshift64
    p[i] = (static_cast<float>(s >> 40) * (1.0f / 16777216.0f) - 0.5f) * 3.4641016f;
  }
}

/// Keeps the compiler from deleting work whose result is otherwise unused.
inline void keep(const void* p) { asm volatile("" : : "g"(p) : "memory"); }

}  // namespace bench
