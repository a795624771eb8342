// SPDX-License-Identifier: MIT
// Tensor<T>: a cheap handle to an N-d, contiguous, row-major array, plus the fields the tape needs.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapegrad/detail/shape.hpp"
#include "tapegrad/detail/storage.hpp"
#include "tapegrad/error.hpp"
#include "tapegrad/grad_mode.hpp"

namespace tapegrad {

template <class T>
class Tensor;

namespace detail {

struct Node;  // one recorded op, see autograd.hpp
template <class T>
struct AccumulateGrad;  // a leaf's gradient accumulator, see autograd.hpp
void retain(Node* n) noexcept;
void release(Node* n) noexcept;
long use_count(const Node* n) noexcept;

/// An owning reference to a Node; the count lives in the Node (intrusive), so a node is one allocation.
class NodeRef {
 public:
  NodeRef() = default;
  /// Takes over the reference `adopt` carries (a freshly created node starts with one).
  explicit NodeRef(Node* adopt) noexcept : node_(adopt) {}
  NodeRef(const NodeRef& other) noexcept : node_(other.node_) {
    if (node_) retain(node_);
  }
  NodeRef(NodeRef&& other) noexcept : node_(other.node_) { other.node_ = nullptr; }
  NodeRef& operator=(const NodeRef& other) noexcept {
    NodeRef(other).swap(*this);
    return *this;
  }
  // A move that leaves nothing to release in the common case (an empty target): recording an op
  // moves each edge a few times.
  NodeRef& operator=(NodeRef&& other) noexcept {
    if (this == &other) return *this;
    Node* old = node_;
    node_ = other.node_;
    other.node_ = nullptr;
    if (old) release(old);
    return *this;
  }
  void swap(NodeRef& other) noexcept {
    Node* t = node_;
    node_ = other.node_;
    other.node_ = t;
  }
  ~NodeRef() {
    if (node_) release(node_);
  }
  Node* get() const noexcept { return node_; }
  /// Gives up the reference without releasing it: the caller now owns the count it carried.
  Node* detach() noexcept {
    Node* n = node_;
    node_ = nullptr;
    return n;
  }
  Node* operator->() const noexcept { return node_; }
  explicit operator bool() const noexcept { return node_ != nullptr; }
  long use_count() const noexcept { return node_ ? detail::use_count(node_) : 0; }
  void reset() noexcept { *this = NodeRef(); }

 private:
  Node* node_ = nullptr;
};

template <class T>
struct TensorImpl;
template <class T>
void retain(TensorImpl<T>* impl) noexcept;
template <class T>
void release(TensorImpl<T>* impl) noexcept;

template <class T>
inline constexpr bool is_element_v = std::is_same_v<T, float> || std::is_same_v<T, double> ||
                                     std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::int32_t> ||
                                     std::is_same_v<T, bool>;

/// Element types accepted as indices (by Embedding, index_select, one_hot...), like PyTorch's Long and Int.
template <class I>
inline constexpr bool is_index_v = std::is_same_v<I, std::int64_t> || std::is_same_v<I, std::int32_t>;

/// What sum() and cumsum() return, as in PyTorch: bool and integer sums are int64 (a count fits).
template <class T>
using sum_t = std::conditional_t<std::is_floating_point_v<T>, T, std::int64_t>;

/// Enables the single-dim overloads (`sum(x, 1)`) for integers only, so `sum(x, {})` still means an
/// empty list of dims rather than dim 0.
template <class D>
using if_dim_t = std::enable_if_t<std::is_integral_v<D>, int>;

template <class T>
constexpr const char* dtype_name() {
  if constexpr (std::is_same_v<T, float>) return "float32";
  if constexpr (std::is_same_v<T, double>) return "float64";
  if constexpr (std::is_same_v<T, std::int64_t>) return "int64";
  if constexpr (std::is_same_v<T, std::int32_t>) return "int32";
  if constexpr (std::is_same_v<T, bool>) return "bool";
}

}  // namespace detail

namespace indexing {
class TensorIndex;  // one entry of x.index({...}): an integer, Slice, None, Ellipsis or index tensor
}  // namespace indexing

/// An N-d array of T (float, double, int64, int32 or bool) stored contiguously in row-major order.
///
/// A Tensor is a handle: copies share the same array and autograd state, like torch::Tensor.
/// Ops return new tensors; `reshape`, `view` and `detach` share the elements of their source.
/// Example: `auto x = tapegrad::tensor<float>({1, 2, 3, 4}, {2, 2}, true);`
template <class T>
class Tensor {
  static_assert(detail::is_element_v<T>, "tapegrad::Tensor<T>: T must be float, double, std::int64_t, std::int32_t or bool");

