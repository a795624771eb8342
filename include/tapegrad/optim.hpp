// SPDX-License-Identifier: MIT
// Optimisers (SGD, Adam, AdamW, Adagrad, SparseAdam), the StepLR scheduler and clip_grad_norm_.
#pragma once

#include "tapegrad/optim/adagrad.hpp"
#include "tapegrad/optim/adam.hpp"
#include "tapegrad/optim/clip_grad.hpp"
#include "tapegrad/optim/lr_scheduler.hpp"
#include "tapegrad/optim/optimizer.hpp"
#include "tapegrad/optim/rmsprop.hpp"
#include "tapegrad/optim/sgd.hpp"
#include "tapegrad/optim/sparse_adam.hpp"
