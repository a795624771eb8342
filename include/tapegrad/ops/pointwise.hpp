// SPDX-License-Identifier: MIT
// Element-wise ops with NumPy broadcasting. Each op's forward and backward sit side by side.
#pragma once

#include <cmath>
#include <optional>
#include <type_traits>

#include "tapegrad/autograd.hpp"
#include "tapegrad/factories.hpp"

namespace tapegrad {
namespace detail {

template <class T>
struct identity {
  using type = T;
};
/// Blocks template deduction, so `x * 2` works for Tensor<float> (the 2 converts to float).
template <class T>
using scalar_t = typename identity<T>::type;

/// Element type of a Tensor<T> or a Saved<T>.
template <class A>
using elem_t = std::remove_cv_t<std::remove_pointer_t<decltype(std::declval<const A&>().data())>>;

/// out[i] = f(a[i]). `a` is a Tensor or Saved (as are the arguments of the helpers below).
template <class A, class F>
Tensor<elem_t<A>> map(const A& a, F f) {
  Tensor<elem_t<A>> out = make_tensor_like<elem_t<A>>(a.shape(), a.numel());
  const auto* x = a.data();
  auto* o = out.data();
  for (std::int64_t i = 0, n = out.numel(); i < n; ++i) o[i] = f(x[i]);
  return out;
}

/// out[i] = f(a[i], b[i]) for operands of the same shape (backward formulas).
template <class A, class B, class F>
Tensor<elem_t<A>> map2(const A& a, const B& b, F f) {
  Tensor<elem_t<A>> out = make_tensor_like<elem_t<A>>(a.shape(), a.numel());
  const auto* x = a.data();
  const auto* y = b.data();
  auto* o = out.data();
  for (std::int64_t i = 0, n = out.numel(); i < n; ++i) o[i] = f(x[i], y[i]);
  return out;
}

/// map2 that writes into `a`'s own buffer when no other handle, view or saved value can see it:
/// the common case for a gradient a backward function owns.
template <class T, class B, class F>
Tensor<T> map2(Tensor<T>&& a, const B& b, F f) {
  if (!is_exclusive(a)) return map2(static_cast<const Tensor<T>&>(a), b, f);
  T* x = a.data();
  const auto* y = b.data();
  for (std::int64_t i = 0, n = a.numel(); i < n; ++i) x[i] = f(x[i], y[i]);
  return std::move(a);
}

/// out[i] = f(a[i], b[i], c[i]) for operands of the same shape.
template <class A, class B, class C, class F>
Tensor<elem_t<A>> map3(const A& a, const B& b, const C& c, F f) {
  Tensor<elem_t<A>> out = make_tensor_like<elem_t<A>>(a.shape(), a.numel());
  const auto *x = a.data(), *y = b.data();
  const auto* z = c.data();
  auto* o = out.data();
  for (std::int64_t i = 0, n = out.numel(); i < n; ++i) o[i] = f(x[i], y[i], z[i]);
  return out;
}

/// f over a and b broadcast to a common shape; `op` names the caller in shape errors.
template <class A, class B, class F>
Tensor<elem_t<A>> broadcast_map(const char* op, const A& a, const B& b, F f) {
  using T = elem_t<A>;
  if (a.shape() == b.shape()) return map2(a, b, f);
  const Shape shape = broadcast_shapes(op, a.shape(), b.shape());
  const T* x = a.data();
  const T* y = b.data();
  Tensor<T> out = make_tensor<T>(shape);
  T* o = out.data();
  if (b.numel() == 1 && shape == a.shape()) {
    const T s = y[0];
    for (std::int64_t i = 0, n = out.numel(); i < n; ++i) o[i] = f(x[i], s);
  } else if (a.numel() == 1 && shape == b.shape()) {
    const T s = x[0];
    for (std::int64_t i = 0, n = out.numel(); i < n; ++i) o[i] = f(s, y[i]);
  } else {
    for_each_offset2(shape, broadcast_strides(a.shape(), shape), broadcast_strides(b.shape(), shape),
                     [&](std::int64_t i, std::int64_t ia, std::int64_t ib) { o[i] = f(x[ia], y[ib]); });
  }
  return out;
}

/// A copy of `t` broadcast to the larger `shape`.
template <class A>
Tensor<elem_t<A>> expand_copy(const A& t, const Shape& shape) {
  Tensor<elem_t<A>> out = make_tensor<elem_t<A>>(shape);
  const auto* src = t.data();
  auto* dst = out.data();
  for_each_offset(shape, broadcast_strides(t.shape(), shape), [&](std::int64_t i, std::int64_t offset) { dst[i] = src[offset]; });
  return out;
}

/// Sums a gradient over the dimensions that broadcasting expanded, back to `shape`.
template <class T>
Tensor<T> sum_to(const Tensor<T>& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  Tensor<T> out = zeros_of<T>(shape);
  const T* src = g.data();
  T* dst = out.data();
  for_each_offset(g.shape(), broadcast_strides(shape, g.shape()),
                  [&](std::int64_t i, std::int64_t offset) { dst[offset] += src[i]; });
  return out;
}

/// f(g, x) element-wise (x broadcast to g's shape), summed back to `shape`: the common backward
/// of the binary ops.
template <class T, class X, class F>
Tensor<T> broadcast_grad(const Tensor<T>& g, const X& x, const Shape& shape, F f) {
  if (x.shape() == g.shape()) return sum_to(map2(g, x, f), shape);
  return sum_to(broadcast_map("backward", g, x, f), shape);
}

}  // namespace detail

// ---- arithmetic ---------------------------------------------------------------------------------------

template <class T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) {
  auto plus = [](T x, T y) { return x + y; };
  if (a.shape() == b.shape()) {  // no broadcasting (the common case): both gradients are g itself
    Tensor<T> out = detail::map2(a, b, plus);
    if (detail::should_record(a, b))
      detail::record(out, "AddBackward0", detail::edges(a, b), [](Tensor<T> g, detail::GradSink& grads) {
        grads.add(0, g);
        grads.add(1, std::move(g));  // the last user may take the buffer over
      });
    return out;
  }
  Tensor<T> out = detail::broadcast_map("add", a, b, plus);
  if (detail::should_record(a, b))
    detail::record(out, "AddBackward0", detail::edges(a, b),
                   [sa = a.shape(), sb = b.shape()](const Tensor<T>& g, detail::GradSink& grads) {
                     if (grads.wants(0)) grads.add(0, detail::sum_to(g, sa));
                     if (grads.wants(1)) grads.add(1, detail::sum_to(g, sb));
                   });
  return out;
}

