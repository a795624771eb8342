// SPDX-License-Identifier: MIT
// Element-wise ops: gradients (finite differences), broadcasting, values, names and shape errors.
#include <cmath>
#include <limits>

#include "ops_test.hpp"

namespace pointwise_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
using ops_test::grad_ok;
using ops_test::Inputs;
using ops_test::leaf;
using ops_test::leaf_in;
using ops_test::leaf_of;
using tg_test::close;

namespace {

// Shape pairs every binary op is gradchecked on: equal, trailing broadcast, both sides broadcast,
// rank-changing broadcast, 0-d on either side.
const std::vector<std::pair<tg::Shape, tg::Shape>> kBroadcastPairs = {
    {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{3, 1}, {1, 4}}, {{2, 1, 3}, {4, 1}}, {{}, {2, 3}}, {{2, 3}, {}}, {{1}, {2, 2}}};

}  // namespace

TEST_CASE("add, sub, mul: gradients with and without broadcasting") {
  std::uint64_t seed = 1;
  for (const auto& [sa, sb] : kBroadcastPairs) {
    INFO("shapes " << sa << " and " << sb);
    const auto a = leaf(sa, seed++), b = leaf(sb, seed++);
    CHECK(grad_ok([](const Inputs& v) { return tg::add(v[0], v[1]); }, {a, b}));
    CHECK(grad_ok([](const Inputs& v) { return tg::sub(v[0], v[1]); }, {a, b}));
    CHECK(grad_ok([](const Inputs& v) { return tg::mul(v[0], v[1]); }, {a, b}));
  }
}

TEST_CASE("div: gradients with and without broadcasting, divisor away from zero") {
  std::uint64_t seed = 100;
  for (const auto& [sa, sb] : kBroadcastPairs) {
    INFO("shapes " << sa << " and " << sb);
    const auto a = leaf(sa, seed++), b = leaf_in(sb, 0.5, 2.0, seed++);
    CHECK(grad_ok([](const Inputs& v) { return tg::div(v[0], v[1]); }, {a, b}));
    CHECK(grad_ok([](const Inputs& v) { return tg::div(v[0], tg::neg(v[1])); }, {a, b}));
  }
}

TEST_CASE("binary ops: only the input that requires grad gets a gradient") {
  auto a = leaf({2, 3}, 1);
  const auto b = tg::tensor<double>({1, 2, 3}, {3});
  CHECK(grad_ok([&b](const Inputs& v) { return tg::mul(v[0], b) / b + b; }, {a}));
  tg::sum(a * b).backward();
  CHECK(close(a.grad(), {1, 2, 3, 1, 2, 3}));
  CHECK_FALSE(b.grad().defined());
}

TEST_CASE("binary ops: forward values with broadcasting") {
  const auto a = tg::tensor<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  const auto b = tg::tensor<float>({10, 20, 30}, {3});
  const auto c = tg::tensor<float>({2, 4}, {2, 1});
  CHECK(close(a + b, {11, 22, 33, 14, 25, 36}, {2, 3}));
  CHECK(close(a - b, {-9, -18, -27, -6, -15, -24}, {2, 3}));
  CHECK(close(a * c, {2, 4, 6, 16, 20, 24}, {2, 3}));
  CHECK(close(a / c, {0.5, 1, 1.5, 1, 1.25, 1.5}, {2, 3}));
  CHECK(close(c + b, {12, 22, 32, 14, 24, 34}, {2, 3}));
  CHECK(close(-a, {-1, -2, -3, -4, -5, -6}, {2, 3}));
}

