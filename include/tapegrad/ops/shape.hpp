// SPDX-License-Identifier: MIT
// Shape ops: cat, stack, index_select, unsqueeze, squeeze, flatten and one_hot.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "tapegrad/autograd.hpp"
#include "tapegrad/factories.hpp"

namespace tapegrad {
namespace detail {

/// " at position 2" (1-d), " at position [1, 0]" (n-d) or "" (0-d): where element `flat` of a
/// tensor of `shape` sits, for messages about bad indices.
inline std::string at_position(const Shape& shape, std::int64_t flat) {
  if (shape.empty()) return "";
  if (shape.size() == 1) return cat(" at position ", flat);
  Shape index(shape.size());
  for (std::size_t k = shape.size(); k-- > 0;) {
    index[k] = flat % shape[k];
    flat /= shape[k];
  }
  return cat(" at position ", shape_str(index));
}

/// Turns a possibly negative dim for a *new* dimension into [0, ndim] (unsqueeze, stack).
inline std::int64_t normalize_new_dim(const char* op, std::int64_t dim, std::int64_t ndim) {
  if (dim < -(ndim + 1) || dim > ndim)
    throw IndexError(cat(op, ": dim ", dim, " is out of range for inserting a dimension into a tensor with ", ndim,
                         " dimension", ndim == 1 ? "" : "s", " (valid range [", -(ndim + 1), ", ", ndim, "])"));
  return dim < 0 ? dim + ndim + 1 : dim;
}

/// Product of shape[begin, end).
inline std::int64_t span_numel(const Shape& shape, std::size_t begin, std::size_t end) {
  std::int64_t n = 1;
  for (std::size_t k = begin; k < end; ++k) n *= shape[k];
  return n;
}

/// The common copy of cat and stack: the output is `outer` rows, each the concatenation of one
/// chunk of every source (source i contributes chunks[i] elements per row).
template <class T>
void concat_chunks(const std::vector<const T*>& sources, const std::vector<std::int64_t>& chunks, std::int64_t outer,
                   T* out) {
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::size_t i = 0; i < sources.size(); ++i) {
      const auto n = static_cast<std::size_t>(chunks[i]);
      if (n) std::memcpy(static_cast<void*>(out), sources[i] + o * chunks[i], n * sizeof(T));
      out += chunks[i];
    }
}

/// The backward of concat_chunks: slices g back into one gradient per wanted input.
template <class T>
void split_chunks(const Tensor<T>& g, const std::vector<Shape>& shapes, const std::vector<std::int64_t>& chunks,
                  std::int64_t outer, GradSink& grads) {
  std::int64_t row = 0;
  for (std::int64_t c : chunks) row += c;
  std::int64_t offset = 0;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    if (grads.wants(i)) {
      Tensor<T> gi = make_tensor<T>(shapes[i]);
      const auto n = static_cast<std::size_t>(chunks[i]);
      if (n)
        for (std::int64_t o = 0; o < outer; ++o)
          std::memcpy(static_cast<void*>(gi.data() + o * chunks[i]), g.data() + o * row + offset, n * sizeof(T));
      grads.add(i, gi);
    }
    offset += chunks[i];
  }
}

/// Records a concat-style op (cat, stack) over `tensors`, if any of them needs a gradient.
template <class T>
void record_concat(Tensor<T>& out, const char* name, const std::vector<Tensor<T>>& tensors,
                   std::vector<std::int64_t> chunks, std::int64_t outer) {
  if (!is_grad_enabled() || std::none_of(tensors.begin(), tensors.end(), [](const Tensor<T>& t) { return t.requires_grad(); }))
    return;
  Edges inputs;
  std::vector<Shape> shapes;
  for (const Tensor<T>& t : tensors) {
    inputs.push_back(edge(t));
    shapes.push_back(t.shape());
  }
  record(out, name, std::move(inputs),
         [shapes = std::move(shapes), chunks = std::move(chunks), outer](const Tensor<T>& g, GradSink& grads) {
           split_chunks(g, shapes, chunks, outer, grads);
         });
}

