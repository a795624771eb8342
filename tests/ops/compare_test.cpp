// SPDX-License-Identifier: MIT
// Comparisons and logic: eq/ne/lt/le/gt/ge and their operators, logical_*, isnan/isinf/isfinite,
// where, masked_fill, any/all, equal and allclose, against PyTorch goldens, gradcheck and errors.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "ops_test.hpp"

namespace compare_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
using ops_test::grad_ok;
using ops_test::Inputs;
using ops_test::leaf;
using tg_test::close;
using tg_test::Contains;
using tg_test::message_of;

namespace {

const tg_test::Golden& golden() {
  static const tg_test::Golden g("compare");
  return g;
}

/// A golden bool tensor (stored as 0/1) as Tensor<bool>.
tg::Tensor<bool> bools(const std::string& key) { return tg::ne(golden().tensor<std::int64_t>(key), std::int64_t(0)); }

/// A bool result against the golden 0/1 tensor `key`: same shape, same values.
tg_test::Comparison same_bools(const tg::Tensor<bool>& actual, const std::string& key) {
  return close(actual.to<std::int64_t>(), golden().tensor<std::int64_t>(key), 0, 0);
}

/// The golden tensor `key` as element type T (bools from their 0/1 record).
template <class T>
tg::Tensor<T> load(const std::string& key) {
  if constexpr (std::is_same_v<T, bool>) return bools(key);
  else return golden().tensor<T>(key);
}

/// A golden Python bool (equal, allclose).
bool golden_flag(const std::string& key) { return golden().scalar(key) != 0; }

const std::vector<std::string> kComparisons = {"eq", "ne", "lt", "le", "gt", "ge"};

template <class T>
tg::Tensor<bool> compare(const std::string& op, const tg::Tensor<T>& a, const tg::Tensor<T>& b) {
  if (op == "eq") return tg::eq(a, b);
  if (op == "ne") return tg::ne(a, b);
  if (op == "lt") return tg::lt(a, b);
  if (op == "le") return tg::le(a, b);
  if (op == "gt") return tg::gt(a, b);
  return tg::ge(a, b);
}

template <class T>
tg::Tensor<bool> compare_operator(const std::string& op, const tg::Tensor<T>& a, const tg::Tensor<T>& b) {
  if (op == "eq") return a == b;
  if (op == "ne") return a != b;
  if (op == "lt") return a < b;
  if (op == "le") return a <= b;
  if (op == "gt") return a > b;
  return a >= b;
}

template <class T>
tg::Tensor<bool> compare(const std::string& op, const tg::Tensor<T>& a, T s) {
  if (op == "eq") return tg::eq(a, s);
  if (op == "ne") return tg::ne(a, s);
  if (op == "lt") return tg::lt(a, s);
  if (op == "le") return tg::le(a, s);
  if (op == "gt") return tg::gt(a, s);
  return tg::ge(a, s);
}

template <class T>
tg::Tensor<bool> compare_operator(const std::string& op, const tg::Tensor<T>& a, T s) {
  if (op == "eq") return a == s;
  if (op == "ne") return a != s;
  if (op == "lt") return a < s;
  if (op == "le") return a <= s;
  if (op == "gt") return a > s;
  return a >= s;
}

/// `s OP a` with the scalar on the left: equals the golden of the mirrored op on (a, s).
template <class T>
tg::Tensor<bool> compare_operator_left(const std::string& op, T s, const tg::Tensor<T>& a) {
  if (op == "eq") return s == a;
  if (op == "ne") return s != a;
  if (op == "lt") return s > a;
  if (op == "le") return s >= a;
  if (op == "gt") return s < a;
  return s <= a;
}

template <class T>
void check_comparisons(const std::string& c) {
  const auto& g = golden();
  const auto a = g.tensor<T>("cmp/" + c + "/a"), b = g.tensor<T>("cmp/" + c + "/b");
  for (const auto& op : kComparisons) {
    INFO(op << " on case " << c);
    const std::string key = "cmp/" + c + "/" + op;
    CHECK(same_bools(compare(op, a, b), key));
    CHECK(same_bools(compare_operator(op, a, b), key));
  }
}

template <class T>
void check_scalar_comparisons(const std::string& c) {
  const auto& g = golden();
  const auto a = g.tensor<T>("cmp_scalar/" + c + "/a");
  const auto s = static_cast<T>(g.scalar("cmp_scalar/" + c + "/s"));
  for (const auto& op : kComparisons) {
    INFO(op << " with a scalar on case " << c);
    const std::string key = "cmp_scalar/" + c + "/" + op;
    CHECK(same_bools(compare(op, a, s), key));
    CHECK(same_bools(compare_operator(op, a, s), key));
    CHECK(same_bools(compare_operator_left(op, s, a), key));
  }
}

template <class T>
void check_logic(const std::string& c) {
  const std::string k = "logic/" + c + "/";
  const auto a = load<T>(k + "a"), b = load<T>(k + "b");
  INFO("case " << c);
  CHECK(same_bools(tg::logical_not(a), k + "logical_not"));
  CHECK(same_bools(tg::logical_and(a, b), k + "logical_and"));
  CHECK(same_bools(tg::logical_or(a, b), k + "logical_or"));
  CHECK(same_bools(tg::logical_xor(a, b), k + "logical_xor"));
  if constexpr (std::is_same_v<T, bool>) {  // the operators exist for bool masks only
    CHECK(same_bools(~a, k + "logical_not"));
    CHECK(same_bools(a & b, k + "logical_and"));
    CHECK(same_bools(a | b, k + "logical_or"));
    CHECK(same_bools(a ^ b, k + "logical_xor"));
  }
}

template <class T>
void check_classification(const std::string& c) {
  const std::string k = "class/" + c + "/";
  const auto a = load<T>(k + "a");
  INFO("case " << c);
  CHECK(same_bools(tg::isnan(a), k + "isnan"));
  CHECK(same_bools(tg::isinf(a), k + "isinf"));
  CHECK(same_bools(tg::isfinite(a), k + "isfinite"));
}

template <class T>
void check_any_all(const std::string& c, const std::vector<std::int64_t>& dims) {
  const std::string k = "anyall/" + c + "/";
  const auto a = load<T>(k + "a");
  INFO("case " << c);
  CHECK(same_bools(tg::any(a), k + "any"));
  CHECK(same_bools(tg::all(a), k + "all"));
  for (std::int64_t d : dims) {
    INFO("dim " << d);
    const std::string dk = "/dim" + std::to_string(d);
    CHECK(same_bools(tg::any(a, d), k + "any" + dk));
    CHECK(same_bools(tg::any(a, d, true), k + "any" + dk + "_keep"));
    CHECK(same_bools(tg::all(a, d), k + "all" + dk));
    CHECK(same_bools(tg::all(a, d, true), k + "all" + dk + "_keep"));
  }
}

/// The message an op throws must name the op and every listed part (shapes, values).
template <class F>
void check_message(F&& f, const std::vector<std::string>& parts) {
  const std::string msg = message_of(f);
  for (const auto& part : parts) CHECK_THAT(msg, Contains(part));
}

}  // namespace

