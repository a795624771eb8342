// SPDX-License-Identifier: MIT
// Built when libtorch is absent: no peer cases.
#include "torch_peer.hpp"

namespace torch_peer {
bool available() { return false; }
void set_threads(int) {}
std::vector<std::function<void()>> tape_cases(int) { return {}; }
}  // namespace torch_peer
