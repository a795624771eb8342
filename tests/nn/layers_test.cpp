// SPDX-License-Identifier: MIT
// Layers of issue 12 against PyTorch 1.13.1 (tests/reference/golden_layers.py): activations, GELU,
// Dropout, LayerNorm, BatchNorm1d, Sequential / ModuleList / ModuleDict, buffers, printing.
#include <functional>
#include <string>
#include <vector>

#include "ops/ops_test.hpp"
#include "support/golden.hpp"
#include "support/test.hpp"

namespace layers_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace {

namespace tg = tapegrad;
namespace nn = tapegrad::nn;
namespace F = tapegrad::nn::functional;
using tg_test::close;

const tg_test::Golden& golden() {
  static const tg_test::Golden g("layers");
  return g;
}

template <class T>
std::vector<double> values(const tg::Tensor<T>& t) {
  return std::vector<double>(t.data(), t.data() + t.numel());
}

/// Feeds golden `key`/x through f, compares y, then backpropagates sum(y * g) and compares the
/// gradients of x and of each named parameter with PyTorch's.
template <class T>
void check_case(const std::string& key, const std::function<tg::Tensor<T>(const tg::Tensor<T>&)>& f,
                const std::vector<std::pair<std::string, tg::Tensor<T>>>& params = {}, double rtol = 1e-5,
                double atol = 1e-6) {
  const auto& g = golden();
  INFO(key);
  tg::Tensor<T> x = g.tensor<T>(key + "/x", true);
  tg::Tensor<T> y = f(x);
  CHECK(close(y, g.values(key + "/y"), g.shape(key + "/y"), rtol, atol));
  (y * g.tensor<T>(key + "/g")).sum().backward();
  CHECK(close(x.grad(), g.values(key + "/x_grad"), g.shape(key + "/x_grad"), rtol, atol));
  for (const auto& [name, p] : params) {
    INFO(name);
    CHECK(close(p.grad(), g.values(key + "/" + name + "_grad"), g.shape(key + "/" + name + "_grad"), rtol, atol));
  }
}

template <class M>
std::string repr(const M& m) {
  return nn::to_string(m);
}

}  // namespace

// ---- gelu ---------------------------------------------------------------------------------------------

TEST_CASE("gelu: values and gradients match PyTorch (erf and tanh forms, float and double)") {
  for (const std::string approx : {"none", "tanh"}) {
    check_case<float>("gelu/" + approx + "/float32", [&](const tg::Tensor<float>& x) { return tg::gelu(x, approx); });
    check_case<double>("gelu/" + approx + "/float64", [&](const tg::Tensor<double>& x) { return F::gelu(x, approx); },
                       {}, 1e-12, 1e-14);
  }
  CHECK(tg::gelu(golden().tensor<float>("gelu/none/float32/x", true)).grad_fn_name() == "GeluBackward0");
}

TEST_CASE("gelu: gradcheck, 0-d and empty inputs, NaN, bad approximate") {
  for (const std::string approx : {"none", "tanh"})
    CHECK(ops_test::grad_ok([&](const ops_test::Inputs& in) { return tg::gelu(in[0], approx); },
                            {ops_test::leaf({3, 4}, 1)}));
  CHECK(close(tg::gelu(tg::scalar_tensor<double>(1.0)), {0.8413447460685429}, tg::Shape{}));
  CHECK(tg::gelu(tg::zeros<float>({0, 3})).shape() == tg::Shape{0, 3});
  CHECK(std::isnan(tg::gelu(tg::tensor<float>({NAN})).item()));
  CHECK_THROWS_WITH(tg::gelu(tg::zeros<float>({2}), "fast"),
                    "gelu: approximate = \"fast\" is not supported (valid: \"none\", \"tanh\")");
  CHECK_THROWS_AS(nn::GELU<float>(nn::GELUOptions().approximate("erf")), tg::ValueError);
}

// ---- module-style activations ------------------------------------------------------------------------

