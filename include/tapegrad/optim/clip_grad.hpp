// SPDX-License-Identifier: MIT
// clip_grad_norm_ and clip_grad_value_: rescale or clamp gradients in place, as PyTorch's.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "tapegrad/error.hpp"
#include "tapegrad/tensor.hpp"

namespace tapegrad::nn::utils {

/// Computes the `norm_type`-norm of all the parameters' gradients together (as if concatenated;
/// infinity gives the largest absolute value) and, when max_norm / (norm + 1e-6) < 1, multiplies
/// every gradient by that factor in place. Parameters without a gradient are ignored. Returns the
/// norm before clipping, rounded to T as PyTorch's result is (0 when no parameter has a gradient).
///
/// Sparse gradients count as their to_dense() (duplicate rows summed) and are scaled too; PyTorch
/// 1.13 computes their norm but leaves them unscaled, and fails on them with an infinite norm_type.
/// A NaN or infinite norm is PyTorch's too: with `error_if_nonfinite` a ValueError before anything
/// changes; without it every gradient is scaled by the non-finite coefficient (NaN: all NaN; inf: zeros).
/// Example: `double norm = tapegrad::nn::utils::clip_grad_norm_(model.parameters(), 1.0);`
template <class T>
double clip_grad_norm_(const std::vector<Tensor<T>>& parameters, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false) {
  static_assert(std::is_floating_point_v<T>, "clip_grad_norm_: gradients are float or double tensors");
  if (!(max_norm >= 0)) throw ValueError(detail::cat("clip_grad_norm_: max_norm must be >= 0, got ", max_norm));
  if (!(norm_type > 0))
    throw ValueError(detail::cat("clip_grad_norm_: norm_type must be > 0 (or infinity), got ", norm_type));
  const bool inf = std::isinf(norm_type);
  bool any = false, nan = false;
  double acc = 0;  // the sum of |x|^p, or for p = inf the largest |x|
  for (const Tensor<T>& p : parameters) {
    const Tensor<T> g = p.grad();
    if (!g.defined()) continue;
    any = true;
    const Tensor<T> values = g.is_sparse() ? g.coalesce().values() : g;
    const T* x = values.data();
    for (std::int64_t i = 0; i < values.numel(); ++i) {
      const double a = std::abs(static_cast<double>(x[i]));
      if (std::isnan(a))
        nan = true;  // std::max would drop it; PyTorch's norm is NaN
      else if (inf)
        acc = std::max(acc, a);
      else if (norm_type == 2)
        acc += a * a;
      else if (norm_type == 1)
        acc += a;
      else
        acc += std::pow(a, norm_type);
    }
  }
  if (!any) return 0;
  if (error_if_nonfinite && (nan || std::isinf(acc)))
    throw ValueError(detail::cat("clip_grad_norm_: the total norm of order ", norm_type, " of the gradients is ",
                                 nan ? "nan" : "inf", ", so they cannot be clipped; nothing was changed (pass "
                                 "error_if_nonfinite=false to scale them by the non-finite norm, as PyTorch does)"));
  double total = acc;
  if (nan)
    total = NAN;
  else if (norm_type == 2)
    total = std::sqrt(acc);
  else if (!inf && norm_type != 1)
    total = std::pow(acc, 1 / norm_type);
  const T total_t = static_cast<T>(total);
  // PyTorch's arithmetic: the norm is a T tensor, and 1e-6 and max_norm are rounded to T.
  const T coef = static_cast<T>(max_norm) / (total_t + static_cast<T>(1e-6));
  // As PyTorch 1.13 (which multiplies by the coefficient clamped to 1): a NaN norm makes every
  // gradient NaN, an infinite one zeroes them (and infinite elements become NaN).
  if (coef < T(1) || std::isnan(coef)) {
    for (const Tensor<T>& p : parameters) {
      const Tensor<T> g = p.grad();
      if (!g.defined()) continue;
      Tensor<T> values = g.is_sparse() ? g.values() : g;
      values.flat() *= coef;
    }
  }
  return static_cast<double>(total_t);
}

/// clip_grad_norm_ for a single parameter.
template <class T>
double clip_grad_norm_(const Tensor<T>& parameter, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false) {
  return clip_grad_norm_(std::vector<Tensor<T>>{parameter}, max_norm, norm_type, error_if_nonfinite);
}

/// Clamps every element of the parameters' gradients into [-clip_value, clip_value] in place
/// (PyTorch's clip_grad_value_); NaN stays NaN, as with clamp. Parameters without a gradient are
/// ignored. A sparse gradient is replaced by its coalesced form (duplicate rows summed) with its
/// values clamped, so it equals the clamped to_dense() (PyTorch 1.13 fails on sparse gradients).
/// clip_value must be >= 0 (PyTorch clamps everything to it when negative).
/// Example: `tapegrad::nn::utils::clip_grad_value_(model.parameters(), 0.5);`
template <class T>
void clip_grad_value_(const std::vector<Tensor<T>>& parameters, double clip_value) {
  static_assert(std::is_floating_point_v<T>, "clip_grad_value_: gradients are float or double tensors");
  if (!(clip_value >= 0)) throw ValueError(detail::cat("clip_grad_value_: clip_value must be >= 0, got ", clip_value));
  const T hi = static_cast<T>(clip_value), lo = -hi;  // PyTorch rounds the bounds to the gradient's type
  for (const Tensor<T>& p : parameters) {
    Tensor<T> handle = p;  // shares the parameter, so its gradient is the parameter's
    Tensor<T>& g = handle.mutable_grad();
    if (!g.defined()) continue;
    if (g.is_sparse()) g = g.coalesce();
    Tensor<T> values = g.is_sparse() ? g.values() : g;
    T* x = values.data();
    for (std::int64_t i = 0; i < values.numel(); ++i) x[i] = x[i] < lo ? lo : (x[i] > hi ? hi : x[i]);
  }
}

/// clip_grad_value_ for a single parameter.
template <class T>
void clip_grad_value_(const Tensor<T>& parameter, double clip_value) {
  clip_grad_value_(std::vector<Tensor<T>>{parameter}, clip_value);
}

}  // namespace tapegrad::nn::utils
