// SPDX-License-Identifier: MIT
// Shape arithmetic shared by tensors and ops: element counts, strides, dims, broadcasting.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "tapegrad/error.hpp"

#if defined(__GNUC__)
#define TAPEGRAD_SHAPE_INLINE __attribute__((always_inline))  // GCC otherwise calls it out of line
#else
#define TAPEGRAD_SHAPE_INLINE
#endif

namespace tapegrad {

/// Sizes of a tensor's dimensions, outermost first; `{}` is a 0-d (scalar) tensor.
///
/// A vector of int64 that keeps up to 6 sizes inline (no heap allocation), because ops copy
/// shapes constantly. It converts to and from std::vector<std::int64_t>.
class Shape {
 public:
  using value_type = std::int64_t;
  using size_type = std::size_t;
  using iterator = std::int64_t*;
  using const_iterator = const std::int64_t*;
  static constexpr size_type kInline = 6;

  // Zeroed even when empty: shapes are copied bytewise, and copying uninitialised bytes trips
  // -Wmaybe-uninitialized in optimised user builds.
  Shape() noexcept : inline_{} {}
  Shape(std::initializer_list<std::int64_t> dims) : inline_{} { assign(dims.begin(), dims.end()); }
  explicit Shape(size_type n, std::int64_t value = 0) : inline_{} { resize(n, value); }
  template <class It, class = std::enable_if_t<!std::is_integral_v<It>>>
  Shape(It first, It last) : inline_{} {
    assign(first, last);
  }
  Shape(const std::vector<std::int64_t>& dims) : inline_{} { assign(dims.begin(), dims.end()); }  // NOLINT: implicit
  TAPEGRAD_SHAPE_INLINE Shape(const Shape& other) : size_(other.size_) {
    // Every op copies a shape or two: the inline case stays a few register moves, inlined; the
    // rare heap case (more than kInline dims) is out of line so it does not stop that.
    if (__builtin_expect(other.heap_ != nullptr, 0))
      copy_heap(other);
    else
      std::memcpy(inline_, other.inline_, sizeof inline_);
  }
  Shape(Shape&& other) noexcept : size_(other.size_), capacity_(other.capacity_), heap_(std::move(other.heap_)) {
    std::memcpy(inline_, other.inline_, sizeof inline_);
    other.size_ = 0;
    other.capacity_ = kInline;
  }
  Shape& operator=(const Shape& other) {
    if (this == &other) return *this;
    if (other.heap_) {
      assign(other.begin(), other.end());
    } else {
      heap_.reset();
      capacity_ = kInline;
      std::memcpy(inline_, other.inline_, sizeof inline_);
      size_ = other.size_;
    }
    return *this;
  }
  Shape& operator=(Shape&& other) noexcept {
    if (this == &other) return *this;
    heap_ = std::move(other.heap_);
    capacity_ = other.capacity_;
    std::memcpy(inline_, other.inline_, sizeof inline_);
    size_ = other.size_;
    other.size_ = 0;
    other.capacity_ = kInline;
    return *this;
  }

  operator std::vector<std::int64_t>() const { return std::vector<std::int64_t>(begin(), end()); }  // NOLINT

  size_type size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::int64_t* data() noexcept { return heap_ ? heap_.get() : inline_; }
  const std::int64_t* data() const noexcept { return heap_ ? heap_.get() : inline_; }
  iterator begin() noexcept { return data(); }
  iterator end() noexcept { return data() + size_; }
  const_iterator begin() const noexcept { return data(); }
  const_iterator end() const noexcept { return data() + size_; }
  std::int64_t& operator[](size_type i) noexcept { return data()[i]; }
  std::int64_t operator[](size_type i) const noexcept { return data()[i]; }
  std::int64_t& front() noexcept { return data()[0]; }
  std::int64_t front() const noexcept { return data()[0]; }
  std::int64_t& back() noexcept { return data()[size_ - 1]; }
  std::int64_t back() const noexcept { return data()[size_ - 1]; }

