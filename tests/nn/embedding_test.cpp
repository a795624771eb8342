// SPDX-License-Identifier: MIT
// Embedding against PyTorch 1.13.1 goldens: every option and combination, the max_norm trap, errors.
#include "nn/nn_test.hpp"

namespace embedding_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace nn = tapegrad::nn;
using tg_test::close;
using tg_test::nn_golden;

namespace {

// Runs golden case `key` (made by golden_nn.py's _embedding_case) through an Embedding built with
// `opts` whose weight is `weight`; checks output, weight after forward and gradient.
template <class T = float>
nn::Embedding<T> run_case(const std::string& key, const tg::Tensor<T>& weight, const nn::EmbeddingOptions& opts,
                          double out_rtol = 0, double grad_rtol = 0) {
  const auto& g = nn_golden();
  nn::Embedding<T> e(opts);
  e.weight = weight;
  const auto out = e(g.tensor<std::int64_t>(key + "/indices"));
  out.backward(g.tensor<T>(key + "/gout"));
  CHECK(close(out, g.values(key + "/out"), g.shape(key + "/out"), out_rtol, 0));
  CHECK(close(e.weight, g.values(key + "/weight_after"), g.shape(key + "/weight_after"), out_rtol, 0));
  CHECK(close(e.weight.grad(), g.values(key + "/grad"), g.shape(key + "/grad"), grad_rtol, grad_rtol > 0 ? 1e-7 : 0));
  return e;
}

}  // namespace

TEST_CASE("Embedding: lookup and dense gradient equal torch bit for bit") {
  const auto e = run_case("embedding/basic", nn_golden().tensor<float>("embedding/weight"), nn::EmbeddingOptions(5, 3));
  CHECK_FALSE(e.weight.grad().is_sparse());
  const auto& g = nn_golden();
  const auto out = e(g.tensor<std::int64_t>("embedding/basic/indices"));
  CHECK(out.grad_fn_name() == "EmbeddingBackward0");
  CHECK(out.shape() == tg::Shape{2, 3, 3});
}

TEST_CASE("Embedding: padding_idx gets a zero gradient but is looked up like any row") {
  run_case("embedding/pad", nn_golden().tensor<float>("embedding/weight"), nn::EmbeddingOptions(5, 3).padding_idx(1));
}

TEST_CASE("Embedding: a negative padding_idx counts from the end and is stored normalised") {
  const auto e = run_case("embedding/pad_negative", nn_golden().tensor<float>("embedding/weight"), nn::EmbeddingOptions(5, 3).padding_idx(-1));
  CHECK(e.options.padding_idx() == 4);
  CHECK(tg::nn::to_string(e) == "Embedding(5, 3, padding_idx=4)");
}

TEST_CASE("Embedding: scale_grad_by_freq divides by the count over the whole input (fused multiply-add, exact)") {
  run_case("embedding/sgbf", nn_golden().tensor<float>("embedding/weight"), nn::EmbeddingOptions(5, 3).scale_grad_by_freq(true));
  run_case("embedding/sgbf_pad", nn_golden().tensor<float>("embedding/weight"), nn::EmbeddingOptions(5, 3).scale_grad_by_freq(true).padding_idx(4));
}

TEST_CASE("Embedding: sparse=true gives torch's uncoalesced row-sparse gradient") {
  const auto& g = nn_golden();
  for (const std::string key : {"embedding/sparse", "embedding/sparse_pad"}) {
    nn::EmbeddingOptions opts = nn::EmbeddingOptions(5, 3).sparse(true);
    if (key == "embedding/sparse_pad") opts.padding_idx(1);
    const auto e = run_case(key, nn_golden().tensor<float>("embedding/weight"), opts);
    const auto grad = e.weight.grad();
    REQUIRE(grad.is_sparse());
    CHECK_FALSE(grad.is_coalesced());
    CHECK(close(grad.indices(), g.values(key + "/grad_indices"), g.shape(key + "/grad_indices"), 0, 0));
    CHECK(close(grad.values(), g.values(key + "/grad_values"), g.shape(key + "/grad_values"), 0, 0));
  }
}

