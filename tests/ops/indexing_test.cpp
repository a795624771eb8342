// SPDX-License-Identifier: MIT
// Indexing: select, narrow, index (basic and advanced) and index_put / index_put_, against the
// PyTorch goldens of tests/reference/golden_indexing.py, gradcheck and hand-computed cases.
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "ops_test.hpp"

namespace indexing_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace ix = tapegrad::indexing;
using ix::Ellipsis;
using ix::None;
using ix::Slice;
using ops_test::grad_ok;
using ops_test::Inputs;
using ops_test::leaf;
using tg_test::close;
using tg_test::message_of;

namespace {

const tg_test::Golden& gold() {
  static const tg_test::Golden g("indexing");
  return g;
}

tg::Tensor<std::int64_t> L(const std::vector<std::int64_t>& v) { return tg::tensor<std::int64_t>(v); }
tg::Tensor<std::int64_t> L(const std::vector<std::int64_t>& v, const tg::Shape& shape) {
  return tg::tensor<std::int64_t>(v, shape);
}
tg::Tensor<bool> B(const std::vector<bool>& v) { return tg::tensor<bool>(v); }

/// A golden bool tensor (stored as 0/1).
tg::Tensor<bool> golden_mask(const std::string& key) {
  const auto& values = gold().values(key);
  std::vector<bool> v;
  for (double d : values) v.push_back(d != 0);
  return tg::tensor<bool>(v, gold().shape(key));
}

/// The upstream gradient of the goldens: (1 + arange(n)) / 8 in the given shape.
template <class T>
tg::Tensor<T> upstream(const tg::Shape& shape) {
  tg::Tensor<T> g = tg::zeros<T>(shape);
  for (std::int64_t i = 0; i < g.numel(); ++i) g.data()[i] = static_cast<T>(i + 1) / 8;
  return g;
}

struct IndexCase {
  std::string name;
  std::string source;  // "x" [3, 4, 5] or "z" [2, 3, 4, 5]
  std::vector<ix::TensorIndex> indices;
};

// The same expressions as golden_indexing.py, case by case.
std::vector<IndexCase> index_cases() {
  const auto mask_x = golden_mask("mask_x"), mask_34 = golden_mask("mask_34");
  return {
      {"int", "x", {1}},                                                      // x[1]
      {"int_neg", "x", {-1, 2}},                                              // x[-1, 2]
      {"ints_all", "x", {1, -2, 3}},                                          // x[1, -2, 3]
      {"slice_from", "x", {Slice(1, None)}},                                  // x[1:]
      {"slice_then_int", "x", {Slice(1, None), 0}},                           // x[1:, 0]
      {"ellipsis_none_step", "x", {Ellipsis, None, Slice(None, None, 2)}},    // x[..., None, ::2]
      {"slice_negative", "x", {Slice(-2, None), Slice(None, -1), Slice(1, -1, 3)}},  // x[-2:, :-1, 1:-1:3]
      {"slice_clamped", "x", {Slice(-100, 100), Slice(2, 50)}},               // x[-100:100, 2:50]
      {"slice_empty", "x", {Slice(5, 2)}},                                    // x[5:2]
      {"slice_empty_mid", "x", {Slice(), Slice(3, 1)}},                       // x[:, 3:1]
      {"slice_step_past_end", "x", {Slice(), Slice(1, None, 2), Slice(4, 9, 3)}},  // x[:, 1::2, 4:9:3]
      {"none_front", "x", {None, 1, None, Slice(), 2}},                       // x[None, 1, None, :, 2]
      {"ellipsis_mid", "x", {0, "...", 1}},                                   // x[0, ..., 1]
      {"ellipsis_only", "x", {Ellipsis}},                                     // x[...]
      {"empty_list", "x", {}},                                                // x[()]
      {"tensor_1d", "x", {L({2, 0, 2, -1})}},
      {"tensor_2d", "x", {L({0, 1, 2, 2, 1, 0}, {3, 2})}},
      {"tensor_dim1", "x", {Slice(), L({3, 0, 3})}},
      {"tensor_last", "x", {Ellipsis, L({4, -5})}},
      {"tensor_after_int", "x", {1, Slice(), L({4, 0, 4})}},
      {"tensors_apart", "x", {L({2, 0}), Slice(), L({1, 3})}},                // block goes first
      {"tensors_adjacent", "x", {Slice(), L({3, 0}), L({1, 3})}},             // block stays in place
      {"tensors_broadcast", "x", {L({0, 2}, {2, 1}), L({1, 3, 0})}},
      {"tensors_none_between", "x", {Slice(), L({3, 0, 1}), None, L({1, 3, 4})}},  // None separates: first
      {"tensor_int_between", "z", {Slice(), L({2, 0, 2}), 1, L({4, 0, 1})}},  // an int does not separate
      {"tensor_int_after", "z", {Slice(), L({2, 0, 2}), Slice(), 0}},
      {"tensor_0d", "x", {tg::scalar_tensor<std::int64_t>(2), 1}},           // a 0-d index is an int
      {"tensor_empty", "x", {L({})}},
      {"tensor_slice_none", "x", {L({1, 1}), None, Slice(1, 3)}},
      {"mask_all", "x", {mask_x}},
      {"mask_dim0", "x", {B({true, false, true})}},
      {"mask_dim1", "x", {Slice(), B({false, true, true, false})}},
      {"mask_2d_then_slice", "x", {mask_34, Slice(1, 4)}},  // NumPy's meaning, see golden_indexing.py
      {"mask_after_int", "x", {1, B({true, false, true, true})}},
      {"mask_with_tensor", "x", {B({true, false, true}), Slice(), L({4, 1})}},
      {"mask_0d_true", "x", {tg::scalar_tensor<bool>(true)}},
      {"mask_0d_false", "x", {tg::scalar_tensor<bool>(false)}},
      {"mask_none_true", "x", {B({false, false, false})}},
  };
}

struct PutCase {
  std::string name;
  std::vector<ix::TensorIndex> indices;
  bool accumulate;
};

std::vector<PutCase> put_cases() {
  const auto mask_x = golden_mask("mask_x"), mask_34 = golden_mask("mask_34");
  return {
      {"int_row", {1}, false},
      {"slice_int_broadcast", {Slice(1, None), 0}, false},
      {"ellipsis_none_step", {Ellipsis, None, Slice(None, None, 2)}, false},
      {"tensor_rows", {L({2, 0})}, false},
      {"tensor_dim1_broadcast", {Slice(), L({3, 0, 1})}, false},
      {"tensors_apart", {L({2, 0}), Slice(), L({1, 3})}, false},
      {"mask", {mask_x}, false},
      {"mask_2d", {mask_34}, false},
      {"leading_ones", {0, 0}, false},  // values [1, 1, 5] into a region of shape [5]
      {"int_all", {2, -1, 0}, false},
      {"accumulate_repeats", {L({2, 0, 2, 2})}, true},
      {"accumulate_dim1_repeats", {Slice(), L({1, 1, 3})}, true},
      {"accumulate_basic", {Slice(1, None), 0}, true},
  };
}

}  // namespace