/// A new handle on t's elements with another shape, recording a node that reshapes the gradient back.
template <class T>
Tensor<T> alias_op(const Tensor<T>& t, Shape shape, const char* name) {
  t.data();  // throws for undefined or sparse tensors, before anything is made
  Tensor<T> out = make_alias(t, std::move(shape));
  if (should_record(t))
    record(out, name, edges(t), [in_shape = t.shape()](const Tensor<T>& g, GradSink& grads) {
      grads.add(0, make_alias(g, in_shape));
    });
  return out;
}

}  // namespace detail

/// Joins tensors along the existing dimension `dim`; all other sizes must match. As in PyTorch, a
/// 1-d empty tensor (shape [0]) is skipped, so a loop can start from `cat({empty, x})`.
/// Example: `cat({a, b}, 1)` for a of shape [2, 3] and b of shape [2, 4] has shape [2, 7].
template <class T>
Tensor<T> cat(const std::vector<Tensor<T>>& tensors, std::int64_t dim = 0) {
  if (tensors.empty()) throw ValueError("cat: expected a non-empty list of tensors");
  auto skipped = [](const Tensor<T>& t) { return t.dim() == 1 && t.numel() == 0; };
  const bool all_skipped = std::all_of(tensors.begin(), tensors.end(), skipped);
  std::size_t first = 0;
  while (!all_skipped && skipped(tensors[first])) ++first;
  const Shape& ref = tensors[first].shape();
  for (std::size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].dim() == 0)
      throw ShapeError(detail::cat("cat: the tensor at position ", i, " is 0-d and cannot be concatenated; unsqueeze it "
                                   "to shape [1] or use stack"));
  const auto d = static_cast<std::size_t>(detail::normalize_dim("cat", dim, static_cast<std::int64_t>(ref.size())));
  std::int64_t total = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Shape& s = tensors[i].shape();
    if (!all_skipped && skipped(tensors[i])) continue;
    if (s.size() != ref.size())
      throw ShapeError(detail::cat("cat: the tensor at position ", i, " has shape ", detail::shape_str(s),
                                   " but the tensor at position ", first, " has shape ", detail::shape_str(ref),
                                   "; all tensors need the same number of dimensions"));
    for (std::size_t k = 0; k < s.size(); ++k)
      if (k != d && s[k] != ref[k])
        throw ShapeError(detail::cat("cat: the tensor at position ", i, " has shape ", detail::shape_str(s),
                                     " but the tensor at position ", first, " has shape ", detail::shape_str(ref),
                                     "; sizes must match except in dimension ", d));
    total += s[d];
  }
  Shape out_shape = ref;
  out_shape[d] = total;
  const std::int64_t outer = detail::span_numel(ref, 0, d), inner = detail::span_numel(ref, d + 1, ref.size());
  std::vector<const T*> sources;
  std::vector<std::int64_t> chunks;
  for (const Tensor<T>& t : tensors) {
    const bool skip = !all_skipped && skipped(t);
    sources.push_back(t.data());
    chunks.push_back(skip ? 0 : t.shape()[d] * inner);
  }
  Tensor<T> out = detail::make_tensor<T>(out_shape, "cat");
  detail::concat_chunks(sources, chunks, outer, out.data());
  detail::record_concat(out, "CatBackward0", tensors, std::move(chunks), outer);
  return out;
}

/// cat for a braced list: `cat({a, b}, 0)`.
template <class T>
Tensor<T> cat(std::initializer_list<Tensor<T>> tensors, std::int64_t dim = 0) {
  return cat(std::vector<Tensor<T>>(tensors), dim);
}

/// Joins tensors of equal shape along a new dimension `dim` (in [-(ndim + 1), ndim]).
/// Example: `stack({a, b}, 0)` for two [3] tensors has shape [2, 3].
template <class T>
Tensor<T> stack(const std::vector<Tensor<T>>& tensors, std::int64_t dim = 0) {
  if (tensors.empty()) throw ValueError("stack: expected a non-empty list of tensors");
  const Shape& ref = tensors[0].shape();
  const auto d = static_cast<std::size_t>(detail::normalize_new_dim("stack", dim, static_cast<std::int64_t>(ref.size())));
  for (std::size_t i = 1; i < tensors.size(); ++i)
    if (tensors[i].shape() != ref)
      throw ShapeError(detail::cat("stack: the tensor at position ", i, " has shape ", detail::shape_str(tensors[i].shape()),
                                   " but the tensor at position 0 has shape ", detail::shape_str(ref),
                                   "; all tensors must have the same shape"));
  Shape out_shape = ref;
  out_shape.insert(out_shape.begin() + d, static_cast<std::int64_t>(tensors.size()));
  const std::int64_t outer = detail::span_numel(ref, 0, d), inner = detail::span_numel(ref, d, ref.size());
  std::vector<const T*> sources;
  for (const Tensor<T>& t : tensors) sources.push_back(t.data());
  std::vector<std::int64_t> chunks(tensors.size(), inner);
  Tensor<T> out = detail::make_tensor<T>(out_shape, "stack");
  detail::concat_chunks(sources, chunks, outer, out.data());
  detail::record_concat(out, "StackBackward0", tensors, std::move(chunks), outer);
  return out;
}

