// SPDX-License-Identifier: MIT
// Shape ops: cat, stack, index_select, unsqueeze, squeeze, flatten, one_hot.
#include "ops_test.hpp"

namespace shape_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
using ops_test::grad_ok;
using ops_test::Inputs;
using ops_test::leaf;
using tg_test::close;

// ---- cat ------------------------------------------------------------------------------------------------

TEST_CASE("cat: values along each dim, negative dims, integer tensors") {
  const auto a = tg::tensor<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  const auto b = tg::tensor<float>({7, 8}, {2, 1});
  const auto c = tg::tensor<float>({9, 10, 11}, {1, 3});
  CHECK(close(tg::cat({a, b}, 1), {1, 2, 3, 7, 4, 5, 6, 8}, {2, 4}));
  CHECK(close(tg::cat({a, b}, -1), {1, 2, 3, 7, 4, 5, 6, 8}, {2, 4}));
  CHECK(close(tg::cat({a, c, a}), {1, 2, 3, 4, 5, 6, 9, 10, 11, 1, 2, 3, 4, 5, 6}, {5, 3}));
  CHECK(close(tg::cat({a}), {1, 2, 3, 4, 5, 6}, {2, 3}));
  const auto i = tg::tensor<std::int64_t>({1, 2}, {2});
  CHECK(close(tg::cat({i, i}), {1, 2, 1, 2}));
  const std::vector<tg::Tensor<float>> list = {b, b, b};
  CHECK(close(tg::cat(list, 1), {7, 7, 7, 8, 8, 8}, {2, 3}));
}

TEST_CASE("cat: gradients, with inputs that do and do not need one") {
  const auto a = leaf({2, 3}, 1), b = leaf({2, 2}, 2), c = leaf({2, 1}, 3);
  CHECK(grad_ok([](const Inputs& v) { return tg::cat({v[0], v[1], v[2]}, 1); }, {a, b, c}));
  CHECK(grad_ok([](const Inputs& v) { return tg::cat({v[0], v[0]}, 0); }, {a}));
  CHECK(grad_ok([](const Inputs& v) { return tg::cat({leaf({2, 3, 2}, 4).detach(), v[0]}, -1); }, {leaf({2, 3, 1}, 5)}));
  CHECK(grad_ok([](const Inputs& v) { return tg::cat({v[0], v[1]}, 1); }, {leaf({2, 0, 2}, 6), leaf({2, 3, 2}, 7)}));
  auto x = tg::ones<float>({2}, true);
  const auto y = tg::cat({x, tg::zeros<float>({3})});
  CHECK(y.grad_fn_name() == "CatBackward0");
  tg::sum(y * tg::tensor<float>({1, 2, 3, 4, 5}, {5})).backward();
  CHECK(close(x.grad(), {1, 2}));
}

TEST_CASE("cat: a 1-d empty tensor is skipped, as in PyTorch") {
  auto e = tg::zeros<double>({0}, true);
  auto a = tg::tensor<double>({1, 2, 3, 4}, {2, 2}, true);
  auto y = tg::cat({e, a, e}, 1);
  CHECK(close(y, {1, 2, 3, 4}, {2, 2}));
  tg::sum(y).backward();
  CHECK(e.grad().shape() == tg::Shape{0});
  CHECK(close(a.grad(), {1, 1, 1, 1}));
  CHECK(tg::cat({e, e}).shape() == tg::Shape{0});
  CHECK(grad_ok([](const Inputs& v) { return tg::cat({v[0], v[1]}, 0); }, {tg::zeros<double>({0}, true), leaf({3, 2}, 8)}));
}

