// SPDX-License-Identifier: MIT
// Element buffers, and the copy-on-write rule that keeps values saved for backward intact.
//
// A Block is one allocation: a 64-byte header, then the elements. Tensors that alias each other
// (copies of a handle, reshape/view, detach) share a StorageRef to a "home" Block; the home's
// header says which Block holds their elements now (itself, until the first copy-on-write).
// Values saved for backward hold a BlockRef to the Block that was current when they were saved.
// Writing through a StorageRef whose current Block is also held by a saved value first moves the
// aliases to a private copy, so the saved values never change. See docs/design.md.
//
// A home may also carry DirtyRows: which rows of a dense embedding gradient may be non-zero, so
// zero_grad() and SGD visit those rows only. Any write access through mutable_data() marks the
// home written, which retires that knowledge for good (the caller may keep the pointer).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <utility>
#include <vector>

#include "tapegrad/detail/allocator.hpp"
#include "tapegrad/error.hpp"

namespace tapegrad::detail {

/// The rows of a storage (seen as num_rows rows of `width` elements) written since it was last all
/// +0: every element outside `rows` is +0. Kept for dense embedding gradients by the only writers
/// that account for what they write (Embedding's backward, zero_grad()); read by zero_grad() and SGD.
struct DirtyRows {
  std::int64_t num_rows = 0, width = 0;
  std::vector<std::int64_t> rows;   // each once, in the order first written
  std::vector<std::uint64_t> seen;  // one bit per row, set exactly for the rows in `rows`
  bool overflowed = false;          // too many rows to list: any row may be non-zero

  /// Back to "every row is +0" for a num_rows x width view.
  void reset(std::int64_t rows_total, std::int64_t row_width) {
    if (rows_total != num_rows || seen.empty()) {
      seen.assign(static_cast<std::size_t>((rows_total + 63) / 64), 0);
    } else {
      for (std::int64_t r : rows) seen[static_cast<std::size_t>(r >> 6)] = 0;
    }
    rows.clear();
    num_rows = rows_total;
    width = row_width;
    overflowed = false;
  }
  /// Notes rows idx[0..n) (entries equal to `skip` are not written). Past a quarter of the rows
  /// it stops listing (a full pass then costs about the same) and sets `overflowed`.
  template <class I>
  void add(const I* idx, std::int64_t n, std::int64_t skip) {
    for (std::int64_t i = 0; i < n && !overflowed; ++i) {
      const std::int64_t r = static_cast<std::int64_t>(idx[i]);
      if (r == skip) continue;
      std::uint64_t& word = seen[static_cast<std::size_t>(r >> 6)];
      const std::uint64_t bit = std::uint64_t{1} << (r & 63);
      if (word & bit) continue;
      rows.push_back(r);  // first: if it throws, the bit and the list still agree
      word |= bit;
      overflowed = static_cast<std::int64_t>(rows.size()) * 4 > num_rows;
    }
  }
};

template <class T>
class Block {
 public:
  static constexpr std::size_t kHeaderBytes = kAlignment;  // keeps the elements aligned

  static Block* create(std::int64_t n) {
    static_assert(sizeof(Block) <= kHeaderBytes, "the Block header must fit before the aligned elements");
    if (n < 0 || static_cast<std::uint64_t>(n) > (std::numeric_limits<std::size_t>::max() - kHeaderBytes) / sizeof(T))
      throw ValueError(cat("cannot allocate ", n, " elements of ", sizeof(T), " bytes"));
    return new (allocate_bytes(bytes_for(n))) Block(n);
  }

  T* data() noexcept { return reinterpret_cast<T*>(reinterpret_cast<unsigned char*>(this) + kHeaderBytes); }
  std::int64_t size() const noexcept { return size_; }

  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    // The only reference needs no locked decrement: nobody else can see the count any more.
    if (sole_owner() || refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }
  /// True when the caller holds the only reference (then no other thread can add one).
  bool sole_owner() const noexcept { return refs_.load(std::memory_order_acquire) == 1; }
  long refs() const noexcept { return refs_.load(std::memory_order_acquire); }

  // The storage state, used when this Block is the home of a family of aliases.
  std::atomic<long>& aliases() noexcept { return aliases_; }
  Block* current() const noexcept { return current_; }
  void set_current(Block* b) noexcept { current_ = b; }

  // Also home state. Once a write access was handed out that does not account for rows (any
  // mutable_data()), the caller may keep that pointer, so the dirty rows are never trusted again
  // for this storage. Relaxed atomics: kernels on several threads may mark one output at once.
  void mark_written() noexcept {
    if (!written_.load(std::memory_order_relaxed)) written_.store(true, std::memory_order_relaxed);
  }
  /// The dirty rows, if they describe the elements (null otherwise).
  DirtyRows* dirty_rows() noexcept { return dirty_ && !written_.load(std::memory_order_relaxed) ? dirty_ : nullptr; }
  /// For the creator of a new, all +0 buffer that no caller has a pointer to: tracks dirty rows
  /// from here.
  DirtyRows& track_dirty_rows(std::int64_t num_rows, std::int64_t width) {
    if (!dirty_) dirty_ = new DirtyRows;
    dirty_->reset(num_rows, width);
    written_.store(false, std::memory_order_relaxed);
    return *dirty_;
  }

