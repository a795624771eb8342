// SPDX-License-Identifier: MIT
// Every optimiser and option combination, six steps on given gradients, against torch 1.13.1.
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "optim_support.hpp"

namespace steps_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace optim = tapegrad::optim;
using optim_test::golden;
using tg_test::close;

namespace {

template <class T>
using Factory = std::function<std::unique_ptr<optim::Optimizer<T>>(std::vector<tg::Tensor<T>>)>;

template <template <class> class Opt, class T, class Options>
Factory<T> factory(Options options) {
  return [options](std::vector<tg::Tensor<T>> params) -> std::unique_ptr<optim::Optimizer<T>> {
    return std::make_unique<Opt<T>>(std::move(params), options);
  };
}

constexpr int kSteps = 6;

// Runs `make` on the golden inputs of `layout` and checks both parameters after every step.
template <class T>
void check_against_golden(const std::string& key, const std::string& layout, const Factory<T>& make) {
  const std::string dt = optim_test::dtype_key<T>();
  const std::string in = "in/" + dt + "/" + layout;
  auto w = golden().tensor<T>(in + "/w0", true);
  auto b = golden().tensor<T>(in + "/b0", true);
  auto opt = make({w, b});
  for (int k = 0; k < kSteps; ++k) {
    const std::string s = "/s" + std::to_string(k);
    w.mutable_grad() = optim_test::golden_grad<T>(in + s + "/w", w.shape());
    b.mutable_grad() = optim_test::golden_grad<T>(in + s + "/b", b.shape());
    opt->step();
    const std::string out = key + "/" + dt + "/" + layout + s;
    INFO(out);
    CHECK(close(w, golden().values(out + "/w"), w.shape(), optim_test::rtol<T>(), optim_test::atol<T>()));
    CHECK(close(b, golden().values(out + "/b"), b.shape(), optim_test::rtol<T>(), optim_test::atol<T>()));
  }
}

template <class T>
std::vector<std::pair<std::string, Factory<T>>> sgd_cases() {
  using optim::SGD;
  using optim::SGDOptions;
  return {{"plain", factory<SGD, T>(SGDOptions(0.1))},
          {"momentum", factory<SGD, T>(SGDOptions(0.1).momentum(0.9))},
          {"dampening", factory<SGD, T>(SGDOptions(0.05).momentum(0.9).dampening(0.3))},
          {"nesterov", factory<SGD, T>(SGDOptions(0.1).momentum(0.9).nesterov(true))},
          {"weight_decay", factory<SGD, T>(SGDOptions(0.1).weight_decay(0.05))},
          {"all", factory<SGD, T>(SGDOptions(0.1).momentum(0.8).dampening(0.1).weight_decay(0.01))},
          {"nesterov_wd", factory<SGD, T>(SGDOptions(0.2).momentum(0.5).nesterov(true).weight_decay(0.1))}};
}

template <class T>
std::vector<std::pair<std::string, Factory<T>>> adagrad_cases() {
  using optim::Adagrad;
  using optim::AdagradOptions;
  return {{"default", factory<Adagrad, T>(AdagradOptions())},
          {"lr_decay", factory<Adagrad, T>(AdagradOptions(0.1).lr_decay(0.1))},
          {"initial_acc", factory<Adagrad, T>(AdagradOptions(0.1).initial_accumulator_value(0.5).eps(1e-6))},
          {"weight_decay", factory<Adagrad, T>(AdagradOptions(0.1).weight_decay(0.1))}};
}

template <class T>
std::vector<std::pair<std::string, Factory<T>>> adam_cases() {
  using optim::Adam;
  using optim::AdamOptions;
  return {{"default", factory<Adam, T>(AdamOptions())},
          {"custom", factory<Adam, T>(AdamOptions(0.05).betas({0.8, 0.9}).eps(1e-6))},
          {"weight_decay", factory<Adam, T>(AdamOptions(0.01).weight_decay(0.1))},
          {"amsgrad", factory<Adam, T>(AdamOptions(0.02).amsgrad(true))},
          {"amsgrad_wd", factory<Adam, T>(AdamOptions(0.02).betas({0.5, 0.6}).weight_decay(0.05).amsgrad(true))}};
}

template <class T>
std::vector<std::pair<std::string, Factory<T>>> adamw_cases() {
  using optim::AdamW;
  using optim::AdamWOptions;
  return {{"default", factory<AdamW, T>(AdamWOptions())},
          {"amsgrad", factory<AdamW, T>(AdamWOptions(0.05).weight_decay(0.1).amsgrad(true))},
          {"no_decay", factory<AdamW, T>(AdamWOptions(0.01).weight_decay(0))}};
}

template <class T>
void check_cases(const std::string& opt, const std::vector<std::pair<std::string, Factory<T>>>& cases,
                 const std::vector<std::string>& layouts) {
  for (const auto& [name, make] : cases)
    for (const auto& layout : layouts) check_against_golden<T>(opt + "/" + name, layout, make);
}

}  // namespace

