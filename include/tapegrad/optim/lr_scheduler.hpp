// SPDX-License-Identifier: MIT
// Learning-rate schedulers as torch.optim.lr_scheduler in PyTorch 1.13 (the chained forms plain
// `scheduler.step()` uses): StepLR, MultiStepLR, ExponentialLR, LambdaLR, LinearLR, CosineAnnealingLR,
// OneCycleLR and ReduceLROnPlateau, each per parameter group.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/error.hpp"
#include "tapegrad/optim/optimizer.hpp"

namespace tapegrad::optim {

/// What every learning-rate scheduler shares, so a checkpoint can save and restore any of them: its
/// name, the last rates and its state under PyTorch's names. (step() is each scheduler's own:
/// ReduceLROnPlateau's takes the metric.)
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  /// The scheduler's name ("StepLR"), as it starts error messages and is recorded in checkpoints.
  virtual const char* name() const noexcept = 0;
  /// The learning rate of every parameter group after the last step (PyTorch's get_last_lr()).
  virtual std::vector<double> get_last_lr() const = 0;
  /// The scheduler's state under PyTorch's names ("last_epoch", "base_lrs", ...).
  virtual NamedValues state_dict() const = 0;
  /// Restores state_dict() of a scheduler of the same kind; checked first, nothing changes on error.
  /// The optimiser's learning rates are not touched: they are restored with the optimiser's own state.
  virtual void load_state_dict(const NamedValues& state) = 0;

 protected:
  LRScheduler() = default;
  LRScheduler(const LRScheduler&) = default;
  LRScheduler& operator=(const LRScheduler&) = default;
};

}  // namespace tapegrad::optim

namespace tapegrad::detail {

/// The learning rate of every parameter group.
template <class T>
std::vector<double> group_lrs(const optim::Optimizer<T>& optimizer) {
  std::vector<double> out;
  for (const auto& group : optimizer.param_groups()) out.push_back(group.options().get_lr());
  return out;
}

/// One value per parameter group: `values` itself, or its one value repeated (PyTorch's _format_param).
inline std::vector<double> per_group(const char* op, const char* what, std::vector<double> values, std::size_t groups) {
  if (values.size() == 1) return std::vector<double>(groups, values[0]);
  if (values.size() != groups)
    throw ValueError(cat(op, ": expected 1 or ", groups, " values of ", what, " (one per parameter group), got ", values.size()));
  return values;
}

/// PyTorch's _LRScheduler: base_lrs (each group's lr at construction), last_epoch, and step(),
/// which counts an epoch and sets every group's lr to get_lr(). The derived constructor calls
/// initial_step() once its own members are set, as PyTorch's constructor steps to epoch 0.
template <class T>
class EpochScheduler : public optim::LRScheduler {
 public:
  /// Counts one epoch (or iteration) and sets every group's learning rate (PyTorch's step()).
  /// Call it after the optimiser's step.
  void step() {
    check_groups();
    ++last_epoch_;
    std::vector<double> lrs;
    try {
      lrs = get_lr();
    } catch (...) {
      --last_epoch_;  // nothing changes on error
      throw;
    }
    apply(lrs);
  }
  std::vector<double> get_last_lr() const override { return last_lr_; }
  /// How many times step() was called since construction (PyTorch's last_epoch, 0 after it).
  std::int64_t last_epoch() const noexcept { return last_epoch_; }
  /// Each group's learning rate when the scheduler was created (PyTorch's base_lrs).
  const std::vector<double>& base_lrs() const noexcept { return base_lrs_; }

  /// Its own options, then "base_lrs", "last_epoch" and "_last_lr", as PyTorch's state_dict().
  optim::NamedValues state_dict() const override {
    optim::NamedValues out = own_state();
    out.push_back({"base_lrs", base_lrs_});
    out.push_back({"last_epoch", {static_cast<double>(last_epoch_)}});
    out.push_back({"_last_lr", last_lr_});
    return out;
  }
  void load_state_dict(const optim::NamedValues& state) override {
    NamedValuesReader r(cat(name(), "::load_state_dict"), state);
    const std::size_t groups = base_lrs_.size();
    std::function<void()> commit = load_own(r);
    std::vector<double> base = r.values("base_lrs", groups);
    const std::int64_t last_epoch = r.count("last_epoch");
    std::vector<double> last_lr = r.values("_last_lr", groups);
    r.finish();
    commit();
    base_lrs_ = std::move(base);
    last_epoch_ = last_epoch;
    last_lr_ = std::move(last_lr);
  }

 protected:
  explicit EpochScheduler(optim::Optimizer<T>& optimizer)
      : optimizer_(&optimizer), base_lrs_(group_lrs(optimizer)), last_lr_(base_lrs_) {}

