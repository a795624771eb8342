// SPDX-License-Identifier: MIT
// Where tensor memory comes from. Every element buffer goes through these two functions.
#pragma once

#include <cstddef>
#include <new>

namespace tapegrad::detail {

inline constexpr std::size_t kAlignment = 64;  // a cache line, and what AVX-512 loads like

inline void* allocate_bytes(std::size_t bytes) { return ::operator new(bytes, std::align_val_t(kAlignment)); }

inline void free_bytes(void* p, std::size_t /*bytes*/) noexcept { ::operator delete(p, std::align_val_t(kAlignment)); }

}  // namespace tapegrad::detail
