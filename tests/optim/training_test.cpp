// SPDX-License-Identifier: MIT
// Small training runs through the tape (linear and logistic regression), against the same runs in torch 1.13.1.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "optim_support.hpp"

namespace training_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace optim = tapegrad::optim;
using optim_test::golden;
using tg_test::close;

namespace {

template <class T>
tg::Tensor<T> linear_regression_loss(const tg::Tensor<T>& X, const tg::Tensor<T>& y, const tg::Tensor<T>& w,
                                     const tg::Tensor<T>& b) {
  const auto d = tg::matmul(X, w) + b - y;
  return tg::mean(d * d);
}

template <class T>
tg::Tensor<T> logistic_regression_loss(const tg::Tensor<T>& X, const tg::Tensor<T>& y, const tg::Tensor<T>& w,
                                       const tg::Tensor<T>& b) {
  const auto p = tg::sigmoid(tg::matmul(X, w) + b);
  return -tg::mean(y * tg::log(p) + (T(1) - y) * tg::log(T(1) - p));
}

struct Run {
  bool logistic = false;
  std::int64_t step_size = 0;  // StepLR, if > 0
  double gamma = 0;
  double clip = 0;  // clip_grad_norm_ max_norm, if > 0
};

// Twelve steps of zero_grad / forward / backward / [clip] / step / [scheduler]; compares every
// loss (and clip norm) and the final weights with torch's run of the same model.
template <class T>
void train(const std::string& name, const Run& run,
           const std::function<std::unique_ptr<optim::Optimizer<T>>(std::vector<tg::Tensor<T>>)>& make) {
  const std::string key = "train/" + name + "/" + optim_test::dtype_key<T>();
  INFO(key);
  const auto X = golden().tensor<T>("train/X");
  const auto y = golden().tensor<T>(run.logistic ? "train/y_log" : "train/y_lin");
  auto w = golden().tensor<T>("train/w0", true);
  auto b = tg::zeros<T>({1}, true);
  auto opt = make({w, b});
  std::unique_ptr<optim::StepLR<T>> scheduler;
  if (run.step_size > 0) scheduler = std::make_unique<optim::StepLR<T>>(*opt, run.step_size, run.gamma);
  std::vector<double> losses, norms;
  for (int i = 0; i < 12; ++i) {
    opt->zero_grad();
    auto loss = run.logistic ? logistic_regression_loss(X, y, w, b) : linear_regression_loss(X, y, w, b);
    loss.backward();
    losses.push_back(loss.item());
    if (run.clip > 0) norms.push_back(tg::nn::utils::clip_grad_norm_(opt->parameters(), run.clip));
    opt->step();
    if (scheduler) scheduler->step();
  }
  const double rtol = std::is_same_v<T, float> ? 1e-6 : 1e-10;
  CHECK(close(tg::tensor<double>(losses), golden().values(key + "/losses"), rtol, 1e-7));
  if (run.clip > 0) CHECK(close(tg::tensor<double>(norms), golden().values(key + "/norms"), rtol, 1e-7));
  CHECK(close(w, golden().values(key + "/w"), w.shape(), rtol, 1e-7));
  CHECK(close(b, golden().values(key + "/b"), b.shape(), rtol, 1e-7));
}

template <class T>
void all_runs() {
  using namespace tapegrad::optim;
  train<T>("sgd", Run{false, 4, 0.5, 0}, [](std::vector<tg::Tensor<T>> ps) {
    return std::make_unique<SGD<T>>(ps, SGDOptions(0.05).momentum(0.9).weight_decay(0.01));
  });
  train<T>("sgd_nesterov", Run{true, 0, 0, 0}, [](std::vector<tg::Tensor<T>> ps) {
    return std::make_unique<SGD<T>>(ps, SGDOptions(0.5).momentum(0.9).nesterov(true).weight_decay(0.001));
  });
  train<T>("adam", Run{true, 0, 0, 0},
           [](std::vector<tg::Tensor<T>> ps) { return std::make_unique<Adam<T>>(ps, AdamOptions(0.1)); });
  train<T>("adamw", Run{false, 0, 0, 0}, [](std::vector<tg::Tensor<T>> ps) {
    return std::make_unique<AdamW<T>>(ps, AdamWOptions(0.1).weight_decay(0.05).amsgrad(true));
  });
  train<T>("adagrad", Run{true, 0, 0, 0.15}, [](std::vector<tg::Tensor<T>> ps) {
    return std::make_unique<Adagrad<T>>(ps, AdagradOptions(0.5).lr_decay(0.01));
  });
}

}  // namespace

TEST_CASE("training runs (SGD+momentum+decay+StepLR, Nesterov, Adam, AdamW, Adagrad+clipping) match torch, float") {
  all_runs<float>();
}

TEST_CASE("training runs (SGD+momentum+decay+StepLR, Nesterov, Adam, AdamW, Adagrad+clipping) match torch, double") {
  all_runs<double>();
}

}  // namespace training_test
