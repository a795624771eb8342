// SPDX-License-Identifier: MIT
// The tape: a graph of recorded ops (Nodes), the engine that runs it backwards, and the rules
// for summing gradients. Design notes: docs/design.md, "The tape".
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapegrad/grad_mode.hpp"
#include "tapegrad/tensor.hpp"

namespace tapegrad {
namespace detail {

// ---- graph nodes -----------------------------------------------------------------------------------

struct Node;

/// The input edges of a node; two fit inline, since nearly every op has one or two inputs.
/// The rest live in a plain heap array rather than a std::vector: every op builds, moves and
/// destroys an Edges, and with no third input each of those is now a pointer test.
class Edges {
 public:
  Edges() = default;
  /// The edges of a one- or two-input op, straight into the inline slots.
  explicit Edges(NodeRef a) noexcept : inline_{std::move(a), NodeRef()}, size_(1) {}
  Edges(NodeRef a, NodeRef b) noexcept : inline_{std::move(a), std::move(b)}, size_(2) {}
  Edges(Edges&& other) noexcept
      : inline_{std::move(other.inline_[0]), std::move(other.inline_[1])},
        more_(std::move(other.more_)),
        size_(std::exchange(other.size_, 0)),
        more_capacity_(std::exchange(other.more_capacity_, 0)) {}
  Edges& operator=(Edges&& other) noexcept {
    inline_[0] = std::move(other.inline_[0]);
    inline_[1] = std::move(other.inline_[1]);
    more_ = std::move(other.more_);
    size_ = std::exchange(other.size_, 0);
    more_capacity_ = std::exchange(other.more_capacity_, 0);
    return *this;
  }
  std::size_t size() const noexcept { return size_; }
  NodeRef& operator[](std::size_t i) noexcept { return i < 2 ? inline_[i] : more_[i - 2]; }
  const NodeRef& operator[](std::size_t i) const noexcept { return i < 2 ? inline_[i] : more_[i - 2]; }
  void push_back(NodeRef e) {
    if (size_ < 2) {
      inline_[size_] = std::move(e);
    } else {
      if (size_ - 2 == more_capacity_) grow();
      more_[size_ - 2] = std::move(e);
    }
    ++size_;
  }

 private:
  void grow() {
    const std::uint32_t capacity = more_capacity_ == 0 ? 2 : 2 * more_capacity_;
    std::unique_ptr<NodeRef[]> bigger(new NodeRef[capacity]);
    for (std::size_t i = 0; i < more_capacity_; ++i) bigger[i] = std::move(more_[i]);
    more_ = std::move(bigger);
    more_capacity_ = capacity;
  }

  NodeRef inline_[2];
  std::unique_ptr<NodeRef[]> more_;  // edges 2.. (size_ - 2 of them), null until a third input
  std::uint32_t size_ = 0;
  std::uint32_t more_capacity_ = 0;
};

/// Graph nodes created minus nodes destroyed on this thread: a leak check for tests and for users
/// who want one. Thread-local, not one process-wide atomic: every op creates a node, and training
/// threads updating one shared counter would bounce its cache line between cores on every op.
inline long& live_node_count() noexcept {
  thread_local long count = 0;
  return count;
}

/// One recorded op. It receives the gradient of its output and sends gradients to its inputs.
struct Node {
  // Nodes come from the per-thread pool; the virtual destructor passes the dynamic size here.
  static void* operator new(std::size_t bytes) { return allocate_bytes(bytes); }
  static void operator delete(void* p, std::size_t bytes) noexcept { free_bytes(p, bytes); }

  Node() noexcept { ++live_node_count(); }
  explicit Node(Edges&& edges) noexcept : inputs(std::move(edges)) {
    ++live_node_count();
  }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  virtual ~Node();

  /// PyTorch's name for the backward op ("MulBackward0"), shown when printing a tensor.
  virtual const char* name() const noexcept = 0;
  /// Sends the gradient received so far to the inputs, then forgets it.
  virtual void apply() = 0;
  /// Frees what the op saved for backward (after a backward without retain_graph).
  virtual void release() noexcept { released = true; }
  virtual void clear_received() noexcept = 0;
  /// The leaf this node accumulates into (AccumulateGrad), or the output it retains a gradient
  /// for, is being destroyed: stop pointing at it.
  virtual void forget_tensor() noexcept {}

  std::atomic<long> refs{1};  // NodeRefs to this node

