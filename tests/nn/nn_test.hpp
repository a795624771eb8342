// SPDX-License-Identifier: MIT
// Shared helpers of the nn tests: the golden file written by tests/reference/golden_nn.py.
#pragma once

#include "support/golden.hpp"
#include "support/test.hpp"

namespace tg_test {

/// tests/reference/data/nn.txt, loaded once.
inline const Golden& nn_golden() {
  static const Golden golden("nn");
  return golden;
}

}  // namespace tg_test
