// SPDX-License-Identifier: MIT
// Range and random factories against PyTorch 1.13.1 (tests/reference/golden_factories.py): ranges bit
// for bit, random factories bit for bit after the same manual_seed, plus how many numbers each one
// draws (the "/next" records: torch.rand(3) right after the call) and its errors.
#include <cmath>
#include <string>

#include "support/golden.hpp"
#include "support/test.hpp"

namespace factories_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
using tg_test::close;
using tg_test::Contains;
using tg_test::message_of;

namespace {

const tg_test::Golden& golden() {
  static const tg_test::Golden g("factories");
  return g;
}

// The golden values of `key`, exactly: in full, or every 97th when the record was too long to keep whole.
template <class T>
tg_test::Comparison matches(const tg::Tensor<T>& out, const std::string& key) {
  const auto& g = golden();
  if (g.has(key)) return close(out, g.values(key), g.shape(key), 0, 0);
  std::vector<double> sampled;
  for (std::int64_t i = 0; i < out.numel(); i += 97) sampled.push_back(static_cast<double>(out.data()[i]));
  const auto& expected = g.values(key + "/every97");
  if (sampled != expected) return close(tg::tensor<double>(sampled), expected, g.shape(key + "/every97"), 0, 0);
  if (g.has(key + "/moment")) {
    double moment = 0;  // sum(i * p[i]) < 2^53 for the lengths recorded: exact
    for (std::int64_t i = 0; i < out.numel(); ++i) moment += static_cast<double>(i) * static_cast<double>(out.data()[i]);
    if (moment != g.scalar(key + "/moment")) return {false, "moment " + std::to_string(moment) + " differs"};
  }
  return {};
}

// The generator drew exactly as many numbers as torch: the next draws agree.
tg_test::Comparison next_draws_match(const std::string& key) {
  return close(tg::rand<float>({3}), golden().values(key + "/next"), {3}, 0, 0);
}

// The default generator's state is unchanged by a failing call.
template <class F>
bool leaves_generator_unchanged(F&& failing_call) {
  tg::manual_seed(77);
  const std::string before = tg::default_generator().get_state();
  try {
    failing_call();
  } catch (const std::exception&) {
  }
  return tg::default_generator().get_state() == before;
}

template <class T>
void check_linspace(const std::string& dtype) {
  int checked = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string key = "linspace/" + dtype + "/" + std::to_string(i);
    if (!golden().has(key + "/args")) continue;
    const auto& a = golden().values(key + "/args");
    INFO(key << ": linspace(" << a[0] << ", " << a[1] << ", " << a[2] << ")");
    CHECK(matches(tg::linspace<T>(a[0], a[1], static_cast<std::int64_t>(a[2])), key));
    ++checked;
  }
  CHECK(checked >= 30);
}

template <class T>
void check_arange(const std::string& dtype) {
  int checked = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string key = "arange/" + dtype + "/" + std::to_string(i);
    if (!golden().has(key + "/args")) continue;
    const auto& a = golden().values(key + "/args");
    INFO(key << ": arange(" << a[0] << ", " << a[1] << ", " << a[2] << ")");
    CHECK(matches(tg::arange<T>(a[0], a[1], a[2]), key));
    ++checked;
  }
  CHECK(checked >= 6);
}

}  // namespace

// ---- linspace / arange ----------------------------------------------------------------------------

TEST_CASE("linspace: float and double equal torch bit for bit (edge and random cases)") {
  check_linspace<float>("float32");
  check_linspace<double>("float64");
}

TEST_CASE("linspace: int64 and int32 truncate start and end and equal torch") {
  check_linspace<std::int64_t>("int64");
  check_linspace<std::int32_t>("int32");
}

TEST_CASE("linspace: hand-checked values, steps 0 and 1") {
  CHECK(close(tg::linspace<float>(0, 1, 5), {0, 0.25, 0.5, 0.75, 1}, {5}, 0, 0));
  CHECK(close(tg::linspace<double>(-2, 2, 3), {-2, 0, 2}, {3}, 0, 0));
  CHECK(tg::linspace<float>(0, 1, 0).shape() == tg::Shape{0});
  CHECK(close(tg::linspace<float>(3, 1, 1), {3}, {1}, 0, 0));  // steps = 1 gives start, as torch
  // The second half counts down from end, so the last value is end exactly.
  const auto t = tg::linspace<float>(0.1, 0.9, 1001);
  CHECK(t.data()[1000] == 0.9f);
  CHECK(t.data()[0] == 0.1f);
}

