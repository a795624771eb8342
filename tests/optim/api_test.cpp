// SPDX-License-Identifier: MIT
// Optimiser API: option and input validation (messages pinned), sparse refusals, zero_grad, state
// keyed by parameter, touched-rows-only sparse steps, StepLR and clip_grad_norm_ against torch.
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "optim_support.hpp"

namespace api_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace optim = tapegrad::optim;
using optim_test::golden;
using optim_test::sparse_rows;
using tg_test::close;

namespace {

std::vector<tg::Tensor<float>> one_param() { return {tg::ones<float>({2, 2}, true)}; }

}  // namespace

// ---- option validation -----------------------------------------------------------------------------

TEST_CASE("SGD rejects bad options, naming the option and its value") {
  using optim::SGD;
  using optim::SGDOptions;
  CHECK_THROWS_AS(SGD<float>(one_param(), SGDOptions(-0.1)), tg::ValueError);
  CHECK_THROWS_WITH(SGD<float>(one_param(), SGDOptions(-0.1)), "SGD: lr must be >= 0, got -0.1");
  CHECK_THROWS_WITH(SGD<float>(one_param(), SGDOptions(std::nan(""))), "SGD: lr must be >= 0, got nan");
  CHECK_THROWS_WITH(SGD<float>(one_param(), SGDOptions(0.1).momentum(-0.5)), "SGD: momentum must be >= 0, got -0.5");
  CHECK_THROWS_WITH(SGD<float>(one_param(), SGDOptions(0.1).weight_decay(-1)), "SGD: weight_decay must be >= 0, got -1");
  CHECK_THROWS_WITH(SGD<float>(one_param(), SGDOptions(0.1).nesterov(true)),
                    "SGD: nesterov momentum requires momentum > 0 and dampening = 0, got momentum 0 and dampening 0");
  CHECK_THROWS_WITH(SGD<float>(one_param(), SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)),
                    "SGD: nesterov momentum requires momentum > 0 and dampening = 0, got momentum 0.9 and dampening 0.1");
  CHECK_NOTHROW(SGD<float>(one_param(), SGDOptions(0).momentum(0.9).dampening(0.5)));
  SGD<float> opt(one_param(), SGDOptions(0.1));
  CHECK_THROWS_WITH(opt.set_lr(-1), "SGD: lr must be >= 0, got -1");
  CHECK(opt.lr() == 0.1);
}

TEST_CASE("SGDOptions has PyTorch's defaults and chained setters") {
  const auto o = optim::SGDOptions(0.5);
  CHECK(o.lr() == 0.5);
  CHECK(o.momentum() == 0);
  CHECK(o.dampening() == 0);
  CHECK(o.weight_decay() == 0);
  CHECK_FALSE(o.nesterov());
  const auto a = optim::AdamOptions();
  CHECK(a.lr() == 1e-3);
  CHECK(a.betas() == std::pair<double, double>(0.9, 0.999));
  CHECK(a.eps() == 1e-8);
  CHECK(a.weight_decay() == 0);
  CHECK_FALSE(a.amsgrad());
  CHECK_FALSE(a.lazy_sparse());
  CHECK(optim::AdamWOptions().weight_decay() == 0.01);
  CHECK(optim::AdamWOptions().lr() == 1e-3);
  const auto g = optim::AdagradOptions();
  CHECK(g.lr() == 1e-2);
  CHECK(g.eps() == 1e-10);
  CHECK(g.lr_decay() == 0);
  CHECK(g.initial_accumulator_value() == 0);
  CHECK(optim::SparseAdamOptions().lr() == 1e-3);
  CHECK(optim::SparseAdamOptions().eps() == 1e-8);
}

