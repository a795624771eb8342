// SPDX-License-Identifier: MIT
// Losses and cosine_similarity: PyTorch values and gradients, finite differences, options, errors.
#include <cmath>
#include <string>

#include "ops_test.hpp"

namespace loss_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
using ops_test::golden;
using ops_test::grad_ok;
using ops_test::Inputs;
using ops_test::leaf;
using tg_test::close;

namespace {

using Index = tg::Tensor<std::int64_t>;

/// One nll_loss / cross_entropy case of tests/reference/golden_ops.py.
struct LossCase {
  std::string name, input;
  Index target;
  std::vector<double> weight;  // empty: no class weights
  std::int64_t ignore_index;
  tg::Tensor<float> g_none;  // the gradient fed to the unreduced loss
};

std::vector<LossCase> loss_cases() {
  const auto& g = golden();
  const Index t2 = g.tensor<std::int64_t>("loss/t2"), t3 = g.tensor<std::int64_t>("loss/t3"),
              t4 = g.tensor<std::int64_t>("loss/t4");
  const std::vector<double> w5 = g.values("loss/weight5"), w4 = g.values("loss/weight4");
  const auto g2 = tg::tensor<float>({0.5, -1.0, 2.0, 1.5}, {4});
  const auto g3 = tg::tensor<float>({0.5, -1.0, 2.0, 1.5, 0.25, -2.0}, {2, 3});
  const auto g4 = tg::tensor<float>({0.5, -1.0, 2.0, 1.0, 1.5, 0.25, -2.0, 3.0}, {2, 2, 2});
  const auto g1 = tg::scalar_tensor<float>(1.5);
  return {
      {"2d", "loss/x2", t2, {}, -100, g2},
      {"2d_weight", "loss/x2", t2, w5, -100, g2},
      {"2d_ignore", "loss/x2", tg::tensor<std::int64_t>({1, -100, 4, 2}, {4}), {}, -100, g2},
      {"2d_ignore0_weight", "loss/x2", tg::tensor<std::int64_t>({1, 0, 4, 0}, {4}), w5, 0, g2},
      {"1d", "loss/x1", tg::scalar_tensor<std::int64_t>(3), {}, -100, g1},
      {"1d_weight", "loss/x1", tg::scalar_tensor<std::int64_t>(3), w5, -100, g1},
      {"3d", "loss/x3", t3, {}, -100, g3},
      {"3d_weight", "loss/x3", t3, w4, -100, g3},
      {"4d", "loss/x4", t4, {}, -100, g4},
      {"4d_weight_ignore2", "loss/x4", t4, {w4[0], w4[1], w4[2]}, 2, g4},
  };
}

const std::vector<std::pair<std::string, tg::Reduction>> kReductions = {
    {"none", tg::Reduction::None}, {"mean", tg::Reduction::Mean}, {"sum", tg::Reduction::Sum}};

template <class T>
tg::Tensor<T> weight_tensor(const std::vector<double>& w) {
  return tg::tensor<T>(std::vector<T>(w.begin(), w.end()), {static_cast<std::int64_t>(w.size())});
}

}  // namespace

// ---- nll_loss / cross_entropy ----------------------------------------------------------------------------

TEST_CASE("cross_entropy and nll_loss: values and gradients against PyTorch for every case and reduction") {
  const auto& g = golden();
  for (const LossCase& c : loss_cases())
    for (const auto& [rname, reduction] : kReductions)
      for (const std::string fname : {"cross_entropy", "nll_loss"}) {
        const std::string key = fname + "/" + c.name + "/" + rname;
        INFO(key);
        auto x = g.tensor<float>(c.input, true);
        tg::Tensor<float> out;
        if (fname == "cross_entropy") {
          tg::CrossEntropyOptions<float> o;
          o.ignore_index(c.ignore_index).reduction(reduction);
          if (!c.weight.empty()) o.weight(weight_tensor<float>(c.weight));
          out = tg::cross_entropy(x, c.target, o);
        } else {
          tg::NLLLossOptions<float> o;
          o.ignore_index(c.ignore_index).reduction(reduction);
          if (!c.weight.empty()) o.weight(weight_tensor<float>(c.weight));
          out = tg::nll_loss(x, c.target, o);
        }
        CHECK(close(out, g.tensor<float>(key + "/out"), 1e-6, 1e-6));
        out.backward(reduction == tg::Reduction::None ? c.g_none : tg::ones<float>({}));
        CHECK(close(x.grad(), g.tensor<float>(key + "/grad"), 1e-6, 1e-6));
      }
}

