// SPDX-License-Identifier: MIT
// Element buffers. A Block is one allocation of elements; a Storage is what aliasing tensors share.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <utility>

#include "tapegrad/detail/allocator.hpp"
#include "tapegrad/error.hpp"

namespace tapegrad::detail {

// A reference-counted header followed by `size` elements, in one allocation.
template <class T>
class Block {
 public:
  static constexpr std::size_t kHeaderBytes = kAlignment;  // keeps the elements aligned

  static Block* create(std::int64_t n) {
    if (n < 0 || static_cast<std::uint64_t>(n) > (std::numeric_limits<std::size_t>::max() - kHeaderBytes) / sizeof(T))
      throw ValueError(cat("cannot allocate ", n, " elements of ", sizeof(T), " bytes"));
    const std::size_t bytes = kHeaderBytes + static_cast<std::size_t>(n) * sizeof(T);
    return new (allocate_bytes(bytes)) Block(n);
  }

  T* data() noexcept { return reinterpret_cast<T*>(reinterpret_cast<unsigned char*>(this) + kHeaderBytes); }
  std::int64_t size() const noexcept { return size_; }

  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      const std::size_t bytes = kHeaderBytes + static_cast<std::size_t>(size_) * sizeof(T);
      this->~Block();
      free_bytes(this, bytes);
    }
  }
  long use_count() const noexcept { return refs_.load(std::memory_order_acquire); }

 private:
  explicit Block(std::int64_t n) noexcept : size_(n) {}
  std::atomic<long> refs_{1};
  std::int64_t size_;
};

// An owning, shared pointer to a Block (intrusive, so the count lives in the same allocation).
template <class T>
class BlockRef {
 public:
  BlockRef() = default;
  static BlockRef allocate(std::int64_t n) { return BlockRef(Block<T>::create(n)); }

  BlockRef(const BlockRef& other) noexcept : block_(other.block_) {
    if (block_) block_->retain();
  }
  BlockRef(BlockRef&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  BlockRef& operator=(BlockRef other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~BlockRef() {
    if (block_) block_->release();
  }

  T* data() const noexcept { return block_ ? block_->data() : nullptr; }
  std::int64_t size() const noexcept { return block_ ? block_->size() : 0; }
  long use_count() const noexcept { return block_ ? block_->use_count() : 0; }

  BlockRef copy() const {
    BlockRef out = allocate(size());
    if (size() > 0) std::memcpy(out.data(), data(), static_cast<std::size_t>(size()) * sizeof(T));
    return out;
  }

 private:
  explicit BlockRef(Block<T>* block) noexcept : block_(block) {}
  Block<T>* block_ = nullptr;
};

// What aliasing tensors (copies of a handle, reshape/view, detach) share. Autograd snapshots share
// the Block instead, so a write through the Storage first takes a private copy of a snapshotted
// Block: the op that saved the values keeps seeing them (copy-on-write, see docs/design.md).
template <class T>
struct Storage {
  BlockRef<T> block;

  explicit Storage(BlockRef<T> b) noexcept : block(std::move(b)) {}

  const T* data() const noexcept { return block.data(); }
  T* mutable_data() {
    if (block.use_count() > 1) block = block.copy();
    return block.data();
  }
};

}  // namespace tapegrad::detail