TEST_CASE("linspace: errors name the value and the valid range") {
  CHECK_THROWS_AS(tg::linspace<float>(0, 1, -1), tg::ValueError);
  CHECK(message_of([] { tg::linspace<float>(0, 1, -1); }) == "linspace: steps = -1 must be non-negative");
  CHECK(message_of([] { tg::linspace<float>(0, INFINITY, 3); }) == "linspace: end must be finite, got inf");
  CHECK_THAT(message_of([] { tg::linspace<float>(NAN, 1, 3); }), Contains("start must be finite, got nan"));
  CHECK_THAT(message_of([] { tg::linspace<float>(0, 1e39, 3); }), Contains("end = 1e+39 is out of range"));
  CHECK_THAT(message_of([] { tg::linspace<std::int32_t>(0, 3e9, 3); }),
             Contains("end = 3e+09 does not fit the element type, whose values are in [-2147483648, 2147483647]"));
}

TEST_CASE("arange: float and double values equal torch bit for bit") {
  check_arange<float>("float32");
  check_arange<double>("float64");
}

TEST_CASE("arange: integer types truncate start, end and step as torch does") {
  check_arange<std::int64_t>("int64");
  check_arange<std::int32_t>("int32");
  CHECK(tg::arange<std::int64_t>(0.5, 3.7).to_vector() == std::vector<std::int64_t>{0, 1, 2});
  CHECK(tg::arange<std::int32_t>(0.5, 3.7).to_vector() == std::vector<std::int32_t>{0, 1, 2, 3});  // torch counts int32 in double
  CHECK_THAT(message_of([] { tg::arange<std::int64_t>(0, 2.5, 0.5); }), Contains("step must be nonzero"));
  CHECK_THAT(message_of([] { tg::arange<std::int64_t>(0, 10, -1); }), Contains("inconsistent signs"));
  CHECK_THAT(message_of([] { tg::arange<std::int32_t>(0, 5e9, 1e9); }),
             Contains("values from 0 to 4e+09 do not fit the element type, whose values are in [-2147483648, 2147483647]"));
  CHECK_THAT(message_of([] { tg::arange<float>(0, 1, NAN); }), Contains("must be finite"));
}

// ---- randperm -------------------------------------------------------------------------------------

TEST_CASE("randperm: equals torch.randperm after manual_seed for n up to 10^5") {
  for (int seed : {0, 1, 42})
    for (std::int64_t n : {0, 1, 2, 5, 10, 100, 1000, 100000}) {
      const std::string key = "randperm/" + std::to_string(seed) + "/" + std::to_string(n);
      INFO(key);
      tg::manual_seed(static_cast<std::uint64_t>(seed));
      CHECK(matches(tg::randperm(n), key));
      CHECK(next_draws_match(key));
    }
}

TEST_CASE("randperm: float, double and int32 results and an explicit generator") {
  for (int seed : {0, 1, 42}) {
    const std::string key = "randperm/" + std::to_string(seed) + "/30/";
    tg::manual_seed(static_cast<std::uint64_t>(seed));
    CHECK(matches(tg::randperm<float>(30), key + "float32"));
    tg::manual_seed(static_cast<std::uint64_t>(seed));
    CHECK(matches(tg::randperm<double>(30), key + "float64"));
    tg::Generator gen(static_cast<std::uint64_t>(seed));
    CHECK(matches(tg::randperm<std::int32_t>(30, gen), key + "int32"));
  }
}

TEST_CASE("randperm: errors name n and the limit, and draw nothing") {
  CHECK_THROWS_AS(tg::randperm(-1), tg::ValueError);
  CHECK(message_of([] { tg::randperm(-1); }) == "randperm: n = -1 must be non-negative");
  CHECK(message_of([] { tg::randperm<float>((1 << 24) + 2); }) ==
        "randperm: n = 16777218 is too large for float, which holds consecutive integers only up to n = 16777217");
  CHECK_THAT(message_of([] { tg::randperm<std::int32_t>(std::int64_t(1) << 32); }),
             Contains("n = 4294967296 is too large for the element type, whose largest value is 2147483647"));
  CHECK(leaves_generator_unchanged([] { tg::randperm(-3); }));
}