TEST_CASE("cross_entropy and nll_loss: gradients (finite differences) for every case and reduction") {
  const auto& g = golden();
  for (const LossCase& c : loss_cases())
    for (const auto& [rname, reduction] : kReductions) {
      INFO(c.name << " " << rname);
      const auto x = g.tensor<double>(c.input, true);
      tg::CrossEntropyOptions<double> ce;
      tg::NLLLossOptions<double> nll;
      ce.ignore_index(c.ignore_index).reduction(reduction);
      nll.ignore_index(c.ignore_index).reduction(reduction);
      if (!c.weight.empty()) {
        ce.weight(weight_tensor<double>(c.weight));
        nll.weight(weight_tensor<double>(c.weight));
      }
      const Index t = c.target;
      CHECK(grad_ok([t, ce](const Inputs& v) { return tg::cross_entropy(v[0], t, ce); }, {x}));
      CHECK(grad_ok([t, nll](const Inputs& v) { return tg::nll_loss(tg::log_softmax(v[0], v[0].dim() == 1 ? 0 : 1), t, nll); },
                    {x}));
    }
}

TEST_CASE("cross_entropy: the graph PyTorch builds, int32 targets, default options") {
  auto x = tg::tensor<float>({1, 2, 3, 1, 1, 1}, {2, 3}, true);
  const auto t = tg::tensor<std::int64_t>({2, 0}, {2});
  const auto loss = tg::cross_entropy(x, t);
  CHECK(loss.grad_fn_name() == "NllLossBackward0");
  CHECK(tg::nll_loss(x, t).grad_fn_name() == "NllLossBackward0");
  // -log softmax: row 0 picks class 2 of [1, 2, 3], row 1 class 0 of three equal logits
  const double r0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3, r1 = std::log(3.0);
  CHECK(close(loss, {(r0 + r1) / 2}, tg::Shape{}));
  CHECK(close(tg::cross_entropy(x, tg::tensor<std::int32_t>({2, 0}, {2})), {(r0 + r1) / 2}, tg::Shape{}));
  CHECK(close(tg::nll_loss(x, tg::tensor<std::int32_t>({2, 0}, {2}), tg::NLLLossOptions().reduction(tg::Reduction::None)),
              {-3, -1}));
  const tg::CrossEntropyOptions<> o;
  CHECK(o.ignore_index() == -100);
  CHECK(o.reduction() == tg::Reduction::Mean);
  CHECK_FALSE(o.weight().defined());
}

TEST_CASE("loss options chain, and float options (weights included) serve double inputs") {
  const auto x = tg::tensor<double>({0.2, -1, 0.5, 2, 0.1, -0.3}, {2, 3});
  const auto t = tg::tensor<std::int64_t>({2, 0}, {2});
  const auto o = tg::CrossEntropyOptions().ignore_index(0).reduction(tg::Reduction::Sum).weight(tg::tensor<float>({1, 2, 4}, {3}));
  CHECK(o.ignore_index() == 0);
  CHECK(o.reduction() == tg::Reduction::Sum);
  const double lse0 = std::log(std::exp(0.2) + std::exp(-1.0) + std::exp(0.5));
  CHECK(close(tg::cross_entropy(x, t, o), {4 * (lse0 - 0.5)}, tg::Shape{}, 1e-12));  // row 1 (class 0) ignored
  CHECK(close(tg::cross_entropy(x, t, tg::CrossEntropyOptions().reduction(tg::Reduction::None)),
              {lse0 - 0.5, std::log(std::exp(2.0) + std::exp(0.1) + std::exp(-0.3)) - 2}, 1e-12));
  const auto n = tg::NLLLossOptions().ignore_index(2).weight(tg::tensor<float>({1, 2, 4}, {3}));
  CHECK(close(tg::nll_loss(x, t, n), {-2}, tg::Shape{}, 1e-12));  // only row 1: -1 * 2 / 1
}

