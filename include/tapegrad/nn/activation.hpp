// SPDX-License-Identifier: MIT
// Module-style activations and shape layers: ReLU, GELU, Tanh, Sigmoid, Softmax, LogSoftmax, Identity, Flatten.
#pragma once

#include <cstdint>
#include <string>

#include "tapegrad/nn/module.hpp"
#include "tapegrad/ops/activation.hpp"
#include "tapegrad/ops/shape.hpp"

namespace tapegrad::nn {

/// max(x, 0) element-wise, like torch.nn.ReLU. Prints as `ReLU()`.
template <class T = float>
class ReLU : public Module<T> {
 public:
  /// relu(input), any shape.
  Tensor<T> forward(const Tensor<T>& input) const { return relu(input); }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }
  std::string name() const override { return "ReLU"; }
};

/// tanh(x) element-wise, like torch.nn.Tanh. Prints as `Tanh()`.
template <class T = float>
class Tanh : public Module<T> {
 public:
  /// tanh(input), any shape.
  Tensor<T> forward(const Tensor<T>& input) const { return tapegrad::tanh(input); }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }
  std::string name() const override { return "Tanh"; }
};

/// 1 / (1 + exp(-x)) element-wise, like torch.nn.Sigmoid. Prints as `Sigmoid()`.
template <class T = float>
class Sigmoid : public Module<T> {
 public:
  /// sigmoid(input), any shape.
  Tensor<T> forward(const Tensor<T>& input) const { return sigmoid(input); }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }
  std::string name() const override { return "Sigmoid"; }
};

/// Returns its input unchanged, like torch.nn.Identity (a placeholder in a Sequential). Prints as `Identity()`.
template <class T = float>
class Identity : public Module<T> {
 public:
  /// The input itself (the same tensor, as PyTorch).
  Tensor<T> forward(const Tensor<T>& input) const { return input; }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }
  std::string name() const override { return "Identity"; }
};

/// Options of GELU (libtorch's GELUOptions): `GELUOptions().approximate("tanh")`.
class GELUOptions {
 public:
  /// "none" (the exact erf form, the default) or "tanh"; checked when the module is built.
  const std::string& approximate() const noexcept { return approximate_; }
  GELUOptions& approximate(std::string v) { return approximate_ = std::move(v), *this; }

 private:
  std::string approximate_ = "none";
};

/// The Gaussian error linear unit x * Φ(x), like torch.nn.GELU (see tapegrad::gelu).
/// Prints as `GELU(approximate='none')`. Example: `GELU<float> act(GELUOptions().approximate("tanh"));`
template <class T = float>
class GELU : public Module<T> {
 public:
  explicit GELU(GELUOptions opts = {}) : options(std::move(opts)) {
    if (options.approximate() != "none" && options.approximate() != "tanh")
      throw ValueError("GELU: approximate = \"" + options.approximate() +
                       "\" is not supported (valid: \"none\", \"tanh\")");
  }
  /// gelu(input, approximate), any shape.
  Tensor<T> forward(const Tensor<T>& input) const { return gelu(input, options.approximate()); }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }
  std::string name() const override { return "GELU"; }
  std::string extra_repr() const override { return "approximate='" + options.approximate() + "'"; }

  GELUOptions options;
};

/// softmax along `dim`, like torch.nn.Softmax(dim). Prints as `Softmax(dim=1)`.
/// The dim is required (PyTorch's implicit-dim default is deprecated).
template <class T = float>
class Softmax : public Module<T> {
 public:
  explicit Softmax(std::int64_t dim) : dim_(dim) {}
  /// softmax(input, dim); the dim is checked against the input's rank.
  Tensor<T> forward(const Tensor<T>& input) const { return softmax(input, dim_); }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }
  std::int64_t dim() const noexcept { return dim_; }
  std::string name() const override { return "Softmax"; }
  std::string extra_repr() const override { return "dim=" + std::to_string(dim_); }

 private:
  std::int64_t dim_;
};

/// log(softmax) along `dim`, like torch.nn.LogSoftmax(dim). Prints as `LogSoftmax(dim=1)`.
template <class T = float>
class LogSoftmax : public Module<T> {
 public:
  explicit LogSoftmax(std::int64_t dim) : dim_(dim) {}
  /// log_softmax(input, dim).
  Tensor<T> forward(const Tensor<T>& input) const { return log_softmax(input, dim_); }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }
  std::int64_t dim() const noexcept { return dim_; }
  std::string name() const override { return "LogSoftmax"; }
  std::string extra_repr() const override { return "dim=" + std::to_string(dim_); }

 private:
  std::int64_t dim_;
};

/// Options of Flatten: `FlattenOptions().start_dim(0)`. The defaults are PyTorch's module defaults,
/// start_dim = 1 (keep the batch dim) and end_dim = -1, unlike the function flatten's start_dim = 0.
class FlattenOptions {
 public:
  std::int64_t start_dim() const noexcept { return start_dim_; }
  FlattenOptions& start_dim(std::int64_t v) noexcept { return start_dim_ = v, *this; }
  std::int64_t end_dim() const noexcept { return end_dim_; }
  FlattenOptions& end_dim(std::int64_t v) noexcept { return end_dim_ = v, *this; }

 private:
  std::int64_t start_dim_ = 1, end_dim_ = -1;
};

/// Flattens dims start_dim..end_dim into one, like torch.nn.Flatten: [N, C, L] -> [N, C*L] by default.
/// Prints as `Flatten(start_dim=1, end_dim=-1)`.
template <class T = float>
class Flatten : public Module<T> {
 public:
  explicit Flatten(FlattenOptions opts = {}) : options(opts) {}
  Flatten(std::int64_t start_dim, std::int64_t end_dim) : options(FlattenOptions().start_dim(start_dim).end_dim(end_dim)) {}
  /// flatten(input, start_dim, end_dim).
  Tensor<T> forward(const Tensor<T>& input) const { return flatten(input, options.start_dim(), options.end_dim()); }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }
  std::string name() const override { return "Flatten"; }
  std::string extra_repr() const override {
    return "start_dim=" + std::to_string(options.start_dim()) + ", end_dim=" + std::to_string(options.end_dim());
  }

  FlattenOptions options;
};

}  // namespace tapegrad::nn