TEST_CASE("Adam and AdamW reject bad options, naming the option and its value") {
  using optim::Adam;
  using optim::AdamOptions;
  using optim::AdamW;
  using optim::AdamWOptions;
  CHECK_THROWS_AS(Adam<float>(one_param(), AdamOptions(-1)), tg::ValueError);
  CHECK_THROWS_WITH(Adam<float>(one_param(), AdamOptions(-1)), "Adam: lr must be >= 0, got -1");
  CHECK_THROWS_WITH(Adam<float>(one_param(), AdamOptions().eps(-1e-8)), "Adam: eps must be >= 0, got -1e-08");
  CHECK_THROWS_WITH(Adam<float>(one_param(), AdamOptions().betas({1.0, 0.999})), "Adam: betas[0] must be in [0, 1), got 1");
  CHECK_THROWS_WITH(Adam<float>(one_param(), AdamOptions().betas({0.9, -0.1})),
                    "Adam: betas[1] must be in [0, 1), got -0.1");
  CHECK_THROWS_WITH(Adam<float>(one_param(), AdamOptions().weight_decay(-0.1)),
                    "Adam: weight_decay must be >= 0, got -0.1");
  CHECK_THROWS_WITH(AdamW<float>(one_param(), AdamWOptions(-1)), "AdamW: lr must be >= 0, got -1");
  CHECK_THROWS_WITH(AdamW<float>(one_param(), AdamWOptions().eps(-1)), "AdamW: eps must be >= 0, got -1");
  CHECK_THROWS_WITH(AdamW<float>(one_param(), AdamWOptions().betas({-0.9, 0.9})), "AdamW: betas[0] must be in [0, 1), got -0.9");
  CHECK_THROWS_WITH(AdamW<float>(one_param(), AdamWOptions().betas({0.9, 1.5})), "AdamW: betas[1] must be in [0, 1), got 1.5");
  CHECK_THROWS_WITH(AdamW<float>(one_param(), AdamWOptions().weight_decay(-0.01)),
                    "AdamW: weight_decay must be >= 0, got -0.01");
  Adam<float> opt(one_param());
  CHECK_THROWS_WITH(opt.set_lr(-2), "Adam: lr must be >= 0, got -2");
}

TEST_CASE("Adagrad and SparseAdam reject bad options, naming the option and its value") {
  using optim::Adagrad;
  using optim::AdagradOptions;
  using optim::SparseAdam;
  using optim::SparseAdamOptions;
  CHECK_THROWS_WITH(Adagrad<float>(one_param(), AdagradOptions(-1)), "Adagrad: lr must be >= 0, got -1");
  CHECK_THROWS_WITH(Adagrad<float>(one_param(), AdagradOptions().lr_decay(-1)), "Adagrad: lr_decay must be >= 0, got -1");
  CHECK_THROWS_WITH(Adagrad<float>(one_param(), AdagradOptions().weight_decay(-1)),
                    "Adagrad: weight_decay must be >= 0, got -1");
  CHECK_THROWS_WITH(Adagrad<float>(one_param(), AdagradOptions().initial_accumulator_value(-1)),
                    "Adagrad: initial_accumulator_value must be >= 0, got -1");
  CHECK_THROWS_WITH(Adagrad<float>(one_param(), AdagradOptions().eps(-1)), "Adagrad: eps must be >= 0, got -1");
  CHECK_THROWS_AS(SparseAdam<float>(one_param(), SparseAdamOptions(0)), tg::ValueError);
  CHECK_THROWS_WITH(SparseAdam<float>(one_param(), SparseAdamOptions(0)), "SparseAdam: lr must be > 0, got 0");
  CHECK_THROWS_WITH(SparseAdam<float>(one_param(), SparseAdamOptions().eps(0)), "SparseAdam: eps must be > 0, got 0");
  CHECK_THROWS_WITH(SparseAdam<float>(one_param(), SparseAdamOptions().betas({-0.5, 0.9})),
                    "SparseAdam: betas[0] must be in [0, 1), got -0.5");
  CHECK_THROWS_WITH(SparseAdam<float>(one_param(), SparseAdamOptions().betas({0.9, 1.0})),
                    "SparseAdam: betas[1] must be in [0, 1), got 1");
  SparseAdam<float> sparse(one_param());
  CHECK_THROWS_WITH(sparse.set_lr(0), "SparseAdam: lr must be > 0, got 0");
  Adagrad<float> adagrad(one_param());
  CHECK_THROWS_WITH(adagrad.set_lr(-0.5), "Adagrad: lr must be >= 0, got -0.5");
}