TEST_CASE("Embedding: sparse gradient from an upstream op (its values are taken without a copy)") {
  nn::Embedding<float> e(nn::EmbeddingOptions(5, 3).sparse(true));
  const auto idx = tg::tensor<std::int64_t>({4, 1, 4}, {3});
  tg::sum(tg::mul(e(idx), 2.0f)).backward();
  REQUIRE(e.weight.grad().is_sparse());
  CHECK(e.weight.grad().indices().to_vector() == std::vector<std::int64_t>{4, 1, 4});
  CHECK(close(e.weight.grad().values(), std::vector<double>(9, 2.0), {3, 3}, 0, 0));
  CHECK(close(e.weight.grad().to_dense(), {0, 0, 0, 2, 2, 2, 0, 0, 0, 0, 0, 0, 4, 4, 4}, {5, 3}, 0, 0));
}

TEST_CASE("Embedding: sparse gradient of an all-padding input has no rows") {
  const auto& g = nn_golden();
  const auto e = run_case("embedding/sparse_all_pad", nn_golden().tensor<float>("embedding/weight"), nn::EmbeddingOptions(5, 3).sparse(true).padding_idx(1));
  const auto grad = e.weight.grad();
  REQUIRE(grad.is_sparse());
  CHECK(grad.indices().shape() == tg::Shape{0});
  CHECK(grad.values().shape() == tg::Shape{0, 3});
  CHECK(g.values("embedding/sparse_all_pad/grad") == std::vector<double>(15, 0.0));
}

TEST_CASE("Embedding: a second sparse backward appends rows, and coalesce() sums duplicates") {
  const auto& g = nn_golden();
  nn::Embedding<float> e(nn::EmbeddingOptions(5, 3).sparse(true));
  e.weight = g.tensor<float>("embedding/weight");
  const auto idx = g.tensor<std::int64_t>("embedding/basic/indices");
  const auto gout = g.tensor<float>("embedding/basic/gout");
  e(idx).backward(gout);
  e(idx).backward(gout);
  CHECK(e.weight.grad().indices().numel() == 12);
  const auto coalesced = e.weight.grad().coalesce();
  CHECK(coalesced.is_coalesced());
  CHECK(coalesced.indices().to_vector() == std::vector<std::int64_t>{0, 1, 2, 4});
  auto twice = g.values("embedding/basic/grad");
  for (double& v : twice) v *= 2;
  CHECK(close(coalesced.to_dense(), twice, {5, 3}, 1e-6, 1e-7));
}

TEST_CASE("Embedding: sparse together with scale_grad_by_freq works (PyTorch fails at backward)") {
  const auto& g = nn_golden();
  nn::Embedding<float> e(nn::EmbeddingOptions(5, 3).sparse(true).scale_grad_by_freq(true).padding_idx(4));
  e.weight = g.tensor<float>("embedding/weight");
  e(g.tensor<std::int64_t>("embedding/sgbf_pad/indices")).backward(g.tensor<float>("embedding/sgbf_pad/gout"));
  REQUIRE(e.weight.grad().is_sparse());
  CHECK(e.weight.grad().indices().to_vector() == std::vector<std::int64_t>{1, 1, 2, 1, 0});  // index 4 is padding
  CHECK(close(e.weight.grad().to_dense(), g.values("embedding/sgbf_pad/grad"), {5, 3}, 1e-6, 1e-7));
}

TEST_CASE("Embedding: int32 indices work like int64") {
  const auto& g = nn_golden();
  nn::Embedding<float> e(nn::EmbeddingOptions(5, 3).padding_idx(0));
  e.weight = g.tensor<float>("embedding/weight");
  const auto idx = g.tensor<std::int64_t>("embedding/int32/indices").to<std::int32_t>();
  const auto out = e(idx);
  out.backward(g.tensor<float>("embedding/int32/gout"));
  CHECK(close(out, g.values("embedding/int32/out"), {2, 3, 3}, 0, 0));
  CHECK(close(e.weight.grad(), g.values("embedding/int32/grad"), {5, 3}, 0, 0));
}