TEST_CASE("cat: errors name the offending tensor's position and shape") {
  const auto a = tg::ones<float>({2, 3});
  CHECK_THROWS_AS(tg::cat(std::vector<tg::Tensor<float>>{}), tg::ValueError);
  CHECK_THROWS_WITH(tg::cat(std::vector<tg::Tensor<float>>{}), "cat: expected a non-empty list of tensors");
  CHECK_THROWS_AS(tg::cat({a, tg::ones<float>({2, 4})}), tg::ShapeError);
  CHECK_THROWS_WITH(tg::cat({a, a, tg::ones<float>({2, 4})}),
                    "cat: the tensor at position 2 has shape [2, 4] but the tensor at position 0 has shape [2, 3]; sizes "
                    "must match except in dimension 0");
  CHECK_THROWS_WITH(tg::cat({a, tg::ones<float>({3, 3})}, 1),
                    "cat: the tensor at position 1 has shape [3, 3] but the tensor at position 0 has shape [2, 3]; sizes "
                    "must match except in dimension 1");
  CHECK_THROWS_WITH(tg::cat({a, tg::ones<float>({2})}),
                    "cat: the tensor at position 1 has shape [2] but the tensor at position 0 has shape [2, 3]; all "
                    "tensors need the same number of dimensions");
  CHECK_THROWS_WITH(tg::cat({tg::zeros<float>({0}), a, tg::ones<float>({2, 3, 1})}),
                    "cat: the tensor at position 2 has shape [2, 3, 1] but the tensor at position 1 has shape [2, 3]; all "
                    "tensors need the same number of dimensions");
  CHECK_THROWS_WITH(tg::cat({a, tg::scalar_tensor<float>(1)}),
                    "cat: the tensor at position 1 is 0-d and cannot be concatenated; unsqueeze it to shape [1] or use stack");
  CHECK_THROWS_AS(tg::cat({a, a}, 2), tg::IndexError);
  CHECK_THROWS_WITH(tg::cat({a, a}, 2), "cat: dim 2 is out of range for a tensor with 2 dimensions (valid range [-2, 1])");
}

// ---- stack ----------------------------------------------------------------------------------------------

TEST_CASE("stack: values and shapes for every new dim, 0-d inputs") {
  const auto a = tg::tensor<float>({1, 2, 3}, {3}), b = tg::tensor<float>({4, 5, 6}, {3});
  CHECK(close(tg::stack({a, b}), {1, 2, 3, 4, 5, 6}, {2, 3}));
  CHECK(close(tg::stack({a, b}, 1), {1, 4, 2, 5, 3, 6}, {3, 2}));
  CHECK(close(tg::stack({a, b}, -1), {1, 4, 2, 5, 3, 6}, {3, 2}));
  CHECK(close(tg::stack({a, b}, -2), {1, 2, 3, 4, 5, 6}, {2, 3}));
  CHECK(close(tg::stack({tg::scalar_tensor<float>(1), tg::scalar_tensor<float>(2)}), {1, 2}, tg::Shape{2}));
  CHECK(tg::stack({tg::ones<float>({2, 3}), tg::ones<float>({2, 3})}, 1).shape() == tg::Shape{2, 2, 3});
  CHECK(tg::stack({tg::zeros<float>({0, 2})}, 2).shape() == tg::Shape{0, 2, 1});
  const auto i = tg::tensor<std::int32_t>({1, 2}, {2});
  CHECK(close(tg::stack({i, i}, 1), {1, 1, 2, 2}, {2, 2}));
}

TEST_CASE("stack: gradients for every new dim") {
  const auto a = leaf({2, 3}, 11), b = leaf({2, 3}, 12);
  for (std::int64_t d : {0, 1, 2, -1, -3}) {
    INFO("dim " << d);
    CHECK(grad_ok([d](const Inputs& v) { return tg::stack({v[0], v[1], v[0]}, d); }, {a, b}));
  }
  CHECK(tg::stack({a, b}).grad_fn_name() == "StackBackward0");
}

TEST_CASE("stack: errors name the offending tensor's position and shape") {
  const auto a = tg::ones<float>({2, 3});
  CHECK_THROWS_WITH(tg::stack(std::vector<tg::Tensor<float>>{}), "stack: expected a non-empty list of tensors");
  CHECK_THROWS_AS(tg::stack({a, tg::ones<float>({3, 2})}), tg::ShapeError);
  CHECK_THROWS_WITH(tg::stack({a, a, tg::ones<float>({3, 2})}),
                    "stack: the tensor at position 2 has shape [3, 2] but the tensor at position 0 has shape [2, 3]; all "
                    "tensors must have the same shape");
  CHECK_THROWS_AS(tg::stack({a, a}, 3), tg::IndexError);
  CHECK_THROWS_WITH(tg::stack({a, a}, 3),
                    "stack: dim 3 is out of range for inserting a dimension into a tensor with 2 dimensions (valid range "
                    "[-3, 2])");
  CHECK_THROWS_WITH(tg::stack({a, a}, -4),
                    "stack: dim -4 is out of range for inserting a dimension into a tensor with 2 dimensions (valid range "
                    "[-3, 2])");
}

// ---- index_select ----------------------------------------------------------------------------------------