  /// PyTorch's _initial_step(): epoch 0's rates.
  void initial_step() {
    last_epoch_ = -1;
    step();
  }
  /// The rates for epoch last_epoch_ (PyTorch's chained get_lr()).
  virtual std::vector<double> get_lr() = 0;
  /// The scheduler's own options under PyTorch's names.
  virtual optim::NamedValues own_state() const = 0;
  /// Reads and checks the own options; returns what stores them (called only if everything fits).
  virtual std::function<void()> load_own(NamedValuesReader& r) = 0;

  std::size_t groups() const noexcept { return base_lrs_.size(); }
  /// The current rate of every group.
  std::vector<double> current() const { return group_lrs(*optimizer_); }

  optim::Optimizer<T>* optimizer_;
  std::vector<double> base_lrs_;
  std::vector<double> last_lr_;
  std::int64_t last_epoch_ = 0;

 private:
  void check_groups() const {
    if (optimizer_->param_groups().size() != base_lrs_.size())
      throw ValueError(cat(name(), "::step: the scheduler was created for ", base_lrs_.size(),
                           " parameter groups, the optimiser now has ", optimizer_->param_groups().size(),
                           "; create the scheduler after add_param_group()"));
  }
  void apply(const std::vector<double>& lrs) {
    auto groups_view = optimizer_->param_groups();
    for (std::size_t g = 0; g < lrs.size(); ++g) groups_view[g].options().set_lr(lrs[g]);
    last_lr_ = lrs;
  }
};

/// `op`: `name` must be >= `min` (a count).
inline void check_at_least(const char* op, const char* name, std::int64_t value, std::int64_t min) {
  if (value < min) throw ValueError(cat(op, ": ", name, " must be >= ", min, ", got ", value));
}

}  // namespace tapegrad::detail

namespace tapegrad::optim {

/// Decays every group's learning rate by `gamma` every `step_size` epochs (PyTorch's StepLR, chained:
/// on every step_size-th step, lr = current lr * gamma, so a rate changed by hand keeps decaying from
/// the new value). The scheduler holds a reference: the optimiser must outlive it.
/// Example: `StepLR scheduler(opt, 30, 0.1);`
template <class T>
class StepLR : public detail::EpochScheduler<T> {
 public:
  StepLR(Optimizer<T>& optimizer, std::int64_t step_size, double gamma = 0.1)
      : detail::EpochScheduler<T>(optimizer), step_size_(step_size), gamma_(gamma) {
    check(step_size, gamma);
    this->initial_step();
  }
  const char* name() const noexcept override { return "StepLR"; }
  std::int64_t step_size() const noexcept { return step_size_; }
  double gamma() const noexcept { return gamma_; }

 protected:
  std::vector<double> get_lr() override {
    std::vector<double> lrs = this->current();
    if (this->last_epoch_ != 0 && this->last_epoch_ % step_size_ == 0)
      for (double& lr : lrs) lr *= gamma_;
    return lrs;
  }
  NamedValues own_state() const override {
    return {{"step_size", {static_cast<double>(step_size_)}}, {"gamma", {gamma_}}};
  }
  std::function<void()> load_own(detail::NamedValuesReader& r) override {
    const std::int64_t step_size = r.count("step_size");
    const double gamma = r.scalar("gamma");
    check(step_size, gamma);
    return [this, step_size, gamma] { step_size_ = step_size, gamma_ = gamma; };
  }

 private:
  static void check(std::int64_t step_size, double gamma) {
    detail::check_at_least("StepLR", "step_size", step_size, 1);
    if (!(gamma >= 0)) throw ValueError(detail::cat("StepLR: gamma must be >= 0, got ", gamma));
  }
  std::int64_t step_size_;
  double gamma_;
};

/// Decays every group's learning rate by `gamma` at each epoch in `milestones` (strictly increasing,
/// >= 0), PyTorch's MultiStepLR (chained form). Example: `MultiStepLR scheduler(opt, {30, 80}, 0.1);`
template <class T>
class MultiStepLR : public detail::EpochScheduler<T> {
 public:
  MultiStepLR(Optimizer<T>& optimizer, std::vector<std::int64_t> milestones, double gamma = 0.1)
      : detail::EpochScheduler<T>(optimizer), milestones_(std::move(milestones)), gamma_(gamma) {
    check(milestones_, gamma);
    this->initial_step();
  }
  const char* name() const noexcept override { return "MultiStepLR"; }
  const std::vector<std::int64_t>& milestones() const noexcept { return milestones_; }
  double gamma() const noexcept { return gamma_; }