template <class T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out = detail::broadcast_map("sub", a, b, [](T x, T y) { return x - y; });
  if (detail::should_record(a, b))
    detail::record(out, "SubBackward0", detail::edges(a, b),
                   [sa = a.shape(), sb = b.shape()](const Tensor<T>& g, detail::GradSink& grads) {
                     if (grads.wants(0)) grads.add(0, detail::sum_to(g, sa));
                     if (grads.wants(1)) grads.add(1, detail::sum_to(detail::map(g, [](T v) { return -v; }), sb));
                   });
  return out;
}

template <class T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
  auto times = [](T x, T y) { return x * y; };
  if (a.shape() == b.shape()) {  // no broadcasting (the common case)
    Tensor<T> out = detail::map2(a, b, times);
    if (detail::should_record(a, b)) {
      // Save only what the wanted gradients need: d/da needs b, d/db needs a. The shapes are g's,
      // so the elements alone will do.
      detail::BlockRef<T> saved_a = b.requires_grad() ? detail::save_elements(a) : detail::BlockRef<T>();
      detail::BlockRef<T> saved_b = a.requires_grad() ? detail::save_elements(b) : detail::BlockRef<T>();
      detail::record(out, "MulBackward0", detail::edges(a, b),
                     [saved_a = std::move(saved_a), saved_b = std::move(saved_b), times](Tensor<T> g,
                                                                                        detail::GradSink& grads) {
                       // A leaf (a weight) takes its product straight into grad(), with no temporary
                       // (add_product); then the last input still to serve may take g's own buffer.
                       // Leaves still receive in input order; only a non-leaf may now come second.
                       bool want_a = grads.wants(0), want_b = grads.wants(1);
                       if (want_a && grads.add_product(0, g, saved_b.data())) want_a = false;
                       if (want_b && grads.add_product(1, g, saved_a.data())) want_b = false;
                       if (want_a) grads.add(0, want_b ? detail::map2(g, saved_b, times)
                                                       : detail::map2(std::move(g), saved_b, times));
                       if (want_b) grads.add(1, detail::map2(std::move(g), saved_a, times));
                     });
    }
    return out;
  }
  Tensor<T> out = detail::broadcast_map("mul", a, b, times);
  if (detail::should_record(a, b)) {
    detail::Saved<T> saved_a = b.requires_grad() ? detail::save(a) : detail::Saved<T>();
    detail::Saved<T> saved_b = a.requires_grad() ? detail::save(b) : detail::Saved<T>();
    detail::record(out, "MulBackward0", detail::edges(a, b),
                   [saved_a = std::move(saved_a), saved_b = std::move(saved_b), times, sa = a.shape(),
                    sb = b.shape()](const Tensor<T>& g, detail::GradSink& grads) {
                     if (grads.wants(0)) grads.add(0, detail::broadcast_grad(g, saved_b, sa, times));
                     if (grads.wants(1)) grads.add(1, detail::broadcast_grad(g, saved_a, sb, times));
                   });
  }
  return out;
}

