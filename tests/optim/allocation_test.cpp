// SPDX-License-Identifier: MIT
#include "optim_support.hpp"