 public:
  using value_type = T;
  /// The Eigen view: the last dimension as columns, all the others flattened into rows.
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using MatrixMap = Eigen::Map<Matrix>;
  using ConstMatrixMap = Eigen::Map<const Matrix>;
  /// All elements as one column, for coefficient-wise maths.
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  using ArrayMap = Eigen::Map<Array>;
  using ConstArrayMap = Eigen::Map<const Array>;

  /// An undefined tensor (no storage), like a default-constructed torch::Tensor.
  Tensor() = default;
  /// Takes over the reference `adopt` carries (for factories; a new impl starts with one).
  explicit Tensor(detail::TensorImpl<T>* adopt) noexcept : impl_(adopt) {}
  Tensor(const Tensor& other) noexcept : impl_(other.impl_) {
    if (impl_) detail::retain(impl_);
  }
  Tensor(Tensor&& other) noexcept : impl_(other.impl_) { other.impl_ = nullptr; }
  Tensor& operator=(const Tensor& other) noexcept {
    Tensor(other).swap(*this);
    return *this;
  }
  Tensor& operator=(Tensor&& other) noexcept {
    Tensor(std::move(other)).swap(*this);
    return *this;
  }
  ~Tensor() {
    if (impl_) detail::release(impl_);
  }
  void swap(Tensor& other) noexcept { std::swap(impl_, other.impl_); }

  // ---- shape and elements --------------------------------------------------------------------

  bool defined() const noexcept { return impl_ != nullptr; }
  const Shape& shape() const;
  std::int64_t dim() const { return static_cast<std::int64_t>(shape().size()); }
  std::int64_t numel() const;
  /// Size of dimension `d`; negative `d` counts from the end.
  std::int64_t size(std::int64_t d) const;

  /// Read access to the elements. Throws for an undefined or a sparse tensor.
  const T* data() const;
  /// Write access. If an op on the tape saved these values, this tensor first gets its own copy,
  /// so the saved values (and the gradients computed from them) stay as they were.
  T* data();

  ConstMatrixMap matrix() const;
  MatrixMap matrix();
  ConstArrayMap flat() const;
  ArrayMap flat();

  /// The value of a one-element tensor.
  T item() const;
  std::vector<T> to_vector() const;
  /// Element access with bounds checks; negative indices count from the end.
  T at(std::initializer_list<std::int64_t> index) const;
  T& at(std::initializer_list<std::int64_t> index);

  // ---- copies and views ------------------------------------------------------------------------

  /// A copy with its own storage; gradients flow back to this tensor.
  Tensor clone() const;
  /// Shares the elements, but is a leaf that does not require grad.
  Tensor detach() const;
  /// Copies `src` (broadcast to this shape) into this tensor's elements, in place, unrecorded.
  Tensor& copy_(const Tensor& src);
  /// Same elements, new shape; one size may be -1. Shares storage; gradients flow back.
  Tensor reshape(Shape shape) const;
  /// Same as reshape: tapegrad tensors are always contiguous, so a view always exists.
  Tensor view(Shape shape) const;
  /// Matrix transpose of a tensor with at most 2 dims. Unlike PyTorch it returns a copy, not a view.
  Tensor t() const;
  /// Swaps two dimensions. Returns a contiguous copy (tapegrad has no strided views).
  Tensor transpose(std::int64_t dim0, std::int64_t dim1) const;
  /// Same values as another element type. Float <-> double conversions carry gradients.
  template <class U>
  Tensor<U> to() const;

  Tensor& zero_();
  Tensor& fill_(T value);

  // ---- ops as methods, as libtorch writes them ---------------------------------------------------
  // Each forwards to the free function of the same name (x.sum(1) is sum(x, 1)), so both share one
  // implementation; they are defined in tensor_methods.hpp, which ops.hpp (and tapegrad.hpp) include.
  // The free function's comment is the reference.

  /// libtorch's sizes(): the shape.
  const Shape& sizes() const { return shape(); }
  /// tapegrad tensors are always contiguous: returns this tensor.
  Tensor contiguous() const { return *this; }
  bool is_contiguous() const { return true; }
  /// The value of a one-element tensor as U (libtorch's `item<int64_t>()`); throws if it does not fit.
  template <class U>
  U item() const;
  /// The elements as nested vectors, N deep (N must equal dim()): `x.tolist<2>()` for a matrix.
  template <int N>
  auto tolist() const;

