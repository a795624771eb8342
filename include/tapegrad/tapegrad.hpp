// SPDX-License-Identifier: MIT
// The whole library: include this one header, or only the parts you use.
#pragma once

#include "tapegrad/autograd.hpp"
#include "tapegrad/data.hpp"
#include "tapegrad/error.hpp"
#include "tapegrad/factories.hpp"
#include "tapegrad/grad_mode.hpp"
#include "tapegrad/gradcheck.hpp"
#include "tapegrad/io.hpp"
#include "tapegrad/nn.hpp"
#include "tapegrad/ops.hpp"
#include "tapegrad/optim.hpp"
#include "tapegrad/print.hpp"
#include "tapegrad/random.hpp"
#include "tapegrad/tensor.hpp"
#include "tapegrad/version.hpp"

// Opt-in separate compilation: with TAPEGRAD_SEPARATE_COMPILATION defined, the heaviest templates
// are only declared here and compiled once, in the one file that includes tapegrad/instantiate.hpp.
#if defined(TAPEGRAD_SEPARATE_COMPILATION)
#include "tapegrad/detail/instances.hpp"
namespace tapegrad {
TAPEGRAD_INSTANCES(extern, float)
TAPEGRAD_INSTANCES(extern, double)
}  // namespace tapegrad
#endif
