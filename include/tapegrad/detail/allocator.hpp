// SPDX-License-Identifier: MIT
// Where tapegrad's memory comes from. Small objects (tensor handles, graph nodes, small element
// buffers) are recycled through per-thread free lists: a graph allocates and frees hundreds of
// them at a time, more than glibc's per-thread cache keeps (7 per size), and malloc then
// dominated the cost of an op. Large element buffers go to the system allocator.
#pragma once

#include <cstddef>
#include <memory>
#include <new>

namespace tapegrad::detail {

inline constexpr std::size_t kAlignment = 64;  // a cache line, and what AVX-512 loads like

class SmallObjectPool {
 public:
  static constexpr std::size_t kGranule = 64;       // size classes are multiples of this
  static constexpr std::size_t kClasses = 32;       // so blocks up to 2 KiB are pooled
  static constexpr std::size_t kMaxFreePerClass = 8192;

  static constexpr std::size_t max_pooled_bytes() noexcept { return kGranule * kClasses; }

  /// A recycled block of the size class of `bytes` (<= max_pooled_bytes()), or null.
  void* try_allocate(std::size_t bytes) noexcept {
    const std::size_t c = size_class(bytes);
    FreeBlock* b = heads_[c];
    if (!b) return nullptr;
    heads_[c] = b->next;
    --counts_[c];
    return b;
  }

  /// A new block big enough for any request of this size class.
  void* allocate_new(std::size_t bytes) {
    return ::operator new((size_class(bytes) + 1) * kGranule, std::align_val_t(kAlignment));
  }

  void deallocate(void* p, std::size_t bytes) noexcept {
    const std::size_t c = size_class(bytes);
    if (counts_[c] < kMaxFreePerClass) {
      auto* b = static_cast<FreeBlock*>(p);
      b->next = heads_[c];
      heads_[c] = b;
      ++counts_[c];
      return;
    }
    ::operator delete(p, std::align_val_t(kAlignment));
  }

  /// Returns every cached block to the system allocator.
  void release_all() noexcept {
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (heads_[c]) {
        FreeBlock* b = heads_[c];
        heads_[c] = b->next;
        ::operator delete(b, std::align_val_t(kAlignment));
      }
      counts_[c] = 0;
    }
  }

 private:
  struct FreeBlock {
    FreeBlock* next;
  };
  static std::size_t size_class(std::size_t bytes) noexcept { return bytes == 0 ? 0 : (bytes - 1) / kGranule; }

  FreeBlock* heads_[kClasses] = {};
  std::size_t counts_[kClasses] = {};
};

// The pool of the calling thread. Memory freed by another thread joins that thread's pool. The
// state is trivially constructible and destructible, so reaching it costs no guard check; the
// cleanup that empties it at thread exit is registered on the first slow-path allocation.
struct ThreadPoolState {
  SmallObjectPool pool;
  bool dead = false;  // set at thread exit: frees after that bypass the pool
};

inline ThreadPoolState& thread_pool_state() noexcept {
  thread_local ThreadPoolState state;
  return state;
}

inline void register_pool_cleanup() {
  struct Cleaner {
    ~Cleaner() {
      thread_pool_state().pool.release_all();
      thread_pool_state().dead = true;
    }
  };
  thread_local Cleaner cleaner;
  (void)cleaner;
}

inline void* allocate_bytes(std::size_t bytes) {
  if (bytes <= SmallObjectPool::max_pooled_bytes()) {
    ThreadPoolState& s = thread_pool_state();
    if (!s.dead) {
      if (void* p = s.pool.try_allocate(bytes)) return p;
      register_pool_cleanup();
      return s.pool.allocate_new(bytes);
    }
  }
  return ::operator new(bytes, std::align_val_t(kAlignment));
}

inline void free_bytes(void* p, std::size_t bytes) noexcept {
  if (bytes <= SmallObjectPool::max_pooled_bytes()) {
    ThreadPoolState& s = thread_pool_state();
    if (!s.dead) return s.pool.deallocate(p, bytes);
  }
  ::operator delete(p, std::align_val_t(kAlignment));
}

/// A std-style allocator over allocate_bytes, for std::allocate_shared and containers.
template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() noexcept = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(allocate_bytes(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { free_bytes(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const PoolAllocator<U>&) const noexcept {
    return false;
  }
};

/// std::make_shared, with the object and its control block from the pool.
template <class T, class... Args>
std::shared_ptr<T> make_pooled(Args&&... args) {
  return std::allocate_shared<T>(PoolAllocator<T>(), std::forward<Args>(args)...);
}

}  // namespace tapegrad::detail