TEST_CASE("activations: ReLU, Tanh, Sigmoid, Softmax, LogSoftmax, GELU and Flatten modules match PyTorch") {
  nn::ReLU<float> relu;
  nn::Tanh<float> tanh;
  nn::Sigmoid<float> sigmoid;
  nn::Softmax<float> softmax1(1), softmax0(0);
  nn::LogSoftmax<float> log_softmax(1);
  nn::GELU<float> gelu(nn::GELUOptions().approximate("tanh"));
  nn::Flatten<float> flatten;
  nn::Flatten<float> flatten01(0, 1);
  check_case<float>("relu/basic", [&](const tg::Tensor<float>& x) { return relu(x); });
  check_case<float>("tanh/basic", [&](const tg::Tensor<float>& x) { return tanh(x); });
  check_case<float>("sigmoid/basic", [&](const tg::Tensor<float>& x) { return sigmoid(x); });
  check_case<float>("softmax/dim1", [&](const tg::Tensor<float>& x) { return softmax1(x); });
  check_case<float>("softmax/dim0", [&](const tg::Tensor<float>& x) { return softmax0(x); });
  check_case<float>("log_softmax/dim1", [&](const tg::Tensor<float>& x) { return log_softmax(x); });
  check_case<float>("gelu_module/tanh", [&](const tg::Tensor<float>& x) { return gelu(x); });
  check_case<float>("flatten/default", [&](const tg::Tensor<float>& x) { return flatten(x); });
  check_case<float>("flatten/0_1", [&](const tg::Tensor<float>& x) { return flatten01(x); });
  nn::Identity<float> identity;
  const tg::Tensor<float> x = tg::ones<float>({2, 3});
  CHECK(identity(x).is_same(x));
  CHECK_THROWS_AS(softmax1(tg::ones<float>({3})), tg::IndexError);
}

TEST_CASE("activations: print as PyTorch's repr") {
  CHECK(repr(nn::ReLU<float>()) == "ReLU()");
  CHECK(repr(nn::Tanh<float>()) == "Tanh()");
  CHECK(repr(nn::Sigmoid<float>()) == "Sigmoid()");
  CHECK(repr(nn::Identity<float>()) == "Identity()");
  CHECK(repr(nn::GELU<float>()) == "GELU(approximate='none')");
  CHECK(repr(nn::GELU<float>(nn::GELUOptions().approximate("tanh"))) == "GELU(approximate='tanh')");
  CHECK(repr(nn::Softmax<float>(1)) == "Softmax(dim=1)");
  CHECK(repr(nn::LogSoftmax<float>(-1)) == "LogSoftmax(dim=-1)");
  CHECK(repr(nn::Flatten<float>()) == "Flatten(start_dim=1, end_dim=-1)");
  CHECK(repr(nn::Flatten<float>(0, 1)) == "Flatten(start_dim=0, end_dim=1)");
}

// ---- Dropout -----------------------------------------------------------------------------------------

TEST_CASE("Dropout: after manual_seed, the same masks, scaling and gradients as PyTorch") {
  const auto& g = golden();
  for (const std::string name : {"p0.3", "p0.5", "p0.1"}) {
    INFO(name);
    const double p = std::stod(name.substr(1));
    tg::manual_seed(name == "p0.3" ? 3 : name == "p0.5" ? 11 : 2);
    nn::Dropout<float> drop(p);
    check_case<float>("dropout/" + name, [&](const tg::Tensor<float>& x) { return drop(x); }, {}, 0, 0);  // exact
    CHECK(close(tg::rand<float>({3}), g.values("dropout/" + name + "/next"), {3}, 0, 0));
  }
  tg::manual_seed(5);
  check_case<double>("dropout/p0.9_double", [](const tg::Tensor<double>& x) { return F::dropout(x, 0.9); }, {}, 0, 0);
  CHECK(close(tg::rand<float>({3}), g.values("dropout/p0.9_double/next"), {3}, 0, 0));
}

TEST_CASE("Dropout: p = 1 gives zeros (NaN for inf) and draws nothing, as PyTorch") {
  tg::manual_seed(4);
  const tg::Tensor<float> y = F::dropout(tg::tensor<float>({1, -2, INFINITY}), 1.0);
  CHECK(close(y, golden().values("dropout/p1/y"), {3}));
  CHECK(close(tg::rand<float>({3}), golden().values("dropout/p1/next"), {3}, 0, 0));
}