 protected:
  std::vector<double> get_lr() override {
    std::vector<double> lrs = this->current();
    if (std::find(milestones_.begin(), milestones_.end(), this->last_epoch_) != milestones_.end())
      for (double& lr : lrs) lr *= gamma_;  // PyTorch: lr * gamma ** (times listed), once here
    return lrs;
  }
  NamedValues own_state() const override {
    std::vector<double> m(milestones_.begin(), milestones_.end());
    return {{"milestones", m}, {"gamma", {gamma_}}};
  }
  std::function<void()> load_own(detail::NamedValuesReader& r) override {
    std::vector<std::int64_t> milestones;
    for (double v : r.any_values("milestones")) {
      if (!(std::floor(v) == v && std::abs(v) < 9007199254740992.0))
        throw ValueError(detail::cat("MultiStepLR::load_state_dict: milestone ", v, " is not a whole number"));
      milestones.push_back(static_cast<std::int64_t>(v));
    }
    const double gamma = r.scalar("gamma");
    check(milestones, gamma);
    return [this, milestones, gamma] { milestones_ = milestones, gamma_ = gamma; };
  }

 private:
  static void check(const std::vector<std::int64_t>& milestones, double gamma) {
    for (std::size_t i = 0; i < milestones.size(); ++i) {
      if (milestones[i] < 0) throw ValueError(detail::cat("MultiStepLR: milestone ", milestones[i], " at position ", i, " must be >= 0"));
      if (i > 0 && milestones[i] <= milestones[i - 1])
        throw ValueError(detail::cat("MultiStepLR: milestones must be strictly increasing, got ", milestones[i - 1],
                                     " then ", milestones[i], " at positions ", i - 1, " and ", i));
    }
    if (!(gamma >= 0)) throw ValueError(detail::cat("MultiStepLR: gamma must be >= 0, got ", gamma));
  }
  std::vector<std::int64_t> milestones_;
  double gamma_;
};

/// Multiplies every group's learning rate by `gamma` every epoch (PyTorch's ExponentialLR, chained).
/// Example: `ExponentialLR scheduler(opt, 0.95);`
template <class T>
class ExponentialLR : public detail::EpochScheduler<T> {
 public:
  ExponentialLR(Optimizer<T>& optimizer, double gamma) : detail::EpochScheduler<T>(optimizer), gamma_(gamma) {
    check(gamma);
    this->initial_step();
  }
  const char* name() const noexcept override { return "ExponentialLR"; }
  double gamma() const noexcept { return gamma_; }

 protected:
  std::vector<double> get_lr() override {
    std::vector<double> lrs = this->current();
    if (this->last_epoch_ != 0)
      for (double& lr : lrs) lr *= gamma_;
    return lrs;
  }
  NamedValues own_state() const override { return {{"gamma", {gamma_}}}; }
  std::function<void()> load_own(detail::NamedValuesReader& r) override {
    const double gamma = r.scalar("gamma");
    check(gamma);
    return [this, gamma] { gamma_ = gamma; };
  }

 private:
  static void check(double gamma) {
    if (!(gamma >= 0)) throw ValueError(detail::cat("ExponentialLR: gamma must be >= 0, got ", gamma));
  }
  double gamma_;
};

/// Sets each group's learning rate to its base rate times `lr_lambda(epoch)` (PyTorch's LambdaLR);
/// one function for every group, or one per group. The functions are not part of state_dict() (as
/// PyTorch, which saves only callable objects' attributes).
/// Example, linear warm-up over 10 epochs: `LambdaLR scheduler(opt, [](std::int64_t e) { return std::min(1.0, (e + 1) / 10.0); });`
template <class T>
class LambdaLR : public detail::EpochScheduler<T> {
 public:
  using Lambda = std::function<double(std::int64_t epoch)>;
  LambdaLR(Optimizer<T>& optimizer, Lambda lr_lambda) : LambdaLR(optimizer, std::vector<Lambda>{std::move(lr_lambda)}, true) {}
  /// One function per parameter group.
  LambdaLR(Optimizer<T>& optimizer, std::vector<Lambda> lr_lambdas) : LambdaLR(optimizer, std::move(lr_lambdas), false) {}
  const char* name() const noexcept override { return "LambdaLR"; }

 protected:
  std::vector<double> get_lr() override {
    std::vector<double> lrs(this->groups());
    for (std::size_t g = 0; g < lrs.size(); ++g) lrs[g] = this->base_lrs_[g] * lambdas_[g](this->last_epoch_);
    return lrs;
  }
  NamedValues own_state() const override { return {}; }
  std::function<void()> load_own(detail::NamedValuesReader&) override {
    return [] {};
  }

