// SPDX-License-Identifier: MIT
// nn::init against torch.nn.init after the same torch.manual_seed.
#include "nn/nn_test.hpp"

namespace init_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace init = tapegrad::nn::init;
using tg_test::close;
using tg_test::nn_golden;

TEST_CASE("init: uniform_, normal_, xavier_*, kaiming_* draw exactly what torch draws, in the same order") {
  const auto& g = nn_golden();
  tg::manual_seed(7);
  auto u = tg::empty<float>({4, 6});
  init::uniform_(u, -2, 3);
  CHECK(close(u, g.values("init/uniform/value"), {4, 6}, 0, 0));
  auto n = tg::empty<float>({3, 4});
  init::normal_(n, 0.5, 2);
  CHECK(close(n, g.values("init/normal/value"), {3, 4}, 0, 0));
  auto xu = tg::empty<double>({5, 7});
  init::xavier_uniform_(xu, 2.0);
  CHECK(close(xu, g.values("init/xavier_uniform/value"), {5, 7}, 0, 0));
  auto xn = tg::empty<float>({3, 4});
  init::xavier_normal_(xn);
  CHECK(close(xn, g.values("init/xavier_normal/value"), {3, 4}, 0, 0));
  auto ku = tg::empty<float>({6, 5});
  init::kaiming_uniform_(ku, 0.1, init::FanMode::FanOut, init::Nonlinearity::Relu);
  CHECK(close(ku, g.values("init/kaiming_uniform_relu_fan_out/value"), {6, 5}, 0, 0));
  auto kn = tg::empty<double>({2, 3, 4});
  init::kaiming_normal_(kn, 0.2);
  CHECK(close(kn, g.values("init/kaiming_normal_3d/value"), {2, 3, 4}, 0, 0));
  auto k5 = tg::empty<float>({4, 3});
  init::kaiming_uniform_(k5, std::sqrt(5.0));
  CHECK(close(k5, g.values("init/kaiming_uniform_sqrt5/value"), {4, 3}, 0, 0));
}

TEST_CASE("init: calculate_gain as torch.nn.init.calculate_gain") {
  using N = init::Nonlinearity;
  const std::vector<double> gains{init::calculate_gain(N::Linear), init::calculate_gain(N::Conv2d),
                                  init::calculate_gain(N::Sigmoid), init::calculate_gain(N::Tanh),
                                  init::calculate_gain(N::Relu),    init::calculate_gain(N::LeakyRelu),
                                  init::calculate_gain(N::Selu),    init::calculate_gain(N::LeakyRelu, 0.2)};
  CHECK(gains == nn_golden().values("init/gains"));
}

TEST_CASE("init: constant_, zeros_, ones_ and fans") {
  auto t = tg::empty<float>({2, 3, 4});
  init::constant_(t, 0.25);
  CHECK(t.to_vector() == std::vector<float>(24, 0.25f));
  init::zeros_(t);
  CHECK(t.to_vector() == std::vector<float>(24, 0.0f));
  init::ones_(t);
  CHECK(t.to_vector() == std::vector<float>(24, 1.0f));
  const auto fans = init::calculate_fan_in_and_fan_out(t);
  CHECK(fans.fan_in == 12);
  CHECK(fans.fan_out == 8);
}

TEST_CASE("init: works on parameters that require grad (no tape, no in-place refusal)") {
  tg::nn::Linear<float> lin(3, 2);
  init::constant_(lin.weight, 1.5);
  CHECK(lin.weight.to_vector() == std::vector<float>(6, 1.5f));
  CHECK(lin.weight.is_leaf());
  CHECK(lin.weight.requires_grad());
}

TEST_CASE("init: an explicit Generator is used instead of the default one") {
  tg::Generator a(9), b(9);
  auto x = tg::empty<float>({3, 3}), y = tg::empty<float>({3, 3});
  init::normal_(x, 0, 1, a);
  tg::manual_seed(1);
  (void)tg::rand<float>({2});
  init::normal_(y, 0, 1, b);
  CHECK(close(x, y, 0, 0));
}

TEST_CASE("init: zero-element tensors are left alone by kaiming_* and xavier_*") {
  auto t = tg::empty<float>({0, 3});
  CHECK_NOTHROW(init::kaiming_uniform_(t));
  CHECK_NOTHROW(init::kaiming_normal_(t));
  CHECK_NOTHROW(init::xavier_uniform_(t));
  CHECK_NOTHROW(init::xavier_normal_(t));
}

TEST_CASE("init errors: fewer than 2 dimensions, undefined tensors") {
  auto v = tg::empty<float>({5});
  CHECK_THROWS_AS(init::xavier_uniform_(v), tg::ShapeError);
  CHECK_THROWS_WITH(init::xavier_uniform_(v),
                    "init::xavier_uniform_: fan in and fan out need a tensor with at least 2 dimensions, got shape [5]");
  CHECK_THROWS_WITH(init::kaiming_normal_(v),
                    "init::kaiming_normal_: fan in and fan out need a tensor with at least 2 dimensions, got shape [5]");
  tg::nn::Linear<float> lin(tg::nn::LinearOptions(3, 2).bias(false));
  CHECK_THROWS_AS(init::zeros_(lin.bias), tg::ValueError);
  CHECK_THROWS_WITH(init::uniform_(lin.bias),
                    "init::uniform_: the tensor is undefined (an absent parameter, such as the bias of a Linear built "
                    "with bias=false?)");
  CHECK_THROWS_WITH(init::kaiming_uniform_(lin.bias),
                    "init::kaiming_uniform_: the tensor is undefined (an absent parameter, such as the bias of a Linear "
                    "built with bias=false?)");
}

}  // namespace init_test
