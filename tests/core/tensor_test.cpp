// SPDX-License-Identifier: MIT
// Tensor<T>: factories, the handle model (what aliases what), element access, the Eigen view.
#include "support/test.hpp"

namespace tensor_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
using tg_test::close;

TEST_CASE("tensor() keeps values in row-major order and checks their count") {
  const auto t = tg::tensor<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.shape() == tg::Shape{2, 3});
  CHECK(t.dim() == 2);
  CHECK(t.numel() == 6);
  CHECK(t.size(-1) == 3);
  CHECK(t.at({1, 0}) == 4.0f);
  CHECK(t.at({-1, -1}) == 6.0f);
  CHECK_THROWS_AS(tg::tensor<float>({1, 2, 3}, {2, 2}), tg::ShapeError);
  CHECK_THROWS_WITH(tg::tensor<float>({1, 2, 3}, {2, 2}), "tensor: 3 values do not fill shape [2, 2] (4 elements)");
  CHECK_THROWS_WITH(tg::zeros<float>({2, -1}), "zeros: negative dimension -1 in shape [2, -1]");
}

TEST_CASE("factories fill as documented") {
  CHECK(tg::zeros<double>({2, 2}).to_vector() == std::vector<double>{0, 0, 0, 0});
  CHECK(tg::ones<float>({3}).to_vector() == std::vector<float>{1, 1, 1});
  CHECK(tg::full<float>({2}, 2.5f).to_vector() == std::vector<float>{2.5f, 2.5f});
  CHECK(tg::arange(4).to_vector() == std::vector<std::int64_t>{0, 1, 2, 3});
  CHECK(tg::arange<float>(1, 2, 0.25).to_vector() == std::vector<float>{1, 1.25f, 1.5f, 1.75f});
  CHECK(tg::eye<float>(2, 3).to_vector() == std::vector<float>{1, 0, 0, 0, 1, 0});
  CHECK(tg::scalar_tensor<double>(2.0).dim() == 0);
  CHECK(tg::scalar_tensor<double>(2.0).item() == 2.0);
  CHECK_THROWS_WITH(tg::arange<float>(0, 1, 0), "arange: step must be nonzero");
}

TEST_CASE("a copied handle aliases, clone copies, detach shares elements") {
  auto a = tg::tensor<float>({1, 2, 3});
  auto alias = a;
  alias.data()[0] = 10;
  CHECK(a.at({0}) == 10.0f);

  auto copy = a.clone();
  copy.data()[1] = 20;
  CHECK(a.at({1}) == 2.0f);
  CHECK_FALSE(copy.shares_storage(a));

  auto d = a.detach();
  d.at({2}) = 30;
  CHECK(a.at({2}) == 30.0f);
  CHECK(d.shares_storage(a));
  CHECK_FALSE(d.is_same(a));
}

TEST_CASE("reshape and view share storage and infer one -1") {
  auto a = tg::arange<float>(6);
  auto b = a.reshape({2, -1});
  CHECK(b.shape() == tg::Shape{2, 3});
  b.at({1, 2}) = 50;
  CHECK(a.at({5}) == 50.0f);
  CHECK(a.view({3, 2}).shape() == tg::Shape{3, 2});
  CHECK_THROWS_WITH(a.reshape({4, -1}), "reshape: shape [4, -1] is invalid for a tensor of 6 elements (shape [6])");
  CHECK_THROWS_WITH(a.reshape({-1, -1}), "reshape: only one size can be -1, got [-1, -1]");
  CHECK_THROWS_WITH(a.reshape({5}), "reshape: shape [5] is invalid for a tensor of 6 elements (shape [6])");
}

TEST_CASE("t() and transpose() return contiguous copies") {
  const auto a = tg::arange<float>(6).reshape({2, 3});
  const auto at = a.t();
  CHECK(at.shape() == tg::Shape{3, 2});
  CHECK(at.to_vector() == std::vector<float>{0, 3, 1, 4, 2, 5});
  CHECK_FALSE(at.shares_storage(a));
  const auto c = tg::arange<float>(24).reshape({2, 3, 4}).transpose(0, 2);
  CHECK(c.shape() == tg::Shape{4, 3, 2});
  CHECK(c.at({3, 2, 1}) == 23.0f);
  CHECK(c.at({1, 0, 1}) == 13.0f);
  CHECK_THROWS_WITH(tg::zeros<float>({2, 2, 2}).t(),
                    "t: expects a tensor with at most 2 dimensions, got shape [2, 2, 2]; use transpose(dim0, dim1)");
  CHECK_THROWS_WITH(a.transpose(0, 2), "transpose: dim 2 is out of range for a tensor with 2 dimensions (valid range [-2, 1])");
}

