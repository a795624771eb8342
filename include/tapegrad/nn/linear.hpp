// SPDX-License-Identifier: MIT
// Linear: y = x·Wᵀ + b on inputs of any rank, one GEMM forward and a fused backward.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "tapegrad/detail/gemm.hpp"
#include "tapegrad/factories.hpp"
#include "tapegrad/nn/init.hpp"
#include "tapegrad/nn/module.hpp"

namespace tapegrad {
namespace detail {

[[noreturn]] TAPEGRAD_COLD inline void throw_linear_shapes(const char* who, const Shape& x, const Shape& w, const Shape* b) {
  if (w.size() != 2)
    throw ShapeError(cat(who, ": weight must be 2-D [out_features, in_features], got shape ", shape_str(w)));
  if (x.empty())
    throw ShapeError(cat(who, ": input must have at least 1 dimension (its last one holds the ", w[1],
                         " features), got a 0-d tensor"));
  if (x.back() != w[1])
    throw ShapeError(cat(who, ": input of shape ", shape_str(x), " has ", x.back(),
                         " features in its last dimension, but weight of shape ", shape_str(w), " expects ", w[1],
                         " (weight is [out_features, in_features])"));
  throw ShapeError(cat(who, ": bias of shape ", shape_str(*b), " does not fit weight of shape ", shape_str(w),
                       "; expected [", w[0], "]"));
}

/// A layer with at most 4 outputs (a classifier head, a regression output). A GEMM would first
/// copy ("pack") all of X and then read it again; for so few outputs one pass over X, each row
/// dotted with every weight row while it is in L1, does the same FLOPs in a third of the memory
/// traffic: (4096, 300) -> 2 ran at 0.9x libtorch through Eigen's GEMM.
inline bool is_narrow(std::int64_t out_features) { return out_features > 0 && out_features <= 4; }

/// Y = X·Wᵀ + b with X's leading dims flattened onto one GEMM. `who` names the caller in errors.
template <class T>
Tensor<T> linear_forward(const char* who, const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b) {
  using Mat = typename Tensor<T>::Matrix;
  using ConstMap = Eigen::Map<const Mat>;
  using MutMap = Eigen::Map<Mat>;
  const Shape& xs = x.shape();
  const Shape& ws = w.shape();
  const bool has_bias = b.defined();
  if (ws.size() != 2 || xs.empty() || xs.back() != ws[1] ||
      (has_bias && !(b.shape() == Shape{ws[0]} || b.numel() == 1)))  // a one-element bias broadcasts, as in PyTorch
    throw_linear_shapes(who, xs, ws, has_bias ? &b.shape() : nullptr);
  const std::int64_t in = ws[1], out_features = ws[0];
  const std::int64_t rows = numel_of(Shape(xs.begin(), xs.end() - 1));
  Shape out_shape = xs;
  out_shape.back() = out_features;
  Tensor<T> y = make_tensor<T>(out_shape);
  {
    MutMap ym(y.data(), rows, out_features);
    const ConstMap xm(x.data(), rows, in), wm(w.data(), out_features, in);
    if (is_narrow(out_features)) {
      const T* bias = has_bias ? b.data() : nullptr;
      for (std::int64_t i = 0; i < rows; ++i)
        for (std::int64_t o = 0; o < out_features; ++o)
          ym(i, o) = (bias ? bias[b.numel() == 1 ? 0 : o] : T(0)) + xm.row(i).dot(wm.row(o));
    } else {
      if (has_bias && b.numel() == out_features)
        ym.rowwise() = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(b.data(), out_features);
      else if (has_bias)
        ym.setConstant(b.data()[0]);
      gemm(false, true, rows, out_features, in, x.data(), in, w.data(), in, y.data(), out_features, has_bias);
    }
  }
  if (!should_record(x, w) && !(has_bias && should_record(b))) return y;

  // PyTorch's node names for the same computation (addmm for 2-D, add for 1-D, a view for N-D).
  const char* name = xs.size() == 1 ? (has_bias ? "AddBackward0" : "SqueezeBackward3")
                     : xs.size() == 2 ? (has_bias ? "AddmmBackward0" : "MmBackward0")
                                      : (has_bias ? "ViewBackward0" : "UnsafeViewBackward0");
  Saved<T> saved_x = w.requires_grad() ? save(x) : Saved<T>();
  Saved<T> saved_w = x.requires_grad() ? save(w) : Saved<T>();
  Edges inputs = edges(x, w);
  if (has_bias) inputs.push_back(edge(b));
  record(y, name, std::move(inputs),
         [saved_x = std::move(saved_x), saved_w = std::move(saved_w), xs, ws, in, out_features, rows,
          bias_shape = has_bias ? b.shape() : Shape()](const Tensor<T>& g, GradSink& grads) {
           const ConstMap gm(g.data(), rows, out_features);
           const bool narrow = is_narrow(out_features);
           if (grads.wants(0)) {  // dX = dY·W
             Tensor<T> gx = make_tensor<T>(xs);
             if (narrow) {
               MutMap gxm(gx.data(), rows, in);
               const ConstMap wm(saved_w.data(), out_features, in);
               for (std::int64_t i = 0; i < rows; ++i) {
                 gxm.row(i) = gm(i, 0) * wm.row(0);
                 for (std::int64_t o = 1; o < out_features; ++o) gxm.row(i) += gm(i, o) * wm.row(o);
               }
             } else {
               gemm(false, false, rows, in, out_features, g.data(), out_features, saved_w.data(), in, gx.data(), in, false);
             }
             grads.add(0, gx);
           }
           if (grads.wants(1)) {  // dW = dYᵀ·X
             Tensor<T> gw = make_tensor<T>(ws);
             if (narrow) {  // one pass over X, the few rows of dW staying in L1
               MutMap gwm(gw.data(), out_features, in);
               const ConstMap xm(saved_x.data(), rows, in);
               gwm.setZero();
               for (std::int64_t i = 0; i < rows; ++i)
                 for (std::int64_t o = 0; o < out_features; ++o) gwm.row(o) += gm(i, o) * xm.row(i);
             } else {
               gemm(true, false, out_features, in, rows, g.data(), out_features, saved_x.data(), in, gw.data(), in, false);
             }
             grads.add(1, gw);
           }
           if (grads.wants(2)) {  // db = column sums of dY
             Tensor<T> gb = make_tensor<T>(bias_shape);
             if (numel_of(bias_shape) == out_features)
               Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>(gb.data(), out_features) = gm.colwise().sum();
             else
               gb.data()[0] = gm.sum();
             grads.add(2, gb);
           }
         });
  return y;
}

}  // namespace detail

namespace nn {

/// Options of a Linear layer. Example: `LinearOptions(3, 5).bias(false)`.
class LinearOptions {
 public:
  LinearOptions(std::int64_t in_features, std::int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  /// Size of each input's last dimension.
  std::int64_t in_features() const noexcept { return in_features_; }
  LinearOptions& in_features(std::int64_t v) noexcept { return in_features_ = v, *this; }
  /// Size of each output's last dimension.
  std::int64_t out_features() const noexcept { return out_features_; }
  LinearOptions& out_features(std::int64_t v) noexcept { return out_features_ = v, *this; }
  /// Whether the layer adds a learnable bias (default true).
  bool bias() const noexcept { return bias_; }
  LinearOptions& bias(bool v) noexcept { return bias_ = v, *this; }

 private:
  std::int64_t in_features_, out_features_;
  bool bias_ = true;
};

/// A fully connected layer: y = x·Wᵀ + b, with weight [out_features, in_features] and bias
/// [out_features], initialised as PyTorch does (U(±1/sqrt(in_features)) for both, weight first).
/// Inputs may have any number of leading dimensions: [..., in_features] -> [..., out_features].
/// Example: `tapegrad::nn::Linear lin(tapegrad::nn::LinearOptions(3, 5)); auto y = lin(x);`
template <class T = float>
class Linear : public Module<T> {
 public:
  explicit Linear(LinearOptions opts) : options(opts) {
    if (options.in_features() < 0 || options.out_features() < 0)
      throw ValueError(detail::cat("Linear: in_features and out_features must be non-negative, got in_features=",
                                   options.in_features(), ", out_features=", options.out_features()));
    const std::string who = name() + "(" + extra_repr() + ")";
    weight = Parameter<T>(who + ".weight", empty<T>({options.out_features(), options.in_features()}),
                          " (Linear's weight is [out_features, in_features], as in PyTorch)");
    bias = options.bias() ? Parameter<T>(who + ".bias", empty<T>({options.out_features()}))
                          : Parameter<T>::absent(who + ".bias", {options.out_features()});
    reset_parameters();
  }
  Linear(std::int64_t in_features, std::int64_t out_features) : Linear(LinearOptions(in_features, out_features)) {}