// ---- comparisons -----------------------------------------------------------------------------------------

TEST_CASE("eq, ne, lt, le, gt, ge: tensor-tensor values against PyTorch (broadcast, NaN, inf, 0-d, empty)") {
  for (const char* c : {"float_special", "float_bcast", "float_0d", "float_empty"}) check_comparisons<float>(c);
  for (const char* c : {"double_special", "double_bcast"}) check_comparisons<double>(c);
  for (const char* c : {"int64_bcast", "int64_0d"}) check_comparisons<std::int64_t>(c);
}

TEST_CASE("eq, ne, lt, le, gt, ge: tensor-scalar and scalar-tensor values against PyTorch") {
  check_scalar_comparisons<float>("float_special");
  check_scalar_comparisons<float>("float_bcast");
  check_scalar_comparisons<double>("double_special");
  check_scalar_comparisons<std::int64_t>("int64");
}

TEST_CASE("eq: hand-computed values, NaN unequal to itself, int literals against float tensors") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const auto x = tg::tensor<float>({nan, 0.0f, -0.0f, 2.0f}, {2, 2});
  CHECK(close(tg::eq(x, x).to<std::int64_t>(), {0, 1, 1, 1}, {2, 2}));
  CHECK(close(tg::ne(x, x).to<std::int64_t>(), {1, 0, 0, 0}, {2, 2}));
  CHECK(close((x == 0).to<std::int64_t>(), {0, 1, 1, 0}, {2, 2}));  // -0 == 0
  CHECK(close((x > 0).to<std::int64_t>(), {0, 0, 0, 1}, {2, 2}));
  CHECK(close((0 <= x).to<std::int64_t>(), {0, 1, 1, 1}, {2, 2}));
  const auto m = tg::tensor<bool>({true, false}, {2});
  CHECK(close((m == true).to<std::int64_t>(), {1, 0}, {2}));
  CHECK(close(tg::lt(m, tg::tensor<bool>({true, true}, {2})).to<std::int64_t>(), {0, 1}, {2}));  // false < true
}