TEST_CASE("optimisers check the parameter list") {
  using optim::SGD;
  using optim::SGDOptions;
  CHECK_THROWS_AS(SGD<float>(std::vector<tg::Tensor<float>>{}, SGDOptions(0.1)), tg::ValueError);
  CHECK_THROWS_WITH(SGD<float>(std::vector<tg::Tensor<float>>{}, SGDOptions(0.1)), "SGD: got an empty parameter list");
  auto w = tg::ones<float>({2, 3}, true);
  CHECK_THROWS_WITH(SGD<float>({w, tg::Tensor<float>()}, SGDOptions(0.1)), "SGD: parameter 1 is undefined");
  CHECK_THROWS_WITH(SGD<float>({sparse_rows<float>({3, 1}, {0}, {1})}, SGDOptions(0.1)),
                    "SGD: parameter 0 is a sparse tensor; parameters must be dense");
  CHECK_THROWS_WITH(optim::Adam<float>({w, w * 2.0f}),
                    "Adam: parameter 1 is not a leaf (it was computed by MulBackward0); an optimiser updates leaves "
                    "such as module parameters");
  CHECK_THROWS_WITH(SGD<float>({w, tg::ones<float>({2}, true), w}, SGDOptions(0.1)),
                    "SGD: parameters 0 and 2 share the same elements; pass each parameter once");
  CHECK_THROWS_WITH(optim::Adagrad<float>({w, w.detach().reshape({6})}),
                    "Adagrad: parameters 0 and 1 share the same elements; pass each parameter once");
  optim::SGD<float> opt({w}, SGDOptions(0.1));
  CHECK(opt.parameters().size() == 1);
  CHECK(opt.parameters()[0].is_same(w));
  CHECK(std::string(opt.name()) == "SGD");
  CHECK_THROWS_WITH(opt.state(w.detach()), "SGD::state: the tensor is not one of this optimiser's parameters");
}

// ---- gradients: layout refusals and checks, all before anything changes --------------------------------

TEST_CASE("Adam and AdamW refuse sparse gradients, naming SparseAdam and lazy_sparse, before changing anything") {
  auto a = tg::ones<float>({2}, true);
  auto e = tg::ones<float>({3, 2}, true);
  a.mutable_grad() = tg::full<float>({2}, 0.5f);
  e.mutable_grad() = sparse_rows<float>({3, 2}, {1}, {1, 1});
  optim::Adam<float> adam({a, e});
  CHECK_THROWS_AS(adam.step(), tg::ValueError);
  CHECK_THROWS_WITH(adam.step(),
                    "Adam::step: parameter 1 has a sparse gradient, which Adam does not support; use SparseAdam, or "
                    "AdamOptions().lazy_sparse(true) to update only the gradient's rows (not exact: the other rows skip "
                    "the moment decay)");
  CHECK(close(a, {1, 1}));  // parameter 0 had a usable gradient, but nothing moved
  CHECK(adam.state(a).step == 0);
  CHECK_FALSE(adam.state(a).exp_avg.defined());
  optim::AdamW<float> adamw({a, e});
  CHECK_THROWS_WITH(adamw.step(),
                    "AdamW::step: parameter 1 has a sparse gradient, which AdamW does not support; use SparseAdam, or "
                    "AdamWOptions().lazy_sparse(true) to update only the gradient's rows (not exact: the other rows "
                    "skip the moment decay)");
  CHECK(close(a, {1, 1}));
  optim::Adam<float> lazy({a, e}, optim::AdamOptions().lazy_sparse(true));
  CHECK_NOTHROW(lazy.step());
  CHECK(close(e, {1, 1, 1 - 1e-3, 1 - 1e-3, 1, 1}, 1e-6));  // first Adam step moves a touched row by lr
}

TEST_CASE("SparseAdam refuses dense gradients, naming Adam, before changing anything") {
  auto e = tg::ones<float>({3, 2}, true);
  auto f = tg::ones<float>({2}, true);
  e.mutable_grad() = sparse_rows<float>({3, 2}, {2}, {1, 1});
  f.mutable_grad() = tg::ones<float>({2});
  optim::SparseAdam<float> opt({e, f});
  CHECK_THROWS_AS(opt.step(), tg::ValueError);
  CHECK_THROWS_WITH(opt.step(), "SparseAdam::step: parameter 1 has a dense gradient; SparseAdam takes only sparse "
                                "gradients (such as an Embedding's with sparse=true), use Adam for dense ones");
  CHECK(close(e, {1, 1, 1, 1, 1, 1}));
  CHECK(opt.state(e).step == 0);
}

