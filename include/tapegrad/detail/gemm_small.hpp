// SPDX-License-Identifier: MIT
// Float products with a small side (a batch of 2–8 rows, or k <= 8), on AVX2+FMA kernels chosen at
// run time. detail::gemm tries these first.
//
// Why: a BLAS GEMM copies ("packs") both operands into its own layout and, for beta = 0, first
// clears C in a separate pass. With 8 rows that overhead is most of the work: OpenBLAS 0.3.21 runs
// Linear(8, 512, 512) at about 40 % of the FMA peak, the packing and the clearing of the 1 MB weight
// gradient taking half its time. These kernels read each operand in place, once, and write C once.
// They are compiled for AVX2+FMA with __attribute__((target)) whatever the build flags are, and only
// called when cpuid says the CPU has both, so a plain build gets them and an old CPU never runs them.
#pragma once

#include <algorithm>
#include <cstdint>

#include "tapegrad/detail/cpu.hpp"  // cpu_has_avx2_fma, TAPEGRAD_AVX2_KERNELS

namespace tapegrad {
namespace detail {

#if TAPEGRAD_AVX2_KERNELS
#define TAPEGRAD_AVX2 __attribute__((target("avx2,fma")))

TAPEGRAD_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
}

TAPEGRAD_AVX2 inline void store(float* dst, __m256 v, bool accumulate) {
  _mm256_storeu_ps(dst, accumulate ? _mm256_add_ps(_mm256_loadu_ps(dst), v) : v);
}

/// C[i][j] (+)= A row i · B row j (rows of length k, both contiguous): X·Wᵀ, a Linear forward.
/// Blocks of 4 rows of A by 3 rows of B keep 12 sums in registers, so 7 loads feed 12 FMAs and the
/// FMA units, not the loads, set the pace. Rows past the end of a block repeat the last row (valid
/// memory, results thrown away), which keeps the loop body free of branches.
TAPEGRAD_AVX2 inline void gemm_rows_dot(std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                                        std::int64_t lda, const float* b, std::int64_t ldb, float* c, std::int64_t ldc,
                                        bool accumulate) {
  for (std::int64_t i0 = 0; i0 < m; i0 += 4) {
    const std::int64_t rows = std::min<std::int64_t>(4, m - i0);
    const float* a0 = a + i0 * lda;
    const float* a1 = a + (i0 + std::min<std::int64_t>(1, rows - 1)) * lda;
    const float* a2 = a + (i0 + std::min<std::int64_t>(2, rows - 1)) * lda;
    const float* a3 = a + (i0 + std::min<std::int64_t>(3, rows - 1)) * lda;
    for (std::int64_t j0 = 0; j0 < n; j0 += 3) {
      const std::int64_t cols = std::min<std::int64_t>(3, n - j0);
      const float* b0 = b + j0 * ldb;
      const float* b1 = b + (j0 + std::min<std::int64_t>(1, cols - 1)) * ldb;
      const float* b2 = b + (j0 + std::min<std::int64_t>(2, cols - 1)) * ldb;
      __m256 s00 = _mm256_setzero_ps(), s01 = s00, s02 = s00, s10 = s00, s11 = s00, s12 = s00;
      __m256 s20 = s00, s21 = s00, s22 = s00, s30 = s00, s31 = s00, s32 = s00;
      std::int64_t p = 0;
      for (; p + 8 <= k; p += 8) {
        const __m256 v0 = _mm256_loadu_ps(b0 + p), v1 = _mm256_loadu_ps(b1 + p), v2 = _mm256_loadu_ps(b2 + p);
        __m256 x = _mm256_loadu_ps(a0 + p);
        s00 = _mm256_fmadd_ps(x, v0, s00), s01 = _mm256_fmadd_ps(x, v1, s01), s02 = _mm256_fmadd_ps(x, v2, s02);
        x = _mm256_loadu_ps(a1 + p);
        s10 = _mm256_fmadd_ps(x, v0, s10), s11 = _mm256_fmadd_ps(x, v1, s11), s12 = _mm256_fmadd_ps(x, v2, s12);
        x = _mm256_loadu_ps(a2 + p);
        s20 = _mm256_fmadd_ps(x, v0, s20), s21 = _mm256_fmadd_ps(x, v1, s21), s22 = _mm256_fmadd_ps(x, v2, s22);
        x = _mm256_loadu_ps(a3 + p);
        s30 = _mm256_fmadd_ps(x, v0, s30), s31 = _mm256_fmadd_ps(x, v1, s31), s32 = _mm256_fmadd_ps(x, v2, s32);
      }
      const float* arow[4] = {a0, a1, a2, a3};
      const float* brow[3] = {b0, b1, b2};
      const float sums[4][3] = {{hsum(s00), hsum(s01), hsum(s02)},
                                {hsum(s10), hsum(s11), hsum(s12)},
                                {hsum(s20), hsum(s21), hsum(s22)},
                                {hsum(s30), hsum(s31), hsum(s32)}};
      for (std::int64_t i = 0; i < rows; ++i)
        for (std::int64_t j = 0; j < cols; ++j) {
          float s = sums[i][j];
          for (std::int64_t q = p; q < k; ++q) s += arow[i][q] * brow[j][q];  // the last k % 8
          float& out = c[(i0 + i) * ldc + j0 + j];
          out = accumulate ? out + s : s;
        }
    }
  }
}

/// C[i][:] (+)= Σ_p op(A)[i][p] · B row p (B row-major, k x n): dY·W (a Linear's input gradient,
/// few rows) and dYᵀ·X (its weight gradient, k = batch <= 8 rows of X). Blocks of 4 rows of C by 24
/// columns keep 12 partial rows in registers; per p, 3 loads of B and 4 broadcasts feed 12 FMAs.
/// Each element of C is written once (a BLAS with beta = 0 clears C in a pass of its own first).
TAPEGRAD_AVX2 inline void gemm_rows_axpy(bool trans_a, std::int64_t m, std::int64_t n, std::int64_t k,
                                         const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float* c,
                                         std::int64_t ldc, bool accumulate) {
  // op(A)[i][p] is a[i * lda + p], or a[p * lda + i] when A is stored transposed.
  const std::int64_t step_i = trans_a ? 1 : lda, step_p = trans_a ? lda : 1;
  for (std::int64_t i0 = 0; i0 < m; i0 += 4) {
    const std::int64_t rows = std::min<std::int64_t>(4, m - i0);
    const float* a0 = a + i0 * step_i;
    const float* a1 = a + (i0 + std::min<std::int64_t>(1, rows - 1)) * step_i;
    const float* a2 = a + (i0 + std::min<std::int64_t>(2, rows - 1)) * step_i;
    const float* a3 = a + (i0 + std::min<std::int64_t>(3, rows - 1)) * step_i;
    float* c0 = c + i0 * ldc;
    std::int64_t j = 0;
    for (; j + 24 <= n; j += 24) {
      __m256 s00 = _mm256_setzero_ps(), s01 = s00, s02 = s00, s10 = s00, s11 = s00, s12 = s00;
      __m256 s20 = s00, s21 = s00, s22 = s00, s30 = s00, s31 = s00, s32 = s00;
      for (std::int64_t p = 0; p < k; ++p) {
        const float* bp = b + p * ldb + j;
        const __m256 v0 = _mm256_loadu_ps(bp), v1 = _mm256_loadu_ps(bp + 8), v2 = _mm256_loadu_ps(bp + 16);
        __m256 x = _mm256_broadcast_ss(a0 + p * step_p);
        s00 = _mm256_fmadd_ps(x, v0, s00), s01 = _mm256_fmadd_ps(x, v1, s01), s02 = _mm256_fmadd_ps(x, v2, s02);
        x = _mm256_broadcast_ss(a1 + p * step_p);
        s10 = _mm256_fmadd_ps(x, v0, s10), s11 = _mm256_fmadd_ps(x, v1, s11), s12 = _mm256_fmadd_ps(x, v2, s12);
        x = _mm256_broadcast_ss(a2 + p * step_p);
        s20 = _mm256_fmadd_ps(x, v0, s20), s21 = _mm256_fmadd_ps(x, v1, s21), s22 = _mm256_fmadd_ps(x, v2, s22);
        x = _mm256_broadcast_ss(a3 + p * step_p);
        s30 = _mm256_fmadd_ps(x, v0, s30), s31 = _mm256_fmadd_ps(x, v1, s31), s32 = _mm256_fmadd_ps(x, v2, s32);
      }
      store(c0 + j, s00, accumulate), store(c0 + j + 8, s01, accumulate), store(c0 + j + 16, s02, accumulate);
      if (rows > 1) store(c0 + ldc + j, s10, accumulate), store(c0 + ldc + j + 8, s11, accumulate), store(c0 + ldc + j + 16, s12, accumulate);
      if (rows > 2) store(c0 + 2 * ldc + j, s20, accumulate), store(c0 + 2 * ldc + j + 8, s21, accumulate), store(c0 + 2 * ldc + j + 16, s22, accumulate);
      if (rows > 3) store(c0 + 3 * ldc + j, s30, accumulate), store(c0 + 3 * ldc + j + 8, s31, accumulate), store(c0 + 3 * ldc + j + 16, s32, accumulate);
    }
    for (; j + 8 <= n; j += 8) {
      __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
      for (std::int64_t p = 0; p < k; ++p) {
        const __m256 v = _mm256_loadu_ps(b + p * ldb + j);
        s0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a0 + p * step_p), v, s0);
        s1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a1 + p * step_p), v, s1);
        s2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + p * step_p), v, s2);
        s3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a3 + p * step_p), v, s3);
      }
      store(c0 + j, s0, accumulate);
      if (rows > 1) store(c0 + ldc + j, s1, accumulate);
      if (rows > 2) store(c0 + 2 * ldc + j, s2, accumulate);
      if (rows > 3) store(c0 + 3 * ldc + j, s3, accumulate);
    }
    const float* arow[4] = {a0, a1, a2, a3};
    for (; j < n; ++j)  // the last n % 8 columns
      for (std::int64_t i = 0; i < rows; ++i) {
        float s = 0;
        for (std::int64_t p = 0; p < k; ++p) s += arow[i][p * step_p] * b[p * ldb + j];
        float& out = c0[i * ldc + j];
        out = accumulate ? out + s : s;
      }
  }
}
#undef TAPEGRAD_AVX2
#endif

/// Runs C = op(A)·op(B) (+ C) on the kernels above when the product has a small side and the CPU
/// has AVX2+FMA; returns false (nothing done) otherwise. One row stays with the BLAS's GEMV, which
/// streams the other matrix at memory speed already.
inline bool gemm_small(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                       std::int64_t lda, const float* b, std::int64_t ldb, float* c, std::int64_t ldc, bool accumulate) {
#if TAPEGRAD_AVX2_KERNELS
  constexpr std::int64_t kSmall = 8;
  if (!cpu_has_avx2_fma() || k == 0) return false;
  if (!trans_a && trans_b && m >= 2 && m <= kSmall && k >= 8) {
    gemm_rows_dot(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    return true;
  }
  if (!trans_b && ((m >= 2 && m <= kSmall) || k <= kSmall) && n >= 8) {
    gemm_rows_axpy(trans_a, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    return true;
  }
#else
  (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)a, (void)lda, (void)b, (void)ldb, (void)c, (void)ldc,
      (void)accumulate;
#endif
  return false;
}

}  // namespace detail
}  // namespace tapegrad
