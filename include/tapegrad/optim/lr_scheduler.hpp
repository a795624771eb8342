// SPDX-License-Identifier: MIT
// LRScheduler, the base of schedulers, and StepLR, which multiplies an optimiser's learning rate by gamma every step_size steps, as PyTorch's StepLR.
#pragma once

#include <cstdint>
#include <string>

#include "tapegrad/error.hpp"
#include "tapegrad/optim/optimizer.hpp"

namespace tapegrad::optim {

/// What every learning-rate scheduler shares: step(), the last rate, and its state under PyTorch's
/// names, so a checkpoint can save and restore any scheduler.
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  /// The scheduler's name ("StepLR"), as it starts error messages and is recorded in checkpoints.
  virtual const char* name() const noexcept = 0;
  /// Advances one epoch (or iteration) and sets the optimiser's learning rate.
  virtual void step() = 0;
  /// The learning rate after the last step() (PyTorch's get_last_lr(), for the one group).
  virtual double get_last_lr() const noexcept = 0;
  /// The scheduler's state under PyTorch's names ("last_epoch", "base_lrs", ...).
  virtual NamedValues state_dict() const = 0;
  /// Restores state_dict() of a scheduler of the same kind; checked first, nothing changes on error.
  /// The optimiser's learning rate is not touched: it is restored with the optimiser's own state.
  virtual void load_state_dict(const NamedValues& state) = 0;

 protected:
  LRScheduler() = default;
  LRScheduler(const LRScheduler&) = default;
  LRScheduler& operator=(const LRScheduler&) = default;
};

/// Decays the learning rate by `gamma` every `step_size` calls to step(), in PyTorch's chained form
/// (what plain `scheduler.step()` does in 1.13): on every step_size-th step, lr = current lr * gamma.
/// Because it multiplies the optimiser's current rate, a rate changed by hand keeps decaying from
/// the new value. Call step() after the optimiser's step, once per epoch (or per iteration).
/// The scheduler holds a reference: the optimiser must outlive it.
/// Example: `StepLR scheduler(opt, 30, 0.1);`
template <class T>
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer<T>& optimizer, std::int64_t step_size, double gamma = 0.1)
      : optimizer_(&optimizer), step_size_(step_size), gamma_(gamma), base_lr_(optimizer.lr()), last_lr_(base_lr_) {
    if (step_size < 1) throw ValueError(detail::cat("StepLR: step_size must be >= 1, got ", step_size));
    if (!(gamma >= 0)) throw ValueError(detail::cat("StepLR: gamma must be >= 0, got ", gamma));
  }

  const char* name() const noexcept override { return "StepLR"; }

  /// Counts one epoch; every step_size-th one multiplies the optimiser's learning rate by gamma.
  void step() override {
    ++last_epoch_;
    if (last_epoch_ % step_size_ == 0) optimizer_->set_lr(optimizer_->lr() * gamma_);
    last_lr_ = optimizer_->lr();
  }

  /// The learning rate after the last step() (PyTorch's get_last_lr(), for the one group).
  double get_last_lr() const noexcept override { return last_lr_; }
  /// How many times step() was called (PyTorch's last_epoch, 0 after construction).
  std::int64_t last_epoch() const noexcept { return last_epoch_; }
  /// The learning rate when the scheduler was created (PyTorch's base_lrs[0]).
  double base_lr() const noexcept { return base_lr_; }
  std::int64_t step_size() const noexcept { return step_size_; }
  double gamma() const noexcept { return gamma_; }

  NamedValues state_dict() const override {
    return {{"step_size", {static_cast<double>(step_size_)}}, {"gamma", {gamma_}}, {"base_lrs", {base_lr_}},
            {"last_epoch", {static_cast<double>(last_epoch_)}}, {"_last_lr", {last_lr_}}};
  }
  void load_state_dict(const NamedValues& state) override {
    detail::NamedValuesReader r("StepLR::load_state_dict", state);
    StepLR loaded(*optimizer_, r.count("step_size"), r.scalar("gamma"));
    loaded.base_lr_ = r.scalar("base_lrs");
    loaded.last_epoch_ = r.count("last_epoch");
    loaded.last_lr_ = r.scalar("_last_lr");
    r.finish();
    *this = loaded;
  }

 private:
  Optimizer<T>* optimizer_;
  std::int64_t step_size_;
  double gamma_;
  double base_lr_;
  double last_lr_;
  std::int64_t last_epoch_ = 0;
};

}  // namespace tapegrad::optim
