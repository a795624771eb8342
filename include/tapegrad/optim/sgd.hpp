// SPDX-License-Identifier: MIT
// SGD with momentum, dampening, Nesterov momentum and weight decay, as torch.optim.SGD in PyTorch 1.13.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "tapegrad/optim/optimizer.hpp"

namespace tapegrad::optim {

/// SGD's options: the learning rate has no default (as PyTorch's `required`), the others default to
/// PyTorch's (all 0, no Nesterov). Example: `SGDOptions(0.1).momentum(0.9).weight_decay(1e-4)`.
/// `SGDOptions()` leaves lr unset, for a parameter group that takes the optimiser's.
class SGDOptions : public detail::OptionsBase<SGDOptions> {
 public:
  /// No learning rate: only for parameter groups, or an optimiser whose every group gives one.
  SGDOptions() = default;
  // Implicit, as in libtorch, so a bare learning rate works: `SGD<float> opt(params, /*lr=*/0.1)`.
  SGDOptions(double lr) { this->lr(lr); }  // NOLINT
  /// Learning rate (>= 0).
  SGDOptions& lr(double v) { return set("lr", lr_, v); }
  /// Momentum factor (>= 0); 0 means no momentum buffer.
  SGDOptions& momentum(double v) { return set("momentum", momentum_, v); }
  /// How much of the gradient the buffer does not take in, from the second step on.
  SGDOptions& dampening(double v) { return set("dampening", dampening_, v); }
  /// L2 penalty (>= 0), added to the gradient as weight_decay * p.
  SGDOptions& weight_decay(double v) { return set("weight_decay", weight_decay_, v); }
  /// Nesterov momentum; needs momentum > 0 and dampening = 0.
  SGDOptions& nesterov(bool v) { return set("nesterov", nesterov_, v); }
  // Getters of the same names.
  double lr() const noexcept { return lr_; }
  double momentum() const noexcept { return momentum_; }
  double dampening() const noexcept { return dampening_; }
  double weight_decay() const noexcept { return weight_decay_; }
  bool nesterov() const noexcept { return nesterov_; }

  const char* momentum_name() const override { return "momentum"; }
  double get_momentum() const override { return momentum_; }
  void set_momentum(double v) override { momentum(v); }
  const char* type_name() const override { return "SGDOptions"; }

 private:
  double lr_ = std::numeric_limits<double>::quiet_NaN();  // unset
  double momentum_ = 0, dampening_ = 0, weight_decay_ = 0;
  bool nesterov_ = false;
};

/// SGD's state for one parameter: the momentum buffer (undefined until a step with momentum).
template <class T>
struct SGDParamState {
  Tensor<T> momentum_buffer;  // velocity b, the shape of the parameter
};

/// Stochastic gradient descent, PyTorch 1.13's update (per parameter, with d = grad and its group's
/// options): d += weight_decay * p; b = d on the first step, else b = momentum * b + (1 - dampening) * d;
/// d = nesterov ? d + momentum * b : b; p -= lr * d.
///
/// Sparse gradients are exact (the same numbers as their to_dense()). Without momentum and weight
/// decay a step only touches the gradient's rows, O(nnz * D); with either of them every row moves
/// (the buffer decays, the decay pulls every row), so the step visits every row, O(rows * D), but
/// still never builds a dense gradient. PyTorch refuses weight decay with sparse gradients.
/// Example: `SGD<float> opt(model.parameters(), SGDOptions(0.1).momentum(0.9));`
/// With groups: `SGD<float> opt({ParamGroup<float>(body), ParamGroup<float>(head, SGDOptions(0.5))}, SGDOptions(0.1));`
template <class T>
class SGD : public Optimizer<T> {
 public:
  /// One group of parameters with `options`.
  SGD(std::vector<Tensor<T>> params, SGDOptions options) : SGD(single_group(std::move(params)), options) {}
  /// Parameter groups (PyTorch's list of dicts); each group's unset options are `defaults`'.
  SGD(std::vector<ParamGroup<T>> groups, SGDOptions defaults) : Optimizer<T>("SGD") {
    this->init(std::move(groups), defaults);
  }

  void step() override {
    NoGradGuard no_grad;
    this->check_gradients([](std::size_t, const Tensor<T>&) {});
    for (std::size_t gi = 0; gi < this->groups_.size(); ++gi) {
      const SGDOptions& o = this->template group_options<SGDOptions>(gi);
      const bool momentum = o.momentum() != 0, decay = o.weight_decay() != 0;
      const auto mode = momentum || decay ? detail::SparseUpdate::all_rows : detail::SparseUpdate::touched_rows;
      for (std::size_t i = this->group_begin(gi); i < this->group_end(gi); ++i) {
        Tensor<T>& param = this->params_[i];
        const Tensor<T> grad = param.grad();
        if (!grad.defined()) continue;
        Tensor<T>& buffer = state_[i].momentum_buffer;
        const bool first = momentum && !buffer.defined();
        if (first) buffer = detail::zeros_of<T>(param.shape());
        T* p = param.data();
        T* b = momentum ? buffer.data() : nullptr;
        if (mode == detail::SparseUpdate::touched_rows && update_dirty_rows(o, p, grad)) continue;
        detail::for_each_update(
            grad, this->rows_, mode,
            [&](std::int64_t off, std::int64_t n, const T* g) { update(o, p + off, b ? b + off : nullptr, g, n, first); },
            p, /*parallel=*/true);
      }
    }
  }

  /// The options of parameter group `group` (the first by default; with the learning rate as
  /// schedulers and set_lr last left it).
  const SGDOptions& options(std::size_t group = 0) const { return this->template group_options<SGDOptions>(group); }

