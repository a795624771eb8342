// SPDX-License-Identifier: MIT
// Comparisons and logic: eq/lt/..., logical_*, isnan/isinf/isfinite, where, masked_fill, any/all,
// equal and allclose. Everything here returns bool tensors except where and masked_fill, which
// carry gradients to their value inputs.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <type_traits>

#include "tapegrad/ops/reduce.hpp"

namespace tapegrad {
namespace detail {

/// Throws a ValueError naming `op` and the argument when `t` is an undefined tensor.
template <class T>
void require_defined(const char* op, const char* what, const Tensor<T>& t) {
  if (!t.defined()) throw ValueError(cat(op, ": ", what, " is undefined (default-constructed)"));
}

/// f(a[i], b[i]) -> bool over a and b broadcast to their common shape.
template <class T, class F>
Tensor<bool> bool_map2(const char* op, const Tensor<T>& a, const Tensor<T>& b, F f) {
  require_defined(op, "input", a);
  require_defined(op, "other", b);
  const Shape shape = broadcast_shapes(op, a.shape(), b.shape());
  const T* x = a.data();
  const T* y = b.data();
  Tensor<bool> out = make_tensor<bool>(shape, op);
  bool* o = out.data();
  for_each_offset2(shape, broadcast_strides(a.shape(), shape), broadcast_strides(b.shape(), shape),
                   [&](std::int64_t i, std::int64_t ia, std::int64_t ib) { o[i] = f(x[ia], y[ib]); });
  return out;
}

/// f(a[i]) -> bool, same shape as a.
template <class T, class F>
Tensor<bool> bool_map(const char* op, const Tensor<T>& a, F f) {
  require_defined(op, "input", a);
  const T* x = a.data();
  Tensor<bool> out = make_tensor<bool>(a.shape(), op);
  bool* o = out.data();
  for (std::int64_t i = 0, n = out.numel(); i < n; ++i) o[i] = f(x[i]);
  return out;
}

/// PyTorch's truth value of an element (logical_*, any, all): nonzero is true, NaN included.
template <class T>
bool nonzero(T x) {
  return x != T(0);
}

/// The broadcast shape of where's three operands; the error names all three.
inline Shape broadcast_shapes3(const char* op, const Shape& cond, const Shape& a, const Shape& b) {
  const std::size_t n = std::max({cond.size(), a.size(), b.size()});
  Shape out(n, 1);
  for (const Shape* s : {&cond, &a, &b})
    for (std::size_t k = 0; k < s->size(); ++k) {
      const std::int64_t size = (*s)[k];
      std::int64_t& common = out[n - s->size() + k];
      if (size == common || size == 1) continue;
      if (common != 1)
        throw ShapeError(cat(op, ": condition of shape ", shape_str(cond), ", input of shape ", shape_str(a),
                             " and other of shape ", shape_str(b), " cannot be broadcast together (size ", common,
                             " vs ", size, " at dimension ", n - s->size() + k, " of the result)"));
      common = size;
    }
  return out;
}

/// `mask` broadcast to exactly `shape` (masked_fill keeps its input's shape).
inline Tensor<bool> mask_for(const char* op, const Tensor<bool>& mask, const Shape& shape) {
  require_defined(op, "mask", mask);
  const std::size_t n = shape.size(), m = mask.shape().size();
  bool fits = m <= n;
  for (std::size_t k = 0; fits && k < m; ++k) {
    const std::int64_t size = mask.shape()[k];
    fits = size == 1 || size == shape[n - m + k];
  }
  if (!fits)
    throw ShapeError(cat(op, ": mask of shape ", shape_str(mask.shape()), " cannot be broadcast to the input's shape ",
                         shape_str(shape)));
  return mask.shape() == shape ? mask : expand_copy(mask, shape);
}

/// Shared body of any and all: reduces "nonzero" with OR (any) or AND (all) over every element
/// (dim = nullopt) or one dim. An empty reduction gives the identity: false for any, true for all.
template <class T>
Tensor<bool> any_or_all(const char* op, const Tensor<T>& a, std::optional<std::int64_t> dim, bool keepdim, bool all) {
  require_defined(op, "input", a);
  const T* x = a.data();
  if (!dim) {
    bool r = all;
    for (std::int64_t i = 0, n = a.numel(); i < n; ++i) r = all ? (r && nonzero(x[i])) : (r || nonzero(x[i]));
    Tensor<bool> out = make_tensor<bool>(Shape{}, op);
    out.data()[0] = r;
    return out;
  }
  const std::int64_t d = normalize_dim(op, *dim, a.dim());
  if (a.dim() == 0) return bool_map(op, a, [](T v) { return nonzero(v); });  // 0-d: dim 0 / -1 is the element itself
  const Shape& s = a.shape();
  const auto k = static_cast<std::size_t>(d);
  const std::int64_t outer = numel_of(Shape(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(k)));
  const std::int64_t inner = numel_of(Shape(s.begin() + static_cast<std::ptrdiff_t>(k) + 1, s.end()));
  const std::int64_t len = s[k];
  Tensor<bool> out = make_tensor<bool>(reduced_shape(s, Shape{d}, keepdim), op);
  bool* o = out.data();
  for (std::int64_t i = 0; i < outer; ++i)
    for (std::int64_t j = 0; j < inner; ++j) {
      bool r = all;
      for (std::int64_t l = 0; l < len; ++l) {
        const bool v = nonzero(x[(i * len + l) * inner + j]);
        r = all ? (r && v) : (r || v);
      }
      o[i * inner + j] = r;
    }
  return out;
}

}  // namespace detail

// ---- comparisons -----------------------------------------------------------------------------------------

/// a == b element-wise with broadcasting (torch.eq); NaN equals nothing. Not differentiable.
template <class T>
Tensor<bool> eq(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::bool_map2("eq", a, b, std::equal_to<T>());
}
/// a != b element-wise with broadcasting (torch.ne); true wherever either side is NaN.
template <class T>
Tensor<bool> ne(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::bool_map2("ne", a, b, std::not_equal_to<T>());
}
/// a < b element-wise with broadcasting (torch.lt).
template <class T>
Tensor<bool> lt(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::bool_map2("lt", a, b, std::less<T>());
}
/// a <= b element-wise with broadcasting (torch.le).
template <class T>
Tensor<bool> le(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::bool_map2("le", a, b, std::less_equal<T>());
}
/// a > b element-wise with broadcasting (torch.gt).
template <class T>
Tensor<bool> gt(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::bool_map2("gt", a, b, std::greater<T>());
}
/// a >= b element-wise with broadcasting (torch.ge).
template <class T>
Tensor<bool> ge(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::bool_map2("ge", a, b, std::greater_equal<T>());
}

// Scalar forms: the scalar converts to T (so `x.gt(0)` works for a float x) and acts as a 0-d tensor.

/// a == s element-wise (torch.eq with a scalar).
template <class T>
Tensor<bool> eq(const Tensor<T>& a, detail::scalar_t<T> s) {
  return eq(a, scalar_tensor<T>(s));
}
/// a != s element-wise (torch.ne with a scalar).
template <class T>
Tensor<bool> ne(const Tensor<T>& a, detail::scalar_t<T> s) {
  return ne(a, scalar_tensor<T>(s));
}
/// a < s element-wise (torch.lt with a scalar).
template <class T>
Tensor<bool> lt(const Tensor<T>& a, detail::scalar_t<T> s) {
  return lt(a, scalar_tensor<T>(s));
}
/// a <= s element-wise (torch.le with a scalar).
template <class T>
Tensor<bool> le(const Tensor<T>& a, detail::scalar_t<T> s) {
  return le(a, scalar_tensor<T>(s));
}
/// a > s element-wise (torch.gt with a scalar).
template <class T>
Tensor<bool> gt(const Tensor<T>& a, detail::scalar_t<T> s) {
  return gt(a, scalar_tensor<T>(s));
}
/// a >= s element-wise (torch.ge with a scalar).
template <class T>
Tensor<bool> ge(const Tensor<T>& a, detail::scalar_t<T> s) {
  return ge(a, scalar_tensor<T>(s));
}

// Operators: `x == y`, `x < 0`, `0 < x`... all give bool tensors, as in PyTorch.
/// `a == b`: eq(a, b), with broadcasting.
template <class T>
Tensor<bool> operator==(const Tensor<T>& a, const Tensor<T>& b) {
  return eq(a, b);
}
/// `a != b`: ne(a, b), with broadcasting.
template <class T>
Tensor<bool> operator!=(const Tensor<T>& a, const Tensor<T>& b) {
  return ne(a, b);
}
/// `a < b`: lt(a, b), with broadcasting.
template <class T>
Tensor<bool> operator<(const Tensor<T>& a, const Tensor<T>& b) {
  return lt(a, b);
}
/// `a <= b`: le(a, b), with broadcasting.
template <class T>
Tensor<bool> operator<=(const Tensor<T>& a, const Tensor<T>& b) {
  return le(a, b);
}
/// `a > b`: gt(a, b), with broadcasting.
template <class T>
Tensor<bool> operator>(const Tensor<T>& a, const Tensor<T>& b) {
  return gt(a, b);
}
/// `a >= b`: ge(a, b), with broadcasting.
template <class T>
Tensor<bool> operator>=(const Tensor<T>& a, const Tensor<T>& b) {
  return ge(a, b);
}
/// `a == s`: eq(a, s).
template <class T>
Tensor<bool> operator==(const Tensor<T>& a, detail::scalar_t<T> s) {
  return eq(a, s);
}
/// `a != s`: ne(a, s).
template <class T>
Tensor<bool> operator!=(const Tensor<T>& a, detail::scalar_t<T> s) {
  return ne(a, s);
}
/// `a < s`: lt(a, s).
template <class T>
Tensor<bool> operator<(const Tensor<T>& a, detail::scalar_t<T> s) {
  return lt(a, s);
}
/// `a <= s`: le(a, s).
template <class T>
Tensor<bool> operator<=(const Tensor<T>& a, detail::scalar_t<T> s) {
  return le(a, s);
}
/// `a > s`: gt(a, s).
template <class T>
Tensor<bool> operator>(const Tensor<T>& a, detail::scalar_t<T> s) {
  return gt(a, s);
}
/// `a >= s`: ge(a, s).
template <class T>
Tensor<bool> operator>=(const Tensor<T>& a, detail::scalar_t<T> s) {
  return ge(a, s);
}
// s OP a is a mirrored OP s: the same truth table, NaN included.
/// `s == a`: eq(a, s).
template <class T>
Tensor<bool> operator==(detail::scalar_t<T> s, const Tensor<T>& a) {
  return eq(a, s);
}
/// `s != a`: ne(a, s).
template <class T>
Tensor<bool> operator!=(detail::scalar_t<T> s, const Tensor<T>& a) {
  return ne(a, s);
}
/// `s < a`: gt(a, s).
template <class T>
Tensor<bool> operator<(detail::scalar_t<T> s, const Tensor<T>& a) {
  return gt(a, s);
}
/// `s <= a`: ge(a, s).
template <class T>
Tensor<bool> operator<=(detail::scalar_t<T> s, const Tensor<T>& a) {
  return ge(a, s);
}
/// `s > a`: lt(a, s).
template <class T>
Tensor<bool> operator>(detail::scalar_t<T> s, const Tensor<T>& a) {
  return lt(a, s);
}
/// `s >= a`: le(a, s).
template <class T>
Tensor<bool> operator>=(detail::scalar_t<T> s, const Tensor<T>& a) {
  return le(a, s);
}

// ---- logic -----------------------------------------------------------------------------------------------

/// NOT of each element's truth (nonzero is true), as torch.logical_not.
template <class T>
Tensor<bool> logical_not(const Tensor<T>& a) {
  return detail::bool_map("logical_not", a, [](T x) { return !detail::nonzero(x); });
}
/// AND of the elements' truth with broadcasting (torch.logical_and).
template <class T>
Tensor<bool> logical_and(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::bool_map2("logical_and", a, b, [](T x, T y) { return detail::nonzero(x) && detail::nonzero(y); });
}
/// OR of the elements' truth with broadcasting (torch.logical_or).
template <class T>
Tensor<bool> logical_or(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::bool_map2("logical_or", a, b, [](T x, T y) { return detail::nonzero(x) || detail::nonzero(y); });
}
/// XOR of the elements' truth with broadcasting (torch.logical_xor).
template <class T>
Tensor<bool> logical_xor(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::bool_map2("logical_xor", a, b, [](T x, T y) { return detail::nonzero(x) != detail::nonzero(y); });
}

/// `~mask`: element-wise NOT of a bool tensor (torch's bitwise_not on bool).
inline Tensor<bool> operator~(const Tensor<bool>& a) { return logical_not(a); }
/// `m1 & m2`: element-wise AND of bool tensors, with broadcasting.
inline Tensor<bool> operator&(const Tensor<bool>& a, const Tensor<bool>& b) { return logical_and(a, b); }
/// `m1 | m2`: element-wise OR of bool tensors, with broadcasting.
inline Tensor<bool> operator|(const Tensor<bool>& a, const Tensor<bool>& b) { return logical_or(a, b); }
/// `m1 ^ m2`: element-wise XOR of bool tensors, with broadcasting.
inline Tensor<bool> operator^(const Tensor<bool>& a, const Tensor<bool>& b) { return logical_xor(a, b); }

// ---- classification --------------------------------------------------------------------------------------

/// True where an element is NaN (torch.isnan); always false for integer and bool tensors.
template <class T>
Tensor<bool> isnan(const Tensor<T>& a) {
  return detail::bool_map("isnan", a, [](T x) {
    if constexpr (std::is_floating_point_v<T>) return std::isnan(x);
    else return false;
  });
}
/// True where an element is +inf or -inf (torch.isinf); always false for integer and bool tensors.
template <class T>
Tensor<bool> isinf(const Tensor<T>& a) {
  return detail::bool_map("isinf", a, [](T x) {
    if constexpr (std::is_floating_point_v<T>) return std::isinf(x);
    else return false;
  });
}
/// True where an element is neither NaN nor infinite (torch.isfinite); always true for integers and bools.
template <class T>
Tensor<bool> isfinite(const Tensor<T>& a) {
  return detail::bool_map("isfinite", a, [](T x) {
    if constexpr (std::is_floating_point_v<T>) return std::isfinite(x);
    else return true;
  });
}

// ---- selection -------------------------------------------------------------------------------------------

/// a where cond is true, b elsewhere (torch.where), all three broadcast together. Gradients flow
/// to a where cond is true and to b where it is false, summed back to each input's shape.
template <class T>
Tensor<T> where(const Tensor<bool>& cond, const Tensor<T>& a, const Tensor<T>& b) {
  detail::require_defined("where", "condition", cond);
  detail::require_defined("where", "input", a);
  detail::require_defined("where", "other", b);
  const Shape shape = detail::broadcast_shapes3("where", cond.shape(), a.shape(), b.shape());
  Tensor<T> out = detail::make_tensor<T>(shape, "where");  // first: it checks the size of the shape
  const Tensor<bool> c = cond.shape() == shape ? cond : detail::expand_copy(cond, shape);
  const bool* pick = c.data();
  const T* x = a.data();
  const T* y = b.data();
  T* o = out.data();
  detail::for_each_offset2(shape, detail::broadcast_strides(a.shape(), shape), detail::broadcast_strides(b.shape(), shape),
                           [&](std::int64_t i, std::int64_t ia, std::int64_t ib) { o[i] = pick[i] ? x[ia] : y[ib]; });
  if constexpr (std::is_floating_point_v<T>) {
    if (detail::should_record(a, b))
      detail::record(out, "WhereBackward0", detail::edges(a, b),
                     [saved_cond = detail::save(c), sa = a.shape(), sb = b.shape()](const Tensor<T>& g,
                                                                                   detail::GradSink& grads) {
                       auto when_true = [](T gv, bool cv) { return cv ? gv : T(0); };
                       auto when_false = [](T gv, bool cv) { return cv ? T(0) : gv; };
                       if (grads.wants(0)) grads.add(0, detail::sum_to(detail::map2(g, saved_cond, when_true), sa));
                       if (grads.wants(1)) grads.add(1, detail::sum_to(detail::map2(g, saved_cond, when_false), sb));
                     });
  }
  return out;
}

/// where with a scalar for the false branch: `where(x > 0, x, 0)`.
template <class T>
Tensor<T> where(const Tensor<bool>& cond, const Tensor<T>& a, detail::scalar_t<T> b) {
  return where(cond, a, scalar_tensor<T>(b));
}

/// where with a scalar for the true branch: `where(mask, 1, x)`.
template <class T>
Tensor<T> where(const Tensor<bool>& cond, detail::scalar_t<T> a, const Tensor<T>& b) {
  return where(cond, scalar_tensor<T>(a), b);
}

namespace detail {

/// Shared body of both masked_fill forms; `value_tensor` is the 0-d value when it is a tensor
/// (undefined for a plain scalar), which then receives the gradient of the filled positions.
template <class T>
Tensor<T> masked_fill_impl(const Tensor<T>& a, const Tensor<bool>& mask, T value, const Tensor<T>& value_tensor) {
  require_defined("masked_fill", "input", a);
  const Tensor<bool> m = mask_for("masked_fill", mask, a.shape());
  Tensor<T> out = map2(a, m, [value](T x, bool mv) { return mv ? value : x; });
  if constexpr (std::is_floating_point_v<T>) {
    const bool has_value_tensor = value_tensor.defined();
    auto backward = [saved_mask = save(m)](const Tensor<T>& g, GradSink& grads) {
      if (grads.wants(0)) grads.add(0, map2(g, saved_mask, [](T gv, bool mv) { return mv ? T(0) : gv; }));
      if (grads.wants(1)) {
        acc_t<T> s = 0;
        for (std::int64_t i = 0, n = g.numel(); i < n; ++i)
          if (saved_mask.data()[i]) s += g.data()[i];
        grads.add(1, scalar_tensor<T>(static_cast<T>(s)));
      }
    };
    if (!has_value_tensor && should_record(a))
      record(out, "MaskedFillBackward0", edges(a), std::move(backward));
    else if (has_value_tensor && should_record(a, value_tensor))
      record(out, "MaskedFillBackward1", edges(a, value_tensor), std::move(backward));
  }
  return out;
}

}  // namespace detail

/// a with `value` written where mask is true (torch.masked_fill). The mask broadcasts to a's
/// shape, and the result keeps that shape. The gradient to a is zero at the filled positions.
template <class T>
Tensor<T> masked_fill(const Tensor<T>& a, const Tensor<bool>& mask, detail::scalar_t<T> value) {
  return detail::masked_fill_impl(a, mask, value, Tensor<T>());
}

/// masked_fill with a 0-d tensor as the value; that value receives the sum of the gradient over
/// the filled positions.
template <class T>
Tensor<T> masked_fill(const Tensor<T>& a, const Tensor<bool>& mask, const Tensor<T>& value) {
  detail::require_defined("masked_fill", "value", value);
  if (value.dim() != 0)
    throw ValueError(detail::cat("masked_fill: value must be a 0-d tensor, got one of shape ",
                                 detail::shape_str(value.shape()), " (use value.reshape({}) for a one-element tensor)"));
  return detail::masked_fill_impl(a, mask, value.item(), value);
}

// ---- reductions to bool ----------------------------------------------------------------------------------

/// True if any element is nonzero (torch.any), as a 0-d bool tensor; false for an empty tensor.
template <class T>
Tensor<bool> any(const Tensor<T>& a) {
  return detail::any_or_all("any", a, std::nullopt, false, false);
}
/// torch.any over one dim (negative counts from the end); keepdim keeps it with size 1.
template <class T>
Tensor<bool> any(const Tensor<T>& a, std::int64_t dim, bool keepdim = false) {
  return detail::any_or_all("any", a, dim, keepdim, false);
}
/// True if every element is nonzero (torch.all), as a 0-d bool tensor; true for an empty tensor.
template <class T>
Tensor<bool> all(const Tensor<T>& a) {
  return detail::any_or_all("all", a, std::nullopt, false, true);
}
/// torch.all over one dim (negative counts from the end); keepdim keeps it with size 1.
template <class T>
Tensor<bool> all(const Tensor<T>& a, std::int64_t dim, bool keepdim = false) {
  return detail::any_or_all("all", a, dim, keepdim, true);
}

// ---- whole-tensor tests ----------------------------------------------------------------------------------

/// True if a and b have the same shape and equal elements (torch.equal); no broadcasting, and a
/// NaN makes them unequal.
template <class T>
bool equal(const Tensor<T>& a, const Tensor<T>& b) {
  detail::require_defined("equal", "input", a);
  detail::require_defined("equal", "other", b);
  if (a.shape() != b.shape()) return false;
  const T* x = a.data();
  const T* y = b.data();
  for (std::int64_t i = 0, n = a.numel(); i < n; ++i)
    if (!(x[i] == y[i])) return false;
  return true;
}

/// True if |a - b| <= atol + rtol * |b| everywhere, with broadcasting (torch.allclose). Equal
/// infinities are close; NaNs are close to each other only with equal_nan.
template <class T>
bool allclose(const Tensor<T>& a, const Tensor<T>& b, double rtol = 1e-05, double atol = 1e-08, bool equal_nan = false) {
  if (!(rtol >= 0)) throw ValueError(detail::cat("allclose: rtol must be greater than or equal to zero, got ", rtol));
  if (!(atol >= 0)) throw ValueError(detail::cat("allclose: atol must be greater than or equal to zero, got ", atol));
  // PyTorch works in the tensors' float type; integers and bools are compared in its default float32.
  using F = std::conditional_t<std::is_floating_point_v<T>, T, float>;
  // An integer difference is taken exactly (in double), as PyTorch's int64 subtraction does, before it meets float32.
  using Diff = std::conditional_t<std::is_floating_point_v<T>, T, double>;
  const Tensor<bool> close = detail::bool_map2("allclose", a, b, [=](T x, T y) {
    if (x == y) return true;
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(x) && std::isnan(y)) return equal_nan;
    }
    const F allowed = static_cast<F>(atol) + std::abs(static_cast<F>(rtol) * static_cast<F>(y));
    const F actual = static_cast<F>(std::abs(static_cast<Diff>(x) - static_cast<Diff>(y)));
    return std::isfinite(actual) && actual <= allowed;
  });
  return all(close).item();
}

}  // namespace tapegrad