TEST_CASE("index_select: values along each dim, repeats, int32 and 0-d indices") {
  const auto x = tg::tensor<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(close(tg::index_select(x, 1, tg::tensor<std::int64_t>({2, 0, 2}, {3})), {3, 1, 3, 6, 4, 6}, {2, 3}));
  CHECK(close(tg::index_select(x, 0, tg::tensor<std::int64_t>({1}, {1})), {4, 5, 6}, {1, 3}));
  CHECK(close(tg::index_select(x, -1, tg::tensor<std::int32_t>({1, 1}, {2})), {2, 2, 5, 5}, {2, 2}));
  CHECK(close(tg::index_select(x, 0, tg::scalar_tensor<std::int64_t>(1)), {4, 5, 6}, {1, 3}));  // 0-d index: size 1
  CHECK(tg::index_select(x, 1, tg::zeros<std::int64_t>({0})).shape() == tg::Shape{2, 0});
  CHECK(close(tg::index_select(tg::scalar_tensor<float>(7), 0, tg::tensor<std::int64_t>({0}, {1})), std::vector<double>{7},
              tg::Shape{}));
  const auto i = tg::tensor<std::int64_t>({10, 20, 30}, {3});
  CHECK(close(tg::index_select(i, 0, tg::tensor<std::int32_t>({2, 0}, {2})), {30, 10}));
}

TEST_CASE("index_select: gradients accumulate over repeated indices") {
  const auto x = leaf({3, 4}, 21);
  const auto idx = tg::tensor<std::int64_t>({2, 0, 2, 2}, {4});
  CHECK(grad_ok([idx](const Inputs& v) { return tg::index_select(v[0], 0, idx); }, {x}));
  CHECK(grad_ok([idx](const Inputs& v) { return tg::index_select(v[0], 1, idx); }, {x}));
  const auto idx32 = tg::tensor<std::int32_t>({1, 1}, {2});
  CHECK(grad_ok([idx32](const Inputs& v) { return tg::index_select(v[0], -1, idx32); }, {leaf({2, 3, 2}, 22)}));
  auto w = tg::zeros<float>({3, 2}, true);
  auto y = tg::index_select(w, 0, tg::tensor<std::int64_t>({1, 1, 2}, {3}));
  CHECK(y.grad_fn_name() == "IndexSelectBackward0");
  tg::sum(y).backward();
  CHECK(close(w.grad(), {0, 0, 2, 2, 1, 1}));
}

TEST_CASE("index_select: a later write to the index does not change the gradient") {
  auto w = tg::zeros<float>({3}, true);
  auto idx = tg::tensor<std::int64_t>({0, 0}, {2});
  auto y = tg::index_select(w, 0, idx);
  idx.data()[1] = 2;  // copy-on-write: the op saw [0, 0]
  tg::sum(y).backward();
  CHECK(close(w.grad(), {2, 0, 0}));
}

TEST_CASE("index_select: bad indices name the value, its position and the valid range") {
  const auto x = tg::ones<float>({2, 3});
  CHECK_THROWS_AS(tg::index_select(x, 1, tg::tensor<std::int64_t>({0, 3}, {2})), tg::IndexError);
  CHECK_THROWS_WITH(tg::index_select(x, 1, tg::tensor<std::int64_t>({0, 1, 3}, {3})),
                    "index_select: index 3 at position 2 is out of range for dimension 1 of size 3 (valid range [0, 3))");
  CHECK_THROWS_WITH(tg::index_select(x, 0, tg::tensor<std::int32_t>({-1}, {1})),
                    "index_select: index -1 at position 0 is out of range for dimension 0 of size 2 (valid range [0, 2))");
  CHECK_THROWS_WITH(tg::index_select(x, 0, tg::scalar_tensor<std::int64_t>(5)),
                    "index_select: index 5 is out of range for dimension 0 of size 2 (valid range [0, 2))");
  CHECK_THROWS_AS(tg::index_select(x, 0, tg::zeros<std::int64_t>({1, 1})), tg::ShapeError);
  CHECK_THROWS_WITH(tg::index_select(x, 0, tg::zeros<std::int64_t>({1, 1})),
                    "index_select: index must be 0-d or 1-d, got shape [1, 1]");
  CHECK_THROWS_WITH(tg::index_select(x, 2, tg::zeros<std::int64_t>({1})),
                    "index_select: dim 2 is out of range for a tensor with 2 dimensions (valid range [-2, 1])");
  CHECK_THROWS_WITH(tg::index_select(tg::scalar_tensor<float>(1), 0, tg::zeros<std::int64_t>({2})),
                    "index_select: a 0-d input takes exactly one index, got index of shape [2]");
}