// ---- the index entries ----------------------------------------------------------------------------------

TEST_CASE("index: TensorIndex converts from what libtorch's does, and not from bool") {
  static_assert(std::is_convertible_v<int, ix::TensorIndex>);
  static_assert(std::is_convertible_v<std::int64_t, ix::TensorIndex>);
  static_assert(std::is_convertible_v<Slice, ix::TensorIndex>);
  static_assert(std::is_convertible_v<decltype(None), ix::TensorIndex>);
  static_assert(std::is_convertible_v<decltype(Ellipsis), ix::TensorIndex>);
  static_assert(std::is_convertible_v<tg::Tensor<std::int64_t>, ix::TensorIndex>);
  static_assert(std::is_convertible_v<tg::Tensor<std::int32_t>, ix::TensorIndex>);
  static_assert(std::is_convertible_v<tg::Tensor<bool>, ix::TensorIndex>);
  static_assert(!std::is_convertible_v<bool, ix::TensorIndex>);
  static_assert(!std::is_convertible_v<tg::Tensor<float>, ix::TensorIndex>);
  const Slice s(0, 6, 2);
  CHECK(*s.start() == 0);
  CHECK(*s.stop() == 6);
  CHECK(s.step() == 2);
  CHECK(!Slice().start());
  CHECK(!Slice(1, None).stop());
  CHECK(Slice(None, 3).step() == 1);
  CHECK_THROWS_AS(Slice(0, 4, 0), tg::ValueError);
  CHECK_THROWS_WITH(Slice(0, 4, 0), "Slice: step must be greater than zero, got 0");
  CHECK_THROWS_WITH(Slice(None, None, -1), "Slice: step must be greater than zero, got -1");
  CHECK_THROWS_WITH(ix::TensorIndex(".."), "TensorIndex: the only string index is \"...\" (Ellipsis), got \"..\"");
  CHECK(ix::TensorIndex("...").kind() == ix::TensorIndex::Kind::ellipsis);
  CHECK(ix::TensorIndex(tg::tensor<std::int32_t>({1, 2})).kind() == ix::TensorIndex::Kind::tensor);
}

