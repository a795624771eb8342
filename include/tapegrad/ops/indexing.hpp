// SPDX-License-Identifier: MIT
// Indexing as in libtorch's torch::indexing: select, narrow, index (x[1:, None, idx]) and index_put.
//
// tapegrad tensors are always contiguous and have no strided views, so every indexing result is a
// new tensor (a copy), not a view: writing into the result does not change the source. Gradients
// still flow from the result back to the source. To write into a tensor, use index_put_ (in place)
// or index_put (out of place, differentiable), never the result of index().
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapegrad/ops/reduce.hpp"
#include "tapegrad/ops/shape.hpp"

namespace tapegrad {
namespace indexing {

/// Absent: a missing Slice bound (`Slice(1, None)`) or, as an index entry, a new dim of size 1.
inline constexpr std::nullopt_t None = std::nullopt;

/// The type of Ellipsis.
struct EllipsisIndexType {
  explicit constexpr EllipsisIndexType() = default;
};
/// As an index entry: as many full slices as the dims the other entries leave over (Python's `...`).
inline constexpr EllipsisIndexType Ellipsis{};

/// A Python slice start:stop:step; a `None` bound means absent. Bounds clamp to the size as in
/// Python, negative bounds count from the end. The step must be positive (as in PyTorch).
/// Example: `Slice(1, None)` is `1:`, `Slice(None, 3)` is `:3`, `Slice(0, 6, 2)` is `0:6:2`.
class Slice {
 public:
  Slice(std::optional<std::int64_t> start = std::nullopt, std::optional<std::int64_t> stop = std::nullopt,
        std::optional<std::int64_t> step = std::nullopt)
      : start_(start), stop_(stop), step_(step.value_or(1)) {
    if (step_ <= 0) throw ValueError(detail::cat("Slice: step must be greater than zero, got ", step_));
  }
  std::optional<std::int64_t> start() const noexcept { return start_; }
  std::optional<std::int64_t> stop() const noexcept { return stop_; }
  std::int64_t step() const noexcept { return step_; }

 private:
  std::optional<std::int64_t> start_, stop_;
  std::int64_t step_;
};

/// One entry of an index list, made implicitly from an integer (picks one position and drops the
/// dim), a Slice, None (adds a dim of size 1), Ellipsis (or "..."), a Tensor<std::int64_t> or
/// Tensor<std::int32_t> (advanced indexing along one dim; a 0-d one acts as an integer) or a
/// Tensor<bool> mask (covers as many dims as it has; keeps the positions where it is true).
class TensorIndex {
 public:
  enum class Kind { integer, slice, none, ellipsis, tensor, mask };

  template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
  TensorIndex(I i) : kind_(Kind::integer), integer_(static_cast<std::int64_t>(i)) {  // NOLINT: implicit
    if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t))
      if (i > static_cast<I>(std::numeric_limits<std::int64_t>::max()))
        throw IndexError(detail::cat("TensorIndex: index ", i, " does not fit in int64"));
  }
  // A bool would silently become 0 or 1; PyTorch's x[True] is not supported, use a Tensor<bool>.
  TensorIndex(bool) = delete;
  TensorIndex(Slice slice) : kind_(Kind::slice), slice_(slice) {}  // NOLINT: implicit
  TensorIndex(std::nullopt_t) : kind_(Kind::none) {}                // NOLINT: implicit
  TensorIndex(EllipsisIndexType) : kind_(Kind::ellipsis) {}         // NOLINT: implicit
  /// "..." means Ellipsis, as in libtorch; any other string is refused.
  TensorIndex(const char* s) : kind_(Kind::ellipsis) {  // NOLINT: implicit
    if (s == nullptr || std::string(s) != "...")
      throw ValueError(detail::cat("TensorIndex: the only string index is \"...\" (Ellipsis), got \"",
                                   s ? s : "(null)", "\""));
  }
  TensorIndex(Tensor<std::int64_t> t) : kind_(Kind::tensor), tensor_(std::move(t)) {}  // NOLINT: implicit
  TensorIndex(const Tensor<std::int32_t>& t)                                          // NOLINT: implicit
      : kind_(Kind::tensor), tensor_(t.template to<std::int64_t>()) {}
  TensorIndex(Tensor<bool> mask) : kind_(Kind::mask), mask_(std::move(mask)) {}  // NOLINT: implicit

