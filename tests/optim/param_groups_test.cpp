// SPDX-License-Identifier: MIT
// Parameter groups for every optimiser (training runs, state_dict layout and round trips against
// torch), RMSprop's steps in every option combination, and clip_grad_value_.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "optim_support.hpp"

namespace param_groups_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace optim = tapegrad::optim;
using Catch::Matchers::Contains;
using optim::ParamGroup;
using tg_test::close;

namespace {

const tg_test::Golden& golden() {
  static const tg_test::Golden g("schedulers");
  return g;
}

std::vector<double> as_doubles(const tg::Tensor<float>& t) {
  const auto v = t.to_vector();
  return std::vector<double>(v.begin(), v.end());
}

template <class T>
using Make = std::function<std::unique_ptr<optim::Optimizer<T>>(const tg::Tensor<T>& w, const tg::Tensor<T>& b)>;

/// Runs the golden inputs under `in` through `make`'s optimiser and checks both parameters after
/// every step against `out`/s<k>/w, b. `before(k, opt, w, b)` runs before step k.
template <class T>
std::unique_ptr<optim::Optimizer<T>> run(const std::string& in, const std::string& out, const Make<T>& make,
                                         std::function<void(int, optim::Optimizer<T>&, tg::Tensor<T>&, tg::Tensor<T>&)> before = {}) {
  auto w = golden().tensor<T>(in + "/w0", true);
  auto b = golden().tensor<T>(in + "/b0", true);
  auto opt = make(w, b);
  for (int k = 0; k < 6; ++k) {
    const std::string s = "/s" + std::to_string(k);
    if (before) before(k, *opt, w, b);
    w.mutable_grad() = golden().tensor<T>(in + s + "/w");
    b.mutable_grad() = golden().has(in + s + "/b") ? golden().tensor<T>(in + s + "/b") : tg::Tensor<T>();
    opt->step();
    INFO(out + s);
    CHECK(close(w, golden().values(out + s + "/w"), w.shape(), optim_test::rtol<T>(), optim_test::atol<T>()));
    CHECK(close(b, golden().values(out + s + "/b"), b.shape(), optim_test::rtol<T>(), optim_test::atol<T>()));
  }
  return opt;
}

template <class T>
std::vector<std::pair<std::string, optim::RMSpropOptions>> rmsprop_cases() {
  using O = optim::RMSpropOptions;
  return {{"default", O()},
          {"momentum", O(0.02).momentum(0.9)},
          {"centered", O(0.01).centered(true)},
          {"centered_momentum", O(0.01).momentum(0.5).centered(true)},
          {"weight_decay", O(0.01).weight_decay(0.1)},
          {"all", O(0.05).alpha(0.9).eps(1e-6).weight_decay(0.1).momentum(0.5).centered(true)}};
}

template <class T>
void check_rmsprop() {
  const std::string dt = optim_test::dtype_key<T>();
  for (const auto& [name, options] : rmsprop_cases<T>()) {
    const std::string key = "rms/" + name + "/" + dt;
    const optim::RMSpropOptions o = options;
    auto opt = run<T>("rms/in/" + dt, key, [o](const tg::Tensor<T>& w, const tg::Tensor<T>& b) {
      return std::make_unique<optim::RMSprop<T>>(std::vector<tg::Tensor<T>>{w, b}, o);
    });
    auto& rms = dynamic_cast<optim::RMSprop<T>&>(*opt);
    const char* names[] = {"w", "b"};
    for (std::size_t i = 0; i < 2; ++i) {
      const auto& s = rms.state(opt->parameters()[i]);
      const std::string st = key + "/state/" + names[i] + "/";
      INFO(st);
      CHECK(static_cast<double>(s.step) == golden().scalar(st + "step"));
      CHECK(close(s.square_avg, golden().values(st + "square_avg"), s.square_avg.shape(), optim_test::rtol<T>(), optim_test::atol<T>()));
      CHECK(s.momentum_buffer.defined() == golden().has(st + "momentum_buffer"));
      if (s.momentum_buffer.defined())
        CHECK(close(s.momentum_buffer, golden().values(st + "momentum_buffer"), s.momentum_buffer.shape(), optim_test::rtol<T>(),
                    optim_test::atol<T>()));
      CHECK(s.grad_avg.defined() == golden().has(st + "grad_avg"));
      if (s.grad_avg.defined())
        CHECK(close(s.grad_avg, golden().values(st + "grad_avg"), s.grad_avg.shape(), optim_test::rtol<T>(), optim_test::atol<T>()));
    }
  }
}

/// The two-group runs of the goldens (groups/<name>), each as torch's list of dicts.
template <class T>
std::vector<std::pair<std::string, Make<T>>> group_runs() {
  using G = ParamGroup<T>;
  using V = std::vector<G>;
  return {
      {"sgd",
       [](const tg::Tensor<T>& w, const tg::Tensor<T>& b) {
         return std::make_unique<optim::SGD<T>>(V{G({w}, optim::SGDOptions().weight_decay(0.01)),
                                                  G({b}, optim::SGDOptions(0.05).nesterov(true))},
                                                optim::SGDOptions(0.1).momentum(0.9));
       }},
      {"adam",
       [](const tg::Tensor<T>& w, const tg::Tensor<T>& b) {
         return std::make_unique<optim::Adam<T>>(V{G({w}), G({b}, optim::AdamOptions(0.01).betas({0.8, 0.9}).amsgrad(true))},
                                                 optim::AdamOptions(0.05).weight_decay(0.1));
       }},
      {"adamw",
       [](const tg::Tensor<T>& w, const tg::Tensor<T>& b) {
         return std::make_unique<optim::AdamW<T>>(V{G({w}), G({b}, optim::AdamWOptions().weight_decay(0))},
                                                  optim::AdamWOptions(0.05).weight_decay(0.1));
       }},
      {"adagrad",
       [](const tg::Tensor<T>& w, const tg::Tensor<T>& b) {
         return std::make_unique<optim::Adagrad<T>>(V{G({w}, optim::AdagradOptions().lr_decay(0.1)),
                                                      G({b}, optim::AdagradOptions(0.2).eps(1e-3))},
                                                    optim::AdagradOptions(0.1).initial_accumulator_value(0.5));
       }},
      {"rmsprop",
       [](const tg::Tensor<T>& w, const tg::Tensor<T>& b) {
         return std::make_unique<optim::RMSprop<T>>(V{G({w}, optim::RMSpropOptions().centered(true)),
                                                      G({b}, optim::RMSpropOptions(0.03).momentum(0.9))},
                                                    optim::RMSpropOptions(0.01).weight_decay(0.05));
       }},
  };
}

template <class T>
void check_group_runs() {
  const std::string dt = optim_test::dtype_key<T>();
  for (const auto& [name, make] : group_runs<T>()) run<T>("groups/in/" + dt, "groups/" + name + "/" + dt, make);
  // add_param_group before step 3: b joins with its own lr and momentum.
  run<T>(
      "groups/in/" + dt, "groups/sgd_add/" + dt,
      [](const tg::Tensor<T>& w, const tg::Tensor<T>&) {
        return std::make_unique<optim::SGD<T>>(std::vector<tg::Tensor<T>>{w}, optim::SGDOptions(0.1).momentum(0.9));
      },
      [](int k, optim::Optimizer<T>& opt, tg::Tensor<T>&, tg::Tensor<T>& b) {
        if (k < 3) b.mutable_grad() = tg::Tensor<T>();  // not yet in the optimiser: its goldens stay b0
        if (k == 3) opt.add_param_group(ParamGroup<T>({b}, optim::SGDOptions(0.3).momentum(0.5)));
      });
}

}  // namespace

