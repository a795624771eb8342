// SPDX-License-Identifier: MIT
// nn::functional: the stateless forms of the nn layers, plus the activations, under PyTorch's F.* names.
#pragma once

#include "tapegrad/nn/dropout.hpp"
#include "tapegrad/nn/embedding.hpp"
#include "tapegrad/nn/embedding_bag.hpp"
#include "tapegrad/nn/linear.hpp"
#include "tapegrad/nn/normalization.hpp"
#include "tapegrad/ops.hpp"

/// linear, embedding, embedding_bag, dropout, layer_norm and batch_norm are defined next to their
/// modules; the activations are tapegrad's own ops, re-exported so `namespace F =
/// tapegrad::nn::functional;` covers a model.
namespace tapegrad::nn::functional {

using tapegrad::cosine_similarity;
using tapegrad::cross_entropy;
using tapegrad::log_softmax;
using tapegrad::mse_loss;
using tapegrad::nll_loss;
using tapegrad::one_hot;
using tapegrad::relu;
using tapegrad::sigmoid;
using tapegrad::softmax;
using tapegrad::tanh;

using tapegrad::CrossEntropyOptions;
using tapegrad::MSELossOptions;
using tapegrad::NLLLossOptions;
using tapegrad::Reduction;

// Layers (issue 12): dropout, layer_norm and batch_norm are defined next to their modules
// (nn/dropout.hpp, nn/normalization.hpp); gelu is tapegrad's op.
using tapegrad::gelu;

// Losses and distances (issue 12).
using tapegrad::binary_cross_entropy;
using tapegrad::binary_cross_entropy_with_logits;
using tapegrad::cosine_embedding_loss;
using tapegrad::huber_loss;
using tapegrad::l1_loss;
using tapegrad::margin_ranking_loss;
using tapegrad::normalize;
using tapegrad::pairwise_distance;
using tapegrad::smooth_l1_loss;
using tapegrad::triplet_margin_loss;

using tapegrad::BCELossOptions;
using tapegrad::BCEWithLogitsLossOptions;
using tapegrad::CosineEmbeddingLossOptions;
using tapegrad::HuberLossOptions;
using tapegrad::L1LossOptions;
using tapegrad::MarginRankingLossOptions;
using tapegrad::SmoothL1LossOptions;
using tapegrad::TripletMarginLossOptions;

}  // namespace tapegrad::nn::functional