/// stack for a braced list: `stack({a, b}, 1)`.
template <class T>
Tensor<T> stack(std::initializer_list<Tensor<T>> tensors, std::int64_t dim = 0) {
  return stack(std::vector<Tensor<T>>(tensors), dim);
}

/// The slices input[..., index[j], ...] of dimension `dim`, in the order of `index` (0-d or 1-d,
/// int64 or int32; repeats allowed). Negative indices are out of range, as in PyTorch.
template <class T, class I>
Tensor<T> index_select(const Tensor<T>& input, std::int64_t dim, const Tensor<I>& index) {
  static_assert(detail::is_index_v<I>, "index_select: index must be a Tensor<std::int64_t> or Tensor<std::int32_t>");
  const Shape& s = input.shape();
  const auto d = static_cast<std::size_t>(detail::normalize_dim("index_select", dim, input.dim()));
  if (index.dim() > 1)
    throw ShapeError(detail::cat("index_select: index must be 0-d or 1-d, got shape ", detail::shape_str(index.shape())));
  const std::int64_t count = index.numel();
  if (s.empty() && count != 1)
    throw ShapeError(detail::cat("index_select: a 0-d input takes exactly one index, got index of shape ",
                                 detail::shape_str(index.shape())));
  const std::int64_t size = s.empty() ? 1 : s[d];
  const I* idx = index.data();
  for (std::int64_t j = 0; j < count; ++j)
    if (idx[j] < 0 || idx[j] >= size)
      throw IndexError(detail::cat("index_select: index ", idx[j], detail::at_position(index.shape(), j),
                                   " is out of range for dimension ", d, " of size ", size, " (valid range [0, ", size,
                                   "))"));
  Shape out_shape = s;
  if (!s.empty()) out_shape[d] = count;
  const std::int64_t outer = detail::span_numel(s, 0, d), inner = s.empty() ? 1 : detail::span_numel(s, d + 1, s.size());
  Tensor<T> out = detail::make_tensor<T>(out_shape, "index_select");
  const T* x = input.data();
  T* o = out.data();
  const auto row = static_cast<std::size_t>(inner) * sizeof(T);
  for (std::int64_t r = 0; r < outer; ++r)
    for (std::int64_t j = 0; j < count; ++j)
      if (row) std::memcpy(static_cast<void*>(o + (r * count + j) * inner), x + (r * size + idx[j]) * inner, row);
  if (detail::should_record(input))
    detail::record(out, "IndexSelectBackward0", detail::edges(input),
                   [saved = detail::save(index), in_shape = s, outer, inner, size](const Tensor<T>& g, detail::GradSink& grads) {
                     Tensor<T>& gx = grads.buffer<T>(0, in_shape);  // index_add into the input's gradient
                     const I* ix = saved.data();
                     const std::int64_t n = saved.numel();
                     const T* gv = g.data();
                     T* dst = gx.data();
                     for (std::int64_t r = 0; r < outer; ++r)
                       for (std::int64_t j = 0; j < n; ++j) {
                         T* to = dst + (r * size + ix[j]) * inner;
                         const T* from = gv + (r * n + j) * inner;
                         for (std::int64_t k = 0; k < inner; ++k) to[k] += from[k];
                       }
                   });
  return out;
}

/// A view with a new dimension of size 1 at `dim` (in [-(ndim + 1), ndim]).
template <class T>
Tensor<T> unsqueeze(const Tensor<T>& t, std::int64_t dim) {
  const auto d = detail::normalize_new_dim("unsqueeze", dim, t.dim());
  Shape shape = t.shape();
  shape.insert(shape.begin() + d, 1);
  return detail::alias_op(t, std::move(shape), "UnsqueezeBackward0");
}

