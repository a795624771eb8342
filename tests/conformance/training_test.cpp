// SPDX-License-Identifier: MIT
// End-to-end conformance: Embedding or EmbeddingBag -> Linear -> cross_entropy trained for several
// steps with each optimiser setup, against the same runs in PyTorch 1.13.1
// (tests/reference/golden_conformance.py). Losses and final weights must agree.
#include <functional>
#include <memory>

#include "support/golden.hpp"
#include "support/test.hpp"

namespace training_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace F = tapegrad::nn::functional;
using tg_test::close;

namespace {

constexpr int kSteps = 8, kBatches = 4;
// float32 after 8 optimiser steps. Sparse Adagrad follows the dense formula, whose rounding differs from
// torch's sparse path by ~1e-7 absolute, hence the absolute term.
constexpr double kRtol = 1e-6, kAtol = 1e-6;

using Optimizers = std::vector<std::unique_ptr<tg::optim::Optimizer<float>>>;
using MakeOptimizers = std::function<Optimizers(std::vector<tg::Tensor<float>> emb, std::vector<tg::Tensor<float>> fc)>;

struct Extras {
  double clip = 0;               // clip_grad_norm_ to this, when > 0
  std::int64_t step_size = 0;    // StepLR on the first optimiser, when > 0
  double gamma = 0.1;
  bool per_sample_weights = false;
};

std::vector<tg::Tensor<float>> concat(std::vector<tg::Tensor<float>> a, const std::vector<tg::Tensor<float>>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Runs one scenario with module M (Embedding or EmbeddingBag) and checks it against the goldens.
template <class M, class Options>
void replay(const std::string& name, Options emb_options, const MakeOptimizers& make, const Extras& extra = {}) {
  static const tg_test::Golden g("conformance");
  INFO("scenario " << name);
  M emb(emb_options);
  tg::nn::Linear<float> fc(tg::nn::LinearOptions(8, 3));
  emb.weight = g.tensor<float>(name + "/init/emb");
  fc.weight = g.tensor<float>(name + "/init/fc.weight");
  fc.bias = g.tensor<float>(name + "/init/fc.bias");
  Optimizers opts = make({emb.weight}, fc.parameters());
  std::unique_ptr<tg::optim::StepLR<float>> scheduler;
  if (extra.step_size > 0) scheduler = std::make_unique<tg::optim::StepLR<float>>(*opts[0], extra.step_size, extra.gamma);

  for (int step = 0; step < kSteps; ++step) {
    const std::string batch = name + "/batch" + std::to_string(step % kBatches);
    for (auto& o : opts) o->zero_grad();
    tg::Tensor<float> hidden;
    if constexpr (std::is_same_v<M, tg::nn::EmbeddingBag<float>>) {
      const auto weights = extra.per_sample_weights ? g.tensor<float>(batch + "/weights") : tg::Tensor<float>();
      hidden = emb(g.tensor<std::int64_t>(batch + "/ids"), g.tensor<std::int64_t>(batch + "/offsets"), weights);
    } else {
      hidden = tg::mean(emb(g.tensor<std::int64_t>(batch + "/ids")), {1});
    }
    auto loss = F::cross_entropy(fc(hidden), g.tensor<std::int64_t>(batch + "/labels"));
    loss.backward();
    if (extra.clip > 0) {
      const double total = tg::nn::utils::clip_grad_norm_(concat({emb.weight}, fc.parameters()), extra.clip);
      CHECK(total == Approx(g.scalar(name + "/step" + std::to_string(step) + "/clip_total")).epsilon(kRtol));
    }
    for (auto& o : opts) o->step();
    if (scheduler) scheduler->step();
    INFO("step " << step);
    CHECK(loss.item() == Approx(g.scalar(name + "/step" + std::to_string(step) + "/loss")).epsilon(kRtol));
  }
  CHECK(close(emb.weight, g.tensor<float>(name + "/final/emb"), kRtol, kAtol));
  CHECK(close(fc.weight, g.tensor<float>(name + "/final/fc.weight"), kRtol, kAtol));
  CHECK(close(fc.bias, g.tensor<float>(name + "/final/fc.bias"), kRtol, kAtol));
}

template <class O, class... Args>
Optimizers one(std::vector<tg::Tensor<float>> params, Args&&... args) {
  Optimizers v;
  v.push_back(std::make_unique<O>(std::move(params), std::forward<Args>(args)...));
  return v;
}

tg::nn::EmbeddingOptions emb_opts() { return tg::nn::EmbeddingOptions(20, 8); }
tg::nn::EmbeddingBagOptions bag_opts(tg::nn::EmbeddingBagMode mode) {
  return tg::nn::EmbeddingBagOptions(20, 8).mode(mode);
}

}  // namespace

TEST_CASE("conformance: Embedding + Linear with SGD momentum and weight decay, padding_idx") {
  replay<tg::nn::Embedding<float>>("sgd_momentum_wd", emb_opts().padding_idx(0), [](auto e, auto f) {
    return one<tg::optim::SGD<float>>(concat(e, f), tg::optim::SGDOptions(0.5).momentum(0.9).weight_decay(1e-3));
  });
}

TEST_CASE("conformance: Embedding + Linear with SGD Nesterov momentum") {
  replay<tg::nn::Embedding<float>>("sgd_nesterov", emb_opts(), [](auto e, auto f) {
    return one<tg::optim::SGD<float>>(concat(e, f), tg::optim::SGDOptions(0.3).momentum(0.9).nesterov(true));
  });
}

TEST_CASE("conformance: Embedding + Linear with Adam, padding_idx") {
  replay<tg::nn::Embedding<float>>("adam", emb_opts().padding_idx(0), [](auto e, auto f) {
    return one<tg::optim::Adam<float>>(concat(e, f), tg::optim::AdamOptions(0.05));
  });
}

TEST_CASE("conformance: Embedding + Linear with AdamW amsgrad") {
  replay<tg::nn::Embedding<float>>("adamw_amsgrad", emb_opts(), [](auto e, auto f) {
    return one<tg::optim::AdamW<float>>(concat(e, f), tg::optim::AdamWOptions(0.05).amsgrad(true).weight_decay(0.01));
  });
}

TEST_CASE("conformance: sparse Embedding + Linear with Adagrad") {
  replay<tg::nn::Embedding<float>>("adagrad_sparse", emb_opts().sparse(true), [](auto e, auto f) {
    return one<tg::optim::Adagrad<float>>(concat(e, f), tg::optim::AdagradOptions(0.5));
  });
}

TEST_CASE("conformance: sparse Embedding with padding + Linear with SGD momentum") {
  replay<tg::nn::Embedding<float>>("sgd_sparse_momentum", emb_opts().sparse(true).padding_idx(0), [](auto e, auto f) {
    return one<tg::optim::SGD<float>>(concat(e, f), tg::optim::SGDOptions(0.5).momentum(0.9));
  });
}

TEST_CASE("conformance: sparse Embedding with SparseAdam + Linear with Adam") {
  replay<tg::nn::Embedding<float>>("sparse_adam", emb_opts().sparse(true), [](auto e, auto f) {
    Optimizers v;
    v.push_back(std::make_unique<tg::optim::SparseAdam<float>>(e, tg::optim::SparseAdamOptions(0.05)));
    v.push_back(std::make_unique<tg::optim::Adam<float>>(f, tg::optim::AdamOptions(0.05)));
    return v;
  });
}

TEST_CASE("conformance: Embedding with max_norm + Linear with SGD") {
  replay<tg::nn::Embedding<float>>("max_norm", emb_opts().max_norm(1.0), [](auto e, auto f) {
    return one<tg::optim::SGD<float>>(concat(e, f), tg::optim::SGDOptions(0.5));
  });
}

TEST_CASE("conformance: Embedding with scale_grad_by_freq + Linear with SGD") {
  replay<tg::nn::Embedding<float>>("scale_grad_by_freq", emb_opts().scale_grad_by_freq(true), [](auto e, auto f) {
    return one<tg::optim::SGD<float>>(concat(e, f), tg::optim::SGDOptions(0.5));
  });
}

TEST_CASE("conformance: SGD with clip_grad_norm_ and StepLR") {
  Extras extra;
  extra.clip = 0.5;
  extra.step_size = 3;
  extra.gamma = 0.5;
  replay<tg::nn::Embedding<float>>(
      "clip_steplr", emb_opts(),
      [](auto e, auto f) { return one<tg::optim::SGD<float>>(concat(e, f), tg::optim::SGDOptions(0.5).momentum(0.5)); },
      extra);
}

TEST_CASE("conformance: EmbeddingBag mean with padding and empty bags + Linear with Adam") {
  replay<tg::nn::EmbeddingBag<float>>("bag_mean_adam", bag_opts(tg::nn::EmbeddingBagMode::Mean).padding_idx(0),
                                      [](auto e, auto f) {
                                        return one<tg::optim::Adam<float>>(concat(e, f), tg::optim::AdamOptions(0.05));
                                      });
}

TEST_CASE("conformance: EmbeddingBag sum with per_sample_weights + Linear with SGD momentum") {
  Extras extra;
  extra.per_sample_weights = true;
  replay<tg::nn::EmbeddingBag<float>>(
      "bag_sum_weighted_sgd", bag_opts(tg::nn::EmbeddingBagMode::Sum),
      [](auto e, auto f) { return one<tg::optim::SGD<float>>(concat(e, f), tg::optim::SGDOptions(0.3).momentum(0.9)); },
      extra);
}

TEST_CASE("conformance: EmbeddingBag max + Linear with SGD") {
  replay<tg::nn::EmbeddingBag<float>>("bag_max_sgd", bag_opts(tg::nn::EmbeddingBagMode::Max), [](auto e, auto f) {
    return one<tg::optim::SGD<float>>(concat(e, f), tg::optim::SGDOptions(0.3));
  });
}

}  // namespace training_test