TEST_CASE("Embedding: any index shape S gives S + [D] (0-d, empty, N-d)") {
  const auto& g = nn_golden();
  nn::Embedding<float> e(nn::EmbeddingOptions(5, 3));
  e.weight = g.tensor<float>("embedding/weight");
  const auto scalar = e(tg::scalar_tensor<std::int64_t>(3));
  CHECK(close(scalar, g.values("embedding/scalar_index/out"), {3}, 0, 0));
  scalar.backward(g.tensor<float>("embedding/scalar_index/gout"));
  CHECK(close(e.weight.grad(), g.values("embedding/scalar_index/grad"), {5, 3}, 0, 0));

  const auto empty = e(tg::zeros<std::int64_t>({0}));
  CHECK(empty.shape() == tg::Shape{0, 3});
  const auto empty2 = e(tg::zeros<std::int64_t>({2, 0}));
  CHECK(empty2.shape() == tg::Shape{2, 0, 3});
  e.zero_grad(true);
  empty2.backward(tg::zeros<float>({2, 0, 3}));
  CHECK(close(e.weight.grad(), std::vector<double>(15, 0.0), {5, 3}, 0, 0));
  CHECK(e(tg::zeros<std::int64_t>({2, 1, 2})).shape() == tg::Shape{2, 1, 2, 3});
}

TEST_CASE("Embedding: the output is a new tensor, not a view of the weight") {
  nn::Embedding<float> e(nn::EmbeddingOptions(3, 2));
  auto out = e(tg::tensor<std::int64_t>({1}));
  CHECK_FALSE(out.shares_storage(e.weight));
}

TEST_CASE("Embedding: max_norm renormalises the looked-up rows in place, for norm_type 2, 1, inf, 0.5 and 0") {
  const std::vector<std::pair<std::string, double>> cases{{"2", 2.0}, {"1", 1.0}, {"inf", INFINITY}, {"half", 0.5}, {"zero", 0.0}};
  for (const auto& [name, p] : cases) {
    INFO("norm_type " << p);
    const double max_norm = p == 0 ? 2.0 : 2.5;
    // The float norm's summation order differs from torch's by up to an ulp, hence the tolerance.
    run_case("embedding/max_norm_" + name, nn_golden().tensor<float>("embedding/big_weight"),
             nn::EmbeddingOptions(5, 3).max_norm(max_norm).norm_type(p), 1e-6, 1e-6);
  }
}

TEST_CASE("Embedding: max_norm uses a strict > and scales by float(max_norm / (norm + 1e-7))") {
  const auto e = run_case("embedding/max_norm_exact", tg::tensor<float>({3, 4, 0.6f, 0.8f, 1, 0}, {3, 2}), nn::EmbeddingOptions(3, 2).max_norm(1.0));
  // [3, 4] -> [0.6000000238418579, 0.800000011920929]: below max_norm, so a second forward keeps it.
  CHECK(e.weight.at({0, 0}) == 0.6000000238418579f);
  CHECK(e.weight.at({0, 1}) == 0.800000011920929f);
}

TEST_CASE("Embedding: max_norm with scale_grad_by_freq and padding (the padding row is renormed too)") {
  run_case("embedding/max_norm_sgbf_pad", nn_golden().tensor<float>("embedding/big_weight"),
           nn::EmbeddingOptions(5, 3).max_norm(2.5).scale_grad_by_freq(true).padding_idx(1), 1e-6, 1e-6);
}

TEST_CASE("Embedding: max_norm does not copy a weight saved by another op unless a row changes") {
  nn::Embedding<float> e(nn::EmbeddingOptions(3, 2).max_norm(100.0));
  const auto other = tg::ones<float>({2, 2}, true);
  const auto a = tg::matmul(e.weight, other);  // saves the weight
  const float* before = std::as_const(e.weight).data();
  (void)e(tg::tensor<std::int64_t>({0, 1, 2}));
  CHECK(std::as_const(e.weight).data() == before);
}

TEST_CASE("Embedding: large input, dense and scale_grad_by_freq gradients bit for bit") {
  const auto& g = nn_golden();
  for (const bool sgbf : {false, true}) {
    nn::Embedding<float> e(nn::EmbeddingOptions(50, 8).padding_idx(7).scale_grad_by_freq(sgbf));
    e.weight = g.tensor<float>("embedding/large/weight");
    e(g.tensor<std::int64_t>("embedding/large/indices")).backward(g.tensor<float>("embedding/large/gout"));
    const std::string key = sgbf ? "embedding/large/sgbf/grad" : "embedding/large/dense/grad";
    CHECK(close(e.weight.grad(), g.values(key), {50, 8}, 0, 0));
  }
}