// ---- unsqueeze / squeeze / flatten -----------------------------------------------------------------------

TEST_CASE("unsqueeze and squeeze: shapes, shared storage, names") {
  auto x = tg::tensor<float>({1, 2, 3, 4, 5, 6}, {2, 3}, true);
  CHECK(tg::unsqueeze(x, 0).shape() == tg::Shape{1, 2, 3});
  CHECK(tg::unsqueeze(x, 2).shape() == tg::Shape{2, 3, 1});
  CHECK(tg::unsqueeze(x, -1).shape() == tg::Shape{2, 3, 1});
  CHECK(tg::unsqueeze(x, -3).shape() == tg::Shape{1, 2, 3});
  CHECK(tg::unsqueeze(tg::scalar_tensor<float>(1), 0).shape() == tg::Shape{1});
  CHECK(tg::unsqueeze(x, 1).shares_storage(x));
  CHECK(tg::unsqueeze(x, 1).grad_fn_name() == "UnsqueezeBackward0");
  const auto y = tg::ones<float>({1, 3, 1, 2}, true);
  CHECK(tg::squeeze(y, 0).shape() == tg::Shape{3, 1, 2});
  CHECK(tg::squeeze(y, -2).shape() == tg::Shape{1, 3, 2});
  CHECK(tg::squeeze(y, 1).shape() == tg::Shape{1, 3, 1, 2});  // size 3: unchanged, as in PyTorch
  CHECK(tg::squeeze(y).shape() == tg::Shape{3, 2});
  CHECK(tg::squeeze(tg::ones<float>({1, 1})).shape() == tg::Shape{});
  CHECK(tg::squeeze(tg::scalar_tensor<float>(1), 0).shape() == tg::Shape{});
  CHECK(tg::squeeze(y, 0).grad_fn_name() == "SqueezeBackward1");
  CHECK(tg::squeeze(y).grad_fn_name() == "SqueezeBackward0");
  CHECK(close(tg::squeeze(tg::unsqueeze(x, 1), 1), {1, 2, 3, 4, 5, 6}, {2, 3}));
}

TEST_CASE("unsqueeze, squeeze, flatten: gradients") {
  const auto x = leaf({2, 1, 3}, 31);
  for (std::int64_t d : {0, 1, 3, -1, -4})
    CHECK(grad_ok([d](const Inputs& v) { return tg::unsqueeze(v[0], d) * 2.0; }, {x}));
  CHECK(grad_ok([](const Inputs& v) { return tg::squeeze(v[0], 1) * 2.0; }, {x}));
  CHECK(grad_ok([](const Inputs& v) { return tg::squeeze(v[0], 0) * 2.0; }, {x}));
  CHECK(grad_ok([](const Inputs& v) { return tg::squeeze(v[0]) * 2.0; }, {x}));
  CHECK(grad_ok([](const Inputs& v) { return tg::flatten(v[0]) * 2.0; }, {x}));
  CHECK(grad_ok([](const Inputs& v) { return tg::flatten(v[0], 1) * 2.0; }, {x}));
  CHECK(grad_ok([](const Inputs& v) { return tg::flatten(v[0], 0, -2) * 2.0; }, {x}));
}

TEST_CASE("flatten: shapes, 0-d input, start_dim == end_dim returns the tensor itself") {
  const auto x = tg::ones<float>({2, 3, 4, 5}, true);
  CHECK(tg::flatten(x).shape() == tg::Shape{120});
  CHECK(tg::flatten(x, 1).shape() == tg::Shape{2, 60});
  CHECK(tg::flatten(x, 1, 2).shape() == tg::Shape{2, 12, 5});
  CHECK(tg::flatten(x, -3, -2).shape() == tg::Shape{2, 12, 5});
  CHECK(tg::flatten(x).grad_fn_name() == "ReshapeAliasBackward0");
  CHECK(tg::flatten(x, 2, 2).is_same(x));
  CHECK(tg::flatten(tg::scalar_tensor<float>(3)).shape() == tg::Shape{1});
  CHECK(tg::flatten(tg::zeros<float>({2, 0, 3}), 1).shape() == tg::Shape{2, 0});
  CHECK(tg::flatten(x).shares_storage(x));
  CHECK_THROWS_AS(tg::flatten(x, 2, 1), tg::ValueError);
  CHECK_THROWS_WITH(tg::flatten(x, 2, 1), "flatten: start_dim 2 comes after end_dim 1 (dims 2 and 1 of shape [2, 3, 4, 5])");
  CHECK_THROWS_WITH(tg::flatten(x, -1, 0), "flatten: start_dim -1 comes after end_dim 0 (dims 3 and 0 of shape [2, 3, 4, 5])");
  CHECK_THROWS_WITH(tg::flatten(x, 4), "flatten: dim 4 is out of range for a tensor with 4 dimensions (valid range [-4, 3])");
}