TEST_CASE("RMSprop: every option combination matches torch, float") { check_rmsprop<float>(); }
TEST_CASE("RMSprop: every option combination matches torch, double") { check_rmsprop<double>(); }

TEST_CASE("RMSprop: PyTorch's defaults, bad options and sparse gradients are refused") {
  const optim::RMSpropOptions o;
  CHECK(o.lr() == 1e-2);
  CHECK(o.alpha() == 0.99);
  CHECK(o.eps() == 1e-8);
  CHECK(o.weight_decay() == 0);
  CHECK(o.momentum() == 0);
  CHECK_FALSE(o.centered());
  auto w = tg::ones<float>({3, 2}, true);
  using optim::RMSprop;
  using optim::RMSpropOptions;
  CHECK_THROWS_WITH(RMSprop<float>({w}, RMSpropOptions(-1)), "RMSprop: lr must be >= 0, got -1");
  CHECK_THROWS_WITH(RMSprop<float>({w}, RMSpropOptions().alpha(-0.5)), "RMSprop: alpha must be >= 0, got -0.5");
  CHECK_THROWS_WITH(RMSprop<float>({w}, RMSpropOptions().eps(-1)), "RMSprop: eps must be >= 0, got -1");
  CHECK_THROWS_WITH(RMSprop<float>({w}, RMSpropOptions().momentum(-1)), "RMSprop: momentum must be >= 0, got -1");
  CHECK_THROWS_WITH(RMSprop<float>({w}, RMSpropOptions().weight_decay(-1)), "RMSprop: weight_decay must be >= 0, got -1");
  RMSprop<float> opt({w});
  w.mutable_grad() = optim_test::sparse_rows<float>({3, 2}, {1}, {1, 1});
  CHECK_THROWS_WITH(opt.step(), Contains("RMSprop::step: parameter 0 has a sparse gradient, which RMSprop does not support"));
  CHECK(close(w, {1, 1, 1, 1, 1, 1}));
  CHECK_FALSE(opt.state(w).square_avg.defined());
}

