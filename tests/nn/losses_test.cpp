// SPDX-License-Identifier: MIT
// The losses and distance functions of issue 12 and their modules: PyTorch values and gradients
// (tests/reference/golden_losses.py), finite differences, options, printing and errors.
#include <cmath>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ops/ops_test.hpp"

namespace losses_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
using ops_test::grad_ok;
using ops_test::Inputs;
using ops_test::leaf;
using ops_test::leaf_in;
using tg::Reduction;
using tg_test::close;
using tg_test::Contains;

namespace {

const tg_test::Golden& gold() {
  static const tg_test::Golden g("losses");
  return g;
}

template <class T>
using Tensors = std::vector<tg::Tensor<T>>;
template <class T>
using LossFn = std::function<tg::Tensor<T>(const Tensors<T>&, Reduction)>;

using Reductions = std::vector<std::pair<std::string, Reduction>>;
const Reductions kAll = {{"none", Reduction::None}, {"mean", Reduction::Mean}, {"sum", Reduction::Sum}};
const Reductions kUnreduced = {{"", Reduction::None}};  // normalize, pairwise_distance: no reduction

/// Checks one case of golden_losses.py for every reduction: the output, and the gradient of every
/// input PyTorch recorded one for, after backpropagating the recorded gradient (1 when reduced).
template <class T>
void check_case(const std::string& name, int inputs, const LossFn<T>& f, const Reductions& reductions = kAll,
                double rtol = 1e-5, double atol = 1e-6) {
  const auto& g = gold();
  for (const auto& [rname, reduction] : reductions) {
    const std::string key = rname.empty() ? name : name + "/" + rname;
    INFO(key);
    Tensors<T> in;
    for (int i = 0; i < inputs; ++i)
      in.push_back(g.tensor<T>(name + "/in" + std::to_string(i), g.has(key + "/grad" + std::to_string(i))));
    const tg::Tensor<T> out = f(in, reduction);
    CHECK(close(out, g.tensor<double>(key + "/out"), rtol, atol));
    if (!out.requires_grad()) continue;
    out.backward(g.has(key + "/g") ? g.tensor<T>(key + "/g") : tg::ones<T>({}));
    for (int i = 0; i < inputs; ++i) {
      const std::string grad_key = key + "/grad" + std::to_string(i);
      if (!g.has(grad_key)) continue;
      INFO("gradient of input " << i);
      CHECK(close(in[static_cast<std::size_t>(i)].grad(), g.tensor<double>(grad_key), rtol, atol));
    }
  }
}

/// check_case for float32 ("<case>") and, where recorded, float64 ("<case>_f64").
template <class Make>
void check_both(const std::string& name, int inputs, Make make) {
  check_case<float>(name, inputs, make(float()));
  if (gold().has(name + "_f64/in0")) check_case<double>(name + "_f64", inputs, make(double()), kAll, 1e-12, 1e-12);
}

}  // namespace

// ---- element-wise regression losses ---------------------------------------------------------------------

TEST_CASE("l1_loss, mse_loss, smooth_l1_loss, huber_loss: values and both gradients against PyTorch") {
  check_both("l1_loss/basic", 2, [](auto t) {
    using T = decltype(t);
    return LossFn<T>([](const Tensors<T>& v, Reduction r) { return tg::l1_loss(v[0], v[1], tg::L1LossOptions().reduction(r)); });
  });
  check_both("mse_loss/basic", 2, [](auto t) {
    using T = decltype(t);
    return LossFn<T>([](const Tensors<T>& v, Reduction r) { return tg::mse_loss(v[0], v[1], tg::MSELossOptions().reduction(r)); });
  });
  check_both("smooth_l1_loss/basic", 2, [](auto t) {
    using T = decltype(t);
    return LossFn<T>([](const Tensors<T>& v, Reduction r) {
      return tg::smooth_l1_loss(v[0], v[1], tg::SmoothL1LossOptions().reduction(r));
    });
  });
  check_both("huber_loss/basic", 2, [](auto t) {
    using T = decltype(t);
    return LossFn<T>([](const Tensors<T>& v, Reduction r) { return tg::huber_loss(v[0], v[1], tg::HuberLossOptions().reduction(r)); });
  });
}

