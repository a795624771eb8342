// SPDX-License-Identifier: MIT
// Ways to make a tensor: from values, filled, ranges, identity, and random (PyTorch's generator).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "tapegrad/random.hpp"
#include "tapegrad/tensor.hpp"

namespace tapegrad {

/// A tensor holding `values` in row-major order. Example: `tensor<float>({1, 2, 3, 4}, {2, 2})`.
template <class T = float>
Tensor<T> tensor(const std::vector<T>& values, Shape shape, bool requires_grad = false) {
  const std::int64_t n = detail::checked_numel("tensor", shape);
  if (static_cast<std::int64_t>(values.size()) != n)
    throw ShapeError(detail::cat("tensor: ", values.size(), " values do not fill shape ", detail::shape_str(shape), " (",
                                 n, " elements)"));
  Tensor<T> out = detail::make_tensor<T>(std::move(shape), "tensor");
  std::copy(values.begin(), values.end(), out.data());
  if (requires_grad) out.requires_grad_();
  return out;
}

/// A 1-d tensor holding `values`.
template <class T = float>
Tensor<T> tensor(const std::vector<T>& values) {
  return tensor<T>(values, {static_cast<std::int64_t>(values.size())});
}

/// A 0-d tensor (a scalar), like torch.scalar_tensor.
template <class T = float>
Tensor<T> scalar_tensor(T value, bool requires_grad = false) {
  return tensor<T>({value}, {}, requires_grad);
}

/// Uninitialised elements.
template <class T = float>
Tensor<T> empty(Shape shape, bool requires_grad = false) {
  Tensor<T> out = detail::make_tensor<T>(std::move(shape), "empty");
  if (requires_grad) out.requires_grad_();
  return out;
}

template <class T = float>
Tensor<T> full(Shape shape, T value, bool requires_grad = false) {
  Tensor<T> out = detail::make_tensor<T>(std::move(shape), "full");
  std::fill_n(out.data(), out.numel(), value);
  if (requires_grad) out.requires_grad_();
  return out;
}

template <class T = float>
Tensor<T> zeros(Shape shape, bool requires_grad = false) {
  Tensor<T> out = detail::zeros_of<T>(shape, "zeros");
  if (requires_grad) out.requires_grad_();
  return out;
}

template <class T = float>
Tensor<T> ones(Shape shape, bool requires_grad = false) {
  return full<T>(std::move(shape), T(1), requires_grad);
}

template <class T>
Tensor<T> empty_like(const Tensor<T>& t) {
  return empty<T>(t.shape());
}

template <class T>
Tensor<T> zeros_like(const Tensor<T>& t) {
  return zeros<T>(t.shape());
}

template <class T>
Tensor<T> ones_like(const Tensor<T>& t) {
  return ones<T>(t.shape());
}

/// start, start + step, ... up to (not including) end, like torch.arange. Integer type by default.
template <class T = std::int64_t>
Tensor<T> arange(double start, double end, double step = 1) {
  if (step == 0) throw ValueError("arange: step must be nonzero");
  if (!std::isfinite(start) || !std::isfinite(end))
    throw ValueError(detail::cat("arange: start and end must be finite, got ", start, " and ", end));
  if ((end - start) / step < 0)
    throw ValueError(detail::cat("arange: upper bound and step have inconsistent signs (start ", start, ", end ", end,
                                 ", step ", step, ")"));
  const double count = std::ceil((end - start) / step);
  if (!(count < 9223372036854775808.0))  // 2^63: past it the conversion to int64 is undefined
    throw ValueError(detail::cat("arange: [", start, ", ", end, ") with step ", step, " has ", count,
                                 " elements, more than fit in int64"));
  const auto n = static_cast<std::int64_t>(count);
  Tensor<T> out = detail::make_tensor<T>({n}, "arange");
  for (std::int64_t i = 0; i < n; ++i) out.data()[i] = static_cast<T>(start + static_cast<double>(i) * step);
  return out;
}

template <class T = std::int64_t>
Tensor<T> arange(double end) {
  return arange<T>(0, end, 1);
}

/// An n x m matrix with ones on the diagonal (m defaults to n).
template <class T = float>
Tensor<T> eye(std::int64_t n, std::int64_t m = -1) {
  if (m < 0) m = n;
  Tensor<T> out = zeros<T>({n, m});
  for (std::int64_t i = 0; i < std::min(n, m); ++i) out.data()[i * m + i] = T(1);
  return out;
}

/// Uniform in [0, 1), drawn exactly as torch.rand draws after the same manual_seed.
template <class T = float>
Tensor<T> rand(Shape shape, Generator& gen, bool requires_grad = false) {
  static_assert(std::is_floating_point_v<T>, "rand: T must be float or double");
  Tensor<T> out = detail::make_tensor<T>(std::move(shape), "rand");
  detail::fill_uniform(out.data(), out.numel(), 0.0, 1.0, gen);
  if (requires_grad) out.requires_grad_();
  return out;
}

template <class T = float>
Tensor<T> rand(Shape shape, bool requires_grad = false) {
  return rand<T>(std::move(shape), default_generator(), requires_grad);
}

/// Standard normal, drawn as torch.randn draws after the same manual_seed (see random.hpp on precision).
template <class T = float>
Tensor<T> randn(Shape shape, Generator& gen, bool requires_grad = false) {
  static_assert(std::is_floating_point_v<T>, "randn: T must be float or double");
  Tensor<T> out = detail::make_tensor<T>(std::move(shape), "randn");
  detail::fill_normal(out.data(), out.numel(), 0.0, 1.0, gen);
  if (requires_grad) out.requires_grad_();
  return out;
}

template <class T = float>
Tensor<T> randn(Shape shape, bool requires_grad = false) {
  return randn<T>(std::move(shape), default_generator(), requires_grad);
}

/// Integers uniform in [low, high), as torch.randint.
template <class T = std::int64_t>
Tensor<T> randint(std::int64_t low, std::int64_t high, Shape shape, Generator& gen) {
  if (low >= high) throw ValueError(detail::cat("randint: low (", low, ") must be less than high (", high, ")"));
  if constexpr (std::is_integral_v<T>) {
    if (low < std::numeric_limits<T>::min() || high - 1 > std::numeric_limits<T>::max())
      throw ValueError(detail::cat("randint: the range [", low, ", ", high, ") does not fit the element type, whose values are in [",
                                   std::numeric_limits<T>::min(), ", ", std::numeric_limits<T>::max(), "]"));
  }
  Tensor<T> out = detail::make_tensor<T>(std::move(shape), "randint");
  detail::fill_randint(out.data(), out.numel(), low, high, gen);
  return out;
}

template <class T = std::int64_t>
Tensor<T> randint(std::int64_t low, std::int64_t high, Shape shape) {
  return randint<T>(low, high, std::move(shape), default_generator());
}

}  // namespace tapegrad
