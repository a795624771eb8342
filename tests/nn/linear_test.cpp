// SPDX-License-Identifier: MIT
// Linear against PyTorch 1.13.1: values and all gradients on 1-D, 2-D, 3-D and empty inputs, init, errors.
#include "nn/nn_test.hpp"

namespace linear_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace nn = tapegrad::nn;
using tg_test::close;
using tg_test::nn_golden;

namespace {

template <class T>
void check_linear_case(const std::string& shape_name, bool with_bias, double rtol) {
  const auto& g = nn_golden();
  const std::string key = "linear/" + shape_name + (with_bias ? "/bias" : "/nobias");
  const std::string suffix = std::is_same_v<T, double> ? "_double" : "";
  INFO(key + suffix);
  nn::Linear<T> lin(nn::LinearOptions(3, 4).bias(with_bias));
  lin.weight = g.tensor<T>("linear/weight");
  if (with_bias) lin.bias = g.tensor<T>("linear/bias");
  const auto x = g.tensor<T>("linear/" + shape_name + "/x", true);
  const auto y = lin(x);
  y.backward(g.tensor<T>("linear/" + shape_name + "/gout"));
  const double atol = rtol * 0.1;
  CHECK(close(y, g.values(key + "/y" + suffix), g.shape(key + "/y" + suffix), rtol, atol));
  CHECK(close(x.grad(), g.values(key + "/grad_x" + suffix), g.shape(key + "/grad_x" + suffix), rtol, atol));
  CHECK(close(lin.weight.grad(), g.values(key + "/grad_weight" + suffix), {4, 3}, rtol, atol));
  if (with_bias) CHECK(close(lin.bias.grad(), g.values(key + "/grad_bias" + suffix), {4}, rtol, atol));
}

}  // namespace

TEST_CASE("Linear: values and gradients on 1-D, 2-D, 3-D and empty inputs, with and without bias") {
  for (const std::string shape : {"1d", "2d", "3d", "empty"})
    for (const bool with_bias : {true, false}) {
      check_linear_case<float>(shape, with_bias, 1e-6);
      check_linear_case<double>(shape, with_bias, 1e-12);
    }
}

TEST_CASE("Linear: the backward node names follow PyTorch's") {
  nn::Linear<float> with_bias(3, 2), without(nn::LinearOptions(3, 2).bias(false));
  const auto x = tg::ones<float>({3}, true);
  CHECK(with_bias(x).grad_fn_name() == "AddBackward0");
  CHECK(with_bias(x.reshape({1, 3})).grad_fn_name() == "AddmmBackward0");
  CHECK(with_bias(x.reshape({1, 1, 3})).grad_fn_name() == "ViewBackward0");
  CHECK(without(x).grad_fn_name() == "SqueezeBackward3");
  CHECK(without(x.reshape({1, 3})).grad_fn_name() == "MmBackward0");
  CHECK(without(x.reshape({1, 1, 3})).grad_fn_name() == "UnsafeViewBackward0");
  tg::NoGradGuard no_grad;
  CHECK_FALSE(with_bias(x).requires_grad());
}

TEST_CASE("Linear<double>: gradcheck through input, weight and bias on a 3-D input") {
  const auto x = tg::randn<double>({2, 2, 3}, true);
  const auto w = tg::randn<double>({4, 3}, true);
  const auto b = tg::randn<double>({4}, true);
  CHECK(tg::gradcheck([](const std::vector<tg::Tensor<double>>& v) { return nn::functional::linear(v[0], v[1], v[2]); },
                      {x, w, b}));
  CHECK(tg::gradcheck([](const std::vector<tg::Tensor<double>>& v) { return nn::functional::linear(v[0], v[1]); },
                      {x, w}));
}

TEST_CASE("Linear: only the gradients that are wanted are computed") {
  const auto x = tg::randn<float>({2, 3});  // no grad: dX is skipped
  nn::Linear<float> lin(3, 2);
  lin.bias.requires_grad_(false);
  tg::sum(lin(x)).backward();
  CHECK(lin.weight.grad().defined());
  CHECK_FALSE(lin.bias.grad().defined());
}

TEST_CASE("functional::linear: a one-element bias broadcasts, as in PyTorch") {
  const auto x = tg::tensor<double>({1, 2, 3, 4, 5, 6}, {2, 3}, true);
  const auto w = tg::tensor<double>({1, 0, 0, 0, 1, 1}, {2, 3}, true);
  const auto b = tg::tensor<double>({10}, {1}, true);
  const auto y = nn::functional::linear(x, w, b);
  CHECK(close(y, {11, 15, 14, 21}, {2, 2}, 0, 0));
  tg::sum(y).backward();
  CHECK(close(b.grad(), {4}, {1}, 0, 0));
}

