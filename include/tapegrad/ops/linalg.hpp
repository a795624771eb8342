// SPDX-License-Identifier: MIT
// matmul: dot, matrix-vector, matrix-matrix and batched products, all through detail::gemm (a BLAS or Eigen).
#pragma once

#include <algorithm>
#include <cstdint>

#include "tapegrad/detail/gemm.hpp"
#include "tapegrad/ops/pointwise.hpp"

namespace tapegrad {
namespace detail {

/// Throws unless the batch dims of matmul's operands broadcast; the message names both full shapes
/// (broadcast_shapes alone would name only the batch parts).
inline void check_matmul_batch(const Shape& sa, const Shape& sb, const Shape& batch_a, const Shape& batch_b) {
  const std::size_t n = std::max(batch_a.size(), batch_b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t x = i < n - batch_a.size() ? 1 : batch_a[i - (n - batch_a.size())];
    const std::int64_t y = i < n - batch_b.size() ? 1 : batch_b[i - (n - batch_b.size())];
    if (x != y && x != 1 && y != 1)
      throw ShapeError(cat("matmul: shapes ", shape_str(sa), " and ", shape_str(sb),
                           " cannot be multiplied: batch dimensions ", shape_str(batch_a), " and ", shape_str(batch_b),
                           " cannot be broadcast together (size ", x, " vs ", y, " at batch dimension ", i, ")"));
  }
}

}  // namespace detail

/// Matrix product with PyTorch's rules: 1-d x 1-d is a dot product (0-d result); a 1-d argument
/// is treated as a row (left) or column (right) vector and that dim is dropped from the result;
/// dims before the last two are batch dims and broadcast.
template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
  const Shape &sa = a.shape(), &sb = b.shape();
  if (sa.empty() || sb.empty())
    throw ShapeError(detail::cat("matmul: both arguments need at least 1 dimension, got shapes ", detail::shape_str(sa),
                                 " and ", detail::shape_str(sb)));
  const bool a_vec = sa.size() == 1, b_vec = sb.size() == 1;
  const std::int64_t n = a_vec ? 1 : sa[sa.size() - 2], k = sa.back();
  const std::int64_t kb = b_vec ? sb[0] : sb[sb.size() - 2], m = b_vec ? 1 : sb.back();
  if (k != kb)
    throw ShapeError(detail::cat("matmul: shapes ", detail::shape_str(sa), " and ", detail::shape_str(sb),
                                 " cannot be multiplied (", n, "x", k, " and ", kb, "x", m, ": inner sizes ", k, " and ",
                                 kb, " differ)"));
  const Shape batch_a(sa.begin(), sa.end() - (a_vec ? 1 : 2)), batch_b(sb.begin(), sb.end() - (b_vec ? 1 : 2));
  detail::check_matmul_batch(sa, sb, batch_a, batch_b);
  const Shape batch = detail::broadcast_shapes("matmul", batch_a, batch_b);
  Shape out_shape = batch;
  if (!a_vec) out_shape.push_back(n);
  if (!b_vec) out_shape.push_back(m);

  const Shape stride_a = detail::broadcast_strides(batch_a, batch), stride_b = detail::broadcast_strides(batch_b, batch);
  Tensor<T> out = detail::make_tensor<T>(out_shape);
  {
    const T *pa = a.data(), *pb = b.data();
    T* po = out.data();
    detail::for_each_offset2(batch, stride_a, stride_b, [&](std::int64_t i, std::int64_t ia, std::int64_t ib) {
      detail::gemm(false, false, n, m, k, pa + ia * n * k, k, pb + ib * k * m, m, po + i * n * m, m, false);
    });
  }
  if (detail::should_record(a, b)) {
    const char* name = a_vec && b_vec ? "DotBackward0" : (batch.empty() ? (b_vec ? "MvBackward0" : "MmBackward0") : "BmmBackward0");
    detail::Saved<T> saved_a = b.requires_grad() ? detail::save(a) : detail::Saved<T>();
    detail::Saved<T> saved_b = a.requires_grad() ? detail::save(b) : detail::Saved<T>();
    detail::record(out, name, detail::edges(a, b),
                   [saved_a = std::move(saved_a), saved_b = std::move(saved_b), sa, sb, batch, stride_a, stride_b, n, k, m](
                       const Tensor<T>& g, detail::GradSink& grads) {
                     const T* pg = g.data();
                     if (grads.wants(0)) {  // dA = dOut · Bᵀ, summed over broadcast batches
                       Tensor<T> ga = detail::zeros_of<T>(sa);
                       T* pga = ga.data();
                       const T* pb = saved_b.data();
                       detail::for_each_offset2(batch, stride_a, stride_b, [&](std::int64_t i, std::int64_t ia, std::int64_t ib) {
                         detail::gemm(false, true, n, k, m, pg + i * n * m, m, pb + ib * k * m, m, pga + ia * n * k, k, true);
                       });
                       grads.add(0, ga);
                     }
                     if (grads.wants(1)) {  // dB = Aᵀ · dOut
                       Tensor<T> gb = detail::zeros_of<T>(sb);
                       T* pgb = gb.data();
                       const T* pa = saved_a.data();
                       detail::for_each_offset2(batch, stride_a, stride_b, [&](std::int64_t i, std::int64_t ia, std::int64_t ib) {
                         detail::gemm(true, false, k, m, n, pa + ia * n * k, k, pg + i * n * m, m, pgb + ib * k * m, m, true);
                       });
                       grads.add(1, gb);
                     }
                   });
  }
  return out;
}

}  // namespace tapegrad
