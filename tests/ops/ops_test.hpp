// SPDX-License-Identifier: MIT
// Helpers shared by the ops tests: gradcheck as a printable check, seeded leaves, the golden file.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "support/golden.hpp"
#include "support/test.hpp"

namespace ops_test {

namespace tg = tapegrad;
using Inputs = std::vector<tg::Tensor<double>>;
using Fn = std::function<tg::Tensor<double>(const Inputs&)>;

/// tapegrad::gradcheck as a Comparison, so a failing CHECK prints the first mismatching entry.
inline tg_test::Comparison grad_ok(const Fn& f, const Inputs& inputs, const tg::GradcheckOptions& options = {}) {
  const tg::GradcheckResult r = tg::gradcheck(f, inputs, options);
  return {r.ok, r.message};
}

/// A double leaf that requires grad, filled with N(0, 1) values from its own seeded generator.
inline tg::Tensor<double> leaf(const tg::Shape& shape, std::uint64_t seed) {
  tg::Generator gen(seed);
  return tg::randn<double>(shape, gen, true);
}

/// A double leaf that requires grad with values in [lo, hi): for ops with kinks or poles elsewhere.
inline tg::Tensor<double> leaf_in(const tg::Shape& shape, double lo, double hi, std::uint64_t seed) {
  tg::Generator gen(seed);
  tg::Tensor<double> u = tg::rand<double>(shape, gen);
  double* p = u.data();
  for (std::int64_t i = 0; i < u.numel(); ++i) p[i] = lo + (hi - lo) * p[i];
  return u.requires_grad_();
}

/// A double leaf holding `values`.
inline tg::Tensor<double> leaf_of(const std::vector<double>& values, const tg::Shape& shape) {
  return tg::tensor<double>(values, shape, true);
}

/// The PyTorch goldens of tests/reference/golden_ops.py.
inline const tg_test::Golden& golden() {
  static const tg_test::Golden g("ops");
  return g;
}

}  // namespace ops_test