TEST_CASE("Dropout: identity in eval mode, for p = 0 and for empty inputs, kept elements scaled by 1 / (1 - p)") {
  const tg::Tensor<float> x = tg::randn<float>({50, 40});
  nn::Dropout<float> drop(0.25);
  drop.eval();
  CHECK(drop(x).is_same(x));
  drop.train();
  CHECK(F::dropout(x, 0.0).is_same(x));
  const tg::Tensor<float> empty = tg::zeros<float>({0, 4});
  CHECK(drop(empty).is_same(empty));
  const tg::Tensor<float> ones = tg::ones<float>({100, 100});
  const tg::Tensor<float> y = drop(ones);
  std::int64_t kept = 0;
  for (float v : y.to_vector()) {
    CHECK((v == 0.0f || v == 1.0f / 0.75f));
    kept += v != 0.0f;
  }
  CHECK(kept > 7300);  // 7500 expected; 10000 draws keep the deviation near 43
  CHECK(kept < 7700);
}

TEST_CASE("Dropout: rejects p outside [0, 1] and prints as PyTorch") {
  CHECK_THROWS_WITH(nn::Dropout<float>(1.5), "Dropout: probability has to be between 0 and 1, but got p = 1.5");
  CHECK_THROWS_AS(nn::Dropout<float>(-0.1), tg::ValueError);
  CHECK_THROWS_WITH(F::dropout(tg::ones<float>({2}), NAN), tg_test::Contains("between 0 and 1"));
  CHECK(repr(nn::Dropout<float>()) == "Dropout(p=0.5, inplace=False)");
  CHECK(repr(nn::Dropout<float>(0.1)) == "Dropout(p=0.1, inplace=False)");
  CHECK(repr(nn::Dropout<float>(1e-5)) == "Dropout(p=1e-05, inplace=False)");
}

// ---- LayerNorm ---------------------------------------------------------------------------------------

TEST_CASE("LayerNorm: values and input, weight and bias gradients match PyTorch") {
  const auto& g = golden();
  struct Case {
    std::string key;
    tg::Shape shape;
    double eps;
  };
  for (const Case& c : {Case{"layer_norm/last", {4}, 1e-5}, Case{"layer_norm/last2", {3, 4}, 1e-3}}) {
    nn::LayerNorm<float> ln(nn::LayerNormOptions(c.shape).eps(c.eps));
    CHECK(close(ln.weight, std::vector<double>(static_cast<std::size_t>(ln.weight.numel()), 1.0), c.shape));
    CHECK(close(ln.bias, std::vector<double>(static_cast<std::size_t>(ln.bias.numel()), 0.0), c.shape));
    ln.weight = g.tensor<float>(c.key + "/weight");
    ln.bias = g.tensor<float>(c.key + "/bias");
    check_case<float>(c.key, [&](const tg::Tensor<float>& x) { return ln(x); }, {{"weight", ln.weight}, {"bias", ln.bias}});
  }
  nn::LayerNorm<float> plain(nn::LayerNormOptions({6}).elementwise_affine(false));
  CHECK(plain.parameters().empty());
  CHECK(plain.state_dict().empty());
  check_case<float>("layer_norm/no_affine", [&](const tg::Tensor<float>& x) { return plain(x); });
  nn::LayerNorm<double> ld(7);
  ld.weight = g.tensor<double>("layer_norm/double/weight");
  ld.bias = g.tensor<double>("layer_norm/double/bias");
  check_case<double>("layer_norm/double", [&](const tg::Tensor<double>& x) { return ld(x); },
                     {{"weight", ld.weight}, {"bias", ld.bias}}, 1e-12, 1e-13);
}

TEST_CASE("layer_norm: gradcheck of input, weight and bias") {
  CHECK(ops_test::grad_ok(
      [](const ops_test::Inputs& in) { return F::layer_norm(in[0], {3, 4}, in[1], in[2], 1e-5); },
      {ops_test::leaf({2, 3, 4}, 1), ops_test::leaf({3, 4}, 2), ops_test::leaf({3, 4}, 3)}));
  CHECK(ops_test::grad_ok([](const ops_test::Inputs& in) { return F::layer_norm(in[0], {5}); }, {ops_test::leaf({4, 5}, 4)}));
}