  Kind kind() const noexcept { return kind_; }
  std::int64_t integer() const noexcept { return integer_; }
  const Slice& slice() const noexcept { return slice_; }
  const Tensor<std::int64_t>& tensor() const noexcept { return tensor_; }
  const Tensor<bool>& mask() const noexcept { return mask_; }

 private:
  Kind kind_;
  std::int64_t integer_ = 0;
  Slice slice_;
  Tensor<std::int64_t> tensor_;
  Tensor<bool> mask_;
};

}  // namespace indexing

namespace detail {

/// The elements an index picks out of a tensor: the result's shape, and for each result element
/// (row-major) the offset of the source element it is. index gathers through the offsets,
/// index_put scatters through them, and both backwards use them the other way round.
struct IndexRegion {
  Shape shape;
  std::vector<std::int64_t> offsets;
};

/// One dim of the region before advanced indices are resolved: `size` positions `stride` apart.
/// `advanced` >= 0 names the index tensor that picks positions along it instead.
struct IndexAxis {
  std::int64_t size = 0, stride = 0;
  int advanced = -1;
};

/// Walks one more dim (or block of dims): every offset so far combines with every step, row-major.
inline void extend_offsets(std::vector<std::int64_t>& offsets, const std::vector<std::int64_t>& steps) {
  std::vector<std::int64_t> next;
  next.reserve(offsets.size() * steps.size());
  for (std::int64_t base : offsets)
    for (std::int64_t step : steps) next.push_back(base + step);
  offsets.swap(next);
}

/// Turns an index into [0, size) with Python's negative indices, or throws naming where it was.
inline std::int64_t wrap_index(const char* op, std::int64_t i, std::int64_t dim, std::int64_t size,
                               const std::string& where = "") {
  if (i < -size || i >= size)
    throw IndexError(cat(op, ": index ", i, where, " is out of range for dim ", dim, " of size ", size,
                         size == 0 ? std::string(" (it has no valid index)")
                                   : cat(" (valid range [", -size, ", ", size - 1, "])")));
  return i < 0 ? i + size : i;
}

/// [start, start + length) with Python's clamping of a slice's bounds to a dim of `size`.
inline std::pair<std::int64_t, std::int64_t> slice_range(const indexing::Slice& s, std::int64_t size) {
  auto bound = [size](std::optional<std::int64_t> b, std::int64_t absent) {
    if (!b) return absent;
    const std::int64_t v = *b < 0 ? *b + size : *b;  // no overflow: size >= 0
    return std::clamp<std::int64_t>(v, 0, size);
  };
  const std::int64_t start = bound(s.start(), 0), stop = bound(s.stop(), size);
  const std::int64_t length = stop <= start ? 0 : 1 + (stop - start - 1) / s.step();  // no overflow for a huge step
  return {start, length};
}

/// The positions a bool mask marks, as one int64 tensor per mask dim (like nonzero, transposed).
inline std::vector<Tensor<std::int64_t>> mask_coordinates(const Tensor<bool>& mask) {
  const bool* m = mask.data();
  std::int64_t count = 0;
  for (std::int64_t i = 0, n = mask.numel(); i < n; ++i) count += m[i];
  const Shape& s = mask.shape();
  std::vector<Tensor<std::int64_t>> coords;
  for (std::size_t k = 0; k < s.size(); ++k) coords.push_back(make_tensor<std::int64_t>({count}));
  std::int64_t j = 0;
  for (std::int64_t i = 0, n = mask.numel(); i < n; ++i) {
    if (!m[i]) continue;
    std::int64_t rest = i;
    for (std::size_t k = s.size(); k-- > 0;) {
      coords[k].data()[j] = rest % s[k];
      rest /= s[k];
    }
    ++j;
  }
  return coords;
}

/// An index list resolved against a shape: the offset the integers fix, and the dims left to walk.
struct IndexAxes {
  std::int64_t base = 0;
  std::vector<IndexAxis> axes;
  std::vector<Tensor<std::int64_t>> advanced;  // index tensors, values already wrapped into [0, size)
};

/// Resolves an index list as PyTorch does: integers select (and drop the dim), slices narrow, None
/// adds a dim of size 1, one Ellipsis stands for the dims left over, an index tensor picks along one
/// dim and a k-d mask becomes k index tensors (the coordinates of its true elements).
inline IndexAxes index_axes(const char* op, const Shape& shape, const std::vector<indexing::TensorIndex>& indices) {
  using Kind = indexing::TensorIndex::Kind;
  const auto ndim = static_cast<std::int64_t>(shape.size());
  std::int64_t consumed = 0;
  int ellipses = 0;
  for (const auto& ix : indices) {
    if (ix.kind() == Kind::ellipsis) ++ellipses;
    else if (ix.kind() == Kind::mask) consumed += ix.mask().dim();
    else if (ix.kind() != Kind::none) ++consumed;
  }
  if (ellipses > 1) throw IndexError(cat(op, ": an index can only have a single ellipsis ('...'), got ", ellipses));
  if (consumed > ndim)
    throw IndexError(cat(op, ": too many indices for a tensor of dimension ", ndim, " (got ", consumed, ")"));

  const Shape strides = strides_of(shape);
  IndexAxes out;
  std::size_t src = 0;  // the next source dim to index
  auto full = [&](std::size_t d) { out.axes.push_back({shape[d], strides[d], -1}); };
  auto pick = [&](std::int64_t i, std::size_t d) {
    out.base += wrap_index(op, i, static_cast<std::int64_t>(d), shape[d]) * strides[d];
  };
  auto add_advanced = [&](const Tensor<std::int64_t>& idx, std::size_t d) {
    Tensor<std::int64_t> wrapped = make_tensor<std::int64_t>(idx.shape(), op);
    const std::int64_t* v = idx.data();
    for (std::int64_t j = 0, n = idx.numel(); j < n; ++j)
      wrapped.data()[j] = wrap_index(op, v[j], static_cast<std::int64_t>(d), shape[d], at_position(idx.shape(), j));
    out.axes.push_back({shape[d], strides[d], static_cast<int>(out.advanced.size())});
    out.advanced.push_back(std::move(wrapped));
  };
  for (const auto& ix : indices) {
    switch (ix.kind()) {
      case Kind::integer:
        pick(ix.integer(), src++);
        break;
      case Kind::slice: {
        const auto [start, length] = slice_range(ix.slice(), shape[src]);
        out.base += start * strides[src];
        // One position needs no stride (and step * stride could overflow for a huge step).
        out.axes.push_back({length, length > 1 ? ix.slice().step() * strides[src] : 0, -1});
        ++src;
        break;
      }
      case Kind::none:
        out.axes.push_back({1, 0, -1});
        break;
      case Kind::ellipsis:
        for (std::int64_t k = 0; k < ndim - consumed; ++k) full(src++);
        break;
      case Kind::tensor:
        if (ix.tensor().dim() == 0)  // a 0-d index tensor is an integer, as in PyTorch
          pick(ix.tensor().item(), src++);
        else
          add_advanced(ix.tensor(), src++);
        break;
      case Kind::mask: {
        const Tensor<bool>& mask = ix.mask();
        const Shape covered(shape.begin() + src, shape.begin() + src + static_cast<std::size_t>(mask.dim()));
        if (mask.shape() != covered)
          throw IndexError(cat(op, ": the mask of shape ", shape_str(mask.shape()), " does not match the shape ",
                               shape_str(covered), " of the dims it indexes (dims ", src, " to ",
                               src + covered.size() - 1, " of a tensor of shape ", shape_str(shape), ")"));
        if (mask.dim() == 0) {  // a 0-d mask adds a dim of size 1 and keeps it (true) or not (false)
          out.axes.push_back({1, 0, static_cast<int>(out.advanced.size())});
          out.advanced.push_back(zeros<std::int64_t>({mask.item() ? 1 : 0}));
        }
        for (const Tensor<std::int64_t>& coord : mask_coordinates(mask)) add_advanced(coord, src++);
        break;
      }
    }
  }
  while (src < shape.size()) full(src++);
  return out;
}

/// What an index list picks out of a tensor of `shape`. The index tensors broadcast together into
/// one block of dims; as in PyTorch, the block takes the place of the dims they index when those
/// are adjacent once the integers have dropped theirs (a None between them separates them), and
/// goes first otherwise.
inline IndexRegion index_region(const char* op, const Shape& shape, const std::vector<indexing::TensorIndex>& indices) {
  const IndexAxes resolved = index_axes(op, shape, indices);
  const std::vector<IndexAxis>& axes = resolved.axes;
  std::vector<std::size_t> advanced_axes;
  Shape block;
  for (std::size_t k = 0; k < axes.size(); ++k)
    if (axes[k].advanced >= 0) {
      const Shape& s = resolved.advanced[static_cast<std::size_t>(axes[k].advanced)].shape();
      block = advanced_axes.empty() ? s : broadcast_shapes(op, block, s);
      advanced_axes.push_back(k);
    }
  const bool has_block = !advanced_axes.empty();
  const bool adjacent = has_block && advanced_axes.back() - advanced_axes.front() + 1 == advanced_axes.size();
  const std::size_t block_at = !has_block ? axes.size() : adjacent ? advanced_axes.front() : 0;

  IndexRegion region;
  for (std::size_t k = 0; k <= axes.size(); ++k) {
    if (k == block_at && has_block)
      for (std::int64_t s : block) region.shape.push_back(s);
    if (k < axes.size() && axes[k].advanced < 0) region.shape.push_back(axes[k].size);
  }
  if (checked_numel(op, region.shape) == 0) return region;  // nothing picked (and no huge partial products)
  region.offsets = {resolved.base};
  for (std::size_t k = 0; k <= axes.size(); ++k) {
    if (k == block_at && has_block) {
      // Each block position adds, for every index tensor, its (broadcast) index times its dim's stride.
      std::vector<std::int64_t> steps(static_cast<std::size_t>(numel_of(block)), 0);
      for (std::size_t a : advanced_axes) {
        const Tensor<std::int64_t>& idx = resolved.advanced[static_cast<std::size_t>(axes[a].advanced)];
        const std::int64_t* v = idx.data();
        const std::int64_t stride = axes[a].stride;
        for_each_offset(block, broadcast_strides(idx.shape(), block),
                        [&](std::int64_t i, std::int64_t at) { steps[static_cast<std::size_t>(i)] += v[at] * stride; });
      }
      extend_offsets(region.offsets, steps);
    }
    if (k == axes.size() || axes[k].advanced >= 0) continue;
    std::vector<std::int64_t> steps(static_cast<std::size_t>(axes[k].size));
    for (std::size_t j = 0; j < steps.size(); ++j) steps[j] = static_cast<std::int64_t>(j) * axes[k].stride;
    extend_offsets(region.offsets, steps);
  }
  return region;
}

/// The elements of `a` at the region's offsets, as a new tensor; its backward adds g back at them.
template <class T>
Tensor<T> gather_region(const Tensor<T>& a, IndexRegion region, const char* op, const char* node_name) {
  const T* x = a.data();  // throws for an undefined or sparse tensor
  Tensor<T> out = make_tensor<T>(region.shape, op);
  T* o = out.data();
  for (std::size_t i = 0; i < region.offsets.size(); ++i) o[i] = x[region.offsets[i]];
  if constexpr (std::is_floating_point_v<T>) {
    if (should_record(a))
      record(out, node_name, edges(a),
             [offsets = std::move(region.offsets), in_shape = a.shape()](const Tensor<T>& g, GradSink& grads) {
               Tensor<T>& ga = grads.buffer<T>(0, in_shape);
               const T* gv = g.data();
               T* dst = ga.data();
               for (std::size_t i = 0; i < offsets.size(); ++i) dst[offsets[i]] += gv[i];  // repeats accumulate
             });
  }
  return out;
}

/// values' shape without leading dims of size 1, checked to broadcast to the region's shape
/// (PyTorch's x[...] = v drops those leading ones the same way).
inline Shape put_values_shape(const char* op, const Shape& values, const Shape& region) {
  Shape s = values;
  while (s.size() > region.size() && s[0] == 1) s.erase(s.begin());
  bool ok = s.size() <= region.size();
  for (std::size_t k = 0; ok && k < s.size(); ++k) {
    const std::int64_t r = region[region.size() - s.size() + k];
    ok = s[k] == r || s[k] == 1;
  }
  if (!ok)
    throw ShapeError(cat(op, ": values of shape ", shape_str(values), " cannot be broadcast to the indexed region of shape ",
                         shape_str(region)));
  return s;
}

/// dst[offset] = value (or += with accumulate) for every element of the region, values broadcast.
template <class T>
void write_region(T* dst, const IndexRegion& region, const T* values, const Shape& values_shape, bool accumulate) {
  for_each_offset(region.shape, broadcast_strides(values_shape, region.shape), [&](std::int64_t i, std::int64_t at) {
    T& d = dst[region.offsets[static_cast<std::size_t>(i)]];
    d = accumulate ? static_cast<T>(d + values[at]) : values[at];
  });
}

}  // namespace detail

