// SPDX-License-Identifier: MIT
// Adam and AdamW (with AMSGrad), as torch.optim.Adam / AdamW in PyTorch 1.13 (foreach=False).
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "tapegrad/optim/optimizer.hpp"

namespace tapegrad::optim {

/// Adam's options, with PyTorch's defaults. Example: `AdamOptions(1e-3).betas({0.9, 0.98}).amsgrad(true)`
class AdamOptions : public detail::OptionsBase<AdamOptions> {
 public:
  /// PyTorch's defaults (lr 1e-3, unset: a parameter group with these options takes the optimiser's lr).
  AdamOptions() = default;
  // Implicit, as in libtorch, so a bare learning rate works: `Adam<float> opt(params, /*lr=*/0.01)`.
  AdamOptions(double lr) { this->lr(lr); }  // NOLINT
  /// Learning rate (>= 0).
  AdamOptions& lr(double v) { return set("lr", lr_, v); }
  /// Decay rates of the running averages of the gradient and of its square, each in [0, 1).
  AdamOptions& betas(std::pair<double, double> v) { return set("betas", betas_, v); }
  /// Added to the denominator for numerical stability (>= 0).
  AdamOptions& eps(double v) { return set("eps", eps_, v); }
  /// L2 penalty added to the gradient (AdamW decouples it instead).
  AdamOptions& weight_decay(double v) { return set("weight_decay", weight_decay_, v); }
  /// AMSGrad: divide by the largest second moment seen so far.
  AdamOptions& amsgrad(bool v) { return set("amsgrad", amsgrad_, v); }
  /// Accept sparse gradients and update only their rows (not exact: rows outside the gradient skip
  /// the moment decay they would get from a zero gradient). Not in PyTorch; see SparseAdam.
  AdamOptions& lazy_sparse(bool v) { return set("lazy_sparse", lazy_sparse_, v); }
  // Getters of the same names.
  double lr() const noexcept { return lr_; }
  const std::pair<double, double>& betas() const noexcept { return betas_; }
  double eps() const noexcept { return eps_; }
  double weight_decay() const noexcept { return weight_decay_; }
  bool amsgrad() const noexcept { return amsgrad_; }
  bool lazy_sparse() const noexcept { return lazy_sparse_; }

  const char* momentum_name() const override { return "betas"; }
  double get_momentum() const override { return betas_.first; }
  void set_momentum(double v) override { betas({v, betas_.second}); }
  const char* type_name() const override { return "AdamOptions"; }

 private:
  double lr_ = 1e-3;
  std::pair<double, double> betas_{0.9, 0.999};
  double eps_ = 1e-8, weight_decay_ = 0;
  bool amsgrad_ = false, lazy_sparse_ = false;
};

/// AdamW's options: Adam's, except that weight_decay defaults to 0.01 and is decoupled.
/// Example: `AdamWOptions(1e-3).weight_decay(0.05)`
class AdamWOptions : public detail::OptionsBase<AdamWOptions> {
 public:
  /// PyTorch's defaults (lr 1e-3, unset: a parameter group with these options takes the optimiser's lr).
  AdamWOptions() = default;
  // Implicit, as in libtorch, so a bare learning rate works: `Adam<float> opt(params, /*lr=*/0.01)`.
  AdamWOptions(double lr) { this->lr(lr); }  // NOLINT
  /// Learning rate (>= 0).
  AdamWOptions& lr(double v) { return set("lr", lr_, v); }
  /// Decay rates of the running averages of the gradient and of its square, each in [0, 1).
  AdamWOptions& betas(std::pair<double, double> v) { return set("betas", betas_, v); }
  /// Added to the denominator for numerical stability (>= 0).
  AdamWOptions& eps(double v) { return set("eps", eps_, v); }
  /// Decoupled decay: each step first scales the parameter by 1 - lr * weight_decay.
  AdamWOptions& weight_decay(double v) { return set("weight_decay", weight_decay_, v); }
  /// AMSGrad: divide by the largest second moment seen so far.
  AdamWOptions& amsgrad(bool v) { return set("amsgrad", amsgrad_, v); }
  /// As AdamOptions::lazy_sparse; the decoupled decay then also applies to the gradient's rows only.
  AdamWOptions& lazy_sparse(bool v) { return set("lazy_sparse", lazy_sparse_, v); }
  // Getters of the same names.
  double lr() const noexcept { return lr_; }
  const std::pair<double, double>& betas() const noexcept { return betas_; }
  double eps() const noexcept { return eps_; }
  double weight_decay() const noexcept { return weight_decay_; }
  bool amsgrad() const noexcept { return amsgrad_; }
  bool lazy_sparse() const noexcept { return lazy_sparse_; }