TEST_CASE("nll_loss: every target ignored gives NaN (mean) and 0 (sum) as in PyTorch, and empty batches") {
  const auto& g = golden();
  auto x = g.tensor<float>("loss/x2", true);
  const auto ignored = tg::full<std::int64_t>({4}, -100);
  const auto mean = tg::nll_loss(x, ignored);
  CHECK(close(mean, g.tensor<float>("nll_loss/all_ignored/mean")));
  CHECK(close(tg::nll_loss(x, ignored, tg::NLLLossOptions().reduction(tg::Reduction::Sum)),
              g.tensor<float>("nll_loss/all_ignored/sum")));
  mean.backward();
  CHECK(close(x.grad(), std::vector<double>(20, 0.0), {4, 5}));
  const auto e = tg::zeros<float>({0, 5}, true);
  const auto none = tg::zeros<std::int64_t>({0});
  CHECK(std::isnan(tg::cross_entropy(e, none).item()));
  CHECK(tg::cross_entropy(e, none, tg::CrossEntropyOptions().reduction(tg::Reduction::Sum)).item() == 0);
  CHECK(tg::cross_entropy(e, none, tg::CrossEntropyOptions().reduction(tg::Reduction::None)).shape() == tg::Shape{0});
}

TEST_CASE("cross_entropy and nll_loss: target shape mismatches name both shapes and the expected one") {
  const auto x = tg::zeros<float>({3, 5});
  CHECK_THROWS_AS(tg::cross_entropy(x, tg::zeros<std::int64_t>({2})), tg::ShapeError);
  CHECK_THROWS_WITH(tg::cross_entropy(x, tg::zeros<std::int64_t>({2})),
                    "cross_entropy: target of shape [2] does not fit input of shape [3, 5]; expected target shape [3] "
                    "(input [C] takes a 0-d target, [N, C, d1, ...] takes [N, d1, ...])");
  CHECK_THROWS_WITH(tg::nll_loss(x, tg::zeros<std::int64_t>({3, 1})),
                    "nll_loss: target of shape [3, 1] does not fit input of shape [3, 5]; expected target shape [3] "
                    "(input [C] takes a 0-d target, [N, C, d1, ...] takes [N, d1, ...])");
  CHECK_THROWS_WITH(tg::cross_entropy(tg::zeros<float>({5}), tg::zeros<std::int64_t>({1})),
                    "cross_entropy: target of shape [1] does not fit input of shape [5]; expected target shape [] "
                    "(input [C] takes a 0-d target, [N, C, d1, ...] takes [N, d1, ...])");
  CHECK_THROWS_WITH(tg::cross_entropy(tg::zeros<float>({2, 3, 4}), tg::zeros<std::int64_t>({2, 3})),
                    "cross_entropy: target of shape [2, 3] does not fit input of shape [2, 3, 4]; expected target shape "
                    "[2, 4] (input [C] takes a 0-d target, [N, C, d1, ...] takes [N, d1, ...])");
  CHECK_THROWS_WITH(tg::cross_entropy(tg::scalar_tensor<float>(1), tg::scalar_tensor<std::int64_t>(0)),
                    "cross_entropy: input must have a class dimension ([C], [N, C] or [N, C, d1, ...]), got a 0-d tensor");
  CHECK_THROWS_AS(tg::nll_loss(x, tg::zeros<std::int64_t>({3}), tg::NLLLossOptions().weight(tg::ones<float>({3}))),
                  tg::ShapeError);
  CHECK_THROWS_WITH(tg::nll_loss(x, tg::zeros<std::int64_t>({3}), tg::NLLLossOptions().weight(tg::ones<float>({3}))),
                    "nll_loss: weight must have shape [5] (one value per class of input shape [3, 5]), got [3]");
  CHECK_THROWS_WITH(
      tg::cross_entropy(x, tg::zeros<std::int64_t>({3}), tg::CrossEntropyOptions().weight(tg::ones<float>({1, 5}))),
      "cross_entropy: weight must have shape [5] (one value per class of input shape [3, 5]), got [1, 5]");
}