  // arithmetic (the operators +, -, *, / do the same)
  Tensor add(const Tensor& other) const;
  Tensor add(T other) const;
  Tensor sub(const Tensor& other) const;
  Tensor sub(T other) const;
  Tensor mul(const Tensor& other) const;
  Tensor mul(T other) const;
  Tensor div(const Tensor& other) const;
  Tensor div(T other) const;
  /// In place, unrecorded (refused on tensors that require grad while grad mode is on).
  Tensor& add_(const Tensor& other);
  Tensor& add_(T other);
  Tensor& sub_(const Tensor& other);
  Tensor& sub_(T other);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(T other);
  Tensor& div_(const Tensor& other);
  Tensor& div_(T other);
  Tensor neg() const;
  Tensor pow(T exponent) const;
  Tensor pow(const Tensor& exponent) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor gelu(const std::string& approximate = "none") const;
  Tensor clamp(std::optional<T> min, std::optional<T> max = std::nullopt) const;
  Tensor clamp_min(T min) const;
  Tensor clamp_max(T max) const;
  Tensor maximum(const Tensor& other) const;
  Tensor minimum(const Tensor& other) const;
  Tensor softmax(std::int64_t dim) const;
  Tensor log_softmax(std::int64_t dim) const;
  Tensor matmul(const Tensor& other) const;
  Tensor mm(const Tensor& other) const;

  // reductions
  Tensor<detail::sum_t<T>> sum() const;
  template <class D, detail::if_dim_t<D> = 0>
  Tensor<detail::sum_t<T>> sum(D dim, bool keepdim = false) const;
  Tensor<detail::sum_t<T>> sum(const std::vector<std::int64_t>& dims, bool keepdim = false) const;
  Tensor mean() const;
  template <class D, detail::if_dim_t<D> = 0>
  Tensor mean(D dim, bool keepdim = false) const;
  Tensor mean(const std::vector<std::int64_t>& dims, bool keepdim = false) const;
  Tensor norm(double p = 2) const;
  template <class D, detail::if_dim_t<D> = 0>
  Tensor norm(double p, D dim, bool keepdim = false) const;
  Tensor norm(double p, const std::vector<std::int64_t>& dims, bool keepdim = false) const;
  Tensor max() const;
  std::tuple<Tensor, Tensor<std::int64_t>> max(std::int64_t dim, bool keepdim = false) const;
  Tensor max(const Tensor& other) const;
  Tensor min() const;
  std::tuple<Tensor, Tensor<std::int64_t>> min(std::int64_t dim, bool keepdim = false) const;
  Tensor min(const Tensor& other) const;
  Tensor<std::int64_t> argmax() const;
  Tensor<std::int64_t> argmax(std::int64_t dim, bool keepdim = false) const;
  Tensor<std::int64_t> argmin() const;
  Tensor<std::int64_t> argmin(std::int64_t dim, bool keepdim = false) const;
  Tensor<bool> any() const;
  Tensor<bool> any(std::int64_t dim, bool keepdim = false) const;
  Tensor<bool> all() const;
  Tensor<bool> all(std::int64_t dim, bool keepdim = false) const;
  Tensor<detail::sum_t<T>> cumsum(std::int64_t dim) const;

  // sorting and selection
  std::tuple<Tensor, Tensor<std::int64_t>> topk(std::int64_t k, std::int64_t dim = -1, bool largest = true,
                                                bool sorted = true) const;
  std::tuple<Tensor, Tensor<std::int64_t>> sort(std::int64_t dim = -1, bool descending = false) const;
  Tensor<std::int64_t> argsort(std::int64_t dim = -1, bool descending = false) const;

