// SPDX-License-Identifier: MIT
// What the CPU the program runs on can do, asked once through cpuid. The default build has no
// -march, so the AVX2 kernels (gemm_small.hpp, gemm_packed.hpp) are compiled with
// __attribute__((target)) and only called after these say yes: one binary runs on any x86-64.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TAPEGRAD_AVX2_KERNELS 1
#include <immintrin.h>
#else
#define TAPEGRAD_AVX2_KERNELS 0
#endif

namespace tapegrad {
namespace detail {

/// Whether this CPU runs AVX2 and FMA (cpuid, asked once; the answer never changes).
inline bool cpu_has_avx2_fma() {
#if TAPEGRAD_AVX2_KERNELS
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return has;
#else
  return false;
#endif
}

/// Whether this CPU runs AVX-512F (cpuid, asked once).
inline bool cpu_has_avx512f() {
#if TAPEGRAD_AVX2_KERNELS
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
  }();
  return has;
#else
  return false;
#endif
}

}  // namespace detail
}  // namespace tapegrad
