// SPDX-License-Identifier: MIT
// The neural-network layer: Module, Parameter, init, Linear, Embedding, EmbeddingBag, functional.
#pragma once

#include "tapegrad/nn/embedding.hpp"
#include "tapegrad/nn/embedding_bag.hpp"
#include "tapegrad/nn/functional.hpp"
#include "tapegrad/nn/init.hpp"
#include "tapegrad/nn/linear.hpp"
#include "tapegrad/nn/module.hpp"
