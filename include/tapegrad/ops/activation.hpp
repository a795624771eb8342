// SPDX-License-Identifier: MIT
// softmax and log_softmax over one dimension (the max subtracted for numerical stability), and gelu.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "tapegrad/ops/reduce.hpp"

namespace tapegrad {
namespace detail {

/// Calls f(start, stride) once per line along dimension d of `shape`: the line's elements sit at
/// start + k * stride for k in [0, shape[d]). A 0-d shape is one line of one element.
template <class F>
void for_each_line(const Shape& shape, std::size_t d, F&& f) {
  if (shape.empty()) {
    f(std::int64_t(0), std::int64_t(1));
    return;
  }
  std::int64_t outer = 1, inner = 1;
  for (std::size_t k = 0; k < d; ++k) outer *= shape[k];
  for (std::size_t k = d + 1; k < shape.size(); ++k) inner *= shape[k];
  const std::int64_t len = shape[d];
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t i = 0; i < inner; ++i) f(o * len * inner + i, inner);
}

/// The shared forward: y = x - max - log(sum(exp(x - max))) (log) or exp(x - max) / sum (not log).
/// `d` is the already normalised dim.
template <class T>
Tensor<T> softmax_forward(const Tensor<T>& a, std::size_t d, bool log) {
  static_assert(std::is_floating_point_v<T>, "softmax: needs a floating-point tensor");
  const std::int64_t len = a.dim() == 0 ? 1 : a.shape()[d];
  Tensor<T> out = make_tensor<T>(a.shape());
  const T* x = a.data();
  T* y = out.data();
  for_each_line(a.shape(), d, [&](std::int64_t start, std::int64_t stride) {
    T top = -std::numeric_limits<T>::infinity();
    for (std::int64_t k = 0; k < len; ++k) top = std::max(top, x[start + k * stride]);
    acc_t<T> sum = 0;
    for (std::int64_t k = 0; k < len; ++k) {
      const T e = std::exp(x[start + k * stride] - top);
      if (!log) y[start + k * stride] = e;
      sum += e;
    }
    if (log) {  // (x - max) - log(sum) in this order: x - (max + log(sum)) would round at large x
      const T log_sum = static_cast<T>(std::log(sum));
      for (std::int64_t k = 0; k < len; ++k) y[start + k * stride] = (x[start + k * stride] - top) - log_sum;
    } else {
      const T scale = static_cast<T>(1 / sum);
      for (std::int64_t k = 0; k < len; ++k) y[start + k * stride] *= scale;
    }
  });
  return out;
}

}  // namespace detail

/// exp(a) / sum(exp(a)) along `dim`, computed with the maximum subtracted so large values do not
/// overflow. Rows containing NaN, or +inf, give NaN (as PyTorch).
template <class T>
Tensor<T> softmax(const Tensor<T>& a, std::int64_t dim) {
  const auto d = static_cast<std::size_t>(detail::normalize_dim("softmax", dim, a.dim()));
  Tensor<T> out = detail::softmax_forward(a, d, false);
  if (detail::should_record(a))
    detail::record(out, "SoftmaxBackward0", detail::edges(a),
                   [y = detail::save(out), d](
                       const Tensor<T>& g, detail::GradSink& grads) {
                     // dx = y * (g - sum(g * y)) along the line
                     const std::int64_t len = y.shape().empty() ? 1 : y.shape()[d];
                     Tensor<T> gx = detail::make_tensor<T>(y.shape());
                     const T *yv = y.data(), *gv = g.data();
                     T* o = gx.data();
                     detail::for_each_line(y.shape(), d, [&](std::int64_t start, std::int64_t stride) {
                       detail::acc_t<T> dot = 0;
                       for (std::int64_t k = 0; k < len; ++k) dot += gv[start + k * stride] * yv[start + k * stride];
                       const T s = static_cast<T>(dot);
                       for (std::int64_t k = 0; k < len; ++k) {
                         const std::int64_t i = start + k * stride;
                         o[i] = yv[i] * (gv[i] - s);
                       }
                     });
                     grads.add(0, gx);
                   });
  return out;
}

