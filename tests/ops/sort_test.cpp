// SPDX-License-Identifier: MIT
// (placeholder, being written)
#include "support/test.hpp"

TEST_CASE("sort: placeholder") { CHECK(true); }