template <class T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out = detail::broadcast_map("div", a, b, [](T x, T y) { return x / y; });
  if (detail::should_record(a, b))
    detail::record(
        out, "DivBackward0", detail::edges(a, b),
        [sb_saved = detail::save(b), out_saved = detail::save(out), sa = a.shape(), sb = b.shape()](
            const Tensor<T>& g, detail::GradSink& grads) {
          if (grads.wants(0)) grads.add(0, detail::broadcast_grad(g, sb_saved, sa, [](T x, T y) { return x / y; }));
          if (grads.wants(1)) {
            // d(a/b)/db = -(a/b)/b = -out/b
            Tensor<T> q = detail::broadcast_map("div", out_saved, sb_saved, [](T o, T y) { return -o / y; });
            grads.add(1, detail::broadcast_grad(g, q, sb, [](T x, T y) { return x * y; }));
          }
        });
  return out;
}

template <class T>
Tensor<T> neg(const Tensor<T>& a) {
  Tensor<T> out = detail::map(a, [](T x) { return -x; });
  if (detail::should_record(a))
    detail::record(out, "NegBackward0", detail::edges(a), [](const Tensor<T>& g, detail::GradSink& grads) {
      grads.add(0, detail::map(g, [](T v) { return -v; }));
    });
  return out;
}

// Scalar forms. A scalar is a 0-d tensor that needs no gradient, so the broadcasting ops serve.
template <class T>
Tensor<T> add(const Tensor<T>& a, detail::scalar_t<T> s) {
  return add(a, scalar_tensor<T>(s));
}
template <class T>
Tensor<T> sub(const Tensor<T>& a, detail::scalar_t<T> s) {
  return sub(a, scalar_tensor<T>(s));
}
template <class T>
Tensor<T> mul(const Tensor<T>& a, detail::scalar_t<T> s) {
  return mul(a, scalar_tensor<T>(s));
}
template <class T>
Tensor<T> div(const Tensor<T>& a, detail::scalar_t<T> s) {
  return div(a, scalar_tensor<T>(s));
}

template <class T>
Tensor<T> operator+(const Tensor<T>& a, const Tensor<T>& b) {
  return add(a, b);
}
template <class T>
Tensor<T> operator-(const Tensor<T>& a, const Tensor<T>& b) {
  return sub(a, b);
}
template <class T>
Tensor<T> operator*(const Tensor<T>& a, const Tensor<T>& b) {
  return mul(a, b);
}
template <class T>
Tensor<T> operator/(const Tensor<T>& a, const Tensor<T>& b) {
  return div(a, b);
}
template <class T>
Tensor<T> operator-(const Tensor<T>& a) {
  return neg(a);
}
template <class T>
Tensor<T> operator+(const Tensor<T>& a, detail::scalar_t<T> s) {
  return add(a, scalar_tensor<T>(s));
}
template <class T>
Tensor<T> operator+(detail::scalar_t<T> s, const Tensor<T>& a) {
  return add(scalar_tensor<T>(s), a);
}
template <class T>
Tensor<T> operator-(const Tensor<T>& a, detail::scalar_t<T> s) {
  return sub(a, scalar_tensor<T>(s));
}
template <class T>
Tensor<T> operator-(detail::scalar_t<T> s, const Tensor<T>& a) {
  return sub(scalar_tensor<T>(s), a);
}
template <class T>
Tensor<T> operator*(const Tensor<T>& a, detail::scalar_t<T> s) {
  return mul(a, scalar_tensor<T>(s));
}
template <class T>
Tensor<T> operator*(detail::scalar_t<T> s, const Tensor<T>& a) {
  return mul(scalar_tensor<T>(s), a);
}
template <class T>
Tensor<T> operator/(const Tensor<T>& a, detail::scalar_t<T> s) {
  return div(a, scalar_tensor<T>(s));
}
template <class T>
Tensor<T> operator/(detail::scalar_t<T> s, const Tensor<T>& a) {
  return div(scalar_tensor<T>(s), a);
}