// ---- bernoulli ------------------------------------------------------------------------------------

TEST_CASE("bernoulli: a tensor of probabilities draws as torch.bernoulli(p)") {
  for (int seed : {0, 3, 17}) {
    const std::string f = "bernoulli/float32/" + std::to_string(seed), d = "bernoulli/float64/" + std::to_string(seed);
    tg::manual_seed(static_cast<std::uint64_t>(seed));
    CHECK(matches(tg::bernoulli(golden().tensor<float>(f + "/p")), f));
    CHECK(next_draws_match(f));
    tg::manual_seed(static_cast<std::uint64_t>(seed));
    CHECK(matches(tg::bernoulli(golden().tensor<double>(d + "/p")), d));
    CHECK(next_draws_match(d));
  }
}

TEST_CASE("bernoulli: a scalar probability draws as torch.bernoulli(like, p) for every element type") {
  for (int seed : {0, 3, 17})
    for (double p : {0.0, 0.3, 1.0}) {
      const std::string s = "/" + std::to_string(seed) + "/" + (p == 0.3 ? "0.3" : p == 0 ? "0" : "1");
      tg::manual_seed(static_cast<std::uint64_t>(seed));
      CHECK(matches(tg::bernoulli(tg::zeros<float>({4, 5}), p), "bernoulli_scalar/float32" + s));
      CHECK(next_draws_match("bernoulli_scalar/float32" + s));
      tg::Generator gen(static_cast<std::uint64_t>(seed));
      CHECK(matches(tg::bernoulli(tg::zeros<double>({4, 5}), p, gen), "bernoulli_scalar/float64" + s));
    }
  tg::manual_seed(5);
  CHECK(matches(tg::bernoulli(tg::zeros<std::int64_t>({3, 4}), 0.7), "bernoulli_scalar/int64/5/0.7"));
}

TEST_CASE("bernoulli: the mean of 10^5 draws is within 5 sigma of p") {
  tg::Generator gen(2024);
  for (double p : {0.05, 0.5, 0.9}) {
    const auto draws = tg::bernoulli(tg::full<double>({100000}, p), gen);
    double ones = 0;
    for (std::int64_t i = 0; i < draws.numel(); ++i) ones += draws.data()[i];
    CHECK(std::abs(ones / 1e5 - p) < 5 * std::sqrt(p * (1 - p) / 1e5));
  }
}

TEST_CASE("bernoulli: empty and 0-d inputs") {
  CHECK(tg::bernoulli(tg::zeros<float>({0, 3})).shape() == tg::Shape{0, 3});
  CHECK(close(tg::bernoulli(tg::scalar_tensor<float>(1.0f)), {1}, tg::Shape{}, 0, 0));
  CHECK(close(tg::bernoulli(tg::scalar_tensor<double>(0.0), 1.0), {1}, tg::Shape{}, 0, 0));
}

TEST_CASE("bernoulli: probabilities outside [0, 1] are named and nothing is drawn") {
  const auto bad = tg::tensor<float>({0.5f, 1.5f, 0.2f});
  CHECK_THROWS_AS(tg::bernoulli(bad), tg::ValueError);
  CHECK(message_of([&] { tg::bernoulli(bad); }) ==
        "bernoulli: p = 1.5 at flat index 1 is not a probability (valid range [0, 1])");
  CHECK_THAT(message_of([] { tg::bernoulli(tg::tensor<double>({0.1, -0.25})); }), Contains("p = -0.25 at flat index 1"));
  CHECK_THAT(message_of([] { tg::bernoulli(tg::tensor<double>({NAN})); }), Contains("p = nan at flat index 0"));
  CHECK(message_of([] { tg::bernoulli(tg::zeros<float>({2}), 1.5); }) ==
        "bernoulli: p = 1.5 is not a probability (valid range [0, 1])");
  CHECK_THAT(message_of([] { tg::bernoulli(tg::zeros<float>({2}), NAN); }), Contains("p = nan"));
  CHECK(leaves_generator_unchanged([&] { tg::bernoulli(bad); }));
  CHECK(leaves_generator_unchanged([] { tg::bernoulli(tg::zeros<float>({2}), -0.5); }));
}