 private:
  LambdaLR(Optimizer<T>& optimizer, std::vector<Lambda> lambdas, bool shared)
      : detail::EpochScheduler<T>(optimizer), lambdas_(std::move(lambdas)) {
    if (shared) lambdas_.resize(this->groups(), lambdas_.front());
    if (lambdas_.size() != this->groups())
      throw ValueError(detail::cat("LambdaLR: expected ", this->groups(), " lr_lambdas (one per parameter group), got ",
                                   lambdas_.size()));
    for (std::size_t g = 0; g < lambdas_.size(); ++g)
      if (!lambdas_[g]) throw ValueError(detail::cat("LambdaLR: lr_lambda ", g, " is empty"));
    this->initial_step();
  }
  std::vector<Lambda> lambdas_;
};

/// Multiplies every group's learning rate by a factor going linearly from `start_factor` to
/// `end_factor` over `total_iters` steps, then leaves it (PyTorch's LinearLR, chained form).
/// fastText-style linear decay to zero over N updates is `LinearLR(opt, 1.0, 0.0, N)`: step k sets
/// lr = base * (1 - k / N), reaching 0 at step N.
/// Example, warm-up: `LinearLR scheduler(opt, 0.1, 1.0, 100);`
template <class T>
class LinearLR : public detail::EpochScheduler<T> {
 public:
  LinearLR(Optimizer<T>& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0, std::int64_t total_iters = 5)
      : detail::EpochScheduler<T>(optimizer), start_(start_factor), end_(end_factor), total_iters_(total_iters) {
    check(start_factor, end_factor, total_iters);
    this->initial_step();
  }
  const char* name() const noexcept override { return "LinearLR"; }

 protected:
  std::vector<double> get_lr() override {
    std::vector<double> lrs = this->current();
    const std::int64_t e = this->last_epoch_;
    if (e == 0) {
      for (double& lr : lrs) lr *= start_;
    } else if (e <= total_iters_) {
      // PyTorch's expression, in its order.
      const double factor = 1. + (end_ - start_) / (static_cast<double>(total_iters_) * start_ +
                                                     static_cast<double>(e - 1) * (end_ - start_));
      for (double& lr : lrs) lr *= factor;
    }
    return lrs;
  }
  NamedValues own_state() const override {
    return {{"start_factor", {start_}}, {"end_factor", {end_}}, {"total_iters", {static_cast<double>(total_iters_)}}};
  }
  std::function<void()> load_own(detail::NamedValuesReader& r) override {
    const double start = r.scalar("start_factor"), end = r.scalar("end_factor");
    const std::int64_t total = r.count("total_iters");
    check(start, end, total);
    return [this, start, end, total] { start_ = start, end_ = end, total_iters_ = total; };
  }

 private:
  static void check(double start, double end, std::int64_t total_iters) {
    // PyTorch allows start_factor 0, then divides by zero at the first step.
    if (!(start > 0 && start <= 1)) throw ValueError(detail::cat("LinearLR: start_factor must be in (0, 1], got ", start));
    if (!(end >= 0 && end <= 1)) throw ValueError(detail::cat("LinearLR: end_factor must be in [0, 1], got ", end));
    detail::check_at_least("LinearLR", "total_iters", total_iters, 1);
  }
  double start_, end_;
  std::int64_t total_iters_;
};

/// Anneals every group's learning rate from its base rate to `eta_min` along a half cosine over
/// `T_max` epochs, then back up (PyTorch's CosineAnnealingLR with its recursive formula, which
/// differs from the closed form base rounding: the rates are PyTorch's to the last bit).
/// Example: `CosineAnnealingLR scheduler(opt, 100);`
template <class T>
class CosineAnnealingLR : public detail::EpochScheduler<T> {
 public:
  CosineAnnealingLR(Optimizer<T>& optimizer, std::int64_t T_max, double eta_min = 0)
      : detail::EpochScheduler<T>(optimizer), T_max_(T_max), eta_min_(eta_min) {
    check(T_max, eta_min);
    this->initial_step();
  }
  const char* name() const noexcept override { return "CosineAnnealingLR"; }

 protected:
  std::vector<double> get_lr() override {
    std::vector<double> lrs = this->current();
    const std::int64_t e = this->last_epoch_;
    const double pi = 3.141592653589793, t_max = static_cast<double>(T_max_);
    if (e == 0) return lrs;
    for (std::size_t g = 0; g < lrs.size(); ++g) {
      if ((e - 1 - T_max_) % (2 * T_max_) == 0)  // the bottom of a cycle: step back up
        lrs[g] = lrs[g] + (this->base_lrs_[g] - eta_min_) * (1 - std::cos(pi / t_max)) / 2;
      else
        lrs[g] = (1 + std::cos(pi * static_cast<double>(e) / t_max)) / (1 + std::cos(pi * static_cast<double>(e - 1) / t_max)) *
                     (lrs[g] - eta_min_) + eta_min_;
    }
    return lrs;
  }
  NamedValues own_state() const override { return {{"T_max", {static_cast<double>(T_max_)}}, {"eta_min", {eta_min_}}}; }
  std::function<void()> load_own(detail::NamedValuesReader& r) override {
    const std::int64_t t_max = r.count("T_max");
    const double eta_min = r.scalar("eta_min");
    check(t_max, eta_min);
    return [this, t_max, eta_min] { T_max_ = t_max, eta_min_ = eta_min; };
  }

