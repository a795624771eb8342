// SPDX-License-Identifier: MIT
// The Tensor API as libtorch users write it: each method against PyTorch 1.13.1 (the method reaches
// the right op with the right arguments), item<U>, tolist, nested-list construction, in-place
// arithmetic, and the errors of each.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "support/golden.hpp"
#include "support/test.hpp"

namespace tensor_api_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
using tg_test::close;

namespace {

const tg_test::Golden& golden() {
  static const tg_test::Golden g("tensor_api");
  return g;
}

// Compares a result of any element type with the golden record of the same name.
template <class U>
tg_test::Comparison matches(const tg::Tensor<U>& actual, const std::string& key) {
  const auto& g = golden();
  return close(actual.template to<double>(), g.values(key), g.shape(key), 1e-5, 1e-6);
}

}  // namespace

TEST_CASE("methods: each libtorch-style call gives PyTorch's result") {
  const auto x = golden().tensor<float>("x");
  const auto ties = golden().tensor<float>("ties");
  const auto m = golden().tensor<float>("m");
  using F = tg::Tensor<float>;
  const std::vector<std::pair<std::string, std::function<F()>>> calls = {
      {"sum", [&] { return x.sum(); }},
      {"sum_1", [&] { return x.sum(1); }},
      {"sum_01_keep", [&] { return x.sum({0, 1}, true); }},
      {"sum_m1_keep", [&] { return x.sum(-1, true); }},
      {"mean", [&] { return x.mean(); }},
      {"mean_1", [&] { return x.mean(1); }},
      {"mean_0_keep", [&] { return x.mean(0, true); }},
      {"mean_01", [&] { return x.mean({0, 1}); }},
      {"norm", [&] { return x.norm(); }},
      {"norm_1_1", [&] { return x.norm(1, 1); }},
      {"norm_inf_0_keep", [&] { return x.norm(INFINITY, 0, true); }},
      {"pow_2", [&] { return x.pow(2); }},
      {"pow_t", [&] { return x.abs().pow(m.t().narrow(0, 0, 1)); }},
      {"exp", [&] { return x.exp(); }},
      {"log", [&] { return x.abs().log(); }},
      {"sqrt", [&] { return x.abs().sqrt(); }},
      {"abs", [&] { return x.abs(); }},
      {"neg", [&] { return x.neg(); }},
      {"tanh", [&] { return x.tanh(); }},
      {"sigmoid", [&] { return x.sigmoid(); }},
      {"relu", [&] { return x.relu(); }},
      {"clamp", [&] { return x.clamp(-0.5, 0.5); }},
      {"clamp_min", [&] { return x.clamp_min(0.1f); }},
      {"clamp_max", [&] { return x.clamp_max(0.1f); }},
      {"softmax_1", [&] { return x.softmax(1); }},
      {"log_softmax_0", [&] { return x.log_softmax(0); }},
      {"matmul", [&] { return x.matmul(m); }},
      {"mm", [&] { return x.mm(m); }},
      {"t", [&] { return x.t(); }},
      {"transpose", [&] { return x.transpose(0, 1); }},
      {"reshape", [&] { return x.reshape({2, 6}); }},
      {"view", [&] { return x.view({-1, 3}); }},
      {"unsqueeze_0", [&] { return x.unsqueeze(0); }},
      {"unsqueeze_m1", [&] { return x.unsqueeze(-1); }},
      {"flatten", [&] { return x.unsqueeze(1).flatten(1); }},
      {"squeeze", [&] { return x.unsqueeze(1).squeeze(); }},
      {"squeeze_1", [&] { return x.unsqueeze(1).squeeze(1); }},
      {"index_select", [&] { return x.index_select(1, tg::tensor<std::int64_t>({3, 0, 3})); }},
      {"add_s", [&] { return x.add(2); }},
      {"sub_t", [&] { return x.sub(x[0]); }},
      {"mul_s", [&] { return x.mul(3); }},
      {"div_t", [&] { return x.div(x[1]); }},
  };
  for (const auto& [name, call] : calls) {
    INFO(name);
    CHECK(matches(call(), "call/" + name));
  }
  CHECK(matches(ties.argmax(), "call/argmax"));
  CHECK(matches(ties.argmax(1), "call/argmax_1"));
  CHECK(matches(ties.argmin(0), "call/argmin_0"));
  CHECK(matches(ties.argmin(1, true), "call/argmin_1_keep"));
}

TEST_CASE("methods: gradients through a chain of method calls match PyTorch") {
  auto x = golden().tensor<float>("x", true);
  auto loss = x.pow(2).sum(1).sqrt().mean() + x.softmax(1).max() - x.abs().clamp(0.2, 1.0).norm();
  CHECK(matches(loss, "chain/loss"));
  loss.backward();
  CHECK(matches(x.grad(), "chain/grad"));
}