TEST_CASE("Embedding<double>: scale_grad_by_freq with padding") {
  run_case<double>("embedding/double_sgbf", nn_golden().tensor<double>("embedding/weight"),
                   nn::EmbeddingOptions(5, 3).scale_grad_by_freq(true).padding_idx(2), 0, 1e-15);
}

TEST_CASE("Embedding<double>: gradcheck of the lookup") {
  const auto idx = tg::tensor<std::int64_t>({1, 1, 2, 1, 0, 4}, {2, 3});
  const auto w = tg::randn<double>({5, 3}, true);
  CHECK(tg::gradcheck([&](const std::vector<tg::Tensor<double>>& x) { return nn::functional::embedding(idx, x[0]); }, {w}));
}

TEST_CASE("Embedding::from_pretrained shares the tensor, keeps the padding row, freezes by default") {
  const auto& g = nn_golden();
  const auto pre = tg::tensor<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  const auto frozen = nn::Embedding<float>::from_pretrained(pre, nn::EmbeddingFromPretrainedOptions().padding_idx(1));
  CHECK(frozen.weight.shares_storage(pre));
  CHECK_FALSE(frozen.weight.is_same(pre));
  CHECK_FALSE(frozen.weight.requires_grad());
  CHECK(tg::nn::to_string(frozen) == "Embedding(3, 2, padding_idx=1)");
  const auto out = frozen(tg::tensor<std::int64_t>({1, 2, 1, 0}));
  CHECK_FALSE(out.requires_grad());
  CHECK(close(out, g.values("embedding/pretrained/out"), {4, 2}, 0, 0));

  auto trainable = nn::Embedding<float>::from_pretrained(pre, nn::EmbeddingFromPretrainedOptions().freeze(false).padding_idx(1));
  CHECK(trainable.weight.requires_grad());
  const auto out2 = trainable(tg::tensor<std::int64_t>({1, 2, 1, 0}));
  out2.backward(tg::ones<float>({4, 2}));
  CHECK(close(out2, g.values("embedding/pretrained/out"), {4, 2}, 0, 0));
  CHECK(close(trainable.weight.grad(), g.values("embedding/pretrained/grad"), {3, 2}, 0, 0));
}

TEST_CASE("Embedding::from_pretrained draws no random numbers and passes its options on") {
  tg::manual_seed(4);
  const auto expected = tg::rand<float>({3});
  tg::manual_seed(4);
  const auto e = nn::Embedding<float>::from_pretrained(
      tg::zeros<float>({4, 2}),
      nn::EmbeddingFromPretrainedOptions().max_norm(1.0).norm_type(1).scale_grad_by_freq(true).sparse(true).padding_idx(-1));
  CHECK(close(tg::rand<float>({3}), expected, 0, 0));
  CHECK(tg::nn::to_string(e) ==
        "Embedding(4, 2, padding_idx=3, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True, sparse=True)");
}

TEST_CASE("Embedding: a max_norm forward on a from_pretrained weight changes the caller's tensor, as in PyTorch") {
  const auto pre = tg::tensor<float>({3, 4, 0.5f, 0}, {2, 2});
  const auto e = nn::Embedding<float>::from_pretrained(pre, nn::EmbeddingFromPretrainedOptions().max_norm(1.0));
  (void)e(tg::tensor<std::int64_t>({0}));
  CHECK(close(pre, {0.6000000238418579, 0.800000011920929, 0.5, 0}, {2, 2}, 0, 0));
}

TEST_CASE("Embedding max_norm trap: the weight used before a max_norm forward gives correct gradients") {
  // PyTorch raises "one of the variables needed for gradient computation has been modified by an
  // inplace operation"; the golden values come from its documented workaround (weight.clone()).
  const auto& g = nn_golden();
  nn::Embedding<float> e(nn::EmbeddingOptions(3, 5).max_norm(1.0));
  e.weight = g.tensor<float>("embedding/trap/weight");
  const auto other = g.tensor<float>("embedding/trap/other", true);
  const auto a = tg::matmul(e.weight, other.t());  // saves the weight as it is now
  const auto out = e(g.tensor<std::int64_t>("embedding/trap/indices"));
  const auto loss = tg::sum(a * g.tensor<float>("embedding/trap/ga")) + tg::sum(out * g.tensor<float>("embedding/trap/go"));
  loss.backward();
  CHECK(close(a, g.values("embedding/trap/a"), {3, 4}, 1e-6, 1e-6));
  CHECK(close(out, g.values("embedding/trap/out"), {2, 2, 5}, 1e-6, 1e-7));
  CHECK(close(e.weight, g.values("embedding/trap/weight_after"), {3, 5}, 1e-6, 1e-7));
  CHECK(close(e.weight.grad(), g.values("embedding/trap/grad_weight"), {3, 5}, 1e-6, 1e-6));
  CHECK(close(other.grad(), g.values("embedding/trap/grad_other"), {4, 5}, 1e-6, 1e-6));
}