TEST_CASE("param_groups: two groups with their own lr, weight_decay, momentum, betas match torch, float") {
  check_group_runs<float>();
}
TEST_CASE("param_groups: two groups with their own lr, weight_decay, momentum, betas match torch, double") {
  check_group_runs<double>();
}

TEST_CASE("param_groups: state_dict has torch's param_groups and state layout") {
  // torch's keys that tapegrad does not have (it has neither maximize, foreach, differentiable,
  // capturable nor fused); "lazy_sparse" is tapegrad's own.
  const std::vector<std::string> torch_only = {"maximize", "foreach", "differentiable", "capturable", "fused"};
  for (const auto& [name, make] : group_runs<double>()) {
    INFO(name);
    auto w = golden().tensor<double>("groups/in/f64/w0", true);
    auto b = golden().tensor<double>("groups/in/f64/b0", true);
    auto opt = make(w, b);
    for (int k = 0; k < 2; ++k) {
      w.mutable_grad() = golden().tensor<double>("groups/in/f64/s" + std::to_string(k) + "/w");
      b.mutable_grad() = golden().tensor<double>("groups/in/f64/s" + std::to_string(k) + "/b");
      opt->step();
    }
    const auto dict = opt->state_dict();
    REQUIRE(dict.param_groups.size() == 2);
    for (std::size_t g = 0; g < 2; ++g) {
      const std::string key = "layout/" + name + "/g" + std::to_string(g) + "/";
      INFO(key);
      const auto& ids = golden().values(key + "params");
      CHECK(std::vector<double>(dict.param_groups[g].params.begin(), dict.param_groups[g].params.end()) == ids);
      std::size_t ours = 0;
      for (const auto& [option, values] : dict.param_groups[g].options) {
        if (option == "lazy_sparse") continue;
        INFO(option);
        ++ours;
        REQUIRE(golden().has(key + option));
        CHECK(values == golden().values(key + option));
      }
      std::size_t torch_keys = static_cast<std::size_t>(golden().scalar(key + "nkeys")) - 1;  // less "params"
      for (const auto& extra : torch_only) torch_keys -= golden().has(key + extra) ? 1 : 0;
      CHECK(ours == torch_keys - (golden().has(key + "initial_lr") ? 1 : 0));
    }
    REQUIRE(dict.state.size() == 2);
    for (const auto& [id, s] : dict.state) {
      const std::string key = "layout/" + name + "/state/" + std::to_string(id) + "/";
      INFO(key);
      for (const auto& [entry, values] : s.values) CHECK(values == golden().values(key + entry));
      for (const auto& [entry, tensor] : s.tensors) CHECK(close(tensor, golden().values(key + entry), tensor.shape(), 1e-10, 1e-12));
      CHECK(s.values.size() + s.tensors.size() == static_cast<std::size_t>(golden().has(key + "step") ? 1 : 0) +
                                                     (golden().has(key + "exp_avg") ? 2 : 0) + (golden().has(key + "max_exp_avg_sq") ? 1 : 0) +
                                                     (golden().has(key + "momentum_buffer") ? 1 : 0) + (golden().has(key + "sum") ? 1 : 0) +
                                                     (golden().has(key + "square_avg") ? 1 : 0) + (golden().has(key + "grad_avg") ? 1 : 0));
    }
  }
}

