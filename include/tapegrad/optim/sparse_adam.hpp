// SPDX-License-Identifier: MIT
// SparseAdam: Adam for sparse gradients that updates only their rows, as torch.optim.SparseAdam in 1.13.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "tapegrad/optim/optimizer.hpp"

namespace tapegrad::optim {

/// SparseAdam's options, with PyTorch's defaults (there is no weight decay).
/// Example: `SparseAdamOptions(1e-3).betas({0.9, 0.999})`
class SparseAdamOptions : public detail::OptionsBase<SparseAdamOptions> {
 public:
  /// PyTorch's defaults (lr 1e-3, unset: a parameter group with these options takes the optimiser's lr).
  SparseAdamOptions() = default;
  // Implicit, as in libtorch, so a bare learning rate works: `SparseAdam<float> opt(params, /*lr=*/0.01)`.
  SparseAdamOptions(double lr) { this->lr(lr); }  // NOLINT
  /// Learning rate (> 0).
  SparseAdamOptions& lr(double v) { return set("lr", lr_, v); }
  /// Decay rates of the running averages of the gradient and of its square, each in [0, 1).
  SparseAdamOptions& betas(std::pair<double, double> v) { return set("betas", betas_, v); }
  /// Added to the denominator for numerical stability (> 0).
  SparseAdamOptions& eps(double v) { return set("eps", eps_, v); }
  // Getters of the same names.
  double lr() const noexcept { return lr_; }
  const std::pair<double, double>& betas() const noexcept { return betas_; }
  double eps() const noexcept { return eps_; }

  const char* momentum_name() const override { return "betas"; }
  double get_momentum() const override { return betas_.first; }
  void set_momentum(double v) override { betas({v, betas_.second}); }
  const char* type_name() const override { return "SparseAdamOptions"; }

 private:
  double lr_ = 1e-3;
  std::pair<double, double> betas_{0.9, 0.999};
  double eps_ = 1e-8;
};

/// SparseAdam's state for one parameter (tensors undefined until its first step).
template <class T>
struct SparseAdamParamState {
  std::int64_t step = 0;           // steps taken with a gradient
  Tensor<T> exp_avg, exp_avg_sq;  // running averages m and v (rows of past gradients only)
};

/// PyTorch 1.13's SparseAdam: for each row of the (coalesced) sparse gradient only,
/// m += (1 - beta1) * (g - m); v += (1 - beta2) * (g * g - v);
/// p -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps), where t counts this
/// parameter's steps. Rows outside the gradient keep their moments: this is not Adam on the
/// dense gradient, by design. Dense gradients are refused (use Adam).
/// Example: `SparseAdam<float> opt({emb.weight}, SparseAdamOptions(1e-3));`
template <class T>
class SparseAdam : public Optimizer<T> {
 public:
  /// One group of parameters with `options`.
  explicit SparseAdam(std::vector<Tensor<T>> params, const SparseAdamOptions& options = SparseAdamOptions())
      : SparseAdam(single_group(std::move(params)), options) {}
  /// Parameter groups (PyTorch's list of dicts); each group's unset options are `defaults`'.
  explicit SparseAdam(std::vector<ParamGroup<T>> groups, const SparseAdamOptions& defaults = SparseAdamOptions())
      : Optimizer<T>("SparseAdam") {
    this->init(std::move(groups), defaults);
  }

