// SPDX-License-Identifier: MIT
// Learning-rate schedulers: PyTorch 1.13's rate sequences over 60 steps with two parameter groups of
// different rates (bit for bit), OneCycleLR's momentum, ReduceLROnPlateau, state_dict round trips
// and argument errors.
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/golden.hpp"
#include "support/test.hpp"

namespace schedulers_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace optim = tapegrad::optim;
using Catch::Matchers::Contains;

namespace {

const tg_test::Golden& golden() {
  static const tg_test::Golden g("schedulers");
  return g;
}

/// Two groups, as the goldens: a [2] with the defaults' lr 0.1, b [3] with lr 0.02.
struct TwoGroups {
  tg::Tensor<float> a = tg::zeros<float>({2}, true), b = tg::zeros<float>({3}, true);
  std::vector<optim::ParamGroup<float>> groups() const {
    return {optim::ParamGroup<float>({a}), optim::ParamGroup<float>({b}, optim::SGDOptions(0.02))};
  }
};

/// Row k of a [steps, groups] golden.
std::vector<double> row(const std::string& key, std::size_t k) {
  const auto& shape = golden().shape(key);
  const auto width = static_cast<std::size_t>(shape[1]);
  const auto& v = golden().values(key);
  return std::vector<double>(v.begin() + static_cast<std::ptrdiff_t>(k * width), v.begin() + static_cast<std::ptrdiff_t>((k + 1) * width));
}

std::vector<double> group_lrs(const optim::Optimizer<float>& opt) {
  std::vector<double> out;
  for (const auto& g : opt.param_groups()) out.push_back(g.options().get_lr());
  return out;
}

/// Steps `step` as many times as the golden has rows; every rate must be torch's, bit for bit.
void check_sequence(const std::string& name, optim::Optimizer<float>& opt, optim::LRScheduler& scheduler,
                    const std::function<void(std::size_t)>& step, const char* momentum_key = nullptr) {
  const std::string key = "sched/" + name;
  INFO(key);
  CHECK(group_lrs(opt) == golden().values(key + "/lr0"));
  CHECK(scheduler.get_last_lr() == golden().values(key + "/lr0"));
  const auto steps = static_cast<std::size_t>(golden().shape(key + "/lrs")[0]);
  REQUIRE(steps >= 50);
  for (std::size_t k = 0; k < steps; ++k) {
    INFO("step " << k + 1);
    step(k);
    REQUIRE(scheduler.get_last_lr() == row(key + "/lrs", k));
    CHECK(group_lrs(opt) == row(key + "/lrs", k));
    if (momentum_key) {
      std::vector<double> m;
      for (const auto& g : opt.param_groups()) m.push_back(g.options().get_momentum());
      CHECK(m == row(key + "/momentum", k));
    }
  }
}

/// step() of an epoch-based scheduler held as an LRScheduler.
template <class Scheduler>
std::function<void(optim::LRScheduler&, int)> epoch_step() {
  return [](optim::LRScheduler& s, int) { dynamic_cast<Scheduler&>(s).step(); };
}

template <class Scheduler>
void check_epochs(const std::string& name, optim::Optimizer<float>& opt, Scheduler& scheduler) {
  check_sequence(name, opt, scheduler, [&](std::size_t) { scheduler.step(); });
}

}  // namespace

TEST_CASE("StepLR: torch's rates with two parameter groups") {
  TwoGroups p;
  optim::SGD<float> opt(p.groups(), optim::SGDOptions(0.1).momentum(0.9));
  optim::StepLR<float> scheduler(opt, 7, 0.5);
  check_epochs("steplr", opt, scheduler);
}

