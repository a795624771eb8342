// SPDX-License-Identifier: MIT
// Separate compilation, the other half: include this header in exactly one .cpp file of a
// program whose translation units are all compiled with TAPEGRAD_SEPARATE_COMPILATION defined.
// That file compiles the heavy templates (detail/instances.hpp) for float and double once; the
// other files then only declare them, which makes a file that trains a model compile several
// times faster (docs/performance.md, "Compile time").
#pragma once

#include "tapegrad/tapegrad.hpp"

#if !defined(TAPEGRAD_SEPARATE_COMPILATION)
#error "tapegrad/instantiate.hpp is for builds that define TAPEGRAD_SEPARATE_COMPILATION in every file"
#endif

namespace tapegrad {
TAPEGRAD_INSTANCES(, float)
TAPEGRAD_INSTANCES(, double)
}  // namespace tapegrad
