// SPDX-License-Identifier: MIT
// The list of templates that separate compilation (TAPEGRAD_SEPARATE_COMPILATION, opt-in) compiles
// once instead of in every translation unit: the ones whose bodies hold the Eigen products and
// the long kernels, for one element type. Used twice, so the declarations and the definitions
// cannot drift apart: tapegrad.hpp expands it with `extern` (do not instantiate here) and
// tapegrad/instantiate.hpp without (instantiate here). Types outside this list (int32 indices, other
// index combinations) are still instantiated wherever they are used, as in header-only mode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tapegrad/nn.hpp"
#include "tapegrad/ops.hpp"
#include "tapegrad/optim.hpp"

// Expanded inside namespace tapegrad. EXTERN is `extern` or nothing.
#define TAPEGRAD_INSTANCES(EXTERN, T)                                                                             \
  EXTERN template Tensor<T> matmul<T>(const Tensor<T>&, const Tensor<T>&);                                        \
  EXTERN template Tensor<T> detail::sum_or_mean<T>(const char*, const char*, const Tensor<T>&,                    \
                                                   const std::vector<std::int64_t>&, bool, bool);                 \
  EXTERN template Tensor<T> detail::softmax_forward<T>(const Tensor<T>&, std::size_t, bool);                      \
  EXTERN template Tensor<T> softmax<T>(const Tensor<T>&, std::int64_t);                                          \
  EXTERN template Tensor<T> log_softmax<T>(const Tensor<T>&, std::int64_t);                                      \
  EXTERN template Tensor<T> detail::nll_loss_checked<T, std::int64_t>(                                            \
      const Tensor<T>&, const Tensor<std::int64_t>&, const Tensor<T>&, std::int64_t, Reduction,                   \
      const detail::NllLayout&);                                                                                  \
  EXTERN template Tensor<T> detail::linear_forward<T>(const char*, const Tensor<T>&, const Tensor<T>&,            \
                                                      const Tensor<T>&);                                          \
  EXTERN template Tensor<T> detail::embedding_forward<T, std::int64_t>(                                           \
      const char*, const Tensor<std::int64_t>&, const Tensor<T>&, const detail::EmbeddingConfig&);                \
  EXTERN template Tensor<T> detail::embedding_bag_forward<T, std::int64_t, std::int64_t>(                         \
      const char*, const Tensor<std::int64_t>&, const Tensor<T>&, const Tensor<std::int64_t>&, const Tensor<T>&,  \
      const detail::EmbeddingBagConfig&);                                                                         \
  EXTERN template class nn::Linear<T>;                                                                            \
  EXTERN template class nn::Embedding<T>;                                                                         \
  EXTERN template class nn::EmbeddingBag<T>;                                                                      \
  EXTERN template class detail::RowCoalescer<T>;                                                                  \
  EXTERN template class optim::Optimizer<T>;                                                                      \
  EXTERN template class optim::SGD<T>;                                                                            \
  EXTERN template class detail::AdamFamily<T, optim::AdamOptions, false>;                                         \
  EXTERN template class detail::AdamFamily<T, optim::AdamWOptions, true>;                                         \
  EXTERN template class optim::Adam<T>;                                                                           \
  EXTERN template class optim::AdamW<T>;                                                                          \
  EXTERN template class optim::Adagrad<T>;                                                                        \
  EXTERN template class optim::SparseAdam<T>;