TEST_CASE("unsqueeze and squeeze: bad dims name the dim and the valid range") {
  const auto x = tg::ones<float>({2, 3});
  CHECK_THROWS_AS(tg::unsqueeze(x, 3), tg::IndexError);
  CHECK_THROWS_WITH(tg::unsqueeze(x, 3),
                    "unsqueeze: dim 3 is out of range for inserting a dimension into a tensor with 2 dimensions (valid "
                    "range [-3, 2])");
  CHECK_THROWS_WITH(tg::unsqueeze(tg::scalar_tensor<float>(1), -2),
                    "unsqueeze: dim -2 is out of range for inserting a dimension into a tensor with 0 dimensions (valid "
                    "range [-1, 0])");
  CHECK_THROWS_WITH(tg::squeeze(x, 2), "squeeze: dim 2 is out of range for a tensor with 2 dimensions (valid range [-2, 1])");
}

// ---- one_hot ---------------------------------------------------------------------------------------------

TEST_CASE("one_hot: values, inferred num_classes, result types, n-d and int32 indices") {
  const auto idx = tg::tensor<std::int64_t>({0, 2, 1}, {3});
  CHECK(close(tg::one_hot(idx), {1, 0, 0, 0, 0, 1, 0, 1, 0}, {3, 3}));
  CHECK(close(tg::one_hot(idx, 4), {1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0}, {3, 4}));
  const tg::Tensor<float> f = tg::one_hot<float>(idx, 3);
  CHECK(close(f, {1, 0, 0, 0, 0, 1, 0, 1, 0}, {3, 3}));
  const tg::Tensor<double> d = tg::one_hot<double>(tg::tensor<std::int32_t>({1, 0}, {2, 1}));
  CHECK(close(d, {0, 1, 1, 0}, {2, 1, 2}));
  CHECK(close(tg::one_hot(tg::scalar_tensor<std::int64_t>(2)), {0, 0, 1}, tg::Shape{3}));
  CHECK(tg::one_hot(tg::zeros<std::int64_t>({0}), 5).shape() == tg::Shape{0, 5});
  CHECK(tg::one_hot(tg::zeros<std::int64_t>({2, 0}), 0).shape() == tg::Shape{2, 0, 0});
}

TEST_CASE("one_hot: bad classes name the value, its position and the range") {
  const auto idx = tg::tensor<std::int64_t>({0, 2, -1}, {3});
  CHECK_THROWS_AS(tg::one_hot(idx), tg::IndexError);
  CHECK_THROWS_WITH(tg::one_hot(idx, 3), "one_hot: class -1 at position 2 is out of range [0, 3)");
  CHECK_THROWS_WITH(tg::one_hot(idx),
                    "one_hot: class -1 at position 2 is out of range [0, 3) (num_classes = -1 takes the largest class + 1)");
  CHECK_THROWS_WITH(tg::one_hot(tg::tensor<std::int32_t>({0, 1, 2, 5}, {2, 2}), 4),
                    "one_hot: class 5 at position [1, 1] is out of range [0, 4)");
  CHECK_THROWS_WITH(tg::one_hot(tg::scalar_tensor<std::int64_t>(3), 2), "one_hot: class 3 is out of range [0, 2)");
  CHECK_THROWS_AS(tg::one_hot(idx, -2), tg::ValueError);
  CHECK_THROWS_WITH(tg::one_hot(idx, -2), "one_hot: num_classes must be -1 (infer it from the data) or >= 0, got -2");
  CHECK_THROWS_WITH(tg::one_hot(tg::zeros<std::int64_t>({0})),
                    "one_hot: cannot infer num_classes from an empty tensor; pass num_classes");
}

}  // namespace shape_test