 private:
  static void check(std::int64_t T_max, double eta_min) {
    detail::check_at_least("CosineAnnealingLR", "T_max", T_max, 1);
    if (!(eta_min >= 0)) throw ValueError(detail::cat("CosineAnnealingLR: eta_min must be >= 0, got ", eta_min));
  }
  std::int64_t T_max_;
  double eta_min_;
};

/// How OneCycleLR moves between its rates.
enum class AnnealStrategy { cos, linear };

/// OneCycleLR's options, with PyTorch's defaults. `max_lr` is one rate for every group or one per group.
/// Example: `OneCycleLROptions(0.1, 1000).pct_start(0.25).anneal_strategy(AnnealStrategy::linear)`
class OneCycleLROptions {
 public:
  OneCycleLROptions(double max_lr, std::int64_t total_steps) : max_lr_{max_lr}, total_steps_(total_steps) {}
  OneCycleLROptions(std::vector<double> max_lrs, std::int64_t total_steps) : max_lr_(std::move(max_lrs)), total_steps_(total_steps) {}
  /// The fraction of the steps spent increasing the rate, in [0, 1].
  OneCycleLROptions& pct_start(double v) { return pct_start_ = v, *this; }
  OneCycleLROptions& anneal_strategy(AnnealStrategy v) { return anneal_strategy_ = v, *this; }
  /// Cycle the momentum (SGD's and RMSprop's momentum, Adam's beta1) inversely to the rate.
  OneCycleLROptions& cycle_momentum(bool v) { return cycle_momentum_ = v, *this; }
  OneCycleLROptions& base_momentum(double v) { return base_momentum_ = v, *this; }
  OneCycleLROptions& max_momentum(double v) { return max_momentum_ = v, *this; }
  /// The starting rate is max_lr / div_factor.
  OneCycleLROptions& div_factor(double v) { return div_factor_ = v, *this; }
  /// The final rate is the starting rate / final_div_factor.
  OneCycleLROptions& final_div_factor(double v) { return final_div_factor_ = v, *this; }
  /// Three phases (up, down to the starting rate, down to the final rate) instead of two.
  OneCycleLROptions& three_phase(bool v) { return three_phase_ = v, *this; }
  // Getters of the same names.
  const std::vector<double>& max_lr() const noexcept { return max_lr_; }
  std::int64_t total_steps() const noexcept { return total_steps_; }
  double pct_start() const noexcept { return pct_start_; }
  AnnealStrategy anneal_strategy() const noexcept { return anneal_strategy_; }
  bool cycle_momentum() const noexcept { return cycle_momentum_; }
  double base_momentum() const noexcept { return base_momentum_; }
  double max_momentum() const noexcept { return max_momentum_; }
  double div_factor() const noexcept { return div_factor_; }
  double final_div_factor() const noexcept { return final_div_factor_; }
  bool three_phase() const noexcept { return three_phase_; }