  void reserve(size_type n) {
    if (n <= capacity_) return;
    auto bigger = std::make_unique<std::int64_t[]>(n);
    std::copy(begin(), end(), bigger.get());
    heap_ = std::move(bigger);
    capacity_ = static_cast<std::uint32_t>(n);
  }
  void resize(size_type n, std::int64_t value = 0) {
    reserve(n);
    for (size_type i = size_; i < n; ++i) data()[i] = value;
    size_ = static_cast<std::uint32_t>(n);
  }
  void clear() noexcept { size_ = 0; }
  void push_back(std::int64_t v) {
    if (size_ == capacity_) reserve(2 * capacity_);
    data()[size_++] = v;
  }
  void pop_back() noexcept { --size_; }
  iterator insert(const_iterator pos, std::int64_t v) {
    const auto at = static_cast<size_type>(pos - begin());
    push_back(v);
    std::rotate(begin() + at, end() - 1, end());
    return begin() + at;
  }
  iterator erase(const_iterator pos) {
    const auto at = static_cast<size_type>(pos - begin());
    std::copy(begin() + at + 1, end(), begin() + at);
    --size_;
    return begin() + at;
  }

  friend bool operator==(const Shape& a, const Shape& b) noexcept {
    if (a.size_ != b.size_) return false;
    const std::int64_t *x = a.data(), *y = b.data();
    for (size_type i = 0; i < a.size_; ++i)
      if (x[i] != y[i]) return false;
    return true;
  }
  friend bool operator!=(const Shape& a, const Shape& b) noexcept { return !(a == b); }
  friend bool operator==(const Shape& a, const std::vector<std::int64_t>& b) noexcept {
    return a.size_ == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }
  friend bool operator==(const std::vector<std::int64_t>& a, const Shape& b) noexcept { return b == a; }
  friend bool operator!=(const Shape& a, const std::vector<std::int64_t>& b) noexcept { return !(a == b); }
  friend bool operator!=(const std::vector<std::int64_t>& a, const Shape& b) noexcept { return !(b == a); }

 private:
  __attribute__((noinline)) void copy_heap(const Shape& other) {
    std::fill(inline_, inline_ + kInline, 0);
    size_ = 0;
    assign(other.begin(), other.end());
  }
  template <class It>
  void assign(It first, It last) {
    const auto n = static_cast<size_type>(std::distance(first, last));
    if (n > capacity_) reserve(n);
    std::copy(first, last, data());
    size_ = static_cast<std::uint32_t>(n);
  }

  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = kInline;
  std::unique_ptr<std::int64_t[]> heap_;
  std::int64_t inline_[kInline];  // copied whole with memcpy (bytes), read only below size_
};

namespace detail {

/// "[2, 3]", the way shapes appear in every message.
inline std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace detail

/// Prints a shape as [2, 3].
inline std::ostream& operator<<(std::ostream& os, const Shape& shape) { return os << detail::shape_str(shape); }

namespace detail {

/// Product of the sizes; throws for a negative size or a product that does not fit in int64.
[[noreturn]] TAPEGRAD_COLD inline void throw_bad_numel(const char* op, const Shape& shape) {
  for (std::int64_t s : shape)
    if (s < 0) throw ValueError(cat(op, ": negative dimension ", s, " in shape ", shape_str(shape)));
  throw ValueError(cat(op, ": shape ", shape_str(shape), " has more elements than fit in int64"));
}

inline std::int64_t checked_numel(const char* op, const Shape& shape) {
  std::int64_t n = 1;
  bool bad = false;
  for (std::int64_t s : shape) {
    bad |= s < 0;
    bad |= __builtin_mul_overflow(n, s, &n);
  }
  if (bad) throw_bad_numel(op, shape);
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
  Shape idx(nd, 0);
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
  Shape idx(nd, 0);
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
