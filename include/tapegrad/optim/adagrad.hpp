// SPDX-License-Identifier: MIT
// Adagrad, as torch.optim.Adagrad in PyTorch 1.13 (foreach=False), exact with sparse gradients.
#pragma once

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "tapegrad/optim/optimizer.hpp"

namespace tapegrad::optim {

/// Adagrad's options, with PyTorch's defaults. Example: `AdagradOptions(0.1).lr_decay(1e-4)`
class AdagradOptions {
 public:
  // Implicit, as in libtorch, so a bare learning rate works: `SGD<float> opt(params, /*lr=*/0.1)`.
  AdagradOptions(double lr = 1e-2) : lr_(lr) {}
  /// Learning rate (>= 0).
  AdagradOptions& lr(double v) { return lr_ = v, *this; }
  /// Step t uses lr / (1 + (t - 1) * lr_decay).
  AdagradOptions& lr_decay(double v) { return lr_decay_ = v, *this; }
  /// L2 penalty (>= 0), added to the gradient as weight_decay * p.
  AdagradOptions& weight_decay(double v) { return weight_decay_ = v, *this; }
  /// Starting value of every sum of squared gradients (>= 0).
  AdagradOptions& initial_accumulator_value(double v) { return initial_accumulator_value_ = v, *this; }
  /// Added to the denominator for numerical stability (>= 0).
  AdagradOptions& eps(double v) { return eps_ = v, *this; }
  // Getters of the same names.
  double lr() const noexcept { return lr_; }
  double lr_decay() const noexcept { return lr_decay_; }
  double weight_decay() const noexcept { return weight_decay_; }
  double initial_accumulator_value() const noexcept { return initial_accumulator_value_; }
  double eps() const noexcept { return eps_; }

 private:
  double lr_;
  double lr_decay_ = 0, weight_decay_ = 0, initial_accumulator_value_ = 0, eps_ = 1e-10;
};

/// Adagrad's state for one parameter: its step count and the running sum of squared gradients.
template <class T>
struct AdagradParamState {
  std::int64_t step = 0;  // steps taken with a gradient
  Tensor<T> sum;          // running sum of squared gradients
};

/// Adagrad, PyTorch 1.13's update (t counts this parameter's steps):
/// g += weight_decay * p; sum += g * g; p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps).
///
/// Sparse gradients are exact (the same numbers as their to_dense()). Without weight decay a step
/// only touches the gradient's rows, O(nnz * D), like PyTorch's sparse path. With weight decay the
/// gradient of every row is non-zero, so the step visits every row, O(rows * D) (PyTorch refuses
/// this combination).
/// Example: `Adagrad<float> opt(model.parameters(), AdagradOptions(0.1));`
template <class T>
class Adagrad : public Optimizer<T> {
 public:
  explicit Adagrad(std::vector<Tensor<T>> params, AdagradOptions options = AdagradOptions())
      : Optimizer<T>("Adagrad", std::move(params)), options_(options) {
    check(options_);
    // As PyTorch, the sums exist from the start, so they can be inspected (or shared) before a step.
    state_.resize(this->params_.size());
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
      state_[i].sum = detail::make_tensor<T>(this->params_[i].shape());
      std::fill_n(state_[i].sum.data(), state_[i].sum.numel(), T(options_.initial_accumulator_value()));
    }
  }

  void step() override {
    NoGradGuard no_grad;
    this->check_gradients([](std::size_t, const Tensor<T>&) {});
    const bool decay = options_.weight_decay() != 0;
    const auto mode = decay ? detail::SparseUpdate::all_rows : detail::SparseUpdate::touched_rows;
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
      Tensor<T>& param = this->params_[i];
      const Tensor<T> grad = param.grad();
      if (!grad.defined()) continue;
      AdagradParamState<T>& s = state_[i];
      ++s.step;
      const double clr = options_.lr() / (1 + static_cast<double>(s.step - 1) * options_.lr_decay());
      T* p = param.data();
      T* sum = s.sum.data();
      detail::for_each_update(grad, this->rows_, mode, [&](std::int64_t off, std::int64_t n, const T* g) {
        update(p + off, sum + off, g, n, T(-clr));
      });
    }
  }

  double lr() const noexcept override { return options_.lr(); }
  void set_lr(double lr) override {
    detail::check_non_negative("Adagrad", "lr", lr);
    options_.lr(lr);
  }
  /// The options (with the learning rate as set_lr last left it).
  const AdagradOptions& options() const noexcept { return options_; }

  /// The state of `param`, one of this optimiser's parameters.
  const AdagradParamState<T>& state(const Tensor<T>& param) const { return state_[this->index_of(param, "state")]; }

 protected:
  NamedValues options_state() const override {
    const AdagradOptions& o = options_;
    return {{"lr", {o.lr()}}, {"lr_decay", {o.lr_decay()}}, {"weight_decay", {o.weight_decay()}},
            {"initial_accumulator_value", {o.initial_accumulator_value()}}, {"eps", {o.eps()}}};
  }
  typename OptimizerStateDict<T>::ParamState param_state(std::size_t i) const override {
    typename OptimizerStateDict<T>::ParamState s;
    s.values.push_back({"step", {static_cast<double>(state_[i].step)}});
    s.tensors.emplace_back("sum", state_[i].sum);
    return s;
  }
  void load_state(detail::NamedValuesReader o,
                  const std::vector<const typename OptimizerStateDict<T>::ParamState*>& per_param) override {
    AdagradOptions options(o.scalar("lr"));
    options.lr_decay(o.scalar("lr_decay")).weight_decay(o.scalar("weight_decay"));
    options.initial_accumulator_value(o.scalar("initial_accumulator_value")).eps(o.scalar("eps"));
    o.finish();
    check(options);
    std::vector<AdagradParamState<T>> state(this->params_.size());
    for (std::size_t i = 0; i < state.size(); ++i) {
      auto r = this->state_reader(i, per_param[i]);
      if (!r.present())  // Adagrad has state from the start, as PyTorch's
        throw ValueError(detail::cat("Adagrad::load_state_dict: no state for parameter ", i));
      state[i].step = r.values().count("step");
      state[i].sum = r.tensor("sum", true);
      r.finish();
    }
    options_ = options;
    state_.swap(state);
  }

 private:
  static void check(const AdagradOptions& o) {
    detail::check_non_negative("Adagrad", "lr", o.lr());
    detail::check_non_negative("Adagrad", "lr_decay", o.lr_decay());
    detail::check_non_negative("Adagrad", "weight_decay", o.weight_decay());
    detail::check_non_negative("Adagrad", "initial_accumulator_value", o.initial_accumulator_value());
    detail::check_non_negative("Adagrad", "eps", o.eps());
  }

  // One piece of the update, with PyTorch's dense formulas (addcmul_, sqrt, add_, addcdiv_); the
  // sparse path uses them too, so it matches to_dense() bit for bit.
  void update(T* p_data, T* sum_data, const T* g_data, std::int64_t n, T neg_clr) const {
    typename Tensor<T>::ArrayMap p(p_data, n), sum(sum_data, n);
    const typename Tensor<T>::ConstArrayMap g(g_data, n);
    const T eps = T(options_.eps());
    auto apply = [&](const auto& grad) {
      sum = sum + grad * grad;
      p = p + (neg_clr * grad) / (detail::exact_sqrt(sum) + eps);
    };
    if (options_.weight_decay() != 0)
      apply(g + T(options_.weight_decay()) * p);
    else
      apply(g);
  }

  AdagradOptions options_;
  std::vector<AdagradParamState<T>> state_;
};

}  // namespace tapegrad::optim