 private:
  std::vector<double> max_lr_;
  std::int64_t total_steps_;
  double pct_start_ = 0.3;
  AnnealStrategy anneal_strategy_ = AnnealStrategy::cos;
  bool cycle_momentum_ = true;
  double base_momentum_ = 0.85, max_momentum_ = 0.95, div_factor_ = 25, final_div_factor_ = 1e4;
  bool three_phase_ = false;
};

/// The 1cycle policy (PyTorch's OneCycleLR): each group's rate goes from max_lr / div_factor up to
/// max_lr over pct_start of total_steps, then down to that / final_div_factor (with three_phase,
/// first back to the starting rate); with cycle_momentum the momentum (SGD, RMSprop) or beta1 (Adam,
/// AdamW, SparseAdam) moves the other way between max_momentum and base_momentum. Call step() after
/// every batch; total_steps calls are allowed. Like PyTorch it sets each group's momentum at
/// construction, so an SGD without momentum gets max_momentum.
/// Example: `OneCycleLR scheduler(opt, OneCycleLROptions(0.1, epochs * batches));`
template <class T>
class OneCycleLR : public detail::EpochScheduler<T> {
 public:
  OneCycleLR(Optimizer<T>& optimizer, const OneCycleLROptions& options)
      : detail::EpochScheduler<T>(optimizer), options_(options) {
    const char* op = "OneCycleLR";
    detail::check_at_least(op, "total_steps", options.total_steps(), 1);
    if (!(options.pct_start() >= 0 && options.pct_start() <= 1))
      throw ValueError(detail::cat(op, ": pct_start must be in [0, 1], got ", options.pct_start()));
    if (!(options.div_factor() > 0)) throw ValueError(detail::cat(op, ": div_factor must be > 0, got ", options.div_factor()));
    if (!(options.final_div_factor() > 0))
      throw ValueError(detail::cat(op, ": final_div_factor must be > 0, got ", options.final_div_factor()));
    max_lrs_ = detail::per_group(op, "max_lr", options.max_lr(), this->groups());
    for (double m : max_lrs_)
      if (!(m >= 0)) throw ValueError(detail::cat(op, ": max_lr must be >= 0, got ", m));
    const double n = static_cast<double>(options.total_steps()), pct = options.pct_start();
    if (options.three_phase())
      phases_ = {{pct * n - 1, kInitial, kMax, kMaxMomentum, kBaseMomentum},
                 {2 * pct * n - 2, kMax, kInitial, kBaseMomentum, kMaxMomentum},
                 {n - 1, kInitial, kMin, kMaxMomentum, kMaxMomentum}};
    else
      phases_ = {{pct * n - 1, kInitial, kMax, kMaxMomentum, kBaseMomentum}, {n - 1, kMax, kMin, kBaseMomentum, kMaxMomentum}};
    double start = 0;
    for (std::size_t i = 0; i < phases_.size(); ++i) {
      // PyTorch divides by the phase's length: a phase without steps fails there (ZeroDivisionError).
      if (!(phases_[i].end_step > start))
        throw ValueError(detail::cat(op, ": pct_start = ", pct, " with total_steps = ", options.total_steps(),
                                     " leaves phase ", i + 1, " of the cycle without steps"));
      start = phases_[i].end_step;
    }
    if (options.cycle_momentum()) {
      for (const auto& group : optimizer.param_groups())
        if (*group.options().momentum_name() == '\0')
          throw ValueError(detail::cat(op, ": cycle_momentum needs an optimiser with momentum or betas, and ",
                                       optimizer.name(), " has neither; pass cycle_momentum(false)"));
      for (auto& group : optimizer.param_groups()) group.options().set_momentum(options.max_momentum());
    }
    for (std::size_t g = 0; g < this->groups(); ++g) this->base_lrs_[g] = max_lrs_[g] / options.div_factor();
    this->initial_step();
  }
  const char* name() const noexcept override { return "OneCycleLR"; }
  const OneCycleLROptions& options() const noexcept { return options_; }

 protected:
  std::vector<double> get_lr() override {
    const std::int64_t step_num = this->last_epoch_;
    if (step_num > options_.total_steps())
      throw ValueError(detail::cat("OneCycleLR::step: tried to step ", step_num + 1,
                                   " times; the specified number of total steps is ", options_.total_steps()));
    std::vector<double> lrs(this->groups());
    auto groups_view = this->optimizer_->param_groups();
    for (std::size_t g = 0; g < lrs.size(); ++g) {
      double start_step = 0;
      for (std::size_t i = 0; i < phases_.size(); ++i) {
        const Phase& phase = phases_[i];
        if (static_cast<double>(step_num) <= phase.end_step || i + 1 == phases_.size()) {
          const double pct = (static_cast<double>(step_num) - start_step) / (phase.end_step - start_step);
          lrs[g] = anneal(value(phase.start_lr, g), value(phase.end_lr, g), pct);
          if (options_.cycle_momentum())
            groups_view[g].options().set_momentum(anneal(value(phase.start_momentum, g), value(phase.end_momentum, g), pct));
          break;
        }
        start_step = phase.end_step;
      }
    }
    return lrs;
  }
  NamedValues own_state() const override {
    return {{"total_steps", {static_cast<double>(options_.total_steps())}}};
  }
  std::function<void()> load_own(detail::NamedValuesReader& r) override {
    if (r.count("total_steps") != options_.total_steps())
      throw ValueError(detail::cat("OneCycleLR::load_state_dict: the state is of a cycle of other total_steps than ",
                                   options_.total_steps()));
    return [] {};
  }

