// SPDX-License-Identifier: MIT
// nn::functional: the stateless forms of the nn layers, plus the activations, under PyTorch's F.* names.
#pragma once

#include "tapegrad/nn/embedding.hpp"
#include "tapegrad/nn/embedding_bag.hpp"
#include "tapegrad/nn/linear.hpp"
#include "tapegrad/ops.hpp"

/// linear, embedding and embedding_bag are defined next to their modules; the activations are
/// tapegrad's own ops, re-exported so `namespace F = tapegrad::nn::functional;` covers a model.
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

}  // namespace tapegrad::nn::functional