TEST_CASE("a step checks every gradient's shape and sparse indices before changing anything") {
  auto w = tg::ones<float>({3, 2}, true);
  auto v = tg::ones<float>({4, 2}, true);
  optim::SGD<float> opt({w, v}, optim::SGDOptions(0.1).momentum(0.9));
  w.mutable_grad() = tg::ones<float>({3, 2});
  v.mutable_grad() = tg::ones<float>({2, 4});
  CHECK_THROWS_AS(opt.step(), tg::ShapeError);
  CHECK_THROWS_WITH(opt.step(), "SGD::step: the gradient of parameter 1 has shape [2, 4], but the parameter has shape [4, 2]");
  v.mutable_grad() = sparse_rows<float>({4, 2}, {0, 4, 1}, {1, 1, 1, 1, 1, 1});
  CHECK_THROWS_AS(opt.step(), tg::IndexError);
  CHECK_THROWS_WITH(opt.step(), "SGD::step: the sparse gradient of parameter 1 has row index 4 at position 1, out of range [0, 4)");
  v.mutable_grad() = sparse_rows<float>({4, 2}, {-1}, {1, 1});
  CHECK_THROWS_WITH(opt.step(), "SGD::step: the sparse gradient of parameter 1 has row index -1 at position 0, out of range [0, 4)");
  v.mutable_grad() = tg::detail::make_sparse(tg::Shape{4, 2}, tg::tensor<std::int64_t>({0, 1}, {2}),
                                             tg::ones<float>({2, 3}), false);
  CHECK_THROWS_WITH(opt.step(), "SGD::step: the sparse gradient of parameter 1 has indices of shape [2] and values of "
                                "shape [2, 3]; expected [2] and [2, 2]");
  CHECK(close(w, {1, 1, 1, 1, 1, 1}));
  CHECK(close(v, {1, 1, 1, 1, 1, 1, 1, 1}));
  CHECK_FALSE(opt.state(w).momentum_buffer.defined());
}

// ---- zero_grad, skipping, learning rate ----------------------------------------------------------------

TEST_CASE("zero_grad fills dense gradients with zeros in place by default (PyTorch 1.13)") {
  auto w = tg::ones<float>({2, 2}, true);
  auto unused = tg::ones<float>({3}, true);
  tg::sum(w * 3.0f).backward();
  const tg::Tensor<float> handle = w.grad();
  const float* before = handle.data();
  optim::SGD<float> opt({w, unused}, optim::SGDOptions(0.1));
  opt.zero_grad();
  REQUIRE(w.grad().defined());
  CHECK(w.grad().data() == before);      // the same buffer, nothing allocated
  CHECK(close(handle, {0, 0, 0, 0}));     // handles to the gradient see the zeros
  CHECK_FALSE(unused.grad().defined());  // a parameter without a gradient stays without one
  tg::sum(w * 2.0f).backward();          // accumulates into the zeroed buffer
  CHECK(close(w.grad(), {2, 2, 2, 2}));
  CHECK(w.grad().data() == before);
}

TEST_CASE("zero_grad(set_to_none) drops gradients, and the next step skips those parameters") {
  auto w = tg::ones<float>({2}, true);
  auto b = tg::ones<float>({1}, true);
  optim::Adam<float> opt({w, b}, optim::AdamOptions(0.1));
  w.mutable_grad() = tg::ones<float>({2});
  b.mutable_grad() = tg::ones<float>({1});
  opt.step();
  opt.zero_grad(true);
  CHECK_FALSE(w.grad().defined());
  CHECK_FALSE(b.grad().defined());
  const auto w_after_one = w.to_vector();
  b.mutable_grad() = tg::ones<float>({1});
  opt.step();  // w has no gradient: untouched, and its step count stays 1
  CHECK(w.to_vector() == w_after_one);
  CHECK(opt.state(w).step == 1);
  CHECK(opt.state(b).step == 2);
}

