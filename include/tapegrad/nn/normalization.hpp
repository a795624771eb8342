// SPDX-License-Identifier: MIT
// LayerNorm and BatchNorm1d (running statistics as buffers), and their functional forms.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tapegrad/factories.hpp"
#include "tapegrad/nn/module.hpp"
#include "tapegrad/ops/pointwise.hpp"
#include "tapegrad/ops/reduce.hpp"

namespace tapegrad {
namespace detail {

/// (x - mean) * (1 / sqrt(var + eps)), then * weight + bias when they are defined. `weight` and
/// `bias` are already shaped to broadcast. Built from differentiable ops, so autograd derives the
/// backward (through the batch statistics too).
template <class T>
Tensor<T> normalize_affine(const Tensor<T>& centered, const Tensor<T>& var, double eps, const Tensor<T>& weight,
                           const Tensor<T>& bias) {
  Tensor<T> y = centered * (T(1) / tapegrad::sqrt(var + static_cast<T>(eps)));
  if (weight.defined()) y = y * weight;
  if (bias.defined()) y = y + bias;
  return y;
}

/// A shape as a Python tuple, "(8,)" or "(2, 3)": how PyTorch prints LayerNorm's normalized_shape.
inline std::string python_tuple(const Shape& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace detail

namespace nn {
namespace functional {

/// Layer normalisation over the last normalized_shape.size() dims, like
/// torch.nn.functional.layer_norm: (x - mean) / sqrt(var + eps) * weight + bias with the biased
/// variance (divided by N); weight and bias (shape normalized_shape) may be undefined.
/// Throws ShapeError naming both shapes when the input's trailing dims differ from normalized_shape.
template <class T>
Tensor<T> layer_norm(const Tensor<T>& input, const Shape& normalized_shape, const Tensor<T>& weight = Tensor<T>(),
                     const Tensor<T>& bias = Tensor<T>(), double eps = 1e-5) {
  static_assert(std::is_floating_point_v<T>, "layer_norm: needs a floating-point tensor");
  const std::size_t k = normalized_shape.size();
  if (k == 0)
    throw ValueError("layer_norm: normalized_shape must have at least one element, got normalized_shape = []");
  const Shape& s = input.shape();
  if (s.size() < k || !std::equal(normalized_shape.begin(), normalized_shape.end(), s.end() - static_cast<std::ptrdiff_t>(k)))
    throw ShapeError(detail::cat("layer_norm: given normalized_shape = ", detail::shape_str(normalized_shape),
                                 ", expected an input of shape [*, ", detail::shape_str(normalized_shape).substr(1),
                                 " but got one of shape ", detail::shape_str(s)));
  for (const auto* param : {&weight, &bias})
    if (param->defined() && param->shape() != normalized_shape)
      throw ShapeError(detail::cat("layer_norm: ", param == &weight ? "weight" : "bias", " has shape ",
                                   detail::shape_str(param->shape()), ", expected normalized_shape ",
                                   detail::shape_str(normalized_shape)));
  std::vector<std::int64_t> dims;
  for (std::size_t d = s.size() - k; d < s.size(); ++d) dims.push_back(static_cast<std::int64_t>(d));
  const Tensor<T> centered = input - tapegrad::mean(input, dims, true);
  const Tensor<T> var = tapegrad::mean(centered * centered, dims, true);
  return detail::normalize_affine(centered, var, eps, weight, bias);  // weight/bias broadcast over the leading dims
}

/// Batch normalisation over dim 1 (the channels) of an [N, C, ...] input, like
/// torch.nn.functional.batch_norm. With training=true it normalises with the batch's mean and
/// biased variance and, when running_mean / running_var are defined, updates them in place:
/// running = (1 - momentum) * running + momentum * batch value, with the **unbiased** variance for
/// running_var (as PyTorch). With training=false it normalises with the running statistics.
/// weight and bias ([C]) may be undefined. Errors name the shapes.
template <class T>
Tensor<T> batch_norm(const Tensor<T>& input, Tensor<T> running_mean, Tensor<T> running_var,
                     const Tensor<T>& weight = Tensor<T>(), const Tensor<T>& bias = Tensor<T>(), bool training = false,
                     double momentum = 0.1, double eps = 1e-5) {
  static_assert(std::is_floating_point_v<T>, "batch_norm: needs a floating-point tensor");
  const Shape& s = input.shape();
  if (s.size() < 2)
    throw ShapeError(detail::cat("batch_norm: input must have at least 2 dims [N, C, ...], got shape ", detail::shape_str(s)));
  const std::int64_t channels = s[1];
  const Shape expected{channels};
  const std::pair<const char*, const Tensor<T>*> stats[] = {
      {"running_mean", &running_mean}, {"running_var", &running_var}, {"weight", &weight}, {"bias", &bias}};
  for (const auto& [what, t] : stats)
    if (t->defined() && t->shape() != expected)
      throw ShapeError(detail::cat("batch_norm: ", what, " has shape ", detail::shape_str(t->shape()), ", but input of shape ",
                                   detail::shape_str(s), " has ", channels, " channels in dim 1 (expected ",
                                   detail::shape_str(expected), ")"));
  if (!training && !(running_mean.defined() && running_var.defined()))
    throw ValueError("batch_norm: training=false needs running_mean and running_var");
  const std::int64_t per_channel = channels == 0 ? 0 : input.numel() / channels;
  if (training && per_channel <= 1)
    throw ValueError(detail::cat("batch_norm: expected more than 1 value per channel when training, got input of shape ",
                                 detail::shape_str(s)));

  Shape channel_shape(s.size(), 1);  // [1, C, 1, ...]: broadcasts along dim 1
  channel_shape[1] = channels;
  auto per_channel_view = [&channel_shape](const Tensor<T>& t) { return t.defined() ? t.reshape(channel_shape) : t; };
  const Tensor<T> w = per_channel_view(weight), b = per_channel_view(bias);
  if (!training)
    return detail::normalize_affine(input - per_channel_view(running_mean), per_channel_view(running_var), eps, w, b);

  std::vector<std::int64_t> dims{0};
  for (std::size_t d = 2; d < s.size(); ++d) dims.push_back(static_cast<std::int64_t>(d));
  const Tensor<T> batch_mean = tapegrad::mean(input, dims, true);
  const Tensor<T> centered = input - batch_mean;
  const Tensor<T> batch_var = tapegrad::mean(centered * centered, dims, true);  // biased, for normalising
  if (running_mean.defined() && running_var.defined()) {
    NoGradGuard no_grad;
    const double unbias = static_cast<double>(per_channel) / static_cast<double>(per_channel - 1);
    T* rm = running_mean.data();
    T* rv = running_var.data();
    const T* m = batch_mean.data();
    const T* v = batch_var.data();
    for (std::int64_t c = 0; c < channels; ++c) {  // PyTorch's order of terms, in double
      rm[c] = static_cast<T>(momentum * m[c] + (1 - momentum) * rm[c]);
      rv[c] = static_cast<T>(momentum * (v[c] * unbias) + (1 - momentum) * rv[c]);
    }
  }
  return detail::normalize_affine(centered, batch_var, eps, w, b);
}

}  // namespace functional

/// Options of LayerNorm: `LayerNormOptions({8}).eps(1e-6).elementwise_affine(false)`.
class LayerNormOptions {
 public:
  LayerNormOptions(Shape normalized_shape) : normalized_shape_(std::move(normalized_shape)) {}  // NOLINT: implicit, as libtorch
  /// The trailing dims normalised over (e.g. {8} for the last dim of size 8).
  const Shape& normalized_shape() const noexcept { return normalized_shape_; }
  LayerNormOptions& normalized_shape(Shape v) { return normalized_shape_ = std::move(v), *this; }
  /// Added to the variance before the square root (default 1e-5).
  double eps() const noexcept { return eps_; }
  LayerNormOptions& eps(double v) noexcept { return eps_ = v, *this; }
  /// Whether the layer has a learnable weight (ones) and bias (zeros) of normalized_shape (default true).
  bool elementwise_affine() const noexcept { return elementwise_affine_; }
  LayerNormOptions& elementwise_affine(bool v) noexcept { return elementwise_affine_ = v, *this; }

 private:
  Shape normalized_shape_;
  double eps_ = 1e-5;
  bool elementwise_affine_ = true;
};

/// Layer normalisation over the trailing normalized_shape dims, like torch.nn.LayerNorm: weight
/// starts at ones and bias at zeros. Prints as `LayerNorm((8,), eps=1e-05, elementwise_affine=True)`.
/// Example: `LayerNorm<float> norm(LayerNormOptions({8})); auto y = norm(x);  // x: [..., 8]`
template <class T = float>
class LayerNorm : public Module<T> {
 public:
  explicit LayerNorm(LayerNormOptions opts) : options(std::move(opts)) {
    const Shape& shape = options.normalized_shape();
    if (shape.empty())
      throw ValueError("LayerNorm: normalized_shape must have at least one element, got normalized_shape = []");
    for (std::int64_t d : shape)
      if (d < 0) throw ValueError("LayerNorm: normalized_shape " + detail::shape_str(shape) + " has a negative size");
    const std::string who = name() + "(" + extra_repr() + ")";
    weight = options.elementwise_affine() ? Parameter<T>(who + ".weight", ones<T>(shape))
                                          : Parameter<T>::absent(who + ".weight", shape);
    bias = options.elementwise_affine() ? Parameter<T>(who + ".bias", zeros<T>(shape))
                                        : Parameter<T>::absent(who + ".bias", shape);
  }
  /// LayerNorm over the last dim of size `normalized_size`.
  explicit LayerNorm(std::int64_t normalized_size) : LayerNorm(LayerNormOptions({normalized_size})) {}

  LayerNorm(const LayerNorm&) = default;
  LayerNorm(LayerNorm&&) = default;
  /// Replaces options and parameters (the copy shares the other's parameters).
  LayerNorm& operator=(const LayerNorm& other) { return *this = LayerNorm(other); }
  LayerNorm& operator=(LayerNorm&&) = default;

  /// Sets weight to ones and bias to zeros, in place.
  void reset_parameters() {
    NoGradGuard no_grad;
    if (weight.defined()) weight.fill_(T(1));
    if (bias.defined()) bias.fill_(T(0));
  }

  /// [*, normalized_shape] -> same shape.
  Tensor<T> forward(const Tensor<T>& input) const {
    const Shape& s = input.shape();
    const Shape& ns = options.normalized_shape();
    if (s.size() < ns.size() || !std::equal(ns.begin(), ns.end(), s.end() - static_cast<std::ptrdiff_t>(ns.size())))
      throw ShapeError(detail::cat(name(), "(", extra_repr(), "): expected an input of shape [*, ",
                                   detail::shape_str(ns).substr(1), ", got one of shape ", detail::shape_str(s)));
    return functional::layer_norm(input, ns, weight, bias, options.eps());
  }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }

  void visit(Visitor<T>& v) override {
    v("weight", weight);
    v("bias", bias);
  }
  std::string name() const override { return "LayerNorm"; }
  std::string extra_repr() const override {
    return detail::python_tuple(options.normalized_shape()) + ", eps=" + detail::python_float(options.eps()) +
           ", elementwise_affine=" + detail::python_bool(options.elementwise_affine());
  }

  LayerNormOptions options;
  /// normalized_shape, ones at first; absent with elementwise_affine=false.
  Parameter<T> weight;
  /// normalized_shape, zeros at first; absent with elementwise_affine=false.
  Parameter<T> bias;
};

/// Options of BatchNorm1d: `BatchNormOptions(4).momentum(0.01).affine(false)`. momentum may be
/// std::nullopt (PyTorch's None): the running statistics are then the cumulative average over batches.
class BatchNormOptions {
 public:
  BatchNormOptions(std::int64_t num_features) : num_features_(num_features) {}  // NOLINT: implicit, as libtorch
  /// C, the size of the input's dim 1.
  std::int64_t num_features() const noexcept { return num_features_; }
  BatchNormOptions& num_features(std::int64_t v) noexcept { return num_features_ = v, *this; }
  /// Added to the variance before the square root (default 1e-5).
  double eps() const noexcept { return eps_; }
  BatchNormOptions& eps(double v) noexcept { return eps_ = v, *this; }
  /// Weight of the newest batch in the running statistics (default 0.1); nullopt: cumulative average.
  std::optional<double> momentum() const noexcept { return momentum_; }
  BatchNormOptions& momentum(std::optional<double> v) noexcept { return momentum_ = v, *this; }
  /// Whether the layer has a learnable weight (ones) and bias (zeros) of [C] (default true).
  bool affine() const noexcept { return affine_; }
  BatchNormOptions& affine(bool v) noexcept { return affine_ = v, *this; }
  /// Whether the layer keeps running statistics for eval() (default true); without them it always
  /// normalises with the batch's statistics, as PyTorch.
  bool track_running_stats() const noexcept { return track_running_stats_; }
  BatchNormOptions& track_running_stats(bool v) noexcept { return track_running_stats_ = v, *this; }

 private:
  std::int64_t num_features_;
  double eps_ = 1e-5;
  std::optional<double> momentum_ = 0.1;
  bool affine_ = true;
  bool track_running_stats_ = true;
};

/// Batch normalisation of [N, C] or [N, C, L] inputs over the batch (and L), like
/// torch.nn.BatchNorm1d. While training it normalises with the batch's mean and biased variance
/// and updates the buffers running_mean (zeros at first), running_var (ones; updated with the
/// unbiased variance) and num_batches_tracked; after eval() it normalises with the running
/// statistics. state_dict() holds weight, bias, running_mean, running_var, num_batches_tracked,
/// as PyTorch's (num_batches_tracked is int64 in PyTorch and T here; it loads from a PyTorch file
/// exactly up to 2^24 batches for float). Prints as
/// `BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)`.
template <class T = float>
class BatchNorm1d : public Module<T> {
 public:
  explicit BatchNorm1d(BatchNormOptions opts) : options(opts) {
    const std::int64_t c = options.num_features();
    if (c < 0) throw ValueError(detail::cat("BatchNorm1d: num_features must be non-negative, got ", c));
    if (options.momentum() && !(*options.momentum() >= 0 && *options.momentum() <= 1))
      throw ValueError(detail::cat("BatchNorm1d: momentum = ", *options.momentum(), " is outside [0, 1]"));
    const std::string who = name() + "(" + extra_repr() + ")";
    weight = options.affine() ? Parameter<T>(who + ".weight", ones<T>({c})) : Parameter<T>::absent(who + ".weight", {c});
    bias = options.affine() ? Parameter<T>(who + ".bias", zeros<T>({c})) : Parameter<T>::absent(who + ".bias", {c});
    if (options.track_running_stats()) {
      running_mean = zeros<T>({c});
      running_var = ones<T>({c});
      num_batches_tracked = zeros<T>({});
    }
  }
  explicit BatchNorm1d(std::int64_t num_features) : BatchNorm1d(BatchNormOptions(num_features)) {}

  BatchNorm1d(const BatchNorm1d&) = default;
  BatchNorm1d(BatchNorm1d&&) = default;
  /// Replaces options, parameters and buffers (the copy shares the other's).
  BatchNorm1d& operator=(const BatchNorm1d& other) { return *this = BatchNorm1d(other); }
  BatchNorm1d& operator=(BatchNorm1d&&) = default;

  /// running_mean to zeros, running_var to ones, num_batches_tracked to 0, in place.
  void reset_running_stats() {
    if (!options.track_running_stats()) return;
    running_mean.fill_(T(0));
    running_var.fill_(T(1));
    num_batches_tracked.fill_(T(0));
  }
  /// reset_running_stats(), then weight to ones and bias to zeros.
  void reset_parameters() {
    reset_running_stats();
    NoGradGuard no_grad;
    if (weight.defined()) weight.fill_(T(1));
    if (bias.defined()) bias.fill_(T(0));
  }

  /// [N, C] or [N, C, L] -> same shape. Updates the running statistics while training.
  Tensor<T> forward(const Tensor<T>& input) {
    const Shape& s = input.shape();
    if (s.size() != 2 && s.size() != 3)
      throw ShapeError(detail::cat(who(), ": expected a 2-D [N, C] or 3-D [N, C, L] input, got shape ", detail::shape_str(s)));
    if (s[1] != options.num_features())
      throw ShapeError(detail::cat(who(), ": input of shape ", detail::shape_str(s), " has ", s[1],
                                   " channels in dim 1, expected num_features=", options.num_features()));
    const bool tracking = options.track_running_stats();
    const bool use_batch_stats = this->is_training() || !tracking;
    if (use_batch_stats && input.numel() / std::max<std::int64_t>(s[1], 1) <= 1)
      throw ValueError(detail::cat(who(), ": expected more than 1 value per channel when training, got input of shape ",
                                   detail::shape_str(s)));
    double factor = options.momentum().value_or(0.0);
    if (this->is_training() && tracking) {
      num_batches_tracked.data()[0] += T(1);
      if (!options.momentum()) factor = 1.0 / static_cast<double>(num_batches_tracked.item());
    }
    // As PyTorch: the running statistics are updated only while training, and read only in eval.
    const bool update = this->is_training() && tracking;
    const bool pass_stats = update || !use_batch_stats;
    return functional::batch_norm(input, pass_stats ? running_mean : Tensor<T>(), pass_stats ? running_var : Tensor<T>(),
                                  weight, bias, use_batch_stats, factor, options.eps());
  }
  Tensor<T> operator()(const Tensor<T>& input) { return forward(input); }

  void visit(Visitor<T>& v) override {
    v("weight", weight);
    v("bias", bias);
    v("running_mean", running_mean);
    v("running_var", running_var);
    v("num_batches_tracked", num_batches_tracked);
  }
  std::string name() const override { return "BatchNorm1d"; }
  std::string extra_repr() const override {
    return detail::cat(options.num_features(), ", eps=", detail::python_float(options.eps()), ", momentum=",
                       options.momentum() ? detail::python_float(*options.momentum()) : std::string("None"),
                       ", affine=", detail::python_bool(options.affine()),
                       ", track_running_stats=", detail::python_bool(options.track_running_stats()));
  }

  BatchNormOptions options;
  /// [C], ones at first; absent with affine=false.
  Parameter<T> weight;
  /// [C], zeros at first; absent with affine=false.
  Parameter<T> bias;
  /// [C] buffers (undefined with track_running_stats=false).
  Buffer<T> running_mean, running_var;
  /// A 0-d buffer counting the training batches seen (int64 in PyTorch, T here).
  Buffer<T> num_batches_tracked;

 private:
  std::string who() const { return name() + "(" + extra_repr() + ")"; }
};

}  // namespace nn
}  // namespace tapegrad