// ---- multinomial ----------------------------------------------------------------------------------

TEST_CASE("multinomial: without replacement equals torch (exponential race, topk order)") {
  for (int seed : {0, 1, 7})
    for (int k : {1, 2, 5, 35, 70}) {
      const std::string base = "multinomial/float32/" + std::to_string(seed), dbase = "multinomial/float64/" + std::to_string(seed);
      const std::string tail = "/norepl/" + std::to_string(k);
      INFO(base + tail);
      tg::manual_seed(static_cast<std::uint64_t>(seed));
      CHECK(matches(tg::multinomial(golden().tensor<float>(base + "/probs"), k), base + tail));
      CHECK(next_draws_match(base + tail));
      tg::manual_seed(static_cast<std::uint64_t>(seed));
      CHECK(matches(tg::multinomial(golden().tensor<double>(dbase + "/probs"), k), dbase + tail));
      CHECK(next_draws_match(dbase + tail));
    }
}

TEST_CASE("multinomial: with replacement equals torch (inverse cumulative distribution)") {
  for (int seed : {0, 1, 7})
    for (int k : {1, 2, 7, 100}) {
      const std::string base = "multinomial/float32/" + std::to_string(seed), dbase = "multinomial/float64/" + std::to_string(seed);
      const std::string tail = "/repl/" + std::to_string(k);
      INFO(base + tail);
      tg::manual_seed(static_cast<std::uint64_t>(seed));
      CHECK(matches(tg::multinomial(golden().tensor<float>(base + "/probs"), k, true), base + tail));
      CHECK(next_draws_match(base + tail));
      tg::Generator gen(static_cast<std::uint64_t>(seed));
      CHECK(matches(tg::multinomial(golden().tensor<double>(dbase + "/probs"), k, true, gen), dbase + tail));
    }
}

TEST_CASE("multinomial: 1-d probabilities, and zero entries drawn in torch's tie order") {
  for (int seed : {0, 1, 7})
    for (const std::string dtype : {"float32", "float64"}) {
      const std::string base = "multinomial/" + dtype + "/" + std::to_string(seed);
      const auto probs = golden().tensor<double>(base + "/probs1d");
      tg::manual_seed(static_cast<std::uint64_t>(seed));
      CHECK(matches(dtype == "float32" ? tg::multinomial(probs.to<float>(), 4) : tg::multinomial(probs, 4),
                    base + "/1d_norepl"));
      tg::manual_seed(static_cast<std::uint64_t>(seed));
      CHECK(matches(dtype == "float32" ? tg::multinomial(probs.to<float>(), 12, true) : tg::multinomial(probs, 12, true),
                    base + "/1d_repl"));
      CHECK(next_draws_match(base + "/1d_repl"));
    }
  const auto sparse = tg::tensor<float>({0, 1, 0, 0, 0, 0, 2, 0}, {2, 4});
  for (int seed : {0, 5}) {
    tg::manual_seed(static_cast<std::uint64_t>(seed));
    CHECK(matches(tg::multinomial(sparse, 3), "multinomial/zeros/" + std::to_string(seed)));
  }
  CHECK(tg::multinomial(tg::ones<float>({0, 3}), 2).shape() == tg::Shape{0, 2});
}

TEST_CASE("multinomial: without replacement every index appears once per row") {
  tg::Generator gen(3);
  const auto out = tg::multinomial(tg::rand<double>({4, 50}, gen), 50, false, gen);
  for (std::int64_t r = 0; r < 4; ++r) {
    std::vector<std::int64_t> row(out.data() + r * 50, out.data() + (r + 1) * 50);
    std::sort(row.begin(), row.end());
    CHECK(row == tg::arange(50).to_vector());
  }
}