TEST_CASE("LayerNorm: errors name the shapes, printing as PyTorch") {
  nn::LayerNorm<float> ln(8);
  CHECK_THROWS_WITH(ln(tg::zeros<float>({2, 3})),
                    "LayerNorm((8,), eps=1e-05, elementwise_affine=True): expected an input of shape [*, 8], got one of "
                    "shape [2, 3]");
  CHECK_THROWS_AS(F::layer_norm(tg::zeros<float>({3}), {2, 3}), tg::ShapeError);
  CHECK_THROWS_WITH(F::layer_norm(tg::zeros<float>({2, 3}), {3}, tg::ones<float>({2})),
                    "layer_norm: weight has shape [2], expected normalized_shape [3]");
  CHECK_THROWS_AS(nn::LayerNorm<float>(nn::LayerNormOptions({})), tg::ValueError);
  CHECK(repr(ln) == "LayerNorm((8,), eps=1e-05, elementwise_affine=True)");
  CHECK(repr(nn::LayerNorm<float>(nn::LayerNormOptions({3, 4}).eps(1e-3).elementwise_affine(false))) ==
        "LayerNorm((3, 4), eps=0.001, elementwise_affine=False)");
}

// ---- BatchNorm1d -------------------------------------------------------------------------------------

namespace {

/// Replays golden_layers.py's batch_norm_case: `steps` training batches (values, gradients, running
/// statistics after each), then one batch in eval mode.
void check_batch_norm(const std::string& key, nn::BatchNorm1d<float>& bn, int steps = 3) {
  const auto& g = golden();
  if (bn.options.affine()) {
    bn.weight = g.tensor<float>(key + "/weight");
    bn.bias = g.tensor<float>(key + "/bias");
  }
  auto params = [&bn]() -> std::vector<std::pair<std::string, tg::Tensor<float>>> {
    if (!bn.options.affine()) return {};
    return {{"weight", bn.weight}, {"bias", bn.bias}};
  };
  for (int step = 0; step < steps; ++step) {
    const std::string k = key + "/train" + std::to_string(step);
    bn.zero_grad(true);
    check_case<float>(k, [&](const tg::Tensor<float>& x) { return bn(x); }, params());
    if (bn.options.track_running_stats()) {
      INFO(k);
      CHECK(close(bn.running_mean, g.values(k + "/running_mean"), g.shape(k + "/running_mean"), 1e-5, 1e-6));
      CHECK(close(bn.running_var, g.values(k + "/running_var"), g.shape(k + "/running_var"), 1e-5, 1e-6));
      CHECK(close(bn.num_batches_tracked, g.values(k + "/num_batches_tracked"), tg::Shape{}));
      CHECK_FALSE(bn.running_mean.requires_grad());
    }
  }
  bn.eval();
  bn.zero_grad(true);
  const tg::Tensor<float> mean_before = bn.options.track_running_stats() ? bn.running_mean.clone() : tg::Tensor<float>();
  check_case<float>(key + "/eval", [&](const tg::Tensor<float>& x) { return bn(x); }, params());
  if (bn.options.track_running_stats()) CHECK(bn.running_mean.equal(mean_before));  // eval reads, never updates
}

}  // namespace

TEST_CASE("BatchNorm1d: training steps, running statistics and eval output match PyTorch") {
  SECTION("[N, C]") {
    nn::BatchNorm1d<float> bn(4);
    check_batch_norm("batch_norm/2d", bn);
  }
  SECTION("[N, C, L]") {
    nn::BatchNorm1d<float> bn(4);
    check_batch_norm("batch_norm/3d", bn);
  }
  SECTION("momentum None: cumulative average") {
    nn::BatchNorm1d<float> bn(nn::BatchNormOptions(3).momentum(std::nullopt));
    check_batch_norm("batch_norm/momentum_none", bn);
  }
  SECTION("affine=false, momentum 0.3, eps 1e-3") {
    nn::BatchNorm1d<float> bn(nn::BatchNormOptions(3).affine(false).momentum(0.3).eps(1e-3));
    CHECK(bn.parameters().empty());
    check_batch_norm("batch_norm/no_affine", bn);
  }
  SECTION("track_running_stats=false: batch statistics in eval too, no buffers") {
    nn::BatchNorm1d<float> bn(nn::BatchNormOptions(3).track_running_stats(false));
    CHECK(bn.buffers().empty());
    CHECK(bn.state_dict().keys() == std::vector<std::string>{"weight", "bias"});
    check_batch_norm("batch_norm/untracked", bn, 1);
  }
}

