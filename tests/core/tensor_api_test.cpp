// SPDX-License-Identifier: MIT
// (placeholder, being written)
#include "support/test.hpp"

TEST_CASE("tensor_api: placeholder") { CHECK(true); }
