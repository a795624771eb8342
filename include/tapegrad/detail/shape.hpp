// SPDX-License-Identifier: MIT
// Shape arithmetic shared by tensors and ops: element counts, strides, dims, broadcasting.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "tapegrad/error.hpp"

namespace tapegrad {

/// Sizes of a tensor's dimensions, outermost first. `{}` is a 0-d (scalar) tensor.
using Shape = std::vector<std::int64_t>;

namespace detail {

/// Product of the sizes; throws for a negative size or a product that does not fit in int64.
inline std::int64_t checked_numel(const char* op, const Shape& shape) {
  std::int64_t n = 1;
  for (std::int64_t s : shape) {
    if (s < 0) throw ValueError(cat(op, ": negative dimension ", s, " in shape ", shape_str(shape)));
    if (s != 0 && n > std::numeric_limits<std::int64_t>::max() / s)
      throw ValueError(cat(op, ": shape ", shape_str(shape), " has more elements than fit in int64"));
    n *= s;
  }
  return n;
}

inline std::int64_t numel_of(const Shape& shape) noexcept {
  std::int64_t n = 1;
  for (std::int64_t s : shape) n *= s;
  return n;
}

/// Row-major strides, in elements.
inline Shape strides_of(const Shape& shape) {
  Shape strides(shape.size());
  std::int64_t s = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/// Turns a possibly negative dim into [0, ndim); a 0-d tensor accepts -1 and 0, as in PyTorch.
inline std::int64_t normalize_dim(const char* op, std::int64_t dim, std::int64_t ndim) {
  const std::int64_t n = ndim == 0 ? 1 : ndim;
  if (dim < -n || dim >= n)
    throw IndexError(cat(op, ": dim ", dim, " is out of range for a tensor with ", ndim,
                         " dimension", ndim == 1 ? "" : "s", " (valid range [", -n, ", ", n - 1, "])"));
  return dim < 0 ? dim + n : dim;
}

/// NumPy broadcasting: align from the right; sizes must match or one of them must be 1.
inline Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const std::size_t n = a.size() > b.size() ? a.size() : b.size();
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t x = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::int64_t y = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (x != y && x != 1 && y != 1)
      throw ShapeError(cat(op, ": shapes ", shape_str(a), " and ", shape_str(b), " cannot be broadcast together (size ", x,
                           " vs ", y, " at dimension ", i, " of the result)"));
    out[i] = x == 1 ? y : x;
  }
  return out;
}

/// Strides for reading a tensor of `shape` as if it had the larger shape `target` (0 where broadcast).
inline Shape broadcast_strides(const Shape& shape, const Shape& target) {
  Shape strides(target.size(), 0);
  const Shape own = strides_of(shape);
  const std::size_t offset = target.size() - shape.size();
  for (std::size_t i = 0; i < shape.size(); ++i) strides[offset + i] = shape[i] == 1 ? 0 : own[i];
  return strides;
}


/// Calls f(i, offset) for each element i of `shape` in row-major order, where offset is the
/// element's position under `strides` (strides of 0 repeat a broadcast dimension).
template <class F>
void for_each_offset(const Shape& shape, const Shape& strides, F&& f) {
  const std::size_t nd = shape.size();
  const std::int64_t n = numel_of(shape);
  if (n == 0) return;
  if (nd == 0) {
    f(std::int64_t(0), std::int64_t(0));
    return;
  }
  const std::int64_t inner = shape[nd - 1], inner_stride = strides[nd - 1];
  std::vector<std::int64_t> idx(nd, 0);
  std::int64_t base = 0;
  for (std::int64_t i = 0; i < n; i += inner) {
    for (std::int64_t j = 0; j < inner; ++j) f(i + j, base + j * inner_stride);
    for (std::size_t k = nd - 1; k-- > 0;) {
      base += strides[k];
      if (++idx[k] < shape[k]) break;
      base -= strides[k] * shape[k];
      idx[k] = 0;
    }
  }
}

/// Like for_each_offset, with two stride sets: f(i, offset_a, offset_b).
template <class F>
void for_each_offset2(const Shape& shape, const Shape& strides_a, const Shape& strides_b, F&& f) {
  const std::size_t nd = shape.size();
  const std::int64_t n = numel_of(shape);
  if (n == 0) return;
  if (nd == 0) {
    f(std::int64_t(0), std::int64_t(0), std::int64_t(0));
    return;
  }
  const std::int64_t inner = shape[nd - 1], ia = strides_a[nd - 1], ib = strides_b[nd - 1];
  std::vector<std::int64_t> idx(nd, 0);
  std::int64_t base_a = 0, base_b = 0;
  for (std::int64_t i = 0; i < n; i += inner) {
    for (std::int64_t j = 0; j < inner; ++j) f(i + j, base_a + j * ia, base_b + j * ib);
    for (std::size_t k = nd - 1; k-- > 0;) {
      base_a += strides_a[k];
      base_b += strides_b[k];
      if (++idx[k] < shape[k]) break;
      base_a -= strides_a[k] * shape[k];
      base_b -= strides_b[k] * shape[k];
      idx[k] = 0;
    }
  }
}

}  // namespace detail
}  // namespace tapegrad
