// SPDX-License-Identifier: MIT
// Shared helpers for the optimiser tests: the golden file, sparse gradients, tolerances.
#pragma once

#include <string>
#include <type_traits>
#include <vector>

#include "support/golden.hpp"
#include "support/test.hpp"

namespace optim_test {

namespace tg = tapegrad;

/// tests/reference/data/optim.txt, loaded once.
inline const tg_test::Golden& golden() {
  static const tg_test::Golden g("optim");
  return g;
}

template <class T>
std::string dtype_key() {
  return std::is_same_v<T, float> ? "f32" : "f64";
}

/// Relative tolerance: ~1e-6 for float32, ~1e-10 for float64.
template <class T>
double rtol() {
  return std::is_same_v<T, float> ? 1e-6 : 1e-10;
}
template <class T>
double atol() {
  return std::is_same_v<T, float> ? 1e-7 : 1e-12;
}

/// A row-sparse tensor of `shape` from row indices (duplicates allowed) and rows.
template <class T>
tg::Tensor<T> sparse_rows(tg::Shape shape, const std::vector<std::int64_t>& rows, const std::vector<T>& values) {
  tg::Shape value_shape = shape;
  value_shape[0] = static_cast<std::int64_t>(rows.size());
  return tg::detail::make_sparse(shape, tg::tensor<std::int64_t>(rows, {static_cast<std::int64_t>(rows.size())}),
                                 tg::tensor<T>(values, value_shape), false);
}

/// The gradient stored under `prefix` (dense "/grad", or sparse "/idx" + "/val"), or undefined.
template <class T>
tg::Tensor<T> golden_grad(const std::string& prefix, const tg::Shape& shape) {
  const auto& g = golden();
  if (g.has(prefix + "/grad")) return g.tensor<T>(prefix + "/grad");
  if (!g.has(prefix + "/idx")) return tg::Tensor<T>();
  return tg::detail::make_sparse(shape, g.tensor<std::int64_t>(prefix + "/idx"), g.tensor<T>(prefix + "/val"), false);
}

}  // namespace optim_test