  Linear(const Linear&) = default;
  Linear(Linear&&) = default;
  /// Replaces options and parameters (the copy shares the other's parameters).
  Linear& operator=(const Linear& other) { return *this = Linear(other); }
  Linear& operator=(Linear&&) = default;

  /// Draws new values: kaiming_uniform_(weight, a=sqrt(5)), then bias ~ U(±1/sqrt(in_features)).
  void reset_parameters() {
    init::kaiming_uniform_(weight, std::sqrt(5.0));
    if (bias.defined()) {
      const double fan_in = static_cast<double>(options.in_features());
      const double bound = fan_in > 0 ? 1 / std::sqrt(fan_in) : 0;
      init::uniform_(bias, -bound, bound);
    }
  }

  /// [..., in_features] -> [..., out_features].
  Tensor<T> forward(const Tensor<T>& input) const {
    const Shape& s = input.shape();
    if (s.empty() || s.back() != options.in_features()) throw_bad_input(s);
    return detail::linear_forward("Linear", input, weight, bias);
  }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }

  void visit(Visitor<T>& v) override {
    v("weight", weight);
    v("bias", bias);
  }
  std::string name() const override { return "Linear"; }
  std::string extra_repr() const override {
    return detail::cat("in_features=", options.in_features(), ", out_features=", options.out_features(),
                       ", bias=", detail::python_bool(options.bias()));
  }

  LinearOptions options;
  /// [out_features, in_features].
  Parameter<T> weight;
  /// [out_features], or absent with bias=false.
  Parameter<T> bias;

 private:
  [[noreturn]] TAPEGRAD_COLD void throw_bad_input(const Shape& s) const {
    const std::string who = name() + "(" + extra_repr() + ")";
    if (s.empty())
      throw ShapeError(who + ": input must have at least 1 dimension (its last one holds the in_features=" +
                       std::to_string(options.in_features()) + " features), got a 0-d tensor");
    throw ShapeError(detail::cat(who, ": input of shape ", detail::shape_str(s), " has ", s.back(),
                                 " features in its last dimension, expected in_features=", options.in_features()));
  }
};

namespace functional {

/// y = input·weightᵀ + bias, like torch.nn.functional.linear. weight is [out_features,
/// in_features]; bias is [out_features] (or one element, broadcast) or undefined.
template <class T>
Tensor<T> linear(const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias = Tensor<T>()) {
  return detail::linear_forward("linear", input, weight, bias);
}

}  // namespace functional
}  // namespace nn
}  // namespace tapegrad
