// SPDX-License-Identifier: MIT
// The loss modules (nn.BCEWithLogitsLoss, nn.CrossEntropyLoss, ...): each holds its options and
// calls the loss function of the same name in ops/loss.hpp.
#pragma once

#include <cstdint>
#include <utility>

#include "tapegrad/nn/module.hpp"
#include "tapegrad/ops/loss.hpp"

namespace tapegrad::nn {

// The losses derive from Module<T> like libtorch's, so they print as PyTorch ("CrossEntropyLoss()")
// and sit in a model like any layer. They have no parameters; a class weight or pos_weight stays in
// `options` (PyTorch registers it as a buffer, so unlike PyTorch it is not in state_dict()).
// T is the element type of the inputs: `nn::MSELoss<double>` for double models; the default is float.

/// nn.MSELoss: mse_loss(input, target) with the options given at construction.
template <class T = float>
class MSELoss : public Module<T> {
 public:
  explicit MSELoss(MSELossOptions options_ = {}) : options(std::move(options_)) {}
  /// The loss of `input` against `target`.
  Tensor<T> forward(const Tensor<T>& input, const Tensor<T>& target) const { return mse_loss(input, target, options); }
  Tensor<T> operator()(const Tensor<T>& input, const Tensor<T>& target) const { return forward(input, target); }
  MSELossOptions options;
};

/// nn.L1Loss: l1_loss(input, target) with the options given at construction.
template <class T = float>
class L1Loss : public Module<T> {
 public:
  explicit L1Loss(L1LossOptions options_ = {}) : options(std::move(options_)) {}
  /// The loss of `input` against `target`.
  Tensor<T> forward(const Tensor<T>& input, const Tensor<T>& target) const { return l1_loss(input, target, options); }
  Tensor<T> operator()(const Tensor<T>& input, const Tensor<T>& target) const { return forward(input, target); }
  L1LossOptions options;
};

/// nn.SmoothL1Loss: smooth_l1_loss(input, target) with the options (beta) given at construction.
template <class T = float>
class SmoothL1Loss : public Module<T> {
 public:
  explicit SmoothL1Loss(SmoothL1LossOptions options_ = {}) : options(std::move(options_)) {}
  /// The loss of `input` against `target`.
  Tensor<T> forward(const Tensor<T>& input, const Tensor<T>& target) const {
    return smooth_l1_loss(input, target, options);
  }
  Tensor<T> operator()(const Tensor<T>& input, const Tensor<T>& target) const { return forward(input, target); }
  SmoothL1LossOptions options;
};

/// nn.HuberLoss: huber_loss(input, target) with the options (delta) given at construction.
template <class T = float>
class HuberLoss : public Module<T> {
 public:
  explicit HuberLoss(HuberLossOptions options_ = {}) : options(std::move(options_)) {}
  /// The loss of `input` against `target`.
  Tensor<T> forward(const Tensor<T>& input, const Tensor<T>& target) const { return huber_loss(input, target, options); }
  Tensor<T> operator()(const Tensor<T>& input, const Tensor<T>& target) const { return forward(input, target); }
  HuberLossOptions options;
};

/// nn.BCELoss: binary_cross_entropy(probabilities, target) with the options (weight) given at construction.
template <class T = float>
class BCELoss : public Module<T> {
 public:
  explicit BCELoss(BCELossOptions<T> options_ = {}) : options(std::move(options_)) {}
  /// The loss of the probabilities `input` against `target`.
  Tensor<T> forward(const Tensor<T>& input, const Tensor<T>& target) const {
    return binary_cross_entropy(input, target, options);
  }
  Tensor<T> operator()(const Tensor<T>& input, const Tensor<T>& target) const { return forward(input, target); }
  BCELossOptions<T> options;
};

/// nn.BCEWithLogitsLoss: binary_cross_entropy_with_logits(logits, target) with the options
/// (weight, pos_weight) given at construction.
/// Example: `nn::BCEWithLogitsLoss loss{BCEWithLogitsLossOptions().pos_weight(pw)};` (braces: with parentheses C++ would try to read a function declaration)
template <class T = float>
class BCEWithLogitsLoss : public Module<T> {
 public:
  explicit BCEWithLogitsLoss(BCEWithLogitsLossOptions<T> options_ = {}) : options(std::move(options_)) {}
  /// The loss of the logits `input` against `target`.
  Tensor<T> forward(const Tensor<T>& input, const Tensor<T>& target) const {
    return binary_cross_entropy_with_logits(input, target, options);
  }
  Tensor<T> operator()(const Tensor<T>& input, const Tensor<T>& target) const { return forward(input, target); }
  BCEWithLogitsLossOptions<T> options;
};

/// nn.NLLLoss: nll_loss(log_probs, target) with the options (weight, ignore_index) given at construction.
template <class T = float>
class NLLLoss : public Module<T> {
 public:
  explicit NLLLoss(NLLLossOptions<T> options_ = {}) : options(std::move(options_)) {}
  /// The loss of `log_probs` against class-index targets (int64 or int32).
  template <class I>
  Tensor<T> forward(const Tensor<T>& log_probs, const Tensor<I>& target) const {
    return nll_loss(log_probs, target, options);
  }
  template <class I>
  Tensor<T> operator()(const Tensor<T>& log_probs, const Tensor<I>& target) const {
    return forward(log_probs, target);
  }
  NLLLossOptions<T> options;
};

/// nn.CrossEntropyLoss: cross_entropy(logits, target) with the options (weight, ignore_index,
/// label_smoothing) given at construction.
/// Example: `nn::CrossEntropyLoss loss{CrossEntropyOptions().label_smoothing(0.1)};`
template <class T = float>
class CrossEntropyLoss : public Module<T> {
 public:
  explicit CrossEntropyLoss(CrossEntropyOptions<T> options_ = {}) : options(std::move(options_)) {}
  /// The loss of the logits `input` against class-index targets (int64 or int32).
  template <class I>
  Tensor<T> forward(const Tensor<T>& input, const Tensor<I>& target) const {
    return cross_entropy(input, target, options);
  }
  template <class I>
  Tensor<T> operator()(const Tensor<T>& input, const Tensor<I>& target) const {
    return forward(input, target);
  }
  CrossEntropyOptions<T> options;
};

/// nn.CosineEmbeddingLoss: cosine_embedding_loss(x1, x2, y) with the options (margin) given at construction.
template <class T = float>
class CosineEmbeddingLoss : public Module<T> {
 public:
  explicit CosineEmbeddingLoss(CosineEmbeddingLossOptions options_ = {}) : options(std::move(options_)) {}
  /// The loss of the pairs (x1, x2), y = 1 for similar and -1 for dissimilar ones.
  Tensor<T> forward(const Tensor<T>& x1, const Tensor<T>& x2, const Tensor<T>& y) const {
    return cosine_embedding_loss(x1, x2, y, options);
  }
  Tensor<T> operator()(const Tensor<T>& x1, const Tensor<T>& x2, const Tensor<T>& y) const { return forward(x1, x2, y); }
  CosineEmbeddingLossOptions options;
};

/// nn.MarginRankingLoss: margin_ranking_loss(x1, x2, y) with the options (margin) given at construction.
template <class T = float>
class MarginRankingLoss : public Module<T> {
 public:
  explicit MarginRankingLoss(MarginRankingLossOptions options_ = {}) : options(std::move(options_)) {}
  /// The loss of ranking x1 above x2 where y = 1, below where y = -1.
  Tensor<T> forward(const Tensor<T>& x1, const Tensor<T>& x2, const Tensor<T>& y) const {
    return margin_ranking_loss(x1, x2, y, options);
  }
  Tensor<T> operator()(const Tensor<T>& x1, const Tensor<T>& x2, const Tensor<T>& y) const { return forward(x1, x2, y); }
  MarginRankingLossOptions options;
};

/// nn.TripletMarginLoss: triplet_margin_loss(anchor, positive, negative) with the options (margin,
/// p, eps, swap) given at construction.
/// Example: `nn::TripletMarginLoss loss(TripletMarginLossOptions().margin(2.0));`
template <class T = float>
class TripletMarginLoss : public Module<T> {
 public:
  explicit TripletMarginLoss(TripletMarginLossOptions options_ = {}) : options(std::move(options_)) {}
  /// The loss of the triplets (anchor, positive, negative).
  Tensor<T> forward(const Tensor<T>& anchor, const Tensor<T>& positive, const Tensor<T>& negative) const {
    return triplet_margin_loss(anchor, positive, negative, options);
  }
  Tensor<T> operator()(const Tensor<T>& anchor, const Tensor<T>& positive, const Tensor<T>& negative) const {
    return forward(anchor, positive, negative);
  }
  TripletMarginLossOptions options;
};

}  // namespace tapegrad::nn