/// log(softmax(a, dim)), computed directly as a - max - log(sum(exp(a - max))): accurate where
/// softmax underflows to 0 (log_softmax([1000, 0]) is [0, -1000]).
template <class T>
Tensor<T> log_softmax(const Tensor<T>& a, std::int64_t dim) {
  const auto d = static_cast<std::size_t>(detail::normalize_dim("log_softmax", dim, a.dim()));
  Tensor<T> out = detail::softmax_forward(a, d, true);
  if (detail::should_record(a))
    detail::record(out, "LogSoftmaxBackward0", detail::edges(a),
                   [y = detail::save(out), d](
                       const Tensor<T>& g, detail::GradSink& grads) {
                     // dx = g - exp(y) * sum(g) along the line
                     const std::int64_t len = y.shape().empty() ? 1 : y.shape()[d];
                     Tensor<T> gx = detail::make_tensor<T>(y.shape());
                     const T *yv = y.data(), *gv = g.data();
                     T* o = gx.data();
                     detail::for_each_line(y.shape(), d, [&](std::int64_t start, std::int64_t stride) {
                       detail::acc_t<T> sum = 0;
                       for (std::int64_t k = 0; k < len; ++k) sum += gv[start + k * stride];
                       const T s = static_cast<T>(sum);
                       for (std::int64_t k = 0; k < len; ++k) {
                         const std::int64_t i = start + k * stride;
                         o[i] = gv[i] - std::exp(yv[i]) * s;
                       }
                     });
                     grads.add(0, gx);
                   });
  return out;
}

/// The Gaussian error linear unit, like torch.nn.functional.gelu: x * Φ(x) with Φ the standard
/// normal CDF, 0.5 * x * (1 + erf(x / sqrt(2))) for approximate = "none" (the default), or
/// 0.5 * x * (1 + tanh(sqrt(2 / π) * (x + 0.044715 * x³))) for approximate = "tanh".
/// Example: `auto y = tapegrad::gelu(x, "tanh");`
template <class T>
Tensor<T> gelu(const Tensor<T>& a, const std::string& approximate = "none") {
  static_assert(std::is_floating_point_v<T>, "gelu: needs a floating-point tensor");
  if (approximate != "none" && approximate != "tanh")
    throw ValueError("gelu: approximate = \"" + approximate + "\" is not supported (valid: \"none\", \"tanh\")");
  const bool use_tanh = approximate == "tanh";
  // PyTorch's constants: kBeta = sqrt(2 / π), kKappa = 0.044715, kAlpha = 1 / sqrt(2).
  constexpr T kAlpha = T(0.70710678118654752440), kBeta = T(0.79788456080286535588), kKappa = T(0.044715);
  constexpr T kPdf = T(0.39894228040143267794);  // 1 / sqrt(2π)
  Tensor<T> out = use_tanh ? detail::map(a, [](T x) {
    return T(0.5) * x * (T(1) + std::tanh(kBeta * (x + kKappa * x * x * x)));
  })
                           : detail::map(a, [](T x) { return x * T(0.5) * (T(1) + std::erf(x * kAlpha)); });
  if (detail::should_record(a))
    detail::record(out, "GeluBackward0", detail::edges(a),
                   [x = detail::save(a), use_tanh](Tensor<T> g, detail::GradSink& grads) {
                     if (use_tanh)  // d/dx of 0.5x(1 + tanh(u)), u = kBeta (x + kKappa x³)
                       grads.add(0, detail::map2(std::move(g), x, [](T gv, T xv) {
                                   const T inner = kBeta * (xv + kKappa * xv * xv * xv);
                                   const T t = std::tanh(inner);
                                   const T left = T(0.5) * xv, right = T(1) + t;
                                   const T inner_derivative = kBeta * (T(1) + T(3) * kKappa * xv * xv);
                                   return gv * (T(0.5) * right + left * (T(1) - t * t) * inner_derivative);
                                 }));
                     else  // Φ(x) + x φ(x)
                       grads.add(0, detail::map2(std::move(g), x, [](T gv, T xv) {
                                   const T cdf = T(0.5) * (T(1) + std::erf(xv * kAlpha));
                                   const T pdf = kPdf * std::exp(T(-0.5) * xv * xv);
                                   return gv * (cdf + xv * pdf);
                                 }));
                   });
  return out;
}

}  // namespace tapegrad