TEST_CASE("smooth_l1_loss and huber_loss: beta and delta, including beta = 0 and the switch points |d| == beta") {
  for (const std::string beta : {"0.5", "0.0", "3.0"})
    check_case<float>("smooth_l1_loss/beta" + beta, 2, [beta](const Tensors<float>& v, Reduction r) {
      return tg::smooth_l1_loss(v[0], v[1], tg::SmoothL1LossOptions().beta(std::stod(beta)).reduction(r));
    });
  for (const std::string delta : {"0.5", "2.0"})
    check_case<float>("huber_loss/delta" + delta, 2, [delta](const Tensors<float>& v, Reduction r) {
      return tg::huber_loss(v[0], v[1], tg::HuberLossOptions().delta(std::stod(delta)).reduction(r));
    });
  check_case<float>("l1_loss/kinks", 2, [](const Tensors<float>& v, Reduction r) {
    return tg::l1_loss(v[0], v[1], tg::L1LossOptions().reduction(r));
  });
  check_case<float>("smooth_l1_loss/kinks", 2, [](const Tensors<float>& v, Reduction r) {
    return tg::smooth_l1_loss(v[0], v[1], tg::SmoothL1LossOptions().reduction(r));
  });
  check_case<float>("smooth_l1_loss/kinks_beta0", 2, [](const Tensors<float>& v, Reduction r) {
    return tg::smooth_l1_loss(v[0], v[1], tg::SmoothL1LossOptions().beta(0).reduction(r));
  });
  check_case<float>("huber_loss/kinks", 2, [](const Tensors<float>& v, Reduction r) {
    return tg::huber_loss(v[0], v[1], tg::HuberLossOptions().reduction(r));
  });
  check_case<float>("huber_loss/kinks_delta0.5", 2, [](const Tensors<float>& v, Reduction r) {
    return tg::huber_loss(v[0], v[1], tg::HuberLossOptions().delta(0.5).reduction(r));
  });
}

TEST_CASE("l1_loss, smooth_l1_loss, huber_loss: gradients (finite differences) for input and target") {
  const auto x = leaf({3, 4}, 1), t = leaf({3, 4}, 2);
  for (const auto& [rname, r] : kAll) {
    INFO(rname);
    const Reduction red = r;
    CHECK(grad_ok([red](const Inputs& v) { return tg::l1_loss(v[0], v[1], tg::L1LossOptions().reduction(red)); }, {x, t}));
    for (double beta : {0.5, 1.0, 2.5})
      CHECK(grad_ok([red, beta](const Inputs& v) {
        return tg::smooth_l1_loss(v[0], v[1], tg::SmoothL1LossOptions().beta(beta).reduction(red));
      }, {x, t}));
    for (double delta : {0.3, 1.0, 2.0})
      CHECK(grad_ok([red, delta](const Inputs& v) {
        return tg::huber_loss(v[0], v[1], tg::HuberLossOptions().delta(delta).reduction(red));
      }, {x, t}));
  }
}

TEST_CASE("smooth_l1_loss, huber_loss: hand-computed values, huber is delta times smooth_l1 with beta = delta") {
  const auto x = tg::tensor<double>({-3, -0.5, 0, 0.25, 2}, {5}), t = tg::zeros<double>({5});
  const auto none = [](auto o) { return o.reduction(Reduction::None); };
  CHECK(close(tg::smooth_l1_loss(x, t, none(tg::SmoothL1LossOptions())), {2.5, 0.125, 0, 0.03125, 1.5}, 1e-15));
  CHECK(close(tg::huber_loss(x, t, none(tg::HuberLossOptions().delta(2))), {4, 0.125, 0, 0.03125, 2}, 1e-15));
  CHECK(close(tg::huber_loss(x, t, none(tg::HuberLossOptions().delta(2))),
              (tg::smooth_l1_loss(x, t, none(tg::SmoothL1LossOptions().beta(2))) * 2.0).to_vector(), 1e-15));
  CHECK(close(tg::l1_loss(x, t), {5.75 / 5}, tg::Shape{}, 1e-15));
}

TEST_CASE("l1_loss, smooth_l1_loss, huber_loss: empty inputs give an empty loss, NaN mean and 0 sum (as PyTorch)") {
  const auto e = tg::zeros<float>({0, 3});
  CHECK(tg::l1_loss(e, e, tg::L1LossOptions().reduction(Reduction::None)).shape() == tg::Shape{0, 3});
  CHECK(std::isnan(tg::smooth_l1_loss(e, e).item()));
  CHECK(tg::huber_loss(e, e, tg::HuberLossOptions().reduction(Reduction::Sum)).item() == 0.0f);
}

TEST_CASE("l1_loss, smooth_l1_loss, huber_loss: shape mismatches and invalid beta and delta are refused with the values") {
  const auto a = tg::zeros<float>({4}), b = tg::zeros<float>({4, 1});
  CHECK_THROWS_AS(tg::l1_loss(a, b), tg::ShapeError);
  CHECK_THROWS_WITH(tg::l1_loss(a, b), Contains("l1_loss: input of shape [4] and target of shape [4, 1] differ"));
  CHECK_THROWS_WITH(tg::smooth_l1_loss(a, b), Contains("smooth_l1_loss: input of shape [4] and target of shape [4, 1]"));
  CHECK_THROWS_WITH(tg::huber_loss(a, b), Contains("huber_loss: input of shape [4] and target of shape [4, 1]"));
  CHECK_THROWS_AS(tg::smooth_l1_loss(a, a, tg::SmoothL1LossOptions().beta(-0.5)), tg::ValueError);
  CHECK_THROWS_WITH(tg::smooth_l1_loss(a, a, tg::SmoothL1LossOptions().beta(-0.5)),
                    Contains("smooth_l1_loss: beta = -0.5 is invalid; beta must be >= 0"));
  CHECK_THROWS_WITH(tg::huber_loss(a, a, tg::HuberLossOptions().delta(0)),
                    Contains("huber_loss: delta = 0 is invalid; delta must be > 0"));
  CHECK_THROWS_AS(tg::huber_loss(a, a, tg::HuberLossOptions().delta(std::nan(""))), tg::ValueError);
}

