// SPDX-License-Identifier: MIT
// The generator against values printed by PyTorch 1.13.1 after the same torch.manual_seed.
#include "support/test.hpp"

namespace random_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
using tg_test::close;

TEST_CASE("manual_seed(1) then randn(3, 5) equals torch bit for bit (scalar path)") {
  tg::manual_seed(1);
  const auto w = tg::randn<float>({3, 5});
  const std::vector<double> torch_values{0.6613521575927734,  0.266924113035202,   0.06167725846171379,
                                         0.6213173270225525,  -0.4519059658050537, -0.16613022983074188,
                                         -1.522768497467041,  0.38168391585350037, -1.0276086330413818,
                                         -0.563052773475647,  -0.8922905325889587, -0.05825017765164375,
                                         -0.19550958275794983, -0.9656359553337097, 0.4224153161048889};
  CHECK(close(w, torch_values, {3, 5}, 0, 0));
}

TEST_CASE("manual_seed(1) then rand(3, 5) equals torch bit for bit") {
  tg::manual_seed(1);
  const std::vector<double> torch_values{0.7576315999031067, 0.2793108820915222, 0.40306925773620605,
                                         0.7346844673156738, 0.029281556606292725, 0.7998586297035217,
                                         0.3971373438835144, 0.7543719410896301, 0.5695084929466248,
                                         0.4387779235839844, 0.6386804580688477, 0.524665892124176,
                                         0.6826140880584717, 0.30514949560165405, 0.46354562044143677};
  CHECK(close(tg::rand<float>({3, 5}), torch_values, {3, 5}, 0, 0));
}

TEST_CASE("the cached Box-Muller sample carries across tensors, as in torch") {
  tg::manual_seed(1);
  const auto a = tg::randn<float>({2, 3});
  const auto b = tg::randn<float>({2});
  CHECK(close(a, {0.6613521575927734, 0.266924113035202, 0.06167725846171379, 0.6213173270225525,
                  -0.4519059658050537, -0.16613022983074188}, {2, 3}, 0, 0));
  CHECK(close(b, {-1.522768497467041, 0.38168391585350037}, {2}, 0, 0));
}

TEST_CASE("randn of 16+ doubles follows torch's blocked path exactly") {
  tg::manual_seed(3);
  const std::vector<double> torch_values{
      -0.21774879177876416, 0.1466771298110492,  0.6690811213485476,  -0.5141241139283437, -1.3464356890265727,
      -0.2841692588173489,  0.16794475101412973, 0.7580573286215819,  1.0784352439814244,  0.34363379791442283,
      0.7198251676658504,   0.8306180904619974,  -0.5840098795893389, -1.224985367308154,  -0.269718737037564,
      0.20366863384122577,  0.028752867895017985, 0.24243710319485537, 0.7841722963522199, -0.9984183369540185};
  CHECK(close(tg::randn<double>({20}), torch_values, {20}, 0, 0));
}

TEST_CASE("randn of 16+ floats is within a few ulp of torch's AVX2 kernel") {
  tg::manual_seed(3);
  const std::vector<double> torch_values{
      -0.07664429396390915, 0.35988152027130127, -0.7820168137550354, 0.07152773439884186, 0.6648393869400024,
      -0.28678029775619507, 1.6205507516860962,  -1.596708059310913,  -0.05168096348643303, -0.30597570538520813,
      0.2485017478466034,   -0.2225608378648758, 0.9131519198417664,  0.2043411135673523,  0.573984682559967,
      0.41633129119873047,  0.26150116324424744, 0.9311244487762451,  -0.5144619941711426, -1.651665449142456,
      1.0460227727890015,   0.5221869945526123,  -0.16680915653705597, 0.05303340032696724, -1.196319580078125,
      1.02799654006958,     0.07189109176397324, -0.18447619676589966, -1.515884518623352,  0.912517249584198,
      0.2538870871067047,   -0.6923636198043823, 0.5615938901901245,  -0.24814683198928833, -1.0799609422683716,
      0.5916217565536499,   0.7242393493652344,  -0.3491773307323456, -0.5289880037307739, -0.6894744634628296};
  CHECK(close(tg::randn<float>({40}), torch_values, {40}, 4e-7, 1e-7));
}

TEST_CASE("randint draws like torch.randint") {
  tg::manual_seed(11);
  CHECK(tg::randint(0, 10, {8}).to_vector() == std::vector<std::int64_t>{1, 9, 0, 7, 3, 7, 1, 0});
  CHECK_THROWS_WITH(tg::randint(5, 5, {2}), "randint: low (5) must be less than high (5)");
}

TEST_CASE("a seed keeps only its low 32 bits, as torch does") {
  tg::manual_seed((std::uint64_t(1) << 32) + 1);
  const auto a = tg::rand<float>({4});
  tg::manual_seed(1);
  CHECK(close(a, tg::rand<float>({4}), 0, 0));
}

TEST_CASE("an explicit Generator is independent of the default one") {
  tg::Generator g1(7), g2(7);
  tg::manual_seed(123);
  const auto a = tg::randn<double>({5}, g1);
  (void)tg::randn<double>({3});  // draws from the default generator only
  CHECK(close(a, tg::randn<double>({5}, g2), 0, 0));
}

}  // namespace random_test
