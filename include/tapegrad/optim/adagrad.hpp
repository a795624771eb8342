// SPDX-License-Identifier: MIT
// Adagrad, as torch.optim.Adagrad in PyTorch 1.13 (foreach=False), exact with sparse gradients.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "tapegrad/optim/optimizer.hpp"

namespace tapegrad::optim {

/// Adagrad's options, with PyTorch's defaults. Example: `AdagradOptions(0.1).lr_decay(1e-4)`
class AdagradOptions : public detail::OptionsBase<AdagradOptions> {
 public:
  /// PyTorch's defaults (lr 1e-2, unset: a parameter group with these options takes the optimiser's lr).
  AdagradOptions() = default;
  // Implicit, as in libtorch, so a bare learning rate works: `Adagrad<float> opt(params, /*lr=*/0.1)`.
  AdagradOptions(double lr) { this->lr(lr); }  // NOLINT
  /// Learning rate (>= 0).
  AdagradOptions& lr(double v) { return set("lr", lr_, v); }
  /// Step t uses lr / (1 + (t - 1) * lr_decay).
  AdagradOptions& lr_decay(double v) { return set("lr_decay", lr_decay_, v); }
  /// L2 penalty (>= 0), added to the gradient as weight_decay * p.
  AdagradOptions& weight_decay(double v) { return set("weight_decay", weight_decay_, v); }
  /// Starting value of every sum of squared gradients (>= 0).
  AdagradOptions& initial_accumulator_value(double v) { return set("initial_accumulator_value", initial_accumulator_value_, v); }
  /// Added to the denominator for numerical stability (>= 0).
  AdagradOptions& eps(double v) { return set("eps", eps_, v); }
  // Getters of the same names.
  double lr() const noexcept { return lr_; }
  double lr_decay() const noexcept { return lr_decay_; }
  double weight_decay() const noexcept { return weight_decay_; }
  double initial_accumulator_value() const noexcept { return initial_accumulator_value_; }
  double eps() const noexcept { return eps_; }
  const char* type_name() const override { return "AdagradOptions"; }

 private:
  double lr_ = 1e-2;
  double lr_decay_ = 0, weight_decay_ = 0, initial_accumulator_value_ = 0, eps_ = 1e-10;
};

/// Adagrad's state for one parameter: its step count and the running sum of squared gradients.
template <class T>
struct AdagradParamState {
  std::int64_t step = 0;  // steps taken with a gradient
  Tensor<T> sum;          // running sum of squared gradients
};

/// Adagrad, PyTorch 1.13's update (t counts this parameter's steps, options are its group's):
/// g += weight_decay * p; sum += g * g; p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps).
///
/// Sparse gradients are exact (the same numbers as their to_dense()). Without weight decay a step
/// only touches the gradient's rows, O(nnz * D), like PyTorch's sparse path. With weight decay the
/// gradient of every row is non-zero, so the step visits every row, O(rows * D) (PyTorch refuses
/// this combination).
/// Each parameter's sum starts at its group's initial_accumulator_value (PyTorch 1.13 uses the
/// constructor's for every group, and gives parameters added by add_param_group no sum at all).
/// Example: `Adagrad<float> opt(model.parameters(), AdagradOptions(0.1));`
template <class T>
class Adagrad : public Optimizer<T> {
 public:
  /// One group of parameters with `options`.
  explicit Adagrad(std::vector<Tensor<T>> params, const AdagradOptions& options = AdagradOptions())
      : Adagrad(single_group(std::move(params)), options) {}
  /// Parameter groups (PyTorch's list of dicts); each group's unset options are `defaults`'.
  explicit Adagrad(std::vector<ParamGroup<T>> groups, const AdagradOptions& defaults = AdagradOptions())
      : Optimizer<T>("Adagrad") {
    this->init(std::move(groups), defaults);
  }

  void step() override {
    NoGradGuard no_grad;
    this->check_gradients([](std::size_t, const Tensor<T>&) {});
    for (std::size_t gi = 0; gi < this->groups_.size(); ++gi) {
      const AdagradOptions& o = options(gi);
      const auto mode = o.weight_decay() != 0 ? detail::SparseUpdate::all_rows : detail::SparseUpdate::touched_rows;
      for (std::size_t i = this->group_begin(gi); i < this->group_end(gi); ++i) {
        Tensor<T>& param = this->params_[i];
        const Tensor<T> grad = param.grad();
        if (!grad.defined()) continue;
        AdagradParamState<T>& s = state_[i];
        ++s.step;
        const double clr = o.lr() / (1 + static_cast<double>(s.step - 1) * o.lr_decay());
        T* p = param.data();
        T* sum = s.sum.data();
        detail::for_each_update(grad, this->rows_, mode, [&](std::int64_t off, std::int64_t n, const T* g) {
          update(o, p + off, sum + off, g, n, T(-clr));
        });
      }
    }
  }