// ---- binary_cross_entropy ---------------------------------------------------------------------------------

TEST_CASE("binary_cross_entropy: values and gradients against PyTorch, soft and hard targets, weights") {
  check_both("binary_cross_entropy/soft", 2, [](auto t) {
    using T = decltype(t);
    return LossFn<T>([](const Tensors<T>& v, Reduction r) {
      return tg::binary_cross_entropy(v[0], v[1], tg::BCELossOptions<T>().reduction(r));
    });
  });
  check_case<float>("binary_cross_entropy/hard", 2, [](const Tensors<float>& v, Reduction r) {
    return tg::binary_cross_entropy(v[0], v[1], tg::BCELossOptions().reduction(r));
  });
  for (const std::string w : {"weight_c", "weight_full"}) {
    const auto weight = gold().tensor<float>("binary_cross_entropy/" + w + "/weight");
    check_case<float>("binary_cross_entropy/" + w, 2, [weight](const Tensors<float>& v, Reduction r) {
      return tg::binary_cross_entropy(v[0], v[1], tg::BCELossOptions().weight(weight).reduction(r));
    });
  }
}

TEST_CASE("binary_cross_entropy: probabilities 0 and 1 clamp the logs at -100 and the gradient at 1/1e-12") {
  check_case<float>("binary_cross_entropy/edges", 2, [](const Tensors<float>& v, Reduction r) {
    return tg::binary_cross_entropy(v[0], v[1], tg::BCELossOptions().reduction(r));
  });
}

TEST_CASE("binary_cross_entropy: gradients (finite differences) for input and target, with a weight") {
  const auto p = leaf_in({3, 4}, 0.05, 0.95, 3), t = leaf_in({3, 4}, 0, 1, 4);
  const auto weight = tg::tensor<double>({0.5, 1, 2, 3}, {4});
  for (const auto& [rname, r] : kAll) {
    INFO(rname);
    const Reduction red = r;
    CHECK(grad_ok([red, weight](const Inputs& v) {
      return tg::binary_cross_entropy(v[0], v[1], tg::BCELossOptions<double>().weight(weight).reduction(red));
    }, {p, t}));
  }
}

TEST_CASE("binary_cross_entropy: input or target outside [0, 1] (or NaN) is refused naming the element") {
  const auto ok = tg::full<float>({2, 2}, 0.5f);
  const auto bad = tg::tensor<float>({0.5f, 0.25f, 1.5f, 0}, {2, 2});
  CHECK_THROWS_AS(tg::binary_cross_entropy(bad, ok), tg::ValueError);
  CHECK_THROWS_WITH(tg::binary_cross_entropy(bad, ok),
                    Contains("binary_cross_entropy: input 1.5 at position [1, 0] is outside [0, 1]"));
  CHECK_THROWS_WITH(tg::binary_cross_entropy(ok, bad),
                    Contains("binary_cross_entropy: target 1.5 at position [1, 0] is outside [0, 1]"));
  CHECK_THROWS_WITH(tg::binary_cross_entropy(tg::tensor<float>({NAN}, {1}), tg::tensor<float>({0}, {1})),
                    Contains("input nan at position 0"));
  CHECK_THROWS_WITH(tg::binary_cross_entropy(ok, tg::zeros<float>({4})),
                    Contains("binary_cross_entropy: input of shape [2, 2] and target of shape [4] differ"));
  CHECK_THROWS_WITH(tg::binary_cross_entropy(ok, ok, tg::BCELossOptions().weight(tg::ones<float>({3}))),
                    Contains("binary_cross_entropy: weight of shape [3] does not broadcast to the input shape [2, 2]"));
}

// ---- binary_cross_entropy_with_logits ---------------------------------------------------------------------

TEST_CASE("binary_cross_entropy_with_logits: values and gradients against PyTorch, pos_weight and weight broadcast") {
  check_both("bce_with_logits/basic", 2, [](auto t) {
    using T = decltype(t);
    return LossFn<T>([](const Tensors<T>& v, Reduction r) {
      return tg::binary_cross_entropy_with_logits(v[0], v[1], tg::BCEWithLogitsLossOptions<T>().reduction(r));
    });
  });
  check_both("bce_with_logits/pos_weight", 2, [](auto t) {
    using T = decltype(t);
    const bool f64 = std::is_same_v<T, double>;
    const auto pw = gold().tensor<T>(std::string("bce_with_logits/pos_weight") + (f64 ? "_f64" : "") + "/pos_weight");
    return LossFn<T>([pw](const Tensors<T>& v, Reduction r) {
      return tg::binary_cross_entropy_with_logits(v[0], v[1], tg::BCEWithLogitsLossOptions<T>().pos_weight(pw).reduction(r));
    });
  });
  const auto pw = gold().tensor<float>("bce_with_logits/3d/pos_weight"), w = gold().tensor<float>("bce_with_logits/3d/weight");
  check_case<float>("bce_with_logits/3d_pos_weight", 2, [pw](const Tensors<float>& v, Reduction r) {
    return tg::binary_cross_entropy_with_logits(v[0], v[1], tg::BCEWithLogitsLossOptions().pos_weight(pw).reduction(r));
  });
  check_case<float>("bce_with_logits/3d_weight", 2, [w](const Tensors<float>& v, Reduction r) {
    return tg::binary_cross_entropy_with_logits(v[0], v[1], tg::BCEWithLogitsLossOptions().weight(w).reduction(r));
  });
  check_case<float>("bce_with_logits/3d_both", 2, [pw, w](const Tensors<float>& v, Reduction r) {
    return tg::binary_cross_entropy_with_logits(v[0], v[1],
                                                tg::BCEWithLogitsLossOptions().weight(w).pos_weight(pw).reduction(r));
  });
}