// Compound assignment rebinds the handle to a new tensor (it never mutates a recorded tensor).
template <class T, class U>
Tensor<T>& operator+=(Tensor<T>& a, const U& b) {
  return a = a + b;
}
template <class T, class U>
Tensor<T>& operator-=(Tensor<T>& a, const U& b) {
  return a = a - b;
}
template <class T, class U>
Tensor<T>& operator*=(Tensor<T>& a, const U& b) {
  return a = a * b;
}
template <class T, class U>
Tensor<T>& operator/=(Tensor<T>& a, const U& b) {
  return a = a / b;
}

// ---- unary maths -------------------------------------------------------------------------------------

template <class T>
Tensor<T> exp(const Tensor<T>& a) {
  Tensor<T> out = detail::map(a, [](T x) { return std::exp(x); });
  if (detail::should_record(a))
    detail::record(out, "ExpBackward0", detail::edges(a),
                   [y = detail::save(out)](Tensor<T> g, detail::GradSink& grads) {
                     grads.add(0, detail::map2(std::move(g), y, [](T gv, T yv) { return gv * yv; }));
                   });
  return out;
}

template <class T>
Tensor<T> log(const Tensor<T>& a) {
  Tensor<T> out = detail::map(a, [](T x) { return std::log(x); });
  if (detail::should_record(a))
    detail::record(out, "LogBackward0", detail::edges(a),
                   [x = detail::save(a)](Tensor<T> g, detail::GradSink& grads) {
                     grads.add(0, detail::map2(std::move(g), x, [](T gv, T xv) { return gv / xv; }));
                   });
  return out;
}

template <class T>
Tensor<T> sqrt(const Tensor<T>& a) {
  Tensor<T> out = detail::map(a, [](T x) { return std::sqrt(x); });
  if (detail::should_record(a))
    detail::record(out, "SqrtBackward0", detail::edges(a),
                   [y = detail::save(out)](Tensor<T> g, detail::GradSink& grads) {
                     grads.add(0, detail::map2(std::move(g), y, [](T gv, T yv) { return gv / (2 * yv); }));
                   });
  return out;
}

template <class T>
Tensor<T> abs(const Tensor<T>& a) {
  Tensor<T> out = detail::map(a, [](T x) { return std::abs(x); });
  if (detail::should_record(a))
    detail::record(out, "AbsBackward0", detail::edges(a),
                   [x = detail::save(a)](const Tensor<T>& g, detail::GradSink& grads) {
                     // sign(0) = 0, as in PyTorch
                     grads.add(0, detail::map2(g, x, [](T gv, T xv) { return xv > 0 ? gv : (xv < 0 ? -gv : T(0)); }));
                   });
  return out;
}

/// a ** exponent, element-wise.
template <class T>
Tensor<T> pow(const Tensor<T>& a, detail::scalar_t<T> exponent) {
  Tensor<T> out = detail::map(a, [exponent](T x) { return std::pow(x, exponent); });
  if (detail::should_record(a))
    detail::record(out, "PowBackward0", detail::edges(a),
                   [x = detail::save(a), exponent](Tensor<T> g, detail::GradSink& grads) {
                     grads.add(0, detail::map2(std::move(g), x, [exponent](T gv, T xv) {
                                 return exponent == 0 ? T(0) : gv * exponent * std::pow(xv, exponent - 1);
                               }));
                   });
  return out;
}