 private:
  enum Value { kInitial, kMax, kMin, kMaxMomentum, kBaseMomentum };
  struct Phase {
    double end_step;
    Value start_lr, end_lr, start_momentum, end_momentum;
  };
  double value(Value v, std::size_t g) const {
    const double initial = max_lrs_[g] / options_.div_factor();
    switch (v) {
      case kInitial: return initial;
      case kMax: return max_lrs_[g];
      case kMin: return initial / options_.final_div_factor();
      case kMaxMomentum: return options_.max_momentum();
      default: return options_.base_momentum();
    }
  }
  double anneal(double start, double end, double pct) const {
    if (options_.anneal_strategy() == AnnealStrategy::linear) return (end - start) * pct + start;
    const double cos_out = std::cos(3.141592653589793 * pct) + 1;
    return end + (start - end) / 2.0 * cos_out;
  }
  OneCycleLROptions options_;
  std::vector<double> max_lrs_;
  std::vector<Phase> phases_;
};

/// Whether a lower or a higher metric is better (ReduceLROnPlateau).
enum class PlateauMode { min, max };
/// How ReduceLROnPlateau's threshold compares: relative to the best metric, or absolute.
enum class ThresholdMode { rel, abs };

/// ReduceLROnPlateau's options, with PyTorch's defaults. Example: `ReduceLROnPlateauOptions().patience(2).factor(0.5)`
class ReduceLROnPlateauOptions {
 public:
  ReduceLROnPlateauOptions& mode(PlateauMode v) { return mode_ = v, *this; }
  /// The rate is multiplied by factor (in [0, 1)) on a plateau.
  ReduceLROnPlateauOptions& factor(double v) { return factor_ = v, *this; }
  /// Epochs without improvement tolerated before the rate drops (>= 0).
  ReduceLROnPlateauOptions& patience(std::int64_t v) { return patience_ = v, *this; }
  /// The least change that counts as an improvement (>= 0).
  ReduceLROnPlateauOptions& threshold(double v) { return threshold_ = v, *this; }
  ReduceLROnPlateauOptions& threshold_mode(ThresholdMode v) { return threshold_mode_ = v, *this; }
  /// Epochs after a drop during which bad epochs are not counted (>= 0).
  ReduceLROnPlateauOptions& cooldown(std::int64_t v) { return cooldown_ = v, *this; }
  /// The lowest rate, for every group (one value) or per group.
  ReduceLROnPlateauOptions& min_lr(double v) { return min_lr_ = {v}, *this; }
  ReduceLROnPlateauOptions& min_lr(std::vector<double> v) { return min_lr_ = std::move(v), *this; }
  /// A drop smaller than eps is skipped (>= 0).
  ReduceLROnPlateauOptions& eps(double v) { return eps_ = v, *this; }
  // Getters of the same names.
  PlateauMode mode() const noexcept { return mode_; }
  double factor() const noexcept { return factor_; }
  std::int64_t patience() const noexcept { return patience_; }
  double threshold() const noexcept { return threshold_; }
  ThresholdMode threshold_mode() const noexcept { return threshold_mode_; }
  std::int64_t cooldown() const noexcept { return cooldown_; }
  const std::vector<double>& min_lr() const noexcept { return min_lr_; }
  double eps() const noexcept { return eps_; }

 private:
  PlateauMode mode_ = PlateauMode::min;
  double factor_ = 0.1;
  std::int64_t patience_ = 10;
  double threshold_ = 1e-4;
  ThresholdMode threshold_mode_ = ThresholdMode::rel;
  std::int64_t cooldown_ = 0;
  std::vector<double> min_lr_{0.0};
  double eps_ = 1e-8;
};

/// Multiplies every group's learning rate by `factor` (down to min_lr) when a metric has not improved
/// for more than `patience` epochs (PyTorch's ReduceLROnPlateau). Call step(metric) once per epoch
/// with the validation loss (or accuracy, with PlateauMode::max).
/// Example: `ReduceLROnPlateau scheduler(opt, ReduceLROnPlateauOptions().patience(3)); ... scheduler.step(val_loss);`
template <class T>
class ReduceLROnPlateau : public LRScheduler {
 public:
  explicit ReduceLROnPlateau(Optimizer<T>& optimizer, const ReduceLROnPlateauOptions& options = ReduceLROnPlateauOptions())
      : optimizer_(&optimizer), options_(options), last_lr_(detail::group_lrs(optimizer)) {
    check(options);
    min_lrs_ = detail::per_group("ReduceLROnPlateau", "min_lr", options.min_lr(), last_lr_.size());
    for (double m : min_lrs_)
      if (!(m >= 0)) throw ValueError(detail::cat("ReduceLROnPlateau: min_lr must be >= 0, got ", m));
    best_ = worst();
  }
  const char* name() const noexcept override { return "ReduceLROnPlateau"; }

  /// Records the epoch's metric; after more than `patience` epochs without improvement (outside a
  /// cooldown) multiplies every group's rate by factor, not below its min_lr (PyTorch's step(metrics)).
  void step(double metric) {
    if (optimizer_->param_groups().size() != min_lrs_.size())
      throw ValueError(detail::cat("ReduceLROnPlateau::step: the scheduler was created for ", min_lrs_.size(),
                                   " parameter groups, the optimiser now has ", optimizer_->param_groups().size()));
    ++last_epoch_;
    if (is_better(metric, best_)) {
      best_ = metric;
      num_bad_epochs_ = 0;
    } else {
      ++num_bad_epochs_;
    }
    if (cooldown_counter_ > 0) {
      --cooldown_counter_;
      num_bad_epochs_ = 0;  // bad epochs in the cooldown do not count
    }
    if (num_bad_epochs_ > options_.patience()) {
      auto groups = optimizer_->param_groups();
      for (std::size_t g = 0; g < groups.size(); ++g) {
        const double old_lr = groups[g].options().get_lr();
        const double new_lr = std::max(old_lr * options_.factor(), min_lrs_[g]);
        if (old_lr - new_lr > options_.eps()) groups[g].options().set_lr(new_lr);
      }
      cooldown_counter_ = options_.cooldown();
      num_bad_epochs_ = 0;
    }
    last_lr_ = detail::group_lrs(*optimizer_);
  }