TEST_CASE("binary_cross_entropy_with_logits: logits of +-100 stay finite and match PyTorch") {
  check_case<float>("bce_with_logits/extreme", 2, [](const Tensors<float>& v, Reduction r) {
    return tg::binary_cross_entropy_with_logits(v[0], v[1], tg::BCEWithLogitsLossOptions().reduction(r));
  });
  check_case<float>("bce_with_logits/extreme_pos_weight", 2, [](const Tensors<float>& v, Reduction r) {
    return tg::binary_cross_entropy_with_logits(
        v[0], v[1], tg::BCEWithLogitsLossOptions().pos_weight(tg::tensor<float>({3}, {1})).reduction(r));
  });
  check_case<double>("bce_with_logits/extreme_f64", 2, [](const Tensors<double>& v, Reduction r) {
    return tg::binary_cross_entropy_with_logits(v[0], v[1], tg::BCEWithLogitsLossOptions<double>().reduction(r));
  }, kAll, 1e-12, 1e-12);
  // and it equals binary_cross_entropy(sigmoid(x)) where the latter is accurate
  const auto x = tg::tensor<double>({-2, 0.5, 3}, {3}), t = tg::tensor<double>({0.25, 1, 0}, {3});
  CHECK(close(tg::binary_cross_entropy_with_logits(x, t), tg::binary_cross_entropy(tg::sigmoid(x), t).to_vector(),
              tg::Shape{}, 1e-12));
}

TEST_CASE("binary_cross_entropy_with_logits: gradients (finite differences) for input and target") {
  const auto x = leaf({2, 3, 4}, 5), t = leaf_in({2, 3, 4}, 0, 1, 6);
  const auto pw = tg::tensor<double>({2, 0.5, 1, 4}, {4}), w = tg::tensor<double>({1, 0.5, 3}, {3, 1});
  for (const auto& [rname, r] : kAll) {
    INFO(rname);
    const Reduction red = r;
    CHECK(grad_ok([red](const Inputs& v) {
      return tg::binary_cross_entropy_with_logits(v[0], v[1], tg::BCEWithLogitsLossOptions<double>().reduction(red));
    }, {x, t}));
    CHECK(grad_ok([red, pw, w](const Inputs& v) {
      return tg::binary_cross_entropy_with_logits(v[0], v[1],
                                                  tg::BCEWithLogitsLossOptions<double>().pos_weight(pw).weight(w).reduction(red));
    }, {x, t}));
  }
}

TEST_CASE("binary_cross_entropy_with_logits: shape errors name both shapes, float options serve double inputs") {
  const auto x = tg::zeros<float>({2, 3});
  CHECK_THROWS_AS(tg::binary_cross_entropy_with_logits(x, tg::zeros<float>({3})), tg::ShapeError);
  CHECK_THROWS_WITH(tg::binary_cross_entropy_with_logits(x, tg::zeros<float>({3})),
                    Contains("binary_cross_entropy_with_logits: input of shape [2, 3] and target of shape [3] differ"));
  CHECK_THROWS_WITH(tg::binary_cross_entropy_with_logits(x, x, tg::BCEWithLogitsLossOptions().pos_weight(tg::ones<float>({2}))),
                    Contains("pos_weight of shape [2] does not broadcast to the input shape [2, 3]"));
  const auto empty = tg::zeros<float>({0, 3});
  CHECK(std::isnan(tg::binary_cross_entropy_with_logits(empty, empty).item()));
  CHECK(tg::binary_cross_entropy(empty, empty, tg::BCELossOptions().reduction(Reduction::Sum)).item() == 0.0f);
  const auto o = tg::BCEWithLogitsLossOptions().pos_weight(tg::tensor<float>({3}, {1})).reduction(Reduction::Sum);
  const auto xd = tg::tensor<double>({0.0}, {1}), td = tg::tensor<double>({1.0}, {1});
  CHECK(close(tg::binary_cross_entropy_with_logits(xd, td, o), {3 * std::log(2.0)}, tg::Shape{}, 1e-12));
}

// ---- cross_entropy with label_smoothing -------------------------------------------------------------------

