// SPDX-License-Identifier: MIT
// A packed, cache-blocked float GEMM for AVX2+FMA (the Goto/BLIS scheme), chosen at run time.
//
// Why: a plain build (no -march) leaves Eigen's GEMM on SSE2, a quarter of what an AVX2+FMA core
// does (about 20 % of the FMA peak at a Linear(256, 1024, 1024) on an AMD EPYC Zen 2), and
// OpenBLAS 0.3.21's AVX2 SGEMM reaches 65-80 % there, this kernel 75-84 % (detail::gemm chooses). This
// kernel is compiled for AVX2+FMA with __attribute__((target)) whatever the build flags are, and is
// only called after cpu_has_avx2_fma(), so the header stays architecture-independent.
//
// The scheme: op(B) is copied ("packed") KC rows x NC columns at a time into 16-column strips, and
// op(A) MC rows x KC at a time into 6-row strips, so the innermost kernel reads both operands from
// contiguous, aligned memory: a 16 KB strip of B stays in L1, the packed block of A in L2, the packed
// panel of B in L3. The micro-kernel keeps a 6 x 16 block of C in 12 ymm registers; each step of k
// loads 2 vectors of B and broadcasts 6 values of A into 12 FMAs, so the FMA units set the pace.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>

#include "tapegrad/detail/cpu.hpp"  // cpu_has_avx2_fma, TAPEGRAD_AVX2_KERNELS, <immintrin.h>

namespace tapegrad {
namespace detail {

#if TAPEGRAD_AVX2_KERNELS
#define TAPEGRAD_PACKED_AVX2 __attribute__((target("avx2,fma")))

// Register block (6 x 16: 12 accumulators + 2 of B + 1 broadcast = 15 of the 16 ymm registers) and
// cache blocks: KC x 16 floats of B = 16 KB (half of L1), MC x KC of A = 168 KB (under L2's 512 KB),
// KC x NC of B = 4 MB at most (L3). BLIS uses the same for Haswell and Zen.
constexpr std::int64_t kPackMR = 6, kPackNR = 16, kPackKC = 256, kPackMC = 168, kPackNC = 4080;
static_assert(kPackMC % kPackMR == 0 && kPackNC % kPackNR == 0, "cache blocks hold whole register blocks");
// The buffers never exceed these sizes whatever m, n, k are, so their size products cannot overflow.
constexpr std::size_t kPackABufFloats = static_cast<std::size_t>(kPackMC * kPackKC);
constexpr std::size_t kPackBBufFloats = static_cast<std::size_t>(kPackKC * kPackNC);

/// One 64-byte aligned float buffer, grown on demand and kept: steady-state products allocate nothing.
class PackBuffer {
 public:
  PackBuffer() = default;
  PackBuffer(const PackBuffer&) = delete;
  PackBuffer& operator=(const PackBuffer&) = delete;
  ~PackBuffer() { release(); }
  float* get(std::size_t floats) {
    if (floats > capacity_) {
      release();
      data_ = static_cast<float*>(::operator new(floats * sizeof(float), std::align_val_t(64)));
      capacity_ = floats;
    }
    return data_;
  }

 private:
  void release() {
    if (data_) ::operator delete(data_, std::align_val_t(64));
    data_ = nullptr, capacity_ = 0;
  }
  float* data_ = nullptr;
  std::size_t capacity_ = 0;
};

/// Transposes the 8 x 8 block r[q][0..8) in registers (r[q] becomes column q).
TAPEGRAD_PACKED_AVX2 inline void transpose_8x8(__m256 (&r)[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]),
               t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]),
               t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]),
               t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
               u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
               u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
               u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20), r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20), r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31), r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31), r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/// Packs op(A) (mc x kc, starting at `a`) into 6-row strips: strip s holds, for each p, the 6 values