/// a ** b, element-wise with broadcasting.
template <class T>
Tensor<T> pow(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out = detail::broadcast_map("pow", a, b, [](T x, T y) { return std::pow(x, y); });
  if (detail::should_record(a, b))
    detail::record(out, "PowBackward1", detail::edges(a, b),
                   [xa = detail::save(a), xb = detail::save(b)](const Tensor<T>& g, detail::GradSink& grads) {
                     const Tensor<T> x = detail::expand_copy(xa, g.shape()), e = detail::expand_copy(xb, g.shape());
                     if (grads.wants(0))
                       grads.add(0, detail::sum_to(detail::map3(g, x, e,
                                                                [](T gv, T xv, T ev) {
                                                                  return ev == 0 ? T(0) : gv * ev * std::pow(xv, ev - 1);
                                                                }),
                                                   xa.shape()));
                     // d(a^b)/db = a^b log(a), taken as 0 where a == 0 and b >= 0 (PyTorch's convention)
                     if (grads.wants(1))
                       grads.add(1, detail::sum_to(detail::map3(g, x, e,
                                                                [](T gv, T xv, T ev) {
                                                                  return xv == 0 && ev >= 0 ? T(0)
                                                                                            : gv * std::pow(xv, ev) * std::log(xv);
                                                                }),
                                                   xb.shape()));
                   });
  return out;
}

/// Limits every element to [min, max]; either bound may be left out. The gradient passes where
/// min <= a <= max, as in PyTorch. Example: `clamp(x, 0, 1)`, `clamp(x, std::nullopt, 1.0f)`.
template <class T>
Tensor<T> clamp(const Tensor<T>& a, std::optional<detail::scalar_t<T>> min,
                std::optional<detail::scalar_t<T>> max = std::nullopt) {
  if (!min && !max) throw ValueError("clamp: at least one of min and max must be given");
  using limits = std::numeric_limits<T>;  // integers have no infinity (theirs is 0): use their extremes
  const T lo = min ? *min : (limits::has_infinity ? -limits::infinity() : limits::lowest());
  const T hi = max ? *max : (limits::has_infinity ? limits::infinity() : limits::max());
  Tensor<T> out = detail::map(a, [lo, hi](T x) { return std::isnan(x) ? x : std::min(std::max(x, lo), hi); });
  if (detail::should_record(a))
    detail::record(out, "ClampBackward1", detail::edges(a),
                   [x = detail::save(a), lo, hi](Tensor<T> g, detail::GradSink& grads) {
                     grads.add(0, detail::map2(std::move(g), x, [lo, hi](T gv, T xv) { return xv >= lo && xv <= hi ? gv : T(0); }));
                   });
  return out;
}

template <class T>
Tensor<T> tanh(const Tensor<T>& a) {
  Tensor<T> out = detail::map(a, [](T x) { return std::tanh(x); });
  if (detail::should_record(a))
    detail::record(out, "TanhBackward0", detail::edges(a),
                   [y = detail::save(out)](Tensor<T> g, detail::GradSink& grads) {
                     grads.add(0, detail::map2(std::move(g), y, [](T gv, T yv) { return gv * (1 - yv * yv); }));
                   });
  return out;
}

template <class T>
Tensor<T> sigmoid(const Tensor<T>& a) {
  Tensor<T> out = detail::map(a, [](T x) { return T(1) / (T(1) + std::exp(-x)); });
  if (detail::should_record(a))
    detail::record(out, "SigmoidBackward0", detail::edges(a),
                   [y = detail::save(out)](Tensor<T> g, detail::GradSink& grads) {
                     grads.add(0, detail::map2(std::move(g), y, [](T gv, T yv) { return gv * yv * (1 - yv); }));
                   });
  return out;
}

template <class T>
Tensor<T> relu(const Tensor<T>& a) {
  Tensor<T> out = detail::map(a, [](T x) { return x > 0 ? x : (std::isnan(x) ? x : T(0)); });
  if (detail::should_record(a))
    detail::record(out, "ReluBackward0", detail::edges(a),
                   [y = detail::save(out)](const Tensor<T>& g, detail::GradSink& grads) {
                     // zero only where the output is <= 0, so a NaN passes its gradient (PyTorch's threshold_backward)
                     grads.add(0, detail::map2(g, y, [](T gv, T yv) { return yv <= 0 ? T(0) : gv; }));
                   });
  return out;
}

}  // namespace tapegrad
