// SPDX-License-Identifier: MIT
// Adam and AdamW (with AMSGrad), as torch.optim.Adam / AdamW in PyTorch 1.13 (foreach=False).
#pragma once

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "tapegrad/optim/optimizer.hpp"

namespace tapegrad::optim {

/// Adam's options, with PyTorch's defaults. Example: `AdamOptions(1e-3).betas({0.9, 0.98}).amsgrad(true)`
class AdamOptions {
 public:
  // Implicit, as in libtorch, so a bare learning rate works: `SGD<float> opt(params, /*lr=*/0.1)`.
  AdamOptions(double lr = 1e-3) : lr_(lr) {}
  /// Learning rate (>= 0).
  AdamOptions& lr(double v) { return lr_ = v, *this; }
  /// Decay rates of the running averages of the gradient and of its square, each in [0, 1).
  AdamOptions& betas(std::pair<double, double> v) { return betas_ = v, *this; }
  /// Added to the denominator for numerical stability (>= 0).
  AdamOptions& eps(double v) { return eps_ = v, *this; }
  /// L2 penalty added to the gradient (AdamW decouples it instead).
  AdamOptions& weight_decay(double v) { return weight_decay_ = v, *this; }
  /// AMSGrad: divide by the largest second moment seen so far.
  AdamOptions& amsgrad(bool v) { return amsgrad_ = v, *this; }
  /// Accept sparse gradients and update only their rows (not exact: rows outside the gradient skip
  /// the moment decay they would get from a zero gradient). Not in PyTorch; see SparseAdam.
  AdamOptions& lazy_sparse(bool v) { return lazy_sparse_ = v, *this; }
  // Getters of the same names.
  double lr() const noexcept { return lr_; }
  const std::pair<double, double>& betas() const noexcept { return betas_; }
  double eps() const noexcept { return eps_; }
  double weight_decay() const noexcept { return weight_decay_; }
  bool amsgrad() const noexcept { return amsgrad_; }
  bool lazy_sparse() const noexcept { return lazy_sparse_; }

 private:
  double lr_;
  std::pair<double, double> betas_{0.9, 0.999};
  double eps_ = 1e-8, weight_decay_ = 0;
  bool amsgrad_ = false, lazy_sparse_ = false;
};

/// AdamW's options: Adam's, except that weight_decay defaults to 0.01 and is decoupled.
/// Example: `AdamWOptions(1e-3).weight_decay(0.05)`
class AdamWOptions {
 public:
  // Implicit, as in libtorch, so a bare learning rate works: `SGD<float> opt(params, /*lr=*/0.1)`.
  AdamWOptions(double lr = 1e-3) : lr_(lr) {}
  /// Learning rate (>= 0).
  AdamWOptions& lr(double v) { return lr_ = v, *this; }
  /// Decay rates of the running averages of the gradient and of its square, each in [0, 1).
  AdamWOptions& betas(std::pair<double, double> v) { return betas_ = v, *this; }
  /// Added to the denominator for numerical stability (>= 0).
  AdamWOptions& eps(double v) { return eps_ = v, *this; }
  /// Decoupled decay: each step first scales the parameter by 1 - lr * weight_decay.
  AdamWOptions& weight_decay(double v) { return weight_decay_ = v, *this; }
  /// AMSGrad: divide by the largest second moment seen so far.
  AdamWOptions& amsgrad(bool v) { return amsgrad_ = v, *this; }
  /// As AdamOptions::lazy_sparse; the decoupled decay then also applies to the gradient's rows only.
  AdamWOptions& lazy_sparse(bool v) { return lazy_sparse_ = v, *this; }
  // Getters of the same names.
  double lr() const noexcept { return lr_; }
  const std::pair<double, double>& betas() const noexcept { return betas_; }
  double eps() const noexcept { return eps_; }
  double weight_decay() const noexcept { return weight_decay_; }
  bool amsgrad() const noexcept { return amsgrad_; }
  bool lazy_sparse() const noexcept { return lazy_sparse_; }

 private:
  double lr_;
  std::pair<double, double> betas_{0.9, 0.999};
  double eps_ = 1e-8, weight_decay_ = 1e-2;
  bool amsgrad_ = false, lazy_sparse_ = false;
};

/// Adam's and AdamW's state for one parameter (tensors undefined until its first step).
template <class T>
struct AdamParamState {
  std::int64_t step = 0;          // steps taken with a gradient
  Tensor<T> exp_avg, exp_avg_sq;  // running averages m and v
  Tensor<T> max_exp_avg_sq;       // the largest v so far (amsgrad only)
};

}  // namespace tapegrad::optim