TEST_CASE("zero_grad makes a sparse gradient an empty sparse gradient") {
  auto e = tg::ones<float>({4, 2}, true);
  e.mutable_grad() = sparse_rows<float>({4, 2}, {1, 1}, {1, 2, 3, 4});
  optim::SGD<float> opt({e}, optim::SGDOptions(0.1));
  opt.zero_grad();
  REQUIRE(e.grad().is_sparse());
  CHECK(e.grad().shape() == tg::Shape{4, 2});
  CHECK(e.grad().indices().numel() == 0);
  CHECK(e.grad().values().shape() == tg::Shape{0, 2});
  opt.step();  // an empty gradient moves nothing
  CHECK(close(e, {1, 1, 1, 1, 1, 1, 1, 1}));
}

TEST_CASE("set_lr changes the rate the next step uses") {
  auto w = tg::ones<double>({2}, true);
  optim::SGD<double> opt({w}, optim::SGDOptions(0.1));
  w.mutable_grad() = tg::ones<double>({2});
  opt.step();
  CHECK(close(w, {0.9, 0.9}, 1e-12));
  opt.set_lr(0.5);
  CHECK(opt.lr() == 0.5);
  opt.step();
  CHECK(close(w, {0.4, 0.4}, 1e-12));
  opt.set_lr(0);
  opt.step();
  CHECK(close(w, {0.4, 0.4}, 1e-12));
}

TEST_CASE("Adagrad's sums exist from construction, filled with initial_accumulator_value") {
  auto w = tg::ones<float>({2, 2}, true);
  optim::Adagrad<float> opt({w}, optim::AdagradOptions().initial_accumulator_value(0.25));
  CHECK(close(opt.state(w).sum, {0.25, 0.25, 0.25, 0.25}));
  CHECK(opt.state(w).step == 0);
}

// ---- state is keyed by the parameter ------------------------------------------------------------------

TEST_CASE("state follows the parameter when copy-on-write moves its elements mid-training") {
  const std::string in = "in/f32/dense";
  auto w = golden().tensor<float>(in + "/w0", true);
  auto b = golden().tensor<float>(in + "/b0", true);
  optim::Adam<float> opt({w, b}, optim::AdamOptions(0.02).amsgrad(true));
  tg::Tensor<float> graph;
  const float* first_elements = std::as_const(w).data();
  for (int k = 0; k < 6; ++k) {
    const std::string s = "/s" + std::to_string(k);
    if (k == 3) graph = w * w;  // the graph saves w, so the next step's write moves w to a copy
    w.mutable_grad() = optim_test::golden_grad<float>(in + s + "/w", w.shape());
    b.mutable_grad() = optim_test::golden_grad<float>(in + s + "/b", b.shape());
    opt.step();
    INFO("step " << k);
    CHECK(close(w, golden().values("adam/amsgrad/f32/dense" + s + "/w"), w.shape(), 1e-6, 1e-7));
    CHECK(close(b, golden().values("adam/amsgrad/f32/dense" + s + "/b"), b.shape(), 1e-6, 1e-7));
  }
  CHECK(std::as_const(w).data() != first_elements);  // copy-on-write did happen
  CHECK(opt.state(w).step == 6);
  CHECK(opt.state(b).step == 5);  // b had no gradient at step 2
  graph.backward(tg::ones<float>(w.shape()));  // the saved (pre-step) values are intact
  CHECK(w.grad().defined());
}

// ---- sparse steps touch only the gradient's rows ---------------------------------------------------------

TEST_CASE("a sparse Adagrad step never computes the rows outside the gradient") {
  // With eps = 0 and empty sums a zero gradient gives 0/0: the dense step turns untouched rows into
  // NaN (as PyTorch's dense path does), the sparse step never visits them.
  auto sparse = tg::ones<float>({4, 2}, true), dense = tg::ones<float>({4, 2}, true);
  optim::Adagrad<float> a({sparse}, optim::AdagradOptions(0.5).eps(0)), b({dense}, optim::AdagradOptions(0.5).eps(0));
  sparse.mutable_grad() = sparse_rows<float>({4, 2}, {2, 2}, {1, -2, 3, 1});
  dense.mutable_grad() = sparse.grad().to_dense();
  a.step();
  b.step();
  CHECK(close(sparse, {1, 1, 1, 1, 0.5, 1.5, 1, 1}));
  CHECK(std::isnan(dense.at({0, 0})));
  CHECK(close(dense.reshape({8}).detach(), {NAN, NAN, NAN, NAN, 0.5, 1.5, NAN, NAN}));
}