TEST_CASE("the Eigen view puts the last dim in columns and the rest in rows") {
  auto a = tg::arange<double>(24).reshape({2, 3, 4});
  CHECK(a.matrix().rows() == 6);
  CHECK(a.matrix().cols() == 4);
  CHECK(a.matrix()(5, 3) == 23.0);
  a.matrix()(0, 1) = -1;
  CHECK(a.at({0, 0, 1}) == -1.0);
  const auto v = tg::arange<double>(3);
  CHECK(v.matrix().rows() == 1);
  CHECK(v.matrix().cols() == 3);
  const auto s = tg::scalar_tensor<double>(4);
  CHECK(s.matrix().size() == 1);
  CHECK(tg::zeros<float>({2, 0}).matrix().rows() == 2);
  CHECK(a.flat().sum() == Approx(274.0));  // 0 + 1 + ... + 23, with the 1 now -1
}

TEST_CASE("element access checks every index") {
  const auto a = tg::zeros<float>({2, 3});
  CHECK_THROWS_AS(a.at({2, 0}), tg::IndexError);
  CHECK_THROWS_WITH(a.at({0, 3}), "at: index 3 at position 1 is out of range for dimension 1 of size 3 (valid range [-3, 3))");
  CHECK_THROWS_WITH(a.at({0}), "at: got 1 indices for a tensor of shape [2, 3]");
  CHECK_THROWS_WITH(a.item(), "item: a tensor with 6 elements (shape [2, 3]) cannot be converted to a scalar");
  CHECK_THROWS_WITH(a.size(2), "size: dim 2 is out of range for a tensor with 2 dimensions (valid range [-2, 1])");
}

TEST_CASE("an undefined tensor says so") {
  tg::Tensor<float> t;
  CHECK_FALSE(t.defined());
  CHECK_THROWS_AS(t.shape(), tg::ValueError);
  CHECK_THROWS_WITH(t.numel(), tg_test::Contains("tensor is undefined"));
}

TEST_CASE("copy_ broadcasts its source and checks shapes") {
  auto a = tg::zeros<float>({2, 3});
  a.copy_(tg::tensor<float>({1, 2, 3}));
  CHECK(a.to_vector() == std::vector<float>{1, 2, 3, 1, 2, 3});
  CHECK_THROWS_WITH(a.copy_(tg::zeros<float>({4})),
                    "copy_: shapes [4] and [2, 3] cannot be broadcast together (size 4 vs 3 at dimension 1 of the result)");
  CHECK_THROWS_WITH(a.copy_(tg::zeros<float>({3, 3})),
                    "copy_: shapes [3, 3] and [2, 3] cannot be broadcast together (size 3 vs 2 at dimension 0 of the result)");
}

TEST_CASE("in-place ops refuse tensors that require grad unless grad mode is off") {
  auto w = tg::ones<float>({2}, true);
  CHECK_THROWS_AS(w.zero_(), tg::AutogradError);
  CHECK_THROWS_WITH(w.fill_(2), tg_test::Contains("fill_: in-place operation on a tensor that requires grad"));
  {
    tg::NoGradGuard no_grad;
    w.fill_(3);
  }
  CHECK(w.to_vector() == std::vector<float>{3, 3});
}

TEST_CASE("to<U>() converts element types") {
  const auto a = tg::tensor<double>({1.5, -2.25});
  CHECK(a.to<float>().to_vector() == std::vector<float>{1.5f, -2.25f});
  CHECK(a.to<std::int64_t>().to_vector() == std::vector<std::int64_t>{1, -2});
}

TEST_CASE("integer tensors cannot require grad") {
  auto i = tg::tensor<std::int64_t>({1, 2});
  CHECK_THROWS_WITH(i.requires_grad_(), "requires_grad_: only floating-point tensors can require gradients, this one is int64");
}

TEST_CASE("large buffers are cached for reuse, within a limit") {
  tg::release_cached_memory();
  const std::size_t bytes = std::size_t(4) << 20;  // 4 MiB of floats: above the 1 MiB threshold
  const float* first = nullptr;
  {
    auto a = tg::zeros<float>({static_cast<std::int64_t>(bytes / sizeof(float))});
    first = a.data();
  }
  CHECK(tg::cached_memory_bytes() >= bytes);
  {
    auto b = tg::ones<float>({static_cast<std::int64_t>(bytes / sizeof(float))});
    CHECK(b.data() == first);  // the same buffer, no fresh pages to fault in
    CHECK(b.at({0}) == 1.0f);
    CHECK(tg::cached_memory_bytes() == 0);
  }
  CHECK(tg::release_cached_memory() >= bytes);
  CHECK(tg::cached_memory_bytes() == 0);
  tg::set_memory_cache_limit(0);
  { auto c = tg::zeros<float>({static_cast<std::int64_t>(bytes / sizeof(float))}); }
  CHECK(tg::cached_memory_bytes() == 0);
  tg::set_memory_cache_limit(std::size_t(4) << 30);
}

}  // namespace tensor_test