TEST_CASE("methods: free function and method are the same op") {
  // Same node, same values: the method is a forward, not a second implementation.
  auto x = tg::tensor<double>({1, -2, 3, -4}, {2, 2}, true);
  CHECK(x.sum(0).grad_fn_name() == tg::sum(x, 0).grad_fn_name());
  CHECK(x.softmax(-1).equal(tg::softmax(x, -1)));
  CHECK(x.sum({0, 1}).grad_fn_name() == "SumBackward1");
}

TEST_CASE("item<U>: converts a one-element tensor, refuses values that do not fit") {
  CHECK(tg::scalar_tensor<float>(3.0f).item<std::int64_t>() == 3);
  CHECK(tg::tensor<std::int64_t>({7}).item<double>() == 7.0);
  CHECK(tg::tensor<bool>({true}).item<std::int32_t>() == 1);
  CHECK(tg::tensor<float>({1, 2, 3}).eq(2.0f).sum().item<std::int64_t>() == 1);
  CHECK_THROWS_AS(tg::scalar_tensor<float>(NAN).item<std::int64_t>(), tg::ValueError);
  CHECK_THROWS_WITH(tg::scalar_tensor<double>(1e20).item<std::int32_t>(),
                    "to<int32>: element 0 is 1e+20, which has no int32 value (valid range [-2147483648, 2147483647])");
  CHECK_THROWS_WITH(tg::zeros<float>({2}).item<double>(),
                    "item: a tensor with 2 elements (shape [2]) cannot be converted to a scalar");
}

TEST_CASE("tolist<N>: nested vectors N deep, N checked against dim()") {
  const auto x = tg::arange<float>(6).reshape({2, 3});
  const std::vector<std::vector<float>> expected{{0, 1, 2}, {3, 4, 5}};
  CHECK(x.tolist<2>() == expected);
  CHECK(tg::scalar_tensor<std::int64_t>(4).tolist<0>() == 4);
  CHECK(tg::zeros<float>({0, 3}).tolist<2>().empty());
  CHECK(tg::tensor<bool>({true, false}).tolist<1>() == std::vector<bool>{true, false});
  CHECK_THROWS_WITH(x.tolist<1>(), "tolist<1>: the tensor has 2 dims (shape [2, 3]); call tolist<2>()");
}

TEST_CASE("in-place arithmetic: add_, sub_, mul_, div_ write into the tensor, refuse what would break the tape") {
  auto x = tg::tensor<float>({1, 2, 3, 4}, {2, 2});
  const auto alias = x.view({4});
  x.add_(1).mul_(tg::tensor<float>({1, 10})).sub_(0.5f).div_(2);
  CHECK(close(alias, {0.75, 14.75, 1.75, 24.75}, {4}));
  auto row = tg::ones<float>({2});
  CHECK_THROWS_WITH(row.add_(tg::ones<float>({2, 2})),
                    "add_: the result has shape [2, 2], which cannot be written into this tensor of shape [2]");
  CHECK(close(row, {1, 1}, {2}));
  auto w = tg::ones<float>({2}, true);
  CHECK_THROWS_AS(w.mul_(2), tg::AutogradError);
  {
    tg::NoGradGuard no_grad;  // how optimisers update parameters
    w.mul_(2);
  }
  CHECK(close(w, {2, 2}, {2}));
}

TEST_CASE("mm, sizes, contiguous: libtorch's spellings") {
  auto a = tg::ones<float>({2, 3});
  CHECK(a.sizes() == tg::Shape{2, 3});
  CHECK(a.contiguous().is_same(a));
  CHECK(a.is_contiguous());
  CHECK(a.mm(tg::ones<float>({3, 1})).shape() == tg::Shape{2, 1});
  CHECK_THROWS_WITH(a.mm(tg::ones<float>({3})),
                    "mm: both operands must be 2-d, got shapes [2, 3] and [3]; matmul takes other ranks");
}

TEST_CASE("clamp on integer tensors: a missing bound leaves values alone") {
  // numeric_limits<int64>::infinity() is 0, so a one-sided integer clamp once clamped to 0.
  const auto i = tg::tensor<std::int64_t>({-5, 0, 7});
  CHECK(close(i.clamp_min(-1), {-1, 0, 7}, {3}));
  CHECK(close(i.clamp_max(3), {-5, 0, 3}, {3}));
}

// ---- a page of libtorch-style code -----------------------------------------------------------------
// Written the way the libtorch docs and examples write it (with tapegrad's names for the module
// registration and the optimiser's element type); it must compile and train.

