// SPDX-License-Identifier: MIT
// EmbeddingBag against PyTorch 1.13.1: modes x padding x offsets x per-sample weights x include_last_offset,
// the PyTorch bugs it does not copy, and every error message.
#include "nn/nn_test.hpp"

namespace embedding_bag_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace nn = tapegrad::nn;
using tg_test::close;
using tg_test::nn_golden;
using Mode = tapegrad::nn::EmbeddingBagMode;

namespace {

// Runs golden case `key` (golden_nn.py's _bag_case) and checks the output (bit for bit: sequential
// sums, division for the mean, fused multiply-add with per-sample weights), the weight after the
// forward, and the gradients (torch's backward sums in another order: 1e-6).
template <class T = float>
void run_bag(const std::string& key, const tg::Tensor<T>& weight, const nn::EmbeddingBagOptions& opts,
             const tg::Tensor<std::int64_t>& idx, const tg::Tensor<std::int64_t>& offsets = {},
             const tg::Tensor<T>& psw_values = {}, double out_rtol = 0) {
  const auto& g = nn_golden();
  INFO(key);
  nn::EmbeddingBag<T> bag(opts);
  bag.weight = weight;
  tg::Tensor<T> psw;
  if (psw_values.defined()) psw = tg::detail::copy_of(psw_values).requires_grad_();
  const auto out = bag(idx, offsets, psw);
  out.backward(g.tensor<T>(key + "/gout"));
  const double rtol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  CHECK(close(out, g.values(key + "/out"), g.shape(key + "/out"), out_rtol, out_rtol > 0 ? rtol : 0));
  CHECK(close(bag.weight, g.values(key + "/weight_after"), g.shape(key + "/weight_after"), out_rtol, 0));
  CHECK(close(bag.weight.grad(), g.values(key + "/grad"), g.shape(key + "/grad"), rtol, rtol));
  if (psw.defined()) CHECK(close(psw.grad(), g.values(key + "/grad_psw"), g.shape(key + "/grad_psw"), rtol, rtol));
  if (g.has(key + "/grad_indices")) {
    REQUIRE(bag.weight.grad().is_sparse());
    CHECK(close(bag.weight.grad().indices(), g.values(key + "/grad_indices"), g.shape(key + "/grad_indices"), 0, 0));
    CHECK(close(bag.weight.grad().values(), g.values(key + "/grad_values"), g.shape(key + "/grad_values"), rtol, rtol));
  }
}

const tg::Tensor<float>& weight() {
  static const auto w = nn_golden().tensor<float>("bag/weight");
  return w;
}
tg::Tensor<std::int64_t> idx() { return nn_golden().tensor<std::int64_t>("bag/indices"); }
tg::Tensor<std::int64_t> offsets() { return nn_golden().tensor<std::int64_t>("bag/offsets"); }

}  // namespace

TEST_CASE("EmbeddingBag: sum, mean and max with 1-D input and offsets (an empty bag included)") {
  run_bag("bag/sum", weight(), nn::EmbeddingBagOptions(6, 3).mode(Mode::Sum), idx(), offsets());
  run_bag("bag/mean", weight(), nn::EmbeddingBagOptions(6, 3), idx(), offsets());  // mean is the default
  run_bag("bag/max", weight(), nn::EmbeddingBagOptions(6, 3).mode(Mode::Max), idx(), offsets());
}

TEST_CASE("EmbeddingBag: padding_idx is left out of every reduction and of the mean's count") {
  for (const auto& [name, mode] : {std::pair{"sum", Mode::Sum}, std::pair{"mean", Mode::Mean}, std::pair{"max", Mode::Max}})
    run_bag(std::string("bag/") + name + "_pad", weight(), nn::EmbeddingBagOptions(6, 3).mode(mode).padding_idx(2), idx(),
            offsets());
}

TEST_CASE("EmbeddingBag: all-padding and empty bags give zeros in every mode") {
  const auto all_pad_idx = tg::tensor<std::int64_t>({2, 2, 1});
  const auto all_pad_offsets = tg::tensor<std::int64_t>({0, 2, 2});
  for (const auto& [name, mode] : {std::pair{"sum", Mode::Sum}, std::pair{"mean", Mode::Mean}, std::pair{"max", Mode::Max}})
    run_bag(std::string("bag/") + name + "_all_pad", weight(), nn::EmbeddingBagOptions(6, 3).mode(mode).padding_idx(-4),
            all_pad_idx, all_pad_offsets);
  nn::EmbeddingBag<float> bag(nn::EmbeddingBagOptions(6, 3).mode(Mode::Max));
  CHECK(close(bag(tg::zeros<std::int64_t>({0}), tg::tensor<std::int64_t>({0, 0})), std::vector<double>(6, 0.0), {2, 3}, 0, 0));
  CHECK(bag(tg::zeros<std::int64_t>({0}), tg::zeros<std::int64_t>({0})).shape() == tg::Shape{0, 3});
}