// ---- select and narrow ------------------------------------------------------------------------------------

TEST_CASE("select: PyTorch values and gradients, negative dim and index") {
  const std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> cases = {
      {"d0", 0, 1}, {"d1_neg", 1, -1}, {"dneg_neg", -1, -5}, {"d2", 2, 3}};
  for (const auto& [name, dim, i] : cases) {
    INFO("select/" << name);
    auto x = gold().tensor<float>("x", true);
    const auto y = tg::select(x, dim, i);
    CHECK(close(y, gold().tensor<float>("select/" + name + "/out")));
    CHECK(y.grad_fn_name() == "SelectBackward0");
    y.backward(upstream<float>(y.shape()));
    CHECK(close(x.grad(), gold().tensor<float>("select/" + name + "/grad")));
  }
  CHECK(grad_ok([](const Inputs& v) { return tg::select(v[0], 1, -2); }, {leaf({3, 4, 2}, 1)}));
  CHECK(grad_ok([](const Inputs& v) { return tg::select(v[0], 0, 0); }, {leaf({1}, 2)}));  // to a 0-d result
  const auto r = tg::select(tg::tensor<float>({1, 2, 3}, {3}), 0, -1);
  CHECK(close(r, {3}, tg::Shape{}));
}

TEST_CASE("select: errors name the index, the dim and its size") {
  const auto x = tg::zeros<float>({2, 3});
  CHECK_THROWS_AS(tg::select(x, 1, 3), tg::IndexError);
  CHECK_THROWS_WITH(tg::select(x, 1, 3), "select: index 3 is out of range for dim 1 of size 3 (valid range [-3, 2])");
  CHECK_THROWS_WITH(tg::select(x, -2, -3), "select: index -3 is out of range for dim 0 of size 2 (valid range [-2, 1])");
  CHECK_THROWS_WITH(tg::select(x, 2, 0), "select: dim 2 is out of range for a tensor with 2 dimensions (valid range [-2, 1])");
  CHECK_THROWS_WITH(tg::select(tg::scalar_tensor<float>(1), 0, 0), "select: cannot select from a 0-d tensor (it has no dims)");
  CHECK_THROWS_WITH(tg::select(tg::zeros<float>({0, 2}), 0, 0),
                    "select: index 0 is out of range for dim 0 of size 0 (it has no valid index)");
}

TEST_CASE("narrow: PyTorch values and gradients, negative start, empty result") {
  const std::vector<std::tuple<std::string, std::int64_t, std::int64_t, std::int64_t>> cases = {
      {"d0", 0, 1, 2}, {"d1_negstart", 1, -3, 2}, {"dneg", -1, 0, 5}, {"empty", 2, 5, 0}, {"d2_mid", 2, 1, 3}};
  for (const auto& [name, dim, start, length] : cases) {
    INFO("narrow/" << name);
    auto x = gold().tensor<float>("x", true);
    const auto y = tg::narrow(x, dim, start, length);
    CHECK(close(y, gold().tensor<float>("narrow/" + name + "/out")));
    CHECK(y.grad_fn_name() == "SliceBackward0");
    y.backward(upstream<float>(y.shape()));
    CHECK(close(x.grad(), gold().tensor<float>("narrow/" + name + "/grad")));
  }
  CHECK(grad_ok([](const Inputs& v) { return tg::narrow(v[0], -1, -3, 2); }, {leaf({2, 4}, 3)}));
  CHECK(grad_ok([](const Inputs& v) { return tg::narrow(v[0], 0, 1, 2); }, {leaf({4, 3}, 4)}));
}