TEST_CASE("param_groups: state_dict round trip with groups continues bit for bit, and mismatches change nothing") {
  for (const auto& [name, make] : group_runs<float>()) {
    INFO(name);
    auto w = golden().tensor<float>("groups/in/f32/w0", true);
    auto b = golden().tensor<float>("groups/in/f32/b0", true);
    auto opt = make(w, b);
    tg::Tensor<float> w2, b2;
    auto feed = [&](int k) {
      const std::string s = "groups/in/f32/s" + std::to_string(k);
      w.mutable_grad() = golden().tensor<float>(s + "/w");
      b.mutable_grad() = golden().has(s + "/b") ? golden().tensor<float>(s + "/b") : tg::Tensor<float>();
      if (w2.defined()) w2.mutable_grad() = w.grad().clone();
      if (b2.defined()) b2.mutable_grad() = b.grad().defined() ? b.grad().clone() : tg::Tensor<float>();
    };
    for (int k = 0; k < 2; ++k) {
      feed(k);
      opt->step();
    }
    opt->param_groups()[1].options().set_lr(0.0125);  // as a scheduler would
    // A resumed run: parameters restored as they were, a fresh optimiser, then its state dict.
    w2 = w.detach().clone().requires_grad_(true);
    b2 = b.detach().clone().requires_grad_(true);
    auto opt2 = make(w2, b2);
    const auto dict = opt->state_dict();
    auto bad = dict;
    bad.param_groups.pop_back();
    CHECK_THROWS_WITH(opt2->load_state_dict(bad), Contains("expected 2 parameter groups, got 1"));
    bad = dict;
    bad.param_groups[1].params = {0};
    CHECK_THROWS_WITH(opt2->load_state_dict(bad), Contains("param_groups[1] lists 1 parameters, this optimiser has 1 in that group (expected ids 1"));
    bad = dict;
    bad.param_groups[1].options[0].second = {-1.0};
    CHECK_THROWS_WITH(opt2->load_state_dict(bad), Contains("lr must be >= 0, got -1"));
    CHECK(opt2->param_groups()[1].options().get_lr() != 0.0125);
    opt2->load_state_dict(dict);
    CHECK(opt2->param_groups()[1].options().get_lr() == 0.0125);
    CHECK(opt2->state_dict().param_groups[0].options == dict.param_groups[0].options);
    for (int k = 2; k < 6; ++k) {
      feed(k);
      opt->step();
      opt2->step();
      CHECK(close(w2, as_doubles(w), w.shape(), 0, 0));
      CHECK(close(b2, as_doubles(b), b.shape(), 0, 0));
    }
  }
}

TEST_CASE("param_groups: no weight decay on biases, options fall back to the defaults per option") {
  auto weight = tg::ones<float>({2, 2}, true);
  auto bias = tg::ones<float>({2}, true);
  optim::AdamW<float> opt({ParamGroup<float>({weight}), ParamGroup<float>({bias}, optim::AdamWOptions().weight_decay(0))},
                          optim::AdamWOptions(3e-3).betas({0.8, 0.95}));
  REQUIRE(opt.param_groups().size() == 2);
  CHECK(opt.options(0).weight_decay() == 0.01);  // the defaults'
  CHECK(opt.options(1).weight_decay() == 0);     // the group's own
  CHECK(opt.options(1).lr() == 3e-3);            // not set by the group: the defaults', as a PyTorch dict
  CHECK(opt.options(1).betas() == std::pair<double, double>(0.8, 0.95));
  CHECK(opt.param_groups()[1].params()[0].is_same(bias));
  CHECK(opt.defaults().get_lr() == 3e-3);
  // A zero gradient: only the decayed group moves.
  weight.mutable_grad() = tg::zeros<float>({2, 2});
  bias.mutable_grad() = tg::zeros<float>({2});
  opt.step();
  CHECK(close(bias, {1, 1}, {2}, 0, 0));
  CHECK(close(weight, std::vector<double>(4, static_cast<double>(1.0f * float(1 - 3e-3 * 0.01))), {2, 2}));
  // Per-group lr through the groups, and set_lr for all.
  for (auto& group : opt.param_groups()) group.options().set_lr(group.options().get_lr() / 2);
  CHECK(opt.options(1).lr() == 1.5e-3);
  CHECK(opt.param_groups()[0].options_as<optim::AdamWOptions>().lr() == 1.5e-3);
  opt.set_lr(0.1);
  CHECK(opt.options(0).lr() == 0.1);
  CHECK(opt.options(1).lr() == 0.1);
  CHECK_THROWS_AS(opt.options(2), tg::IndexError);
  CHECK_THROWS_AS(opt.param_groups()[2], tg::IndexError);
  CHECK_THROWS_WITH(opt.param_groups()[0].options_as<optim::SGDOptions>(), "ParamGroup::options_as: the group's options are AdamWOptions");
}