TEST_CASE("a sparse SGD step costs O(nnz * D), not O(rows * D)") {
  using clock = std::chrono::steady_clock;
  const std::int64_t rows = 200000, dim = 16;
  auto table = tg::zeros<float>({rows, dim}, true);
  optim::SGD<float> opt({table}, optim::SGDOptions(0.1));
  auto best = [&](const tg::Tensor<float>& grad) {
    table.mutable_grad() = grad;
    double fastest = 1e9;
    for (int rep = 0; rep < 5; ++rep) {
      const auto t0 = clock::now();
      opt.step();
      fastest = std::min(fastest, std::chrono::duration<double>(clock::now() - t0).count());
    }
    return fastest;
  };
  const double sparse = best(sparse_rows<float>({rows, dim}, {5, 70000, 5, 199999}, std::vector<float>(4 * dim, 1.0f)));
  const double dense = best(tg::ones<float>({rows, dim}));
  CHECK(sparse * 50 < dense);
  CHECK(table.at({5, 0}) == Approx(-0.1 * 5 * 2 - 0.1 * 5));  // 5 sparse steps of 2 duplicates, 5 dense steps
  CHECK(table.at({1, 0}) == Approx(-0.1 * 5));
}

// ---- StepLR --------------------------------------------------------------------------------------------

TEST_CASE("StepLR gives torch's learning-rate sequence (chained form)") {
  struct Case {
    const char* key;
    double lr;
    std::int64_t step_size;
    double gamma;
  };
  for (const Case& c : {Case{"steplr/a", 0.1, 3, 0.1}, Case{"steplr/b", 0.5, 1, 0.7}, Case{"steplr/c", 1.0, 2, 0.3}}) {
    INFO(c.key);
    optim::SGD<float> opt(one_param(), optim::SGDOptions(c.lr));
    optim::StepLR scheduler(opt, c.step_size, c.gamma);  // deduces StepLR<float>
    CHECK(scheduler.last_epoch() == 0);
    CHECK(scheduler.get_last_lr() == std::vector<double>{c.lr});
    std::vector<double> lrs;
    for (std::size_t i = 0; i < golden().values(c.key).size(); ++i) {
      opt.step();
      scheduler.step();
      lrs.push_back(scheduler.get_last_lr().at(0));
      CHECK(opt.lr() == scheduler.get_last_lr().at(0));
    }
    CHECK(lrs == golden().values(c.key));  // bit for bit: the same chain of double multiplications
    CHECK(scheduler.base_lrs() == std::vector<double>{c.lr});
  }
}

TEST_CASE("StepLR keeps decaying from a rate changed by hand, and checks its options") {
  optim::SGD<float> opt(one_param(), optim::SGDOptions(1.0));
  optim::StepLR<float> scheduler(opt, 2, 0.5);
  scheduler.step();
  opt.set_lr(4.0);
  scheduler.step();
  CHECK(opt.lr() == 2.0);
  CHECK(scheduler.last_epoch() == 2);
  CHECK_THROWS_AS(optim::StepLR<float>(opt, 0), tg::ValueError);
  CHECK_THROWS_WITH(optim::StepLR<float>(opt, 0), "StepLR: step_size must be >= 1, got 0");
  CHECK_THROWS_WITH(optim::StepLR<float>(opt, 3, -0.1), "StepLR: gamma must be >= 0, got -0.1");
}

// ---- clip_grad_norm_ -------------------------------------------------------------------------------------

