// SPDX-License-Identifier: MIT
// libtorch versions of the benchmark cases, timed in the same process as tapegrad's.
#include "torch_peer.hpp"

#include <torch/torch.h>

namespace torch_peer {

bool available() { return true; }

void set_threads(int threads) { torch::set_num_threads(threads); }

std::vector<std::function<void()>> tape_cases(int ops) {
  auto x = std::make_shared<torch::Tensor>(torch::tensor({0.1f, 0.2f, 0.3f, 0.4f}).reshape({2, 2}).requires_grad_());
  auto w = std::make_shared<torch::Tensor>(torch::tensor({1.0f, 0.99f, 1.01f, 1.0f}).reshape({2, 2}).requires_grad_());
  auto chain = [x, w, ops] {
    torch::Tensor y = *x;
    for (int i = 0; i < ops; ++i) y = (i % 2 == 0) ? y + *w : y * *w;
    return y.sum();
  };
  return {
      [chain] {
        torch::NoGradGuard no_grad;
        volatile float sink = chain().item<float>();
        (void)sink;
      },
      [chain] { volatile float sink = chain().item<float>(); (void)sink; },
      [chain, x, w] {
        x->mutable_grad() = torch::Tensor();
        w->mutable_grad() = torch::Tensor();
        chain().backward();
      },
  };
}

}  // namespace torch_peer