  /// Where each input's gradient goes: its producer's node, a leaf's accumulator, or null when
  /// the input needs no gradient.
  Edges inputs;
  bool released = false;
  bool visiting = false;  // scratch mark for the engine's graph walk
  std::uint64_t recorded_at = 0;  // under DetectAnomalyGuard: this op's number in its thread's forward
  Node* next_to_free = nullptr;   // link in this thread's list of nodes waiting to be freed (~Node)
};

/// The nodes this thread has taken over for freeing, and whether a ~Node is already freeing them.
/// Trivially destructible, so reaching it costs no guard check.
struct NodeFreeList {
  Node* head = nullptr;
  bool draining = false;
};

inline NodeFreeList& node_free_list() noexcept {
  thread_local NodeFreeList list;
  return list;
}

inline Node::~Node() {
  --live_node_count();
  // Freeing a long chain by plain recursion would use one stack frame per node. Instead each dying
  // node hands the inputs that die with it (it holds their last reference) to this thread's list,
  // and the outermost ~Node frees the list in a loop. Each node's inputs are looked at once, and
  // those nodes are deleted directly: their count is 1 and nobody else can see it.
  NodeFreeList& list = node_free_list();
  for (std::size_t i = 0, k = inputs.size(); i < k; ++i) {
    NodeRef& in = inputs[i];
    if (in && in.use_count() == 1) {
      Node* n = in.detach();
      n->next_to_free = list.head;
      list.head = n;
    }
  }
  if (list.draining) return;  // an outer ~Node on this thread is freeing the list
  list.draining = true;
  while (Node* n = list.head) {
    list.head = n->next_to_free;
    delete n;
  }
  list.draining = false;
}

inline void retain(Node* n) noexcept { n->refs.fetch_add(1, std::memory_order_relaxed); }
inline void release(Node* n) noexcept {
  // The only reference needs no locked decrement (nobody else can see the count any more).
  if (n->refs.load(std::memory_order_acquire) == 1 || n->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete n;
}
inline long use_count(const Node* n) noexcept { return n->refs.load(std::memory_order_acquire); }

/// True if no other handle, view or autograd snapshot can see t's elements (so they may be updated in place).
template <class T>
bool is_exclusive(const Tensor<T>& t) {
  const auto* impl = t.impl();
  return t.use_count() == 1 && impl->storage && impl->storage.aliases() == 1 && !impl->storage.has_snapshots();
}

template <class T>
Tensor<T> zeros_of(const Shape& shape, const char* op = "zeros") {
  Tensor<T> out = make_tensor<T>(shape, op);
  if (out.numel() > 0) std::memset(static_cast<void*>(out.data()), 0, static_cast<std::size_t>(out.numel()) * sizeof(T));
  return out;
}

/// zero_grad()'s dense case (PyTorch 1.13's default): +0 in place, so handles to g see zeros.
/// When the written rows are known (a dense embedding gradient, see DirtyRows), only those are
/// cleared: zero_grad() then costs the rows the last backward wrote, not the whole table.
template <class T>
void zero_dense_grad(Tensor<T>& g) {
  if (g.requires_grad()) g = g.detach();  // as PyTorch: the zeroed gradient is not part of any graph
  if (g.numel() == 0) return;
  const StorageRef<T>& storage = g.impl()->storage;
  if (DirtyRows* rows = storage.dirty_rows()) {
    T* data = storage.mutable_data_untracked();
    if (rows->overflowed)
      std::memset(static_cast<void*>(data), 0, static_cast<std::size_t>(g.numel()) * sizeof(T));
    else
      for (const std::int64_t r : rows->rows)
        std::memset(static_cast<void*>(data + r * rows->width), 0, static_cast<std::size_t>(rows->width) * sizeof(T));
    rows->reset(rows->num_rows, rows->width);
    return;
  }
  std::memset(static_cast<void*>(g.data()), 0, static_cast<std::size_t>(g.numel()) * sizeof(T));
}

template <class T>
Tensor<T> copy_of(const Tensor<T>& t) {
  Tensor<T> out = make_tensor<T>(t.shape());
  if (t.numel() > 0) std::memcpy(static_cast<void*>(out.data()), t.data(), static_cast<std::size_t>(t.numel()) * sizeof(T));
  return out;
}

/// dense += sparse, row by row, in the order the sparse entries were produced.
template <class T>
void scatter_add_rows(Tensor<T>& dense, const Tensor<T>& sparse) {
  const std::int64_t rows = dense.shape().empty() ? 1 : dense.shape()[0];
  const std::int64_t width = rows == 0 ? 0 : dense.numel() / rows;
  const std::int64_t* idx = sparse.indices().data();
  const Tensor<T> values = sparse.values();
  const T* src = values.data();
  T* dst = dense.data();
  for (std::int64_t k = 0; k < sparse.indices().numel(); ++k)
    for (std::int64_t j = 0; j < width; ++j) dst[idx[k] * width + j] += src[k * width + j];
}

/// Two sparse gradients side by side (duplicates kept; coalesce() sums them).
template <class T>
Tensor<T> concat_sparse(const Tensor<T>& a, const Tensor<T>& b) {
  // An empty side (what zero_grad leaves) adds nothing: share the other's parts, as the first
  // sparse gradient of a leaf is shared, instead of copying nnz rows.
  if (a.indices().numel() == 0) return make_sparse(a.shape(), b.indices(), b.values(), b.is_coalesced());
  if (b.indices().numel() == 0) return make_sparse(a.shape(), a.indices(), a.values(), a.is_coalesced());
  const Tensor<std::int64_t> ia = a.indices(), ib = b.indices();
  const Tensor<T> va = a.values(), vb = b.values();
  Tensor<std::int64_t> idx = make_tensor<std::int64_t>({ia.numel() + ib.numel()});
  std::copy_n(ia.data(), ia.numel(), idx.data());
  std::copy_n(ib.data(), ib.numel(), idx.data() + ia.numel());
  Shape vshape = va.shape();
  vshape[0] = ia.numel() + ib.numel();
  Tensor<T> vals = make_tensor<T>(vshape);
  std::copy_n(va.data(), va.numel(), vals.data());
  std::copy_n(vb.data(), vb.numel(), vals.data() + va.numel());
  return make_sparse(a.shape(), std::move(idx), std::move(vals), false);
}

/// acc + g for any mix of dense and sparse; writes into acc's buffer only when `in_place` allows it.
template <class T>
void accumulate(Tensor<T>& acc, const Tensor<T>& g, bool in_place) {
  if (acc.is_sparse() && g.is_sparse()) {
    acc = concat_sparse(acc, g);
  } else if (acc.is_sparse()) {
    Tensor<T> dense = copy_of(g);
    scatter_add_rows(dense, acc);
    acc = std::move(dense);
  } else {
    if (!in_place) acc = copy_of(acc);
    if (g.is_sparse()) {
      scatter_add_rows(acc, g);
    } else {
      acc.flat() += g.flat();
    }
  }
}

/// A node whose output has element type T: it sums the gradients it receives for that output.
template <class T>
struct GradNode : Node {
  GradNode() noexcept = default;
  explicit GradNode(Edges&& edges) noexcept : Node(std::move(edges)) {}

  Tensor<T> grad;                      // sum of the gradients received so far
  TensorImpl<T>* retained = nullptr;  // a non-leaf output whose retain_grad() was called (not owned)

  void forget_tensor() noexcept override { retained = nullptr; }

  virtual void receive(const Tensor<T>& g) {
    if (!grad.defined())
      grad = g;
    else
      accumulate(grad, g, is_exclusive(grad));
  }
  /// receive() of a gradient nobody else will use: taken over without touching its count.
  virtual void receive(Tensor<T>&& g) {
    if (!grad.defined())
      grad = std::move(g);
    else
      accumulate(grad, g, is_exclusive(grad));
  }

  /// Adds g * factor (element-wise; `factor` has g's elements count) to what this node received,
  /// if it can do so without first making the product: only a leaf's accumulator with a dense
  /// grad() can. Returns false when the caller must make the product and receive() it.
  virtual bool receive_product(const Tensor<T>& /*g*/, const T* /*factor*/) { return false; }

  /// A dense gradient buffer of `shape` that the caller may add into in place (used by scatters).
  virtual Tensor<T>& dense_buffer(const Shape& shape) {
    if (!grad.defined())
      grad = zeros_of<T>(shape);
    else if (grad.is_sparse())
      grad = grad.to_dense();
    else if (!is_exclusive(grad))
      grad = copy_of(grad);
    return grad;
  }

  /// A leaf's grad() slot when this node adds straight into it (null for an op's node).
  virtual Tensor<T>* leaf_grad_slot() noexcept { return nullptr; }

  void clear_received() noexcept override { grad = Tensor<T>(); }
};

/// The end of the line for a leaf: what it receives is added to the leaf's grad(). The leaf owns
/// it (one per leaf, reused by every graph); it refers back weakly, since a gradient for a leaf
/// that no handle can reach any more could never be read.
template <class T>
struct AccumulateGrad final : GradNode<T> {
  explicit AccumulateGrad(TensorImpl<T>* leaf_impl) noexcept : leaf(leaf_impl) {}
  void forget_tensor() noexcept override { leaf = nullptr; }

  const char* name() const noexcept override { return "AccumulateGrad"; }
  void apply() override {}
  void release() noexcept override {}  // saves nothing; the leaf may take part in later graphs

  void receive(const Tensor<T>& g) override { deliver(g, nullptr); }
  void receive(Tensor<T>&& g) override { deliver(g, &g); }

  // mul's backward for a leaf (a weight): grad() += g * factor, with the same checks and the same
  // rounding as deliver() of the product, but without allocating the product as a tensor.
  bool receive_product(const Tensor<T>& g, const T* factor) override {
    TensorImpl<T>* impl = leaf;
    if (!impl) return true;  // the leaf is gone: nobody will read the gradient
    Tensor<T>& slot = impl->grad;
    const TensorImpl<T>* gi = g.impl();
    if (!slot.defined() || slot.impl()->sparse || gi->sparse) return false;  // deliver() decides those
    if (gi->shape != impl->shape) wrong_gradient_shape(g, impl);
    check_slot(slot, impl);
    T* dst = slot.data();
    const T* src = gi->storage.data();
    // The products go through a small buffer: each is rounded on its own before the add, exactly
    // as deliver() of a product tensor would do, even where the compiler could fuse a*b+c.
    constexpr std::int64_t kChunk = 64;
    T product[kChunk];
    for (std::int64_t start = 0, n = gi->numel; start < n; start += kChunk) {
      const std::int64_t m = std::min(kChunk, n - start);
      for (std::int64_t i = 0; i < m; ++i) product[i] = src[start + i] * factor[start + i];
      for (std::int64_t i = 0; i < m; ++i) dst[start + i] += product[i];
    }
    return true;
  }

  Tensor<T>& dense_buffer(const Shape& shape) override {
    TensorImpl<T>* impl = leaf;
    if (!impl) return this->scratch = zeros_of<T>(shape);  // the leaf is gone: nobody will read this
    Tensor<T>& slot = impl->grad;
    check_slot(slot, impl);
    if (!slot.defined())
      slot = zeros_of<T>(shape);
    else if (slot.is_sparse())
      slot = slot.to_dense();
    return slot;
  }

  Tensor<T>* leaf_grad_slot() noexcept override { return leaf ? &leaf->grad : nullptr; }

  TensorImpl<T>* leaf;  // owns this accumulator; clears this pointer when it is destroyed
  Tensor<T> scratch;

 private:
  // Adds g to the leaf's grad(); `movable` is &g when the caller gives g up (it may be moved from).
  void deliver(const Tensor<T>& g, Tensor<T>* movable) {
    TensorImpl<T>* impl = leaf;
    if (!impl) return;
    if (g.shape() != impl->shape) wrong_gradient_shape(g, impl);
    Tensor<T>& slot = impl->grad;
    if (!slot.defined()) {
      // Steal the buffer when nobody else sees it.
      if (g.is_sparse() || is_exclusive(g))
        slot = movable ? std::move(*movable) : g;
      else
        slot = copy_of(g);
      return;
    }
    check_slot(slot, impl);
    const TensorImpl<T>* s = slot.impl();
    const TensorImpl<T>* gi = g.impl();
    if (!s->sparse && !gi->sparse) {
      // The common case, in place as PyTorch does (handles to grad() see the update).
      T* dst = slot.data();
      const T* src = gi->storage.data();
      for (std::int64_t i = 0, n = s->numel; i < n; ++i) dst[i] += src[i];
    } else {
      accumulate(slot, g, true);
    }
  }

  // A gradient assigned through mutable_grad() must have the leaf's shape before anything is added
  // to it in place (PyTorch refuses such an assignment; a reference cannot, so backward checks).
  static void check_slot(const Tensor<T>& slot, const TensorImpl<T>* impl) {
    if (slot.defined() && slot.impl()->shape != impl->shape) slot_mismatch(slot, impl);
  }
  [[noreturn]] TAPEGRAD_COLD static void wrong_gradient_shape(const Tensor<T>& g, const TensorImpl<T>* impl) {
    throw AutogradError(cat("backward: a gradient of shape ", shape_str(g.shape()), " reached a leaf of shape ",
                            shape_str(impl->shape), " (a bug in an op's backward)"));
  }
  [[noreturn]] TAPEGRAD_COLD static void slot_mismatch(const Tensor<T>& slot, const TensorImpl<T>* impl) {
    throw ShapeError(cat("backward: the leaf's grad() has shape ", shape_str(slot.shape()), ", but the leaf has shape ",
                         shape_str(impl->shape), "; a gradient assigned through mutable_grad() must have the leaf's shape"));
  }
};

/// What an op's backward function uses to hand out gradients for its inputs.
class GradSink {
 public:
  /// `from` is the node whose backward runs (named by anomaly detection).
  GradSink(Edges& inputs, const Node* from) noexcept : inputs_(inputs), from_(from) {}

  /// False when input i needs no gradient: skip computing it.
  bool wants(std::size_t i) const noexcept { return i < inputs_.size() && static_cast<bool>(inputs_[i]); }

  /// Adds `g` (an input-shaped gradient) to what input i has received.
  template <class V>
  void add(std::size_t i, const Tensor<V>& g) {
    if (!wants(i)) return;
    if (anomaly_state().enabled) check_finite(g, i);
    static_cast<GradNode<V>*>(inputs_[i].get())->receive(g);
  }
  /// add() of a gradient the caller gives up (a temporary, or its last use): no copy of the handle.
  template <class V>
  void add(std::size_t i, Tensor<V>&& g) {
    if (!wants(i)) return;
    if (anomaly_state().enabled) check_finite(g, i);
    static_cast<GradNode<V>*>(inputs_[i].get())->receive(std::move(g));
  }

  /// Adds g * factor (element-wise, `factor` with g's element count) to input i, if that input can
  /// take it without the product being made first (a leaf's accumulator). Returns false when the
  /// caller must add() the product itself; always false under anomaly detection, which checks
  /// the product before it is added.
  template <class V>
  bool add_product(std::size_t i, const Tensor<V>& g, const V* factor) {
    if (!wants(i) || anomaly_state().enabled) return false;
    return static_cast<GradNode<V>*>(inputs_[i].get())->receive_product(g, factor);
  }

  /// Input i's dense gradient buffer, to add into in place (saves a temporary for scatter-style ops).
  template <class V>
  Tensor<V>& buffer(std::size_t i, const Shape& shape) {
    Tensor<V>& out = static_cast<GradNode<V>*>(inputs_[i].get())->dense_buffer(shape);
    if (anomaly_state().enabled) {
      // Checked once the backward has written into it (finish_anomaly_checks).
      Tensor<V> handle = out;
      pending_.push_back([handle, i](GradSink& sink) { sink.check_finite(handle, i); });
    }
    return out;
  }

  /// buffer() for a scatter that adds only into rows idx[0..n) (entries equal to `skip` excluded)
  /// of a [rows, width] gradient. When the input is a leaf whose grad() tracks its dirty rows
  /// (see DirtyRows), the rows are noted and the returned pointer does not mark the storage, so
  /// zero_grad() and SGD can visit only those rows. Returns where to add.
  template <class V, class I>
  V* row_buffer(std::size_t i, const Shape& shape, const I* idx, std::int64_t n, std::int64_t skip) {
    Tensor<V>* slot = static_cast<GradNode<V>*>(inputs_[i].get())->leaf_grad_slot();
    const bool fresh = slot && !slot->defined();  // then buffer() puts a new all-zero buffer there
    Tensor<V>& out = buffer<V>(i, shape);
    if (slot == &out && shape.size() == 2) {  // out is the leaf's grad(), not a scratch buffer
      const StorageRef<V>& storage = out.impl()->storage;
      DirtyRows* rows = fresh ? &storage.track_dirty_rows(shape[0], shape[1]) : storage.dirty_rows();
      if (rows && rows->num_rows == shape[0] && rows->width == shape[1]) {
        rows->add(idx, n, skip);
        return storage.mutable_data_untracked();
      }
    }
    return out.data();  // marks the storage written: its dirty rows are never trusted again
  }

  /// Under anomaly detection: checks the buffers handed out by buffer() (after the backward ran).
  void finish_anomaly_checks() {
    for (auto& check : pending_) check(*this);
    pending_.clear();
  }

 private:
  template <class V>
  void check_finite(const Tensor<V>& g, std::size_t i) const {
    if constexpr (std::is_floating_point_v<V>) {
      const Tensor<V> values = g.is_sparse() ? g.values() : g;
      const V* x = values.data();
      for (std::int64_t k = 0, n = values.numel(); k < n; ++k)
        if (!std::isfinite(x[k]))
          throw AutogradError(cat("backward (anomaly detection): ", from_->name(), ", the op recorded as number ",
                                  from_->recorded_at, " in the forward under DetectAnomalyGuard, returned ", x[k],
                                  " at element ", k, " of the gradient of its input ", i,
                                  from_->recorded_at == 0 ? " (it was recorded without DetectAnomalyGuard)" : ""));
    }
  }

  Edges& inputs_;
  const Node* from_;
  std::vector<std::function<void(GradSink&)>> pending_;
};

/// A recorded op whose backward is a function object `fn(Tensor<T> grad_out, GradSink&)` (or one
/// taking `const Tensor<T>&`). The gradient is handed over as an rvalue: a backward that owns it
/// alone may write its result into the same buffer. The captures are the values the op saved;
/// release() frees them.
template <class T, class Fn>
struct FunctionNode final : GradNode<T> {
  template <class F>
  FunctionNode(const char* op_name, Edges&& op_inputs, F&& backward)
      : GradNode<T>(std::move(op_inputs)), name_(op_name), fn_(std::in_place, std::forward<F>(backward)) {}

  const char* name() const noexcept override { return name_; }

  void apply() override {
    if (!this->grad.defined()) return;
    Tensor<T> g = std::move(this->grad);  // leaves grad empty
    if (TensorImpl<T>* keep = this->retained) {
      if (!keep->grad.defined())
        keep->grad = copy_of(g);
      else
        accumulate(keep->grad, g, true);
    }
    GradSink sink(this->inputs, this);
    (*fn_)(std::move(g), sink);
    if (anomaly_state().enabled) sink.finish_anomaly_checks();
  }

  void release() noexcept override {
    fn_.reset();
    this->released = true;
  }

 private:
  const char* name_;
  std::optional<Fn> fn_;
};

template <class T>
TensorImpl<T>::~TensorImpl() {
  // Nodes keep plain pointers back to the tensor they accumulate into or retain a gradient for.
  if (grad_accumulator) grad_accumulator->forget_tensor();
  if (retains_grad && grad_fn) grad_fn->forget_tensor();
}

// ---- recording ---------------------------------------------------------------------------------------

/// True when an op on these tensors must be recorded.
template <class... Ts>
bool should_record(const Tensor<Ts>&... ts) {
  return is_grad_enabled() && (ts.requires_grad() || ...);
}

// A leaf that requires grad gets its accumulator from requires_grad_(); this covers the rest
// (out of line: it is rare, and would keep edge() from inlining).
template <class T>
TAPEGRAD_NOINLINE void make_accumulator(TensorImpl<T>* impl) {
  impl->grad_accumulator = NodeRef(new AccumulateGrad<T>(impl));
}

/// The node that receives t's gradient: its producer, its leaf accumulator, or null.
template <class T>
TAPEGRAD_ALWAYS_INLINE NodeRef edge(const Tensor<T>& t) {
  if constexpr (!std::is_floating_point_v<T>) {
    return NodeRef();
  } else {
    if (!t.requires_grad()) return NodeRef();
    TensorImpl<T>* impl = t.impl();
    if (impl->grad_fn) return impl->grad_fn;
    if (TAPEGRAD_UNLIKELY(!impl->grad_accumulator)) make_accumulator(impl);
    return impl->grad_accumulator;
  }
}

/// The input edges of an op: edges(a, b) for an op on a and b.
template <class... Ts>
Edges edges(const Tensor<Ts>&... ts) {
  if constexpr (sizeof...(Ts) <= 2) {
    return Edges(edge(ts)...);  // the common case: the inline slots, no size bookkeeping
  } else {
    Edges e;
    (e.push_back(edge(ts)), ...);
    return e;
  }
}

/// Makes `out` the output of a recorded op named `name` with the given input edges.
template <class T, class Fn>
void record(Tensor<T>& out, const char* name, Edges inputs, Fn&& backward) {
  auto* node = new FunctionNode<T, std::decay_t<Fn>>(name, std::move(inputs), std::forward<Fn>(backward));
  out.impl()->grad_fn = NodeRef(node);
  if (AnomalyState& anomaly = anomaly_state(); anomaly.enabled) node->recorded_at = ++anomaly.recorded;
}

/// Values an op keeps for its backward: a shape and a reference to the elements as they are now.
/// It shares the elements with the tensor until someone writes to the tensor, which then takes
/// its own copy (copy-on-write), so saved values never change under the backward that reads them.
template <class T>
class Saved {
 public:
  Saved() = default;
  explicit Saved(const Tensor<T>& t) : shape_(t.shape()), defined_(true) {
    t.data();  // throws for a sparse or undefined tensor
    block_ = t.impl()->storage.snapshot();
  }
  bool defined() const noexcept { return defined_; }
  const T* data() const noexcept { return block_.data(); }
  const Shape& shape() const noexcept { return shape_; }
  std::int64_t numel() const noexcept { return numel_of(shape_); }
  /// A tensor with a copy of the saved elements (for backward formulas written with ops).
  Tensor<T> tensor() const {
    Tensor<T> out(new TensorImpl<T>());
    TensorImpl<T>* impl = out.impl();
    impl->storage = StorageRef<T>::allocate(numel());  // a copy: saved values stay read-only
    if (numel() > 0) std::memcpy(static_cast<void*>(impl->storage.mutable_data()), data(), static_cast<std::size_t>(numel()) * sizeof(T));
    impl->shape = shape_;
    impl->numel = numel();
    return out;
  }

 private:
  BlockRef<T> block_;
  Shape shape_;
  bool defined_ = false;
};

template <class T>
Saved<T> save(const Tensor<T>& t) {
  return Saved<T>(t);
}

/// The elements alone, as Saved keeps them (copy-on-write), for a backward that knows their shape
/// from elsewhere (an element-wise op's operands have the gradient's shape): lighter to keep.
template <class T>
BlockRef<T> save_elements(const Tensor<T>& t) {
  t.data();  // throws for a sparse or undefined tensor
  return t.impl()->storage.snapshot();
}

// ---- the engine ----------------------------------------------------------------------------------------

/// Every node reachable from root, each after the nodes it sends gradients to (so a backward runs
/// the list from the end). An explicit stack instead of recursion, so graphs of any depth work.
/// Returns true if one of them has already freed what it saved.
inline bool reverse_topological_order(Node* root, std::vector<Node*>& post_order,
                                      std::vector<std::pair<Node*, std::size_t>>& stack) {
  post_order.clear();
  stack.clear();
  root->visiting = true;
  stack.emplace_back(root, 0);
  while (!stack.empty()) {
    // Skip to n's next unvisited input in one step (most inputs are seen already or need no
    // gradient), so each node costs two turns of this loop: one to descend, one to finish.
    auto& [n, i] = stack.back();
    const std::size_t k = n->inputs.size();
    Node* next = nullptr;
    while (i < k) {
      Node* in = n->inputs[i++].get();
      if (in && !in->visiting) {
        next = in;
        break;
      }
    }
    if (next) {
      next->visiting = true;
      stack.emplace_back(next, 0);
    } else {
      post_order.push_back(n);
      stack.pop_back();
    }
  }
  bool released = false;
  for (Node* n : post_order) {
    n->visiting = false;
    released |= n->released;
  }
  return released;
}

// The engine's working vectors, kept per thread so a backward allocates nothing for them.
struct BackwardScratch {
  std::vector<Node*> order;
  std::vector<std::pair<Node*, std::size_t>> stack;
  bool busy = false;
};

inline BackwardScratch& backward_scratch() {
  thread_local BackwardScratch scratch;
  return scratch;
}

template <class T>
void run_backward(const NodeRef& root, const Tensor<T>& seed, bool retain_graph) {
  NoGradGuard no_grad;  // backward formulas are plain computations, never recorded
  BackwardScratch& shared = backward_scratch();
  BackwardScratch local;  // only if a backward runs inside another (never by tapegrad itself)
  BackwardScratch& scratch = shared.busy ? local : shared;
  scratch.busy = true;
  struct Release {
    BackwardScratch& s;
    ~Release() { s.busy = false; }
  } release{scratch};
  const std::vector<Node*>& order = scratch.order;  // run from the end: the root is last
  if (reverse_topological_order(root.get(), scratch.order, scratch.stack)) {
    // Name the first freed node in running order, as the message always has.
    for (auto it = order.rbegin(); it != order.rend(); ++it)
      if ((*it)->released)
        throw AutogradError(cat(
            "backward: trying to backward through the graph a second time (", (*it)->name(),
            " already freed what it saved when the first backward ran). Pass retain_graph=true to the first "
            "backward() if you need to call it again"));
  }
  static_cast<GradNode<T>*>(root.get())->receive(seed);
  try {
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      (*it)->apply();
      if (!retain_graph) (*it)->release();
    }
  } catch (...) {
    for (Node* n : order) n->clear_received();
    throw;
  }
}

}  // namespace detail

// ---- Tensor members that record ops or run the tape -----------------------------------------------------

template <class T>
void Tensor<T>::backward(const Tensor& gradient, bool retain_graph) const {
  if constexpr (!std::is_floating_point_v<T>) {
    throw AutogradError(detail::cat("backward: ", detail::dtype_name<T>(), " tensors have no gradients"));
  } else {
    if (!requires_grad())
      throw AutogradError(
          "backward: this tensor does not require grad and has no grad_fn; call requires_grad_() on the leaves "
          "whose gradients you want before computing it (and not under NoGradGuard)");
    Tensor seed = gradient;
    if (seed.defined()) {
      if (seed.shape() != shape())
        throw ShapeError(detail::cat("backward: gradient of shape ", detail::shape_str(seed.shape()),
                                     " does not match the tensor's shape ", detail::shape_str(shape())));
    } else {
      if (numel() != 1)
        throw AutogradError(detail::cat("backward: a gradient can be created implicitly only for a tensor with one "
                                        "element; this one has shape ",
                                        detail::shape_str(shape()), ". Pass one of that shape: t.backward(gradient)"));
      seed = detail::make_tensor<T>(shape());
      seed.data()[0] = T(1);
    }
    detail::run_backward(detail::edge(*this), seed, retain_graph);
  }
}

template <class T>
void Tensor<T>::retain_grad() {
  auto& impl = checked();
  if (!requires_grad())
    throw AutogradError("retain_grad: this tensor does not require grad, so it will never have a gradient");
  if (!impl.grad_fn) return;  // leaves keep their gradient anyway
  impl.retains_grad = true;
  if constexpr (std::is_floating_point_v<T>)
    static_cast<detail::GradNode<T>*>(impl.grad_fn.get())->retained = impl_;
}

template <class T>
std::string Tensor<T>::grad_fn_name() const {
  const auto& fn = checked().grad_fn;
  return fn ? fn->name() : "";
}

template <class T>
Tensor<T> Tensor<T>::clone() const {
  if (is_sparse()) return detail::make_sparse(shape(), indices(), values(), is_coalesced());
  Tensor out = detail::copy_of(*this);
  if (detail::should_record(*this))
    detail::record(out, "CloneBackward0", detail::edges(*this),
                   [](const Tensor& g, detail::GradSink& grads) { grads.add(0, g); });
  return out;
}

template <class T>
Tensor<T> Tensor<T>::reshaped(Shape new_shape, const char* op, const char* node_name) const {
  const std::int64_t n = numel();
  std::int64_t known = 1, infer_at = -1;
  bool overflow = false;  // a product past int64 cannot equal n: refuse it instead of wrapping round
  for (std::size_t i = 0; i < new_shape.size(); ++i) {
    if (new_shape[i] == -1) {
      if (infer_at >= 0)
        throw ShapeError(detail::cat(op, ": only one size can be -1, got ", detail::shape_str(new_shape)));
      infer_at = static_cast<std::int64_t>(i);
    } else if (new_shape[i] < 0) {
      throw ShapeError(detail::cat(op, ": invalid size ", new_shape[i], " in ", detail::shape_str(new_shape)));
    } else {
      overflow |= __builtin_mul_overflow(known, new_shape[i], &known);
    }
  }
  if (overflow)
    throw ShapeError(detail::cat(op, ": shape ", detail::shape_str(new_shape),
                                 " has more elements than fit in int64; the tensor has ", n, " elements (shape ",
                                 detail::shape_str(shape()), ")"));
  if (infer_at >= 0) {
    if (known == 0 || n % known != 0)
      throw ShapeError(detail::cat(op, ": shape ", detail::shape_str(new_shape), " is invalid for a tensor of ", n,
                                   " elements (shape ", detail::shape_str(shape()), ")"));
    new_shape[static_cast<std::size_t>(infer_at)] = n / known;
  } else if (known != n) {
    throw ShapeError(detail::cat(op, ": shape ", detail::shape_str(new_shape), " is invalid for a tensor of ", n,
                                 " elements (shape ", detail::shape_str(shape()), ")"));
  }
  dense();
  Tensor out = detail::make_alias(*this, std::move(new_shape));
  if (detail::should_record(*this))
    detail::record(out, node_name, detail::edges(*this),
                   [in_shape = shape()](const Tensor& g, detail::GradSink& grads) {
                     grads.add(0, detail::make_alias(g, in_shape));
                   });
  return out;
}

template <class T>
Tensor<T> Tensor<T>::reshape(Shape shape) const {
  return reshaped(std::move(shape), "reshape", "ReshapeAliasBackward0");  // PyTorch 1.13's names
}

template <class T>
Tensor<T> Tensor<T>::view(Shape shape) const {
  return reshaped(std::move(shape), "view", "ViewBackward0");
}

namespace detail {

/// Copies `src` into a new tensor whose dimension k is src's dimension perm[k].
template <class T>
Tensor<T> permuted_copy(const Tensor<T>& src, const std::vector<std::size_t>& perm) {
  const Shape& in = src.shape();
  const Shape in_strides = strides_of(in);
  Shape out_shape(in.size()), read_strides(in.size());
  for (std::size_t k = 0; k < perm.size(); ++k) {
    out_shape[k] = in[perm[k]];
    read_strides[k] = in_strides[perm[k]];
  }
  Tensor<T> out = make_tensor<T>(out_shape);
  const T* s = src.data();
  T* d = out.data();
  const std::size_t nd = out_shape.size();
  Shape idx(nd, 0);
  std::int64_t offset = 0;
  for (std::int64_t i = 0; i < out.numel(); ++i) {
    d[i] = s[offset];
    for (std::size_t k = nd; k-- > 0;) {
      offset += read_strides[k];
      if (++idx[k] < out_shape[k]) break;
      offset -= read_strides[k] * idx[k];
      idx[k] = 0;
    }
  }
  return out;
}

}  // namespace detail

template <class T>
Tensor<T> Tensor<T>::transpose(std::int64_t dim0, std::int64_t dim1) const {
  const auto d0 = static_cast<std::size_t>(detail::normalize_dim("transpose", dim0, dim()));
  const auto d1 = static_cast<std::size_t>(detail::normalize_dim("transpose", dim1, dim()));
  std::vector<std::size_t> perm(static_cast<std::size_t>(dim()));
  for (std::size_t k = 0; k < perm.size(); ++k) perm[k] = k;
  if (!perm.empty()) std::swap(perm[d0], perm[d1]);
  Tensor out = detail::permuted_copy(*this, perm);
  if (detail::should_record(*this))
    detail::record(out, "TransposeBackward0", detail::edges(*this),
                   [perm](const Tensor& g, detail::GradSink& grads) { grads.add(0, detail::permuted_copy(g, perm)); });
  return out;
}

template <class T>
Tensor<T> Tensor<T>::t() const {
  if (dim() > 2)
    throw ShapeError(detail::cat("t: expects a tensor with at most 2 dimensions, got shape ", detail::shape_str(shape()),
                                 "; use transpose(dim0, dim1)"));
  if (dim() < 2) {
    Tensor out = detail::copy_of(*this);
    if (detail::should_record(*this))
      detail::record(out, "TBackward0", detail::edges(*this),
                     [](const Tensor& g, detail::GradSink& grads) { grads.add(0, g); });
    return out;
  }
  Tensor out = detail::permuted_copy(*this, {1, 0});
  if (detail::should_record(*this))
    detail::record(out, "TBackward0", detail::edges(*this),
                   [](const Tensor& g, detail::GradSink& grads) { grads.add(0, detail::permuted_copy(g, {1, 0})); });
  return out;
}

template <class T>
template <class U>
Tensor<U> Tensor<T>::to() const {
  const T* s = data();
  Tensor<U> out = detail::make_tensor<U>(shape());
  U* d = out.data();
  if constexpr (std::is_floating_point_v<T> && std::is_integral_v<U> && !std::is_same_v<U, bool>) {
    // A float outside U's range (or NaN) has no integer value; casting it would be undefined behaviour.
    constexpr double lo = static_cast<double>(std::numeric_limits<U>::min());
    constexpr double hi = -lo;  // 2^63 or 2^31: the first value past the largest U
    for (std::int64_t i = 0; i < numel(); ++i)
      if (!(s[i] >= lo && s[i] < hi))
        throw ValueError(detail::cat("to<", detail::dtype_name<U>(), ">: element ", i, " is ", s[i],
                                     ", which has no ", detail::dtype_name<U>(), " value (valid range [",
                                     std::numeric_limits<U>::min(), ", ", std::numeric_limits<U>::max(), "])"));
  }
  for (std::int64_t i = 0; i < numel(); ++i) d[i] = static_cast<U>(s[i]);
  if constexpr (std::is_floating_point_v<T> && std::is_floating_point_v<U>) {
    if (detail::should_record(*this))
      detail::record(out, "ToCopyBackward0", detail::edges(*this),
                     [](const Tensor<U>& g, detail::GradSink& grads) { grads.add(0, g.template to<T>()); });
  }
  return out;
}

}  // namespace tapegrad