TEST_CASE("narrow: errors name start, length and the dim's size") {
  const auto x = tg::zeros<float>({2, 4});
  CHECK_THROWS_AS(tg::narrow(x, 1, 5, 0), tg::IndexError);
  CHECK_THROWS_WITH(tg::narrow(x, 1, 5, 0), "narrow: start 5 is out of range for dim 1 of size 4 (valid range [-4, 4])");
  CHECK_THROWS_WITH(tg::narrow(x, 1, -5, 1), "narrow: start -5 is out of range for dim 1 of size 4 (valid range [-4, 4])");
  CHECK_THROWS_WITH(tg::narrow(x, 1, 3, 2),
                    "narrow: length 2 from start 3 does not fit dim 1 of size 4 (valid range [0, 1])");
  CHECK_THROWS_WITH(tg::narrow(x, 0, 0, -1),
                    "narrow: length -1 from start 0 does not fit dim 0 of size 2 (valid range [0, 2])");
  CHECK_THROWS_WITH(tg::narrow(x, 1, 1, std::numeric_limits<std::int64_t>::max()),
                    "narrow: length 9223372036854775807 from start 1 does not fit dim 1 of size 4 (valid range [0, 3])");
  CHECK_THROWS_WITH(tg::narrow(tg::scalar_tensor<float>(1), 0, 0, 1), "narrow: cannot narrow a 0-d tensor (it has no dims)");
  CHECK(tg::narrow(x, 1, 4, 0).shape() == tg::Shape{2, 0});
}

// ---- index ------------------------------------------------------------------------------------------------

TEST_CASE("index: PyTorch values and gradients for basic and advanced indexing") {
  for (const IndexCase& c : index_cases()) {
    INFO("index/" << c.name);
    auto src = gold().tensor<float>(c.source, true);
    const auto y = tg::index(src, c.indices);
    CHECK(close(y, gold().tensor<float>("index/" + c.name + "/out")));
    CHECK(y.grad_fn_name() == "IndexBackward0");
    CHECK(!y.shares_storage(src));
    y.backward(upstream<float>(y.shape()));
    CHECK(close(src.grad(), gold().tensor<float>("index/" + c.name + "/grad")));
  }
}

TEST_CASE("index: braced lists, 0-d results and empty slices by hand") {
  const auto x = tg::tensor<float>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {3, 4});
  CHECK(close(tg::index(x, {1, 2}), {6}, tg::Shape{}));  // all dims by ints: 0-d
  CHECK(close(tg::index(x, {-1, -4}), {8}, tg::Shape{}));
  CHECK(close(tg::index(x, {Slice(1, None), 0}), {4, 8}, {2}));
  CHECK(close(tg::index(x, {Slice(None, None, 2), Slice(None, 3)}), {0, 1, 2, 8, 9, 10}, {2, 3}));
  CHECK(close(tg::index(x, {Ellipsis, None, Slice(0, 6, 2)}), {0, 2, 4, 6, 8, 10}, {3, 1, 2}));
  CHECK(tg::index(x, {Slice(5, 2)}).shape() == tg::Shape{0, 4});
  CHECK(tg::index(x, {Slice(), Slice(-1, -3)}).shape() == tg::Shape{3, 0});
  CHECK(close(tg::index(x, {Slice(None, None, 100)}), {0, 1, 2, 3}, {1, 4}));
  constexpr auto big = std::numeric_limits<std::int64_t>::max(), small = std::numeric_limits<std::int64_t>::min();
  CHECK(close(tg::index(x, {Slice(1, None, big), Slice(small, big, big)}), {4}, {1, 1}));
  CHECK(close(tg::index(x, {Slice(small, small), Slice(big, None)}), {}, {0, 0}));
  CHECK(close(tg::index(x, {Ellipsis}), x));
  CHECK(close(tg::index(x, {None}), {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {1, 3, 4}));
  // A 0-d tensor: Ellipsis and None only.
  const auto s = tg::scalar_tensor<float>(5);
  CHECK(close(tg::index(s, {Ellipsis}), {5}, tg::Shape{}));
  CHECK(close(tg::index(s, {None, None}), {5}, {1, 1}));
  CHECK(close(tg::index(s, {tg::scalar_tensor<bool>(true)}), {5}, {1}));
  // An empty tensor.
  const auto e = tg::zeros<float>({0, 3});
  CHECK(tg::index(e, {Slice(), 1}).shape() == tg::Shape{0});
  CHECK(tg::index(e, {L({}), Slice(1, None)}).shape() == tg::Shape{0, 2});
  CHECK(tg::index(tg::zeros<float>({2, 0}), {L({1, 1, 0})}).shape() == tg::Shape{3, 0});
  // The std::vector overload.
  const std::vector<ix::TensorIndex> list = {Slice(), -1};
  CHECK(close(tg::index(x, list), {3, 7, 11}, {3}));
}