TEST_CASE("param_groups: every optimiser takes groups, and errors name the parameter, group and option") {
  auto a = tg::ones<float>({2}, true), b = tg::ones<float>({3}, true), c = tg::ones<float>({4}, true);
  using G = ParamGroup<float>;
  CHECK_NOTHROW(optim::SGD<float>({G({a}), G({b}, optim::SGDOptions(0.2))}, 0.1));
  CHECK_NOTHROW(optim::Adam<float>({G({a}), G({b}, optim::AdamOptions().betas({0.5, 0.6}))}));
  CHECK_NOTHROW(optim::AdamW<float>({G({a}), G({b})}));
  CHECK_NOTHROW(optim::Adagrad<float>({G({a}), G({b}, optim::AdagradOptions().eps(1e-6))}));
  CHECK_NOTHROW(optim::SparseAdam<float>({G({a}), G({b}, optim::SparseAdamOptions(0.5))}));
  CHECK_NOTHROW(optim::RMSprop<float>({G({a}), G({b}, optim::RMSpropOptions().centered(true))}));

  CHECK_THROWS_AS(optim::SGD<float>({G({a, b}), G({c, a})}, 0.1), tg::ValueError);
  CHECK_THROWS_WITH(optim::SGD<float>({G({a, b}), G({c, a})}, 0.1),
                    "SGD: parameter 3 (in parameter group 1) is also parameter 0 (in parameter group 0); a parameter can "
                    "be in only one group");
  CHECK_THROWS_WITH(optim::Adam<float>({G({a, b, a})}), "Adam: parameters 0 and 2 share the same elements; pass each parameter once");
  CHECK_THROWS_WITH(optim::SGD<float>({G({a}), G({b}, optim::SGDOptions().momentum(-1))}, 0.1),
                    "SGD: momentum must be >= 0, got -1");
  CHECK_THROWS_WITH(optim::AdamW<float>({G({a}), G({b}, optim::AdamWOptions().betas({0.9, 1.0}))}),
                    "AdamW: betas[1] must be in [0, 1), got 1");
  CHECK_THROWS_WITH(optim::SGD<float>({G({a}), G({b}, optim::AdamOptions())}, 0.1),
                    "SGD: parameter group 1 has AdamOptions; SGD takes SGDOptions");
  // SGD's lr has no default (PyTorch's `required`): every group must then give it.
  CHECK_THROWS_WITH(optim::SGD<float>({G({a}, optim::SGDOptions(0.1)), G({b})}, optim::SGDOptions()),
                    "SGD: parameter group 1 did not specify lr, which has no default (give it to the group or to the optimiser)");
  optim::SGD<float> per_group_lr({G({a}, optim::SGDOptions(0.1)), G({b}, optim::SGDOptions(0.2).momentum(0.9))}, optim::SGDOptions());
  CHECK(per_group_lr.options(1).momentum() == 0.9);
  CHECK(per_group_lr.options(0).momentum() == 0);
  CHECK_THROWS_WITH(optim::SGD<float>(std::vector<G>{}, 0.1), "SGD: got an empty parameter list");

  // add_param_group: checked before anything changes.
  optim::Adagrad<float> opt({a}, optim::AdagradOptions(0.1));
  CHECK_THROWS_WITH(opt.add_param_group(G({c, a})),
                    "Adagrad: parameter 2 (in parameter group 1) is also parameter 0 (in parameter group 0); a parameter "
                    "can be in only one group");
  CHECK_THROWS_WITH(opt.add_param_group(G({c}, optim::AdagradOptions().lr_decay(-1))), "Adagrad: lr_decay must be >= 0, got -1");
  CHECK(opt.param_groups().size() == 1);
  CHECK(opt.parameters().size() == 1);
  opt.add_param_group(G({b, c}, optim::AdagradOptions().initial_accumulator_value(0.25)));
  CHECK(opt.parameters().size() == 3);
  CHECK(opt.options(1).lr() == 0.1);
  CHECK(close(opt.state(c).sum, {0.25, 0.25, 0.25, 0.25}));  // Adagrad's state starts with the group's value
  CHECK(opt.state_dict().param_groups[1].params == std::vector<std::int64_t>{1, 2});

  // An option set out of range through a group is caught by the next step, before anything moves.
  a.mutable_grad() = tg::ones<float>({2});
  opt.param_groups()[0].options().set_lr(-0.5);
  CHECK_THROWS_WITH(opt.step(), "Adagrad: lr must be >= 0, got -0.5");
  CHECK(close(a, {1, 1}));
}

