// SPDX-License-Identifier: MIT
// The neural-network layer: Module, Parameter, Buffer, init, Linear, Embedding, EmbeddingBag, containers
// (Sequential, ModuleList, ModuleDict), activations, Dropout, LayerNorm, BatchNorm1d, losses, functional.
#pragma once

#include "tapegrad/nn/activation.hpp"
#include "tapegrad/nn/dropout.hpp"
#include "tapegrad/nn/embedding.hpp"
#include "tapegrad/nn/embedding_bag.hpp"
#include "tapegrad/nn/functional.hpp"
#include "tapegrad/nn/init.hpp"
#include "tapegrad/nn/linear.hpp"
#include "tapegrad/nn/loss.hpp"
#include "tapegrad/nn/module.hpp"
#include "tapegrad/nn/normalization.hpp"
#include "tapegrad/nn/sequential.hpp"