TEST_CASE("EmbeddingBag: include_last_offset closes the last bag with the input length") {
  const auto last = tg::tensor<std::int64_t>({0, 3, 3, 7, 9});
  for (const auto& [name, mode] : {std::pair{"sum", Mode::Sum}, std::pair{"mean", Mode::Mean}, std::pair{"max", Mode::Max}})
    run_bag(std::string("bag/") + name + "_last_offset", weight(),
            nn::EmbeddingBagOptions(6, 3).mode(mode).include_last_offset(true), idx(), last);
}

TEST_CASE("EmbeddingBag: per_sample_weights scale each row, with gradients for them too") {
  const auto psw = nn_golden().tensor<float>("bag/psw");
  run_bag("bag/psw", weight(), nn::EmbeddingBagOptions(6, 3).mode(Mode::Sum), idx(), offsets(), psw);
  run_bag("bag/psw_pad", weight(), nn::EmbeddingBagOptions(6, 3).mode(Mode::Sum).padding_idx(4), idx(), offsets(), psw);
}

TEST_CASE("EmbeddingBag: per_sample_weights with include_last_offset and int32 offsets") {
  const auto& g = nn_golden();
  nn::EmbeddingBag<float> bag(nn::EmbeddingBagOptions(6, 3).mode(Mode::Sum).include_last_offset(true).padding_idx(4));
  bag.weight = weight();
  const auto psw = g.tensor<float>("bag/psw", true);
  const auto out = bag(idx(), tg::tensor<std::int32_t>({0, 3, 3, 7, 9}), psw);
  out.backward(g.tensor<float>("bag/psw_pad/gout"));
  CHECK(close(out, g.values("bag/psw_pad/out"), {4, 3}, 0, 0));
  CHECK(close(bag.weight.grad(), g.values("bag/psw_pad/grad"), {6, 3}, 1e-6, 1e-6));
  CHECK(close(psw.grad(), g.values("bag/psw_pad/grad_psw"), {9}, 1e-6, 1e-6));
}

TEST_CASE("EmbeddingBag: per_sample_weights on a larger input, fused multiply-add bit for bit") {
  const auto& g = nn_golden();
  run_bag("bag/large/psw_sum", g.tensor<float>("bag/large/weight"), nn::EmbeddingBagOptions(30, 16).mode(Mode::Sum),
          g.tensor<std::int64_t>("bag/large/indices"), g.tensor<std::int64_t>("bag/large/offsets"),
          g.tensor<float>("bag/large/psw"));
  run_bag("bag/large/mean", g.tensor<float>("bag/large/weight"), nn::EmbeddingBagOptions(30, 16).padding_idx(3),
          g.tensor<std::int64_t>("bag/large/indices"), g.tensor<std::int64_t>("bag/large/offsets"));
}

TEST_CASE("EmbeddingBag: sparse gradients, in input order without padding, already divided for mean") {
  run_bag("bag/sum_sparse", weight(), nn::EmbeddingBagOptions(6, 3).mode(Mode::Sum).sparse(true).padding_idx(2), idx(),
          offsets());
  run_bag("bag/mean_sparse", weight(), nn::EmbeddingBagOptions(6, 3).sparse(true).padding_idx(2), idx(), offsets());
  run_bag("bag/psw_sparse", weight(), nn::EmbeddingBagOptions(6, 3).mode(Mode::Sum).sparse(true), idx(), offsets(),
          nn_golden().tensor<float>("bag/psw"));
}

TEST_CASE("EmbeddingBag: a 2-D input is one bag per row, with per-sample weights of the same shape") {
  const auto idx2 = nn_golden().tensor<std::int64_t>("bag/indices2");
  for (const auto& [name, mode] : {std::pair{"sum", Mode::Sum}, std::pair{"mean", Mode::Mean}, std::pair{"max", Mode::Max}})
    run_bag(std::string("bag/2d_") + name, weight(), nn::EmbeddingBagOptions(6, 3).mode(mode).padding_idx(0), idx2);
  run_bag("bag/2d_psw", weight(), nn::EmbeddingBagOptions(6, 3).mode(Mode::Sum), idx2, {},
          nn_golden().tensor<float>("bag/psw2"));
}

