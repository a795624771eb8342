// SPDX-License-Identifier: MIT
// detail::gemm, the one entry point of every matrix product: each path (a BLAS's GEMM, GEMV for one
// row or column, the rank-1 update for k = 1, plain loops for k = 0; Eigen when no BLAS is linked) in
// all four transpose layouts, with padded leading dimensions, assigning and accumulating. Checked
// against a long-double triple loop written here, on integer-valued inputs where float is exact.
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>
#include <vector>

#include <tapegrad/detail/gemm.hpp>

#include "support/test.hpp"

namespace gemm_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;

namespace {

// C (m x n, leading dim ldc) = op(A)·op(B) (+ C), computed the obvious way.
template <class T>
std::vector<T> reference(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const std::vector<T>& a,
                         std::int64_t lda, const std::vector<T>& b, std::int64_t ldb, std::vector<T> c,
                         std::int64_t ldc, bool accumulate) {
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      long double sum = accumulate ? c[static_cast<std::size_t>(i * ldc + j)] : 0;
      for (std::int64_t p = 0; p < k; ++p)
        sum += static_cast<long double>(a[static_cast<std::size_t>(ta ? p * lda + i : i * lda + p)]) *
               b[static_cast<std::size_t>(tb ? j * ldb + p : p * ldb + j)];
      c[static_cast<std::size_t>(i * ldc + j)] = static_cast<T>(sum);
    }
  return c;
}

// Small integers: every product and sum below is exact in float, so results must match bit for bit.
template <class T>
std::vector<T> values(std::size_t count, int seed) {
  std::vector<T> v(count);
  for (std::size_t i = 0; i < count; ++i) v[i] = static_cast<T>(static_cast<int>((i * 7 + static_cast<std::size_t>(seed) * 13) % 11) - 5);
  return v;
}

template <class T>
void check_all_layouts(std::int64_t m, std::int64_t n, std::int64_t k) {
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (bool accumulate : {false, true}) {
        // Stored shapes of A and B, each with 3 elements of padding per row (leading dim > row length).
        const std::int64_t a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
        const std::int64_t lda = a_cols + 3, ldb = b_cols + 3, ldc = n + 2;
        const auto a = values<T>(static_cast<std::size_t>(a_rows * lda), 1);
        const auto b = values<T>(static_cast<std::size_t>(b_rows * ldb), 2);
        std::vector<T> c = values<T>(static_cast<std::size_t>(m * ldc), 3);
        const auto expected = reference(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
        tg::detail::gemm<T>(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc, accumulate);
        INFO("m=" << m << " n=" << n << " k=" << k << " trans_a=" << ta << " trans_b=" << tb << " accumulate=" << accumulate);
        CHECK(c == expected);  // the padding between rows of C must be untouched too
      }
}

}  // namespace

TEST_CASE("gemm: every path and layout equals the plain triple loop") {
  // (m, n, k): general, one row (GEMV), one column (GEMV), k = 1 (rank-1 update), k = 0, 1 x 1, wide;
  // then the AVX2 small-side kernels with every remainder: rows % 4, columns % 3 (dot form) and % 24
  // and % 8 (axpy form), k % 8; k <= 8 with many rows (a weight gradient); just past the small range.
  const std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> sizes{
      {5, 7, 9},   {1, 6, 4},   {6, 1, 4},  {5, 4, 1},  {3, 4, 0},  {1, 1, 5},  {1, 1, 1},   {2, 33, 17},
      {40, 3, 2},  {8, 64, 64}, {7, 61, 37}, {2, 25, 8}, {3, 8, 15}, {4, 57, 3}, {37, 29, 8}, {33, 50, 5},
      {9, 40, 40}, {8, 7, 100}};
  for (const auto& [m, n, k] : sizes) {
    check_all_layouts<float>(m, n, k);
    check_all_layouts<double>(m, n, k);
    check_all_layouts<std::int64_t>(m, n, k);  // never a BLAS: Eigen's product
  }
}

TEST_CASE("gemm: empty outputs are left alone") {
  std::vector<float> a(4, 1), b(4, 1), c(4, 9);
  tg::detail::gemm<float>(false, false, 0, 2, 2, a.data(), 2, b.data(), 2, c.data(), 2, false);
  tg::detail::gemm<float>(false, false, 2, 0, 2, a.data(), 2, b.data(), 2, c.data(), 2, false);
  CHECK(c == std::vector<float>(4, 9));
}

