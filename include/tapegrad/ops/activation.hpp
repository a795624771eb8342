// SPDX-License-Identifier: MIT
// softmax and log_softmax over one dimension, with the max subtracted for numerical stability.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

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

}  // namespace tapegrad