TEST_CASE("index: integer and bool tensors, int32 index tensors") {
  const auto xi = tg::tensor<std::int64_t>({10, 11, 12, 13, 14, 15}, {2, 3});
  CHECK(close(tg::index(xi, {Slice(), L({2, 0})}), {12, 10, 15, 13}, {2, 2}));
  CHECK(close(tg::index(xi, {B({false, true})}), {13, 14, 15}, {1, 3}));
  const auto xb = tg::tensor<bool>({true, false, true, true}, {4});
  CHECK(close(tg::index(xb, {Slice(1, None)}), {0, 1, 1}, {3}));
  const auto x = tg::tensor<double>({1, 2, 3, 4}, {4});
  CHECK(close(tg::index(x, {tg::tensor<std::int32_t>({3, -4})}), {4, 1}, {2}));
}

TEST_CASE("index: the result is a copy, writes to it do not reach the source") {
  auto x = tg::tensor<float>({1, 2, 3, 4}, {2, 2});
  auto row = tg::index(x, {0});
  row.data()[0] = 100;
  CHECK(close(x, {1, 2, 3, 4}, {2, 2}));
  CHECK(!tg::select(x, 0, 0).shares_storage(x));
  CHECK(!tg::narrow(x, 0, 0, 1).shares_storage(x));
}

TEST_CASE("index: gradcheck for basic and advanced indexing with repeated indices") {
  const auto x = leaf({3, 4, 2}, 5);
  std::vector<std::vector<ix::TensorIndex>> lists = {
      {1, Slice(1, None)},
      {Ellipsis, None, Slice(None, None, 2)},
      {Slice(-2, None), -1, None},
      {L({2, 0, 2, -1})},
      {Slice(), L({1, 1, 3}, {3, 1}), L({0, 1})},
      {L({0, 2}), Slice(), L({1, 1})},
      {B({true, false, true}), Slice(1, 3)},
      {tg::tensor<bool>(std::vector<bool>(24, true), {3, 4, 2})},
      {0, 1, 1},
  };
  for (std::size_t k = 0; k < lists.size(); ++k) {
    INFO("index list " << k);
    const auto indices = lists[k];
    CHECK(grad_ok([indices](const Inputs& v) { return tg::index(v[0], indices); }, {x}));
  }
}

TEST_CASE("index: errors name the index, the dim and its size") {
  const auto x = tg::zeros<float>({2, 3});
  CHECK_THROWS_AS(tg::index(x, {0, 5}), tg::IndexError);
  CHECK_THROWS_WITH(tg::index(x, {1, 5}), "index: index 5 is out of range for dim 1 of size 3 (valid range [-3, 2])");
  CHECK_THROWS_WITH(tg::index(x, {-3}), "index: index -3 is out of range for dim 0 of size 2 (valid range [-2, 1])");
  CHECK_THROWS_WITH(tg::index(x, {Ellipsis, 3}), "index: index 3 is out of range for dim 1 of size 3 (valid range [-3, 2])");
  CHECK_THROWS_WITH(tg::index(x, {None, Slice(), 3}),
                    "index: index 3 is out of range for dim 1 of size 3 (valid range [-3, 2])");
  CHECK_THROWS_AS(tg::index(x, {0, 0, 0}), tg::IndexError);
  CHECK_THROWS_WITH(tg::index(x, {0, 0, 0}), "index: too many indices for a tensor of dimension 2 (got 3)");
  CHECK_THROWS_WITH(tg::index(x, {B({true, false}), 0, 0}), "index: too many indices for a tensor of dimension 2 (got 3)");
  CHECK_THROWS_WITH(tg::index(tg::scalar_tensor<float>(1), {0}),
                    "index: too many indices for a tensor of dimension 0 (got 1)");
  CHECK_THROWS_WITH(tg::index(x, {Ellipsis, 0, Ellipsis}),
                    "index: an index can only have a single ellipsis ('...'), got 2");
  CHECK_THROWS_WITH(tg::index(x, {Slice(), L({0, 3, 1})}),
                    "index: index 3 at position 1 is out of range for dim 1 of size 3 (valid range [-3, 2])");
  CHECK_THROWS_WITH(tg::index(x, {L({0, 0, 1, -3}, {2, 2})}),
                    "index: index -3 at position [1, 1] is out of range for dim 0 of size 2 (valid range [-2, 1])");
  CHECK_THROWS_WITH(tg::index(x, {tg::scalar_tensor<std::int64_t>(2)}),
                    "index: index 2 is out of range for dim 0 of size 2 (valid range [-2, 1])");
  CHECK_THROWS_AS(tg::index(x, {B({true, false, true})}), tg::IndexError);
  CHECK_THROWS_WITH(tg::index(x, {Slice(), B({true, false})}),
                    "index: the mask of shape [2] does not match the shape [3] of the dims it indexes (dims 1 to 1 of a "
                    "tensor of shape [2, 3])");
  CHECK_THROWS_AS(tg::index(x, {L({0, 1}), L({0, 1, 2})}), tg::ShapeError);
  CHECK_THROWS_WITH(tg::index(x, {L({0, 1}), L({0, 1, 2})}),
                    "index: shapes [2] and [3] cannot be broadcast together (size 2 vs 3 at dimension 0 of the result)");
  CHECK_THROWS_AS(tg::index(tg::Tensor<float>(), {0}), tg::ValueError);
}