 private:
  explicit Block(std::int64_t n) noexcept : size_(n) {}
  void destroy() noexcept {
    if (current_ != this) current_->release();
    delete dirty_;
    const std::size_t bytes = bytes_for(size_);
    this->~Block();
    free_bytes(this, bytes);
  }
  static std::size_t bytes_for(std::int64_t n) noexcept { return kHeaderBytes + static_cast<std::size_t>(n) * sizeof(T); }

  std::atomic<long> refs_{1};     // StorageRefs homed here + BlockRefs to this block (+1 if another home's current)
  std::atomic<long> aliases_{0};  // how many of refs_ are StorageRefs homed here
  std::int64_t size_;
  Block* current_ = this;
  DirtyRows* dirty_ = nullptr;     // owned; only dense embedding gradients get one
  std::atomic<bool> written_{true};  // see mark_written(); track_dirty_rows() starts clear
};

/// A reference to one Block's elements as they are: what a saved value holds.
template <class T>
class BlockRef {
 public:
  BlockRef() = default;
  explicit BlockRef(Block<T>* b) noexcept : block_(b) {
    if (block_) block_->retain();
  }
  BlockRef(const BlockRef& other) noexcept : BlockRef(other.block_) {}
  BlockRef(BlockRef&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  BlockRef& operator=(BlockRef other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~BlockRef() {
    if (block_) block_->release();
  }
  const T* data() const noexcept { return block_ ? block_->data() : nullptr; }

 private:
  Block<T>* block_ = nullptr;
};

/// What aliasing tensors share: a reference to their home Block.
template <class T>
class StorageRef {
 public:
  StorageRef() = default;
  static StorageRef allocate(std::int64_t n) {
    StorageRef s;
    s.home_ = Block<T>::create(n);  // refs = 1
    s.home_->aliases().store(1, std::memory_order_relaxed);
    return s;
  }
  StorageRef(const StorageRef& other) noexcept : home_(other.home_) {
    if (home_) {
      home_->retain();
      home_->aliases().fetch_add(1, std::memory_order_relaxed);
    }
  }
  StorageRef(StorageRef&& other) noexcept : home_(std::exchange(other.home_, nullptr)) {}
  StorageRef& operator=(StorageRef other) noexcept {
    std::swap(home_, other.home_);
    return *this;
  }
  ~StorageRef() {
    if (home_) {
      // The last reference skips the alias count: the block dies with it.
      if (!home_->sole_owner()) home_->aliases().fetch_sub(1, std::memory_order_relaxed);
      home_->release();
    }
  }

  explicit operator bool() const noexcept { return home_ != nullptr; }
  bool operator==(const StorageRef& other) const noexcept { return home_ == other.home_; }

  const T* data() const noexcept { return home_->current()->data(); }
  std::int64_t size() const noexcept { return home_->size(); }

  /// Write access: first moves this family of aliases to a private copy if a saved value also
  /// holds the current elements.
  T* mutable_data() const {
    home_->mark_written();
    return mutable_data_untracked();
  }
  /// Write access for a writer that keeps dirty_rows() true itself (zero_grad, Embedding's backward).
  T* mutable_data_untracked() const {
    if (TAPEGRAD_UNLIKELY(has_snapshots())) copy_for_write();
    return home_->current()->data();
  }
  /// The rows written since the storage was last all +0, if known (see DirtyRows); null otherwise.
  DirtyRows* dirty_rows() const noexcept { return home_->dirty_rows(); }
  /// See Block::track_dirty_rows.
  DirtyRows& track_dirty_rows(std::int64_t num_rows, std::int64_t width) const {
    return home_->track_dirty_rows(num_rows, width);
  }

  /// A saved value's reference to the elements as they are now.
  BlockRef<T> snapshot() const noexcept { return BlockRef<T>(home_->current()); }

  /// Moves the aliases to a private copy of the current elements (the rare path of mutable_data).
  TAPEGRAD_COLD void copy_for_write() const {
    Block<T>* cur = home_->current();
    Block<T>* copy = Block<T>::create(cur->size());
    if (cur->size() > 0)
      std::memcpy(static_cast<void*>(copy->data()), cur->data(), static_cast<std::size_t>(cur->size()) * sizeof(T));
    home_->set_current(copy);  // the home now holds the copy's only reference
    if (cur != home_) cur->release();
  }

  /// True if a saved value holds the current elements.
  bool has_snapshots() const noexcept {
    Block<T>* cur = home_->current();
    const long owners = cur == home_ ? home_->aliases().load(std::memory_order_acquire) : 1;
    return cur->refs() > owners;
  }
  /// How many tensors share this storage.
  long aliases() const noexcept { return home_ ? home_->aliases().load(std::memory_order_acquire) : 0; }

 private:
  Block<T>* home_ = nullptr;
};

}  // namespace tapegrad::detail