namespace {

struct Net : tg::nn::Module<float> {
  Net() : fc1(8, 32), fc2(32, 3) {}
  tg::Tensor<float> forward(tg::Tensor<float> x) {
    x = tg::relu(fc1.forward(x.reshape({x.size(0), 8})));
    x = fc2.forward(x).log_softmax(/*dim=*/1);
    return x;
  }
  void visit(tg::nn::Visitor<float>& v) override {
    v("fc1", fc1);
    v("fc2", fc2);
  }
  tg::nn::Linear<float> fc1, fc2;
};

}  // namespace

TEST_CASE("libtorch style: the issue's snippets and a docs-style training loop compile and train") {
  using namespace tg::indexing;
  tg::manual_seed(0);
  auto x = tg::randn<float>({4, 5});
  // The seven calls that once did not compile.
  CHECK(x.sum().dim() == 0);
  CHECK(x.mean(1).sizes() == tg::Shape{4});
  CHECK(x.softmax(1).sum(1).allclose(tg::ones<float>({4})));
  CHECK(x.argmax(1).sizes() == tg::Shape{4});
  CHECK(x.unsqueeze(0).sizes() == tg::Shape{1, 4, 5});
  CHECK(x[0].equal(x.select(0, 0)));
  CHECK(tg::mean(x, 1).equal(x.mean(1)));
  // Selection, masks and comparisons, without a loop over to_vector().
  CHECK(x.index({Slice(1, None), 0}).sizes() == tg::Shape{3});
  auto [values, indices] = x.max(1);
  for (std::int64_t i = 0; i < 4; ++i) CHECK(values.at({i}) == x.at({i, indices.at({i})}));
  CHECK(std::get<1>(x.topk(2)).sizes() == tg::Shape{4, 2});
  const auto positive = x.gt(0);
  CHECK(x.where(positive, 0.0f).ge(0).all().item<bool>());
  CHECK((x.masked_fill(x < 0, 0.0f) == x.relu()).all().item<bool>());
  const auto sorted = std::get<0>(x.sort(1, /*descending=*/true));
  CHECK(sorted.select(1, 0).equal(values));
  CHECK(x.cumsum(1).select(1, 4).allclose(x.sum(1)));

  // A three-class problem: the class is the position of the largest of the first three features.
  auto inputs = tg::randn<float>({96, 8});
  auto targets = inputs.narrow(1, 0, 3).argmax(1);
  Net net;
  tg::optim::SGD<float> optimizer(net.parameters(), /*lr=*/0.5);
  double accuracy = 0;
  for (std::size_t epoch = 1; epoch <= 30; ++epoch) {
    std::int64_t correct = 0;
    for (std::int64_t start = 0; start < 96; start += 32) {
      auto data = inputs.narrow(0, start, 32);
      auto target = targets.narrow(0, start, 32);
      optimizer.zero_grad();
      tg::Tensor<float> prediction = net.forward(data);
      tg::Tensor<float> loss = tg::nll_loss(prediction, target);
      loss.backward();
      optimizer.step();
      correct += prediction.argmax(1).eq(target).sum().item<std::int64_t>();
    }
    accuracy = static_cast<double>(correct) / 96;
  }
  CHECK(accuracy > 0.9);
}

TEST_CASE("tensor from nested braces: shape from the nesting, ragged lists refused") {
  const auto m = tg::tensor<float>({{1, 2, 3}, {4, 5, 6}});
  CHECK(close(m, {1, 2, 3, 4, 5, 6}, {2, 3}));
  const auto cube = tg::tensor<double>({{{1}, {2}}, {{3}, {4}}}, true);
  CHECK(close(cube, {1, 2, 3, 4}, {2, 2, 1}));
  CHECK(cube.requires_grad());
  CHECK(tg::tensor<std::int64_t>({{{{7}}}}).sizes() == tg::Shape{1, 1, 1, 1});
  CHECK(tg::tensor<bool>({{true, false}}).to<std::int64_t>().equal(tg::tensor<std::int64_t>({{1, 0}})));
  CHECK(tg::tensor<float>({{}, {}}).sizes() == tg::Shape{2, 0});
  CHECK_THROWS_WITH(tg::tensor<float>({{1, 2}, {3}}),
                    "tensor: nested lists must be rectangular: the list at [1] has 1 elements, but the first list at "
                    "that depth has 2");
  CHECK_THROWS_WITH(tg::tensor<float>({{{1, 2}}, {{3, 4}, {5, 6}}}),
                    "tensor: nested lists must be rectangular: the list at [1] has 2 elements, but the first list at "
                    "that depth has 1");
}

TEST_CASE("tensor from nested braces: values and lists cannot mix at one depth") {
  CHECK_THROWS_WITH(tg::tensor<float>({{1, {2}}}),
                    "tensor: nested lists must be rectangular: the entry at [0][1] is a list where a value was expected");
  CHECK_THROWS_WITH(tg::tensor<float>({{{1}, 2}}),
                    "tensor: nested lists must be rectangular: the entry at [0][1] is a value where a list was expected");
}

}  // namespace tensor_api_test