TEST_CASE("cross_entropy: label_smoothing against PyTorch, with weight, ignore_index, 1-d and 3-d inputs") {
  const auto& g = gold();
  const auto t2 = g.tensor<std::int64_t>("cross_entropy/t2"), t2_ign0 = g.tensor<std::int64_t>("cross_entropy/t2_ign0"),
             t3 = g.tensor<std::int64_t>("cross_entropy/t3");
  const auto w4 = g.tensor<float>("cross_entropy/w4");
  for (const std::string ls : {"0.1", "0.3", "1.0"})
    check_case<float>("cross_entropy/ls" + ls, 1, [t2, ls](const Tensors<float>& v, Reduction r) {
      return tg::cross_entropy(v[0], t2, tg::CrossEntropyOptions().label_smoothing(std::stod(ls)).reduction(r));
    });
  check_case<float>("cross_entropy/ls0.2_weight", 1, [t2, w4](const Tensors<float>& v, Reduction r) {
    return tg::cross_entropy(v[0], t2, tg::CrossEntropyOptions().weight(w4).label_smoothing(0.2).reduction(r));
  });
  check_case<float>("cross_entropy/ls0.2_weight_ign0", 1, [t2_ign0, w4](const Tensors<float>& v, Reduction r) {
    return tg::cross_entropy(v[0], t2_ign0,
                             tg::CrossEntropyOptions().weight(w4).ignore_index(0).label_smoothing(0.2).reduction(r));
  });
  check_case<float>("cross_entropy/ls0.2_3d_weight", 1, [t3, w4](const Tensors<float>& v, Reduction r) {
    return tg::cross_entropy(v[0], t3, tg::CrossEntropyOptions().weight(w4).label_smoothing(0.2).reduction(r));
  });
  check_case<float>("cross_entropy/ls0.2_1d", 1, [](const Tensors<float>& v, Reduction r) {
    return tg::cross_entropy(v[0], tg::scalar_tensor<std::int64_t>(2), tg::CrossEntropyOptions().label_smoothing(0.2).reduction(r));
  });
  check_case<double>("cross_entropy/ls0.2_f64", 1, [t2, w4](const Tensors<double>& v, Reduction r) {
    return tg::cross_entropy(v[0], t2, tg::CrossEntropyOptions().weight(w4).label_smoothing(0.2).reduction(r));
  }, kAll, 1e-12, 1e-12);
}

TEST_CASE("cross_entropy: label_smoothing gradients (finite differences), int32 targets, and its range check") {
  const auto x = leaf({4, 3, 2}, 7);
  const auto t = tg::tensor<std::int32_t>({0, 2, 1, -100, 2, 2, 0, 1}, {4, 2});
  const auto w = tg::tensor<double>({0.5, 2, 1}, {3});
  for (const auto& [rname, r] : kAll) {
    INFO(rname);
    const Reduction red = r;
    CHECK(grad_ok([t, red](const Inputs& v) {
      return tg::cross_entropy(v[0], t, tg::CrossEntropyOptions<double>().label_smoothing(0.3).reduction(red));
    }, {x}));
    CHECK(grad_ok([t, w, red](const Inputs& v) {
      return tg::cross_entropy(v[0], t, tg::CrossEntropyOptions<double>().weight(w).label_smoothing(0.3).reduction(red));
    }, {x}));
  }
  // label_smoothing = 0 is the plain loss; the option survives conversion to double
  const auto o = tg::CrossEntropyOptions().label_smoothing(0.25);
  CHECK(tg::CrossEntropyOptions<double>(o).label_smoothing() == 0.25);
  CHECK(tg::CrossEntropyOptions().label_smoothing() == 0.0);
  const auto x2 = tg::tensor<float>({1, 2, 3}, {1, 3});
  const auto t0 = tg::tensor<std::int64_t>({0}, {1});
  CHECK_THROWS_AS(tg::cross_entropy(x2, t0, tg::CrossEntropyOptions().label_smoothing(1.5)), tg::ValueError);
  CHECK_THROWS_WITH(tg::cross_entropy(x2, t0, tg::CrossEntropyOptions().label_smoothing(-0.1)),
                    Contains("cross_entropy: label_smoothing = -0.1 is out of range; it must be between 0.0 and 1.0"));
  // every target ignored: the smoothed mean is NaN, as nll_loss's (and PyTorch's)
  CHECK(std::isnan(tg::cross_entropy(x2, tg::tensor<std::int64_t>({-100}, {1}), tg::CrossEntropyOptions().label_smoothing(0.1)).item()));
}

// ---- margin losses ------------------------------------------------------------------------------------------

TEST_CASE("cosine_embedding_loss: values and gradients against PyTorch for y = +-1 (and 0), margins, 1-d inputs") {
  for (const std::string m : {"0.0", "0.5", "-0.5"})
    check_case<float>("cosine_embedding_loss/margin" + m, 3, [m](const Tensors<float>& v, Reduction r) {
      return tg::cosine_embedding_loss(v[0], v[1], v[2], tg::CosineEmbeddingLossOptions().margin(std::stod(m)).reduction(r));
    });
  check_case<float>("cosine_embedding_loss/1d", 3, [](const Tensors<float>& v, Reduction r) {
    return tg::cosine_embedding_loss(v[0], v[1], v[2], tg::CosineEmbeddingLossOptions().reduction(r));
  });
  check_case<double>("cosine_embedding_loss/f64", 3, [](const Tensors<double>& v, Reduction r) {
    return tg::cosine_embedding_loss(v[0], v[1], v[2], tg::CosineEmbeddingLossOptions().margin(0.2).reduction(r));
  }, kAll, 1e-12, 1e-12);
}

