// SPDX-License-Identifier: MIT
// Where tapegrad's memory comes from.
// - Small objects (tensor handles, graph nodes, element buffers up to 2 KiB) are recycled through
//   per-thread free lists: a graph allocates and frees hundreds of them at a time, more than
//   glibc's per-thread cache keeps (7 per size), and malloc then dominated the cost of an op.
// - Large element buffers (64 KiB and up) are kept in a bounded process-wide cache when freed: a
//   fresh buffer costs a page fault per 4 KiB on first touch (about 3 GB/s here), thirty times
//   slower than writing memory already mapped, and training loops free and reallocate the same
//   sizes every step. glibc serves requests from 128 KiB up (its initial mmap threshold) with
//   fresh pages, so without the cache a [32, 16, 64] float activation faulted in 32 pages per
//   step. Buffers of 1 MiB and up are also 2 MiB-aligned and advised to use huge pages.
// - Everything in between goes to the system allocator.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

// Under AddressSanitizer, blocks that the pool or the cache hold while they are free are poisoned,
// so a use after free is reported even though the memory was never returned to malloc.
#if defined(__SANITIZE_ADDRESS__)
#define TAPEGRAD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TAPEGRAD_ASAN 1
#endif
#endif
#if defined(TAPEGRAD_ASAN)
#include <sanitizer/asan_interface.h>
#define TAPEGRAD_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define TAPEGRAD_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define TAPEGRAD_POISON(p, n) ((void)(p), (void)(n))
#define TAPEGRAD_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#if defined(__GNUC__)
#define TAPEGRAD_NOINLINE __attribute__((noinline))
// For the few accessors every op calls several times (Tensor::data(), shape()...): GCC otherwise
// keeps some of them out of line, and the call then costs more than the check inside.
#define TAPEGRAD_ALWAYS_INLINE inline __attribute__((always_inline))
#define TAPEGRAD_UNLIKELY(x) __builtin_expect(static_cast<bool>(x), 0)
#else
#define TAPEGRAD_NOINLINE
#define TAPEGRAD_ALWAYS_INLINE inline
#define TAPEGRAD_UNLIKELY(x) static_cast<bool>(x)
#endif

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
    TAPEGRAD_UNPOISON(b, block_bytes(c));
    heads_[c] = b->next;
    --counts_[c];
    return b;
  }

  /// A new block big enough for any request of this size class.
  void* allocate_new(std::size_t bytes) {
    return ::operator new(block_bytes(size_class(bytes)), std::align_val_t(kAlignment));
  }

  void deallocate(void* p, std::size_t bytes) noexcept {
    const std::size_t c = size_class(bytes);
    if (counts_[c] < kMaxFreePerClass) {
      auto* b = static_cast<FreeBlock*>(p);
      b->next = heads_[c];
      heads_[c] = b;
      ++counts_[c];
      TAPEGRAD_POISON(b, block_bytes(c));
      return;
    }
    ::operator delete(p, std::align_val_t(kAlignment));
  }

  /// Returns every cached block to the system allocator.
  void release_all() noexcept {
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (heads_[c]) {
        FreeBlock* b = heads_[c];
        TAPEGRAD_UNPOISON(b, block_bytes(c));
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
  static std::size_t block_bytes(std::size_t size_class) noexcept { return (size_class + 1) * kGranule; }

  FreeBlock* heads_[kClasses] = {};
  std::size_t counts_[kClasses] = {};
};

// The pool of the calling thread. Memory freed by another thread joins that thread's pool. The
// state is trivially constructible and destructible, so reaching it costs no guard check; the
// cleanup that empties it at thread exit is registered on the first slow-path allocation.
struct ThreadPoolState {
  SmallObjectPool pool;
  bool registered = false;  // the exit cleanup is registered (on the first allocation or free)
  bool dead = false;        // set at thread exit: frees after that bypass the pool
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
  thread_pool_state().registered = true;
}

/// The process-wide cache of large buffers, bucketed by size: rounded up to a multiple of 2 MiB
/// from 1 MiB, and below that to a quarter of the power of two under the size (at most 25% more).
class LargeBlockCache {
 public:
  static constexpr std::size_t kMinBytes = std::size_t(64) << 10;
  static constexpr std::size_t kHugeBytes = std::size_t(1) << 20;  // from here: huge-page-aligned
  static constexpr std::size_t kPage = std::size_t(2) << 20;

  static std::size_t rounded(std::size_t bytes) noexcept {
    if (bytes >= kHugeBytes) return (bytes + kPage - 1) / kPage * kPage;
    std::size_t step = kMinBytes / 4;
    while (step * 8 <= bytes) step *= 2;  // step = (largest power of two <= bytes) / 4
    return (bytes + step - 1) / step * step;
  }

  void* allocate(std::size_t bytes) {
    const std::size_t size = rounded(bytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(size);
      if (it != free_.end()) {
        void* p = it->second;
        free_.erase(it);
        cached_bytes_ -= size;
        TAPEGRAD_UNPOISON(p, size);
        return p;
      }
    }
    // aligned_alloc needs a size that is a multiple of the alignment: only whole 2 MiB pages get it.
    const std::size_t align = size % kPage == 0 ? kPage : kAlignment;
    void* p = std::aligned_alloc(align, size);
    if (!p) {
      release_all();  // give the cache back and try once more before failing
      p = std::aligned_alloc(align, size);
      if (!p) throw std::bad_alloc();
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (size >= kHugeBytes) ::madvise(p, size, MADV_HUGEPAGE);  // a hint: fewer, cheaper page faults on first touch
#endif
    return p;
  }

  void deallocate(void* p, std::size_t bytes) noexcept {
    const std::size_t size = rounded(bytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_bytes_ + size <= limit_) {
        TAPEGRAD_POISON(p, size);
        free_.emplace(size, p);
        cached_bytes_ += size;
        return;
      }
    }
    std::free(p);
  }

  /// Frees every cached buffer; returns how many bytes went back to the system.
  std::size_t release_all() noexcept {
    std::multimap<std::size_t, void*> victims;
    std::size_t released = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      victims.swap(free_);
      released = cached_bytes_;
      cached_bytes_ = 0;
    }
    for (auto& kv : victims) {
      TAPEGRAD_UNPOISON(kv.second, kv.first);
      std::free(kv.second);
    }
    return released;
  }

  void set_limit(std::size_t bytes) noexcept {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      limit_ = bytes;
    }
    if (cached_bytes() > bytes) release_all();
  }
  std::size_t cached_bytes() const noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_bytes_;
  }

 private:
  mutable std::mutex mutex_;
  std::multimap<std::size_t, void*> free_;
  std::size_t cached_bytes_ = 0;
  std::size_t limit_ = std::size_t(4) << 30;  // 4 GiB by default; see set_memory_cache_limit
};