TEST_CASE("eq, ne, lt, le, gt, ge: results are bool tensors that record nothing") {
  const auto x = leaf({2, 3}, 1), y = leaf({3}, 2);
  CHECK(std::is_same_v<decltype(tg::eq(x, y)), tg::Tensor<bool>>);
  CHECK(std::is_same_v<decltype(tg::lt(x, 0.0)), tg::Tensor<bool>>);
  CHECK(std::is_same_v<decltype(x >= y), tg::Tensor<bool>>);
  CHECK(std::is_same_v<decltype(1 > x), tg::Tensor<bool>>);
  CHECK(std::is_same_v<decltype(tg::logical_and(x, y)), tg::Tensor<bool>>);
  CHECK(std::is_same_v<decltype(tg::isnan(x)), tg::Tensor<bool>>);
  CHECK(std::is_same_v<decltype(tg::any(x, 0)), tg::Tensor<bool>>);
  const auto r = x > y;
  CHECK(r.shape() == tg::Shape{2, 3});
  CHECK_FALSE(r.requires_grad());
  CHECK(r.is_leaf());
  CHECK(r.grad_fn_name().empty());
}

TEST_CASE("eq, ne, lt, le, gt, ge: shapes that do not broadcast and undefined tensors") {
  const auto a = tg::zeros<float>({2, 3}), b = tg::zeros<float>({4});
  for (const auto& op : kComparisons) {
    INFO(op);
    CHECK_THROWS_AS(compare(op, a, b), tg::ShapeError);
    check_message([&] { compare(op, a, b); }, {op + ": ", "[2, 3]", "[4]"});
    CHECK_THROWS_AS(compare(op, tg::Tensor<float>(), b), tg::ValueError);
    check_message([&] { compare(op, tg::Tensor<float>(), b); }, {op + ": input is undefined"});
    check_message([&] { compare(op, a, tg::Tensor<float>()); }, {op + ": other is undefined"});
    check_message([&] { compare(op, tg::Tensor<float>(), 1.0f); }, {op + ": input is undefined"});
  }
  CHECK(a.shape() == tg::Shape{2, 3});  // inputs unchanged
}

// ---- logic -----------------------------------------------------------------------------------------------

TEST_CASE("logical_not, logical_and, logical_or, logical_xor: values against PyTorch (bool, numeric, NaN, empty)") {
  check_logic<bool>("bool_bcast");
  check_logic<bool>("bool_empty");
  check_logic<float>("float_special");
  check_logic<std::int64_t>("int64_bcast");
  check_logic<double>("double_0d");
}