TEST_CASE("multinomial: errors name the value and what is valid, and draw nothing") {
  const auto p = tg::tensor<float>({0.5f, -0.1f, 0.2f});
  CHECK_THROWS_AS(tg::multinomial(p, 1), tg::ValueError);
  CHECK(message_of([&] { tg::multinomial(p, 1); }) == "multinomial: probability -0.1 at [1] is not a finite number >= 0");
  CHECK_THAT(message_of([] { tg::multinomial(tg::tensor<double>({1, 2, INFINITY, 0}, {2, 2}), 2, true); }),
             Contains("probability inf at [1, 0]"));
  CHECK_THAT(message_of([] { tg::multinomial(tg::tensor<double>({1, NAN}), 1); }), Contains("probability nan at [1]"));
  CHECK(message_of([] { tg::multinomial(tg::tensor<float>({1, 0, 0, 0}, {2, 2}), 1); }) ==
        "multinomial: the probabilities of row 1 sum to 0 (a distribution needs a positive sum)");
  CHECK(message_of([] { tg::multinomial(tg::zeros<float>({3}), 2, true); }) ==
        "multinomial: the probabilities sum to 0 (a distribution needs a positive sum)");
  CHECK(message_of([] { tg::multinomial(tg::ones<float>({2}), 3); }) ==
        "multinomial: cannot draw num_samples = 3 without replacement from 2 categories (valid range [1, 2])");
  CHECK(message_of([] { tg::multinomial(tg::ones<float>({2}), 0); }) == "multinomial: num_samples = 0 must be positive");
  CHECK_THROWS_AS(tg::multinomial(tg::ones<float>({2, 2, 2}), 1), tg::ShapeError);
  CHECK_THAT(message_of([] { tg::multinomial(tg::scalar_tensor<float>(1), 1); }), Contains("must be 1-d or 2-d, got shape []"));
  CHECK(leaves_generator_unchanged([&] { tg::multinomial(p, 1); }));
  // torch draws for row 0 before finding row 1 bad; tapegrad checks every row first.
  CHECK(leaves_generator_unchanged([] { tg::multinomial(tg::tensor<float>({1, 1, 0, -1}, {2, 2}), 5, true); }));
}

// ---- *_like ---------------------------------------------------------------------------------------

TEST_CASE("rand_like, randn_like, randint_like: torch's numbers in the shape and type of the input") {
  const auto f = tg::zeros<float>({3, 4});
  const auto d = tg::zeros<double>({3, 4});
  tg::manual_seed(9);
  CHECK(matches(tg::rand_like(f), "rand_like/float32"));
  tg::manual_seed(9);
  CHECK(matches(tg::rand_like(d), "rand_like/float64"));
  tg::manual_seed(9);
  CHECK(matches(tg::randn_like(f), "randn_like/float32"));
  CHECK(next_draws_match("randn_like/float32"));
  tg::Generator gen(9);
  CHECK(matches(tg::randn_like(d, gen), "randn_like/float64"));
  tg::manual_seed(9);
  CHECK(matches(tg::randint_like(f, -3, 8), "randint_like/float32"));
  tg::manual_seed(9);
  CHECK(matches(tg::randint_like(d, -3, 8), "randint_like/float64"));
  tg::manual_seed(9);
  CHECK(matches(tg::randint_like(tg::zeros<std::int64_t>({3, 4}), 10), "randint_like/int64"));
  CHECK(next_draws_match("randint_like/int64"));
  CHECK_THAT(message_of([&] { tg::randint_like(f, 5, 5); }), Contains("low (5) must be less than high (5)"));
}

TEST_CASE("full_like: the input's shape and type, filled") {
  const auto t = tg::full_like(tg::zeros<double>({2, 3}), 2.5);
  CHECK(close(t, {2.5, 2.5, 2.5, 2.5, 2.5, 2.5}, {2, 3}, 0, 0));
  CHECK(tg::full_like(tg::zeros<std::int64_t>({0}), std::int64_t(7)).shape() == tg::Shape{0});
  CHECK(tg::full_like(tg::scalar_tensor<float>(1), 4.0).to_vector() == std::vector<float>{4.0f});  // a double value
  CHECK(tg::zeros_like(t).shape() == t.shape());
  CHECK(tg::ones_like(t).to_vector() == std::vector<double>(6, 1.0));
  CHECK(tg::empty_like(t).shape() == t.shape());
}

}  // namespace factories_test