TEST_CASE("MultiStepLR: torch's rates, and milestones must increase") {
  TwoGroups p;
  optim::SGD<float> opt(p.groups(), 0.1);
  optim::MultiStepLR<float> scheduler(opt, {5, 12, 30}, 0.3);
  check_epochs("multistep", opt, scheduler);
  CHECK_THROWS_AS(optim::MultiStepLR<float>(opt, {5, 5}), tg::ValueError);
  CHECK_THROWS_WITH(optim::MultiStepLR<float>(opt, {3, 8, 6}),
                    "MultiStepLR: milestones must be strictly increasing, got 8 then 6 at positions 1 and 2");
  CHECK_THROWS_WITH(optim::MultiStepLR<float>(opt, {-1, 4}), "MultiStepLR: milestone -1 at position 0 must be >= 0");
  CHECK_THROWS_WITH(optim::MultiStepLR<float>(opt, {4}, -0.5), "MultiStepLR: gamma must be >= 0, got -0.5");
}

TEST_CASE("ExponentialLR: torch's rates") {
  TwoGroups p;
  optim::SGD<float> opt(p.groups(), 0.1);
  optim::ExponentialLR<float> scheduler(opt, 0.93);
  check_epochs("exponential", opt, scheduler);
  CHECK_THROWS_WITH(optim::ExponentialLR<float>(opt, std::nan("")), "ExponentialLR: gamma must be >= 0, got nan");
}

TEST_CASE("LambdaLR: one function for every group, or one per group") {
  TwoGroups p;
  optim::SGD<float> opt(p.groups(), 0.1);
  optim::LambdaLR<float> scheduler(opt, [](std::int64_t e) { return std::pow(0.95, static_cast<double>(e)); });
  check_epochs("lambda", opt, scheduler);

  TwoGroups q;
  optim::SGD<float> opt2(q.groups(), 0.1);
  optim::LambdaLR<float> per_group(opt2, {[](std::int64_t e) { return 1.0 / static_cast<double>(1 + e); },
                                          [](std::int64_t e) { return std::pow(0.5, static_cast<double>(e / 10)); }});
  check_epochs("lambda2", opt2, per_group);
  using Lambda = optim::LambdaLR<float>::Lambda;
  CHECK_THROWS_WITH(optim::LambdaLR<float>(opt2, std::vector<Lambda>{[](std::int64_t) { return 1.0; }}),
                    "LambdaLR: expected 2 lr_lambdas (one per parameter group), got 1");
  CHECK_THROWS_WITH(optim::LambdaLR<float>(opt2, Lambda()), "LambdaLR: lr_lambda 0 is empty");
}

TEST_CASE("LinearLR: warm-up and fastText-style decay to zero match torch") {
  for (const char* name : {"linear", "linear_warmup", "fasttext"}) {
    TwoGroups p;
    optim::SGD<float> opt(p.groups(), 0.1);
    std::unique_ptr<optim::LinearLR<float>> scheduler;
    if (std::string(name) == "linear")
      scheduler = std::make_unique<optim::LinearLR<float>>(opt);
    else if (std::string(name) == "linear_warmup")
      scheduler = std::make_unique<optim::LinearLR<float>>(opt, 0.25, 1.0, 10);
    else
      scheduler = std::make_unique<optim::LinearLR<float>>(opt, 1.0, 0.0, 50);
    check_epochs(name, opt, *scheduler);
  }
  TwoGroups p;
  optim::SGD<float> opt(p.groups(), 0.1);
  optim::LinearLR<float> decay(opt, 1.0, 0.0, 4);
  for (int k = 0; k < 4; ++k) decay.step();
  CHECK(decay.get_last_lr() == std::vector<double>{0.0, 0.0});  // fastText: exactly zero at the end
  CHECK_THROWS_WITH(optim::LinearLR<float>(opt, 0.0), "LinearLR: start_factor must be in (0, 1], got 0");
  CHECK_THROWS_WITH(optim::LinearLR<float>(opt, 0.5, 1.5), "LinearLR: end_factor must be in [0, 1], got 1.5");
  CHECK_THROWS_WITH(optim::LinearLR<float>(opt, 0.5, 1.0, 0), "LinearLR: total_iters must be >= 1, got 0");
}