  /// The state of `param`, one of this optimiser's parameters.
  const SGDParamState<T>& state(const Tensor<T>& param) const { return state_[this->index_of(param, "state")]; }

 protected:
  void check_options(const OptimizerOptions& options) const override {
    const auto& o = static_cast<const SGDOptions&>(options);
    if (o.is_set("lr") || !std::isnan(o.lr())) detail::check_non_negative("SGD", "lr", o.lr());  // unset: groups give it
    detail::check_non_negative("SGD", "momentum", o.momentum());
    detail::check_non_negative("SGD", "weight_decay", o.weight_decay());
    if (o.nesterov() && (o.momentum() <= 0 || o.dampening() != 0))
      throw ValueError(detail::cat("SGD: nesterov momentum requires momentum > 0 and dampening = 0, got momentum ",
                                   o.momentum(), " and dampening ", o.dampening()));
  }
  NamedValues options_state(const OptimizerOptions& options) const override {
    const auto& o = static_cast<const SGDOptions&>(options);
    return {{"lr", {o.lr()}}, {"momentum", {o.momentum()}}, {"dampening", {o.dampening()}},
            {"weight_decay", {o.weight_decay()}}, {"nesterov", {o.nesterov() ? 1.0 : 0.0}}};
  }
  std::unique_ptr<OptimizerOptions> read_options(detail::NamedValuesReader& r) const override {
    auto o = std::make_unique<SGDOptions>(r.scalar("lr"));
    o->momentum(r.scalar("momentum")).dampening(r.scalar("dampening")).weight_decay(r.scalar("weight_decay"));
    o->nesterov(r.flag("nesterov"));
    r.finish();
    check_options(*o);
    return o;
  }
  void add_param_state(std::size_t, const OptimizerOptions&) override { state_.emplace_back(); }
  typename OptimizerStateDict<T>::ParamState param_state(std::size_t i) const override {
    typename OptimizerStateDict<T>::ParamState s;
    if (state_[i].momentum_buffer.defined()) s.tensors.emplace_back("momentum_buffer", state_[i].momentum_buffer);
    return s;
  }
  void load_state(const std::vector<const typename OptimizerStateDict<T>::ParamState*>& per_param,
                  const std::vector<const OptimizerOptions*>&) override {
    std::vector<SGDParamState<T>> state(this->params_.size());
    for (std::size_t i = 0; i < state.size(); ++i) {
      auto r = this->state_reader(i, per_param[i]);
      state[i].momentum_buffer = r.tensor("momentum_buffer", false);
      r.finish();
    }
    state_.swap(state);
  }

 private:
  // One piece of the update. Each line is one of PyTorch's tensor ops, rounded the same way.
  static void update(const SGDOptions& o, T* p_data, T* b_data, const T* g_data, std::int64_t n, bool first) {
    using Map = typename Tensor<T>::ArrayMap;
    using ConstMap = typename Tensor<T>::ConstArrayMap;
    Map p(p_data, n);
    const ConstMap g(g_data, n);
    const T neg_lr = T(-o.lr()), decay = T(o.weight_decay()), mom = T(o.momentum());
    const T keep = T(1 - o.dampening());
    if (!b_data && o.weight_decay() == 0) {
      // p + (-lr) * (+0) is p, bit for bit, so blocks of a gradient that are exactly +0 are
      // skipped: a dense embedding gradient is mostly zeros, and then only reading it is left.
      const std::int64_t blocks = (n + kZeroBlock - 1) / kZeroBlock;
      for (std::int64_t b = detail::next_nonzero_block<kZeroBlock>(g_data, n, 0); b < blocks;
           b = detail::next_nonzero_block<kZeroBlock>(g_data, n, b + 1)) {
        const std::int64_t off = b * kZeroBlock, m = std::min(kZeroBlock, n - off);
        Map(p_data + off, m) = Map(p_data + off, m) + neg_lr * ConstMap(g_data + off, m);
      }
      return;
    }
    auto apply = [&](const auto& d) {
      if (!b_data) {
        p = p + neg_lr * d;
        return;
      }
      Map b(b_data, n);
      if (first)
        b = d;
      else
        b = b * mom + keep * d;
      if (o.nesterov())
        p = p + neg_lr * (d + mom * b);
      else
        p = p + neg_lr * b;
    };
    if (o.weight_decay() != 0)
      apply(g + decay * p);
    else
      apply(g);
  }

  // A dense gradient whose written rows are known (an embedding's, see detail::DirtyRows): the
  // other rows are +0 and would leave their parameters unchanged, bit for bit (see update()), so
  // only the written rows are updated, with update()'s arithmetic. False when they are not known.
  static bool update_dirty_rows(const SGDOptions& o, T* p, const Tensor<T>& grad) {
    if (grad.is_sparse()) return false;
    const detail::DirtyRows* rows = grad.impl()->storage.dirty_rows();
    if (!rows || rows->overflowed) return false;
    using Map = typename Tensor<T>::ArrayMap;
    using ConstMap = typename Tensor<T>::ConstArrayMap;
    const T* g = grad.data();
    const T neg_lr = T(-o.lr());
    const std::int64_t w = rows->width;
    for (const std::int64_t r : rows->rows) Map(p + r * w, w) = Map(p + r * w, w) + neg_lr * ConstMap(g + r * w, w);
    return true;
  }

  static constexpr std::int64_t kZeroBlock = 64;  // elements per zero check: 4 cache lines of float

  std::vector<SGDParamState<T>> state_;
};

}  // namespace tapegrad::optim