  /// The options of parameter group `group` (the first by default; with the learning rate as
  /// schedulers and set_lr last left it).
  const AdagradOptions& options(std::size_t group = 0) const { return this->template group_options<AdagradOptions>(group); }

  /// The state of `param`, one of this optimiser's parameters.
  const AdagradParamState<T>& state(const Tensor<T>& param) const { return state_[this->index_of(param, "state")]; }

 protected:
  void check_options(const OptimizerOptions& options) const override {
    const auto& o = static_cast<const AdagradOptions&>(options);
    detail::check_non_negative("Adagrad", "lr", o.lr());
    detail::check_non_negative("Adagrad", "lr_decay", o.lr_decay());
    detail::check_non_negative("Adagrad", "weight_decay", o.weight_decay());
    detail::check_non_negative("Adagrad", "initial_accumulator_value", o.initial_accumulator_value());
    detail::check_non_negative("Adagrad", "eps", o.eps());
  }
  NamedValues options_state(const OptimizerOptions& options) const override {
    const auto& o = static_cast<const AdagradOptions&>(options);
    return {{"lr", {o.lr()}}, {"lr_decay", {o.lr_decay()}}, {"weight_decay", {o.weight_decay()}},
            {"initial_accumulator_value", {o.initial_accumulator_value()}}, {"eps", {o.eps()}}};
  }
  std::unique_ptr<OptimizerOptions> read_options(detail::NamedValuesReader& r) const override {
    auto o = std::make_unique<AdagradOptions>(r.scalar("lr"));
    o->lr_decay(r.scalar("lr_decay")).weight_decay(r.scalar("weight_decay"));
    o->initial_accumulator_value(r.scalar("initial_accumulator_value")).eps(r.scalar("eps"));
    r.finish();
    check_options(*o);
    return o;
  }
  void add_param_state(std::size_t i, const OptimizerOptions& options) override {
    // As PyTorch, the sums exist from the start, so they can be inspected (or shared) before a step.
    AdagradParamState<T> s;
    s.sum = detail::make_tensor<T>(this->params_[i].shape());
    std::fill_n(s.sum.data(), s.sum.numel(), T(static_cast<const AdagradOptions&>(options).initial_accumulator_value()));
    state_.push_back(std::move(s));
  }
  typename OptimizerStateDict<T>::ParamState param_state(std::size_t i) const override {
    typename OptimizerStateDict<T>::ParamState s;
    s.values.push_back({"step", {static_cast<double>(state_[i].step)}});
    s.tensors.emplace_back("sum", state_[i].sum);
    return s;
  }
  void load_state(const std::vector<const typename OptimizerStateDict<T>::ParamState*>& per_param,
                  const std::vector<const OptimizerOptions*>&) override {
    std::vector<AdagradParamState<T>> state(this->params_.size());
    for (std::size_t i = 0; i < state.size(); ++i) {
      auto r = this->state_reader(i, per_param[i]);
      if (!r.present())  // Adagrad has state from the start, as PyTorch's
        throw ValueError(detail::cat("Adagrad::load_state_dict: no state for parameter ", i));
      state[i].step = r.values().count("step");
      state[i].sum = r.tensor("sum", true);
      r.finish();
    }
    state_.swap(state);
  }

 private:
  // One piece of the update, with PyTorch's dense formulas (addcmul_, sqrt, add_, addcdiv_); the
  // sparse path uses them too, so it matches to_dense() bit for bit.
  static void update(const AdagradOptions& o, T* p_data, T* sum_data, const T* g_data, std::int64_t n, T neg_clr) {
    typename Tensor<T>::ArrayMap p(p_data, n), sum(sum_data, n);
    const typename Tensor<T>::ConstArrayMap g(g_data, n);
    const T eps = T(o.eps());
    auto apply = [&](const auto& grad) {
      sum = sum + grad * grad;
      p = p + (neg_clr * grad) / (detail::exact_sqrt(sum) + eps);
    };
    if (o.weight_decay() != 0)
      apply(g + T(o.weight_decay()) * p);
    else
      apply(g);
  }

  std::vector<AdagradParamState<T>> state_;
};

}  // namespace tapegrad::optim
