// SPDX-License-Identifier: MIT
// The libtorch side of each benchmark case, compiled only when find_package(Torch) succeeds
// (torch_peer.cpp); otherwise torch_peer_stub.cpp returns empty cases and reports are
// tapegrad-only. Each function builds its inputs once and returns a closure that runs one
// iteration; an empty std::function means "no peer".
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace torch_peer {

using Case = std::function<void()>;

/// True when libtorch is linked in.
bool available();
/// Pins libtorch (intra-op and its BLAS) to `threads` threads.
void set_threads(int threads);
/// "libtorch 1.13.0 (OpenBLAS core: ...)" for report headers.
std::string describe();

/// Tape overhead: forward without grad, forward recording, forward + backward (tape_overhead.cpp).
std::vector<Case> tape_cases(int ops);

/// Embedding(V, D) with the given flat indices (B of them).
Case embedding_forward(std::int64_t V, std::int64_t D, const std::vector<std::int64_t>& indices, bool max_norm);
Case embedding_backward(std::int64_t V, std::int64_t D, const std::vector<std::int64_t>& indices, bool sparse);
/// zero_grad (1.13 default: fill zeros), forward, backward(ones-like), SGD(lr=0.1) step.
Case embedding_train(std::int64_t V, std::int64_t D, const std::vector<std::int64_t>& indices, bool sparse);
/// EmbeddingBag forward + backward with bags of `bag` consecutive indices; mode 0 sum, 1 mean.
Case embedding_bag_train(std::int64_t V, std::int64_t D, const std::vector<std::int64_t>& indices, std::int64_t bag,
                         int mode);
/// Linear(in, out) on a [B, in] input, forward only (under NoGradGuard) or forward + backward.
Case linear(std::int64_t B, std::int64_t in, std::int64_t out, bool backward);
/// Embedding(V, 64) -> mean over 16 tokens -> Linear(64, 2) -> cross_entropy -> SGD step.
Case end_to_end(std::int64_t V, std::int64_t batch, const std::vector<std::int64_t>& indices,
                const std::vector<std::int64_t>& labels, bool sparse);

}  // namespace torch_peer
