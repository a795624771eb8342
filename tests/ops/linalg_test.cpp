// SPDX-License-Identifier: MIT
// matmul in every form: gradients, PyTorch values and gradients, empty operands, errors.
#include <string>

#include "ops_test.hpp"

namespace linalg_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
using ops_test::golden;
using ops_test::grad_ok;
using ops_test::Inputs;
using ops_test::leaf;
using tg_test::close;

namespace {

struct Form {
  const char* name;
  tg::Shape a, b;
};

// The same forms as tests/reference/golden_ops.py.
const std::vector<Form> kForms = {{"dot", {4}, {4}},
                                  {"mv", {3, 4}, {4}},
                                  {"vm", {4}, {4, 2}},
                                  {"mm", {3, 4}, {4, 2}},
                                  {"bmm", {2, 3, 4}, {2, 4, 2}},
                                  {"broadcast", {2, 1, 3, 4}, {3, 4, 2}},
                                  {"batched_mat", {2, 3, 4}, {4, 2}},
                                  {"vec_batched", {4}, {2, 4, 2}},
                                  {"batched_vec", {2, 3, 4}, {4}}};

}  // namespace

TEST_CASE("matmul: gradients of every form (dot, mv, vm, mm, batched, broadcast batch dims, 1-d with batched)") {
  std::uint64_t seed = 1;
  for (const Form& f : kForms) {
    INFO(f.name);
    CHECK(grad_ok([](const Inputs& v) { return tg::matmul(v[0], v[1]); }, {leaf(f.a, seed), leaf(f.b, seed + 1)}));
    seed += 2;
  }
  // Both batch dims broadcast: [2, 1, 3, 4] x [1, 3, 4, 2] -> [2, 3, 3, 2]
  CHECK(grad_ok([](const Inputs& v) { return tg::matmul(v[0], v[1]); }, {leaf({2, 1, 3, 4}, 50), leaf({1, 3, 4, 2}, 51)}));
  // The same tensor on both sides
  CHECK(grad_ok([](const Inputs& v) { return tg::matmul(v[0], v[0]); }, {leaf({3, 3}, 52)}));
}

TEST_CASE("matmul: values and gradients against PyTorch") {
  const auto& g = golden();
  for (const Form& f : kForms) {
    const std::string k = std::string("matmul/") + f.name;
    INFO(k);
    auto a = g.tensor<float>(k + "/a", true), b = g.tensor<float>(k + "/b", true);
    auto out = tg::matmul(a, b);
    CHECK(close(out, g.tensor<float>(k + "/out"), 1e-5, 1e-6));
    out.backward(g.tensor<float>(k + "/g"));
    CHECK(close(a.grad(), g.tensor<float>(k + "/grad_a"), 1e-5, 1e-6));
    CHECK(close(b.grad(), g.tensor<float>(k + "/grad_b"), 1e-5, 1e-6));
  }
}

TEST_CASE("matmul: result shapes and node names") {
  const auto v = tg::ones<float>({4}, true), m = tg::ones<float>({3, 4}, true), n = tg::ones<float>({4, 2});
  CHECK(tg::matmul(v, v).shape() == tg::Shape{});
  CHECK(tg::matmul(m, v).shape() == tg::Shape{3});
  CHECK(tg::matmul(v, n).shape() == tg::Shape{2});
  CHECK(tg::matmul(m, n).shape() == tg::Shape{3, 2});
  CHECK(tg::matmul(tg::ones<float>({5, 1, 3, 4}), tg::ones<float>({2, 4, 2})).shape() == tg::Shape{5, 2, 3, 2});
  CHECK(tg::matmul(v, v).grad_fn_name() == "DotBackward0");
  CHECK(tg::matmul(m, v).grad_fn_name() == "MvBackward0");
  CHECK(tg::matmul(m, n).grad_fn_name() == "MmBackward0");
  CHECK(close(tg::matmul(tg::tensor<float>({1, 2, 3, 4}, {2, 2}), tg::tensor<float>({5, 6}, {2})), {17, 39}));
}

TEST_CASE("matmul with empty operands: zeros where the inner size is 0, empty results otherwise") {
  auto a = tg::ones<double>({2, 0}, true), b = tg::ones<double>({0, 3}, true);
  auto c = tg::matmul(a, b);
  CHECK(close(c, {0, 0, 0, 0, 0, 0}, {2, 3}));
  tg::sum(c).backward();
  CHECK(a.grad().shape() == tg::Shape{2, 0});
  CHECK(b.grad().shape() == tg::Shape{0, 3});
  CHECK(tg::matmul(tg::ones<double>({0, 3}), tg::ones<double>({3, 2})).shape() == tg::Shape{0, 2});
  CHECK(tg::matmul(tg::ones<double>({0}), tg::ones<double>({0})).item() == 0);
  CHECK(tg::matmul(tg::ones<double>({0, 2, 3}), tg::ones<double>({3, 4})).shape() == tg::Shape{0, 2, 4});
}

TEST_CASE("matmul: shape errors name both shapes") {
  CHECK_THROWS_AS(tg::matmul(tg::ones<float>({2, 5}), tg::ones<float>({3, 5})), tg::ShapeError);
  CHECK_THROWS_WITH(tg::matmul(tg::ones<float>({2, 5}), tg::ones<float>({3, 5})),
                    "matmul: shapes [2, 5] and [3, 5] cannot be multiplied (2x5 and 3x5: inner sizes 5 and 3 differ)");
  CHECK_THROWS_WITH(tg::matmul(tg::ones<float>({4}), tg::ones<float>({3})),
                    "matmul: shapes [4] and [3] cannot be multiplied (1x4 and 3x1: inner sizes 4 and 3 differ)");
  CHECK_THROWS_WITH(tg::matmul(tg::ones<float>({2, 3, 4}), tg::ones<float>({5})),
                    "matmul: shapes [2, 3, 4] and [5] cannot be multiplied (3x4 and 5x1: inner sizes 4 and 5 differ)");
  CHECK_THROWS_WITH(tg::matmul(tg::ones<float>({2, 3, 4}), tg::ones<float>({3, 4, 5})),
                    "matmul: shapes [2, 3, 4] and [3, 4, 5] cannot be multiplied: batch dimensions [2] and [3] cannot "
                    "be broadcast together (size 2 vs 3 at batch dimension 0)");
  CHECK_THROWS_WITH(tg::matmul(tg::ones<float>({4, 2, 3, 4}), tg::ones<float>({3, 4})),
                    "matmul: shapes [4, 2, 3, 4] and [3, 4] cannot be multiplied (3x4 and 3x4: inner sizes 4 and 3 "
                    "differ)");
  CHECK_THROWS_WITH(tg::matmul(tg::ones<float>({2, 3, 4}), tg::ones<float>({5, 3, 4, 2})),
                    "matmul: shapes [2, 3, 4] and [5, 3, 4, 2] cannot be multiplied: batch dimensions [2] and [5, 3] "
                    "cannot be broadcast together (size 2 vs 3 at batch dimension 1)");
  CHECK_THROWS_WITH(tg::matmul(tg::scalar_tensor<float>(1), tg::ones<float>({3})),
                    "matmul: both arguments need at least 1 dimension, got shapes [] and [3]");
}

}  // namespace linalg_test