/// The slice of `a` at position `index` along `dim`, without that dim (torch.select). Negative dim
/// and index count from the end. Returns a copy; gradients flow back into that slice of `a`.
template <class T>
Tensor<T> select(const Tensor<T>& a, std::int64_t dim, std::int64_t index) {
  if (a.dim() == 0) throw IndexError("select: cannot select from a 0-d tensor (it has no dims)");
  const auto d = detail::normalize_dim("select", dim, a.dim());
  std::vector<indexing::TensorIndex> indices(static_cast<std::size_t>(d), indexing::Slice());
  indices.emplace_back(index);
  return detail::gather_region(a, detail::index_region("select", a.shape(), indices), "select", "SelectBackward0");
}

/// Positions start .. start + length - 1 of `dim` (torch.narrow); a negative start counts from the
/// end. Returns a copy (PyTorch returns a view); gradients flow back into that part of `a`.
template <class T>
Tensor<T> narrow(const Tensor<T>& a, std::int64_t dim, std::int64_t start, std::int64_t length) {
  if (a.dim() == 0) throw IndexError("narrow: cannot narrow a 0-d tensor (it has no dims)");
  const auto d = detail::normalize_dim("narrow", dim, a.dim());
  const std::int64_t size = a.shape()[static_cast<std::size_t>(d)];
  if (start < -size || start > size)
    throw IndexError(detail::cat("narrow: start ", start, " is out of range for dim ", d, " of size ", size,
                                 " (valid range [", -size, ", ", size, "])"));
  const std::int64_t first = start < 0 ? start + size : start;
  if (length < 0 || length > size - first)
    throw IndexError(detail::cat("narrow: length ", length, " from start ", start, " does not fit dim ", d, " of size ",
                                 size, " (valid range [0, ", size - first, "])"));
  std::vector<indexing::TensorIndex> indices(static_cast<std::size_t>(d), indexing::Slice());
  indices.emplace_back(indexing::Slice(first, first + length));
  return detail::gather_region(a, detail::index_region("narrow", a.shape(), indices), "narrow", "SliceBackward0");
}