  const char* momentum_name() const override { return "betas"; }
  double get_momentum() const override { return betas_.first; }
  void set_momentum(double v) override { betas({v, betas_.second}); }
  const char* type_name() const override { return "AdamWOptions"; }

 private:
  double lr_ = 1e-3;
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
  /// The options of parameter group `group` (the first by default; with the learning rate as
  /// schedulers and set_lr last left it).
  const Options& options(std::size_t group = 0) const { return this->template group_options<Options>(group); }

  /// The state of `param`, one of this optimiser's parameters.
  const optim::AdamParamState<T>& state(const Tensor<T>& param) const { return state_[this->index_of(param, "state")]; }

  void step() override {
    NoGradGuard no_grad;
    this->check_gradients([this](std::size_t i, const Tensor<T>& g) {
      if (g.is_sparse() && !options(group_of(i)).lazy_sparse())
        throw ValueError(cat(this->name(), "::step: parameter ", i, " has a sparse gradient, which ", this->name(),
                             " does not support; use SparseAdam, or ", this->name(),
                             "Options().lazy_sparse(true) to update only the gradient's rows (not exact: the other rows "
                             "skip the moment decay)"));
    });
    for (std::size_t gi = 0; gi < this->groups_.size(); ++gi) {
      const Options& o = options(gi);
      const double beta1 = o.betas().first, beta2 = o.betas().second;
      for (std::size_t i = this->group_begin(gi); i < this->group_end(gi); ++i) {
        Tensor<T>& param = this->params_[i];
        const Tensor<T> grad = param.grad();
        if (!grad.defined()) continue;
        optim::AdamParamState<T>& s = state_[i];
        if (s.step == 0) {
          s.exp_avg = zeros_of<T>(param.shape());
          s.exp_avg_sq = zeros_of<T>(param.shape());
          if (o.amsgrad()) s.max_exp_avg_sq = zeros_of<T>(param.shape());
        }
        ++s.step;
        // Scalars computed in double and rounded once, as PyTorch passes Python floats to its kernels.
        const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(s.step));
        const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(s.step));
        const Coefficients c{T(beta1),
                             T(1 - beta1),
                             T(beta2),
                             T(1 - beta2),
                             T(o.weight_decay()),
                             T(1 - o.lr() * o.weight_decay()),
                             T(-(o.lr() / bias_correction1)),
                             T(std::sqrt(bias_correction2)),
                             T(o.eps()),
                             o.weight_decay() != 0};
        T* p = param.data();
        T* m = s.exp_avg.data();
        T* v = s.exp_avg_sq.data();
        T* vmax = o.amsgrad() ? s.max_exp_avg_sq.data() : nullptr;
        for_each_update(grad, this->rows_, SparseUpdate::touched_rows, [&](std::int64_t off, std::int64_t n, const T* g) {
          update(p + off, m + off, v + off, vmax ? vmax + off : nullptr, g, n, c);
        });
      }
    }
  }

 protected:
  AdamFamily(const char* name, std::vector<optim::ParamGroup<T>> groups, const Options& defaults) : optim::Optimizer<T>(name) {
    this->init(std::move(groups), defaults);
  }

  void check_options(const optim::OptimizerOptions& options) const override {
    const auto& o = static_cast<const Options&>(options);
    check_non_negative(this->name(), "lr", o.lr());
    check_non_negative(this->name(), "eps", o.eps());
    check_betas(this->name(), o.betas());
    check_non_negative(this->name(), "weight_decay", o.weight_decay());
  }
  optim::NamedValues options_state(const optim::OptimizerOptions& options) const override {
    const auto& o = static_cast<const Options&>(options);
    return {{"lr", {o.lr()}},
            {"betas", {o.betas().first, o.betas().second}},
            {"eps", {o.eps()}},
            {"weight_decay", {o.weight_decay()}},
            {"amsgrad", {o.amsgrad() ? 1.0 : 0.0}},
            {"lazy_sparse", {o.lazy_sparse() ? 1.0 : 0.0}}};
  }
  std::unique_ptr<optim::OptimizerOptions> read_options(NamedValuesReader& r) const override {
    auto o = std::make_unique<Options>(r.scalar("lr"));
    o->betas(r.pair("betas")).eps(r.scalar("eps")).weight_decay(r.scalar("weight_decay"));
    o->amsgrad(r.flag("amsgrad")).lazy_sparse(r.flag("lazy_sparse"));
    r.finish();
    check_options(*o);
    return o;
  }
  void add_param_state(std::size_t, const optim::OptimizerOptions&) override { state_.emplace_back(); }
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
  void load_state(const std::vector<const typename optim::OptimizerStateDict<T>::ParamState*>& per_param,
                  const std::vector<const optim::OptimizerOptions*>& options) override {
    std::vector<optim::AdamParamState<T>> state(this->params_.size());
    for (std::size_t i = 0; i < state.size(); ++i) {
      auto r = this->state_reader(i, per_param[i]);
      if (r.present()) {
        state[i].step = r.values().count("step");
        const bool started = state[i].step > 0;
        state[i].exp_avg = r.tensor("exp_avg", started);
        state[i].exp_avg_sq = r.tensor("exp_avg_sq", started);
        state[i].max_exp_avg_sq = r.tensor("max_exp_avg_sq", started && static_cast<const Options*>(options[i])->amsgrad());
      }
      r.finish();
    }
    state_.swap(state);
  }

 private:
  std::size_t group_of(std::size_t i) const {
    std::size_t g = 0;
    while (i >= this->group_end(g)) ++g;
    return g;
  }

  struct Coefficients {
    T beta1, one_minus_beta1, beta2, one_minus_beta2, weight_decay, decoupled_decay, neg_step_size, bias_correction2_sqrt,
        eps;
    bool decay;
  };

  // One piece of the update; each line is one of PyTorch's tensor ops, rounded the same way.
  static void update(T* p_data, T* m_data, T* v_data, T* vmax_data, const T* g_data, std::int64_t n,
                     const Coefficients& c) {
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
    if constexpr (kDecoupled) {
      if (c.decay) p = p * c.decoupled_decay;
      apply(g);
    } else if (c.decay) {
      apply(g + c.weight_decay * p);
    } else {
      apply(g);
    }
  }

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
  /// One group of parameters with `options`.
  explicit Adam(std::vector<Tensor<T>> params, const AdamOptions& options = AdamOptions())
      : Adam(single_group(std::move(params)), options) {}
  /// Parameter groups (PyTorch's list of dicts); each group's unset options are `defaults`'.
  explicit Adam(std::vector<ParamGroup<T>> groups, const AdamOptions& defaults = AdamOptions())
      : detail::AdamFamily<T, AdamOptions, false>("Adam", std::move(groups), defaults) {}
};

/// AdamW: Adam with decoupled weight decay. Each step first scales the parameter by
/// 1 - lr * weight_decay, then applies Adam's update without adding the decay to the gradient.
/// Example: `AdamW<float> opt(model.parameters(), AdamWOptions(1e-3).weight_decay(0.01));`
template <class T>
class AdamW : public detail::AdamFamily<T, AdamWOptions, true> {
 public:
  /// One group of parameters with `options`.
  explicit AdamW(std::vector<Tensor<T>> params, const AdamWOptions& options = AdamWOptions())
      : AdamW(single_group(std::move(params)), options) {}
  /// Parameter groups (PyTorch's list of dicts); each group's unset options are `defaults`'.
  /// Example, no weight decay on biases and embeddings:
  /// `AdamW<float> opt({ParamGroup<float>(decay), ParamGroup<float>(no_decay, AdamWOptions().weight_decay(0))}, AdamWOptions(1e-3));`
  explicit AdamW(std::vector<ParamGroup<T>> groups, const AdamWOptions& defaults = AdamWOptions())
      : detail::AdamFamily<T, AdamWOptions, true>("AdamW", std::move(groups), defaults) {}
};

}  // namespace tapegrad::optim