TEST_CASE("Embedding: init draws N(0, 1) like torch and zeroes the padding row") {
  const auto& g = nn_golden();
  tg::manual_seed(1);
  CHECK(close(nn::Embedding<float>(3, 5).weight, g.values("init/embedding_3_5/weight"), {3, 5}, 0, 0));
  tg::manual_seed(3);
  const nn::Embedding<float> pad(nn::EmbeddingOptions(4, 3).padding_idx(-1));
  CHECK(close(pad.weight, g.values("init/embedding_pad/weight"), {4, 3}, 0, 0));
  tg::manual_seed(1);
  const nn::Embedding<float> first(3, 5), second(3, 5);
  CHECK(close(first.weight, g.values("init/two_embeddings/first"), {3, 5}, 0, 0));
  CHECK(close(second.weight, g.values("init/two_embeddings/second"), {3, 5}, 0, 0));
  tg::manual_seed(5);
  CHECK(close(nn::Embedding<double>(5, 4).weight, g.values("init/embedding_double_5_4/weight"), {5, 4}, 0, 0));
  tg::manual_seed(0);  // 80 float normals take torch's vectorised path: within a few ulp
  CHECK(close(nn::Embedding<float>(10, 8).weight, g.values("init/embedding_10_8/weight"), {10, 8}, 4e-7, 1e-7));
}

TEST_CASE("Embedding: reset_parameters redraws and zeroes the padding row again") {
  nn::Embedding<float> e(nn::EmbeddingOptions(3, 2).padding_idx(2));
  {
    tg::NoGradGuard no_grad;
    e.weight.fill_(7);
  }
  e.reset_parameters();
  CHECK(e.weight.at({2, 0}) == 0);
  CHECK(e.weight.at({2, 1}) == 0);
  CHECK(e.weight.at({0, 0}) != 7);
}

TEST_CASE("Embedding: CTAD and the default element type give Embedding<float>") {
  nn::Embedding e(nn::EmbeddingOptions(3, 5));
  nn::Embedding<> f(3, 5);
  STATIC_REQUIRE(std::is_same_v<decltype(e), nn::Embedding<float>>);
  STATIC_REQUIRE(std::is_same_v<decltype(f), nn::Embedding<float>>);
  CHECK(e.weight.shape() == tg::Shape{3, 5});
}

TEST_CASE("Embedding: printing shows the non-default options the way PyTorch does") {
  CHECK(tg::nn::to_string(nn::Embedding<float>(3, 5)) == "Embedding(3, 5)");
  CHECK(tg::nn::to_string(nn::Embedding<float>(nn::EmbeddingOptions(4, 2)
                                                   .padding_idx(-1)
                                                   .max_norm(1.0)
                                                   .norm_type(INFINITY)
                                                   .scale_grad_by_freq(true)
                                                   .sparse(true))) ==
        "Embedding(4, 2, padding_idx=3, max_norm=1.0, norm_type=inf, scale_grad_by_freq=True, sparse=True)");
  CHECK(tg::nn::to_string(nn::Embedding<float>(nn::EmbeddingOptions(4, 2).max_norm(1e-5).norm_type(0.5))) ==
        "Embedding(4, 2, max_norm=1e-05, norm_type=0.5)");
  std::ostringstream os;
  os << nn::Embedding<float>(nn::EmbeddingOptions(4, 2).max_norm(1e17).norm_type(0));
  CHECK(os.str() == "Embedding(4, 2, max_norm=1e+17, norm_type=0.0)");
}