TEST_CASE("logical_and: operators on bool masks, hand-computed, and broadcast errors") {
  const auto p = tg::tensor<bool>({true, true, false, false}, {2, 2});
  const auto q = tg::tensor<bool>({true, false}, {2});
  CHECK(close((p & q).to<std::int64_t>(), {1, 0, 0, 0}, {2, 2}));
  CHECK(close((p | q).to<std::int64_t>(), {1, 1, 1, 0}, {2, 2}));
  CHECK(close((p ^ q).to<std::int64_t>(), {0, 1, 1, 0}, {2, 2}));
  CHECK(close((~p).to<std::int64_t>(), {0, 0, 1, 1}, {2, 2}));
  CHECK(close((~(p & q) | p).to<std::int64_t>(), {1, 1, 1, 1}, {2, 2}));
  const auto r = tg::tensor<bool>({true, false, true}, {3});
  CHECK_THROWS_AS(p & r, tg::ShapeError);
  check_message([&] { (void)(p | r); }, {"logical_or: ", "[2, 2]", "[3]"});
  check_message([&] { tg::logical_xor(p, r); }, {"logical_xor: ", "[2, 2]", "[3]"});
  check_message([&] { tg::logical_not(tg::Tensor<float>()); }, {"logical_not: input is undefined"});
}

// ---- isnan / isinf / isfinite ------------------------------------------------------------------------------

TEST_CASE("isnan, isinf, isfinite: values against PyTorch (float, double, int64, bool, empty, 0-d)") {
  check_classification<float>("float");
  check_classification<double>("double");
  check_classification<std::int64_t>("int64");
  check_classification<bool>("bool");
  check_classification<float>("empty");
  check_classification<float>("float_0d");
  check_message([] { tg::isinf(tg::Tensor<double>()); }, {"isinf: input is undefined"});
}

// ---- where -------------------------------------------------------------------------------------------------

TEST_CASE("where: values and gradients against PyTorch (three-way broadcast, scalars, 0-d, empty, NaN)") {
  const auto& g = golden();
  for (const char* c : {"same", "bcast3", "cond_small", "scalar_b", "scalar_a", "zero_d", "zero_d_false", "empty", "nan"}) {
    INFO("case " << c);
    const std::string k = std::string("where/") + c + "/";
    const auto cond = bools(k + "cond");
    tg::Tensor<float> a, b, out;
    if (g.has(k + "a_scalar")) {
      b = g.tensor<float>(k + "b", true);
      out = tg::where(cond, static_cast<float>(g.scalar(k + "a_scalar")), b);
    } else if (g.has(k + "b_scalar")) {
      a = g.tensor<float>(k + "a", true);
      out = tg::where(cond, a, static_cast<float>(g.scalar(k + "b_scalar")));
    } else {
      a = g.tensor<float>(k + "a", true);
      b = g.tensor<float>(k + "b", true);
      out = tg::where(cond, a, b);
    }
    CHECK(close(out, g.tensor<float>(k + "out"), 0, 0));
    CHECK(out.grad_fn_name() == "WhereBackward0");
    out.backward(g.tensor<float>(k + "g"));
    // Broadcast gradients are sums, which PyTorch adds up in another order.
    if (a.defined()) CHECK(close(a.grad(), g.tensor<float>(k + "grad_a"), 1e-6, 1e-6));
    if (b.defined()) CHECK(close(b.grad(), g.tensor<float>(k + "grad_b"), 1e-6, 1e-6));
  }
  {
    const auto cond = bools("where/double/cond");
    const auto a = g.tensor<double>("where/double/a", true), b = g.tensor<double>("where/double/b", true);
    const auto out = tg::where(cond, a, b);
    CHECK(close(out, g.tensor<double>("where/double/out"), 0, 0));
    out.backward(g.tensor<double>("where/double/g"));
    CHECK(close(a.grad(), g.tensor<double>("where/double/grad_a"), 0, 0));
    CHECK(close(b.grad(), g.tensor<double>("where/double/grad_b"), 1e-15, 0));
  }
  const auto out = tg::where(bools("where/int64/cond"), g.tensor<std::int64_t>("where/int64/a"),
                             g.tensor<std::int64_t>("where/int64/b"));
  CHECK(std::is_same_v<decltype(out), const tg::Tensor<std::int64_t>>);
  CHECK(close(out, g.tensor<std::int64_t>("where/int64/out"), 0, 0));
}

