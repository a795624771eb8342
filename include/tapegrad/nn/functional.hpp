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

using tapegrad::relu;
using tapegrad::sigmoid;
using tapegrad::tanh;

// TODO(merge): re-export from the `ops` branch once merged: one_hot, cross_entropy, nll_loss,
// mse_loss, cosine_similarity, softmax, log_softmax, cat, index_select.

}  // namespace tapegrad::nn::functional
