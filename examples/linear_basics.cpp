// SPDX-License-Identifier: MIT
// The tutorial's Linear walkthrough in C++: Linear(3, 5) on a random vector, the same result by hand
// as x·Wᵀ + b, and replacing the weight, including a wrong-shaped one that is refused on the spot.
#include <tapegrad/tapegrad.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <string>

namespace tg = tapegrad;
namespace nn = tapegrad::nn;

namespace {

int failures = 0;

// Every claim the program prints is also checked, so ctest notices if one stops being true.
void check(bool ok, const std::string& claim) {
  if (!ok) {
    std::cout << "FAILED: " << claim << "\n";
    ++failures;
  }
}

float max_abs_diff(const tg::Tensor<float>& a, const tg::Tensor<float>& b) {
  return (a.flat() - b.flat()).abs().maxCoeff();
}

}  // namespace

int main() {
  std::cout << "== Linear(3, 5) on a random vector\n";
  // [snippet create]
  // torch.manual_seed(1); lin = torch.nn.Linear(3, 5); x = torch.rand(3) gives these very numbers.
  tg::manual_seed(1);
  nn::Linear<float> lin(3, 5);  // in_features = 3, out_features = 5, bias = true
  auto x = tg::rand<float>({3});
  auto y = lin(x);
  std::cout << lin << "\nx = " << x << "\ny = lin(x) = " << y << "\n";
  // [/snippet create]
  check(y.shape() == tg::Shape{5}, "a [3] input gives a [5] output");

  std::cout << "\n== Its parameters: weight [out_features, in_features] and bias [out_features]\n";
  // [snippet parameters]
  std::cout << "weight: " << lin.weight << "\nbias: " << lin.bias << "\n";
  // [/snippet parameters]

  std::cout << "\n== The same result by hand: y = x·Wᵀ + b\n";
  // [snippet by_hand]
  auto by_hand = tg::matmul(x, lin.weight.t()) + lin.bias;
  std::cout << "matmul(x, weight.t()) + bias = " << by_hand << "\n";
  std::cout << "max |difference| from lin(x): " << max_abs_diff(y, by_hand) << "\n";
  // [/snippet by_hand]
  check(max_abs_diff(y, by_hand) < 1e-6f, "Linear computes x·Wᵀ + b");

  std::cout << "\n== Replacing the weight\n";
  // [snippet replace]
  // Any tensor of the right shape [5, 3] will do; it becomes a leaf that requires grad (there is
  // no separate Parameter wrapper to remember, unlike torch.nn.Parameter).
  lin.weight = tg::ones<float>({5, 3});
  std::cout << "with an all-ones weight, lin(x) = " << lin(x) << "\n";
  std::cout << "the new weight requires grad: " << std::boolalpha << lin.weight.requires_grad() << "\n";
  // [/snippet replace]
  auto ones_y = lin(x).to_vector();
  const float row_sum = x.flat().sum();
  for (int j = 0; j < 5; ++j)
    check(std::abs(ones_y[static_cast<std::size_t>(j)] - (row_sum + lin.bias.to_vector()[static_cast<std::size_t>(j)])) < 1e-6f,
          "an all-ones weight gives sum(x) + b");

  std::cout << "\n== A weight of the wrong shape\n";
  // [snippet wrong_shape]
  // The tutorial assigns a 3 x 5 matrix. PyTorch accepts it and only fails at the next forward
  // ("mat1 and mat2 shapes cannot be multiplied (1x3 and 5x3)"); here the assignment itself throws.
  auto wrong = tg::rand<float>({3, 5}, /*requires_grad=*/true);
  try {
    lin.weight = wrong;
  } catch (const tg::ShapeError& e) {
    std::cout << "ShapeError: " << e.what() << "\n";
  }
  std::cout << "the weight is unchanged: shape " << lin.weight.shape() << "\n";
  // [/snippet wrong_shape]
  check(lin.weight.shape() == tg::Shape{5, 3}, "a refused assignment leaves the weight alone");
  // Its transpose has the right shape: Linear's weight is [out_features, in_features].
  lin.weight = wrong.t();
  check(lin.weight.shape() == tg::Shape{5, 3}, "the transposed matrix fits");
  std::cout << "wrong.t() has shape " << wrong.t().shape() << " and fits: lin(x) = " << lin(x) << "\n";

  if (failures > 0) return 1;
  std::cout << "\nlinear_basics: all checks passed\n";
  return 0;
}
