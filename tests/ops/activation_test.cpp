// SPDX-License-Identifier: MIT
// softmax and log_softmax: PyTorch values, gradients over every dim, large values, edge cases.
#include <cmath>
#include <limits>
#include <string>

#include "ops_test.hpp"

namespace activation_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
using ops_test::golden;
using ops_test::grad_ok;
using ops_test::Inputs;
using ops_test::leaf;
using tg_test::close;

TEST_CASE("softmax and log_softmax: values against PyTorch") {
  const auto& g = golden();
  const std::vector<std::pair<std::string, std::int64_t>> cases = {
      {"2d_dim1", 1}, {"3d_dim1", 1}, {"3d_dim0", 0}, {"3d_dimm1", -1}, {"1d", 0}};
  for (const auto& [name, dim] : cases) {
    INFO(name);
    const auto x = g.tensor<float>("softmax/" + name + "/input");
    CHECK(close(tg::softmax(x, dim), g.tensor<float>("softmax/" + name + "/out"), 1e-6, 1e-7));
    CHECK(close(tg::log_softmax(x, dim), g.tensor<float>("log_softmax/" + name + "/out"), 1e-6, 1e-6));
  }
}

TEST_CASE("softmax and log_softmax: large values do not overflow (PyTorch's values)") {
  const auto& g = golden();
  const auto x = g.tensor<float>("log_softmax/large/input");  // rows like [1000, 0, -1000] and [1e4, 1e4 + 1, 1e4 - 1]
  CHECK(close(tg::log_softmax(x, 1), g.tensor<float>("log_softmax/large/out"), 1e-6, 1e-6));
  CHECK(close(tg::softmax(x, 1), g.tensor<float>("softmax/large/out"), 1e-6, 1e-7));
  auto big = tg::tensor<double>({1000, 0, -1000}, {3}, true);
  CHECK(close(tg::log_softmax(big, 0), {0, -1000, -2000}, 1e-12));
  CHECK(grad_ok([](const Inputs& v) { return tg::log_softmax(v[0], 0); }, {big}));
  CHECK(grad_ok([](const Inputs& v) { return tg::softmax(v[0], 0); }, {tg::tensor<double>({500, 501, 499}, {3}, true)}));
}

TEST_CASE("softmax and log_softmax: gradients over every dim") {
  const auto x = leaf({2, 3, 4}, 1);
  for (std::int64_t d : {0, 1, 2, -1, -2, -3}) {
    INFO("dim " << d);
    CHECK(grad_ok([d](const Inputs& v) { return tg::softmax(v[0], d); }, {x}));
    CHECK(grad_ok([d](const Inputs& v) { return tg::log_softmax(v[0], d); }, {x}));
  }
  CHECK(grad_ok([](const Inputs& v) { return tg::log_softmax(v[0] * 3.0, 1) * tg::softmax(v[0], 0); }, {leaf({3, 5}, 2)}));
}

TEST_CASE("softmax and log_softmax: 0-d, size-1 and empty inputs, names") {
  auto s = tg::scalar_tensor<double>(3, true);
  CHECK(tg::softmax(s, 0).item() == 1);
  CHECK(tg::log_softmax(s, -1).item() == 0);
  CHECK(grad_ok([](const Inputs& v) { return tg::softmax(v[0], 0) + tg::log_softmax(v[0], 0); }, {s}));
  CHECK(close(tg::softmax(tg::tensor<float>({2, 5}, {2, 1}), 1), {1, 1}, {2, 1}));
  auto e = tg::zeros<double>({0, 3}, true);
  CHECK(tg::softmax(e, 1).shape() == tg::Shape{0, 3});
  CHECK(tg::log_softmax(tg::zeros<float>({2, 0}), 1).shape() == tg::Shape{2, 0});
  tg::sum(tg::log_softmax(e, 1)).backward();
  CHECK(e.grad().shape() == tg::Shape{0, 3});
  CHECK(tg::softmax(s, 0).grad_fn_name() == "SoftmaxBackward0");
  CHECK(tg::log_softmax(s, 0).grad_fn_name() == "LogSoftmaxBackward0");
}

TEST_CASE("softmax and log_softmax: NaN and infinities give PyTorch's results") {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(close(tg::softmax(tg::tensor<float>({-inf, 0, 1}, {3}), 0), {0, 1 / (1 + std::exp(1.0)), std::exp(1.0) / (1 + std::exp(1.0))}));
  const auto with_inf = tg::log_softmax(tg::tensor<float>({-inf, 0}, {2}), 0);
  CHECK(with_inf.data()[0] == -inf);
  CHECK(with_inf.data()[1] == 0);
  CHECK(close(tg::softmax(tg::tensor<float>({inf, 0}, {2}), 0), {nan, nan}));
  CHECK(close(tg::softmax(tg::tensor<float>({-inf, -inf}, {2}), 0), {nan, nan}));
  CHECK(close(tg::log_softmax(tg::tensor<float>({1, nan, 2, 3}, {2, 2}), 1), {nan, nan, -1.3132616, -0.3132616}));
}

TEST_CASE("softmax and log_softmax: a bad dim names the dim and the valid range") {
  const auto x = tg::ones<float>({2, 3});
  CHECK_THROWS_AS(tg::softmax(x, 2), tg::IndexError);
  CHECK_THROWS_WITH(tg::softmax(x, 2), "softmax: dim 2 is out of range for a tensor with 2 dimensions (valid range [-2, 1])");
  CHECK_THROWS_WITH(tg::log_softmax(x, -3),
                    "log_softmax: dim -3 is out of range for a tensor with 2 dimensions (valid range [-2, 1])");
}

}  // namespace activation_test