TEST_CASE("CosineAnnealingLR: torch's recursive formula, through the restarts, bit for bit") {
  TwoGroups p;
  optim::SGD<float> opt(p.groups(), 0.1);
  optim::CosineAnnealingLR<float> scheduler(opt, 20, 0.001);
  check_epochs("cosine", opt, scheduler);
  TwoGroups q;
  optim::SGD<float> opt2(q.groups(), 0.1);
  optim::CosineAnnealingLR<float> short_cycle(opt2, 7);
  check_epochs("cosine7", opt2, short_cycle);
  CHECK_THROWS_AS(optim::CosineAnnealingLR<float>(opt, 0), tg::ValueError);
  CHECK_THROWS_WITH(optim::CosineAnnealingLR<float>(opt, 0), "CosineAnnealingLR: T_max must be >= 1, got 0");
  CHECK_THROWS_WITH(optim::CosineAnnealingLR<float>(opt, -3), "CosineAnnealingLR: T_max must be >= 1, got -3");
  CHECK_THROWS_WITH(optim::CosineAnnealingLR<float>(opt, 5, -1), "CosineAnnealingLR: eta_min must be >= 0, got -1");
}

TEST_CASE("OneCycleLR: rates and SGD momentum per group, as torch") {
  TwoGroups p;
  optim::SGD<float> opt(p.groups(), optim::SGDOptions(0.1).momentum(0.9));
  optim::OneCycleLR<float> scheduler(opt, optim::OneCycleLROptions({1.0, 0.5}, 60));
  check_sequence("onecycle", opt, scheduler, [&](std::size_t) { scheduler.step(); }, "momentum");
  // total_steps calls are allowed, one more is an error that changes nothing.
  CHECK_THROWS_WITH(scheduler.step(), "OneCycleLR::step: tried to step 62 times; the specified number of total steps is 60");
  CHECK(scheduler.last_epoch() == 60);
}

TEST_CASE("OneCycleLR: three phases, linear annealing and Adam's beta1, as torch") {
  tg::Tensor<float> a = tg::zeros<float>({2}, true), b = tg::zeros<float>({3}, true);
  optim::Adam<float> opt({optim::ParamGroup<float>({a}), optim::ParamGroup<float>({b}, optim::AdamOptions(0.02))},
                         optim::AdamOptions(0.1));
  optim::OneCycleLR<float> scheduler(opt, optim::OneCycleLROptions(0.3, 60)
                                              .pct_start(0.25)
                                              .anneal_strategy(optim::AnnealStrategy::linear)
                                              .three_phase(true)
                                              .div_factor(10)
                                              .final_div_factor(100)
                                              .base_momentum(0.8)
                                              .max_momentum(0.9));
  check_sequence("onecycle_adam", opt, scheduler, [&](std::size_t) { scheduler.step(); }, "betas");
  CHECK(opt.options(1).betas().second == 0.999);  // beta2 is left alone
}

TEST_CASE("OneCycleLR: without momentum cycling, and its argument errors") {
  TwoGroups p;
  optim::SGD<float> opt(p.groups(), 0.1);
  optim::OneCycleLR<float> scheduler(opt, optim::OneCycleLROptions(0.2, 80).cycle_momentum(false));
  check_epochs("onecycle_nomom", opt, scheduler);
  CHECK(opt.options(0).momentum() == 0);

  auto w = tg::zeros<float>({2}, true);
  optim::Adagrad<float> adagrad({w});
  CHECK_THROWS_WITH(optim::OneCycleLR<float>(adagrad, optim::OneCycleLROptions(0.1, 10)),
                    "OneCycleLR: cycle_momentum needs an optimiser with momentum or betas, and Adagrad has neither; pass "
                    "cycle_momentum(false)");
  CHECK(adagrad.lr() == 0.01);  // nothing changed
  CHECK_NOTHROW(optim::OneCycleLR<float>(adagrad, optim::OneCycleLROptions(0.1, 10).cycle_momentum(false)));
  CHECK_THROWS_WITH(optim::OneCycleLR<float>(opt, optim::OneCycleLROptions(0.1, 0)), "OneCycleLR: total_steps must be >= 1, got 0");
  CHECK_THROWS_WITH(optim::OneCycleLR<float>(opt, optim::OneCycleLROptions(0.1, 10).pct_start(1.5)),
                    "OneCycleLR: pct_start must be in [0, 1], got 1.5");
  CHECK_THROWS_WITH(optim::OneCycleLR<float>(opt, optim::OneCycleLROptions(0.1, 10).pct_start(0.1)),
                    "OneCycleLR: pct_start = 0.1 with total_steps = 10 leaves phase 1 of the cycle without steps");
  CHECK_THROWS_WITH(optim::OneCycleLR<float>(opt, optim::OneCycleLROptions({0.1, 0.2, 0.3}, 10)),
                    "OneCycleLR: expected 1 or 2 values of max_lr (one per parameter group), got 3");
  CHECK_THROWS_WITH(optim::OneCycleLR<float>(opt, optim::OneCycleLROptions(0.1, 10).div_factor(0)),
                    "OneCycleLR: div_factor must be > 0, got 0");
}