inline LargeBlockCache& large_block_cache() {
  // Never destroyed: tensors with static storage may free their buffers after main returns.
  static LargeBlockCache* cache = new LargeBlockCache;
  return *cache;
}

// The slow paths, kept out of line so that the pool's fast path below inlines into its callers
// (a graph allocates and frees several small objects per op; the size class then folds to a constant).
TAPEGRAD_NOINLINE inline void* allocate_bytes_slow(std::size_t bytes) {
  if (bytes >= LargeBlockCache::kMinBytes) return large_block_cache().allocate(bytes);
  if (bytes <= SmallObjectPool::max_pooled_bytes()) {
    ThreadPoolState& s = thread_pool_state();
    if (!s.dead) {
      if (!s.registered) register_pool_cleanup();
      return s.pool.allocate_new(bytes);
    }
  }
  return ::operator new(bytes, std::align_val_t(kAlignment));
}

TAPEGRAD_NOINLINE inline void free_bytes_slow(void* p, std::size_t bytes) noexcept {
  if (bytes >= LargeBlockCache::kMinBytes) return large_block_cache().deallocate(p, bytes);
  if (bytes <= SmallObjectPool::max_pooled_bytes()) {
    ThreadPoolState& s = thread_pool_state();
    if (!s.dead) {
      // A thread that only frees (a consumer of tensors made elsewhere) must empty its pool at exit too.
      if (!s.registered) register_pool_cleanup();
      return s.pool.deallocate(p, bytes);
    }
  }
  ::operator delete(p, std::align_val_t(kAlignment));
}

inline void* allocate_bytes(std::size_t bytes) {
  if (bytes <= SmallObjectPool::max_pooled_bytes()) {
    ThreadPoolState& s = thread_pool_state();
    if (!s.dead)
      if (void* p = s.pool.try_allocate(bytes)) return p;
  }
  return allocate_bytes_slow(bytes);
}

inline void free_bytes(void* p, std::size_t bytes) noexcept {
  if (bytes <= SmallObjectPool::max_pooled_bytes()) {
    ThreadPoolState& s = thread_pool_state();
    if (s.registered && !s.dead) return s.pool.deallocate(p, bytes);
  }
  free_bytes_slow(p, bytes);
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

namespace tapegrad {

/// Returns the large buffers tapegrad keeps for reuse (64 KiB and up) to the system; returns the
/// number of bytes released. Useful before a phase that needs the memory for something else.
inline std::size_t release_cached_memory() noexcept { return detail::large_block_cache().release_all(); }

/// How many bytes of freed large buffers tapegrad may keep for reuse (default 4 GiB; 0 disables
/// the cache). Buffers beyond the limit go straight back to the system.
inline void set_memory_cache_limit(std::size_t bytes) noexcept { detail::large_block_cache().set_limit(bytes); }

/// Bytes currently held in the cache of large buffers.
inline std::size_t cached_memory_bytes() noexcept { return detail::large_block_cache().cached_bytes(); }

}  // namespace tapegrad