TEST_CASE("EmbeddingBag: a 2-D input with include_last_offset keeps every bag (PyTorch drops one)") {
  const auto& g = nn_golden();
  nn::EmbeddingBag<float> bag(nn::EmbeddingBagOptions(6, 3).padding_idx(0).include_last_offset(true));
  bag.weight = weight();
  CHECK(close(bag(g.tensor<std::int64_t>("bag/indices2")), g.values("bag/2d_mean/out"), {2, 3}, 0, 0));
}

TEST_CASE("EmbeddingBag: max ties go to the first occurrence, in the output and the gradient") {
  const auto& g = nn_golden();
  run_bag("bag/ties", g.tensor<float>("bag/ties/weight"), nn::EmbeddingBagOptions(3, 3).mode(Mode::Max),
          tg::tensor<std::int64_t>({0, 1, 2}), tg::tensor<std::int64_t>({0}));
}

TEST_CASE("EmbeddingBag: max_norm renormalises the referenced rows first (padding row included)") {
  const auto big = nn_golden().tensor<float>("bag/big_weight");
  run_bag("bag/max_norm_sum", big, nn::EmbeddingBagOptions(6, 3).mode(Mode::Sum).max_norm(2.0).padding_idx(2), idx(),
          offsets(), {}, 1e-6);
  run_bag("bag/max_norm_max", big, nn::EmbeddingBagOptions(6, 3).mode(Mode::Max).max_norm(2.0).norm_type(1), idx(),
          offsets(), {}, 1e-6);
}

TEST_CASE("EmbeddingBag: scale_grad_by_freq divides by the count over the whole input (not PyTorch's wrong count)") {
  const auto& g = nn_golden();
  for (const auto& [name, mode] : {std::pair{"sum", Mode::Sum}, std::pair{"mean", Mode::Mean}}) {
    for (const bool sparse : {false, true}) {
      INFO(name << (sparse ? " sparse" : " dense"));
      nn::EmbeddingBag<float> bag(nn::EmbeddingBagOptions(6, 3).mode(mode).padding_idx(2).scale_grad_by_freq(true).sparse(sparse));
      bag.weight = weight();
      const auto out = bag(idx(), offsets());
      out.backward(g.tensor<float>(std::string("bag/sgbf_") + name + "/gout"));
      CHECK(close(out, g.values(std::string("bag/sgbf_") + name + "/out"), {4, 3}, 1e-6, 1e-7));
      CHECK(bag.weight.grad().is_sparse() == sparse);
      CHECK(close(bag.weight.grad(), g.values(std::string("bag/sgbf_") + name + "/grad"), {6, 3}, 1e-6, 1e-7));
    }
  }
  // PyTorch 1.13 gives [0, 1, 0, 0.5] for bag [1, 1, 3]; index 3 occurs once, so its gradient is 1.
  CHECK(g.values("bag/sgbf_torch_bug/grad") == std::vector<double>{0, 1, 0, 0.5});
  nn::EmbeddingBag<float> bag(nn::EmbeddingBagOptions(4, 1).mode(Mode::Sum).scale_grad_by_freq(true));
  tg::sum(bag(tg::tensor<std::int64_t>({1, 1, 3}), tg::tensor<std::int64_t>({0}))).backward();
  CHECK(close(bag.weight.grad(), {0, 1, 0, 1}, {4, 1}, 0, 0));
}

TEST_CASE("EmbeddingBag<double>: mean with padding and per-sample weights") {
  const auto w = nn_golden().tensor<double>("bag/weight");
  run_bag<double>("bag/double_mean_pad", w, nn::EmbeddingBagOptions(6, 3).padding_idx(4), idx(), offsets());
  run_bag<double>("bag/double_psw", w, nn::EmbeddingBagOptions(6, 3).mode(Mode::Sum), idx(), offsets(),
                  nn_golden().tensor<double>("bag/psw"));
}