TEST_CASE("SGD matches torch 1.13 for every option, with dense and sparse gradients") {
  check_cases<float>("sgd", sgd_cases<float>(), {"dense", "sparse"});
  check_cases<double>("sgd", sgd_cases<double>(), {"dense", "sparse"});
}

TEST_CASE("Adagrad matches torch 1.13 for every option, with dense and sparse gradients") {
  check_cases<float>("adagrad", adagrad_cases<float>(), {"dense", "sparse"});
  check_cases<double>("adagrad", adagrad_cases<double>(), {"dense", "sparse"});
}

TEST_CASE("Adam matches torch 1.13 (bias corrections, weight decay, amsgrad)") {
  check_cases<float>("adam", adam_cases<float>(), {"dense"});
  check_cases<double>("adam", adam_cases<double>(), {"dense"});
}

TEST_CASE("AdamW matches torch 1.13 (decoupled decay, default 0.01, amsgrad)") {
  check_cases<float>("adamw", adamw_cases<float>(), {"dense"});
  check_cases<double>("adamw", adamw_cases<double>(), {"dense"});
}

TEST_CASE("SparseAdam matches torch 1.13 (duplicate rows, a skipped parameter, an empty gradient)") {
  auto run = [](auto tag) {
    using T = decltype(tag);
    using optim::SparseAdam;
    using optim::SparseAdamOptions;
    check_against_golden<T>("sparse_adam/default", "sparse", factory<SparseAdam, T>(SparseAdamOptions()));
    check_against_golden<T>("sparse_adam/custom", "sparse",
                            factory<SparseAdam, T>(SparseAdamOptions(0.1).betas({0.5, 0.7}).eps(1e-4)));
  };
  run(float());
  run(double());
}

TEST_CASE("lazy_sparse Adam and AdamW update only the gradient's rows, as torch's adam applied to those rows") {
  auto run = [](auto tag) {
    using T = decltype(tag);
    using optim::Adam;
    using optim::AdamOptions;
    using optim::AdamW;
    using optim::AdamWOptions;
    check_against_golden<T>("lazy/adam", "sparse",
                            factory<Adam, T>(AdamOptions(0.05).weight_decay(0.1).amsgrad(true).lazy_sparse(true)));
    check_against_golden<T>("lazy/adamw", "sparse",
                            factory<AdamW, T>(AdamWOptions(0.05).betas({0.8, 0.99}).weight_decay(0.1).lazy_sparse(true)));
  };
  run(float());
  run(double());
}