TEST_CASE("gemm: the build says whether a BLAS runs the products") {
#if defined(TAPEGRAD_USE_BLAS)
  CHECK(tg::detail::gemm_uses_blas());
  CHECK(tg::detail::gemm_on_blas<float>);
  CHECK_FALSE(tg::detail::gemm_on_blas<std::int64_t>);
#else
  CHECK_FALSE(tg::detail::gemm_uses_blas());
#endif
}

// ---- Float products against a double-precision triple loop: the packed AVX2 kernel (directly, and
// through detail::gemm's dispatch), on random values, so the check is a tolerance, not equality.
namespace {

using GemmFn = void (*)(bool, bool, std::int64_t, std::int64_t, std::int64_t, const float*, std::int64_t, const float*,
                        std::int64_t, float*, std::int64_t, bool);

void dispatched_gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
                     const float* b, std::int64_t ldb, float* c, std::int64_t ldc, bool accumulate) {
  tg::detail::gemm<float>(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

// Uniform on [-1, 1), from a fixed-seed LCG (the same numbers on every platform).
std::vector<float> random_values(std::size_t count, std::uint64_t seed) {
  std::vector<float> v(count);
  std::uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (auto& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<float>(static_cast<double>(s >> 40) / static_cast<double>(1ull << 23) - 1.0);
  }
  return v;
}

// Checks fn against a double-precision loop, with padded rows (lda, ldb, ldc beyond the row
// lengths): a float sum of k products may differ from the exact one by about k * eps * sum |terms|
// (we allow 2x that), and the padding of C must stay untouched.
void check_float_product(GemmFn fn, bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, bool accumulate) {
  const std::int64_t a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
  const std::int64_t lda = a_cols + 5, ldb = b_cols + 3, ldc = n + 7;
  const auto a = random_values(static_cast<std::size_t>(a_rows * lda), 11);
  const auto b = random_values(static_cast<std::size_t>(b_rows * ldb), 12);
  const auto c0 = random_values(static_cast<std::size_t>(m * ldc), 13);
  std::vector<float> c = c0;
  fn(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc, accumulate);
  INFO("m=" << m << " n=" << n << " k=" << k << " trans_a=" << ta << " trans_b=" << tb << " accumulate=" << accumulate);
  const double eps = 1.0 / (1 << 23);
  std::int64_t bad = 0;
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < ldc; ++j) {
      const auto at = static_cast<std::size_t>(i * ldc + j);
      if (j >= n) {
        bad += c[at] != c0[at];  // padding between rows of C
        continue;
      }
      double sum = accumulate ? c0[at] : 0.0, magnitude = std::abs(sum);
      for (std::int64_t p = 0; p < k; ++p) {
        const double term = static_cast<double>(a[static_cast<std::size_t>(ta ? p * lda + i : i * lda + p)]) *
                            b[static_cast<std::size_t>(tb ? j * ldb + p : p * ldb + j)];
        sum += term, magnitude += std::abs(term);
      }
      bad += !(std::abs(c[at] - sum) <= 2.0 * static_cast<double>(k + 1) * eps * magnitude + 1e-30);
    }
  CHECK(bad == 0);
}

void check_float_sizes(GemmFn fn) {
  const std::int64_t sizes[] = {1, 5, 6, 7, 13, 16, 17, 31};  // around the 6 x 16 register block
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (bool accumulate : {false, true})
        for (std::int64_t m : sizes)
          for (std::int64_t n : sizes)
            for (std::int64_t k : sizes) check_float_product(fn, ta, tb, m, n, k, accumulate);
}

// Crossing the cache blocks: MC = 168 rows, KC = 256 steps of k, NC = 4080 columns.
void check_float_blocks(GemmFn fn) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check_float_product(fn, ta, tb, 300, 530, 270, ta != tb);
      check_float_product(fn, ta, tb, 7, 4100, 9, ta == tb);
      check_float_product(fn, ta, tb, 40, 37, 600, !ta);
    }
}

}  // namespace