TEST_CASE("EmbeddingBag<double>: gradcheck of weight and per-sample weights") {
  const auto i = idx();
  const auto off = offsets();
  const auto w = tg::randn<double>({6, 3}, true);
  const auto psw = tg::randn<double>({9}, true);
  namespace F = tapegrad::nn::functional;
  CHECK(tg::gradcheck(
      [&](const std::vector<tg::Tensor<double>>& x) {
        return F::embedding_bag(i, x[0], off, x[1], F::EmbeddingBagFuncOptions().mode(Mode::Sum));
      },
      {w, psw}));
  for (const Mode mode : {Mode::Mean, Mode::Max}) {
    CHECK(tg::gradcheck(
        [&](const std::vector<tg::Tensor<double>>& x) {
          return F::embedding_bag(i, x[0], off, {}, F::EmbeddingBagFuncOptions().mode(mode).padding_idx(2));
        },
        {w}));
  }
}

TEST_CASE("EmbeddingBag: int32 indices and offsets, mixed as PyTorch 1.13 allows") {
  const auto& g = nn_golden();
  nn::EmbeddingBag<float> bag(nn::EmbeddingBagOptions(6, 3).mode(Mode::Sum));
  bag.weight = weight();
  CHECK(close(bag(idx().to<std::int32_t>(), offsets()), g.values("bag/sum/out"), {4, 3}, 0, 0));
  CHECK(close(bag(idx(), offsets().to<std::int32_t>()), g.values("bag/sum/out"), {4, 3}, 0, 0));
  CHECK(close(bag(idx().to<std::int32_t>(), offsets().to<std::int32_t>()), g.values("bag/sum/out"), {4, 3}, 0, 0));
}

TEST_CASE("EmbeddingBag: init, from_pretrained and printing") {
  tg::manual_seed(1);
  const nn::EmbeddingBag<float> bag(3, 5);
  CHECK(close(bag.weight, nn_golden().values("init/embedding_3_5/weight"), {3, 5}, 0, 0));
  CHECK(tg::nn::to_string(bag) == "EmbeddingBag(3, 5, mode=mean)");
  CHECK(tg::nn::to_string(nn::EmbeddingBag<float>(nn::EmbeddingBagOptions(6, 2).mode(Mode::Sum).padding_idx(0))) ==
        "EmbeddingBag(6, 2, mode=sum, padding_idx=0)");
  CHECK(tg::nn::to_string(nn::EmbeddingBag<float>(nn::EmbeddingBagOptions(6, 2)
                                                      .max_norm(1.0)
                                                      .norm_type(1.0)
                                                      .scale_grad_by_freq(true)
                                                      .mode(Mode::Sum)
                                                      .sparse(true)
                                                      .include_last_offset(true))) ==
        "EmbeddingBag(6, 2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True, mode=sum)");
  CHECK(tg::nn::to_string(nn::EmbeddingBag<float>(nn::EmbeddingBagOptions(6, 2).mode(Mode::Max))) == "EmbeddingBag(6, 2, mode=max)");
  const nn::EmbeddingBag<float> pad(nn::EmbeddingBagOptions(4, 2).padding_idx(-1));
  CHECK(pad.options.padding_idx() == 3);
  CHECK(pad.weight.to_vector()[6] == 0);
  CHECK(pad.weight.to_vector()[7] == 0);

  const auto pre = tg::tensor<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  const auto frozen = nn::EmbeddingBag<float>::from_pretrained(
      pre, nn::EmbeddingBagFromPretrainedOptions().mode(Mode::Sum).padding_idx(1));
  CHECK(frozen.weight.shares_storage(pre));
  CHECK_FALSE(frozen.weight.requires_grad());
  CHECK(tg::nn::to_string(frozen) == "EmbeddingBag(3, 2, mode=sum, padding_idx=1)");
  CHECK(close(frozen(tg::tensor<std::int64_t>({1, 2, 0}), tg::tensor<std::int64_t>({0, 2})), {5, 6, 1, 2}, {2, 2}, 0, 0));
  const auto trainable = nn::EmbeddingBag<float>::from_pretrained(pre, nn::EmbeddingBagFromPretrainedOptions().freeze(false));
  CHECK(trainable.weight.requires_grad());
  nn::EmbeddingBag bag_ctad(nn::EmbeddingBagOptions(3, 5));
  STATIC_REQUIRE(std::is_same_v<decltype(bag_ctad), nn::EmbeddingBag<float>>);
}

// ---- errors ------------------------------------------------------------------------------------------