/// of its rows; rows past mc are zeros, so the micro-kernel never branches on them.
TAPEGRAD_PACKED_AVX2 inline void pack_a(bool trans_a, std::int64_t mc, std::int64_t kc, const float* a,
                                        std::int64_t lda, float* out) {
  if (trans_a) {  // op(A)[i][p] = a[p * lda + i]: the 6 values of one p are contiguous
    // Eight stored rows at a time across every strip, so reads stream along rows rather than jump
    // lda per value (strip by strip was 1.7x slower at lda = 1024).
    for (std::int64_t p0 = 0; p0 < kc; p0 += 8) {
      const std::int64_t p_end = std::min(p0 + 8, kc);
      for (std::int64_t i0 = 0; i0 < mc; i0 += kPackMR) {
        const std::int64_t rows = std::min(kPackMR, mc - i0);
        float* dst = out + i0 * kc + p0 * kPackMR;
        for (std::int64_t p = p0; p < p_end; ++p, dst += kPackMR) {
          const float* src = a + p * lda + i0;
          for (std::int64_t r = 0; r < rows; ++r) dst[r] = src[r];
          for (std::int64_t r = rows; r < kPackMR; ++r) dst[r] = 0.0f;
        }
      }
    }
    return;
  }
  // op(A)[i][p] = a[i * lda + p]: 6 rows x 8 values at a time, transposed in registers.
  for (std::int64_t i0 = 0; i0 < mc; i0 += kPackMR, out += kPackMR * kc) {
    const std::int64_t rows = std::min(kPackMR, mc - i0);
    const float* src = a + i0 * lda;
    std::int64_t p = 0;
    if (rows == kPackMR)
      for (; p + 8 <= kc; p += 8) {
        __m256 r[8];
        for (std::int64_t q = 0; q < kPackMR; ++q) r[q] = _mm256_loadu_ps(src + q * lda + p);
        r[6] = r[7] = _mm256_setzero_ps();
        transpose_8x8(r);
        for (std::int64_t q = 0; q < 8; ++q) {  // column q = the 6 values of step p + q (and 2 zeros)
          float* dst = out + (p + q) * kPackMR;
          _mm_storeu_ps(dst, _mm256_castps256_ps128(r[q]));
          _mm_store_sd(reinterpret_cast<double*>(dst + 4), _mm_castps_pd(_mm256_extractf128_ps(r[q], 1)));
        }
      }
    for (; p < kc; ++p) {
      for (std::int64_t q = 0; q < rows; ++q) out[p * kPackMR + q] = src[q * lda + p];
      for (std::int64_t q = rows; q < kPackMR; ++q) out[p * kPackMR + q] = 0.0f;
    }
  }
}

/// Packs one 16-column strip of op(B) (kc x cols, starting at `b`, cols <= 16): for each p, the 16
/// values of its columns; columns past `cols` are zeros. The transposed layout (a Linear forward's
/// weight) goes through 8 x 8 register transposes rather than a strided scalar gather.
TAPEGRAD_PACKED_AVX2 inline void pack_b_strip(bool trans_b, std::int64_t kc, std::int64_t cols, const float* b,
                                              std::int64_t ldb, float* out) {
  if (cols == kPackNR && !trans_b) {  // op(B)[p][j] = b[p * ldb + j]: 16 contiguous values per p
    for (std::int64_t p = 0; p < kc; ++p) {
      _mm256_store_ps(out + p * kPackNR, _mm256_loadu_ps(b + p * ldb));
      _mm256_store_ps(out + p * kPackNR + 8, _mm256_loadu_ps(b + p * ldb + 8));
    }
  } else if (cols == kPackNR) {  // op(B)[p][j] = b[j * ldb + p]: column j of op(B) is stored row j
    for (std::int64_t half = 0; half < kPackNR; half += 8) {
      const float* src = b + half * ldb;
      float* dst = out + half;
      std::int64_t p = 0;
      for (; p + 8 <= kc; p += 8) {
        __m256 r[8];
        for (std::int64_t q = 0; q < 8; ++q) r[q] = _mm256_loadu_ps(src + q * ldb + p);
        transpose_8x8(r);
        for (std::int64_t q = 0; q < 8; ++q) _mm256_store_ps(dst + (p + q) * kPackNR, r[q]);
      }
      for (; p < kc; ++p)
        for (std::int64_t q = 0; q < 8; ++q) dst[p * kPackNR + q] = src[q * ldb + p];
    }
  } else {  // the last strip of a partial width: zero padded
    for (std::int64_t p = 0; p < kc; ++p, out += kPackNR) {
      for (std::int64_t q = 0; q < cols; ++q) out[q] = trans_b ? b[q * ldb + p] : b[p * ldb + q];
      for (std::int64_t q = cols; q < kPackNR; ++q) out[q] = 0.0f;
    }
  }
}

