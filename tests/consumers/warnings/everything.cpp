// Instantiates the public templates for float and double, so -Werror sees their bodies too.
#include <tapegrad/tapegrad.hpp>

#include <sstream>

namespace tg = tapegrad;

template <class T>
T use_everything() {
  auto a = tg::randn<T>({2, 3}, true);
  auto b = tg::rand<T>({3}, true);
  auto c = tg::relu(a * b + a / (b + T(2)) - tg::exp(a)) + tg::pow(tg::abs(a), T(2));
  auto d = tg::matmul(c, a.transpose(0, 1)) + tg::log(tg::sigmoid(tg::tanh(tg::sqrt(tg::clamp(c, T(0.1), T(5))))));
  auto loss = tg::mean(tg::sum(d, {1}, true)) + tg::norm(a, 2.0) + tg::sum(tg::pow(d, d).reshape({-1}).t().clone().template to<T>());
  loss.backward();
  std::ostringstream os;
  os << loss << a.grad() << tg::argmax(a, 1);
  const auto check = tg::gradcheck([](const std::vector<tg::Tensor<double>>& v) { return tg::sum(v[0] * v[0]); },
                                   {tg::randn<double>({2}, true)});
  return loss.item() + T(check ? 0 : 1);
}

int main() { return static_cast<int>(use_everything<float>() + use_everything<double>()) * 0; }