// ---- index_put and index_put_ -----------------------------------------------------------------------------

TEST_CASE("index_put: PyTorch values and gradients for both inputs") {
  for (const PutCase& c : put_cases()) {
    INFO("index_put/" << c.name);
    const std::string key = "index_put/" + c.name;
    auto x = gold().tensor<float>("x", true);
    auto values = gold().tensor<float>(key + "/values", true);
    const auto y = tg::index_put(x, c.indices, values, c.accumulate);
    CHECK(close(y, gold().tensor<float>(key + "/out"), 1e-6, 1e-6));
    CHECK(y.grad_fn_name() == "IndexPutBackward0");
    y.backward(upstream<float>(y.shape()));
    CHECK(close(x.grad(), gold().tensor<float>(key + "/grad_x")));
    CHECK(close(values.grad(), gold().tensor<float>(key + "/grad_values"), 1e-6, 1e-6));
    // In place gives the same values.
    auto target = gold().tensor<float>("x");
    auto& returned = tg::index_put_(target, c.indices, values.detach(), c.accumulate);
    CHECK(returned.is_same(target));
    CHECK(close(target, gold().tensor<float>(key + "/out"), 1e-6, 1e-6));
  }
  auto target = gold().tensor<float>("x");
  tg::index_put_(target, {Slice(), Slice(1, 3)}, 7.0f);
  CHECK(close(target, gold().tensor<float>("index_put/scalar_slice/out")));
  CHECK(close(tg::index_put(gold().tensor<float>("x"), {golden_mask("mask_x")}, -0.5f),
              gold().tensor<float>("index_put/scalar_mask/out")));
}

TEST_CASE("index_put: gradcheck for both inputs, with and without accumulate") {
  const auto x = leaf({3, 4}, 6);
  for (bool accumulate : {false, true}) {
    INFO("accumulate " << accumulate);
    CHECK(grad_ok([accumulate](const Inputs& v) { return tg::index_put(v[0], {Slice(1, None), 0}, v[1], accumulate); },
                  {x, leaf({2}, 7)}));
    CHECK(grad_ok([accumulate](const Inputs& v) { return tg::index_put(v[0], {Ellipsis, None, Slice(None, None, 2)}, v[1], accumulate); },
                  {x, leaf({1, 2}, 8)}));
    CHECK(grad_ok([accumulate](const Inputs& v) { return tg::index_put(v[0], {L({2, 0})}, v[1], accumulate); },
                  {x, leaf({2, 4}, 9)}));
    CHECK(grad_ok([accumulate](const Inputs& v) { return tg::index_put(v[0], {B({true, false, true})}, v[1], accumulate); },
                  {x, leaf({4}, 10)}));
    CHECK(grad_ok([accumulate](const Inputs& v) { return tg::index_put(v[0], {1, 2}, v[1], accumulate); },
                  {x, leaf({}, 11)}));
    CHECK(grad_ok([accumulate](const Inputs& v) { return tg::index_put(v[0], {Slice(), -1}, 2.5, accumulate); }, {x}));
  }
  // Repeated indices: accumulate adds every copy; without it, the values' gradient still gathers each.
  CHECK(grad_ok([](const Inputs& v) { return tg::index_put(v[0], {Slice(), L({1, 1, 3})}, v[1], true); },
                {x, leaf({3, 3}, 12)}));
}

