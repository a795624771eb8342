// SPDX-License-Identifier: MIT
// Reductions: sum, mean and norm (gradients, PyTorch values, empty tensors, errors) and argmax.
#include <cmath>
#include <limits>
#include <string>

#include "ops_test.hpp"

namespace reduce_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
using ops_test::golden;
using ops_test::grad_ok;
using ops_test::Inputs;
using ops_test::leaf;
using ops_test::leaf_of;
using tg_test::close;

namespace {

const std::vector<std::vector<std::int64_t>> kDims = {{0}, {1}, {-1}, {0, 2}, {-1, 0}, {0, 1, 2}};

std::string dims_key(const std::vector<std::int64_t>& dims) {
  std::string key;
  for (std::int64_t d : dims) key += (key.empty() ? "" : "_") + std::to_string(d);
  return key;
}

}  // namespace

TEST_CASE("sum and mean: gradients over all elements and over dims, with and without keepdim") {
  const auto x = leaf({2, 3, 4}, 1);
  CHECK(grad_ok([](const Inputs& v) { return tg::sum(v[0]); }, {x}));
  CHECK(grad_ok([](const Inputs& v) { return tg::mean(v[0]); }, {x}));
  for (const auto& dims : kDims)
    for (bool keepdim : {false, true}) {
      INFO("dims " << dims_key(dims) << " keepdim " << keepdim);
      CHECK(grad_ok([dims, keepdim](const Inputs& v) { return tg::sum(v[0], dims, keepdim); }, {x}));
      CHECK(grad_ok([dims, keepdim](const Inputs& v) { return tg::mean(v[0], dims, keepdim); }, {x}));
    }
  const auto s = leaf({}, 2);
  CHECK(grad_ok([](const Inputs& v) { return tg::sum(v[0], {0}) * tg::mean(v[0], {-1}, true); }, {s}));
}

TEST_CASE("sum and mean: values against PyTorch") {
  const auto& g = golden();
  const auto x = g.tensor<float>("reduce/input");
  CHECK(close(tg::sum(x), g.tensor<float>("reduce/sum_all")));
  CHECK(close(tg::mean(x), g.tensor<float>("reduce/mean_all")));
  for (const auto& dims : kDims) {
    const std::string key = dims_key(dims);
    INFO("dims " << key);
    CHECK(close(tg::sum(x, dims), g.tensor<float>("reduce/sum/" + key)));
    CHECK(close(tg::sum(x, dims, true), g.tensor<float>("reduce/sum_keep/" + key)));
    CHECK(close(tg::mean(x, dims), g.tensor<float>("reduce/mean/" + key)));
    CHECK(close(tg::mean(x, dims, true), g.tensor<float>("reduce/mean_keep/" + key)));
  }
}

TEST_CASE("sum and mean over a block of dims with 16 and more inner elements: hand-computed sums") {
  // x[o][r][j] = 1000 o + 10 r + j - 300 (whole numbers: every partial sum is exact in float), over
  // inner widths below, at and past the 16 outputs the block loop sums at once, with a tail.
  for (std::int64_t inner : {1, 15, 16, 37, 64}) {
    INFO("inner " << inner);
    const std::int64_t outer = 3, reduced = 5;
    std::vector<float> values;
    for (std::int64_t o = 0; o < outer; ++o)
      for (std::int64_t r = 0; r < reduced; ++r)
        for (std::int64_t j = 0; j < inner; ++j) values.push_back(static_cast<float>(1000 * o + 10 * r + j - 300));
    const auto x = tg::tensor<float>(values, {outer, reduced, inner});
    const auto xd = x.to<double>();
    const auto xi = x.to<std::int64_t>();
    const auto sum = tg::sum(x, {1}), mean = tg::mean(x, {1});
    const auto sum_d = tg::sum(xd, {1});
    const auto sum_i = tg::sum(xi, {1});
    REQUIRE(sum.shape() == tg::Shape{outer, inner});
    for (std::int64_t o = 0; o < outer; ++o)
      for (std::int64_t j = 0; j < inner; ++j) {
        // sum over r of (1000 o + j - 300) + 10 r = 5 (1000 o + j - 300) + 100
        const std::int64_t expected = reduced * (1000 * o + j - 300) + 10 * (reduced * (reduced - 1) / 2);
        const std::int64_t k = o * inner + j;
        CHECK(sum.data()[k] == static_cast<float>(expected));
        CHECK(sum_d.data()[k] == static_cast<double>(expected));
        CHECK(sum_i.data()[k] == expected);
        CHECK(mean.data()[k] == static_cast<float>(static_cast<double>(expected) / reduced));
      }
  }
}