TEST_CASE("cross_entropy and nll_loss: bad targets name the value, its position and the range") {
  auto x = tg::zeros<float>({3, 5}, true);
  CHECK_THROWS_AS(tg::cross_entropy(x, tg::tensor<std::int64_t>({1, 0, 5}, {3})), tg::IndexError);
  CHECK_THROWS_WITH(tg::cross_entropy(x, tg::tensor<std::int64_t>({1, 0, 5}, {3})),
                    "cross_entropy: target 5 at position 2 is out of range [0, 5) for input of shape [3, 5] (and is not "
                    "ignore_index -100)");
  CHECK_THROWS_WITH(tg::nll_loss(x, tg::tensor<std::int32_t>({-1, 0, 4}, {3})),
                    "nll_loss: target -1 at position 0 is out of range [0, 5) for input of shape [3, 5] (and is not "
                    "ignore_index -100)");
  CHECK_THROWS_WITH(tg::cross_entropy(x, tg::tensor<std::int64_t>({1, -100, 4}, {3}), tg::CrossEntropyOptions().ignore_index(0)),
                    "cross_entropy: target -100 at position 1 is out of range [0, 5) for input of shape [3, 5] (and is "
                    "not ignore_index 0)");
  CHECK_THROWS_WITH(tg::cross_entropy(tg::zeros<float>({2, 3, 2}), tg::tensor<std::int64_t>({0, 1, 2, 3}, {2, 2})),
                    "cross_entropy: target 3 at position [1, 1] is out of range [0, 3) for input of shape [2, 3, 2] (and "
                    "is not ignore_index -100)");
  CHECK_THROWS_WITH(tg::cross_entropy(tg::zeros<float>({5}), tg::scalar_tensor<std::int64_t>(7)),
                    "cross_entropy: target 7 is out of range [0, 5) for input of shape [5] (and is not ignore_index -100)");
  CHECK_FALSE(x.grad().defined());
}

// ---- mse_loss --------------------------------------------------------------------------------------------

TEST_CASE("mse_loss: values and gradients against PyTorch for every reduction") {
  const auto& g = golden();
  for (const auto& [rname, reduction] : kReductions) {
    INFO(rname);
    auto input = g.tensor<float>("mse/input", true), target = g.tensor<float>("mse/target", true);
    auto out = tg::mse_loss(input, target, tg::MSELossOptions().reduction(reduction));
    CHECK(close(out, g.tensor<float>("mse/" + rname + "/out"), 1e-6, 1e-7));
    out.backward(reduction == tg::Reduction::None ? g.tensor<float>("mse/g_none") : tg::ones<float>({}));
    CHECK(close(input.grad(), g.tensor<float>("mse/" + rname + "/grad_input"), 1e-6, 1e-7));
    CHECK(close(target.grad(), g.tensor<float>("mse/" + rname + "/grad_target"), 1e-6, 1e-7));
  }
}

TEST_CASE("mse_loss: gradients for both arguments, names, empty input, shape errors") {
  for (const auto& [rname, reduction] : kReductions) {
    INFO(rname);
    const auto o = tg::MSELossOptions().reduction(reduction);
    CHECK(grad_ok([o](const Inputs& v) { return tg::mse_loss(v[0], v[1], o); }, {leaf({3, 4}, 1), leaf({3, 4}, 2)}));
    const auto fixed = leaf({5}, 3).detach();
    CHECK(grad_ok([o, fixed](const Inputs& v) { return tg::mse_loss(v[0], fixed, o); }, {leaf({5}, 4)}));
  }
  const auto a = tg::ones<float>({3}, true);
  CHECK(tg::mse_loss(a, tg::zeros<float>({3})).grad_fn_name() == "MseLossBackward0");
  CHECK(tg::mse_loss(a, tg::zeros<float>({3})).item() == 1);
  CHECK(std::isnan(tg::mse_loss(tg::zeros<float>({0}), tg::zeros<float>({0})).item()));  // mean of nothing, as PyTorch
  CHECK_THROWS_AS(tg::mse_loss(a, tg::zeros<float>({3, 1})), tg::ShapeError);
  CHECK_THROWS_WITH(tg::mse_loss(a, tg::zeros<float>({3, 1})),
                    "mse_loss: input of shape [3] and target of shape [3, 1] differ; mse_loss needs equal shapes "
                    "(PyTorch would broadcast them, which is rarely intended). Reshape one of them");
}

// ---- cosine_similarity -----------------------------------------------------------------------------------

