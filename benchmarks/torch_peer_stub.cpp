// SPDX-License-Identifier: MIT
// Built when libtorch is absent: no peer cases.
#include "torch_peer.hpp"

namespace torch_peer {
bool available() { return false; }
void set_threads(int) {}
std::string describe() { return "libtorch not found at configure time (install libtorch-dev for the comparison)"; }
std::vector<Case> tape_cases(int) { return {}; }
Case embedding_forward(std::int64_t, std::int64_t, const std::vector<std::int64_t>&, bool) { return {}; }
Case embedding_backward(std::int64_t, std::int64_t, const std::vector<std::int64_t>&, bool) { return {}; }
Case embedding_train(std::int64_t, std::int64_t, const std::vector<std::int64_t>&, bool) { return {}; }
Case embedding_bag_train(std::int64_t, std::int64_t, const std::vector<std::int64_t>&, std::int64_t, int) { return {}; }
Case linear(std::int64_t, std::int64_t, std::int64_t, bool) { return {}; }
Case end_to_end(std::int64_t, std::int64_t, const std::vector<std::int64_t>&, const std::vector<std::int64_t>&, bool) {
  return {};
}
}  // namespace torch_peer