namespace tapegrad::detail {

/// The code Adam and AdamW share; `kDecoupled` selects AdamW's weight decay.
template <class T, class Options, bool kDecoupled>
class AdamFamily : public optim::Optimizer<T> {
 public:
  double lr() const noexcept override { return options_.lr(); }
  void set_lr(double lr) override {
    check_non_negative(this->name(), "lr", lr);
    options_.lr(lr);
  }
  /// The options (with the learning rate as set_lr last left it).
  const Options& options() const noexcept { return options_; }

  /// The state of `param`, one of this optimiser's parameters.
  const optim::AdamParamState<T>& state(const Tensor<T>& param) const { return state_[this->index_of(param, "state")]; }

  void step() override {
    NoGradGuard no_grad;
    this->check_gradients([this](std::size_t i, const Tensor<T>& g) {
      if (g.is_sparse() && !options_.lazy_sparse())
        throw ValueError(cat(this->name(), "::step: parameter ", i, " has a sparse gradient, which ", this->name(),
                             " does not support; use SparseAdam, or ", this->name(),
                             "Options().lazy_sparse(true) to update only the gradient's rows (not exact: the other rows "
                             "skip the moment decay)"));
    });
    const double beta1 = options_.betas().first, beta2 = options_.betas().second;
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
      Tensor<T>& param = this->params_[i];
      const Tensor<T> grad = param.grad();
      if (!grad.defined()) continue;
      optim::AdamParamState<T>& s = state_[i];
      if (s.step == 0) {
        s.exp_avg = zeros_of<T>(param.shape());
        s.exp_avg_sq = zeros_of<T>(param.shape());
        if (options_.amsgrad()) s.max_exp_avg_sq = zeros_of<T>(param.shape());
      }
      ++s.step;
      // Scalars computed in double and rounded once, as PyTorch passes Python floats to its kernels.
      const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(s.step));
      const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(s.step));
      const Coefficients c{T(beta1),
                           T(1 - beta1),
                           T(beta2),
                           T(1 - beta2),
                           T(options_.weight_decay()),
                           T(1 - options_.lr() * options_.weight_decay()),
                           T(-(options_.lr() / bias_correction1)),
                           T(std::sqrt(bias_correction2)),
                           T(options_.eps())};
      T* p = param.data();
      T* m = s.exp_avg.data();
      T* v = s.exp_avg_sq.data();
      T* vmax = options_.amsgrad() ? s.max_exp_avg_sq.data() : nullptr;
      for_each_update(grad, this->rows_, SparseUpdate::touched_rows, [&](std::int64_t off, std::int64_t n, const T* g) {
        update(p + off, m + off, v + off, vmax ? vmax + off : nullptr, g, n, c);
      });
    }
  }

 protected:
  AdamFamily(const char* name, std::vector<Tensor<T>> params, Options options)
      : optim::Optimizer<T>(name, std::move(params)), options_(options) {
    check(name, options_);
    state_.resize(this->params_.size());
  }

  optim::NamedValues options_state() const override {
    const Options& o = options_;
    return {{"lr", {o.lr()}},
            {"betas", {o.betas().first, o.betas().second}},
            {"eps", {o.eps()}},
            {"weight_decay", {o.weight_decay()}},
            {"amsgrad", {o.amsgrad() ? 1.0 : 0.0}},
            {"lazy_sparse", {o.lazy_sparse() ? 1.0 : 0.0}}};
  }
  typename optim::OptimizerStateDict<T>::ParamState param_state(std::size_t i) const override {
    typename optim::OptimizerStateDict<T>::ParamState s;
    const optim::AdamParamState<T>& a = state_[i];
    if (a.step == 0) return s;
    s.values.push_back({"step", {static_cast<double>(a.step)}});
    s.tensors.emplace_back("exp_avg", a.exp_avg);
    s.tensors.emplace_back("exp_avg_sq", a.exp_avg_sq);
    if (a.max_exp_avg_sq.defined()) s.tensors.emplace_back("max_exp_avg_sq", a.max_exp_avg_sq);
    return s;
  }
  void load_state(NamedValuesReader o,
                  const std::vector<const typename optim::OptimizerStateDict<T>::ParamState*>& per_param) override {
    Options options(o.scalar("lr"));
    options.betas(o.pair("betas")).eps(o.scalar("eps")).weight_decay(o.scalar("weight_decay"));
    options.amsgrad(o.flag("amsgrad")).lazy_sparse(o.flag("lazy_sparse"));
    o.finish();
    check(this->name(), options);
    std::vector<optim::AdamParamState<T>> state(this->params_.size());
    for (std::size_t i = 0; i < state.size(); ++i) {
      auto r = this->state_reader(i, per_param[i]);
      if (r.present()) {
        state[i].step = r.values().count("step");
        const bool started = state[i].step > 0;
        state[i].exp_avg = r.tensor("exp_avg", started);
        state[i].exp_avg_sq = r.tensor("exp_avg_sq", started);
        state[i].max_exp_avg_sq = r.tensor("max_exp_avg_sq", started && options.amsgrad());
      }
      r.finish();
    }
    options_ = options;
    state_.swap(state);
  }

 private:
  static void check(const char* name, const Options& o) {
    check_non_negative(name, "lr", o.lr());
    check_non_negative(name, "eps", o.eps());
    check_betas(name, o.betas());
    check_non_negative(name, "weight_decay", o.weight_decay());
  }

  struct Coefficients {
    T beta1, one_minus_beta1, beta2, one_minus_beta2, weight_decay, decoupled_decay, neg_step_size, bias_correction2_sqrt,
        eps;
  };

  // One piece of the update; each line is one of PyTorch's tensor ops, rounded the same way.
  void update(T* p_data, T* m_data, T* v_data, T* vmax_data, const T* g_data, std::int64_t n,
              const Coefficients& c) const {
    using Map = typename Tensor<T>::ArrayMap;
    Map p(p_data, n), m(m_data, n), v(v_data, n);
    const typename Tensor<T>::ConstArrayMap g(g_data, n);
    auto apply = [&](const auto& grad) {
      m = m * c.beta1 + c.one_minus_beta1 * grad;
      v = v * c.beta2 + (c.one_minus_beta2 * grad) * grad;
      if (vmax_data) {
        Map vmax(vmax_data, n);
        vmax = (vmax < v || v != v).select(v, vmax);  // torch.maximum: NaN if either side is NaN
        p = p + (c.neg_step_size * m) / (exact_sqrt(vmax) / c.bias_correction2_sqrt + c.eps);
      } else {
        p = p + (c.neg_step_size * m) / (exact_sqrt(v) / c.bias_correction2_sqrt + c.eps);
      }
    };
    const bool decay = options_.weight_decay() != 0;
    if constexpr (kDecoupled) {
      if (decay) p = p * c.decoupled_decay;
      apply(g);
    } else if (decay) {
      apply(g + c.weight_decay * p);
    } else {
      apply(g);
    }
  }

  Options options_;
  std::vector<optim::AdamParamState<T>> state_;
};

}  // namespace tapegrad::detail