TEST_CASE("where: gradcheck with broadcasting and scalar branches") {
  const auto cond23 = tg::tensor<bool>({true, false, true, false, false, true}, {2, 3});
  const auto cond3 = tg::tensor<bool>({false, true, true}, {3});
  const auto cond_1x3 = tg::tensor<bool>({true, false, true}, {1, 1, 3});
  CHECK(grad_ok([&](const Inputs& v) { return tg::where(cond23, v[0], v[1]); }, {leaf({2, 3}, 1), leaf({2, 3}, 2)}));
  CHECK(grad_ok([&](const Inputs& v) { return tg::where(cond3, v[0], v[1]); }, {leaf({2, 1}, 3), leaf({3}, 4)}));
  CHECK(grad_ok([&](const Inputs& v) { return tg::where(cond_1x3, v[0], v[1]); }, {leaf({4, 1}, 5), leaf({2, 1, 1}, 6)}));
  CHECK(grad_ok([&](const Inputs& v) { return tg::where(cond23, v[0], v[1]); }, {leaf({}, 7), leaf({3}, 8)}));
  CHECK(grad_ok([&](const Inputs& v) { return tg::where(cond23, v[0], 0.5); }, {leaf({2, 3}, 9)}));
  CHECK(grad_ok([&](const Inputs& v) { return tg::where(cond3, -2.0, v[0]); }, {leaf({2, 3}, 10)}));
  CHECK(grad_ok([&](const Inputs& v) { return tg::where(v[0] > 0.0, v[0], v[0] * v[0]); }, {leaf({5}, 11)}));
}

TEST_CASE("where: only inputs that require grad get gradients, and the condition is saved as it was") {
  auto cond = tg::tensor<bool>({true, false, true}, {3});
  const auto a = tg::tensor<double>({1, 2, 3}, {3}, true);
  const auto b = tg::tensor<double>({4, 5, 6}, {3});
  const auto out = tg::where(cond, a, b);
  CHECK(close(out, {1, 5, 3}, {3}));
  cond.data()[1] = true;  // after the forward: the backward must still use the old condition
  tg::sum(out).backward();
  CHECK(close(a.grad(), {1, 0, 1}, {3}));
  CHECK_FALSE(b.grad().defined());
  CHECK_FALSE(tg::where(cond, b, b).requires_grad());
}

TEST_CASE("where: errors name the op and all three shapes") {
  const auto cond = tg::tensor<bool>({true, false}, {2});
  const auto a = tg::zeros<float>({3}), b = tg::zeros<float>({1});
  CHECK_THROWS_AS(tg::where(cond, a, b), tg::ShapeError);
  check_message([&] { tg::where(cond, a, b); }, {"where: ", "[2]", "[3]", "[1]"});
  check_message([&] { tg::where(tg::tensor<bool>({true}, {1}), tg::zeros<float>({2, 3}), tg::zeros<float>({4, 1})); },
                {"where: ", "[1]", "[2, 3]", "[4, 1]"});
  check_message([&] { tg::where(cond, a, 0.0f); }, {"where: ", "[2]", "[3]"});
  CHECK_THROWS_AS(tg::where(tg::Tensor<bool>(), a, b), tg::ValueError);
  check_message([&] { tg::where(tg::Tensor<bool>(), a, b); }, {"where: condition is undefined"});
  check_message([&] { tg::where(cond, tg::Tensor<float>(), b); }, {"where: input is undefined"});
  check_message([&] { tg::where(cond, a, tg::Tensor<float>()); }, {"where: other is undefined"});
}

// ---- masked_fill -------------------------------------------------------------------------------------------

