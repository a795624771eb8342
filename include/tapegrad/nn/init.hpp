// SPDX-License-Identifier: MIT
// nn::init: in-place initialisers with PyTorch's formulas and draw order (same seed, same values).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "tapegrad/autograd.hpp"
#include "tapegrad/random.hpp"

namespace tapegrad::detail {

// The elements of a tensor an initialiser is about to overwrite.
template <class T>
T* init_data(const char* op, Tensor<T>& t) {
  if (!t.defined())
    throw ValueError(cat("init::", op, ": the tensor is undefined (an absent parameter, such as the bias of a Linear "
                         "built with bias=false?)"));
  if (t.is_sparse()) throw ValueError(cat("init::", op, ": cannot initialise a sparse tensor"));
  return t.data();
}

template <class T>
void init_check_defined(const char* op, const Tensor<T>& t) {
  if (!t.defined())
    throw ValueError(cat("init::", op, ": the tensor is undefined (an absent parameter, such as the bias of a Linear "
                         "built with bias=false?)"));
}

}  // namespace tapegrad::detail

namespace tapegrad::nn::init {

/// The nonlinearity a gain is computed for (PyTorch's names: 'linear', 'conv1d', ..., 'selu').
enum class Nonlinearity {
  Linear,
  Conv1d,
  Conv2d,
  Conv3d,
  ConvTranspose1d,
  ConvTranspose2d,
  ConvTranspose3d,
  Sigmoid,
  Tanh,
  Relu,
  LeakyRelu,
  Selu
};

/// Which fan kaiming_* scales by: fan_in keeps the forward pass's variance, fan_out the backward's.
enum class FanMode { FanIn, FanOut };

/// The recommended gain for a nonlinearity, as torch.nn.init.calculate_gain: 1 for linear, conv
/// and sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu (`param`
/// is the negative slope, 0.01 by default) and 3/4 for selu.
inline double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param = std::nullopt) {
  switch (nonlinearity) {
    case Nonlinearity::Tanh:
      return 5.0 / 3;
    case Nonlinearity::Relu:
      return std::sqrt(2.0);
    case Nonlinearity::LeakyRelu: {
      const double slope = param.value_or(0.01);
      return std::sqrt(2.0 / (1 + slope * slope));
    }
    case Nonlinearity::Selu:
      return 3.0 / 4;
    default:
      return 1.0;
  }
}

/// fan_in and fan_out of a weight: sizes 1 and 0 times the receptive field (the product of the
/// sizes after the first two). Needs at least 2 dimensions.
struct Fans {
  std::int64_t fan_in;
  std::int64_t fan_out;
};

template <class T>
Fans calculate_fan_in_and_fan_out(const Tensor<T>& t, const char* op = "init::calculate_fan_in_and_fan_out") {
  if (t.dim() < 2)
    throw ShapeError(detail::cat(op, ": fan in and fan out need a tensor with at least 2 dimensions, got shape ",
                                 detail::shape_str(t.shape())));
  std::int64_t receptive_field = 1;
  for (std::int64_t d = 2; d < t.dim(); ++d) receptive_field *= t.size(d);
  return {t.size(1) * receptive_field, t.size(0) * receptive_field};
}

/// Fills `t` with draws from U(a, b), in element order, as torch.nn.init.uniform_.
template <class T>
Tensor<T>& uniform_(Tensor<T>& t, double a = 0, double b = 1, Generator& gen = default_generator()) {
  static_assert(std::is_floating_point_v<T>, "init::uniform_: T must be float or double");
  NoGradGuard no_grad;
  T* p = detail::init_data("uniform_", t);
  detail::fill_uniform(p, t.numel(), a, b, gen);
  return t;
}

/// Fills `t` with draws from N(mean, std^2), as torch.nn.init.normal_ (same draws as torch.randn).
template <class T>
Tensor<T>& normal_(Tensor<T>& t, double mean = 0, double stddev = 1, Generator& gen = default_generator()) {
  static_assert(std::is_floating_point_v<T>, "init::normal_: T must be float or double");
  NoGradGuard no_grad;
  T* p = detail::init_data("normal_", t);
  detail::fill_normal(p, t.numel(), mean, stddev, gen);
  return t;
}

