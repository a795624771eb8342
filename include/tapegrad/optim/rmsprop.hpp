// SPDX-License-Identifier: MIT
// RMSprop (with momentum and the centered variant), as torch.optim.RMSprop in PyTorch 1.13 (foreach=False).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "tapegrad/optim/optimizer.hpp"

namespace tapegrad::optim {

/// RMSprop's options, with PyTorch's defaults. Example: `RMSpropOptions(0.01).momentum(0.9).centered(true)`
class RMSpropOptions : public detail::OptionsBase<RMSpropOptions> {
 public:
  /// PyTorch's defaults (lr 1e-2, unset: a parameter group with these options takes the optimiser's lr).
  RMSpropOptions() = default;
  // Implicit, as in libtorch, so a bare learning rate works: `RMSprop<float> opt(params, /*lr=*/0.01)`.
  RMSpropOptions(double lr) { this->lr(lr); }  // NOLINT
  /// Learning rate (>= 0).
  RMSpropOptions& lr(double v) { return set("lr", lr_, v); }
  /// Smoothing constant of the running average of squared gradients (>= 0).
  RMSpropOptions& alpha(double v) { return set("alpha", alpha_, v); }
  /// Added to the denominator for numerical stability (>= 0).
  RMSpropOptions& eps(double v) { return set("eps", eps_, v); }
  /// L2 penalty (>= 0), added to the gradient as weight_decay * p.
  RMSpropOptions& weight_decay(double v) { return set("weight_decay", weight_decay_, v); }
  /// Momentum factor (>= 0); 0 means no momentum buffer.
  RMSpropOptions& momentum(double v) { return set("momentum", momentum_, v); }
  /// Centered RMSprop: normalise by an estimate of the gradient's variance instead of its second moment.
  RMSpropOptions& centered(bool v) { return set("centered", centered_, v); }
  // Getters of the same names.
  double lr() const noexcept { return lr_; }
  double alpha() const noexcept { return alpha_; }
  double eps() const noexcept { return eps_; }
  double weight_decay() const noexcept { return weight_decay_; }
  double momentum() const noexcept { return momentum_; }
  bool centered() const noexcept { return centered_; }

  const char* momentum_name() const override { return "momentum"; }
  double get_momentum() const override { return momentum_; }
  void set_momentum(double v) override { momentum(v); }
  const char* type_name() const override { return "RMSpropOptions"; }

 private:
  double lr_ = 1e-2, alpha_ = 0.99, eps_ = 1e-8, weight_decay_ = 0, momentum_ = 0;
  bool centered_ = false;
};

/// RMSprop's state for one parameter (tensors undefined until its first step; the buffer only with
/// momentum, the gradient average only when centered, as PyTorch's).
template <class T>
struct RMSpropParamState {
  std::int64_t step = 0;      // steps taken with a gradient
  Tensor<T> square_avg;       // running average of squared gradients v
  Tensor<T> momentum_buffer;  // b (momentum > 0)
  Tensor<T> grad_avg;         // running average of gradients m (centered)
};

/// RMSprop, PyTorch 1.13's update (per parameter, with its group's options):
/// g += weight_decay * p; v = alpha * v + (1 - alpha) * g * g;
/// centered: m = alpha * m + (1 - alpha) * g, avg = sqrt(v - m * m) + eps; else avg = sqrt(v) + eps;
/// momentum > 0: b = momentum * b + g / avg, p -= lr * b; else p -= lr * g / avg.
/// As PyTorch, the momentum buffer and the gradient average are created at a parameter's first step
/// if its group has momentum > 0 or centered then (turning them on later fails in PyTorch; here
/// they start from zeros). Sparse gradients are refused, as PyTorch does.
/// Example: `RMSprop<float> opt(model.parameters(), RMSpropOptions(0.01).momentum(0.9));`
template <class T>
class RMSprop : public Optimizer<T> {
 public:
  /// One group of parameters with `options`.
  explicit RMSprop(std::vector<Tensor<T>> params, const RMSpropOptions& options = RMSpropOptions())
      : RMSprop(single_group(std::move(params)), options) {}
  /// Parameter groups (PyTorch's list of dicts); each group's unset options are `defaults`'.
  explicit RMSprop(std::vector<ParamGroup<T>> groups, const RMSpropOptions& defaults = RMSpropOptions())
      : Optimizer<T>("RMSprop") {
    this->init(std::move(groups), defaults);
  }

  void step() override {
    NoGradGuard no_grad;
    this->check_gradients([](std::size_t i, const Tensor<T>& g) {
      if (g.is_sparse())
        throw ValueError(detail::cat("RMSprop::step: parameter ", i,
                                     " has a sparse gradient, which RMSprop does not support (as PyTorch's); use "
                                     "Adagrad, SGD or SparseAdam"));
    });
    for (std::size_t gi = 0; gi < this->groups_.size(); ++gi) {
      const RMSpropOptions& o = options(gi);
      for (std::size_t i = this->group_begin(gi); i < this->group_end(gi); ++i) {
        Tensor<T>& param = this->params_[i];
        const Tensor<T> grad = param.grad();
        if (!grad.defined()) continue;
        RMSpropParamState<T>& s = state_[i];
        if (!s.square_avg.defined()) s.square_avg = detail::zeros_of<T>(param.shape());
        if (o.momentum() > 0 && !s.momentum_buffer.defined()) s.momentum_buffer = detail::zeros_of<T>(param.shape());
        if (o.centered() && !s.grad_avg.defined()) s.grad_avg = detail::zeros_of<T>(param.shape());
        ++s.step;
        T* p = param.data();
        T* v = s.square_avg.data();
        T* b = o.momentum() > 0 ? s.momentum_buffer.data() : nullptr;
        T* m = o.centered() ? s.grad_avg.data() : nullptr;
        const T* g = grad.data();
        for (std::int64_t off = 0; off < grad.numel(); off += detail::kUpdateChunk) {
          const std::int64_t n = std::min(detail::kUpdateChunk, grad.numel() - off);
          update(o, p + off, v + off, b ? b + off : nullptr, m ? m + off : nullptr, g + off, n);
        }
      }
    }
  }

