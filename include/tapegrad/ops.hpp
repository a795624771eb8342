// SPDX-License-Identifier: MIT
// Every differentiable op on tensors: element-wise maths, reductions, matmul, shapes, losses.
#pragma once

#include "tapegrad/ops/activation.hpp"
#include "tapegrad/ops/compare.hpp"
#include "tapegrad/ops/indexing.hpp"
#include "tapegrad/ops/linalg.hpp"
#include "tapegrad/ops/loss.hpp"
#include "tapegrad/ops/pointwise.hpp"
#include "tapegrad/ops/reduce.hpp"
#include "tapegrad/ops/shape.hpp"
#include "tapegrad/ops/sort.hpp"
#include "tapegrad/tensor_methods.hpp"
