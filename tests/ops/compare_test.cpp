// SPDX-License-Identifier: MIT
// (placeholder, being written)
#include "support/test.hpp"

TEST_CASE("compare: placeholder") { CHECK(true); }