TEST_CASE("EmbeddingBag errors: offsets must start at 0, never decrease, stay within the input") {
  nn::EmbeddingBag<float> bag(6, 3);
  const auto i = idx();  // 9 indices
  CHECK_THROWS_AS(bag(i, tg::tensor<std::int64_t>({1, 3})), tg::ValueError);
  CHECK_THROWS_WITH(bag(i, tg::tensor<std::int64_t>({1, 3})),
                    "EmbeddingBag: offsets[0] must be 0 (the first bag starts at the first index), got 1");
  CHECK_THROWS_WITH(bag(i, tg::tensor<std::int64_t>({0, 5, 3})),
                    "EmbeddingBag: offsets must be non-decreasing, but offsets[2] = 3 is less than offsets[1] = 5");
  CHECK_THROWS_AS(bag(i, tg::tensor<std::int64_t>({0, 10})), tg::IndexError);
  CHECK_THROWS_WITH(bag(i, tg::tensor<std::int64_t>({0, 10})), "EmbeddingBag: offsets[1] = 10 is greater than the input length 9");
  CHECK_THROWS_WITH(bag(i, tg::zeros<std::int64_t>({0})),
                    "EmbeddingBag: offsets is empty but the input has 9 indices; every index must belong to a bag, so "
                    "offsets[0] = 0 must start the first bag");
  CHECK_THROWS_AS(bag(i, tg::tensor<std::int64_t>({0, 1}, {1, 2})), tg::ShapeError);
  CHECK_THROWS_WITH(bag(i, tg::tensor<std::int64_t>({0, 1}, {1, 2})), "EmbeddingBag: offsets must be 1-D, got shape [1, 2]");
}

TEST_CASE("EmbeddingBag errors: with include_last_offset the last offset must equal the input length") {
  nn::EmbeddingBag<float> bag(nn::EmbeddingBagOptions(6, 3).include_last_offset(true));
  // PyTorch silently drops indices 7 and 8 here.
  CHECK_THROWS_AS(bag(idx(), tg::tensor<std::int64_t>({0, 3, 7})), tg::ValueError);
  CHECK_THROWS_WITH(bag(idx(), tg::tensor<std::int64_t>({0, 3, 7})),
                    "EmbeddingBag: with include_last_offset=true the last offset must equal the input length 9 (it "
                    "closes the last bag), got offsets[2] = 7");
  CHECK_THROWS_WITH(bag(idx(), tg::zeros<std::int64_t>({0})),
                    "EmbeddingBag: with include_last_offset=true offsets needs at least one element (the end of the last "
                    "bag), got an empty tensor");
  CHECK(bag(tg::zeros<std::int64_t>({0}), tg::tensor<std::int64_t>({0})).shape() == tg::Shape{0, 3});
}

TEST_CASE("EmbeddingBag errors: input rank and offsets presence") {
  nn::EmbeddingBag<float> bag(6, 3);
  CHECK_THROWS_AS(bag(idx()), tg::ValueError);
  CHECK_THROWS_WITH(bag(idx()),
                    "EmbeddingBag: a 1-D input needs offsets (where each bag starts in the input); pass offsets, or a 2-D "
                    "input of shape [bags, bag_size]");
  CHECK_THROWS_WITH(bag(tg::zeros<std::int64_t>({2, 3}), tg::tensor<std::int64_t>({0, 3})),
                    "EmbeddingBag: offsets must be undefined for a 2-D input (each row is one bag), got offsets of shape [2]");
  CHECK_THROWS_AS(bag(tg::zeros<std::int64_t>({2, 2, 2})), tg::ShapeError);
  CHECK_THROWS_WITH(bag(tg::zeros<std::int64_t>({2, 2, 2})),
                    "EmbeddingBag: input must be 1-D (with offsets) or 2-D (one bag per row), got shape [2, 2, 2]");
  CHECK_THROWS_WITH(bag(tg::scalar_tensor<std::int64_t>(1)),
                    "EmbeddingBag: input must be 1-D (with offsets) or 2-D (one bag per row), got shape []");
}

TEST_CASE("EmbeddingBag errors: bad indices name the value, position and range, before max_norm changes anything") {
  nn::EmbeddingBag<float> bag(nn::EmbeddingBagOptions(6, 3).max_norm(0.5));
  const auto before = bag.weight.to_vector();
  CHECK_THROWS_AS(bag(tg::tensor<std::int64_t>({0, 1, 9}), tg::tensor<std::int64_t>({0})), tg::IndexError);
  CHECK_THROWS_WITH(bag(tg::tensor<std::int64_t>({0, 1, 9}), tg::tensor<std::int64_t>({0})),
                    "EmbeddingBag: index 9 at position [2] is out of range for num_embeddings=6 (valid range [0, 6))");
  CHECK_THROWS_WITH(bag(tg::tensor<std::int64_t>({0, 1, 2, -1}, {2, 2})),
                    "EmbeddingBag: index -1 at position [1, 1] is out of range for num_embeddings=6 (valid range [0, 6)); "
                    "negative indices are not wrapped");
  CHECK(bag.weight.to_vector() == before);
  CHECK_THROWS_WITH(nn::functional::embedding_bag(tg::tensor<std::int64_t>({7}), weight(), tg::tensor<std::int64_t>({0})),
                    "embedding_bag: index 7 at position [0] is out of range for num_embeddings=6 (valid range [0, 6))");
}