TEST_CASE("scalar forms and operators: values and gradients") {
  const auto x = tg::tensor<float>({1, 2, 4}, {3});
  CHECK(close(x + 1.0f, {2, 3, 5}));
  CHECK(close(1.0f + x, {2, 3, 5}));
  CHECK(close(x - 1.0f, {0, 1, 3}));
  CHECK(close(1.0f - x, {0, -1, -3}));
  CHECK(close(x * 2.0f, {2, 4, 8}));
  CHECK(close(2.0f * x, {2, 4, 8}));
  CHECK(close(x / 2.0f, {0.5, 1, 2}));
  CHECK(close(2.0f / x, {2, 1, 0.5}));
  CHECK(close(tg::add(x, 1.0f), {2, 3, 5}));
  CHECK(close(tg::sub(x, 1.0f), {0, 1, 3}));
  CHECK(close(tg::mul(x, 3.0f), {3, 6, 12}));
  CHECK(close(tg::div(x, 4.0f), {0.25, 0.5, 1}));
  auto y = x;
  y += 1.0f;
  y *= 2.0f;
  y -= x;
  y /= 2.0f;
  CHECK(close(y, {1.5, 2, 3}));
  CHECK(close(x, {1, 2, 4}));  // compound assignment rebinds y; x is untouched
  const auto p = leaf_in({4}, 0.5, 2.0, 7);
  CHECK(grad_ok([](const Inputs& v) { return 2.0 - v[0] * 3.0 + 1.0 / v[0] - v[0] / 4.0 + (v[0] + 1.0); }, {p}));
}

TEST_CASE("binary ops: gradient node names match PyTorch") {
  const auto a = tg::ones<float>({2}, true), b = tg::ones<float>({2});
  CHECK((a + b).grad_fn_name() == "AddBackward0");
  CHECK((a - b).grad_fn_name() == "SubBackward0");
  CHECK((a * b).grad_fn_name() == "MulBackward0");
  CHECK((a / b).grad_fn_name() == "DivBackward0");
  CHECK((-a).grad_fn_name() == "NegBackward0");
  CHECK((b + b).grad_fn_name().empty());
}

TEST_CASE("binary ops: shape mismatches name the op and both shapes") {
  const auto a = tg::ones<float>({2, 3}), b = tg::ones<float>({4});
  CHECK_THROWS_AS(a + b, tg::ShapeError);
  CHECK_THROWS_WITH(a + b, "add: shapes [2, 3] and [4] cannot be broadcast together (size 3 vs 4 at dimension 1 of the result)");
  CHECK_THROWS_WITH(a - b, "sub: shapes [2, 3] and [4] cannot be broadcast together (size 3 vs 4 at dimension 1 of the result)");
  CHECK_THROWS_WITH(a * b, "mul: shapes [2, 3] and [4] cannot be broadcast together (size 3 vs 4 at dimension 1 of the result)");
  CHECK_THROWS_WITH(a / b, "div: shapes [2, 3] and [4] cannot be broadcast together (size 3 vs 4 at dimension 1 of the result)");
  CHECK_THROWS_WITH(tg::pow(a, b), "pow: shapes [2, 3] and [4] cannot be broadcast together (size 3 vs 4 at dimension 1 of the result)");
  CHECK_THROWS_WITH(tg::ones<float>({2, 1, 3}) + tg::ones<float>({5, 2, 1}),
                    "add: shapes [2, 1, 3] and [5, 2, 1] cannot be broadcast together (size 2 vs 5 at dimension 0 of the result)");
}

TEST_CASE("binary ops on empty tensors broadcast and backpropagate") {
  auto a = tg::zeros<double>({0, 3}, true);
  auto b = tg::tensor<double>({1, 2, 3}, {3}, true);
  auto out = a * b + b;
  CHECK(out.shape() == tg::Shape{0, 3});
  tg::sum(out).backward();
  CHECK(close(a.grad(), std::vector<double>{}, {0, 3}));
  CHECK(close(b.grad(), {0, 0, 0}));  // no rows, so nothing is summed
}

TEST_CASE("unary ops: gradients") {
  const auto x = leaf({2, 3}, 11);
  const auto pos = leaf_in({2, 3}, 0.2, 3.0, 12);
  const auto away = leaf_of({-2.0, -0.5, 0.3, 1.5, -0.1, 0.7}, {2, 3});  // no element near abs/relu's kink
  CHECK(grad_ok([](const Inputs& v) { return tg::neg(v[0]); }, {x}));
  CHECK(grad_ok([](const Inputs& v) { return tg::exp(v[0]); }, {x}));
  CHECK(grad_ok([](const Inputs& v) { return tg::log(v[0]); }, {pos}));
  CHECK(grad_ok([](const Inputs& v) { return tg::sqrt(v[0]); }, {pos}));
  CHECK(grad_ok([](const Inputs& v) { return tg::abs(v[0]); }, {away}));
  CHECK(grad_ok([](const Inputs& v) { return tg::tanh(v[0]); }, {x}));
  CHECK(grad_ok([](const Inputs& v) { return tg::sigmoid(v[0]); }, {x}));
  CHECK(grad_ok([](const Inputs& v) { return tg::relu(v[0]); }, {away}));
  const auto scalar = leaf({}, 13);
  CHECK(grad_ok([](const Inputs& v) { return tg::tanh(tg::exp(v[0])); }, {scalar}));
}