  // comparisons (the operators ==, !=, <, <=, >, >= do the same) and masks
  Tensor<bool> eq(const Tensor& other) const;
  Tensor<bool> eq(T other) const;
  Tensor<bool> ne(const Tensor& other) const;
  Tensor<bool> ne(T other) const;
  Tensor<bool> lt(const Tensor& other) const;
  Tensor<bool> lt(T other) const;
  Tensor<bool> le(const Tensor& other) const;
  Tensor<bool> le(T other) const;
  Tensor<bool> gt(const Tensor& other) const;
  Tensor<bool> gt(T other) const;
  Tensor<bool> ge(const Tensor& other) const;
  Tensor<bool> ge(T other) const;
  Tensor<bool> isnan() const;
  Tensor<bool> isinf() const;
  Tensor<bool> isfinite() const;
  Tensor<bool> logical_not() const;
  Tensor<bool> logical_and(const Tensor& other) const;
  Tensor<bool> logical_or(const Tensor& other) const;
  Tensor<bool> logical_xor(const Tensor& other) const;
  /// libtorch's `x.where(condition, other)`: x where condition holds, else other.
  Tensor where(const Tensor<bool>& condition, const Tensor& other) const;
  Tensor where(const Tensor<bool>& condition, T other) const;
  Tensor masked_fill(const Tensor<bool>& mask, T value) const;
  Tensor masked_fill(const Tensor<bool>& mask, const Tensor& value) const;
  bool equal(const Tensor& other) const;
  bool allclose(const Tensor& other, double rtol = 1e-05, double atol = 1e-08, bool equal_nan = false) const;

  // shapes
  Tensor unsqueeze(std::int64_t dim) const;
  Tensor squeeze() const;
  Tensor squeeze(std::int64_t dim) const;
  Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;
  template <class I>
  Tensor index_select(std::int64_t dim, const Tensor<I>& index) const;

  // indexing: each returns a copy (there are no strided views); write with index_put_
  /// `x[i]` is `x.select(0, i)`.
  Tensor operator[](std::int64_t index) const;
  Tensor select(std::int64_t dim, std::int64_t index) const;
  Tensor narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const;
  /// libtorch's indexing: `x.index({Slice(1, None), 0})`, with tapegrad::indexing::{Slice, None, Ellipsis}.
  Tensor index(std::initializer_list<indexing::TensorIndex> indices) const;
  Tensor index(const std::vector<indexing::TensorIndex>& indices) const;
  Tensor& index_put_(std::initializer_list<indexing::TensorIndex> indices, const Tensor& values,
                     bool accumulate = false);
  Tensor& index_put_(std::initializer_list<indexing::TensorIndex> indices, T value);
  Tensor index_put(std::initializer_list<indexing::TensorIndex> indices, const Tensor& values,
                   bool accumulate = false) const;

  // ---- autograd ---------------------------------------------------------------------------------

  bool requires_grad() const;
  /// Marks a leaf as one whose gradient backward() should compute. Floating-point tensors only.
  Tensor& requires_grad_(bool on = true);
  /// True for tensors not produced by a recorded op (inputs, parameters, detached tensors).
  bool is_leaf() const;
  /// The accumulated gradient (undefined until a backward reaches this tensor). Shares storage.
  Tensor grad() const;
  /// The gradient slot itself, to reset or replace it (what optimisers and zero_grad use).
  Tensor& mutable_grad();
  /// Backpropagates from this tensor. A tensor with one element needs no `gradient`; any other
  /// needs one of the same shape. Leaves' gradients accumulate across calls, as in PyTorch.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  /// Asks backward() to keep the gradient of this non-leaf tensor in grad().
  void retain_grad();
  bool retains_grad() const;
  /// Name of the op that produced this tensor ("MulBackward0"), or "" for a leaf.
  std::string grad_fn_name() const;
  /// The node of the op that produced this tensor (null for a leaf); owned by the tensor.
  detail::Node* grad_fn() const;

  // ---- row-sparse tensors (what an Embedding with sparse=true puts in grad()) ----------------

  bool is_sparse() const;
  /// Row numbers of a sparse tensor, shape [nnz].
  Tensor<std::int64_t> indices() const;
  /// Rows of a sparse tensor, shape [nnz, ...rest of the shape].
  Tensor values() const;
  /// The dense equivalent (rows with the same index are summed). A dense tensor returns itself.
  Tensor to_dense() const;
  /// A sparse tensor with sorted, unique row indices (duplicates summed).
  Tensor coalesce() const;
  bool is_coalesced() const;

  // ---- identity ---------------------------------------------------------------------------------

  /// True if both handles point at the same tensor.
  bool is_same(const Tensor& other) const noexcept { return impl_ == other.impl_; }
  /// True if both tensors read the same elements (one is a copy, view or detach of the other).
  bool shares_storage(const Tensor& other) const noexcept;
  /// For tapegrad's own ops and extensions; not part of the stable API.
  detail::TensorImpl<T>* impl() const noexcept { return impl_; }
  /// How many handles share this tensor (copies of the handle; views are separate tensors).
  long use_count() const noexcept;

