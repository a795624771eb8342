// SPDX-License-Identifier: MIT
// Reductions: sum, mean and norm over all elements or over chosen dims; argmax and argmin.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>
#include <vector>

#include "tapegrad/ops/pointwise.hpp"

namespace tapegrad {
namespace detail {

/// Accumulator type: float sums are carried in double, so long sums stay accurate.
template <class T>
using acc_t = std::conditional_t<std::is_same_v<T, float>, double, T>;

/// Normalised, sorted, duplicate-free dims; empty `dims` means all of them.
inline Shape reduce_dims(const char* op, const std::vector<std::int64_t>& dims, std::int64_t ndim) {
  Shape out;
  if (dims.empty()) {
    for (std::int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  std::vector<bool> seen(static_cast<std::size_t>(ndim), false);
  for (std::int64_t d : dims) {
    const auto k = static_cast<std::size_t>(normalize_dim(op, d, ndim));
    if (ndim == 0) continue;  // a 0-d tensor accepts dim 0 / -1 and has nothing to reduce
    if (seen[k]) throw ValueError(cat(op, ": dim ", d, " appears more than once in ", shape_str(dims)));
    seen[k] = true;
  }
  for (std::size_t k = 0; k < seen.size(); ++k)
    if (seen[k]) out.push_back(static_cast<std::int64_t>(k));
  return out;
}

/// The shape with reduced dims set to 1 (keepdim) or removed.
inline Shape reduced_shape(const Shape& shape, const Shape& dims, bool keepdim) {
  Shape out;
  std::size_t next = 0;
  for (std::size_t k = 0; k < shape.size(); ++k) {
    const bool reduced = next < dims.size() && dims[next] == static_cast<std::int64_t>(k);
    if (reduced) ++next;
    if (!reduced)
      out.push_back(shape[k]);
    else if (keepdim)
      out.push_back(1);
  }
  return out;
}

/// A shape seen as [outer, reduced, inner] when the reduced dims are consecutive.
struct BlockLayout {
  std::int64_t outer = 1, reduced = 1, inner = 1;
  static std::optional<BlockLayout> of(const Shape& shape, const Shape& dims) {
    if (dims.empty()) return std::nullopt;
    for (std::size_t k = 1; k < dims.size(); ++k)
      if (dims[k] != dims[k - 1] + 1) return std::nullopt;
    BlockLayout b;
    for (std::size_t k = 0; k < shape.size(); ++k) {
      const auto d = static_cast<std::int64_t>(k);
      (d < dims.front() ? b.outer : d > dims.back() ? b.inner : b.reduced) *= shape[k];
    }
    return b;
  }
};

/// Sum over `dims` into a tensor of shape `out_shape` (the keepdim shape, or the same elements
/// without the reduced dims); `scale` multiplies the result (1/count for mean).
template <class T>
Tensor<T> sum_dims(const Tensor<T>& a, const Shape& dims, const Shape& keep, const Shape& out_shape, double scale) {
  Tensor<T> out = make_tensor<T>(out_shape);
  T* o = out.data();
  const T* x = a.data();
  if (dims.size() == a.shape().size()) {  // everything: one straight loop
    acc_t<T> s = 0;
    for (std::int64_t i = 0, n = a.numel(); i < n; ++i) s += x[i];
    o[0] = static_cast<T>(s * static_cast<acc_t<T>>(scale));
    return out;
  }
  const auto s = static_cast<acc_t<T>>(scale);
  if (const auto block = BlockLayout::of(a.shape(), dims)) {
    // One block of consecutive dims (mean over tokens, say): [outer, reduced, inner]. Sixteen
    // outputs at a time keep their sums in registers over the whole reduced block (a sum held in
    // memory was loaded and stored again for every input); each output still takes its inputs
    // in ascending order from 0, so the results are the bits of the element-by-element loop.
    constexpr std::int64_t kCols = 16;
    const std::int64_t reduced = block->reduced, inner = block->inner;
    for (std::int64_t outer = 0; outer < block->outer; ++outer, o += inner) {
      const T* base = x + outer * reduced * inner;
      std::int64_t j0 = 0;
      for (; j0 + kCols <= inner; j0 += kCols) {
        acc_t<T> sum[kCols] = {};
        for (std::int64_t r = 0; r < reduced; ++r)
          for (std::int64_t q = 0; q < kCols; ++q) sum[q] += base[r * inner + j0 + q];
        for (std::int64_t q = 0; q < kCols; ++q) o[j0 + q] = static_cast<T>(sum[q] * s);
      }
      for (; j0 < inner; ++j0) {
        acc_t<T> sum = 0;
        for (std::int64_t r = 0; r < reduced; ++r) sum += base[r * inner + j0];
        o[j0] = static_cast<T>(sum * s);
      }
    }
    return out;
  }
  std::vector<acc_t<T>> acc(static_cast<std::size_t>(out.numel()), acc_t<T>(0));
  for_each_offset(a.shape(), broadcast_strides(keep, a.shape()),
                  [&](std::int64_t i, std::int64_t offset) { acc[static_cast<std::size_t>(offset)] += x[i]; });
  for (std::size_t i = 0; i < acc.size(); ++i) o[i] = static_cast<T>(acc[i] * s);
  return out;
}

/// Shared body of sum and mean: reduce, then record a backward that spreads g back over the input.
template <class T>
Tensor<T> sum_or_mean(const char* op, const char* node_name, const Tensor<T>& a, const std::vector<std::int64_t>& dims,
                      bool keepdim, bool mean) {
  static_assert(std::is_floating_point_v<T> || std::is_integral_v<T>, "sum: arithmetic types only");
  const Shape rdims = reduce_dims(op, dims, a.dim());
  std::int64_t count = 1;
  for (std::int64_t k : rdims) count *= a.shape()[static_cast<std::size_t>(k)];
  if (mean && count == 0 && a.numel() == 0 && std::is_integral_v<T>)
    throw ValueError(cat(op, ": mean of an empty integer tensor is undefined"));
  const double scale = mean ? 1.0 / static_cast<double>(count) : 1.0;
  const Shape keep = reduced_shape(a.shape(), rdims, true);
  Tensor<T> out = sum_dims(a, rdims, keep, keepdim ? keep : reduced_shape(a.shape(), rdims, false), scale);
  if constexpr (std::is_floating_point_v<T>) {
    if (should_record(a))
      record(out, node_name, edges(a), [in_shape = a.shape(), keep, rdims, scale](const Tensor<T>& g, GradSink& grads) {
        Tensor<T> spread;
        if (g.numel() == 1) {  // a full reduction: every input element gets the same gradient
          spread = make_tensor<T>(in_shape);
          std::fill_n(spread.data(), spread.numel(), static_cast<T>(g.data()[0] * scale));
        } else if (const auto block = BlockLayout::of(in_shape, rdims)) {  // plain loops, same products
          spread = make_tensor<T>(in_shape);
          const T* src = g.data();
          T* dst = spread.data();
          const T s = static_cast<T>(scale);
          for (std::int64_t outer = 0; outer < block->outer; ++outer)
            for (std::int64_t r = 0; r < block->reduced; ++r) {
              T* row = dst + (outer * block->reduced + r) * block->inner;
              const T* from = src + outer * block->inner;
              if (scale != 1.0)
                for (std::int64_t j = 0; j < block->inner; ++j) row[j] = from[j] * s;
              else
                std::copy_n(from, block->inner, row);
            }
        } else {
          spread = expand_copy(make_alias(g, keep), in_shape);
          if (scale != 1.0) spread.flat() *= static_cast<T>(scale);
        }
        grads.add(0, spread);
      });
  }
  return out;
}

}  // namespace detail

/// Sum of all elements (a 0-d tensor). Bool and int32 tensors sum to int64, as in PyTorch.
template <class T>
Tensor<detail::sum_t<T>> sum(const Tensor<T>& a) {
  if constexpr (!std::is_same_v<detail::sum_t<T>, T>) return sum(a.template to<std::int64_t>());
  else return detail::sum_or_mean("sum", "SumBackward0", a, {}, false, false);
}

/// Sum over `dims` (negative dims count from the end); keepdim keeps them with size 1.
template <class T>
Tensor<detail::sum_t<T>> sum(const Tensor<T>& a, const std::vector<std::int64_t>& dims, bool keepdim = false) {
  if (dims.empty()) throw ValueError("sum: the list of dims is empty; call sum(a) to reduce all of them");
  if constexpr (!std::is_same_v<detail::sum_t<T>, T>) return sum(a.template to<std::int64_t>(), dims, keepdim);
  else return detail::sum_or_mean("sum", "SumBackward1", a, dims, keepdim, false);
}

/// Sum over one dim: `sum(x, 1)` is `sum(x, {1})`.
template <class T, class D, detail::if_dim_t<D> = 0>
Tensor<detail::sum_t<T>> sum(const Tensor<T>& a, D dim, bool keepdim = false) {
  return sum(a, std::vector<std::int64_t>{static_cast<std::int64_t>(dim)}, keepdim);
}

/// Mean of all elements (a 0-d tensor).
template <class T>
Tensor<T> mean(const Tensor<T>& a) {
  static_assert(std::is_floating_point_v<T>, "mean: needs a floating-point tensor");
  return detail::sum_or_mean("mean", "MeanBackward0", a, {}, false, true);
}

/// Mean over `dims`; keepdim keeps them with size 1.
template <class T>
Tensor<T> mean(const Tensor<T>& a, const std::vector<std::int64_t>& dims, bool keepdim = false) {
  static_assert(std::is_floating_point_v<T>, "mean: needs a floating-point tensor");
  if (dims.empty()) throw ValueError("mean: the list of dims is empty; call mean(a) to reduce all of them");
  return detail::sum_or_mean("mean", "MeanBackward1", a, dims, keepdim, true);
}

/// Mean over one dim: `mean(x, 1)` is `mean(x, {1})`.
template <class T, class D, detail::if_dim_t<D> = 0>
Tensor<T> mean(const Tensor<T>& a, D dim, bool keepdim = false) {
  return mean(a, std::vector<std::int64_t>{static_cast<std::int64_t>(dim)}, keepdim);
}

/// The p-norm over `dims` (all elements when empty): (sum |x|^p)^(1/p); p may be
/// infinity (max |x|), -infinity (min |x|) or 0 (count of non-zeros, no gradient).
template <class T>
Tensor<T> norm(const Tensor<T>& a, double p, const std::vector<std::int64_t>& dims, bool keepdim = false) {
  static_assert(std::is_floating_point_v<T>, "norm: needs a floating-point tensor");
  const Shape rdims = detail::reduce_dims("norm", dims, a.dim());
  const Shape keep = detail::reduced_shape(a.shape(), rdims, true);
  const Shape strides = detail::broadcast_strides(keep, a.shape());
  const bool inf = std::isinf(p);  // +inf: max |x|, -inf: min |x|
  const bool min = inf && p < 0;
  std::vector<detail::acc_t<T>> acc(static_cast<std::size_t>(detail::numel_of(keep)),
                                    min ? std::numeric_limits<detail::acc_t<T>>::infinity() : 0);
  const T* x = a.data();
  detail::for_each_offset(a.shape(), strides, [&](std::int64_t i, std::int64_t offset) {
    const detail::acc_t<T> v = std::abs(static_cast<detail::acc_t<T>>(x[i]));
    auto& s = acc[static_cast<std::size_t>(offset)];
    if (min)
      s = std::min(s, v);
    else if (inf)
      s = std::max(s, v);
    else if (p == 0)
      s += v != 0;
    else if (p == 1)
      s += v;
    else if (p == 2)
      s += v * v;
    else
      s += std::pow(v, p);
  });
  Tensor<T> out = detail::make_tensor<T>(keep);
  for (std::size_t i = 0; i < acc.size(); ++i) {
    const auto s = acc[i];
    out.data()[i] = static_cast<T>(inf || p == 0 || p == 1 ? s : (p == 2 ? std::sqrt(s) : std::pow(s, 1.0 / p)));
  }
  Tensor<T> result = keepdim ? out : detail::make_alias(out, detail::reduced_shape(a.shape(), rdims, false));
  if (detail::should_record(a))
    detail::record(result, "NormBackward1", detail::edges(a),
                   [xs = detail::save(a), n = detail::save(out), strides, p, inf](const Tensor<T>& g, detail::GradSink& grads) {
                     Tensor<T> ga = detail::make_tensor<T>(xs.shape());
                     const T* xv = xs.data();
                     const T* nv = n.data();
                     const T* gv = g.data();
                     T* o = ga.data();
                     // For p = +-inf, ties share the gradient equally.
                     std::vector<std::int64_t> ties;
                     if (inf) {
                       ties.assign(static_cast<std::size_t>(n.numel()), 0);
                       detail::for_each_offset(xs.shape(), strides, [&](std::int64_t i, std::int64_t k) {
                         if (std::abs(xv[i]) == nv[k]) ++ties[static_cast<std::size_t>(k)];
                       });
                     }
                     detail::for_each_offset(xs.shape(), strides, [&](std::int64_t i, std::int64_t k) {
                       const T v = xv[i], nk = nv[k], sign = v > 0 ? T(1) : (v < 0 ? T(-1) : T(0));
                       T d;
                       if (p == 0)
                         d = 0;
                       else if (inf)
                         d = std::abs(v) == nk ? sign / static_cast<T>(ties[static_cast<std::size_t>(k)]) : T(0);
                       else if (p == 1)
                         d = sign;
                       else if (nk == 0 || v == 0)
                         d = 0;  // the norm's subgradient at 0, and PyTorch's mask of |x|^(p-1) at x = 0 for p < 1
                       else if (p == 2)
                         d = v / nk;
                       else
                         d = sign * static_cast<T>(std::pow(std::abs(v), p - 1) / std::pow(nk, p - 1));
                       o[i] = gv[k] * d;
                     });
                     grads.add(0, ga);
                   });
  return result;
}

/// The p-norm over one dim: `norm(x, 2, 1)` is `norm(x, 2, {1})`.
template <class T, class D, detail::if_dim_t<D> = 0>
Tensor<T> norm(const Tensor<T>& a, double p, D dim, bool keepdim = false) {
  return norm(a, p, std::vector<std::int64_t>{static_cast<std::int64_t>(dim)}, keepdim);
}

/// The p-norm of all elements (p = 2 by default), like torch.norm(a, p).
template <class T>
Tensor<T> norm(const Tensor<T>& a, double p = 2) {
  return norm(a, p, std::vector<std::int64_t>{}, false);
}

namespace detail {

// Index of the extreme element along `dim` (the first one on ties, the first NaN if any, as PyTorch);
// `Better(v, best)` says v beats the current best. dim = nullopt flattens the tensor first.
template <class T, class Better>
Tensor<std::int64_t> arg_extreme(const char* op, const Tensor<T>& input, std::optional<std::int64_t> dim, bool keepdim,
                                 Better better) {
  const Tensor<T> a = dim ? input : make_alias(input, Shape{input.numel()});
  const auto d = static_cast<std::size_t>(normalize_dim(op, dim.value_or(0), a.dim()));
  const Shape& s = a.shape();
  if (!dim && a.numel() == 0)
    throw ValueError(cat(op, ": cannot reduce an empty tensor (shape ", shape_str(input.shape()),
                         ") over all elements; give a dim"));
  if (a.dim() > 0 && s[d] == 0)
    throw ValueError(cat(op, ": cannot reduce over dim ", *dim, " of size 0 (shape ", shape_str(s), ")"));
  if (a.dim() == 0) return scalar_tensor<std::int64_t>(0);
  const std::int64_t outer = numel_of(Shape(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(d)));
  const std::int64_t inner = numel_of(Shape(s.begin() + static_cast<std::ptrdiff_t>(d) + 1, s.end()));
  const std::int64_t len = s[d];
  Shape out_shape = reduced_shape(s, Shape{static_cast<std::int64_t>(d)}, keepdim);
  if (!dim) out_shape = keepdim ? Shape(input.shape().size(), 1) : Shape{};
  Tensor<std::int64_t> out = make_tensor<std::int64_t>(out_shape);
  const T* x = a.data();
  std::int64_t* o = out.data();
  for (std::int64_t i = 0; i < outer; ++i)
    for (std::int64_t j = 0; j < inner; ++j) {
      std::int64_t best = 0;
      for (std::int64_t k = 1; k < len; ++k) {
        const T top = x[(i * len + best) * inner + j];
        if (top != top) break;  // the first NaN wins
        const T v = x[(i * len + k) * inner + j];
        if (better(v, top) || v != v) best = k;
      }
      o[i * inner + j] = best;
    }
  return out;
}

}  // namespace detail

/// Index of the largest element over `dim` (the first one on ties, a NaN beats everything, as
/// PyTorch); not differentiable.
template <class T>
Tensor<std::int64_t> argmax(const Tensor<T>& a, std::int64_t dim, bool keepdim = false) {
  return detail::arg_extreme("argmax", a, dim, keepdim, [](T v, T best) { return v > best; });
}

/// Index of the largest element of the flattened tensor (a 0-d int64 tensor).
template <class T>
Tensor<std::int64_t> argmax(const Tensor<T>& a) {
  return detail::arg_extreme("argmax", a, std::nullopt, false, [](T v, T best) { return v > best; });
}

/// Index of the smallest element over `dim` (the first one on ties, a NaN wins, as PyTorch).
template <class T>
Tensor<std::int64_t> argmin(const Tensor<T>& a, std::int64_t dim, bool keepdim = false) {
  return detail::arg_extreme("argmin", a, dim, keepdim, [](T v, T best) { return v < best; });
}

/// Index of the smallest element of the flattened tensor (a 0-d int64 tensor).
template <class T>
Tensor<std::int64_t> argmin(const Tensor<T>& a) {
  return detail::arg_extreme("argmin", a, std::nullopt, false, [](T v, T best) { return v < best; });
}

/// True when every element is finite (no NaN, no infinity); a sparse tensor's values are checked.
/// One read of the elements, nothing recorded: cheap enough for every step of a training loop.
/// Example: `if (!tapegrad::all_finite(loss)) throw std::runtime_error("training diverged");`
template <class T>
bool all_finite(const Tensor<T>& a) {
  if constexpr (!std::is_floating_point_v<T>) {
    (void)a.numel();  // integers are always finite; still refuse an undefined tensor
    return true;
  } else {
    const Tensor<T> values = a.is_sparse() ? a.values() : a;
    const T* x = values.data();
    bool ok = true;
    for (std::int64_t i = 0, n = values.numel(); i < n; ++i) ok &= std::isfinite(x[i]);  // no early exit: vectorises
    return ok;
  }
}

/// all_finite over several tensors (a model's parameters or their gradients); undefined ones are skipped.
template <class T>
bool all_finite(const std::vector<Tensor<T>>& tensors) {
  for (const Tensor<T>& t : tensors)
    if (t.defined() && !all_finite(t)) return false;
  return true;
}

}  // namespace tapegrad