TEST_CASE("margin_ranking_loss: values and gradients against PyTorch, margins, broadcasting") {
  for (const std::string m : {"0.0", "0.5"})
    check_case<float>("margin_ranking_loss/margin" + m, 3, [m](const Tensors<float>& v, Reduction r) {
      return tg::margin_ranking_loss(v[0], v[1], v[2], tg::MarginRankingLossOptions().margin(std::stod(m)).reduction(r));
    });
  check_case<float>("margin_ranking_loss/broadcast", 3, [](const Tensors<float>& v, Reduction r) {
    return tg::margin_ranking_loss(v[0], v[1], v[2], tg::MarginRankingLossOptions().margin(0.3).reduction(r));
  });
  check_case<double>("margin_ranking_loss/f64", 3, [](const Tensors<double>& v, Reduction r) {
    return tg::margin_ranking_loss(v[0], v[1], v[2], tg::MarginRankingLossOptions().margin(0.5).reduction(r));
  }, kAll, 1e-12, 1e-12);
}

TEST_CASE("triplet_margin_loss: values and gradients against PyTorch, margin, p, eps, swap") {
  const std::vector<std::pair<std::string, tg::TripletMarginLossOptions>> cases = {
      {"default", tg::TripletMarginLossOptions()},
      {"margin2", tg::TripletMarginLossOptions().margin(2.0)},
      {"p1", tg::TripletMarginLossOptions().p(1)},
      {"swap", tg::TripletMarginLossOptions().swap(true)},
      {"swap_p3_eps", tg::TripletMarginLossOptions().swap(true).p(3).eps(1e-3)},
      {"1d", tg::TripletMarginLossOptions()}};
  for (const auto& [name, options] : cases) {
    const tg::TripletMarginLossOptions o = options;
    check_case<float>("triplet_margin_loss/" + name, 3, [o](const Tensors<float>& v, Reduction r) {
      return tg::triplet_margin_loss(v[0], v[1], v[2], tg::TripletMarginLossOptions(o).reduction(r));
    });
  }
  check_case<double>("triplet_margin_loss/f64_swap", 3, [](const Tensors<double>& v, Reduction r) {
    return tg::triplet_margin_loss(v[0], v[1], v[2], tg::TripletMarginLossOptions().swap(true).reduction(r));
  }, kAll, 1e-12, 1e-12);
}

TEST_CASE("cosine_embedding_loss, margin_ranking_loss, triplet_margin_loss: gradients (finite differences)") {
  const auto a = leaf({5, 4}, 8), b = leaf({5, 4}, 9), c = leaf({5, 4}, 10);
  const auto y = tg::tensor<double>({1, -1, -1, 1, -1}, {5});
  const auto u = leaf({6}, 11), v6 = leaf({6}, 12);
  const auto y6 = tg::tensor<double>({1, -1, 1, -1, -1, 1}, {6});
  for (const auto& [rname, r] : kAll) {
    INFO(rname);
    const Reduction red = r;
    CHECK(grad_ok([y, red](const Inputs& v) {
      return tg::cosine_embedding_loss(v[0], v[1], y, tg::CosineEmbeddingLossOptions().margin(-0.9).reduction(red));
    }, {a, b}));
    CHECK(grad_ok([y6, red](const Inputs& v) {
      return tg::margin_ranking_loss(v[0], v[1], y6, tg::MarginRankingLossOptions().margin(3).reduction(red));
    }, {u, v6}));
    for (bool swap : {false, true})
      CHECK(grad_ok([red, swap](const Inputs& v) {
        return tg::triplet_margin_loss(v[0], v[1], v[2], tg::TripletMarginLossOptions().margin(5).swap(swap).reduction(red));
      }, {a, b, c}));
  }
}