  std::vector<double> get_last_lr() const override { return last_lr_; }
  /// The best metric so far (infinity, of the wrong sign, before the first step).
  double best() const noexcept { return best_; }
  std::int64_t num_bad_epochs() const noexcept { return num_bad_epochs_; }
  std::int64_t cooldown_counter() const noexcept { return cooldown_counter_; }
  std::int64_t last_epoch() const noexcept { return last_epoch_; }

  /// PyTorch's names; "best" is empty until a metric was seen (PyTorch's inf, which a checkpoint cannot hold).
  NamedValues state_dict() const override {
    const ReduceLROnPlateauOptions& o = options_;
    std::vector<double> best;
    if (best_ != worst()) best.push_back(best_);
    return {{"factor", {o.factor()}},
            {"min_lrs", min_lrs_},
            {"patience", {static_cast<double>(o.patience())}},
            {"cooldown", {static_cast<double>(o.cooldown())}},
            {"cooldown_counter", {static_cast<double>(cooldown_counter_)}},
            {"mode", {o.mode() == PlateauMode::min ? 0.0 : 1.0}},
            {"threshold", {o.threshold()}},
            {"threshold_mode", {o.threshold_mode() == ThresholdMode::rel ? 0.0 : 1.0}},
            {"best", best},
            {"num_bad_epochs", {static_cast<double>(num_bad_epochs_)}},
            {"eps", {o.eps()}},
            {"last_epoch", {static_cast<double>(last_epoch_)}},
            {"_last_lr", last_lr_}};
  }
  void load_state_dict(const NamedValues& state) override {
    detail::NamedValuesReader r("ReduceLROnPlateau::load_state_dict", state);
    ReduceLROnPlateauOptions o;
    o.factor(r.scalar("factor")).min_lr(r.values("min_lrs", min_lrs_.size())).patience(r.count("patience"));
    o.cooldown(r.count("cooldown"));
    const std::int64_t cooldown_counter = r.count("cooldown_counter");
    o.mode(r.flag("mode") ? PlateauMode::max : PlateauMode::min).threshold(r.scalar("threshold"));
    o.threshold_mode(r.flag("threshold_mode") ? ThresholdMode::abs : ThresholdMode::rel);
    const std::vector<double> best = r.any_values("best");
    if (best.size() > 1) throw ValueError("ReduceLROnPlateau::load_state_dict: \"best\" must have 0 or 1 values");
    const std::int64_t num_bad = r.count("num_bad_epochs");
    o.eps(r.scalar("eps"));
    const std::int64_t last_epoch = r.count("last_epoch");
    std::vector<double> last_lr = r.values("_last_lr", min_lrs_.size());
    r.finish();
    check(o);
    options_ = o;
    min_lrs_ = o.min_lr();
    best_ = best.empty() ? worst() : best[0];
    cooldown_counter_ = cooldown_counter;
    num_bad_epochs_ = num_bad;
    last_epoch_ = last_epoch;
    last_lr_ = std::move(last_lr);
  }

 private:
  static void check(const ReduceLROnPlateauOptions& o) {
    const char* op = "ReduceLROnPlateau";
    if (!(o.factor() >= 0 && o.factor() < 1)) throw ValueError(detail::cat(op, ": factor must be in [0, 1), got ", o.factor()));
    detail::check_at_least(op, "patience", o.patience(), 0);
    detail::check_at_least(op, "cooldown", o.cooldown(), 0);
    if (!(o.threshold() >= 0)) throw ValueError(detail::cat(op, ": threshold must be >= 0, got ", o.threshold()));
    if (!(o.eps() >= 0)) throw ValueError(detail::cat(op, ": eps must be >= 0, got ", o.eps()));
  }
  double worst() const {
    const double inf = std::numeric_limits<double>::infinity();
    return options_.mode() == PlateauMode::min ? inf : -inf;
  }
  bool is_better(double a, double best) const {
    const double t = options_.threshold();
    if (options_.mode() == PlateauMode::min)
      return options_.threshold_mode() == ThresholdMode::rel ? a < best * (1. - t) : a < best - t;
    return options_.threshold_mode() == ThresholdMode::rel ? a > best * (t + 1.) : a > best + t;
  }

  Optimizer<T>* optimizer_;
  ReduceLROnPlateauOptions options_;
  std::vector<double> min_lrs_;
  std::vector<double> last_lr_;
  double best_ = 0;
  std::int64_t num_bad_epochs_ = 0, cooldown_counter_ = 0, last_epoch_ = 0;
};

}  // namespace tapegrad::optim