namespace tapegrad::optim {

/// Adam, PyTorch 1.13's single-tensor update (t counts this parameter's steps):
/// g += weight_decay * p; m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g * g;
/// with amsgrad v_max = max(v_max, v) replaces v below;
/// p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
///
/// Sparse gradients are refused unless `lazy_sparse(true)`: then only the gradient's rows are
/// updated (and only their moments decay), which is cheap and not exact. SparseAdam is PyTorch's
/// version of the same idea.
/// Example: `Adam<float> opt(model.parameters(), AdamOptions(1e-3));`
template <class T>
class Adam : public detail::AdamFamily<T, AdamOptions, false> {
 public:
  explicit Adam(std::vector<Tensor<T>> params, AdamOptions options = AdamOptions())
      : detail::AdamFamily<T, AdamOptions, false>("Adam", std::move(params), options) {}
};

/// AdamW: Adam with decoupled weight decay. Each step first scales the parameter by
/// 1 - lr * weight_decay, then applies Adam's update without adding the decay to the gradient.
/// Example: `AdamW<float> opt(model.parameters(), AdamWOptions(1e-3).weight_decay(0.01));`
template <class T>
class AdamW : public detail::AdamFamily<T, AdamWOptions, true> {
 public:
  explicit AdamW(std::vector<Tensor<T>> params, AdamWOptions options = AdamWOptions())
      : detail::AdamFamily<T, AdamWOptions, true>("AdamW", std::move(params), options) {}
};

}  // namespace tapegrad::optim