/// A view without dimension `dim` if its size is 1; otherwise the same shape, as in PyTorch.
template <class T>
Tensor<T> squeeze(const Tensor<T>& t, std::int64_t dim) {
  const auto d = detail::normalize_dim("squeeze", dim, t.dim());
  Shape shape = t.shape();
  if (!shape.empty() && shape[static_cast<std::size_t>(d)] == 1) shape.erase(shape.begin() + d);
  return detail::alias_op(t, std::move(shape), "SqueezeBackward1");
}

/// A view without any of the dimensions of size 1.
template <class T>
Tensor<T> squeeze(const Tensor<T>& t) {
  Shape shape;
  for (std::int64_t s : t.shape())
    if (s != 1) shape.push_back(s);
  return detail::alias_op(t, std::move(shape), "SqueezeBackward0");
}

/// A view with dimensions start_dim..end_dim (inclusive, negative counts from the end) merged into
/// one. A 0-d tensor becomes shape [1]; when start_dim == end_dim the tensor itself comes back.
template <class T>
Tensor<T> flatten(const Tensor<T>& t, std::int64_t start_dim = 0, std::int64_t end_dim = -1) {
  const auto start = static_cast<std::size_t>(detail::normalize_dim("flatten", start_dim, t.dim()));
  const auto end = static_cast<std::size_t>(detail::normalize_dim("flatten", end_dim, t.dim()));
  if (start > end)
    throw ValueError(detail::cat("flatten: start_dim ", start_dim, " comes after end_dim ", end_dim, " (dims ", start,
                                 " and ", end, " of shape ", detail::shape_str(t.shape()), ")"));
  const Shape& s = t.shape();
  if (s.empty()) return detail::alias_op(t, Shape{1}, "ReshapeAliasBackward0");
  if (start == end) return t;
  Shape shape(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(start));
  shape.push_back(detail::span_numel(s, start, end + 1));
  for (std::size_t k = end + 1; k < s.size(); ++k) shape.push_back(s[k]);
  return detail::alias_op(t, std::move(shape), "ReshapeAliasBackward0");
}

/// One-hot encoding: shape indices.shape + [num_classes], 1 at each index's class and 0 elsewhere.
/// num_classes = -1 means the largest index + 1, as in PyTorch. The result type R is int64 unless
/// asked otherwise: `one_hot<float>(labels, 10)`. Not differentiable (its input is integer).
template <class R = std::int64_t, class I>
Tensor<R> one_hot(const Tensor<I>& indices, std::int64_t num_classes = -1) {
  static_assert(detail::is_index_v<I>, "one_hot: indices must be a Tensor<std::int64_t> or Tensor<std::int32_t>");
  if (num_classes < -1)
    throw ValueError(detail::cat("one_hot: num_classes must be -1 (infer it from the data) or >= 0, got ", num_classes));
  const I* idx = indices.data();
  const std::int64_t n = indices.numel();
  if (n == 0 && num_classes == -1)
    throw ValueError("one_hot: cannot infer num_classes from an empty tensor; pass num_classes");
  std::int64_t classes = num_classes;
  if (classes == -1) {
    classes = 0;
    std::int64_t largest = -1;
    for (std::int64_t i = 0; i < n; ++i) largest = std::max<std::int64_t>(largest, static_cast<std::int64_t>(idx[i]));
    if (largest == std::numeric_limits<std::int64_t>::max())
      throw ValueError(detail::cat("one_hot: class ", largest, " leaves no room for num_classes = largest + 1 in int64"));
    classes = largest + 1;
  }
  for (std::int64_t i = 0; i < n; ++i)
    if (idx[i] < 0 || idx[i] >= classes)
      throw IndexError(detail::cat("one_hot: class ", idx[i], detail::at_position(indices.shape(), i),
                                   " is out of range [0, ", classes, ")",
                                   num_classes == -1 ? " (num_classes = -1 takes the largest class + 1)" : ""));
  Shape shape = indices.shape();
  shape.push_back(classes);
  Tensor<R> out = detail::zeros_of<R>(shape, "one_hot");
  R* o = out.data();
  for (std::int64_t i = 0; i < n; ++i) o[i * classes + idx[i]] = R(1);
  return out;
}

}  // namespace tapegrad
