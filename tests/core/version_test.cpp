// SPDX-License-Identifier: MIT
#include "support/test.hpp"

TEST_CASE("version header agrees with the CMake project version") {
  CHECK(std::string(TAPEGRAD_VERSION_STRING) == TAPEGRAD_CMAKE_PROJECT_VERSION);
  CHECK(std::to_string(TAPEGRAD_VERSION_MAJOR) + "." + std::to_string(TAPEGRAD_VERSION_MINOR) + "." +
            std::to_string(TAPEGRAD_VERSION_PATCH) ==
        TAPEGRAD_VERSION_STRING);
}
