// SPDX-License-Identifier: MIT
// detail::gemm, the one entry point of every matrix product: each path (a BLAS's GEMM, GEMV for one
// row or column, the rank-1 update for k = 1, plain loops for k = 0; Eigen when no BLAS is linked) in
// all four transpose layouts, with padded leading dimensions, assigning and accumulating. Checked
// against a long-double triple loop written here, on integer-valued inputs where float is exact.
#include <tuple>
#include <vector>

#include <tapegrad/detail/gemm.hpp>

#include "support/test.hpp"

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