TEST_CASE("SGD and Adagrad give the same bits for a sparse gradient as for its to_dense()") {
  const std::vector<std::pair<std::string, Factory<float>>> cases = {
      {"sgd", factory<optim::SGD, float>(optim::SGDOptions(0.1))},
      {"sgd momentum+decay", factory<optim::SGD, float>(optim::SGDOptions(0.1).momentum(0.9).dampening(0.2).weight_decay(0.1))},
      {"sgd nesterov", factory<optim::SGD, float>(optim::SGDOptions(0.1).momentum(0.9).nesterov(true))},
      {"adagrad", factory<optim::Adagrad, float>(optim::AdagradOptions(0.1).lr_decay(0.1))},
      {"adagrad decay", factory<optim::Adagrad, float>(optim::AdagradOptions(0.1).weight_decay(0.1))}};
  const std::string in = "in/f32/sparse";
  for (const auto& [name, make] : cases) {
    INFO(name);
    auto ws = golden().tensor<float>(in + "/w0", true), wd = golden().tensor<float>(in + "/w0", true);
    auto sparse_opt = make({ws}), dense_opt = make({wd});
    for (int k = 0; k < kSteps; ++k) {
      const auto g = optim_test::golden_grad<float>(in + "/s" + std::to_string(k) + "/w", ws.shape());
      ws.mutable_grad() = g;
      wd.mutable_grad() = g.to_dense();
      sparse_opt->step();
      dense_opt->step();
      CHECK(ws.to_vector() == wd.to_vector());
    }
  }
}

// SGD without momentum or decay skips the blocks of a dense gradient that are exactly +0 (a dense
// embedding gradient is mostly zeros); next_nonzero_block finds the others, on AVX2 where the CPU
// has it and element by element in the last, partial block.
template <class T>
std::vector<std::int64_t> nonzero_blocks(const std::vector<T>& x, std::int64_t from = 0) {
  const auto n = static_cast<std::int64_t>(x.size());
  const std::int64_t blocks = (n + 63) / 64;
  std::vector<std::int64_t> found;
  for (auto b = tg::detail::next_nonzero_block<64>(x.data(), n, from); b < blocks;
       b = tg::detail::next_nonzero_block<64>(x.data(), n, b + 1))
    found.push_back(b);
  return found;
}

TEMPLATE_TEST_CASE("next_nonzero_block finds the blocks with a set bit: -0 and NaN count, +0 does not", "", float,
                   double) {
  using T = TestType;
  using Blocks = std::vector<std::int64_t>;
  std::vector<T> x(650, T(0));  // blocks 0-9 of 64 elements and a tail of 10 (block 10)
  CHECK(nonzero_blocks(x).empty());
  x[0] = T(1);
  x[3 * 64 + 63] = -T(0);  // only the sign bit: p - lr * (-0) is p, but the bits are not all clear
  x[7 * 64 + 31] = std::numeric_limits<T>::quiet_NaN();
  x[9 * 64 + 1] = std::numeric_limits<T>::denorm_min();
  x[649] = T(2);
  CHECK(nonzero_blocks(x) == Blocks{0, 3, 7, 9, 10});
  CHECK(nonzero_blocks(x, 4) == Blocks{7, 9, 10});
  CHECK(nonzero_blocks(x, 11).empty());
  x[649] = T(0);
  CHECK(nonzero_blocks(x) == Blocks{0, 3, 7, 9});
  // Shorter than one block (a bias): only the element-by-element path, from 0 and past the end.
  const std::vector<T> bias{T(0), T(-3)};
  CHECK(nonzero_blocks(bias) == Blocks{0});
  CHECK(nonzero_blocks(std::vector<T>{T(0), T(0)}).empty());
  CHECK(nonzero_blocks(std::vector<T>{}).empty());
  // Exactly whole blocks: the last one found by the wide path alone.
  std::vector<T> whole(128, T(0));
  whole[127] = T(5);
  CHECK(nonzero_blocks(whole) == Blocks{1});
}

TEST_CASE("SGD updates the non-zero blocks of a mostly-zero dense gradient and leaves the rest bit for bit") {
  // 3 blocks of 64 and a tail of 5; lr 0.5: p - 0.5 g where g is set.
  auto w = tg::full<float>({197}, 1.0f, true);
  std::vector<float> g(197, 0.0f);
  g[70] = 2.0f, g[196] = -4.0f;
  w.mutable_grad() = tg::tensor<float>(g, {197});
  optim::SGD<float> sgd({w}, optim::SGDOptions(0.5));
  sgd.step();
  std::vector<float> expected(197, 1.0f);
  expected[70] = 0.0f, expected[196] = 3.0f;
  CHECK(w.to_vector() == expected);
}

}  // namespace steps_test