TEST_CASE("clip_grad_value_: clamps dense and sparse gradients in place, NaN stays NaN") {
  auto a = tg::zeros<float>({4}, true);
  auto b = tg::zeros<float>({3, 2}, true);
  auto c = tg::zeros<float>({2}, true);  // no gradient: ignored
  a.mutable_grad() = tg::tensor<float>({0.5f, -2.0f, std::nanf(""), 3.0f}, {4});
  // Rows 0, 0, 2: row 0 sums to (4, -2), which clamps to (1.5, -1.5); the parts alone would not.
  b.mutable_grad() = optim_test::sparse_rows<float>({3, 2}, {0, 0, 2}, {1, 2, 3, -4, -0.25f, 7});
  tg::nn::utils::clip_grad_value_(std::vector<tg::Tensor<float>>{a, b, c}, 1.5);
  const auto ga = a.grad().to_vector();
  CHECK(ga[0] == 0.5f);
  CHECK(ga[1] == -1.5f);
  CHECK(std::isnan(ga[2]));
  CHECK(ga[3] == 1.5f);
  CHECK(b.grad().is_sparse());
  CHECK(close(b.grad().to_dense(), {1.5, -1.5, 0, 0, -0.25, 1.5}, {3, 2}, 0, 0));
  CHECK_FALSE(c.grad().defined());
  tg::nn::utils::clip_grad_value_(a, 0.25);
  CHECK(a.grad().to_vector()[0] == 0.25f);
  CHECK_THROWS_AS(tg::nn::utils::clip_grad_value_(a, -1.0), tg::ValueError);
  CHECK_THROWS_WITH(tg::nn::utils::clip_grad_value_(a, -1.0), "clip_grad_value_: clip_value must be >= 0, got -1");
  CHECK_THROWS_WITH(tg::nn::utils::clip_grad_value_(a, std::nan("")), "clip_grad_value_: clip_value must be >= 0, got nan");
}

TEST_CASE("param_groups: a Checkpoint saves and restores every group's options and a scheduler's rates") {
  namespace fs = std::filesystem;
  const fs::path path = fs::temp_directory_path() / ("tapegrad_param_groups_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".safetensors");
  auto a = tg::ones<float>({2}, true), b = tg::ones<float>({3}, true);
  using G = ParamGroup<float>;
  optim::SGD<float> opt({G({a}), G({b}, optim::SGDOptions(0.02).nesterov(true))}, optim::SGDOptions(0.1).momentum(0.9));
  optim::CosineAnnealingLR<float> scheduler(opt, 10);
  for (int k = 0; k < 3; ++k) {
    a.mutable_grad() = tg::full<float>({2}, 0.5f);
    b.mutable_grad() = tg::full<float>({3}, -0.25f);
    opt.step();
    scheduler.step();
  }
  tg::io::Checkpoint<float>().optimizer(opt).scheduler(scheduler).generator(nullptr).save(path);

  auto a2 = tg::ones<float>({2}, true), b2 = tg::ones<float>({3}, true);
  optim::SGD<float> opt2({G({a2}), G({b2}, optim::SGDOptions(0.5))}, optim::SGDOptions(0.3).momentum(0.9));
  optim::CosineAnnealingLR<float> scheduler2(opt2, 10);
  tg::io::Checkpoint<float>().optimizer(opt2).scheduler(scheduler2).generator(nullptr).load(path);
  fs::remove(path);
  CHECK(opt2.state_dict().param_groups[1].options == opt.state_dict().param_groups[1].options);
  CHECK(opt2.options(1).nesterov());
  CHECK(scheduler2.get_last_lr() == scheduler.get_last_lr());
  CHECK(close(opt2.state(b2).momentum_buffer, as_doubles(opt.state(b).momentum_buffer), {3}, 0, 0));
  scheduler.step();
  scheduler2.step();
  CHECK(scheduler2.get_last_lr() == scheduler.get_last_lr());
}

}  // namespace param_groups_test