/// Packs op(B) (kc x nc, starting at `b`) into 16-column strips (strip s at out + 16 s kc). Each
/// packed value feeds only m / 16 cycles of FMAs (16 at m = 256), so the copy must run at memory
/// speed: the plain layout reads 8 stored rows at a time across every strip, in order (strip by
/// strip, 256 rows 4 KB apart, took twice as long from L3 and more from DRAM).
TAPEGRAD_PACKED_AVX2 inline void pack_b(bool trans_b, std::int64_t kc, std::int64_t nc, const float* b,
                                        std::int64_t ldb, float* out) {
  const std::int64_t full = nc / kPackNR * kPackNR;  // columns in whole strips
  if (!trans_b) {
    for (std::int64_t p0 = 0; p0 < kc; p0 += 8) {
      const std::int64_t p_end = std::min(p0 + 8, kc);
      for (std::int64_t j = 0; j < full; j += kPackNR) {
        float* dst = out + j * kc + p0 * kPackNR;
        for (std::int64_t p = p0; p < p_end; ++p, dst += kPackNR) {
          _mm256_store_ps(dst, _mm256_loadu_ps(b + p * ldb + j));
          _mm256_store_ps(dst + 8, _mm256_loadu_ps(b + p * ldb + j + 8));
        }
      }
    }
  } else {  // a strip is 16 stored rows, each read in order
    for (std::int64_t j = 0; j < full; j += kPackNR) pack_b_strip(true, kc, kPackNR, b + j * ldb, ldb, out + j * kc);
  }
  if (full < nc) pack_b_strip(trans_b, kc, nc - full, trans_b ? b + full * ldb : b + full, ldb, out + full * kc);
}