  void step() override {
    NoGradGuard no_grad;
    this->check_gradients([](std::size_t i, const Tensor<T>& g) {
      if (!g.is_sparse())
        throw ValueError(detail::cat("SparseAdam::step: parameter ", i,
                                     " has a dense gradient; SparseAdam takes only sparse gradients (such as an "
                                     "Embedding's with sparse=true), use Adam for dense ones"));
    });
    for (std::size_t gi = 0; gi < this->groups_.size(); ++gi) {
      const SparseAdamOptions& o = options(gi);
      const double beta1 = o.betas().first, beta2 = o.betas().second;
      for (std::size_t i = this->group_begin(gi); i < this->group_end(gi); ++i) {
        Tensor<T>& param = this->params_[i];
        const Tensor<T> grad = param.grad();
        if (!grad.defined()) continue;
        SparseAdamParamState<T>& s = state_[i];
        if (s.step == 0) {
          s.exp_avg = detail::zeros_of<T>(param.shape());
          s.exp_avg_sq = detail::zeros_of<T>(param.shape());
        }
        ++s.step;
        const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(s.step));
        const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(s.step));
        const T neg_step_size = T(-(o.lr() * std::sqrt(bias_correction2) / bias_correction1));
        const T keep1 = T(1 - beta1), keep2 = T(1 - beta2), eps = T(o.eps());
        T* p_data = param.data();
        T* m_data = s.exp_avg.data();
        T* v_data = s.exp_avg_sq.data();
        detail::for_each_update(grad, this->rows_, detail::SparseUpdate::touched_rows,
                                [&](std::int64_t off, std::int64_t n, const T* g_data) {
                                  typename Tensor<T>::ArrayMap p(p_data + off, n), m(m_data + off, n), v(v_data + off, n);
                                  const typename Tensor<T>::ConstArrayMap g(g_data, n);
                                  // PyTorch's order: the moments move by (new - old) * (1 - beta).
                                  m = m + (g - m) * keep1;
                                  v = v + (g * g - v) * keep2;
                                  p = p + neg_step_size * (m / (detail::exact_sqrt(v) + eps));
                                });
      }
    }
  }

  /// The options of parameter group `group` (the first by default; with the learning rate as
  /// schedulers and set_lr last left it).
  const SparseAdamOptions& options(std::size_t group = 0) const { return this->template group_options<SparseAdamOptions>(group); }

  /// The state of `param`, one of this optimiser's parameters.
  const SparseAdamParamState<T>& state(const Tensor<T>& param) const { return state_[this->index_of(param, "state")]; }

 protected:
  void check_options(const OptimizerOptions& options) const override {
    const auto& o = static_cast<const SparseAdamOptions&>(options);
    if (!(o.lr() > 0)) detail::throw_bad_option("SparseAdam", "lr", o.lr(), "> 0");
    if (!(o.eps() > 0)) detail::throw_bad_option("SparseAdam", "eps", o.eps(), "> 0");
    detail::check_betas("SparseAdam", o.betas());
  }
  NamedValues options_state(const OptimizerOptions& options) const override {
    const auto& o = static_cast<const SparseAdamOptions&>(options);
    return {{"lr", {o.lr()}}, {"betas", {o.betas().first, o.betas().second}}, {"eps", {o.eps()}}};
  }
  std::unique_ptr<OptimizerOptions> read_options(detail::NamedValuesReader& r) const override {
    auto o = std::make_unique<SparseAdamOptions>(r.scalar("lr"));
    o->betas(r.pair("betas")).eps(r.scalar("eps"));
    r.finish();
    check_options(*o);
    return o;
  }
  void add_param_state(std::size_t, const OptimizerOptions&) override { state_.emplace_back(); }
  typename OptimizerStateDict<T>::ParamState param_state(std::size_t i) const override {
    typename OptimizerStateDict<T>::ParamState s;
    const SparseAdamParamState<T>& a = state_[i];
    if (a.step == 0) return s;
    s.values.push_back({"step", {static_cast<double>(a.step)}});
    s.tensors.emplace_back("exp_avg", a.exp_avg);
    s.tensors.emplace_back("exp_avg_sq", a.exp_avg_sq);
    return s;
  }
  void load_state(const std::vector<const typename OptimizerStateDict<T>::ParamState*>& per_param,
                  const std::vector<const OptimizerOptions*>&) override {
    std::vector<SparseAdamParamState<T>> state(this->params_.size());
    for (std::size_t i = 0; i < state.size(); ++i) {
      auto r = this->state_reader(i, per_param[i]);
      if (r.present()) {
        state[i].step = r.values().count("step");
        state[i].exp_avg = r.tensor("exp_avg", state[i].step > 0);
        state[i].exp_avg_sq = r.tensor("exp_avg_sq", state[i].step > 0);
      }
      r.finish();
    }
    state_.swap(state);
  }

 private:
  std::vector<SparseAdamParamState<T>> state_;
};

}  // namespace tapegrad::optim
