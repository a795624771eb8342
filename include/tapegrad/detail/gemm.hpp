// SPDX-License-Identifier: MIT
// The one entry point for every matrix product the library computes (Linear, matmul): float
// products with a small side on the AVX2 kernels of gemm_small.hpp when the CPU has AVX2, larger
// float products on the packed AVX2 kernel of gemm_packed.hpp when that is the faster choice (see
// gemm_packed_wanted), the rest on a BLAS when the build links one (TAPEGRAD_USE_BLAS), else on
// Eigen's GEMM.
//
// Why a BLAS by default: Eigen picks its vector width when the header is compiled, so a plain
// build (no -march) gets SSE2 kernels on every CPU. OpenBLAS (Debian's is built with DYNAMIC_ARCH)
// reads cpuid once at load time and runs the widest kernels the CPU has, so the same binary is fast
// on an AVX-512 server and still correct on an old laptop. Routing through one function also means
// a translation unit instantiates no Eigen GEMM templates at all in that build (compile time).
#pragma once

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include <Eigen/Core>

#include "tapegrad/detail/cpu.hpp"
#include "tapegrad/detail/gemm_packed.hpp"
#include "tapegrad/detail/gemm_small.hpp"

#if defined(TAPEGRAD_USE_BLAS)
// OpenBLAS's thread count, when the BLAS linked is OpenBLAS; a weak reference, so any other BLAS
// (which lacks the symbol) still links and the address is null.
extern "C" int openblas_get_num_threads(void) __attribute__((weak));
#endif

namespace tapegrad {
namespace detail {

#if defined(TAPEGRAD_USE_BLAS)
// The Fortran BLAS symbols every BLAS exports (OpenBLAS, reference BLAS, BLIS, MKL). Declared under
// names of our own (asm labels) so that a user's <cblas.h>, <f77blas.h> or Eigen's EIGEN_USE_BLAS
// declarations of the same symbols, with their own parameter types, cannot conflict with these. The
// trailing lengths are the hidden CHARACTER lengths gfortran-built BLAS libraries expect.
void blas_sgemm(const char* transa, const char* transb, const int* m, const int* n, const int* k, const float* alpha,
                const float* a, const int* lda, const float* b, const int* ldb, const float* beta, float* c,
                const int* ldc, std::size_t transa_len, std::size_t transb_len) __asm__("sgemm_");
void blas_dgemm(const char* transa, const char* transb, const int* m, const int* n, const int* k, const double* alpha,
                const double* a, const int* lda, const double* b, const int* ldb, const double* beta, double* c,
                const int* ldc, std::size_t transa_len, std::size_t transb_len) __asm__("dgemm_");
void blas_sgemv(const char* trans, const int* m, const int* n, const float* alpha, const float* a, const int* lda,
                const float* x, const int* incx, const float* beta, float* y, const int* incy,
                std::size_t trans_len) __asm__("sgemv_");
void blas_dgemv(const char* trans, const int* m, const int* n, const double* alpha, const double* a, const int* lda,
                const double* x, const int* incx, const double* beta, double* y, const int* incy,
                std::size_t trans_len) __asm__("dgemv_");
void blas_sger(const int* m, const int* n, const float* alpha, const float* x, const int* incx, const float* y,
               const int* incy, float* a, const int* lda) __asm__("sger_");
void blas_dger(const int* m, const int* n, const double* alpha, const double* x, const int* incx, const double* y,
               const int* incy, double* a, const int* lda) __asm__("dger_");

inline void blas_gemm(const char* ta, const char* tb, const int* m, const int* n, const int* k, const float* alpha,
                      const float* a, const int* lda, const float* b, const int* ldb, const float* beta, float* c,
                      const int* ldc) {
  blas_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 1, 1);
}
inline void blas_gemm(const char* ta, const char* tb, const int* m, const int* n, const int* k, const double* alpha,
                      const double* a, const int* lda, const double* b, const int* ldb, const double* beta, double* c,
                      const int* ldc) {
  blas_dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 1, 1);
}
inline void blas_gemv(const char* t, const int* m, const int* n, const float* alpha, const float* a, const int* lda,
                      const float* x, const int* incx, const float* beta, float* y, const int* incy) {
  blas_sgemv(t, m, n, alpha, a, lda, x, incx, beta, y, incy, 1);
}
inline void blas_gemv(const char* t, const int* m, const int* n, const double* alpha, const double* a, const int* lda,
                      const double* x, const int* incx, const double* beta, double* y, const int* incy) {
  blas_dgemv(t, m, n, alpha, a, lda, x, incx, beta, y, incy, 1);
}