TEST_CASE("ReduceLROnPlateau: torch's rates for min/rel with cooldown and per-group min_lr, max/abs, and a flat metric") {
  struct Case {
    const char* name;
    optim::ReduceLROnPlateauOptions options;
  };
  const Case cases[] = {
      {"plateau", optim::ReduceLROnPlateauOptions().patience(3).cooldown(2).min_lr(std::vector<double>{0.001, 0.0005})},
      {"plateau_max", optim::ReduceLROnPlateauOptions()
                          .mode(optim::PlateauMode::max)
                          .factor(0.5)
                          .patience(2)
                          .threshold(0.05)
                          .threshold_mode(optim::ThresholdMode::abs)},
      {"plateau_default", optim::ReduceLROnPlateauOptions()}};
  for (const Case& c : cases) {
    TwoGroups p;
    optim::SGD<float> opt(p.groups(), 0.1);
    optim::ReduceLROnPlateau<float> scheduler(opt, c.options);
    const auto& metrics = golden().values(std::string("sched/") + c.name + "/metrics");
    check_sequence(c.name, opt, scheduler, [&](std::size_t k) { scheduler.step(metrics[k]); });
  }
  TwoGroups p;
  optim::SGD<float> opt(p.groups(), 0.1);
  using O = optim::ReduceLROnPlateauOptions;
  CHECK_THROWS_WITH(optim::ReduceLROnPlateau<float>(opt, O().factor(1.0)), "ReduceLROnPlateau: factor must be in [0, 1), got 1");
  CHECK_THROWS_WITH(optim::ReduceLROnPlateau<float>(opt, O().patience(-1)), "ReduceLROnPlateau: patience must be >= 0, got -1");
  CHECK_THROWS_WITH(optim::ReduceLROnPlateau<float>(opt, O().cooldown(-2)), "ReduceLROnPlateau: cooldown must be >= 0, got -2");
  CHECK_THROWS_WITH(optim::ReduceLROnPlateau<float>(opt, O().min_lr(std::vector<double>{0.1, 0.2, 0.3})),
                    "ReduceLROnPlateau: expected 1 or 2 values of min_lr (one per parameter group), got 3");
  CHECK_THROWS_WITH(optim::ReduceLROnPlateau<float>(opt, O().min_lr(-1)), "ReduceLROnPlateau: min_lr must be >= 0, got -1");
  CHECK_THROWS_WITH(optim::ReduceLROnPlateau<float>(opt, O().threshold(-1)), "ReduceLROnPlateau: threshold must be >= 0, got -1");
}

