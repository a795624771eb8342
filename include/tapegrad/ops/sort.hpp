// SPDX-License-Identifier: MIT
// Value-selecting ops: max/min (over a dim, over everything, element-wise), topk, sort, argsort, cumsum.
//
// Ties are broken exactly as PyTorch 1.13 on the CPU: max/min over a dim pick the first extreme
// (or the first NaN); sort and topk run the same standard-library algorithms PyTorch runs
// (std::sort / std::stable_sort, std::partial_sort / std::nth_element) with the same comparators
// on (value, index) pairs, so equal values come out in the same order. NaN counts as larger than
// everything (last in an ascending sort, first in topk(largest)).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapegrad/ops/compare.hpp"
#include "tapegrad/ops/pointwise.hpp"
#include "tapegrad/ops/reduce.hpp"

namespace tapegrad {
namespace detail {

/// A shape seen as [outer, len, inner] around one dim; a 0-d tensor is [1, 1, 1].
struct AlongDim {
  std::int64_t outer = 1, len = 1, inner = 1;
  static AlongDim of(const Shape& shape, std::int64_t dim) {
    AlongDim a;
    if (shape.empty()) return a;
    const auto d = static_cast<std::size_t>(dim);
    for (std::size_t k = 0; k < d; ++k) a.outer *= shape[k];
    a.len = shape[d];
    for (std::size_t k = d + 1; k < shape.size(); ++k) a.inner *= shape[k];
    return a;
  }
};

template <class T>
bool is_nan_value(T v) {
  return v != v;  // false for every integer type
}

/// PyTorch's sort order: a before b when a < b, with NaN after everything (KeyValueCompAsc).
template <class T>
bool nan_last_less(T a, T b) {
  return (!is_nan_value(a) && is_nan_value(b)) || a < b;
}

/// The descending counterpart: NaN before everything (KeyValueCompDesc).
template <class T>
bool nan_first_greater(T a, T b) {
  return (is_nan_value(a) && !is_nan_value(b)) || a > b;
}

/// values[(o, r, j)] = x[(o, indices[(o, r, j)], j)] for an input laid out as `in` and k picks per row.
template <class T>
Tensor<T> gather_along(const Tensor<T>& x, const AlongDim& in, const Tensor<std::int64_t>& indices, std::int64_t k) {
  Tensor<T> out = make_tensor<T>(indices.shape());
  const T* src = x.data();
  const std::int64_t* idx = indices.data();
  T* dst = out.data();
  for (std::int64_t o = 0; o < in.outer; ++o)
    for (std::int64_t r = 0; r < k; ++r)
      for (std::int64_t j = 0; j < in.inner; ++j) {
        const std::int64_t at = (o * k + r) * in.inner + j;
        dst[at] = src[(o * in.len + idx[at]) * in.inner + j];
      }
  return out;
}

/// The backward of every op that picks values by index (max/min over a dim, topk, sort): g goes
/// back to the picked positions, zeros elsewhere (PyTorch's value_selecting_reduction_backward).
template <class T>
Tensor<T> scatter_along(const Tensor<T>& g, const Saved<std::int64_t>& indices, const Shape& in_shape, std::int64_t dim,
                        std::int64_t k) {
  const AlongDim in = AlongDim::of(in_shape, dim);
  Tensor<T> out = zeros_of<T>(in_shape);
  const T* src = g.data();
  const std::int64_t* idx = indices.data();
  T* dst = out.data();
  for (std::int64_t o = 0; o < in.outer; ++o)
    for (std::int64_t r = 0; r < k; ++r)
      for (std::int64_t j = 0; j < in.inner; ++j) {
        const std::int64_t at = (o * k + r) * in.inner + j;
        dst[(o * in.len + idx[at]) * in.inner + j] += src[at];
      }
  return out;
}

/// Records `values` = a picked at `indices` along `dim` (k per row), if a needs a gradient.
template <class T>
void record_selection(Tensor<T>& values, const char* node_name, const Tensor<T>& a, const Tensor<std::int64_t>& indices,
                      std::int64_t dim, std::int64_t k) {
  if constexpr (std::is_floating_point_v<T>) {
    if (should_record(a))
      record(values, node_name, edges(a),
             [idx = save(indices), in_shape = a.shape(), dim, k](const Tensor<T>& g, GradSink& grads) {
               grads.add(0, scatter_along(g, idx, in_shape, dim, k));
             });
  }
}

/// Shared body of max/min over a dim: the index of the first extreme (first NaN) as argmax/argmin,
/// then the value there.
template <class T, class Better>
std::tuple<Tensor<T>, Tensor<std::int64_t>> extreme_along(const char* op, const char* node_name, const Tensor<T>& a,
                                                          std::int64_t dim, bool keepdim, Better better) {
  require_defined(op, "the input tensor", a);
  Tensor<std::int64_t> indices = arg_extreme(op, a, dim, keepdim, better);
  const std::int64_t d = normalize_dim(op, dim, a.dim());
  Tensor<T> values = gather_along(a, AlongDim::of(a.shape(), d), indices, 1);
  record_selection(values, node_name, a, indices, d, 1);
  return {values, indices};
}

/// Shared body of max/min over all elements. The gradient is shared evenly by every element equal
/// to the result (every NaN when the result is NaN), as PyTorch's evenly_distribute_backward.
template <class T, class Better>
Tensor<T> extreme_all(const char* op, const char* node_name, const Tensor<T>& a, Better better) {
  require_defined(op, "the input tensor", a);
  const std::int64_t at = arg_extreme(op, a, std::nullopt, false, better).item();
  Tensor<T> out = scalar_tensor<T>(a.data()[at]);
  if constexpr (std::is_floating_point_v<T>) {
    if (should_record(a))
      record(out, node_name, edges(a), [x = save(a), result = a.data()[at]](const Tensor<T>& g, GradSink& grads) {
        auto picked = [result](T v) { return is_nan_value(result) ? is_nan_value(v) : v == result; };
        const T* xv = x.data();
        std::int64_t count = 0;
        for (std::int64_t i = 0; i < x.numel(); ++i) count += picked(xv[i]);
        const T share = g.data()[0] / static_cast<T>(count);
        Tensor<T> out_grad = make_tensor<T>(x.shape());
        T* o = out_grad.data();
        for (std::int64_t i = 0; i < x.numel(); ++i) o[i] = picked(xv[i]) ? share : T(0);
        grads.add(0, out_grad);
      });
  }
  return out;
}

/// Shared body of maximum/minimum. `wins(x, y)` says x is the result when neither is NaN (x on
/// equal values). NaN on either side gives NaN; the gradient follows the winner, is halved
/// between equal inputs, and goes to both where the result is NaN (PyTorch 1.13's formula).
template <class T, class Wins>
Tensor<T> extreme_pair(const char* op, const char* node_name, const Tensor<T>& a, const Tensor<T>& b, Wins wins) {
  require_defined(op, "the input tensor", a);
  require_defined(op, "the input tensor", b);
  Tensor<T> out = broadcast_map(op, a, b, [wins](T x, T y) { return is_nan_value(x) ? x : is_nan_value(y) ? y : wins(x, y) ? x : y; });
  if constexpr (std::is_floating_point_v<T>) {
    if (should_record(a, b))
      record(out, node_name, edges(a, b), [xa = save(a), xb = save(b), wins](const Tensor<T>& g, GradSink& grads) {
        const Shape& shape = g.shape();
        Tensor<T> ga = make_tensor<T>(shape), gb = make_tensor<T>(shape);
        const T *x = xa.data(), *y = xb.data(), *gv = g.data();
        T *pa = ga.data(), *pb = gb.data();
        for_each_offset2(shape, broadcast_strides(xa.shape(), shape), broadcast_strides(xb.shape(), shape),
                         [&](std::int64_t i, std::int64_t ia, std::int64_t ib) {
                           const T u = x[ia], v = y[ib];
                           // Strict loses: neither side loses to a NaN, so both get g there.
                           const bool a_loses = u != v && !is_nan_value(u) && !is_nan_value(v) && !wins(u, v);
                           const bool b_loses = u != v && !is_nan_value(u) && !is_nan_value(v) && wins(u, v);
                           const T share = u == v ? gv[i] / 2 : gv[i];
                           pa[i] = a_loses ? T(0) : share;
                           pb[i] = b_loses ? T(0) : share;
                         });
        if (grads.wants(0)) grads.add(0, sum_to(ga, xa.shape()));
        if (grads.wants(1)) grads.add(1, sum_to(gb, xb.shape()));
      });
  }
  return out;
}

/// Sorts or selects along `dim`, one row at a time, with the algorithm PyTorch 1.13's CPU kernel
/// uses, so equal values come out in PyTorch's order. `select(queue, less)` reorders the row's
/// (value, index) pairs so that its first `k` entries are the result.
template <class T, class Select>
std::tuple<Tensor<T>, Tensor<std::int64_t>> order_along(const Tensor<T>& a, std::int64_t dim, std::int64_t k,
                                                        bool descending, Select select) {
  const AlongDim in = AlongDim::of(a.shape(), dim);
  Shape out_shape = a.shape();
  if (!out_shape.empty()) out_shape[static_cast<std::size_t>(dim)] = k;
  Tensor<T> values = make_tensor<T>(out_shape);
  Tensor<std::int64_t> indices = make_tensor<std::int64_t>(out_shape);
  const T* x = a.data();
  T* ov = values.data();
  std::int64_t* oi = indices.data();
  using Entry = std::pair<T, std::int64_t>;
  std::vector<Entry> queue(static_cast<std::size_t>(in.len));
  auto asc = [](const Entry& p, const Entry& q) { return nan_last_less(p.first, q.first); };
  auto desc = [](const Entry& p, const Entry& q) { return nan_first_greater(p.first, q.first); };
  for (std::int64_t o = 0; o < in.outer; ++o)
    for (std::int64_t j = 0; j < in.inner; ++j) {
      for (std::int64_t r = 0; r < in.len; ++r) queue[static_cast<std::size_t>(r)] = {x[(o * in.len + r) * in.inner + j], r};
      if (descending)
        select(queue, desc);
      else
        select(queue, asc);
      for (std::int64_t r = 0; r < k; ++r) {
        ov[(o * k + r) * in.inner + j] = queue[static_cast<std::size_t>(r)].first;
        oi[(o * k + r) * in.inner + j] = queue[static_cast<std::size_t>(r)].second;
      }
    }
  return {values, indices};
}

/// sort without recording (argsort needs no gradient).
template <class T>
std::tuple<Tensor<T>, Tensor<std::int64_t>> sort_values(const char* op, const Tensor<T>& a, std::int64_t dim,
                                                        bool descending, bool stable) {
  require_defined(op, "the input tensor", a);
  const std::int64_t d = normalize_dim(op, dim, a.dim());
  const std::int64_t len = a.dim() == 0 ? 1 : a.shape()[static_cast<std::size_t>(d)];
  return order_along(a, d, len, descending, [stable](auto& queue, auto less) {
    // Like PyTorch: std::sort unless asked for stability; std::sort keeps ties in their original
    // order only for short rows (up to 16 elements, where it runs an insertion sort).
    if (stable)
      std::stable_sort(queue.begin(), queue.end(), less);
    else
      std::sort(queue.begin(), queue.end(), less);
  });
}

/// cumsum's accumulator: acc_t for floats; unsigned for integers, so an overflow wraps around as
/// in PyTorch instead of being undefined behaviour.
template <class T, bool = std::is_integral_v<T>>
struct CumsumAcc {
  using type = acc_t<T>;
};
template <class T>
struct CumsumAcc<T, true> {
  using type = std::make_unsigned_t<T>;
};

/// Cumulative sum along `dim`, accumulated in acc_t<T> (double for float, as PyTorch's CPU kernel);
/// `reverse` sums from the end (the gradient of cumsum).
template <class T>
Tensor<T> cumulative_sum(const Tensor<T>& a, std::int64_t dim, bool reverse) {
  const AlongDim in = AlongDim::of(a.shape(), dim);
  Tensor<T> out = make_tensor<T>(a.shape());
  const T* x = a.data();
  T* o = out.data();
  using Acc = typename CumsumAcc<T>::type;
  for (std::int64_t i = 0; i < in.outer; ++i)
    for (std::int64_t j = 0; j < in.inner; ++j) {
      Acc running = 0;
      for (std::int64_t step = 0; step < in.len; ++step) {
        const std::int64_t r = reverse ? in.len - 1 - step : step;
        const std::int64_t at = (i * in.len + r) * in.inner + j;
        running += static_cast<Acc>(x[at]);
        o[at] = static_cast<T>(running);
      }
    }
  return out;
}

}  // namespace detail

// ---- max / min over a dim --------------------------------------------------------------------------

/// torch.max(a, dim, keepdim): the largest value over `dim` and its index, as a tuple
/// `auto [values, indices] = max(x, 1);`. On ties the first index wins; a NaN beats everything
/// (the first NaN). Gradient to the picked element ("MaxBackward0"). A 0-d tensor gives itself and 0.
template <class T>
std::tuple<Tensor<T>, Tensor<std::int64_t>> max(const Tensor<T>& a, std::int64_t dim, bool keepdim = false) {
  return detail::extreme_along("max", "MaxBackward0", a, dim, keepdim, [](T v, T best) { return v > best; });
}

/// torch.min(a, dim, keepdim): the smallest value over `dim` and its index (first on ties, first NaN).
template <class T>
std::tuple<Tensor<T>, Tensor<std::int64_t>> min(const Tensor<T>& a, std::int64_t dim, bool keepdim = false) {
  return detail::extreme_along("min", "MinBackward0", a, dim, keepdim, [](T v, T best) { return v < best; });
}

// ---- max / min over all elements ----------------------------------------------------------------

/// torch.max(a): the largest element as a 0-d tensor (NaN if any element is NaN). The gradient is
/// shared evenly by all elements equal to the maximum ("MaxBackward1"). Throws for an empty tensor.
template <class T>
Tensor<T> max(const Tensor<T>& a) {
  return detail::extreme_all("max", "MaxBackward1", a, [](T v, T best) { return v > best; });
}

/// torch.min(a): the smallest element as a 0-d tensor; ties share the gradient ("MinBackward1").
template <class T>
Tensor<T> min(const Tensor<T>& a) {
  return detail::extreme_all("min", "MinBackward1", a, [](T v, T best) { return v < best; });
}

// ---- element-wise maximum / minimum --------------------------------------------------------------

/// torch.maximum(a, b): the element-wise larger value, with broadcasting; NaN if either is NaN.
/// Where a == b the gradient is split in half between them ("MaximumBackward0").
template <class T>
Tensor<T> maximum(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::extreme_pair("maximum", "MaximumBackward0", a, b, [](T x, T y) { return x >= y; });
}

/// torch.minimum(a, b): the element-wise smaller value, with broadcasting; NaN if either is NaN.
template <class T>
Tensor<T> minimum(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::extreme_pair("minimum", "MinimumBackward0", a, b, [](T x, T y) { return x <= y; });
}

/// torch.max(a, b): the same as maximum(a, b).
template <class T>
Tensor<T> max(const Tensor<T>& a, const Tensor<T>& b) {
  return maximum(a, b);
}

/// torch.min(a, b): the same as minimum(a, b).
template <class T>
Tensor<T> min(const Tensor<T>& a, const Tensor<T>& b) {
  return minimum(a, b);
}

// ---- topk ------------------------------------------------------------------------------------------

/// torch.topk: the k largest (or smallest) values along `dim` and their indices, as a tuple. With
/// `sorted` they come largest first (smallest first when !largest); NaN counts as the largest
/// value. Equal values come out in the order PyTorch 1.13's CPU kernel gives them (it is not
/// the original order in general). Gradient to the picked elements ("TopkBackward0").
/// Throws IndexError unless 0 <= k <= size of dim.
template <class T>
std::tuple<Tensor<T>, Tensor<std::int64_t>> topk(const Tensor<T>& a, std::int64_t k, std::int64_t dim = -1,
                                                 bool largest = true, bool sorted = true) {
  static_assert(!std::is_same_v<T, bool>, "topk: not implemented for bool tensors (as in PyTorch)");
  detail::require_defined("topk", "the input tensor", a);
  const std::int64_t d = detail::normalize_dim("topk", dim, a.dim());
  const std::int64_t len = a.dim() == 0 ? 1 : a.shape()[static_cast<std::size_t>(d)];
  if (k < 0 || k > len)
    throw IndexError(detail::cat("topk: k = ", k, " is out of range for dim ", dim, " of size ", len,
                                 " (valid range [0, ", len, "])"));
  // A 0-d tensor gives itself and index 0 even for k = 0, as PyTorch does.
  const std::int64_t picks = a.dim() == 0 ? 1 : k;
  auto [values, indices] = detail::order_along(a, d, picks, largest, [k, len, sorted](auto& queue, auto before) {
    if (k == 0) return;
    // PyTorch's topk_impl_loop: a partial sort when k is small against the row, otherwise
    // nth_element and (if sorted) a sort of the first k - 1 (the k-th is already in place).
    if (k * 64 <= len) {
      std::partial_sort(queue.begin(), queue.begin() + k, queue.end(), before);
    } else {
      std::nth_element(queue.begin(), queue.begin() + (k - 1), queue.end(), before);
      if (sorted) std::sort(queue.begin(), queue.begin() + (k - 1), before);
    }
  });
  detail::record_selection(values, "TopkBackward0", a, indices, d, picks);
  return {values, indices};
}

// ---- sort / argsort -------------------------------------------------------------------------------

/// torch.sort: the values along `dim` in ascending (or descending) order and the index each came
/// from, as a tuple. NaN sorts as the largest value. Like PyTorch's CPU sort, rows of up to 16
/// elements keep equal values in their original order either way; longer rows do so only with
/// `stable` (otherwise they come in the order std::sort leaves them, which is PyTorch's order).
/// Gradient to the source positions ("SortBackward0", "SortBackward1" when stable).
template <class T>
std::tuple<Tensor<T>, Tensor<std::int64_t>> sort(const Tensor<T>& a, std::int64_t dim = -1, bool descending = false,
                                                bool stable = false) {
  auto [values, indices] = detail::sort_values("sort", a, dim, descending, stable);
  const std::int64_t d = detail::normalize_dim("sort", dim, a.dim());
  const std::int64_t len = a.dim() == 0 ? 1 : a.shape()[static_cast<std::size_t>(d)];
  detail::record_selection(values, stable ? "SortBackward1" : "SortBackward0", a, indices, d, len);
  return {values, indices};
}

/// torch.argsort: the indices that sort `a` along `dim` (the indices of sort(a, dim, descending)).
template <class T>
Tensor<std::int64_t> argsort(const Tensor<T>& a, std::int64_t dim = -1, bool descending = false) {
  return std::get<1>(detail::sort_values("argsort", a, dim, descending, false));
}

// ---- cumsum ----------------------------------------------------------------------------------------

/// torch.cumsum: running sums along `dim` (out[i] = a[0] + ... + a[i]). Bool and int32 tensors
/// give int64, as in PyTorch. The gradient is the reversed running sum of g ("CumsumBackward0").
template <class T>
Tensor<detail::sum_t<T>> cumsum(const Tensor<T>& a, std::int64_t dim) {
  detail::require_defined("cumsum", "the input tensor", a);
  const std::int64_t d = detail::normalize_dim("cumsum", dim, a.dim());
  if constexpr (!std::is_same_v<detail::sum_t<T>, T>) {
    return detail::cumulative_sum(a.template to<std::int64_t>(), d, false);
  } else {
    Tensor<T> out = detail::cumulative_sum(a, d, false);
    if constexpr (std::is_floating_point_v<T>) {
      if (detail::should_record(a))
        detail::record(out, "CumsumBackward0", detail::edges(a), [d](const Tensor<T>& g, detail::GradSink& grads) {
          grads.add(0, detail::cumulative_sum(g, d, true));
        });
    }
    return out;
  }
}

}  // namespace tapegrad