TEST_CASE("gemm: float products equal a double-precision loop, every layout and size") {
  check_float_sizes(dispatched_gemm);
  check_float_blocks(dispatched_gemm);
  check_float_product(dispatched_gemm, false, true, 256, 128, 128, false);  // a Linear forward's layout
}

TEST_CASE("gemm: the packed AVX2 kernel, called directly, equals a double-precision loop") {
#if TAPEGRAD_AVX2_KERNELS
  if (!tg::detail::cpu_has_avx2_fma()) {
    WARN("this CPU has no AVX2+FMA: the packed kernel cannot run here (detail::gemm uses the fallback)");
    return;
  }
  check_float_sizes(tg::detail::gemm_packed);
  check_float_blocks(tg::detail::gemm_packed);
  // k = 0: C = 0, or C unchanged.
  std::vector<float> a(4, 1), b(4, 1), c(6, 3);
  tg::detail::gemm_packed(false, false, 2, 2, 0, a.data(), 1, b.data(), 2, c.data(), 3, true);
  CHECK(c == std::vector<float>(6, 3));
  tg::detail::gemm_packed(false, false, 2, 2, 0, a.data(), 1, b.data(), 2, c.data(), 3, false);
  CHECK(c == std::vector<float>{0, 0, 3, 0, 0, 3});
#else
  WARN("no AVX2 kernels on this target");
#endif
}

TEST_CASE("gemm: NaN and inf propagate, and an assigned C's old NaNs do not") {
  // C = A·B with A (m x k) all ones but a NaN at (1, 2), B (k x n) all ones but an inf at (3, 4):
  // row 1 of C is NaN, column 4 is inf elsewhere, the rest is k. C starts as NaN and is assigned.
  const std::int64_t m = 40, n = 50, k = 60;
  std::vector<float> a(static_cast<std::size_t>(m * k), 1.0f), b(static_cast<std::size_t>(k * n), 1.0f);
  a[1 * k + 2] = std::numeric_limits<float>::quiet_NaN();
  b[3 * n + 4] = std::numeric_limits<float>::infinity();
  std::vector<GemmFn> fns{dispatched_gemm};
#if TAPEGRAD_AVX2_KERNELS
  if (tg::detail::cpu_has_avx2_fma()) fns.push_back(tg::detail::gemm_packed);
#endif
  for (GemmFn fn : fns) {
    std::vector<float> c(static_cast<std::size_t>(m * n), std::numeric_limits<float>::quiet_NaN());
    fn(false, false, m, n, k, a.data(), k, b.data(), n, c.data(), n, false);
    std::int64_t bad = 0;
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        const float v = c[static_cast<std::size_t>(i * n + j)];
        if (i == 1)
          bad += !std::isnan(v);
        else if (j == 4)
          bad += !(std::isinf(v) && v > 0);
        else
          bad += v != static_cast<float>(k);
      }
    CHECK(bad == 0);
  }
}

TEST_CASE("gemm: the dispatch sends only products worth packing to the packed kernel") {
  // One row or column is a matrix-vector product: never packed.
  CHECK_FALSE(tg::detail::gemm_packed_wanted(1, 1024, 1024));
  CHECK_FALSE(tg::detail::gemm_packed_wanted(1024, 1, 1024));
  CHECK_FALSE(tg::detail::gemm_packed_wanted(4, 4, 4));  // too small to pay for the copies
  CHECK_FALSE(tg::detail::gemm_packed_wanted(4096, 2, 300));  // two columns: mostly empty register blocks
  auto& enabled = tg::detail::gemm_packed_enabled();
  const bool before = enabled.load();  // false when the test runs under TAPEGRAD_GEMM_PACKED=0
  enabled.store(true);
#if !defined(TAPEGRAD_USE_BLAS)
  // Without a BLAS the packed kernel replaces Eigen's GEMM wherever the CPU can run it.
  CHECK(tg::detail::gemm_packed_wanted(256, 1024, 1024) == tg::detail::cpu_has_avx2_fma());
#endif
  // TAPEGRAD_GEMM_PACKED=0 (or the switch it sets) turns it off.
  enabled.store(false);
  CHECK_FALSE(tg::detail::gemm_packed_wanted(256, 1024, 1024));
  enabled.store(before);
}

}  // namespace gemm_test
