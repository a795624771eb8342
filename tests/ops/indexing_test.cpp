// SPDX-License-Identifier: MIT
// (placeholder, being written)
#include "support/test.hpp"

TEST_CASE("indexing: placeholder") { CHECK(true); }