TEST_CASE("masked_fill: values and gradients against PyTorch (scalar and 0-d tensor value)") {
  const auto& g = golden();
  for (const char* c : {"same", "bcast", "mask_0d", "mask_0d_false", "zero_d", "empty", "nan_value", "inf_input"})
    for (const std::string form : {"scalar", "tensor"}) {
      INFO(form << " value, case " << c);
      const std::string k = "masked_fill/" + form + "/" + c + "/";
      const auto a = g.tensor<float>(k + "a", true);
      const auto mask = bools(k + "mask");
      const auto value = static_cast<float>(g.scalar(k + "value"));
      const auto v = tg::scalar_tensor<float>(value, true);
      const auto out = form == "scalar" ? tg::masked_fill(a, mask, value) : tg::masked_fill(a, mask, v);
      CHECK(close(out, g.tensor<float>(k + "out"), 0, 0));
      CHECK(out.grad_fn_name() == (form == "scalar" ? "MaskedFillBackward0" : "MaskedFillBackward1"));
      out.backward(g.tensor<float>(k + "g"));
      CHECK(close(a.grad(), g.tensor<float>(k + "grad_a"), 0, 0));
      if (form == "tensor") CHECK(close(v.grad(), g.tensor<float>(k + "grad_value"), 1e-6, 1e-6));
    }
  const std::string k = "masked_fill/tensor/double/";
  const auto a = g.tensor<double>(k + "a", true);
  const auto v = tg::scalar_tensor<double>(g.scalar(k + "value"), true);
  const auto out = tg::masked_fill(a, bools(k + "mask"), v);
  CHECK(close(out, g.tensor<double>(k + "out"), 0, 0));
  out.backward(g.tensor<double>(k + "g"));
  CHECK(close(a.grad(), g.tensor<double>(k + "grad_a"), 0, 0));
  CHECK(close(v.grad(), g.tensor<double>(k + "grad_value"), 1e-15, 0));
  const auto ints = tg::masked_fill(g.tensor<std::int64_t>("masked_fill/int64/a"), bools("masked_fill/int64/mask"), 7);
  CHECK(close(ints, g.tensor<std::int64_t>("masked_fill/int64/out"), 0, 0));
}

TEST_CASE("masked_fill: gradcheck for both value forms, with a broadcast mask") {
  const auto mask23 = tg::tensor<bool>({true, false, false, true, true, false}, {2, 3});
  const auto mask31 = tg::tensor<bool>({false, true, true}, {3, 1});
  CHECK(grad_ok([&](const Inputs& v) { return tg::masked_fill(v[0], mask23, 1.5); }, {leaf({2, 3}, 1)}));
  CHECK(grad_ok([&](const Inputs& v) { return tg::masked_fill(v[0], mask31, -1.0); }, {leaf({2, 3, 4}, 2)}));
  CHECK(grad_ok([&](const Inputs& v) { return tg::masked_fill(v[0], mask23, v[1]); }, {leaf({2, 3}, 3), leaf({}, 4)}));
  CHECK(grad_ok([&](const Inputs& v) { return tg::masked_fill(v[0], mask31, v[1]); }, {leaf({2, 3, 4}, 5), leaf({}, 6)}));
  CHECK(grad_ok([&](const Inputs& v) { return tg::masked_fill(v[0], tg::scalar_tensor<bool>(true), v[1]) * v[0]; },
                {leaf({3}, 7), leaf({}, 8)}));
  // Only the value requires grad: a is a constant.
  const auto a = tg::ones<double>({2, 3});
  CHECK(grad_ok([&](const Inputs& v) { return tg::masked_fill(a, mask23, v[0]); }, {leaf({}, 9)}));
}

TEST_CASE("masked_fill: hand-computed values, input and mask unchanged, saved mask") {
  auto mask = tg::tensor<bool>({true, false, true}, {3});
  const auto a = tg::tensor<double>({1, 2, 3, 4, 5, 6}, {2, 3}, true);
  const auto v = tg::scalar_tensor<double>(-1, true);
  const auto out = tg::masked_fill(a, mask, v);
  CHECK(close(out, {-1, 2, -1, -1, 5, -1}, {2, 3}));
  CHECK(close(a, {1, 2, 3, 4, 5, 6}, {2, 3}));
  mask.data()[1] = true;  // after the forward: the backward must still use the old mask
  tg::sum(out * out).backward();
  CHECK(close(a.grad(), {0, 4, 0, 0, 10, 0}, {2, 3}));
  CHECK(close(v.grad(), {-8}, tg::Shape{}));  // 4 filled positions, each d(out^2)/d(out) = -2
}