 private:
  const detail::TensorImpl<T>& checked() const;
  detail::TensorImpl<T>& checked();
  const detail::TensorImpl<T>& dense() const;
  Tensor reshaped(Shape shape, const char* op, const char* node_name) const;

  detail::TensorImpl<T>* impl_ = nullptr;
};

namespace detail {

template <class T>
struct SparseParts {
  Tensor<std::int64_t> indices;  // [nnz]: the row of each entry of `values`
  Tensor<T> values;              // [nnz, shape[1:]...]
  bool coalesced = false;
};

// Everything a Tensor handle points at. Views share `storage`, never the impl, so autograd
// state (grad, grad_fn) belongs to one handle family.
template <class T>
struct TensorImpl {
  static void* operator new(std::size_t bytes) { return allocate_bytes(bytes); }
  static void operator delete(void* p, std::size_t bytes) noexcept { free_bytes(p, bytes); }
  TensorImpl() noexcept {}
  // Shape set at construction: copying it once is cheaper than zeroing it and then assigning.
  TensorImpl(const Shape& s, std::int64_t n) : shape(s), numel(n) {}
  ~TensorImpl();  // autograd.hpp: tells nodes that point back here that this tensor is gone
  TensorImpl(const TensorImpl&) = delete;
  TensorImpl& operator=(const TensorImpl&) = delete;

  std::atomic<long> refs{1};  // handles sharing this tensor
  StorageRef<T> storage;  // empty for a sparse tensor
  Shape shape;
  std::int64_t numel = 0;
  std::unique_ptr<SparseParts<T>> sparse;