TEST_CASE("sum and mean: shapes, names and integer sums") {
  const auto x = tg::ones<float>({2, 3, 4}, true);
  CHECK(tg::sum(x).shape() == tg::Shape{});
  CHECK(tg::sum(x, {1}).shape() == tg::Shape{2, 4});
  CHECK(tg::sum(x, {1}, true).shape() == tg::Shape{2, 1, 4});
  CHECK(tg::mean(x, {0, -1}, true).shape() == tg::Shape{1, 3, 1});
  CHECK(tg::sum(x).grad_fn_name() == "SumBackward0");
  CHECK(tg::sum(x, {0}).grad_fn_name() == "SumBackward1");
  CHECK(tg::mean(x).grad_fn_name() == "MeanBackward0");
  CHECK(tg::mean(x, {0}).grad_fn_name() == "MeanBackward1");
  const auto i = tg::tensor<std::int64_t>({1, 2, 3, 4}, {2, 2});
  CHECK(close(tg::sum(i, {0}), {4, 6}));
  CHECK(tg::sum(i).item() == 10);
}

TEST_CASE("sum and mean of empty tensors: 0 and NaN, as in PyTorch") {
  auto e = tg::zeros<double>({0, 3}, true);
  CHECK(tg::sum(e).item() == 0);
  CHECK(std::isnan(tg::mean(e).item()));
  CHECK(close(tg::sum(e, {0}), {0, 0, 0}));
  CHECK(tg::sum(e, {1}).shape() == tg::Shape{0});
  const auto m = tg::mean(e, {0});
  CHECK(m.shape() == tg::Shape{3});
  CHECK(std::isnan(m.data()[0]));
  tg::sum(tg::sum(e, {0})).backward();
  CHECK(e.grad().shape() == tg::Shape{0, 3});
}

TEST_CASE("reductions over missing or repeated dims fail with the dim and the valid range") {
  const auto x = tg::ones<float>({2, 3, 4});
  CHECK_THROWS_AS(tg::sum(x, {3}), tg::IndexError);
  CHECK_THROWS_WITH(tg::sum(x, {3}), "sum: dim 3 is out of range for a tensor with 3 dimensions (valid range [-3, 2])");
  CHECK_THROWS_WITH(tg::mean(x, {-4}), "mean: dim -4 is out of range for a tensor with 3 dimensions (valid range [-3, 2])");
  CHECK_THROWS_WITH(tg::norm(x, 2, {5}), "norm: dim 5 is out of range for a tensor with 3 dimensions (valid range [-3, 2])");
  CHECK_THROWS_WITH(tg::sum(tg::scalar_tensor<float>(1), {1}),
                    "sum: dim 1 is out of range for a tensor with 0 dimensions (valid range [-1, 0])");
  CHECK_THROWS_AS(tg::sum(x, {0, 0}), tg::ValueError);
  CHECK_THROWS_WITH(tg::sum(x, {0, 0}), "sum: dim 0 appears more than once in [0, 0]");
  CHECK_THROWS_WITH(tg::mean(x, {2, -1}), "mean: dim -1 appears more than once in [2, -1]");
  CHECK_THROWS_WITH(tg::sum(x, {}), "sum: the list of dims is empty; call sum(a) to reduce all of them");
  CHECK_THROWS_WITH(tg::mean(x, {}), "mean: the list of dims is empty; call mean(a) to reduce all of them");
}