TEST_CASE("masked_fill: a mask that does not broadcast to the input, a non-0-d value, undefined tensors") {
  const auto a = tg::zeros<float>({3});
  CHECK_THROWS_AS(tg::masked_fill(a, tg::ones<bool>({2, 3}), 1.0f), tg::ShapeError);
  check_message([&] { tg::masked_fill(a, tg::ones<bool>({2, 3}), 1.0f); }, {"masked_fill: ", "[2, 3]", "[3]"});
  check_message([&] { tg::masked_fill(a, tg::ones<bool>({2}), 1.0f); }, {"masked_fill: ", "[2]", "[3]"});
  check_message([&] { tg::masked_fill(tg::zeros<float>({2, 3}), tg::ones<bool>({3, 1}), 1.0f); },
                {"masked_fill: ", "[3, 1]", "[2, 3]"});
  CHECK_THROWS_AS(tg::masked_fill(a, tg::ones<bool>({3}), tg::ones<float>({1})), tg::ValueError);
  check_message([&] { tg::masked_fill(a, tg::ones<bool>({3}), tg::ones<float>({1})); },
                {"masked_fill: ", "0-d", "[1]"});
  check_message([&] { tg::masked_fill(a, tg::ones<bool>({3}), tg::ones<float>({2, 2})); }, {"masked_fill: ", "[2, 2]"});
  check_message([&] { tg::masked_fill(a, tg::Tensor<bool>(), 1.0f); }, {"masked_fill: mask is undefined"});
  check_message([&] { tg::masked_fill(tg::Tensor<float>(), tg::ones<bool>({3}), 1.0f); },
                {"masked_fill: input is undefined"});
  check_message([&] { tg::masked_fill(a, tg::ones<bool>({3}), tg::Tensor<float>()); },
                {"masked_fill: value is undefined"});
}

// ---- any / all ---------------------------------------------------------------------------------------------

TEST_CASE("any and all: values against PyTorch (over all, over dims, keepdim, NaN, empty, 0-d)") {
  check_any_all<float>("float", {0, 1, -1});
  check_any_all<float>("float_full", {0, 1});
  check_any_all<bool>("bool3d", {0, 1, 2, -2});
  check_any_all<std::int64_t>("int64", {0, 1, -2});
  check_any_all<double>("double", {0, 1});
  check_any_all<float>("empty", {0, 1, -1});
  check_any_all<float>("zero_d_zero", {0, -1});
  check_any_all<float>("zero_d_one", {0});
}

TEST_CASE("any and all: hand-computed, empty reductions give false and true") {
  const auto x = tg::tensor<std::int64_t>({0, 0, 1, 0, 2, 3}, {2, 3});
  CHECK(close(tg::any(x, 1).to<std::int64_t>(), {1, 1}, {2}));
  CHECK(close(tg::all(x, 1).to<std::int64_t>(), {0, 0}, {2}));
  CHECK(close(tg::all(x, 0, true).to<std::int64_t>(), {0, 0, 1}, {1, 3}));
  CHECK(tg::any(x).item());
  CHECK_FALSE(tg::all(x).item());
  const auto e = tg::zeros<double>({2, 0});
  CHECK_FALSE(tg::any(e).item());
  CHECK(tg::all(e).item());
  CHECK(close(tg::all(e, 1).to<std::int64_t>(), {1, 1}, {2}));
  CHECK(tg::any(e, 0).shape() == tg::Shape{0});
}

TEST_CASE("any and all: dims out of range and undefined tensors") {
  const auto x = tg::zeros<float>({2, 3});
  CHECK_THROWS_AS(tg::any(x, 2), tg::IndexError);
  CHECK_THROWS_AS(tg::all(x, -3), tg::IndexError);
  check_message([&] { tg::any(x, 2); }, {"any: dim 2", "[-2, 1]"});
  check_message([&] { tg::all(x, -3, true); }, {"all: dim -3", "[-2, 1]"});
  check_message([&] { tg::all(tg::scalar_tensor<float>(1), 1); }, {"all: dim 1", "[-1, 0]"});
  check_message([&] { tg::any(tg::Tensor<float>()); }, {"any: input is undefined"});
  check_message([&] { tg::all(tg::Tensor<float>(), 0); }, {"all: input is undefined"});
}

