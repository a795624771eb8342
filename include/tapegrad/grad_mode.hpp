// SPDX-License-Identifier: MIT
// Grad mode: whether ops record themselves on the tape. Thread-local, like PyTorch's.
#pragma once

namespace tapegrad {

namespace detail {
inline bool& grad_mode_flag() noexcept {
  thread_local bool enabled = true;
  return enabled;
}
}  // namespace detail

/// True when ops on tensors that require grad are recorded (the default, per thread).
inline bool is_grad_enabled() noexcept { return detail::grad_mode_flag(); }

/// Turns recording on or off for the calling thread. Prefer the guards below.
inline void set_grad_enabled(bool enabled) noexcept { detail::grad_mode_flag() = enabled; }

/// Sets grad mode for a scope and restores the previous mode on exit.
class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled) noexcept : previous_(is_grad_enabled()) { set_grad_enabled(enabled); }
  ~GradModeGuard() { set_grad_enabled(previous_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};

/// Nothing is recorded while it lives: for inference, evaluation and parameter updates.
/// Example: `{ tapegrad::NoGradGuard no_grad; auto y = model(x); }`
class NoGradGuard : public GradModeGuard {
 public:
  NoGradGuard() noexcept : GradModeGuard(false) {}
};

}  // namespace tapegrad