TEST_CASE("batch_norm: gradcheck in training mode ([N, C] and [N, C, L]) and in eval mode") {
  CHECK(ops_test::grad_ok(
      [](const ops_test::Inputs& in) { return F::batch_norm(in[0], {}, {}, in[1], in[2], true); },
      {ops_test::leaf({5, 3}, 1), ops_test::leaf({3}, 2), ops_test::leaf({3}, 3)}));
  CHECK(ops_test::grad_ok(
      [](const ops_test::Inputs& in) { return F::batch_norm(in[0], {}, {}, in[1], in[2], true, 0.1, 1e-3); },
      {ops_test::leaf({3, 2, 4}, 4), ops_test::leaf({2}, 5), ops_test::leaf({2}, 6)}));
  const tg::Tensor<double> rm = tg::tensor<double>({0.1, -0.2}), rv = tg::tensor<double>({0.5, 2.0});
  CHECK(ops_test::grad_ok(
      [&](const ops_test::Inputs& in) { return F::batch_norm(in[0], rm, rv, in[1], in[2], false); },
      {ops_test::leaf({3, 2, 4}, 7), ops_test::leaf({2}, 8), ops_test::leaf({2}, 9)}));
}

TEST_CASE("BatchNorm1d: buffers are in state_dict but not in parameters, and load back") {
  nn::BatchNorm1d<float> bn(3);
  CHECK(bn.state_dict().keys() ==
        std::vector<std::string>{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"});
  CHECK(bn.parameters().size() == 2);
  CHECK(bn.named_buffers().size() == 3);
  CHECK(bn.num_batches_tracked.shape() == tg::Shape{});
  bn(tg::randn<float>({6, 3}));
  bn(tg::randn<float>({6, 3}));
  nn::BatchNorm1d<float> other(3);
  other.load_state_dict(bn.state_dict());
  CHECK(other.running_mean.equal(bn.running_mean));
  CHECK(other.running_var.equal(bn.running_var));
  CHECK(other.num_batches_tracked.item() == 2.0f);
  CHECK_FALSE(other.running_mean.is_same(bn.running_mean));  // copied in place, not shared
  other.eval();
  bn.eval();
  const tg::Tensor<float> x = tg::randn<float>({4, 3});
  CHECK(other(x).equal(bn(x)));
  // A wrong buffer shape is refused and nothing loads.
  nn::BatchNorm1d<float> four(4);
  CHECK_THROWS_WITH(four.load_state_dict(bn.state_dict()), tg_test::Contains("size mismatch for \"running_mean\""));
  CHECK(four.running_var.equal(tg::ones<float>({4})));
}

TEST_CASE("BatchNorm1d: errors name the shapes and leave the statistics unchanged") {
  nn::BatchNorm1d<float> bn(4);
  CHECK_THROWS_WITH(bn(tg::zeros<float>({2, 3})),
                    "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True): input of shape "
                    "[2, 3] has 3 channels in dim 1, expected num_features=4");
  CHECK_THROWS_WITH(bn(tg::zeros<float>({2, 4, 3, 1})), tg_test::Contains("expected a 2-D [N, C] or 3-D [N, C, L] input, got shape [2, 4, 3, 1]"));
  CHECK_THROWS_AS(bn(tg::zeros<float>({4})), tg::ShapeError);
  CHECK_THROWS_WITH(bn(tg::zeros<float>({1, 4})), tg_test::Contains("expected more than 1 value per channel when training, got input of shape [1, 4]"));
  CHECK(bn.num_batches_tracked.item() == 0.0f);
  bn.eval();
  CHECK(bn(tg::zeros<float>({1, 4})).shape() == tg::Shape{1, 4});  // one sample is fine in eval
  CHECK_THROWS_WITH(F::batch_norm(tg::zeros<float>({2, 3}), tg::zeros<float>({4}), tg::ones<float>({4})),
                    "batch_norm: running_mean has shape [4], but input of shape [2, 3] has 3 channels in dim 1 (expected [3])");
  CHECK_THROWS_AS(nn::BatchNorm1d<float>(nn::BatchNormOptions(3).momentum(1.5)), tg::ValueError);
}

TEST_CASE("BatchNorm1d: prints as PyTorch") {
  CHECK(repr(nn::BatchNorm1d<float>(4)) == "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
  CHECK(repr(nn::BatchNorm1d<float>(nn::BatchNormOptions(3).affine(false).momentum(0.3).eps(1e-3))) ==
        "BatchNorm1d(3, eps=0.001, momentum=0.3, affine=False, track_running_stats=True)");
  CHECK(repr(nn::BatchNorm1d<float>(nn::BatchNormOptions(4).momentum(std::nullopt))) ==
        "BatchNorm1d(4, eps=1e-05, momentum=None, affine=True, track_running_stats=True)");
}

// ---- Sequential, ModuleList, ModuleDict --------------------------------------------------------------

namespace {

nn::Sequential<float> golden_architecture() {
  return nn::Sequential<float>(nn::Linear<float>(4, 6), nn::BatchNorm1d<float>(6), nn::ReLU<float>(),
                               nn::Dropout<float>(0.3), nn::LayerNorm<float>(6), nn::GELU<float>(),
                               nn::Linear<float>(6, 3));
}

}  // namespace

TEST_CASE("Sequential: state_dict keys equal PyTorch's for the same architecture") {
  // list(nn.Sequential(Linear(4, 6), BatchNorm1d(6), ReLU(), Dropout(0.3), LayerNorm(6), GELU(),
  //      Linear(6, 3)).state_dict().keys()) in PyTorch 1.13.1
  const std::vector<std::string> torch_keys{"0.weight",       "0.bias",         "1.weight",
                                            "1.bias",         "1.running_mean", "1.running_var",
                                            "1.num_batches_tracked", "4.weight", "4.bias",
                                            "6.weight",       "6.bias"};
  nn::Sequential<float> net = golden_architecture();
  CHECK(net.state_dict().keys() == torch_keys);
  std::vector<std::string> names;
  for (const auto& [name, p] : net.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias", "6.weight", "6.bias"});
  CHECK(net.size() == 7);
}

TEST_CASE("Sequential: a model loaded from PyTorch's state dict trains and evaluates as PyTorch (dropout included)") {
  const auto& g = golden();
  nn::Sequential<float> net = golden_architecture();
  nn::StateDict<float> dict;
  for (const auto& key : net.state_dict().keys()) dict.insert(key, g.tensor<float>("sequential/state/" + key));
  CHECK(net.load_state_dict(dict).ok());
  CHECK(net.at<nn::BatchNorm1d<float>>(1).num_batches_tracked.item() == 7.0f);
  const tg::Tensor<float> x = g.tensor<float>("sequential/train/x");
  tg::manual_seed(21);
  const tg::Tensor<float> y = net(x);
  CHECK(close(y, g.values("sequential/train/y"), {8, 3}, 1e-5, 1e-6));
  (y * g.tensor<float>("sequential/train/g")).sum().backward();
  for (const auto& [name, p] : net.named_parameters()) {
    INFO(name);
    // atol 1e-5: 0.bias feeds BatchNorm1d, which removes its mean, so its true gradient is 0 and both
    // libraries return rounding noise of ~1e-6.
    CHECK(close(p.grad(), g.values("sequential/train/grad/" + name), g.shape("sequential/train/grad/" + name), 1e-5, 1e-5));
  }
  const nn::StateDict<float> after = net.state_dict();
  for (const std::string key : {"1.running_mean", "1.running_var", "1.num_batches_tracked"}) {
    INFO(key);
    CHECK(close(after.at(key), g.values("sequential/train/after/" + key), g.shape("sequential/train/after/" + key), 1e-5, 1e-6));
  }
  net.eval();
  CHECK(close(net(x), g.values("sequential/eval/y"), {8, 3}, 1e-5, 1e-6));
}

TEST_CASE("Sequential: children share the pushed modules' parameters, typed access, copies, shared_ptr") {
  nn::Linear<float> fc(3, 2);
  nn::Sequential<float> net;
  net.push_back(fc);
  net.push_back(nn::Tanh<float>());
  net.push_back("head", nn::Linear<float>(2, 1));
  CHECK(net.at<nn::Linear<float>>(0).weight.is_same(fc.weight));
  CHECK(net.at<nn::Linear<float>>(-1).options.out_features() == 1);
  CHECK(net[1].name() == "Tanh");
  CHECK(net.ptr<nn::Linear<float>>(2) != nullptr);
  CHECK(net.state_dict().keys() == std::vector<std::string>{"0.weight", "0.bias", "head.weight", "head.bias"});
  const tg::Tensor<float> x = tg::randn<float>({4, 3});
  const tg::Tensor<float> y = net(x);
  const auto& head = net.at<nn::Linear<float>>(2);
  CHECK(y.equal(head(tg::tanh(fc(x)))));
  CHECK_THROWS_WITH(net.at<nn::Linear<float>>(1), "Sequential::at: module \"1\" is a Tanh, not a Linear");
  CHECK_THROWS_WITH(net[3], "Sequential: index 3 is out of range for 3 modules (valid range [-3, 2])");
  CHECK_THROWS_WITH(net.push_back("head", nn::ReLU<float>()), "Sequential::push_back: there is already a module named \"head\"");
  CHECK_THROWS_AS(net.push_back("a.b", nn::ReLU<float>()), tg::ValueError);
  CHECK(net.size() == 3);

  // A copy shares parameters but has its own train/eval flags.
  nn::Sequential<float> copy = net;
  CHECK(copy.at<nn::Linear<float>>(0).weight.is_same(fc.weight));
  copy.eval();
  CHECK_FALSE(copy[0].is_training());
  CHECK(net[0].is_training());

  // A shared_ptr is held as is: the very same module object.
  auto drop = std::make_shared<nn::Dropout<float>>(0.5);
  nn::Sequential<float> shared;
  shared.push_back(drop);
  CHECK(&shared[0] == drop.get());
  shared.eval();
  CHECK_FALSE(drop->is_training());
  // An empty Sequential is the identity.
  CHECK(nn::Sequential<float>()(x).is_same(x));
}

TEST_CASE("Sequential: load_state_dict round trip includes buffers, through a file too") {
  nn::Sequential<float> a(nn::Linear<float>(3, 4), nn::BatchNorm1d<float>(4), nn::ReLU<float>());
  a(tg::randn<float>({5, 3}));  // moves the running statistics away from 0 and 1
  nn::Sequential<float> b(nn::Linear<float>(3, 4), nn::BatchNorm1d<float>(4), nn::ReLU<float>());
  b.load_state_dict(a.state_dict());
  for (const auto& [key, value] : a.state_dict()) {
    INFO(key);
    CHECK(b.state_dict().at(key).equal(value));
  }
  const auto path = std::filesystem::temp_directory_path() / "tapegrad_layers_test_seq.safetensors";
  a.save(path);
  nn::Sequential<float> c(nn::Linear<float>(3, 4), nn::BatchNorm1d<float>(4), nn::ReLU<float>());
  c.load(path);
  std::filesystem::remove(path);
  CHECK(c.at<nn::BatchNorm1d<float>>(1).running_var.equal(a.at<nn::BatchNorm1d<float>>(1).running_var));
  CHECK(c.at<nn::BatchNorm1d<float>>(1).num_batches_tracked.item() == 1.0f);
  // A missing buffer is reported like a missing parameter.
  nn::StateDict<float> partial;
  for (const auto& [key, value] : a.state_dict())
    if (key != "1.running_var") partial.insert(key, value);
  CHECK_THROWS_WITH(b.load_state_dict(partial), tg_test::Contains("missing key \"1.running_var\""));
  CHECK(b.load_state_dict(partial, false).missing_keys == std::vector<std::string>{"1.running_var"});
}

TEST_CASE("Sequential: train() and eval() reach the children (Dropout and BatchNorm1d)") {
  nn::Sequential<float> net(nn::Linear<float>(3, 3), nn::Dropout<float>(0.5), nn::BatchNorm1d<float>(3));
  net.eval();
  CHECK_FALSE(net[1].is_training());
  CHECK_FALSE(net[2].is_training());
  const tg::Tensor<float> x = tg::randn<float>({4, 3});
  CHECK(net(x).equal(net(x)));  // deterministic in eval
  net.train();
  CHECK(net[1].is_training());
}

TEST_CASE("Sequential, ModuleList, ModuleDict: print as PyTorch") {
  nn::Sequential<float> inner{nn::Tanh<float>(), nn::Identity<float>()};
  nn::Sequential<float> net(nn::Linear<float>(4, 8), nn::ReLU<float>(), inner, nn::Dropout<float>(),
                            nn::LayerNorm<float>(8), nn::BatchNorm1d<float>(4), nn::GELU<float>(nn::GELUOptions().approximate("tanh")),
                            nn::Softmax<float>(1), nn::Flatten<float>());
  CHECK(repr(net) ==
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=8, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Tanh()\n"
        "    (1): Identity()\n"
        "  )\n"
        "  (3): Dropout(p=0.5, inplace=False)\n"
        "  (4): LayerNorm((8,), eps=1e-05, elementwise_affine=True)\n"
        "  (5): BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "  (6): GELU(approximate='tanh')\n"
        "  (7): Softmax(dim=1)\n"
        "  (8): Flatten(start_dim=1, end_dim=-1)\n"
        ")");
  CHECK(repr(nn::Sequential<float>()) == "Sequential()");
  nn::ModuleList<float> list(nn::ReLU<float>(), nn::ReLU<float>(), nn::Linear<float>(2, 3));
  CHECK(repr(list) ==
        "ModuleList(\n  (0): ReLU()\n  (1): ReLU()\n  (2): Linear(in_features=2, out_features=3, bias=True)\n)");
  CHECK(repr(nn::ModuleList<float>()) == "ModuleList()");
  nn::ModuleDict<float> dict;
  dict.insert("enc", nn::Sequential<float>(nn::Linear<float>(2, 2), nn::Tanh<float>()));
  dict.insert("head", nn::Linear<float>(2, 1));
  CHECK(repr(dict) ==
        "ModuleDict(\n  (enc): Sequential(\n    (0): Linear(in_features=2, out_features=2, bias=True)\n    (1): Tanh()\n  )\n"
        "  (head): Linear(in_features=2, out_features=1, bias=True)\n)");
}

TEST_CASE("ModuleList: names, iteration, typed access, state dict") {
  nn::ModuleList<float> layers;
  layers.push_back(nn::Linear<float>(2, 2));
  layers.push_back(nn::BatchNorm1d<float>(2));
  CHECK(layers.size() == 2);
  CHECK(layers.state_dict().keys() == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                                               "1.running_var", "1.num_batches_tracked"});
  std::vector<std::string> kinds;
  for (const auto& m : layers) kinds.push_back(m->name());
  CHECK(kinds == std::vector<std::string>{"Linear", "BatchNorm1d"});
  CHECK(layers.at<nn::BatchNorm1d<float>>(1).options.num_features() == 2);
  CHECK(layers[-2].name() == "Linear");
  CHECK_THROWS_AS(layers[2], tg::IndexError);
  CHECK_THROWS_AS(layers.at<nn::Linear<float>>(1), tg::ValueError);
}

TEST_CASE("ModuleDict: insertion order, keys as names, replacement in place") {
  nn::ModuleDict<float> heads;
  heads.insert("enc", nn::Sequential<float>(nn::Linear<float>(2, 2), nn::Tanh<float>()));
  heads.insert("head", nn::Linear<float>(2, 1));
  CHECK(heads.keys() == std::vector<std::string>{"enc", "head"});
  CHECK(heads.state_dict().keys() == std::vector<std::string>{"enc.0.weight", "enc.0.bias", "head.weight", "head.bias"});
  CHECK(heads.contains("head"));
  CHECK_FALSE(heads.contains("tail"));
  heads.insert("enc", nn::Linear<float>(2, 5));
  CHECK(heads.keys() == std::vector<std::string>{"enc", "head"});
  CHECK(heads.at<nn::Linear<float>>("enc").options.out_features() == 5);
  CHECK(heads["head"].name() == "Linear");
  CHECK_THROWS_WITH(heads["tail"], "ModuleDict: no module under key \"tail\"");
  CHECK_THROWS_AS(heads.insert("", nn::ReLU<float>()), tg::ValueError);
  std::vector<std::string> keys;
  for (const auto& [key, m] : heads.items()) keys.push_back(key + ":" + m->name());
  CHECK(keys == std::vector<std::string>{"enc:Linear", "head:Linear"});
}

TEST_CASE("Module buffers: user modules register them in visit, excluded from parameters") {
  struct Scaler : nn::Module<float> {
    nn::Parameter<float> scale{"Scaler.scale", tg::ones<float>({2})};
    nn::Buffer<float> count{tg::zeros<float>({})};
    void visit(nn::Visitor<float>& v) override {
      v("scale", scale);
      v("count", count);
    }
  };
  Scaler s;
  CHECK(s.parameters().size() == 1);
  CHECK(s.state_dict().keys() == std::vector<std::string>{"scale", "count"});
  CHECK_FALSE(s.count.requires_grad());
  nn::StateDict<float> dict;
  dict.insert("scale", tg::full<float>({2}, 3.0f));
  dict.insert("count", tg::full<float>({}, 5.0f));
  s.load_state_dict(dict);
  CHECK(s.count.item() == 5.0f);
  Scaler copy = s;  // copies share buffers, as they share parameters
  CHECK(copy.count.is_same(s.count));
}

}  // namespace layers_test
