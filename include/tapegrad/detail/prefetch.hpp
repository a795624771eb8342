// SPDX-License-Identifier: MIT
// Software prefetch of table rows, for the loops that visit rows in an order the hardware
// prefetcher cannot guess (gathers, scatters, sparse optimiser steps).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace tapegrad::detail {

/// How many rows ahead the row loops prefetch: enough to overlap the cache misses of a random
/// row order, few enough that the rows are still in L1 when their turn comes.
inline constexpr std::int64_t kPrefetchAhead = 8;

/// Asks the CPU to start loading (or, for_write, fetching for a store) the row at p: lookups into
/// a large table are cache misses, and overlapping them is most of a gather's speed. The first
/// 512 bytes are enough for the hardware prefetcher to follow a longer row.
inline void prefetch_row(const void* p, std::size_t bytes, bool for_write = false) {
#if defined(__GNUC__) || defined(__clang__)
  const char* c = static_cast<const char*>(p);
  const std::size_t end = std::min<std::size_t>(bytes, 512);
  for (std::size_t off = 0; off < end; off += 64) {
    if (for_write)
      __builtin_prefetch(c + off, 1);
    else
      __builtin_prefetch(c + off);
  }
#else
  (void)p, (void)bytes, (void)for_write;
#endif
}

}  // namespace tapegrad::detail