/// C[0..6) x [0..16) (+)= packed A strip · packed B strip over kc steps; `add` says whether C's old
/// values are kept (accumulate, or a later KC block) or overwritten (never read: it may hold NaN).
/// The k loop runs 4 steps per iteration: with one step the loop's own counter updates and branch
/// held the kernel at ~78 % of the FMA peak on Zen 2; 4 steps reach ~97 % from L1.
TAPEGRAD_PACKED_AVX2 inline void packed_micro_kernel(std::int64_t kc, const float* ap, const float* bp, float* c,
                                                     std::int64_t ldc, bool add) {
  for (std::int64_t r = 0; r < kPackMR; ++r) _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
  // Twelve named accumulators, not an array: GCC 12 kept an array of them partly on the stack.
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  const auto step = [&](const float* as, const float* bs) __attribute__((always_inline, target("avx2,fma"))) {
    const __m256 b0 = _mm256_load_ps(bs), b1 = _mm256_load_ps(bs + 8);
    __m256 x = _mm256_broadcast_ss(as);
    c00 = _mm256_fmadd_ps(x, b0, c00), c01 = _mm256_fmadd_ps(x, b1, c01);
    x = _mm256_broadcast_ss(as + 1);
    c10 = _mm256_fmadd_ps(x, b0, c10), c11 = _mm256_fmadd_ps(x, b1, c11);
    x = _mm256_broadcast_ss(as + 2);
    c20 = _mm256_fmadd_ps(x, b0, c20), c21 = _mm256_fmadd_ps(x, b1, c21);
    x = _mm256_broadcast_ss(as + 3);
    c30 = _mm256_fmadd_ps(x, b0, c30), c31 = _mm256_fmadd_ps(x, b1, c31);
    x = _mm256_broadcast_ss(as + 4);
    c40 = _mm256_fmadd_ps(x, b0, c40), c41 = _mm256_fmadd_ps(x, b1, c41);
    x = _mm256_broadcast_ss(as + 5);
    c50 = _mm256_fmadd_ps(x, b0, c50), c51 = _mm256_fmadd_ps(x, b1, c51);
  };
  std::int64_t p = 0;
  for (; p + 4 <= kc; p += 4, ap += 4 * kPackMR, bp += 4 * kPackNR) {
    step(ap, bp);
    step(ap + kPackMR, bp + kPackNR);
    step(ap + 2 * kPackMR, bp + 2 * kPackNR);
    step(ap + 3 * kPackMR, bp + 3 * kPackNR);
  }
  for (; p < kc; ++p, ap += kPackMR, bp += kPackNR) step(ap, bp);
  const __m256 acc[kPackMR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (std::int64_t r = 0; r < kPackMR; ++r) {
    float* row = c + r * ldc;
    if (add) {
      _mm256_storeu_ps(row, _mm256_add_ps(_mm256_loadu_ps(row), acc[r][0]));
      _mm256_storeu_ps(row + 8, _mm256_add_ps(_mm256_loadu_ps(row + 8), acc[r][1]));
    } else {
      _mm256_storeu_ps(row, acc[r][0]);
      _mm256_storeu_ps(row + 8, acc[r][1]);
    }
  }
}

/// C = op(A)·op(B), or C += op(A)·op(B) when `accumulate` (float, row-major, leading dimensions as in
/// detail::gemm; any m, n, k >= 0). Call only when cpu_has_avx2_fma(): the kernel uses AVX2 and FMA.
TAPEGRAD_PACKED_AVX2 inline void gemm_packed(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n,
                                             std::int64_t k, const float* a, std::int64_t lda, const float* b,
                                             std::int64_t ldb, float* c, std::int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {  // an empty sum: C = 0, or C unchanged
    if (!accumulate)
      for (std::int64_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, 0.0f);
    return;
  }
  // One pair of buffers per thread, reused by every later product on that thread.
  thread_local PackBuffer a_buffer, b_buffer;
  float* const packed_a = a_buffer.get(kPackABufFloats);
  float* const packed_b = b_buffer.get(std::min<std::size_t>(
      kPackBBufFloats, static_cast<std::size_t>(std::min(k, kPackKC) * ((std::min(n, kPackNC) + kPackNR - 1) / kPackNR * kPackNR))));
  alignas(32) float edge[kPackMR * kPackNR];  // a partial register block of C, computed whole

  // op(A) starts at a[i * lda + p] (or a[p * lda + i] transposed); op(B) at b[p * ldb + j] (or b[j * ldb + p]).
  const auto a_at = [&](std::int64_t i, std::int64_t p) { return trans_a ? a + p * lda + i : a + i * lda + p; };
  const auto b_at = [&](std::int64_t p, std::int64_t j) { return trans_b ? b + j * ldb + p : b + p * ldb + j; };
  for (std::int64_t jc = 0; jc < n; jc += kPackNC) {
    const std::int64_t nc = std::min(kPackNC, n - jc);
    for (std::int64_t pc = 0; pc < k; pc += kPackKC) {
      const std::int64_t kc = std::min(kPackKC, k - pc);
      const bool add = accumulate || pc > 0;  // later KC blocks add to what the first wrote
      pack_b(trans_b, kc, nc, b_at(pc, jc), ldb, packed_b);
      for (std::int64_t ic = 0; ic < m; ic += kPackMC) {
        const std::int64_t mc = std::min(kPackMC, m - ic);
        pack_a(trans_a, mc, kc, a_at(ic, pc), lda, packed_a);
        for (std::int64_t jr = 0; jr < nc; jr += kPackNR) {
          const std::int64_t cols = std::min(kPackNR, nc - jr);
          const float* bp = packed_b + jr * kc;
          for (std::int64_t ir = 0; ir < mc; ir += kPackMR) {
            const std::int64_t rows = std::min(kPackMR, mc - ir);
            const float* ap = packed_a + ir * kc;
            float* cp = c + (ic + ir) * ldc + jc + jr;
            if (rows == kPackMR && cols == kPackNR) {
              packed_micro_kernel(kc, ap, bp, cp, ldc, add);
            } else {  // an edge of C: the whole block into a scratch tile, then only its valid part
              packed_micro_kernel(kc, ap, bp, edge, kPackNR, false);
              for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t q = 0; q < cols; ++q)
                  cp[r * ldc + q] = add ? cp[r * ldc + q] + edge[r * kPackNR + q] : edge[r * kPackNR + q];
            }
          }
        }
      }
    }
  }
}
#undef TAPEGRAD_PACKED_AVX2
#endif

}  // namespace detail
}  // namespace tapegrad