TEST_CASE("cosine_embedding_loss, margin_ranking_loss, triplet_margin_loss: shape errors name the shapes") {
  const auto m = tg::zeros<float>({3, 4});
  CHECK_THROWS_AS(tg::cosine_embedding_loss(m, tg::zeros<float>({3, 5}), tg::ones<float>({3})), tg::ShapeError);
  CHECK_THROWS_WITH(tg::cosine_embedding_loss(m, tg::zeros<float>({3, 5}), tg::ones<float>({3})),
                    Contains("cosine_embedding_loss: x1 of shape [3, 4] and x2 of shape [3, 5] differ"));
  CHECK_THROWS_WITH(tg::cosine_embedding_loss(m, m, tg::ones<float>({4})),
                    Contains("cosine_embedding_loss: inputs of shape [3, 4] and target of shape [4] do not fit"));
  CHECK_THROWS_WITH(tg::cosine_embedding_loss(tg::zeros<float>({2, 3, 4}), tg::zeros<float>({2, 3, 4}), tg::ones<float>({2})),
                    Contains("expected inputs [N, D] with target [N]"));
  CHECK_THROWS_AS(tg::margin_ranking_loss(tg::zeros<float>({3}), tg::zeros<float>({3}), tg::ones<float>({1, 3})),
                  tg::ShapeError);
  CHECK_THROWS_WITH(tg::margin_ranking_loss(tg::zeros<float>({3}), tg::zeros<float>({3}), tg::ones<float>({1, 3})),
                    Contains("margin_ranking_loss: x1, x2 and target must have the same number of dims, got shapes [3], [3] and [1, 3]"));
  CHECK_THROWS_WITH(tg::margin_ranking_loss(tg::zeros<float>({3}), tg::zeros<float>({4}), tg::ones<float>({3})),
                    Contains("margin_ranking_loss: shapes [3] and [4] cannot be broadcast"));
  CHECK_THROWS_WITH(tg::triplet_margin_loss(m, m, tg::zeros<float>({4})),
                    Contains("triplet_margin_loss: anchor, positive and negative must have the same number of dims, got shapes "
                             "[3, 4], [3, 4] and [4]"));
  CHECK_THROWS_AS(tg::triplet_margin_loss(m, m, tg::Tensor<float>()), tg::ValueError);
}

// ---- normalize, pairwise_distance, and the functional namespace ----------------------------------------------

TEST_CASE("normalize: values and gradients against PyTorch (p, dim, eps, a zero row)") {
  check_case<float>("normalize/default", 1, [](const Tensors<float>& v, Reduction) { return tg::normalize(v[0]); }, kUnreduced);
  check_case<float>("normalize/p1_dim0", 1, [](const Tensors<float>& v, Reduction) { return tg::normalize(v[0], 1.0, 0); },
                    kUnreduced);
  check_case<float>("normalize/dimm1_eps", 1,
                    [](const Tensors<float>& v, Reduction) { return tg::normalize(v[0], 2.0, -1, 0.5); }, kUnreduced);
  check_case<double>("normalize/f64_3d", 1, [](const Tensors<double>& v, Reduction) { return tg::normalize(v[0], 3.0, 1); },
                     kUnreduced, 1e-12, 1e-12);
  const auto x = leaf({3, 4}, 13);
  CHECK(grad_ok([](const Inputs& v) { return tg::normalize(v[0]); }, {x}));
  CHECK(grad_ok([](const Inputs& v) { return tg::normalize(v[0], 1.5, 0); }, {x}));
  CHECK_THROWS_AS(tg::normalize(x, 2.0, 2), tg::IndexError);
  CHECK_THROWS_WITH(tg::normalize(x, 2.0, 2), Contains("normalize: dim 2 is out of range for a tensor with 2 dimensions"));
}

TEST_CASE("pairwise_distance: values and gradients against PyTorch (p, keepdim, broadcasting, equal rows)") {
  check_case<float>("pairwise_distance/default", 2,
                    [](const Tensors<float>& v, Reduction) { return tg::pairwise_distance(v[0], v[1]); }, kUnreduced);
  check_case<float>("pairwise_distance/p1_keepdim", 2,
                    [](const Tensors<float>& v, Reduction) { return tg::pairwise_distance(v[0], v[1], 1.0, 1e-6, true); },
                    kUnreduced);
  check_case<float>("pairwise_distance/broadcast", 2,
                    [](const Tensors<float>& v, Reduction) { return tg::pairwise_distance(v[0], v[1], 2.0, 1e-3); },
                    kUnreduced);
  check_case<double>("pairwise_distance/f64_p3", 2,
                     [](const Tensors<double>& v, Reduction) { return tg::pairwise_distance(v[0], v[1], 3.0); }, kUnreduced,
                     1e-12, 1e-12);
  const auto a = leaf({4, 3}, 14), b = leaf({3}, 15);
  CHECK(grad_ok([](const Inputs& v) { return tg::pairwise_distance(v[0], v[1]); }, {a, b}));
  CHECK(grad_ok([](const Inputs& v) { return tg::pairwise_distance(v[0], v[1], 1.5, 1e-6, true); }, {a, b}));
  CHECK_THROWS_AS(tg::pairwise_distance(a, leaf({2}, 1)), tg::ShapeError);
  CHECK_THROWS_WITH(tg::pairwise_distance(a, leaf({2}, 1)), Contains("pairwise_distance: shapes [4, 3] and [2]"));
}

// ---- modules ------------------------------------------------------------------------------------------------