inline void blas_ger(const int* m, const int* n, const float* alpha, const float* x, const int* incx, const float* y,
                     const int* incy, float* a, const int* lda) {
  blas_sger(m, n, alpha, x, incx, y, incy, a, lda);
}
inline void blas_ger(const int* m, const int* n, const double* alpha, const double* x, const int* incx,
                     const double* y, const int* incy, double* a, const int* lda) {
  blas_dger(m, n, alpha, x, incx, y, incy, a, lda);
}

inline bool fits_blas_int(std::int64_t v) { return v <= INT_MAX; }

/// The product through the BLAS, in its column-major terms: a row-major C is the column-major Cᵀ,
/// and Cᵀ = op(B)ᵀ·op(A)ᵀ. One row or one column is a matrix-vector product: OpenBLAS 0.3.21's
/// GEMM would pack the whole other matrix for it, and an outer product (k = 1, the weight gradient
/// of a batch of one) ran 8x slower through its GEMM than as a rank-1 update.
template <class T>
void gemm_blas(bool trans_a, bool trans_b, int m, int n, int k, const T* a, int lda, const T* b, int ldb, T* c,
               int ldc, bool accumulate) {
  const T one = 1, beta = accumulate ? T(1) : T(0);
  if (m == 1 && n > 1) {  // c (1 x n) = op(B)ᵀ · a, with B column-major n x k (or k x n if trans_b)
    const int inc_a = trans_a ? lda : 1, inc_c = 1;
    if (trans_b)
      blas_gemv("T", &k, &n, &one, b, &ldb, a, &inc_a, &beta, c, &inc_c);
    else
      blas_gemv("N", &n, &k, &one, b, &ldb, a, &inc_a, &beta, c, &inc_c);
    return;
  }
  if (n == 1 && m > 1) {  // c (m x 1, stride ldc) = op(A) · b
    const int inc_b = trans_b ? 1 : ldb;
    if (trans_a)
      blas_gemv("N", &m, &k, &one, a, &lda, b, &inc_b, &beta, c, &ldc);
    else
      blas_gemv("T", &k, &m, &one, a, &lda, b, &inc_b, &beta, c, &ldc);
    return;
  }
  if (k == 1) {  // Cᵀ (+)= op(B)ᵀ · op(A)ᵀ, a rank-1 update
    if (!accumulate)
      for (int i = 0; i < m; ++i) std::fill_n(c + static_cast<std::int64_t>(i) * ldc, n, T(0));
    const int inc_b = trans_b ? ldb : 1, inc_a = trans_a ? 1 : lda;
    blas_ger(&n, &m, &one, b, &inc_b, a, &inc_a, c, &ldc);
    return;
  }
  blas_gemm(trans_b ? "T" : "N", trans_a ? "T" : "N", &n, &m, &k, &one, b, &ldb, a, &lda, &beta, c, &ldc);
}
#endif

/// The product as plain loops: for what a BLAS cannot take (k = 0, sizes beyond 32 bits).
template <class T>
void gemm_loops(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const T* a,
                std::int64_t lda, const T* b, std::int64_t ldb, T* c, std::int64_t ldc, bool accumulate) {
  for (std::int64_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    if (!accumulate)
      for (std::int64_t j = 0; j < n; ++j) row[j] = T(0);
    for (std::int64_t p = 0; p < k; ++p) {
      const T aip = trans_a ? a[p * lda + i] : a[i * lda + p];
      for (std::int64_t j = 0; j < n; ++j) row[j] += aip * (trans_b ? b[j * ldb + p] : b[p * ldb + j]);
    }
  }
}

/// The product through Eigen (any element type; float and double when no BLAS is linked).
template <class T>
void gemm_eigen(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const T* a,
                std::int64_t lda, const T* b, std::int64_t ldb, T* c, std::int64_t ldc, bool accumulate) {
  using Stride = Eigen::OuterStride<>;
  using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ColMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
  Eigen::Map<RowMat, 0, Stride> cm(c, m, n, Stride(ldc));
  if (!accumulate) cm.setZero();  // one accumulating product per layout instead of two
  // A transposed row-major matrix is the same memory read column-major: four layouts, no copies.
  auto with_b = [&](const auto& am) {
    if (trans_b)
      cm.noalias() += am * Eigen::Map<const ColMat, 0, Stride>(b, k, n, Stride(ldb));
    else
      cm.noalias() += am * Eigen::Map<const RowMat, 0, Stride>(b, k, n, Stride(ldb));
  };
  if (trans_a)
    with_b(Eigen::Map<const ColMat, 0, Stride>(a, m, k, Stride(lda)));
  else
    with_b(Eigen::Map<const RowMat, 0, Stride>(a, m, k, Stride(lda)));
}

/// Whether the library's matrix products run on a BLAS in this build.
constexpr bool gemm_uses_blas() {
#if defined(TAPEGRAD_USE_BLAS)
  return true;
#else
  return false;
#endif
}