  bool requires_grad = false;  // set on leaves by requires_grad_()
  bool retains_grad = false;
  NodeRef grad_fn;           // the op that made this tensor (non-leaves)
  NodeRef grad_accumulator;  // where this leaf's gradient is summed during backward
  Tensor<T> grad;
};

/// A tensor with new, uninitialised storage. `op` names the caller in error messages.
template <class T>
void retain(TensorImpl<T>* impl) noexcept {
  impl->refs.fetch_add(1, std::memory_order_relaxed);
}

template <class T>
void release(TensorImpl<T>* impl) noexcept {
  // The only handle needs no locked decrement (no other thread can see the count any more); most
  // tensors an op makes die that way.
  if (impl->refs.load(std::memory_order_acquire) == 1 || impl->refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
    delete impl;
}

[[noreturn]] TAPEGRAD_COLD inline void throw_allocation_failed(const char* op, const Shape& shape, std::int64_t numel,
                                                             std::size_t element_bytes) {
  throw AllocationError(cat(op, ": cannot allocate memory for a tensor of shape ", shape_str(shape), ": ", numel,
                            " elements of ", element_bytes, " bytes need ",
                            static_cast<double>(numel) * static_cast<double>(element_bytes) / (1 << 20), " MiB"));
}

template <class T>
Tensor<T> make_tensor(const Shape& shape, const char* op = "empty") {
  const std::int64_t numel = checked_numel(op, shape);
  Tensor<T> out(new TensorImpl<T>(shape, numel));  // owned from here, so a failing allocation below frees it
  try {
    out.impl()->storage = StorageRef<T>::allocate(numel);
  } catch (const std::bad_alloc&) {
    throw_allocation_failed(op, shape, numel, sizeof(T));
  }
  return out;
}

/// make_tensor for the shape of an existing tensor, whose element count `numel` is known to be
/// valid: skips the overflow check (the hot path of element-wise ops and their backwards).
template <class T>
Tensor<T> make_tensor_like(const Shape& shape, std::int64_t numel) {
  Tensor<T> out(new TensorImpl<T>(shape, numel));
  try {
    out.impl()->storage = StorageRef<T>::allocate(numel);
  } catch (const std::bad_alloc&) {
    throw_allocation_failed("empty", shape, numel, sizeof(T));
  }
  return out;
}

/// A new handle with another shape on the same storage (no autograd state).
template <class T>
Tensor<T> make_alias(const Tensor<T>& base, Shape shape) {
  Tensor<T> out(new TensorImpl<T>());
  TensorImpl<T>* impl = out.impl();
  impl->storage = base.impl()->storage;
  impl->numel = base.numel();
  impl->shape = std::move(shape);
  return out;
}

template <class T>
Tensor<T> make_sparse(Shape shape, Tensor<std::int64_t> indices, Tensor<T> values, bool coalesced) {
  Tensor<T> out(new TensorImpl<T>());
  TensorImpl<T>* impl = out.impl();
  impl->numel = checked_numel("sparse", shape);
  impl->shape = std::move(shape);
  impl->sparse = std::make_unique<SparseParts<T>>(SparseParts<T>{std::move(indices), std::move(values), coalesced});
  return out;
}

/// Throws if an in-place op would change a tensor the tape may need, outside NoGradGuard.
template <class T>
void check_inplace(const char* op, const Tensor<T>& t) {
  if (is_grad_enabled() && t.requires_grad())
    throw AutogradError(cat(op, ": in-place operation on a tensor that requires grad; the tape does not record "
                                "in-place ops. Use the out-of-place op, or run it under NoGradGuard (as optimisers do)"));
}

// Offset of a multi-index into a row-major shape, with Python-style negative indices.
inline std::int64_t element_offset(const Shape& shape, std::initializer_list<std::int64_t> index) {
  if (index.size() != shape.size())
    throw IndexError(cat("at: got ", index.size(), " indices for a tensor of shape ", shape_str(shape)));
  std::int64_t offset = 0;
  std::size_t d = 0;
  for (std::int64_t i : index) {
    const std::int64_t n = shape[d];
    if (i < -n || i >= n)
      throw IndexError(cat("at: index ", i, " at position ", d, " is out of range for dimension ", d, " of size ", n,
                           " (valid range [", -n, ", ", n, "))"));
    offset = offset * n + (i < 0 ? i + n : i);
    ++d;
  }
  return offset;
}

}  // namespace detail

// ---- member definitions that need no autograd -----------------------------------------------------

namespace detail {
[[noreturn]] TAPEGRAD_COLD inline void throw_undefined() {
  throw ValueError("tensor is undefined (default-constructed); create it with a factory such as zeros()");
}
[[noreturn]] TAPEGRAD_COLD inline void throw_sparse(const Shape& shape) {
  throw ValueError(cat("this operation needs a dense tensor, got a sparse one of shape ", shape_str(shape),
                       "; call to_dense() first"));
}
}  // namespace detail

// checked(), dense() and the accessors built on them run several times per op: always inlined,
// with the throwing branches marked unlikely, they cost a compare and a branch each.
template <class T>
TAPEGRAD_ALWAYS_INLINE const detail::TensorImpl<T>& Tensor<T>::checked() const {
  if (TAPEGRAD_UNLIKELY(!impl_)) detail::throw_undefined();
  return *impl_;
}

template <class T>
TAPEGRAD_ALWAYS_INLINE detail::TensorImpl<T>& Tensor<T>::checked() {
  if (TAPEGRAD_UNLIKELY(!impl_)) detail::throw_undefined();
  return *impl_;
}

template <class T>
TAPEGRAD_ALWAYS_INLINE const detail::TensorImpl<T>& Tensor<T>::dense() const {
  const auto& impl = checked();
  if (TAPEGRAD_UNLIKELY(impl.sparse)) detail::throw_sparse(impl.shape);
  return impl;
}

template <class T>
TAPEGRAD_ALWAYS_INLINE const Shape& Tensor<T>::shape() const {
  return checked().shape;
}

template <class T>
TAPEGRAD_ALWAYS_INLINE std::int64_t Tensor<T>::numel() const {
  return checked().numel;
}

template <class T>
std::int64_t Tensor<T>::size(std::int64_t d) const {
  return shape()[static_cast<std::size_t>(detail::normalize_dim("size", d, dim()))];
}

template <class T>
TAPEGRAD_ALWAYS_INLINE const T* Tensor<T>::data() const {
  return dense().storage.data();
}

template <class T>
TAPEGRAD_ALWAYS_INLINE T* Tensor<T>::data() {
  return dense().storage.mutable_data();
}

template <class T>
typename Tensor<T>::ConstMatrixMap Tensor<T>::matrix() const {
  const auto& s = shape();
  const std::int64_t cols = s.empty() ? 1 : s.back();
  const std::int64_t rows = cols == 0 ? detail::numel_of(Shape(s.begin(), s.end() - 1)) : numel() / cols;
  return ConstMatrixMap(data(), rows, cols);
}

template <class T>
typename Tensor<T>::MatrixMap Tensor<T>::matrix() {
  const auto& s = shape();
  const std::int64_t cols = s.empty() ? 1 : s.back();
  const std::int64_t rows = cols == 0 ? detail::numel_of(Shape(s.begin(), s.end() - 1)) : numel() / cols;
  return MatrixMap(data(), rows, cols);
}

template <class T>
typename Tensor<T>::ConstArrayMap Tensor<T>::flat() const {
  return ConstArrayMap(data(), numel());
}

template <class T>
typename Tensor<T>::ArrayMap Tensor<T>::flat() {
  return ArrayMap(data(), numel());
}

template <class T>
T Tensor<T>::item() const {
  if (numel() != 1)
    throw ValueError(detail::cat("item: a tensor with ", numel(), " elements (shape ", detail::shape_str(shape()),
                                 ") cannot be converted to a scalar"));
  return data()[0];
}

template <class T>
std::vector<T> Tensor<T>::to_vector() const {
  const T* p = data();
  return std::vector<T>(p, p + numel());
}

template <class T>
T Tensor<T>::at(std::initializer_list<std::int64_t> index) const {
  return data()[detail::element_offset(shape(), index)];
}

template <class T>
T& Tensor<T>::at(std::initializer_list<std::int64_t> index) {
  const std::int64_t offset = detail::element_offset(shape(), index);
  return data()[offset];
}

template <class T>
Tensor<T> Tensor<T>::detach() const {
  if (is_sparse()) return detail::make_sparse(shape(), indices(), values(), is_coalesced());
  return detail::make_alias(*this, shape());
}

template <class T>
Tensor<T>& Tensor<T>::zero_() {
  detail::check_inplace("zero_", *this);
  if (numel() > 0) std::memset(static_cast<void*>(data()), 0, static_cast<std::size_t>(numel()) * sizeof(T));
  return *this;
}

template <class T>
Tensor<T>& Tensor<T>::fill_(T value) {
  detail::check_inplace("fill_", *this);
  std::fill_n(data(), numel(), value);
  return *this;
}

template <class T>
Tensor<T>& Tensor<T>::copy_(const Tensor& src) {
  detail::check_inplace("copy_", *this);
  const Shape target = detail::broadcast_shapes("copy_", src.shape(), shape());
  if (target != shape())
    throw ShapeError(detail::cat("copy_: source of shape ", detail::shape_str(src.shape()),
                                 " cannot be broadcast to the destination shape ", detail::shape_str(shape())));
  const T* s = src.data();
  T* d = data();
  if (src.shape() == shape()) {
    if (s != d) std::memmove(static_cast<void*>(d), s, static_cast<std::size_t>(numel()) * sizeof(T));
    return *this;
  }
  // Broadcast copy: walk the destination, reading the source with zero strides where it is broadcast.
  const Shape in_strides = detail::broadcast_strides(src.shape(), shape());
  const std::int64_t n = numel(), nd = dim();
  Shape idx(static_cast<std::size_t>(nd), 0);
  std::int64_t offset = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    d[i] = s[offset];
    for (std::int64_t k = nd - 1; k >= 0; --k) {
      const auto kk = static_cast<std::size_t>(k);
      offset += in_strides[kk];
      if (++idx[kk] < shape()[kk]) break;
      offset -= in_strides[kk] * idx[kk];
      idx[kk] = 0;
    }
  }
  return *this;
}

template <class T>
TAPEGRAD_ALWAYS_INLINE bool Tensor<T>::requires_grad() const {
  const auto& impl = checked();
  return impl.requires_grad || static_cast<bool>(impl.grad_fn);
}

template <class T>
Tensor<T>& Tensor<T>::requires_grad_(bool on) {
  auto& impl = checked();
  if constexpr (!std::is_floating_point_v<T>) {
    if (on)
      throw ValueError(detail::cat("requires_grad_: only floating-point tensors can require gradients, this one is ",
                                   detail::dtype_name<T>()));
  }
  if (impl.grad_fn) {
    if (!on)
      throw AutogradError(
          "requires_grad_(false): only leaves can change requires_grad; use detach() to get a tensor without a gradient");
    return *this;
  }
  impl.requires_grad = on;
  // The accumulator is made here, not lazily by the first op that uses the leaf: forwards from
  // several threads then only read it. It stays when requires_grad goes off, so a graph recorded
  // before still delivers to this leaf (as in PyTorch) and is told when the leaf is destroyed.
  if constexpr (std::is_floating_point_v<T>) {
    if (on && !impl.grad_accumulator) impl.grad_accumulator = detail::NodeRef(new detail::AccumulateGrad<T>(&impl));
  }
  return *this;
}

template <class T>
bool Tensor<T>::is_leaf() const {
  return !checked().grad_fn;
}

template <class T>
Tensor<T> Tensor<T>::grad() const {
  return checked().grad;
}

template <class T>
Tensor<T>& Tensor<T>::mutable_grad() {
  return checked().grad;
}

template <class T>
bool Tensor<T>::retains_grad() const {
  return checked().retains_grad;
}

template <class T>
detail::Node* Tensor<T>::grad_fn() const {
  return checked().grad_fn.get();
}

template <class T>
long Tensor<T>::use_count() const noexcept {
  return impl_ ? impl_->refs.load(std::memory_order_acquire) : 0;
}

template <class T>
bool Tensor<T>::shares_storage(const Tensor& other) const noexcept {
  return impl_ && other.impl_ && impl_->storage && impl_->storage == other.impl_->storage;
}

template <class T>
bool Tensor<T>::is_sparse() const {
  return checked().sparse != nullptr;
}

template <class T>
Tensor<std::int64_t> Tensor<T>::indices() const {
  if (!is_sparse()) throw ValueError("indices: the tensor is dense; only sparse tensors have indices()");
  return impl_->sparse->indices;
}

template <class T>
Tensor<T> Tensor<T>::values() const {
  if (!is_sparse()) throw ValueError("values: the tensor is dense; only sparse tensors have values()");
  return impl_->sparse->values;
}

template <class T>
bool Tensor<T>::is_coalesced() const {
  return is_sparse() && impl_->sparse->coalesced;
}

template <class T>
Tensor<T> Tensor<T>::to_dense() const {
  if (!is_sparse()) return *this;
  Tensor<T> out = detail::make_tensor<T>(shape());
  std::fill_n(out.data(), out.numel(), T(0));
  const std::int64_t rows = shape().empty() ? 1 : shape()[0];
  const std::int64_t width = rows == 0 ? 0 : numel() / rows;
  const std::int64_t* idx = impl_->sparse->indices.data();
  const T* vals = impl_->sparse->values.data();
  T* dst = out.data();
  for (std::int64_t k = 0; k < impl_->sparse->indices.numel(); ++k)
    for (std::int64_t j = 0; j < width; ++j) dst[idx[k] * width + j] += vals[k * width + j];
  return out;
}

template <class T>
Tensor<T> Tensor<T>::coalesce() const {
  if (!is_sparse()) throw ValueError("coalesce: the tensor is dense; only sparse tensors can be coalesced");
  if (is_coalesced()) return *this;
  const auto& parts = *impl_->sparse;
  const std::int64_t nnz = parts.indices.numel();
  const std::int64_t width = parts.values.dim() == 0 ? 1 : (nnz == 0 ? 0 : parts.values.numel() / nnz);
  const std::int64_t* idx = parts.indices.data();
  std::vector<std::int64_t> order(static_cast<std::size_t>(nnz));
  for (std::int64_t k = 0; k < nnz; ++k) order[static_cast<std::size_t>(k)] = k;
  // Stable, so duplicates are summed in the order they were produced (deterministic results).
  std::stable_sort(order.begin(), order.end(), [idx](std::int64_t a, std::int64_t b) { return idx[a] < idx[b]; });
  std::int64_t unique = 0;
  for (std::size_t k = 0; k < order.size(); ++k)
    if (k == 0 || idx[order[k]] != idx[order[k - 1]]) ++unique;
  Shape value_shape = parts.values.shape();
  value_shape[0] = unique;
  Tensor<std::int64_t> out_idx = detail::make_tensor<std::int64_t>({unique});
  Tensor<T> out_val = detail::make_tensor<T>(value_shape);
  std::fill_n(out_val.data(), out_val.numel(), T(0));
  const T* src = parts.values.data();
  T* dst = out_val.data();
  std::int64_t* oi = out_idx.data();
  std::int64_t row = -1;
  for (std::size_t k = 0; k < order.size(); ++k) {
    if (k == 0 || idx[order[k]] != idx[order[k - 1]]) oi[++row] = idx[order[k]];
    for (std::int64_t j = 0; j < width; ++j) dst[row * width + j] += src[order[k] * width + j];
  }
  return detail::make_sparse(shape(), std::move(out_idx), std::move(out_val), true);
}

}  // namespace tapegrad

// The tape: grad_fn nodes, backward(), and the members above that record ops (clone, reshape...).
#include "tapegrad/autograd.hpp"