/// a[indices] as in PyTorch (Tensor::index): integers drop their dim, slices clamp like Python's,
/// None adds a dim, one Ellipsis fills in the remaining dims, a Tensor<int64_t> picks positions
/// along a dim (negative ones count from the end, repeats allowed) and a Tensor<bool> mask keeps the
/// true positions of the dims it covers. Returns a copy; gradients flow back to `a` (repeated
/// positions accumulate). tapegrad records one node, "IndexBackward0", where PyTorch records a
/// chain of select/slice/unsqueeze/index nodes.
/// Example: `using namespace tapegrad::indexing; index(x, {Slice(1, None), None, 0})` is `x[1:, None, 0]`.
template <class T>
Tensor<T> index(const Tensor<T>& a, const std::vector<indexing::TensorIndex>& indices) {
  return detail::gather_region(a, detail::index_region("index", a.shape(), indices), "index", "IndexBackward0");
}

/// index for a braced list: `index(x, {Ellipsis, None, Slice(None, None, 2)})`.
template <class T>
Tensor<T> index(const Tensor<T>& a, std::initializer_list<indexing::TensorIndex> indices) {
  return index(a, std::vector<indexing::TensorIndex>(indices));
}

/// a[indices] = values, in place (Tensor::index_put_); values broadcast to the indexed region's
/// shape, with accumulate they are added (repeated positions add up; without it the last write
/// wins). Not recorded on the tape, so refused on a tensor that requires grad while grad mode is on.
template <class T>
Tensor<T>& index_put_(Tensor<T>& a, const std::vector<indexing::TensorIndex>& indices, const Tensor<T>& values,
                      bool accumulate = false) {
  detail::check_inplace("index_put_", a);
  const detail::IndexRegion region = detail::index_region("index_put_", a.shape(), indices);
  const Shape values_shape = detail::put_values_shape("index_put_", values.shape(), region.shape);
  // Values that share a's elements (a reshape of a, say) are copied first, so writes cannot change them mid-way.
  const Tensor<T> src = values.shares_storage(a) ? detail::copy_of(values) : values;
  const T* v = src.data();
  detail::write_region(a.data(), region, v, values_shape, accumulate);
  return a;
}

