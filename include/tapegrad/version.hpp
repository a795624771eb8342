// SPDX-License-Identifier: MIT
// tapegrad's version. CMake's project(VERSION) must agree; a test checks that it does.
#pragma once

#define TAPEGRAD_VERSION_MAJOR 0
#define TAPEGRAD_VERSION_MINOR 1
#define TAPEGRAD_VERSION_PATCH 0
#define TAPEGRAD_VERSION_STRING "0.1.0"