TEST_CASE("index_put_: repeated indices, accumulate, leading ones and shared storage by hand") {
  auto a = tg::tensor<float>({0, 0, 0, 0}, {4});
  tg::index_put_(a, {L({1, 3, 1})}, tg::tensor<float>({1, 2, 3}, {3}));  // the last write wins
  CHECK(close(a, {0, 3, 0, 2}, {4}));
  tg::index_put_(a, {L({1, 3, 1})}, tg::tensor<float>({1, 2, 3}, {3}), true);  // repeats add up
  CHECK(close(a, {0, 7, 0, 4}, {4}));
  tg::index_put_(a, {Slice(None, None, 2)}, 5.0f, true);
  CHECK(close(a, {5, 7, 5, 4}, {4}));
  tg::index_put_(a, {0}, tg::tensor<float>({-1}, {1, 1}));  // leading size-1 dims of the values are dropped
  CHECK(close(a, {-1, 7, 5, 4}, {4}));
  // Values sharing a's elements are read before anything is written.
  auto p = tg::tensor<float>({1, 2, 3}, {3});
  tg::index_put_(p, {L({1, 2, 0})}, p.view({3}));
  CHECK(close(p, {3, 1, 2}, {3}));
  // Integer and bool tensors.
  auto m = tg::tensor<bool>({false, false, true}, {3});
  tg::index_put_(m, {Slice(None, 2)}, true);
  CHECK(close(m, {1, 1, 1}, {3}));
  auto n = tg::tensor<std::int64_t>({1, 2, 3, 4}, {2, 2});
  tg::index_put_(n, {Slice(), 0}, tg::tensor<std::int64_t>({10}, {1}), true);
  CHECK(close(n, {11, 2, 13, 4}, {2, 2}));
  // Empty region: nothing written, any broadcastable values accepted.
  auto e = tg::tensor<float>({1, 2}, {2});
  tg::index_put_(e, {Slice(2, None)}, tg::tensor<float>({9}, {1}));
  CHECK(close(e, {1, 2}, {2}));
}

TEST_CASE("index_put_: refused on a tensor that requires grad, allowed under NoGradGuard") {
  auto w = tg::tensor<float>({1, 2, 3}, {3}, true);
  CHECK_THROWS_AS(tg::index_put_(w, {0}, 5.0f), tg::AutogradError);
  CHECK_THROWS_WITH(tg::index_put_(w, {0}, 5.0f), tg_test::Contains("index_put_: in-place operation on a tensor that requires grad"));
  CHECK(close(w, {1, 2, 3}, {3}));
  {
    tg::NoGradGuard no_grad;
    tg::index_put_(w, {0}, 5.0f);
  }
  CHECK(close(w, {5, 2, 3}, {3}));
}

TEST_CASE("index_put: errors name the values' and the region's shapes, the input stays unchanged") {
  auto x = tg::tensor<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK_THROWS_AS(tg::index_put_(x, {0}, tg::tensor<float>({1, 2}, {2})), tg::ShapeError);
  CHECK_THROWS_WITH(tg::index_put_(x, {0}, tg::tensor<float>({1, 2}, {2})),
                    "index_put_: values of shape [2] cannot be broadcast to the indexed region of shape [3]");
  CHECK_THROWS_WITH(tg::index_put(x, {Slice(), 0}, tg::zeros<float>({2, 1, 2})),
                    "index_put: values of shape [2, 1, 2] cannot be broadcast to the indexed region of shape [2]");
  CHECK_THROWS_WITH(tg::index_put_(x, {L({0, 2})}, 0.0f),
                    "index_put_: index 2 at position 1 is out of range for dim 0 of size 2 (valid range [-2, 1])");
  CHECK_THROWS_WITH(tg::index_put(x, {0, 0, 0}, 0.0f), "index_put: too many indices for a tensor of dimension 2 (got 3)");
  CHECK_THROWS_AS(tg::index_put_(x, {0}, tg::Tensor<float>()), tg::ValueError);
  CHECK(close(x, {1, 2, 3, 4, 5, 6}, {2, 3}));
}

}  // namespace indexing_test