TEST_CASE("Linear: in_features=0 gives the bias for every row and empty weight gradients") {
  nn::Linear<float> lin(0, 2);
  CHECK(close(lin.bias, {0, 0}, {2}, 0, 0));  // bound 0 when fan_in is 0, as in PyTorch
  lin.bias = tg::tensor<float>({1, 2});
  const auto y = lin(tg::zeros<float>({3, 0}));
  CHECK(close(y, {1, 2, 1, 2, 1, 2}, {3, 2}, 0, 0));
  tg::sum(y).backward();
  CHECK(lin.weight.grad().shape() == tg::Shape{2, 0});
  CHECK(close(lin.bias.grad(), {3, 3}, {2}, 0, 0));
}

TEST_CASE("Linear: init equals torch bit for bit (kaiming_uniform_(a=sqrt(5)), then the bias)") {
  const auto& g = nn_golden();
  tg::manual_seed(1);
  const nn::Linear<float> lin(3, 5);
  CHECK(close(lin.weight, g.values("init/linear_3_5/weight"), {5, 3}, 0, 0));
  CHECK(close(lin.bias, g.values("init/linear_3_5/bias"), {5}, 0, 0));
  CHECK(close(lin.bias, {-0.0520, 0.0837, -0.0023, 0.5047, 0.1797}, {5}, 0, 5e-5));  // the documented values
  tg::manual_seed(0);
  const nn::Linear<float> bigger(40, 10);
  CHECK(close(bigger.weight, g.values("init/linear_40_10/weight"), {10, 40}, 0, 0));
  CHECK(close(bigger.bias, g.values("init/linear_40_10/bias"), {10}, 0, 0));
  tg::manual_seed(2);
  const nn::Linear<double> dbl(4, 3);
  CHECK(close(dbl.weight, g.values("init/linear_double_4_3/weight"), {3, 4}, 0, 0));
  CHECK(close(dbl.bias, g.values("init/linear_double_4_3/bias"), {3}, 0, 0));
}

TEST_CASE("Linear: one_hot(idx) through a bias-free Linear equals the Embedding lookup, values and gradients") {
  // The one-hot matrix is built by hand: Linear's weight is [out, in] = Wᵀ of the embedding table.
  tg::manual_seed(5);
  nn::Embedding<float> emb(4, 3);
  nn::Linear<float> lin(nn::LinearOptions(4, 3).bias(false));
  lin.weight = emb.weight.detach().t();
  const std::vector<std::int64_t> idx{2, 0, 2, 3, 1};
  std::vector<float> hot(idx.size() * 4, 0.0f);
  for (std::size_t i = 0; i < idx.size(); ++i) hot[i * 4 + static_cast<std::size_t>(idx[i])] = 1;
  const auto one_hot = tg::tensor<float>(hot, {5, 4});
  const auto gout = tg::randn<float>({5, 3});
  const auto via_embedding = emb(tg::tensor<std::int64_t>(idx, {5}));
  const auto via_linear = lin(one_hot);
  CHECK(close(via_linear, via_embedding, 0, 0));
  via_embedding.backward(gout);
  via_linear.backward(gout);
  CHECK(close(lin.weight.grad().t(), emb.weight.grad(), 1e-6, 1e-7));
}

TEST_CASE("Linear: printing and parameter names") {
  CHECK(tg::nn::to_string(nn::Linear<float>(3, 5)) == "Linear(in_features=3, out_features=5, bias=True)");
  CHECK(tg::nn::to_string(nn::Linear<float>(nn::LinearOptions(3, 5).bias(false))) ==
        "Linear(in_features=3, out_features=5, bias=False)");
  nn::Linear<float> lin(3, 5), no_bias(nn::LinearOptions(3, 5).bias(false));
  std::vector<std::string> names;
  for (const auto& item : lin.named_parameters()) names.push_back(item.first);
  CHECK(names == std::vector<std::string>{"weight", "bias"});
  CHECK(no_bias.named_parameters().size() == 1);
  CHECK(no_bias.bias.is_absent());
  CHECK_FALSE(no_bias.bias.defined());
  std::ostringstream os;
  os << no_bias.bias;
  CHECK(os.str() == "None");
}

TEST_CASE("Linear: CTAD and the default element type give Linear<float>") {
  nn::Linear lin(nn::LinearOptions(3, 5));
  STATIC_REQUIRE(std::is_same_v<decltype(lin), nn::Linear<float>>);
  CHECK(lin.weight.shape() == tg::Shape{5, 3});
}

TEST_CASE("Linear: assigning a weight makes a new leaf that shares the tensor's elements") {
  nn::Linear<float> lin(3, 5);
  const auto w = tg::ones<float>({5, 3});
  lin.weight = w;
  CHECK(lin.weight.shares_storage(w));
  CHECK_FALSE(lin.weight.is_same(w));
  CHECK(lin.weight.requires_grad());
  CHECK(lin.weight.is_leaf());
  CHECK_FALSE(w.requires_grad());
  CHECK(close(lin(tg::ones<float>({1, 3})), tg::add(lin.bias.detach(), 3.0f).reshape({1, 5}), 0, 0));
}

