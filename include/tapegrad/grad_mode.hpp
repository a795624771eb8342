// SPDX-License-Identifier: MIT
// Grad mode (whether ops record themselves on the tape) and anomaly detection. Thread-local, like PyTorch's.
#pragma once

#include <cstdint>

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

namespace detail {
/// Anomaly detection for the calling thread: on or off, and how many ops it has numbered.
struct AnomalyState {
  bool enabled = false;
  std::uint64_t recorded = 0;
};
inline AnomalyState& anomaly_state() noexcept {
  thread_local AnomalyState state;
  return state;
}
}  // namespace detail

namespace autograd {

/// True while a DetectAnomalyGuard lives in the calling thread.
inline bool is_anomaly_enabled() noexcept { return detail::anomaly_state().enabled; }

/// PyTorch's detect_anomaly, for a scope of the calling thread: every op recorded while it lives is
/// numbered (from 1, counting from the outermost guard), and a backward run while it lives checks each gradient an op produces; the first NaN or
/// infinity throws an AutogradError naming the op ("MulBackward0"), its number in the forward and
/// the input and element. It costs a pass over every gradient: use it to find a problem, not always.
/// Example: `{ tapegrad::autograd::DetectAnomalyGuard anomaly; loss = model(x); loss.backward(); }`
class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard() noexcept : previous_(is_anomaly_enabled()) {
    if (!previous_) detail::anomaly_state().recorded = 0;  // number ops from the outermost guard on
    detail::anomaly_state().enabled = true;
  }
  ~DetectAnomalyGuard() { detail::anomaly_state().enabled = previous_; }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace autograd
}  // namespace tapegrad