TEST_CASE("Embedding: copies share the weight, copy-assignment replaces options and weight") {
  nn::Embedding<float> a(3, 2), b(nn::EmbeddingOptions(5, 4).padding_idx(0));
  const nn::Embedding<float> copy = a;
  CHECK(copy.weight.is_same(a.weight));
  a = b;
  CHECK(a.weight.is_same(b.weight));
  CHECK(a.options.num_embeddings() == 5);
  CHECK(a.weight.expected_shape() == tg::Shape{5, 4});
  CHECK(tg::nn::to_string(a) == "Embedding(5, 4, padding_idx=0)");
}

// ---- errors ------------------------------------------------------------------------------------------

TEST_CASE("Embedding errors: out-of-range and negative indices name the value, position and range") {
  nn::Embedding<float> e(3, 5);
  CHECK_THROWS_AS(e(tg::tensor<std::int64_t>({3}, {1})), tg::IndexError);
  CHECK_THROWS_WITH(e(tg::tensor<std::int64_t>({3}, {1})),
                    "Embedding: index 3 at position [0] is out of range for num_embeddings=3 (valid range [0, 3))");
  CHECK_THROWS_WITH(e(tg::tensor<std::int64_t>({0, 1, 2, 0, 1, -1}, {2, 3})),
                    "Embedding: index -1 at position [1, 2] is out of range for num_embeddings=3 (valid range [0, 3)); "
                    "negative indices are not wrapped");
  CHECK_THROWS_WITH(e(tg::tensor<std::int32_t>({0, 7}, {1, 1, 2})),
                    "Embedding: index 7 at position [0, 0, 1] is out of range for num_embeddings=3 (valid range [0, 3))");
  CHECK_THROWS_WITH(e(tg::scalar_tensor<std::int64_t>(9)),
                    "Embedding: index 9 at position [] is out of range for num_embeddings=3 (valid range [0, 3))");
  CHECK_THROWS_WITH(nn::functional::embedding(tg::tensor<std::int64_t>({5}), e.weight),
                    "embedding: index 5 at position [0] is out of range for num_embeddings=3 (valid range [0, 3))");
}

TEST_CASE("Embedding errors: a bad index throws before max_norm touches any row") {
  const auto w = tg::tensor<float>({3, 4, 6, 8, 0, 1}, {3, 2});
  nn::Embedding<float> e(nn::EmbeddingOptions(3, 2).max_norm(1.0));
  e.weight = w;
  // PyTorch renormalises rows 0 and 1 (sorted indices) before failing on 7.
  CHECK_THROWS_WITH(e(tg::tensor<std::int64_t>({1, 0, 7})),
                    "Embedding: index 7 at position [2] is out of range for num_embeddings=3 (valid range [0, 3))");
  CHECK(close(e.weight, {3, 4, 6, 8, 0, 1}, {3, 2}, 0, 0));
  CHECK_FALSE(e.weight.grad().defined());
}

TEST_CASE("Embedding errors: padding_idx out of range names the value and the range") {
  CHECK_THROWS_AS(nn::Embedding<float>(nn::EmbeddingOptions(3, 5).padding_idx(3)), tg::IndexError);
  CHECK_THROWS_WITH(nn::Embedding<float>(nn::EmbeddingOptions(3, 5).padding_idx(3)),
                    "Embedding: padding_idx 3 is out of range for num_embeddings=3 (valid range [-3, 3); negative "
                    "values count from the end)");
  CHECK_THROWS_WITH(nn::Embedding<float>(nn::EmbeddingOptions(3, 5).padding_idx(-4)),
                    "Embedding: padding_idx -4 is out of range for num_embeddings=3 (valid range [-3, 3); negative "
                    "values count from the end)");
  CHECK_THROWS_WITH(nn::Embedding<float>::from_pretrained(tg::zeros<float>({2, 2}), nn::EmbeddingFromPretrainedOptions().padding_idx(2)),
                    "Embedding: padding_idx 2 is out of range for num_embeddings=2 (valid range [-2, 2); negative "
                    "values count from the end)");
  CHECK_THROWS_WITH(nn::functional::embedding(tg::tensor<std::int64_t>({0}), tg::zeros<float>({2, 2}),
                                              nn::functional::EmbeddingFuncOptions().padding_idx(-3)),
                    "embedding: padding_idx -3 is out of range for num_embeddings=2 (valid range [-2, 2); negative "
                    "values count from the end)");
}

