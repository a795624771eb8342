// SPDX-License-Identifier: MIT
// The libtorch side of each benchmark case, compiled only when find_package(Torch) succeeds
// (torch_peer.cpp); otherwise torch_peer_stub.cpp returns no cases and reports are tapegrad-only.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace torch_peer {

/// True when libtorch is linked in.
bool available();
/// Pins libtorch (and its BLAS) to `threads` threads.
void set_threads(int threads);
/// Same three cases as tape_overhead.cpp: forward without grad, recording, forward + backward.
std::vector<std::function<void()>> tape_cases(int ops);

}  // namespace torch_peer