/// Element types the BLAS takes, when the build has one.
template <class T>
constexpr bool gemm_on_blas = gemm_uses_blas() && (std::is_same_v<T, float> || std::is_same_v<T, double>);

/// Whether gemm_packed may run at all: TAPEGRAD_GEMM_PACKED=0 in the environment (read once) turns it
/// off, so the previous dispatch can be measured against the new one; the benchmarks flip it too.
inline std::atomic<bool>& gemm_packed_enabled() {
  static std::atomic<bool> enabled{[] {
    const char* v = std::getenv("TAPEGRAD_GEMM_PACKED");
    return !(v && std::strcmp(v, "0") == 0);
  }()};
  return enabled;
}

/// Whether detail::gemm runs a float product (one gemm_small declined) on gemm_packed.
/// - The CPU must have AVX2+FMA (the kernel's instructions).
/// - The product must pay for packing both operands (cutoffs measured against Eigen's SSE2 GEMM and
///   OpenBLAS 0.3.21, one thread, AMD EPYC Zen 2): one row is a matrix-vector product (each packed
///   value used once); under 24^3 multiply-adds or 4 columns the copies and the partly empty
///   6 x 16 register blocks cost more than they save (20^3: 0.9x Eigen; 4096 x 2 x 300: 0.9x Eigen,
///   0.6x OpenBLAS); from 24^3 on it runs 1.2-2.9x Eigen's speed.
/// - Without a BLAS always, then: Eigen's GEMM in a plain build is SSE2.
/// - With a BLAS only when it is OpenBLAS on one thread, on a CPU without AVX-512, and op(A) has at
///   least 64 rows: OpenBLAS's AVX-512 kernels beat an AVX2 one; a multi-threaded OpenBLAS uses
///   every core for large products while this kernel uses one; with few rows (a batch of 32) OpenBLAS
///   is as fast or slightly faster (0.93-0.99x), while from 64 rows on, and above all for a weight
///   gradient (k = the batch), the packed kernel is faster. Another BLAS (no
///   openblas_get_num_threads) keeps its products.
inline bool gemm_packed_wanted(std::int64_t m, std::int64_t n, std::int64_t k) {
#if TAPEGRAD_AVX2_KERNELS
  constexpr std::int64_t kMinRows = 2, kMinCols = 4;
  constexpr double kMinWork = 24.0 * 24.0 * 24.0;  // multiply-adds; in double, so m * n * k cannot overflow
  if (m < kMinRows || n < kMinCols || k < 1 ||
      static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) < kMinWork)
    return false;
  if (!cpu_has_avx2_fma() || !gemm_packed_enabled().load(std::memory_order_relaxed)) return false;
#if defined(TAPEGRAD_USE_BLAS)
  constexpr std::int64_t kMinRowsOverBlas = 64;
  if (m < kMinRowsOverBlas || cpu_has_avx512f() || !openblas_get_num_threads || openblas_get_num_threads() != 1)
    return false;
#endif
  return true;
#else
  (void)m, (void)n, (void)k;
  return false;
#endif
}

/// C = op(A)·op(B), or C += op(A)·op(B) when `accumulate`; every matrix row-major with leading
/// dimension (row stride) lda/ldb/ldc; op(A) is m x k, op(B) is k x n. op(X) = Xᵀ when trans_x, so
/// A is stored k x m then (a row-major Xᵀ is X read column-major, no copy is made).
template <class T>
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const T* a, std::int64_t lda,
          const T* b, std::int64_t ldb, T* c, std::int64_t ldc, bool accumulate) {
  if (m == 0 || n == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    if (gemm_small(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate)) return;
#if TAPEGRAD_AVX2_KERNELS
    if (gemm_packed_wanted(m, n, k)) {
      gemm_packed(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
      return;
    }
#endif
  }
  if constexpr (gemm_on_blas<T>) {
#if defined(TAPEGRAD_USE_BLAS)
    // The BLAS takes 32-bit sizes and wants k >= 1. What it cannot take goes through plain loops, not
    // Eigen: a BLAS build then instantiates none of Eigen's GEMM templates (compile time).
    if (k > 0 && fits_blas_int(m) && fits_blas_int(n) && fits_blas_int(k) && fits_blas_int(lda) &&
        fits_blas_int(ldb) && fits_blas_int(ldc))
      gemm_blas<T>(trans_a, trans_b, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), a,
                   static_cast<int>(lda), b, static_cast<int>(ldb), c, static_cast<int>(ldc), accumulate);
    else
      gemm_loops(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
#endif
  } else {
    gemm_eigen<T>(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
  }
}

}  // namespace detail
}  // namespace tapegrad