  /// The options of parameter group `group` (the first by default; with the learning rate as
  /// schedulers and set_lr last left it).
  const RMSpropOptions& options(std::size_t group = 0) const { return this->template group_options<RMSpropOptions>(group); }

  /// The state of `param`, one of this optimiser's parameters.
  const RMSpropParamState<T>& state(const Tensor<T>& param) const { return state_[this->index_of(param, "state")]; }

 protected:
  void check_options(const OptimizerOptions& options) const override {
    const auto& o = static_cast<const RMSpropOptions&>(options);
    detail::check_non_negative("RMSprop", "lr", o.lr());
    detail::check_non_negative("RMSprop", "alpha", o.alpha());
    detail::check_non_negative("RMSprop", "eps", o.eps());
    detail::check_non_negative("RMSprop", "weight_decay", o.weight_decay());
    detail::check_non_negative("RMSprop", "momentum", o.momentum());
  }
  NamedValues options_state(const OptimizerOptions& options) const override {
    const auto& o = static_cast<const RMSpropOptions&>(options);
    return {{"lr", {o.lr()}},
            {"momentum", {o.momentum()}},
            {"alpha", {o.alpha()}},
            {"eps", {o.eps()}},
            {"centered", {o.centered() ? 1.0 : 0.0}},
            {"weight_decay", {o.weight_decay()}}};
  }
  std::unique_ptr<OptimizerOptions> read_options(detail::NamedValuesReader& r) const override {
    auto o = std::make_unique<RMSpropOptions>(r.scalar("lr"));
    o->momentum(r.scalar("momentum")).alpha(r.scalar("alpha")).eps(r.scalar("eps"));
    o->centered(r.flag("centered")).weight_decay(r.scalar("weight_decay"));
    r.finish();
    check_options(*o);
    return o;
  }
  void add_param_state(std::size_t, const OptimizerOptions&) override { state_.emplace_back(); }
  typename OptimizerStateDict<T>::ParamState param_state(std::size_t i) const override {
    typename OptimizerStateDict<T>::ParamState s;
    const RMSpropParamState<T>& a = state_[i];
    if (!a.square_avg.defined()) return s;
    s.values.push_back({"step", {static_cast<double>(a.step)}});
    s.tensors.emplace_back("square_avg", a.square_avg);
    if (a.momentum_buffer.defined()) s.tensors.emplace_back("momentum_buffer", a.momentum_buffer);
    if (a.grad_avg.defined()) s.tensors.emplace_back("grad_avg", a.grad_avg);
    return s;
  }
  void load_state(const std::vector<const typename OptimizerStateDict<T>::ParamState*>& per_param,
                  const std::vector<const OptimizerOptions*>&) override {
    std::vector<RMSpropParamState<T>> state(this->params_.size());
    for (std::size_t i = 0; i < state.size(); ++i) {
      auto r = this->state_reader(i, per_param[i]);
      if (r.present()) {
        state[i].step = r.values().count("step");
        state[i].square_avg = r.tensor("square_avg", true);
        state[i].momentum_buffer = r.tensor("momentum_buffer", false);
        state[i].grad_avg = r.tensor("grad_avg", false);
      }
      r.finish();
    }
    state_.swap(state);
  }

 private:
  // One piece of the update; each line is one of PyTorch's tensor ops (mul_, addcmul_, sqrt, add_,
  // addcdiv_), rounded the same way.
  static void update(const RMSpropOptions& o, T* p_data, T* v_data, T* b_data, T* m_data, const T* g_data, std::int64_t n) {
    using Map = typename Tensor<T>::ArrayMap;
    Map p(p_data, n), v(v_data, n);
    const typename Tensor<T>::ConstArrayMap g_in(g_data, n);
    const T alpha = T(o.alpha()), one_minus_alpha = T(1 - o.alpha()), eps = T(o.eps()), neg_lr = T(-o.lr());
    auto apply = [&](const auto& g) {
      v = v * alpha + (one_minus_alpha * g) * g;
      auto step_with = [&](const auto& avg) {
        if (b_data) {
          Map b(b_data, n);
          b = b * T(o.momentum()) + g / avg;
          p = p + neg_lr * b;
        } else {
          p = p + (neg_lr * g) / avg;
        }
      };
      if (m_data) {
        Map m(m_data, n);
        m = m * alpha + one_minus_alpha * g;
        step_with(detail::exact_sqrt(v - m * m) + eps);
      } else {
        step_with(detail::exact_sqrt(v) + eps);
      }
    };
    if (o.weight_decay() != 0)
      apply(g_in + T(o.weight_decay()) * p);
    else
      apply(g_in);
  }

  std::vector<RMSpropParamState<T>> state_;
};

}  // namespace tapegrad::optim
