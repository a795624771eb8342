// SPDX-License-Identifier: MIT
// Dropout: zeroes elements with probability p while training and scales the rest by 1 / (1 - p).
#pragma once

#include <string>

#include "tapegrad/factories.hpp"
#include "tapegrad/nn/module.hpp"
#include "tapegrad/ops/pointwise.hpp"

namespace tapegrad::nn {
namespace functional {

/// Inverted dropout, like torch.nn.functional.dropout(input, p, training): while training each
/// element is zeroed with probability p and the others are multiplied by 1 / (1 - p); otherwise
/// (and for p == 0 or an empty input) the input itself is returned. The mask is
/// bernoulli(input, 1 - p) from `gen`, as PyTorch 1.13's CPU kernel draws it (`empty_like(input)
/// .bernoulli_(1 - p)`), so after manual_seed the masks equal PyTorch's on builds that use its
/// default Bernoulli kernel (not the MKL one some Intel builds pick). p == 1 gives zeros without
/// drawing. Throws ValueError unless 0 <= p <= 1.
template <class T>
Tensor<T> dropout(const Tensor<T>& input, double p, bool training, Generator& gen) {
  static_assert(std::is_floating_point_v<T>, "dropout: needs a floating-point tensor");
  if (!(p >= 0 && p <= 1))
    throw ValueError(detail::cat("dropout: probability has to be between 0 and 1, but got p = ", p));
  if (p == 0 || !training || input.numel() == 0) return input;
  if (p == 1) return input * scalar_tensor<T>(0);  // x * 0, so NaN and inf stay NaN as in PyTorch
  // noise = mask / (1 - p) in T, then input * noise: the same two roundings as PyTorch's kernel.
  const T keep = static_cast<T>(1 - p);
  const Tensor<T> noise = detail::map(bernoulli(input, 1 - p, gen), [keep](T m) { return m / keep; });
  return input * noise;
}

/// dropout with the default generator (what manual_seed seeds).
template <class T>
Tensor<T> dropout(const Tensor<T>& input, double p = 0.5, bool training = true) {
  return dropout(input, p, training, default_generator());
}

}  // namespace functional

/// Options of Dropout: `DropoutOptions(0.2)`; p is the probability of zeroing an element (default 0.5).
class DropoutOptions {
 public:
  DropoutOptions(double p = 0.5) : p_(p) {}  // NOLINT: implicit, so Dropout(0.2) reads as in PyTorch
  double p() const noexcept { return p_; }
  DropoutOptions& p(double v) noexcept { return p_ = v, *this; }

 private:
  double p_;
};

/// Zeroes each element with probability p while training and scales the others by 1 / (1 - p)
/// (inverted dropout, like torch.nn.Dropout); the identity after eval(). Prints as
/// `Dropout(p=0.5, inplace=False)` (tapegrad has no in-place variant).
/// Example: `Dropout<float> drop(0.2); auto y = drop(x); drop.eval();`
template <class T = float>
class Dropout : public Module<T> {
 public:
  explicit Dropout(DropoutOptions opts = {}) : options(opts) {
    if (!(options.p() >= 0 && options.p() <= 1))
      throw ValueError(detail::cat("Dropout: probability has to be between 0 and 1, but got p = ", options.p()));
  }
  explicit Dropout(double p) : Dropout(DropoutOptions(p)) {}

  /// F::dropout(input, p, is_training()) with the default generator.
  Tensor<T> forward(const Tensor<T>& input) const { return functional::dropout(input, options.p(), this->is_training()); }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }
  std::string name() const override { return "Dropout"; }
  std::string extra_repr() const override { return "p=" + detail::python_float(options.p()) + ", inplace=False"; }

  DropoutOptions options;
};

}  // namespace tapegrad::nn
