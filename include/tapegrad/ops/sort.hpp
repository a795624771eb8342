// SPDX-License-Identifier: MIT
// (being written)
#pragma once

#include "tapegrad/ops/reduce.hpp"