TEST_CASE("Linear: assigning another Parameter ties the two, moving replaces wholesale") {
  nn::Linear<float> a(3, 5), b(3, 5);
  a.weight = b.weight;
  CHECK(a.weight.is_same(b.weight));
  CHECK(a.weight.description() == "Linear(in_features=3, out_features=5, bias=True).weight");
  nn::Linear<float> c(4, 6);
  CHECK_THROWS_WITH(a.weight = c.weight,
                    "Linear(in_features=3, out_features=5, bias=True).weight: expected shape [5, 3], got [6, 4] (Linear's "
                    "weight is [out_features, in_features], as in PyTorch)");
  a = c;  // whole modules: copy-assignment replaces options and parameters
  CHECK(a.weight.is_same(c.weight));
  CHECK(tg::nn::to_string(a) == "Linear(in_features=4, out_features=6, bias=True)");
  std::vector<nn::Linear<float>> layers;
  layers.emplace_back(2, 2);
  layers.emplace_back(3, 4);
  layers.erase(layers.begin());  // move-assignment of modules with different shapes
  CHECK(layers[0].weight.shape() == tg::Shape{4, 3});
}

// ---- errors ------------------------------------------------------------------------------------------

TEST_CASE("Linear errors: the tutorial's [3, 5] weight for Linear(3, 5) fails at the assignment") {
  nn::Linear<float> lin(3, 5);
  CHECK_THROWS_AS(lin.weight = tg::ones<float>({3, 5}), tg::ShapeError);
  CHECK_THROWS_WITH(lin.weight = tg::ones<float>({3, 5}),
                    "Linear(in_features=3, out_features=5, bias=True).weight: expected shape [5, 3], got [3, 5] "
                    "(Linear's weight is [out_features, in_features], as in PyTorch)");
  CHECK_THROWS_WITH(lin.bias = tg::ones<float>({3}), "Linear(in_features=3, out_features=5, bias=True).bias: expected shape [5], got [3]");
  CHECK_THROWS_WITH(lin.weight = tg::Tensor<float>(), "Linear(in_features=3, out_features=5, bias=True).weight: cannot assign an undefined tensor");
  CHECK(lin.weight.shape() == tg::Shape{5, 3});
  nn::Linear<float> no_bias(nn::LinearOptions(3, 5).bias(false));
  CHECK_THROWS_AS(no_bias.bias = tg::ones<float>({5}), tg::ValueError);
  CHECK_THROWS_WITH(no_bias.bias = tg::ones<float>({5}),
                    "Linear(in_features=3, out_features=5, bias=False).bias: the module was built without this parameter, "
                    "so it cannot be assigned");
}

TEST_CASE("Linear errors: input shape errors name the module, in_features and the input shape") {
  const nn::Linear<float> lin(3, 5);
  CHECK_THROWS_AS(lin(tg::ones<float>({4, 5})), tg::ShapeError);
  CHECK_THROWS_WITH(lin(tg::ones<float>({4, 5})),
                    "Linear(in_features=3, out_features=5, bias=True): input of shape [4, 5] has 5 features in its last "
                    "dimension, expected in_features=3");
  CHECK_THROWS_WITH(lin(tg::ones<float>({2, 4, 5})),
                    "Linear(in_features=3, out_features=5, bias=True): input of shape [2, 4, 5] has 5 features in its last "
                    "dimension, expected in_features=3");
  CHECK_THROWS_WITH(lin(tg::scalar_tensor<float>(1)),
                    "Linear(in_features=3, out_features=5, bias=True): input must have at least 1 dimension (its last one "
                    "holds the in_features=3 features), got a 0-d tensor");
}

TEST_CASE("functional::linear errors: weight, bias and input shapes") {
  const auto x = tg::ones<float>({2, 3});
  CHECK_THROWS_WITH(nn::functional::linear(x, tg::ones<float>({3})),
                    "linear: weight must be 2-D [out_features, in_features], got shape [3]");
  CHECK_THROWS_WITH(nn::functional::linear(tg::ones<float>({2, 5}), tg::ones<float>({4, 3})),
                    "linear: input of shape [2, 5] has 5 features in its last dimension, but weight of shape [4, 3] "
                    "expects 3 (weight is [out_features, in_features])");
  CHECK_THROWS_WITH(nn::functional::linear(x, tg::ones<float>({4, 3}), tg::ones<float>({3})),
                    "linear: bias of shape [3] does not fit weight of shape [4, 3]; expected [4]");
  CHECK_THROWS_WITH(nn::functional::linear(tg::scalar_tensor<float>(1), tg::ones<float>({4, 3})),
                    "linear: input must have at least 1 dimension (its last one holds the 3 features), got a 0-d tensor");
}

TEST_CASE("Linear errors: negative sizes") {
  CHECK_THROWS_AS(nn::Linear<float>(-1, 2), tg::ValueError);
  CHECK_THROWS_WITH(nn::Linear<float>(-1, 2), "Linear: in_features and out_features must be non-negative, got in_features=-1, out_features=2");
}

}  // namespace linear_test