// ---- equal and allclose ------------------------------------------------------------------------------------

TEST_CASE("equal: against PyTorch (shape must match, NaN unequal, empty, 0-d, int64)") {
  const auto& g = golden();
  for (const char* c : {"same", "one_differs", "shape_differs", "bcast_not_equal", "nan", "signed_zero", "empty",
                        "empty_shapes", "zero_d"}) {
    INFO("case " << c);
    const std::string k = std::string("equal/") + c + "/";
    CHECK(tg::equal(g.tensor<float>(k + "a"), g.tensor<float>(k + "b")) == golden_flag(k + "out"));
  }
  CHECK(tg::equal(g.tensor<std::int64_t>("equal/int64/a"), g.tensor<std::int64_t>("equal/int64/b")) ==
        golden_flag("equal/int64/out"));
  const auto nan = tg::tensor<double>({std::nan("")}, {1});
  CHECK_FALSE(tg::equal(nan, nan));  // even the same tensor, as in PyTorch 1.13
  check_message([] { tg::equal(tg::Tensor<float>(), tg::ones<float>({1})); }, {"equal: input is undefined"});
}

TEST_CASE("allclose: against PyTorch (rtol uses |other|, infinities, NaN, equal_nan, broadcast, int64)") {
  const auto& g = golden();
  for (const char* c : {"default_close", "default_far", "rtol_loose", "atol_only_in", "atol_only_out", "rtol_uses_other",
                        "rtol_uses_other_swapped", "zero_tol_equal", "zero_tol_differ", "inf_same", "inf_opposite",
                        "inf_vs_large", "huge_tol_inf", "nan", "nan_equal_nan", "nan_one_side", "bcast", "bcast_far",
                        "empty"}) {
    INFO("case " << c);
    const std::string k = std::string("allclose/") + c + "/";
    CHECK(tg::allclose(g.tensor<float>(k + "a"), g.tensor<float>(k + "b"), g.scalar(k + "rtol"), g.scalar(k + "atol"),
                       golden_flag(k + "equal_nan")) == golden_flag(k + "out"));
  }
  for (const char* c : {"double_close", "double_far"}) {
    INFO("case " << c);
    const std::string k = std::string("allclose/") + c + "/";
    CHECK(tg::allclose(g.tensor<double>(k + "a"), g.tensor<double>(k + "b"), g.scalar(k + "rtol"), g.scalar(k + "atol")) ==
          golden_flag(k + "out"));
  }
  for (const char* c : {"int64_close", "int64_far", "int64_atol"}) {
    INFO("case " << c);
    const std::string k = std::string("allclose/") + c + "/";
    CHECK(tg::allclose(g.tensor<std::int64_t>(k + "a"), g.tensor<std::int64_t>(k + "b"), g.scalar(k + "rtol"),
                       g.scalar(k + "atol")) == golden_flag(k + "out"));
  }
  const auto x = tg::tensor<float>({1, 2}, {2});
  CHECK(tg::allclose(x, x));
  CHECK(tg::allclose(tg::tensor<bool>({true, false}, {2}), tg::tensor<bool>({true, false}, {2})));
}

TEST_CASE("allclose: negative tolerances, shapes that do not broadcast, undefined tensors") {
  const auto x = tg::ones<float>({2, 3});
  CHECK_THROWS_AS(tg::allclose(x, x, -1.0), tg::ValueError);
  check_message([&] { tg::allclose(x, x, -1.0); }, {"allclose: rtol", "-1"});
  check_message([&] { tg::allclose(x, x, 1e-5, -0.5); }, {"allclose: atol", "-0.5"});
  CHECK_THROWS_AS(tg::allclose(x, tg::ones<float>({2})), tg::ShapeError);
  check_message([&] { tg::allclose(x, tg::ones<float>({2})); }, {"allclose: ", "[2, 3]", "[2]"});
  check_message([&] { tg::allclose(x, tg::Tensor<float>()); }, {"allclose: other is undefined"});
}

}  // namespace compare_test