TEST_CASE("cosine_similarity: values and gradients against PyTorch, including vectors shorter than eps") {
  const auto& g = golden();
  const std::vector<std::pair<std::string, std::int64_t>> float_cases = {{"dim1", 1}, {"dim0", 0}, {"broadcast", -1}};
  for (const auto& [name, dim] : float_cases) {
    const std::string k = "cosine/" + name;
    INFO(k);
    auto x1 = g.tensor<float>(k + "/x1", true), x2 = g.tensor<float>(k + "/x2", true);
    auto out = tg::cosine_similarity(x1, x2, dim);
    CHECK(close(out, g.tensor<float>(k + "/out"), 1e-5, 1e-6));
    out.backward(g.tensor<float>(k + "/g"));
    CHECK(close(x1.grad(), g.tensor<float>(k + "/grad_x1"), 1e-5, 1e-6));
    CHECK(close(x2.grad(), g.tensor<float>(k + "/grad_x2"), 1e-5, 1e-6));
  }
  const std::vector<std::pair<std::string, double>> double_cases = {
      {"near_zero_f64", 1e-8}, {"near_zero_eps_f64", 1e-3}, {"f64", 1e-8}};
  for (const auto& [name, eps] : double_cases) {
    const std::string k = "cosine/" + name;
    INFO(k);
    auto x1 = g.tensor<double>(k + "/x1", true), x2 = g.tensor<double>(k + "/x2", true);
    auto out = tg::cosine_similarity(x1, x2, 1, eps);
    CHECK(close(out, g.tensor<double>(k + "/out"), 1e-12, 1e-15));
    out.backward(g.tensor<double>(k + "/g"));
    CHECK(close(x1.grad(), g.tensor<double>(k + "/grad_x1"), 1e-10, 1e-12));
    CHECK(close(x2.grad(), g.tensor<double>(k + "/grad_x2"), 1e-10, 1e-12));
  }
}

TEST_CASE("cosine_similarity: gradients (finite differences) over dims and with broadcasting") {
  CHECK(grad_ok([](const Inputs& v) { return tg::cosine_similarity(v[0], v[1]); }, {leaf({4, 5}, 1), leaf({4, 5}, 2)}));
  CHECK(grad_ok([](const Inputs& v) { return tg::cosine_similarity(v[0], v[1], 0); }, {leaf({4, 5}, 3), leaf({4, 5}, 4)}));
  CHECK(grad_ok([](const Inputs& v) { return tg::cosine_similarity(v[0], v[1], -1); }, {leaf({3, 1, 4}, 5), leaf({2, 4}, 6)}));
  CHECK(grad_ok([](const Inputs& v) { return tg::cosine_similarity(v[0], v[1], 1); }, {leaf({2, 3, 2}, 7), leaf({3, 1}, 8)}));
  CHECK(grad_ok([](const Inputs& v) { return tg::cosine_similarity(v[0], v[0] * 2.0 + 1.0, 1); }, {leaf({3, 3}, 9)}));
}

TEST_CASE("cosine_similarity: shapes, 0-d and empty inputs, names, errors") {
  const auto a = tg::ones<float>({2, 3}, true);
  CHECK(tg::cosine_similarity(a, a).shape() == tg::Shape{2});
  CHECK(tg::cosine_similarity(a, a).grad_fn_name() == "SumBackward1");
  CHECK(close(tg::cosine_similarity(tg::tensor<float>({1, 0, 0, 1}, {2, 2}), tg::tensor<float>({1, 1}, {2})),
              {1 / std::sqrt(2.0), 1 / std::sqrt(2.0)}));
  CHECK(close(tg::cosine_similarity(tg::scalar_tensor<float>(-2), tg::scalar_tensor<float>(3), 0), {-1}, tg::Shape{}));
  CHECK(close(tg::cosine_similarity(tg::zeros<float>({3, 0}), tg::zeros<float>({3, 0})), {0, 0, 0}));
  CHECK(close(tg::cosine_similarity(tg::zeros<float>({2, 3}), tg::ones<float>({2, 3})), {0, 0}));
  CHECK(tg::cosine_similarity(tg::zeros<float>({0, 3}), tg::zeros<float>({0, 3})).shape() == tg::Shape{0});
  CHECK_THROWS_AS(tg::cosine_similarity(a, tg::ones<float>({4})), tg::ShapeError);
  CHECK_THROWS_WITH(tg::cosine_similarity(a, tg::ones<float>({4})),
                    "cosine_similarity: shapes [2, 3] and [4] cannot be broadcast together (size 3 vs 4 at dimension 1 of "
                    "the result)");
  CHECK_THROWS_AS(tg::cosine_similarity(tg::ones<float>({3}), tg::ones<float>({3})), tg::IndexError);
  CHECK_THROWS_WITH(tg::cosine_similarity(tg::ones<float>({3}), tg::ones<float>({3})),
                    "cosine_similarity: dim 1 is out of range for a tensor with 1 dimension (valid range [-1, 0])");
}

}  // namespace loss_test