TEST_CASE("unary ops: values, kinks and names") {
  const auto x = tg::tensor<double>({-2, 0, 3}, {3}, true);
  CHECK(close(tg::abs(x), {2, 0, 3}));
  CHECK(close(tg::relu(x), {0, 0, 3}));
  CHECK(close(tg::sigmoid(tg::tensor<double>({0, -1000, 1000}, {3})), {0.5, 0, 1}));
  CHECK(close(tg::tanh(tg::tensor<double>({0, 1}, {2})), {0, std::tanh(1.0)}));
  tg::sum(tg::abs(x) + tg::relu(x)).backward();
  CHECK(close(x.grad(), {-1, 0, 2}));  // sign(0) = 0 and relu'(0) = 0, as in PyTorch
  CHECK(tg::exp(x).grad_fn_name() == "ExpBackward0");
  CHECK(tg::log(x).grad_fn_name() == "LogBackward0");
  CHECK(tg::sqrt(x).grad_fn_name() == "SqrtBackward0");
  CHECK(tg::abs(x).grad_fn_name() == "AbsBackward0");
  CHECK(tg::tanh(x).grad_fn_name() == "TanhBackward0");
  CHECK(tg::sigmoid(x).grad_fn_name() == "SigmoidBackward0");
  CHECK(tg::relu(x).grad_fn_name() == "ReluBackward0");
  CHECK(tg::pow(x, 2.0).grad_fn_name() == "PowBackward0");
  CHECK(tg::pow(x, x).grad_fn_name() == "PowBackward1");
}

TEST_CASE("unary ops on empty tensors") {
  auto e = tg::zeros<double>({2, 0}, true);
  auto y = tg::exp(tg::log(tg::sqrt(tg::abs(tg::tanh(tg::sigmoid(tg::relu(e)))))));
  CHECK(y.shape() == tg::Shape{2, 0});
  tg::sum(y).backward();
  CHECK(e.grad().shape() == tg::Shape{2, 0});
}

TEST_CASE("pow with a scalar exponent: gradients") {
  const auto x = leaf({2, 3}, 21);
  const auto pos = leaf_in({2, 3}, 0.3, 2.0, 22);
  for (double e : {2.0, 3.0, 1.0, 0.0, -2.0}) {
    INFO("exponent " << e);
    CHECK(grad_ok([e](const Inputs& v) { return tg::pow(v[0], e); }, {x}));
  }
  for (double e : {0.5, -1.5, 2.5}) {
    INFO("exponent " << e);
    CHECK(grad_ok([e](const Inputs& v) { return tg::pow(v[0], e); }, {pos}));
  }
}

TEST_CASE("pow at 0: PyTorch's values and gradients") {
  for (double e : {0.0, 1.0, 2.0, 0.5}) {
    auto x = tg::tensor<double>({0, 1, 2}, {3}, true);
    auto y = tg::pow(x, e);
    tg::sum(y).backward();
    INFO("exponent " << e);
    CHECK(close(y, {std::pow(0.0, e), 1, std::pow(2.0, e)}));
    // d/dx x^e = e x^(e-1): 0 for e = 0 everywhere (torch masks it), 1 at 0 for e = 1, inf for e = 0.5
    const double at0 = e == 0 ? 0 : (e == 1 ? 1 : (e == 2 ? 0 : INFINITY));
    CHECK(x.grad().data()[0] == at0);
    CHECK(x.grad().data()[1] == Approx(e));
    CHECK(x.grad().data()[2] == Approx(e == 0 ? 0 : e * std::pow(2.0, e - 1)));
  }
}