TEST_CASE("schedulers: state_dict keys are torch's, and a loaded scheduler continues the same sequence") {
  // Each scheduler is stepped 25 times, saved, loaded into a fresh one over a fresh optimiser (whose
  // rates are restored as a checkpoint does), and both must then give the same 25 more rates.
  using Make = std::function<std::unique_ptr<optim::LRScheduler>(optim::Optimizer<float>&)>;
  using Step = std::function<void(optim::LRScheduler&, int)>;
  struct Case {
    const char* torch_name;
    Make make;
    Step step;
  };
  const std::vector<Case> cases = {
      {"StepLR", [](auto& o) { return std::make_unique<optim::StepLR<float>>(o, 7, 0.5); }, epoch_step<optim::StepLR<float>>()},
      {"MultiStepLR", [](auto& o) { return std::make_unique<optim::MultiStepLR<float>>(o, std::vector<std::int64_t>{5, 30}); },
       epoch_step<optim::MultiStepLR<float>>()},
      {"ExponentialLR", [](auto& o) { return std::make_unique<optim::ExponentialLR<float>>(o, 0.9); },
       epoch_step<optim::ExponentialLR<float>>()},
      {"LambdaLR",
       [](auto& o) { return std::make_unique<optim::LambdaLR<float>>(o, [](std::int64_t e) { return 1.0 / double(e + 1); }); },
       epoch_step<optim::LambdaLR<float>>()},
      {"LinearLR", [](auto& o) { return std::make_unique<optim::LinearLR<float>>(o, 1.0, 0.0, 40); },
       epoch_step<optim::LinearLR<float>>()},
      {"CosineAnnealingLR", [](auto& o) { return std::make_unique<optim::CosineAnnealingLR<float>>(o, 10); },
       epoch_step<optim::CosineAnnealingLR<float>>()},
      {"OneCycleLR", [](auto& o) { return std::make_unique<optim::OneCycleLR<float>>(o, optim::OneCycleLROptions(1.0, 50)); },
       epoch_step<optim::OneCycleLR<float>>()},
      {"ReduceLROnPlateau",
       [](auto& o) { return std::make_unique<optim::ReduceLROnPlateau<float>>(o, optim::ReduceLROnPlateauOptions().patience(1)); },
       [](optim::LRScheduler& s, int k) { dynamic_cast<optim::ReduceLROnPlateau<float>&>(s).step(k % 7 == 0 ? 0.5 : 1.0); }},
  };
  for (const Case& c : cases) {
    INFO(c.torch_name);
    TwoGroups p;
    optim::SGD<float> opt(p.groups(), optim::SGDOptions(0.1).momentum(0.9));
    auto scheduler = c.make(opt);
    CHECK(std::string(scheduler->name()) == c.torch_name);
    for (int k = 0; k < 25; ++k) c.step(*scheduler, k);
    const auto state = scheduler->state_dict();
    for (const auto& [key, values] : state) {
      INFO(key);
      CHECK(golden().has(std::string("sdkeys/") + c.torch_name + "/" + key));  // a name torch's state_dict has
    }
    TwoGroups q;
    optim::SGD<float> opt2(q.groups(), optim::SGDOptions(0.1).momentum(0.9));
    auto loaded = c.make(opt2);
    opt2.load_state_dict(opt.state_dict());
    loaded->load_state_dict(state);
    CHECK(loaded->get_last_lr() == scheduler->get_last_lr());
    CHECK(loaded->state_dict() == state);
    for (int k = 25; k < 50; ++k) {
      c.step(*scheduler, k);
      c.step(*loaded, k);
      REQUIRE(loaded->get_last_lr() == scheduler->get_last_lr());
      REQUIRE(group_lrs(opt2) == group_lrs(opt));
    }
    // A state of another length is refused and changes nothing.
    auto bad = state;
    for (auto& [key, values] : bad)
      if (key == "base_lrs") values.push_back(1.0);
    if (std::string(c.torch_name) != "ReduceLROnPlateau") {
      CHECK_THROWS_WITH(loaded->load_state_dict(bad), Contains("\"base_lrs\" must have 2 values, got 3"));
      CHECK(loaded->state_dict() == scheduler->state_dict());
    }
  }
}

TEST_CASE("schedulers: a scheduler made before add_param_group refuses to step") {
  TwoGroups p;
  optim::SGD<float> opt({optim::ParamGroup<float>({p.a})}, 0.1);
  optim::ExponentialLR<float> scheduler(opt, 0.5);
  opt.add_param_group(optim::ParamGroup<float>({p.b}));
  CHECK_THROWS_WITH(scheduler.step(), "ExponentialLR::step: the scheduler was created for 1 parameter groups, the optimiser "
                                      "now has 2; create the scheduler after add_param_group()");
  CHECK(scheduler.last_epoch() == 0);
}

}  // namespace schedulers_test