TEST_CASE("EmbeddingBag errors: per_sample_weights only with mode=sum and with the input's shape") {
  nn::EmbeddingBag<float> mean(6, 3), sum(nn::EmbeddingBagOptions(6, 3).mode(Mode::Sum));
  CHECK_THROWS_AS(mean(idx(), offsets(), tg::ones<float>({9})), tg::ValueError);
  CHECK_THROWS_WITH(mean(idx(), offsets(), tg::ones<float>({9})),
                    "EmbeddingBag: per_sample_weights is only supported with mode=sum, got mode=mean");
  CHECK_THROWS_AS(sum(idx(), offsets(), tg::ones<float>({8})), tg::ShapeError);
  CHECK_THROWS_WITH(sum(idx(), offsets(), tg::ones<float>({8})),
                    "EmbeddingBag: per_sample_weights of shape [8] must have the input's shape [9]");
}

TEST_CASE("EmbeddingBag errors: max mode refuses scale_grad_by_freq and sparse at construction") {
  CHECK_THROWS_AS(nn::EmbeddingBag<float>(nn::EmbeddingBagOptions(6, 3).mode(Mode::Max).scale_grad_by_freq(true)), tg::ValueError);
  CHECK_THROWS_WITH(nn::EmbeddingBag<float>(nn::EmbeddingBagOptions(6, 3).mode(Mode::Max).scale_grad_by_freq(true)),
                    "EmbeddingBag: mode=max does not support scale_grad_by_freq=true");
  CHECK_THROWS_WITH(nn::EmbeddingBag<float>(nn::EmbeddingBagOptions(6, 3).mode(Mode::Max).sparse(true)),
                    "EmbeddingBag: mode=max does not support sparse=true (sparse gradients)");
  namespace F = tapegrad::nn::functional;
  CHECK_THROWS_WITH(F::embedding_bag(idx(), weight(), offsets(), {}, F::EmbeddingBagFuncOptions().mode(Mode::Max).sparse(true)),
                    "embedding_bag: mode=max does not support sparse=true (sparse gradients)");
}

TEST_CASE("EmbeddingBag errors: sizes, padding_idx, max_norm, pretrained shape, weight assignment") {
  CHECK_THROWS_WITH(nn::EmbeddingBag<float>(-1, 2), "EmbeddingBag: num_embeddings and embedding_dim must be non-negative, got -1 and 2");
  CHECK_THROWS_AS(nn::EmbeddingBag<float>(nn::EmbeddingBagOptions(6, 2).padding_idx(6)), tg::IndexError);
  CHECK_THROWS_WITH(nn::EmbeddingBag<float>(nn::EmbeddingBagOptions(6, 2).padding_idx(6)),
                    "EmbeddingBag: padding_idx 6 is out of range for num_embeddings=6 (valid range [-6, 6); negative "
                    "values count from the end)");
  CHECK_THROWS_WITH(nn::EmbeddingBag<float>(nn::EmbeddingBagOptions(6, 2).max_norm(0.0)),
                    "EmbeddingBag: max_norm must be positive, got 0 (PyTorch would zero the rows, or flip their sign for a "
                    "negative max_norm)");
  CHECK_THROWS_WITH(nn::EmbeddingBag<float>::from_pretrained(tg::zeros<float>({2, 2, 2})),
                    "EmbeddingBag::from_pretrained: embeddings must be 2-D [num_embeddings, embedding_dim], got shape [2, 2, 2]");
  nn::EmbeddingBag<float> bag(6, 2);
  CHECK_THROWS_WITH(bag.weight = tg::zeros<float>({2, 6}), "EmbeddingBag(6, 2, mode=mean).weight: expected shape [6, 2], got [2, 6]");
  CHECK_THROWS_WITH(nn::functional::embedding_bag(idx(), tg::zeros<float>({6}), offsets()),
                    "embedding_bag: weight must be 2-D [num_embeddings, embedding_dim], got shape [6]");
}

}  // namespace embedding_bag_test