/// index_put_ for a braced list: `index_put_(x, {0, Slice()}, row)`.
template <class T>
Tensor<T>& index_put_(Tensor<T>& a, std::initializer_list<indexing::TensorIndex> indices, const Tensor<T>& values,
                      bool accumulate = false) {
  return index_put_(a, std::vector<indexing::TensorIndex>(indices), values, accumulate);
}

/// index_put_ with one value for the whole region: `index_put_(x, {mask}, 0.0f)`.
template <class T>
Tensor<T>& index_put_(Tensor<T>& a, const std::vector<indexing::TensorIndex>& indices, detail::scalar_t<T> value,
                      bool accumulate = false) {
  return index_put_(a, indices, scalar_tensor<T>(value), accumulate);
}

template <class T>
Tensor<T>& index_put_(Tensor<T>& a, std::initializer_list<indexing::TensorIndex> indices, detail::scalar_t<T> value,
                      bool accumulate = false) {
  return index_put_(a, std::vector<indexing::TensorIndex>(indices), scalar_tensor<T>(value), accumulate);
}

/// A copy of `a` with a[indices] = values (torch.index_put; with accumulate, +=). Differentiable
/// w.r.t. `a` (g with the written region zeroed, or all of g with accumulate) and `values` (g over
/// the region, summed back to values' shape).
template <class T>
Tensor<T> index_put(const Tensor<T>& a, const std::vector<indexing::TensorIndex>& indices, const Tensor<T>& values,
                    bool accumulate = false) {
  detail::IndexRegion region = detail::index_region("index_put", a.shape(), indices);
  const Shape values_shape = detail::put_values_shape("index_put", values.shape(), region.shape);
  Tensor<T> out = detail::copy_of(a);
  detail::write_region(out.data(), region, values.data(), values_shape, accumulate);
  if constexpr (std::is_floating_point_v<T>) {
    if (detail::should_record(a, values))
      detail::record(out, "IndexPutBackward0", detail::edges(a, values),
                     [written = std::move(region), values_shape, original = values.shape(), accumulate](
                         const Tensor<T>& g, detail::GradSink& grads) {
                       const T* gv = g.data();
                       if (grads.wants(0)) {
                         Tensor<T> ga = detail::copy_of(g);
                         if (!accumulate)  // overwritten elements of a did not reach the output
                           for (std::int64_t at : written.offsets) ga.data()[at] = T(0);
                         grads.add(0, ga);
                       }
                       if (grads.wants(1)) {
                         Tensor<T> gvalues = zeros<T>(values_shape);
                         T* dst = gvalues.data();
                         detail::for_each_offset(written.shape, detail::broadcast_strides(values_shape, written.shape),
                                                 [&](std::int64_t i, std::int64_t at) {
                                                   dst[at] += gv[written.offsets[static_cast<std::size_t>(i)]];
                                                 });
                         grads.add(1, detail::make_alias(gvalues, original));
                       }
                     });
  }
  return out;
}

/// index_put for a braced list: `index_put(x, {idx}, rows, true)`.
template <class T>
Tensor<T> index_put(const Tensor<T>& a, std::initializer_list<indexing::TensorIndex> indices, const Tensor<T>& values,
                    bool accumulate = false) {
  return index_put(a, std::vector<indexing::TensorIndex>(indices), values, accumulate);
}

/// index_put with one value for the whole region (differentiable w.r.t. `a` only).
template <class T>
Tensor<T> index_put(const Tensor<T>& a, const std::vector<indexing::TensorIndex>& indices, detail::scalar_t<T> value,
                    bool accumulate = false) {
  return index_put(a, indices, scalar_tensor<T>(value), accumulate);
}

template <class T>
Tensor<T> index_put(const Tensor<T>& a, std::initializer_list<indexing::TensorIndex> indices, detail::scalar_t<T> value,
                    bool accumulate = false) {
  return index_put(a, std::vector<indexing::TensorIndex>(indices), scalar_tensor<T>(value), accumulate);
}

}  // namespace tapegrad