TEST_CASE("loss modules: print as PyTorch, have no parameters, and forward to the functions") {
  namespace nn = tapegrad::nn;
  const auto pw = tg::tensor<float>({2, 1, 0.5}, {3});
  nn::BCEWithLogitsLoss bce_logits{tg::BCEWithLogitsLossOptions().pos_weight(pw)};
  nn::BCELoss bce;
  nn::MSELoss mse;
  nn::L1Loss l1;
  nn::SmoothL1Loss smooth(tg::SmoothL1LossOptions().beta(0.5));
  nn::HuberLoss huber(tg::HuberLossOptions().delta(2));
  nn::NLLLoss nll;
  nn::CrossEntropyLoss ce{tg::CrossEntropyOptions().label_smoothing(0.1)};
  nn::CosineEmbeddingLoss cos_emb(tg::CosineEmbeddingLossOptions().margin(0.5));
  nn::MarginRankingLoss ranking(tg::MarginRankingLossOptions().margin(1));
  nn::TripletMarginLoss triplet(tg::TripletMarginLossOptions().margin(2.0).swap(true));
  CHECK(nn::to_string(bce_logits) == "BCEWithLogitsLoss()");
  CHECK(nn::to_string(bce) == "BCELoss()");
  CHECK(nn::to_string(mse) == "MSELoss()");
  CHECK(nn::to_string(l1) == "L1Loss()");
  CHECK(nn::to_string(smooth) == "SmoothL1Loss()");
  CHECK(nn::to_string(huber) == "HuberLoss()");
  CHECK(nn::to_string(nll) == "NLLLoss()");
  CHECK(nn::to_string(ce) == "CrossEntropyLoss()");
  CHECK(nn::to_string(cos_emb) == "CosineEmbeddingLoss()");
  CHECK(nn::to_string(ranking) == "MarginRankingLoss()");
  std::ostringstream os;
  os << triplet;
  CHECK(os.str() == "TripletMarginLoss()");
  CHECK(bce_logits.parameters().empty());
  CHECK(ce.state_dict().size() == 0);
  CHECK(triplet.options.margin() == 2.0);
  CHECK(smooth.options.beta() == 0.5);

  const auto x = tg::tensor<float>({0.5f, -1, 2, 0, 1, -3}, {2, 3}), t = tg::tensor<float>({1, 0, 1, 0, 0.5f, 1}, {2, 3});
  CHECK(bce_logits(x, t).item() ==
        tg::binary_cross_entropy_with_logits(x, t, tg::BCEWithLogitsLossOptions().pos_weight(pw)).item());
  CHECK(bce(tg::sigmoid(x), t).item() == tg::binary_cross_entropy(tg::sigmoid(x), t).item());
  CHECK(mse(x, t).item() == tg::mse_loss(x, t).item());
  CHECK(l1.forward(x, t).item() == tg::l1_loss(x, t).item());
  CHECK(smooth(x, t).item() == tg::smooth_l1_loss(x, t, tg::SmoothL1LossOptions().beta(0.5)).item());
  CHECK(huber(x, t).item() == tg::huber_loss(x, t, tg::HuberLossOptions().delta(2)).item());
  const auto cls = tg::tensor<std::int64_t>({2, 0}, {2});
  CHECK(nll(tg::log_softmax(x, 1), cls).item() == tg::nll_loss(tg::log_softmax(x, 1), cls).item());
  CHECK(ce(x, cls).item() == tg::cross_entropy(x, cls, tg::CrossEntropyOptions().label_smoothing(0.1)).item());
  CHECK(ce(x, tg::tensor<std::int32_t>({2, 0}, {2})).item() == ce(x, cls).item());
  const auto y = tg::tensor<float>({1, -1}, {2});
  CHECK(cos_emb(x, t, y).item() ==
        tg::cosine_embedding_loss(x, t, y, tg::CosineEmbeddingLossOptions().margin(0.5)).item());
  CHECK(ranking(x[0], x[1], tg::tensor<float>({1, -1, 1}, {3})).item() ==
        tg::margin_ranking_loss(x[0], x[1], tg::tensor<float>({1, -1, 1}, {3}), tg::MarginRankingLossOptions().margin(1)).item());
  CHECK(triplet(x, t, x * 2.0f).item() ==
        tg::triplet_margin_loss(x, t, x * 2.0f, tg::TripletMarginLossOptions().margin(2).swap(true)).item());

  nn::MSELoss<double> mse64(tg::MSELossOptions().reduction(Reduction::Sum));  // double models
  CHECK(mse64(tg::ones<double>({2}), tg::zeros<double>({2})).item() == 2.0);
  // errors come from the function, named by it
  CHECK_THROWS_WITH(mse(x, t[0]), Contains("mse_loss: input of shape [2, 3] and target of shape [3] differ"));
}

TEST_CASE("normalize, pairwise_distance: hand-computed values") {
  const auto x = tg::tensor<float>({1, 2, 3, 4}, {2, 2});
  CHECK(close(tg::normalize(x), {1 / std::sqrt(5.0), 2 / std::sqrt(5.0), 0.6, 0.8}, tg::Shape{2, 2}));
  CHECK(close(tg::normalize(x, 1.0, 0), {0.25, 1 / 3.0, 0.75, 2 / 3.0}, tg::Shape{2, 2}));
  CHECK(close(tg::pairwise_distance(x, tg::zeros<float>({2}), 2.0, 0.0), {std::sqrt(5.0), 5.0}, tg::Shape{2}));
  CHECK(close(tg::pairwise_distance(x, tg::zeros<float>({2}), 1.0, 0.0, true), {3, 7}, tg::Shape{2, 1}));
}

}  // namespace losses_test
