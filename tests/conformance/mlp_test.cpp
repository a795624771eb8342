// SPDX-License-Identifier: MIT
// End-to-end conformance of the training toolkit: a Sequential MLP (Linear, LayerNorm, GELU,
// Dropout, Linear) trained with AdamW over two parameter groups and a LinearLR schedule, against the
// same run in PyTorch 1.13.1 (tests/reference/golden_conformance_mlp.py). Dropout's masks come from
// the default generator in both, so the runs match step by step: losses, learning rates, final
// weights and the eval-mode output.
#include <string>
#include <vector>

#include "support/golden.hpp"
#include "support/test.hpp"

namespace mlp_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace nn = tapegrad::nn;
using tg_test::close;

namespace {

constexpr int kSeed = 7, kSteps = 12, kBatches = 4;
constexpr double kRtol = 1e-5, kAtol = 1e-6;  // float32 through 12 AdamW steps

const tg_test::Golden& golden() {
  static const tg_test::Golden g("conformance_mlp");
  return g;
}

tg_test::Comparison matches(const tg::Tensor<float>& actual, const std::string& key) {
  return close(actual, golden().values(key), golden().shape(key), kRtol, kAtol);
}

}  // namespace

TEST_CASE("conformance: Sequential MLP with LayerNorm, GELU, Dropout, AdamW parameter groups and LinearLR") {
  nn::Sequential<float> net(nn::Linear<float>(6, 16), nn::LayerNorm<float>(16), nn::GELU<float>(),
                            nn::Dropout<float>(0.2), nn::Linear<float>(16, 3));
  nn::StateDict<float> init;
  for (const std::string key : {"0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias"})
    init.insert(key, golden().tensor<float>("init/" + key));
  net.load_state_dict(init);

  auto& fc1 = net.at<nn::Linear<float>>(0);
  auto& norm = net.at<nn::LayerNorm<float>>(1);
  auto& fc2 = net.at<nn::Linear<float>>(4);
  // The usual recipe: weight decay on the Linear weights only, and a smaller rate for the rest.
  tg::optim::AdamW<float> optimizer(
      {tg::optim::ParamGroup<float>({fc1.weight, fc2.weight}),
       tg::optim::ParamGroup<float>({fc1.bias, norm.weight, norm.bias, fc2.bias},
                                    tg::optim::AdamWOptions().weight_decay(0.0).lr(0.02))},
      tg::optim::AdamWOptions(0.05).weight_decay(0.1));
  tg::optim::LinearLR<float> schedule(optimizer, 1.0, 0.1, kSteps);

  tg::manual_seed(kSeed + 2);  // Dropout's masks: the stream PyTorch's run draws them from
  net.train();
  std::vector<double> losses;
  for (int step = 0; step < kSteps; ++step) {
    const std::string batch = "batch" + std::to_string(step % kBatches);
    const auto x = golden().tensor<float>(batch + "/x");
    const auto y = golden().tensor<std::int64_t>(batch + "/y");
    optimizer.zero_grad();
    auto loss = tg::cross_entropy(net(x), y);
    loss.backward();
    optimizer.step();
    schedule.step();
    losses.push_back(loss.item());
  }
  CHECK(close(tg::tensor<double>(losses), golden().values("losses"), golden().shape("losses"), kRtol, kAtol));
  CHECK(close(tg::tensor<double>(schedule.get_last_lr()), golden().values("final_lrs"), golden().shape("final_lrs"),
              1e-12, 0));
  for (const auto& [key, value] : net.state_dict()) {
    INFO(key);
    CHECK(matches(value, "final/" + key));
  }
  net.eval();
  tg::NoGradGuard no_grad;
  CHECK(matches(net(golden().tensor<float>("batch0/x")), "eval_logits"));
}

}  // namespace mlp_test