/// Fills `t` with `value`.
template <class T>
Tensor<T>& constant_(Tensor<T>& t, double value) {
  NoGradGuard no_grad;
  T* p = detail::init_data("constant_", t);
  std::fill_n(p, t.numel(), static_cast<T>(value));
  return t;
}

template <class T>
Tensor<T>& zeros_(Tensor<T>& t) {
  NoGradGuard no_grad;
  T* p = detail::init_data("zeros_", t);
  std::fill_n(p, t.numel(), T(0));
  return t;
}

template <class T>
Tensor<T>& ones_(Tensor<T>& t) {
  NoGradGuard no_grad;
  T* p = detail::init_data("ones_", t);
  std::fill_n(p, t.numel(), T(1));
  return t;
}

/// U(-bound, bound) with bound = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010).
template <class T>
Tensor<T>& xavier_uniform_(Tensor<T>& t, double gain = 1, Generator& gen = default_generator()) {
  detail::init_check_defined("xavier_uniform_", t);
  const Fans fans = calculate_fan_in_and_fan_out(t, "init::xavier_uniform_");
  if (t.numel() == 0) return t;
  const double stddev = gain * std::sqrt(2.0 / static_cast<double>(fans.fan_in + fans.fan_out));
  const double a = std::sqrt(3.0) * stddev;  // PyTorch's order of operations, so the bound's bits match
  return uniform_(t, -a, a, gen);
}

/// N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).
template <class T>
Tensor<T>& xavier_normal_(Tensor<T>& t, double gain = 1, Generator& gen = default_generator()) {
  detail::init_check_defined("xavier_normal_", t);
  const Fans fans = calculate_fan_in_and_fan_out(t, "init::xavier_normal_");
  if (t.numel() == 0) return t;
  const double stddev = gain * std::sqrt(2.0 / static_cast<double>(fans.fan_in + fans.fan_out));
  return normal_(t, 0.0, stddev, gen);
}

/// The standard deviation kaiming_* use: gain(nonlinearity, a) / sqrt(fan).
template <class T>
double kaiming_std(const char* op, const Tensor<T>& t, double a, FanMode mode, Nonlinearity nonlinearity) {
  const Fans fans = calculate_fan_in_and_fan_out(t, op);
  const double fan = static_cast<double>(mode == FanMode::FanIn ? fans.fan_in : fans.fan_out);
  return calculate_gain(nonlinearity, a) / std::sqrt(fan);
}

/// U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al., 2015). `a` is the negative
/// slope for leaky_relu. A tensor with no elements is left alone, as in PyTorch.
template <class T>
Tensor<T>& kaiming_uniform_(Tensor<T>& t, double a = 0, FanMode mode = FanMode::FanIn,
                            Nonlinearity nonlinearity = Nonlinearity::LeakyRelu, Generator& gen = default_generator()) {
  detail::init_check_defined("kaiming_uniform_", t);
  if (t.numel() == 0) return t;  // PyTorch warns "Initializing zero-element tensors is a no-op"
  const double bound = std::sqrt(3.0) * kaiming_std("init::kaiming_uniform_", t, a, mode, nonlinearity);
  return uniform_(t, -bound, bound, gen);
}

/// N(0, std^2) with std = gain / sqrt(fan).
template <class T>
Tensor<T>& kaiming_normal_(Tensor<T>& t, double a = 0, FanMode mode = FanMode::FanIn,
                           Nonlinearity nonlinearity = Nonlinearity::LeakyRelu, Generator& gen = default_generator()) {
  detail::init_check_defined("kaiming_normal_", t);
  if (t.numel() == 0) return t;
  return normal_(t, 0.0, kaiming_std("init::kaiming_normal_", t, a, mode, nonlinearity), gen);
}

}  // namespace tapegrad::nn::init
