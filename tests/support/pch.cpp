// SPDX-License-Identifier: MIT
// Owns the precompiled header that every test executable reuses (tests/CMakeLists.txt).
