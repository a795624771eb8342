// A downstream program: include the umbrella header, train a tiny model for one step.
#include <tapegrad/tapegrad.hpp>

#include <iostream>

int main() {
  namespace tg = tapegrad;
  tg::manual_seed(0);
  auto w = tg::randn<float>({3, 2}, true);
  auto x = tg::tensor<float>({1, 2, 3}, {1, 3});
  auto loss = tg::sum(tg::matmul(x, w));
  loss.backward();
  std::cout << "tapegrad " << TAPEGRAD_VERSION_STRING << " consumer ok: grad " << w.grad() << "\n";
  return w.grad().at({2, 1}) == 3.0f ? 0 : 1;
}