TEST_CASE("pow with a tensor exponent: gradients with broadcasting, and 0 ** b") {
  const auto base = leaf_in({2, 3}, 0.3, 2.0, 31);
  const auto ex = leaf({3}, 32);
  CHECK(grad_ok([](const Inputs& v) { return tg::pow(v[0], v[1]); }, {base, ex}));
  CHECK(grad_ok([](const Inputs& v) { return tg::pow(v[1], v[0]); }, {leaf({2, 1}, 33), leaf_in({3}, 0.5, 1.5, 34)}));
  // d(a^b)/db = a^b log a, taken as 0 where a == 0 and b >= 0 (PyTorch's convention)
  auto a = tg::tensor<double>({0, 2, 0}, {3}, true);
  auto b = tg::tensor<double>({2, 3, 0}, {3}, true);
  auto y = tg::pow(a, b);
  tg::sum(y).backward();
  CHECK(close(y, {0, 8, 1}));
  CHECK(close(a.grad(), {0, 12, 0}));
  CHECK(close(b.grad(), {0, 8 * std::log(2.0), 0}));
}

TEST_CASE("clamp: values, gradients with min only, max only and both") {
  const auto x = leaf_of({-1.7, -0.4, 0.2, 0.6, 1.3, 2.2}, {2, 3});
  const auto none = std::optional<double>();
  CHECK(grad_ok([](const Inputs& v) { return tg::clamp(v[0], std::optional<double>(0.0), std::optional<double>(1.0)); }, {x}));
  CHECK(grad_ok([](const Inputs& v) { return tg::clamp(v[0], std::optional<double>(0.0)); }, {x}));
  CHECK(grad_ok([none](const Inputs& v) { return tg::clamp(v[0], none, std::optional<double>(1.0)); }, {x}));
  CHECK(close(tg::clamp(x, std::optional<double>(0.0), std::optional<double>(1.0)), {0, 0, 0.2, 0.6, 1, 1}));
  CHECK(close(tg::clamp(x, std::optional<double>(0.0)), {0, 0, 0.2, 0.6, 1.3, 2.2}));
  CHECK(close(tg::clamp(x, none, std::optional<double>(1.0)), {-1.7, -0.4, 0.2, 0.6, 1, 1}));
  // At the bounds the gradient passes (PyTorch's mask is min <= x <= max); min > max gives max and no gradient.
  auto b = tg::tensor<double>({-1, 0, 0.5, 1, 2}, {5}, true);
  tg::sum(tg::clamp(b, std::optional<double>(0.0), std::optional<double>(1.0))).backward();
  CHECK(close(b.grad(), {0, 1, 1, 1, 0}));
  auto c = tg::tensor<double>({0, 5}, {2}, true);
  auto y = tg::clamp(c, std::optional<double>(3.0), std::optional<double>(1.0));
  tg::sum(y).backward();
  CHECK(close(y, {1, 1}));
  CHECK(close(c.grad(), {0, 0}));
  CHECK(y.grad_fn_name() == "ClampBackward1");
  CHECK_THROWS_AS(tg::clamp(x, none, none), tg::ValueError);
  CHECK_THROWS_WITH(tg::clamp(x, none, none), "clamp: at least one of min and max must be given");
}

TEST_CASE("NaN propagates through clamp and relu") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto x = tg::tensor<double>({nan, 2}, {2});
  CHECK(close(tg::clamp(x, std::optional<double>(0.0), std::optional<double>(1.0)), {nan, 1}));
  CHECK(close(tg::relu(x), {nan, 2}));
}

TEST_CASE("relu passes the gradient where its output is NaN, as PyTorch does") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto x = tg::tensor<double>({nan, 1, -1, 0}, {4}, true);
  tg::sum(tg::relu(x)).backward();
  CHECK(close(x.grad(), {1, 1, 0, 0}));  // torch: threshold_backward zeroes only where the output is <= 0
}

TEST_CASE("clamp takes plain numbers for its bounds") {
  const auto x = tg::tensor<float>({-1, 0.5, 2}, {3});
  CHECK(close(tg::clamp(x, 0.0f), {0, 0.5, 2}));
  CHECK(close(tg::clamp(x, 0, 1), {0, 0.5, 1}));
  CHECK(close(tg::clamp(x, std::nullopt, 1.0f), {-1, 0.5, 1}));
  CHECK(close(tg::clamp(tg::tensor<double>({-1, 3}, {2}), -0.5, 0.5), {-0.5, 0.5}));
}

}  // namespace pointwise_test
