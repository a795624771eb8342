// SPDX-License-Identifier: MIT
// Printing against the strings PyTorch 1.13.1 prints for the same tensors (dtype names drop "torch.").
#include "support/test.hpp"

namespace print_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;

TEST_CASE("printing matches PyTorch's layout") {
  tg::manual_seed(1);
  CHECK(tg::to_string(tg::randn<float>({3, 5})) ==
        "tensor([[ 0.6614,  0.2669,  0.0617,  0.6213, -0.4519],\n"
        "        [-0.1661, -1.5228,  0.3817, -1.0276, -0.5631],\n"
        "        [-0.8923, -0.0583, -0.1955, -0.9656,  0.4224]])");
  CHECK(tg::to_string(tg::tensor<float>({1, 2, 30, 4}, {2, 2})) == "tensor([[ 1.,  2.],\n        [30.,  4.]])");
  CHECK(tg::to_string(tg::tensor<float>({1e-5f, 1.0f, 123.0f})) == "tensor([1.0000e-05, 1.0000e+00, 1.2300e+02])");
  CHECK(tg::to_string(tg::tensor<float>({1.0f, 1e9f})) == "tensor([1.0000e+00, 1.0000e+09])");
  CHECK(tg::to_string(tg::tensor<float>({-1.5f, 2.25f, 0.0f})) == "tensor([-1.5000,  2.2500,  0.0000])");
  CHECK(tg::to_string(tg::tensor<float>({NAN, 1.5f, INFINITY})) == "tensor([   nan, 1.5000,    inf])");
  CHECK(tg::to_string(tg::zeros<float>({2, 2})) == "tensor([[0., 0.],\n        [0., 0.]])");
  CHECK(tg::to_string(tg::arange<float>(12).reshape({2, 3, 2})) ==
        "tensor([[[ 0.,  1.],\n"
        "         [ 2.,  3.],\n"
        "         [ 4.,  5.]],\n"
        "\n"
        "        [[ 6.,  7.],\n"
        "         [ 8.,  9.],\n"
        "         [10., 11.]]])");
}

TEST_CASE("printing wraps long rows at 80 columns") {
  CHECK(tg::to_string(tg::arange<float>(30)) ==
        "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
        "        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n"
        "        28., 29.])");
}

TEST_CASE("printing summarises tensors of more than 1000 elements") {
  const std::string s = tg::to_string(tg::arange<float>(2000).reshape({40, 50}));
  CHECK(s.rfind("tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 4.7000e+01, 4.8000e+01,\n"
                "         4.9000e+01],\n"
                "        [5.0000e+01,",
                0) == 0);
  CHECK(s.find("        ...,\n        [1.8500e+03,") != std::string::npos);
  const std::string tail = "1.9980e+03,\n         1.9990e+03]])";
  CHECK(s.substr(s.size() - tail.size()) == tail);
}

TEST_CASE("printing integer, double, scalar and empty tensors") {
  CHECK(tg::to_string(tg::tensor<std::int64_t>({0, 2, 1})) == "tensor([0, 2, 1])");
  CHECK(tg::to_string(tg::tensor<std::int32_t>({0, -2, 100})) == "tensor([  0,  -2, 100], dtype=int32)");
  CHECK(tg::to_string(tg::tensor<double>({0.5, 1.25})) == "tensor([0.5000, 1.2500], dtype=float64)");
  CHECK(tg::to_string(tg::scalar_tensor<float>(3.5f)) == "tensor(3.5000)");
  CHECK(tg::to_string(tg::zeros<float>({0})) == "tensor([])");
  CHECK(tg::to_string(tg::zeros<float>({2, 0})) == "tensor([], size=(2, 0))");
  CHECK(tg::to_string(tg::zeros<std::int64_t>({0})) == "tensor([], dtype=int64)");
  CHECK(tg::to_string(tg::Tensor<float>()) == "tensor(undefined)");
}

TEST_CASE("printing shows requires_grad on leaves and grad_fn on op outputs") {
  auto x = tg::tensor<float>({1, 2}, {2}, true);
  CHECK(tg::to_string(x) == "tensor([1., 2.], requires_grad=True)");
  CHECK(tg::to_string(x * 2.0f) == "tensor([2., 4.], grad_fn=<MulBackward0>)");
  std::ostringstream os;
  os << x.detach();
  CHECK(os.str() == "tensor([1., 2.])");
}

}  // namespace print_test