TEST_CASE("Embedding errors: max_norm must be positive, norm_type a number") {
  CHECK_THROWS_AS(nn::Embedding<float>(nn::EmbeddingOptions(3, 5).max_norm(0.0)), tg::ValueError);
  CHECK_THROWS_WITH(nn::Embedding<float>(nn::EmbeddingOptions(3, 5).max_norm(0.0)),
                    "Embedding: max_norm must be positive, got 0 (PyTorch would zero the rows, or flip their sign for a "
                    "negative max_norm)");
  CHECK_THROWS_WITH(nn::Embedding<float>(nn::EmbeddingOptions(3, 5).max_norm(-1.0)),
                    "Embedding: max_norm must be positive, got -1 (PyTorch would zero the rows, or flip their sign for a "
                    "negative max_norm)");
  CHECK_THROWS_WITH(nn::Embedding<float>(nn::EmbeddingOptions(3, 5).max_norm(1.0).norm_type(NAN)),
                    "Embedding: norm_type must be a number, got nan");
  nn::Embedding<float> e(3, 5);
  e.options.max_norm(-2.0);  // options changed after construction are checked at the next forward
  const auto before = e.weight.to_vector();
  CHECK_THROWS_WITH(e(tg::tensor<std::int64_t>({0})),
                    "Embedding: max_norm must be positive, got -2 (PyTorch would zero the rows, or flip their sign for a "
                    "negative max_norm)");
  CHECK(e.weight.to_vector() == before);
}

TEST_CASE("Embedding errors: bad sizes and bad pretrained or functional weights") {
  CHECK_THROWS_AS(nn::Embedding<float>(-1, 5), tg::ValueError);
  CHECK_THROWS_WITH(nn::Embedding<float>(-1, 5), "Embedding: num_embeddings and embedding_dim must be non-negative, got -1 and 5");
  CHECK_THROWS_WITH(nn::Embedding<float>(3, -2), "Embedding: num_embeddings and embedding_dim must be non-negative, got 3 and -2");
  CHECK(nn::Embedding<float>(0, 5).weight.shape() == tg::Shape{0, 5});
  CHECK_THROWS_AS(nn::Embedding<float>::from_pretrained(tg::zeros<float>({6})), tg::ShapeError);
  CHECK_THROWS_WITH(nn::Embedding<float>::from_pretrained(tg::zeros<float>({6})),
                    "Embedding::from_pretrained: embeddings must be 2-D [num_embeddings, embedding_dim], got shape [6]");
  CHECK_THROWS_WITH(nn::Embedding<float>::from_pretrained(tg::Tensor<float>()),
                    "Embedding::from_pretrained: embeddings must be 2-D [num_embeddings, embedding_dim], got an undefined tensor");
  CHECK_THROWS_WITH(nn::functional::embedding(tg::tensor<std::int64_t>({0}), tg::zeros<float>({2, 2, 2})),
                    "embedding: weight must be 2-D [num_embeddings, embedding_dim], got shape [2, 2, 2]");
  CHECK_THROWS_WITH(nn::functional::embedding(tg::tensor<std::int64_t>({0}), tg::Tensor<float>()),
                    "embedding: weight is undefined");
}

TEST_CASE("Embedding errors: assigning a weight of the wrong shape fails at the assignment") {
  nn::Embedding<float> e(nn::EmbeddingOptions(3, 5).padding_idx(0));
  CHECK_THROWS_AS(e.weight = tg::zeros<float>({5, 3}), tg::ShapeError);
  CHECK_THROWS_WITH(e.weight = tg::zeros<float>({5, 3}), "Embedding(3, 5, padding_idx=0).weight: expected shape [3, 5], got [5, 3]");
  CHECK(e.weight.shape() == tg::Shape{3, 5});
}

TEST_CASE("functional::embedding: options, padding and max_norm on a plain tensor") {
  const auto& g = nn_golden();
  const auto w = g.tensor<float>("embedding/weight", true);
  const auto out = nn::functional::embedding(g.tensor<std::int64_t>("embedding/pad/indices"), w,
                                             nn::functional::EmbeddingFuncOptions().padding_idx(1));
  out.backward(g.tensor<float>("embedding/pad/gout"));
  CHECK(close(out, g.values("embedding/pad/out"), {2, 3, 3}, 0, 0));
  CHECK(close(w.grad(), g.values("embedding/pad/grad"), {5, 3}, 0, 0));
}

}  // namespace embedding_test
