// SPDX-License-Identifier: MIT
// libtorch versions of the benchmark cases, timed in the same process as tapegrad's.
#include "torch_peer.hpp"

#include <cstdlib>
#include <memory>

#include <torch/torch.h>

namespace F = torch::nn::functional;

namespace torch_peer {

bool available() { return true; }

void set_threads(int threads) { torch::set_num_threads(threads); }

std::string describe() {
  return std::string("libtorch ") + TORCH_VERSION + " (Debian build: OpenMP intra-op threads, GEMM in the system BLAS)";
}

std::vector<Case> tape_cases(int ops) {
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
      [chain] {
        volatile float sink = chain().item<float>();
        (void)sink;
      },
      [chain, x, w] {
        x->mutable_grad() = torch::Tensor();
        w->mutable_grad() = torch::Tensor();
        chain().backward();
      },
  };
}

namespace {

torch::Tensor index_tensor(const std::vector<std::int64_t>& v) {
  return torch::from_blob(const_cast<std::int64_t*>(v.data()), {static_cast<std::int64_t>(v.size())}, torch::kLong)
      .clone();
}

// Everything a case needs, kept alive by the closure.
struct State {
  torch::Tensor weight, indices, offsets, grad_out, x, labels;
  torch::nn::Embedding embedding{nullptr};
  torch::nn::Linear linear{nullptr};
  std::unique_ptr<torch::optim::SGD> optimizer;
};

}  // namespace

Case embedding_forward(std::int64_t V, std::int64_t D, const std::vector<std::int64_t>& indices, bool max_norm) {
  auto s = std::make_shared<State>();
  s->weight = torch::randn({V, D});
  s->indices = index_tensor(indices);
  auto opts = F::EmbeddingFuncOptions();
  if (max_norm) opts.max_norm(1.0);
  return [s, opts] {
    torch::NoGradGuard no_grad;
    auto y = F::embedding(s->indices, s->weight, opts);
    (void)y;
  };
}

Case embedding_backward(std::int64_t V, std::int64_t D, const std::vector<std::int64_t>& indices, bool sparse) {
  auto s = std::make_shared<State>();
  s->indices = index_tensor(indices);
  s->grad_out = torch::randn({static_cast<std::int64_t>(indices.size()), D});
  return [s, V, sparse] {
    auto g = torch::embedding_backward(s->grad_out, s->indices, V, -1, false, sparse);
    (void)g;
  };
}

Case embedding_train(std::int64_t V, std::int64_t D, const std::vector<std::int64_t>& indices, bool sparse) {
  auto s = std::make_shared<State>();
  s->embedding = torch::nn::Embedding(torch::nn::EmbeddingOptions(V, D).sparse(sparse));
  s->indices = index_tensor(indices);
  s->grad_out = torch::randn({static_cast<std::int64_t>(indices.size()), D});
  s->optimizer = std::make_unique<torch::optim::SGD>(s->embedding->parameters(), torch::optim::SGDOptions(0.1));
  return [s] {
    s->optimizer->zero_grad();  // 1.13: fills the existing gradient with zeros
    auto y = s->embedding(s->indices);
    y.backward(s->grad_out);
    s->optimizer->step();
  };
}

Case embedding_bag_train(std::int64_t V, std::int64_t D, const std::vector<std::int64_t>& indices, std::int64_t bag,
                         int mode) {
  auto s = std::make_shared<State>();
  s->weight = torch::randn({V, D}).requires_grad_();
  s->indices = index_tensor(indices);
  const auto bags = static_cast<std::int64_t>(indices.size()) / bag;
  s->offsets = torch::arange(0, bags * bag, bag, torch::kLong);
  s->grad_out = torch::randn({bags, D});
  auto opts = F::EmbeddingBagFuncOptions().offsets(s->offsets);
  if (mode == 0)
    opts.mode(torch::kSum);
  else
    opts.mode(torch::kMean);
  return [s, opts] {
    s->weight.mutable_grad() = torch::Tensor();
    auto y = F::embedding_bag(s->indices, s->weight, opts);
    y.backward(s->grad_out);
  };
}

Case linear(std::int64_t B, std::int64_t in, std::int64_t out, bool backward) {
  auto s = std::make_shared<State>();
  s->linear = torch::nn::Linear(torch::nn::LinearOptions(in, out));
  s->x = torch::randn({B, in});
  if (!backward)
    return [s] {
      torch::NoGradGuard no_grad;
      auto y = s->linear(s->x);
      (void)y;
    };
  s->x.requires_grad_();
  s->grad_out = torch::randn({B, out});
  return [s] {
    for (auto& p : s->linear->parameters()) p.mutable_grad() = torch::Tensor();
    s->x.mutable_grad() = torch::Tensor();
    s->linear(s->x).backward(s->grad_out);
  };
}

Case end_to_end(std::int64_t V, std::int64_t batch, const std::vector<std::int64_t>& indices,
                const std::vector<std::int64_t>& labels, bool sparse) {
  auto s = std::make_shared<State>();
  const std::int64_t tokens = static_cast<std::int64_t>(indices.size()) / batch;
  s->embedding = torch::nn::Embedding(torch::nn::EmbeddingOptions(V, 64).sparse(sparse));
  s->linear = torch::nn::Linear(torch::nn::LinearOptions(64, 2));
  s->indices = index_tensor(indices).reshape({batch, tokens});
  s->labels = index_tensor(labels);
  std::vector<torch::Tensor> params = s->embedding->parameters();
  for (auto& p : s->linear->parameters()) params.push_back(p);
  s->optimizer = std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(0.1));
  return [s] {
    s->optimizer->zero_grad();
    auto h = s->embedding(s->indices).mean(1);
    auto loss = F::cross_entropy(s->linear(h), s->labels);
    loss.backward();
    s->optimizer->step();
  };
}

}  // namespace torch_peer
