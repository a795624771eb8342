// SPDX-License-Identifier: MIT
#include "support/test.hpp"

namespace version_test {  // this file's tests and helpers: apart from other files' in a unity build

TEST_CASE("version header agrees with the CMake project version") {
  CHECK(std::string(TAPEGRAD_VERSION_STRING) == TAPEGRAD_CMAKE_PROJECT_VERSION);
  CHECK(std::to_string(TAPEGRAD_VERSION_MAJOR) + "." + std::to_string(TAPEGRAD_VERSION_MINOR) + "." +
            std::to_string(TAPEGRAD_VERSION_PATCH) ==
        TAPEGRAD_VERSION_STRING);
}

}  // namespace version_test
