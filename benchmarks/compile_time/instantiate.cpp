// SPDX-License-Identifier: MIT
// The one file of the separately compiled probe that compiles tapegrad's heavy templates.
#include <tapegrad/instantiate.hpp>