TEST_CASE("norm: gradients for p = 1, 2, 3, inf, 0.5, 1.5, -inf, -1 over all elements and over dims") {
  // Distinct magnitudes and no zeros: away from the kinks of |x| and from ties of the max.
  const auto x = leaf_of({0.3, -1.2, 2.1, -0.7, 1.6, -2.6, 0.9, 1.1, -0.45, 1.9, -1.4, 0.55}, {3, 4});
  for (double p : {1.0, 2.0, 3.0, static_cast<double>(INFINITY), 0.5, 1.5, -static_cast<double>(INFINITY), -1.0}) {
    INFO("p " << p);
    CHECK(grad_ok([p](const Inputs& v) { return tg::norm(v[0], p); }, {x}));
    CHECK(grad_ok([p](const Inputs& v) { return tg::norm(v[0], p, {1}); }, {x}));
    CHECK(grad_ok([p](const Inputs& v) { return tg::norm(v[0], p, {0}, true); }, {x}));
    CHECK(grad_ok([p](const Inputs& v) { return tg::norm(v[0], p, {-1, 0}); }, {x}));
  }
  CHECK(tg::norm(x).grad_fn_name() == "NormBackward1");
}

TEST_CASE("norm: values against PyTorch for every p and dims") {
  const auto& g = golden();
  const auto x = g.tensor<float>("norm/input");
  for (const std::string p : {"1", "2", "3", "inf", "0.5", "0", "-inf"}) {
    const double pv = std::stod(p);
    INFO("p " << p);
    CHECK(close(tg::norm(x, pv), g.tensor<float>("norm/p" + p + "/all"), 1e-5));
    CHECK(close(tg::norm(x, pv, {1}), g.tensor<float>("norm/p" + p + "/dim1"), 1e-5));
    CHECK(close(tg::norm(x, pv, {0}, true), g.tensor<float>("norm/p" + p + "/dim0_keep"), 1e-5));
    CHECK(close(tg::norm(x, pv, {0, 1}), g.tensor<float>("norm/p" + p + "/dims01"), 1e-5));
  }
}

TEST_CASE("norm: gradients at ties and zeros match PyTorch") {
  const auto& g = golden();
  for (const std::string p : {"1", "2", "3", "inf", "0.5", "-inf"}) {
    INFO("p " << p);
    auto x = g.tensor<double>("norm/ties/input", true);  // [3, 0, -3, 1]: a tie for the max and a zero
    auto n = tg::norm(x, std::stod(p));
    n.backward();
    CHECK(close(n, g.tensor<double>("norm/ties/p" + p + "/out"), 1e-12));
    CHECK(close(x.grad(), g.tensor<double>("norm/ties/p" + p + "/grad"), 1e-12, 1e-14));
  }
}

TEST_CASE("norm of a zero vector: value 0 and gradient 0 for every p") {
  for (double p : {1.0, 2.0, 3.0, static_cast<double>(INFINITY)}) {
    auto z = tg::zeros<double>({3}, true);
    auto n = tg::norm(z, p);
    n.backward();
    INFO("p " << p);
    CHECK(n.item() == 0);
    CHECK(close(z.grad(), {0, 0, 0}));
  }
  auto z = tg::zeros<double>({2, 2}, true);
  tg::sum(tg::norm(z, 2, {1})).backward();
  CHECK(close(z.grad(), {0, 0, 0, 0}));
}

TEST_CASE("argmax: first maximum on ties, keepdim, NaN wins, errors") {
  const auto x = tg::tensor<float>({1, 5, 5, 2, 0, -1}, {2, 3});
  CHECK(close(tg::argmax(x, 1), {1, 0}));
  CHECK(close(tg::argmax(x, 0), {1, 0, 0}));
  CHECK(tg::argmax(x, -1, true).shape() == tg::Shape{2, 1});
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(close(tg::argmax(tg::tensor<float>({1, nan, 3, nan}, {4}), 0), std::vector<double>{1}, tg::Shape{}));
  CHECK(tg::argmax(tg::scalar_tensor<float>(3), 0).item() == 0);
  CHECK_THROWS_WITH(tg::argmax(tg::zeros<float>({2, 0}), 1), "argmax: cannot reduce over dim 1 of size 0 (shape [2, 0])");
  CHECK_THROWS_WITH(tg::argmax(x, 2), "argmax: dim 2 is out of range for a tensor with 2 dimensions (valid range [-2, 1])");
}

}  // namespace reduce_test