namespace {

template <class T>
void check_clip() {
  const std::string dt = optim_test::dtype_key<T>();
  struct Case {
    const char* name;
    double max_norm, norm_type;
  };
  const double inf = std::numeric_limits<double>::infinity();
  for (const Case& c : {Case{"l2", 1.0, 2.0}, Case{"inf", 0.5, inf}, Case{"l1", 2.0, 1.0}, Case{"l3", 1.5, 3.0},
                        Case{"none", 100.0, 2.0}}) {
    const std::string key = "clip/" + dt + "/" + c.name;
    INFO(key);
    auto a = tg::zeros<T>({4, 3}, true), b = tg::zeros<T>({5}, true), unused = tg::zeros<T>({2}, true);
    a.mutable_grad() = golden().tensor<T>("clip/" + dt + "/ga");
    b.mutable_grad() = golden().tensor<T>("clip/" + dt + "/gb");
    const double total = tg::nn::utils::clip_grad_norm_(std::vector<tg::Tensor<T>>{a, b, unused}, c.max_norm, c.norm_type);
    CHECK(total == Approx(golden().scalar(key + "/total")).epsilon(optim_test::rtol<T>()));
    CHECK(close(a.grad(), golden().values(key + "/ga"), a.shape(), optim_test::rtol<T>(), optim_test::atol<T>()));
    CHECK(close(b.grad(), golden().values(key + "/gb"), b.shape(), optim_test::rtol<T>(), optim_test::atol<T>()));
    CHECK_FALSE(unused.grad().defined());
  }
  // A sparse gradient with duplicate rows counts as its to_dense(), and is scaled in place.
  for (const Case& c : {Case{"l2", 0.5, 2.0}, Case{"inf", 0.5, inf}}) {
    const std::string key = "clip/" + dt + "/sparse/" + c.name;
    INFO(key);
    auto a = tg::zeros<T>({4, 3}, true), b = tg::zeros<T>({5}, true);
    a.mutable_grad() = tg::detail::make_sparse(tg::Shape{4, 3}, golden().tensor<std::int64_t>("clip/" + dt + "/sparse/idx"),
                                               golden().tensor<T>("clip/" + dt + "/sparse/val"), false);
    b.mutable_grad() = golden().tensor<T>("clip/" + dt + "/gb");
    const double total = tg::nn::utils::clip_grad_norm_(std::vector<tg::Tensor<T>>{a, b}, c.max_norm, c.norm_type);
    CHECK(total == Approx(golden().scalar(key + "/total")).epsilon(optim_test::rtol<T>()));
    CHECK(a.grad().is_sparse());
    CHECK(close(a.grad(), golden().values(key + "/ga"), a.shape(), optim_test::rtol<T>(), optim_test::atol<T>()));
    CHECK(close(b.grad(), golden().values(key + "/gb"), b.shape(), optim_test::rtol<T>(), optim_test::atol<T>()));
  }
}

}  // namespace

TEST_CASE("clip_grad_norm_ matches torch: 2-norm, inf, 1, 3, no clipping, float and double") { check_clip<float>(); check_clip<double>(); }

TEST_CASE("clip_grad_norm_ on one tensor, on no gradients, and its option checks") {
  auto w = tg::zeros<float>({2}, true);
  CHECK(tg::nn::utils::clip_grad_norm_(w, 1.0) == 0);  // no gradient yet
  w.mutable_grad() = tg::tensor<float>({3, 4});
  CHECK(tg::nn::utils::clip_grad_norm_(w, 1.0) == Approx(5));
  CHECK(close(w.grad(), {3 / (5 + 1e-6), 4 / (5 + 1e-6)}));
  CHECK_THROWS_AS(tg::nn::utils::clip_grad_norm_(w, -1.0), tg::ValueError);
  CHECK_THROWS_WITH(tg::nn::utils::clip_grad_norm_(w, -1.0), "clip_grad_norm_: max_norm must be >= 0, got -1");
  CHECK_THROWS_WITH(tg::nn::utils::clip_grad_norm_(w, 1.0, 0.0),
                    "clip_grad_norm_: norm_type must be > 0 (or infinity), got 0");
  CHECK_THROWS_WITH(tg::nn::utils::clip_grad_norm_(w, 1.0, -std::numeric_limits<double>::infinity()),
                    "clip_grad_norm_: norm_type must be > 0 (or infinity), got -inf");
}

}  // namespace api_test
