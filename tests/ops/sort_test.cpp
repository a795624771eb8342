// SPDX-License-Identifier: MIT
// max/min (over a dim, over all elements, element-wise), topk, sort, argsort and cumsum: values and
// indices against PyTorch goldens (tests/reference/golden_sort.py), tie and NaN gradients against
// PyTorch, gradcheck on tie-free inputs, node names and errors.
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "ops_test.hpp"

namespace sort_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
using ops_test::grad_ok;
using ops_test::Inputs;
using ops_test::leaf;
using ops_test::leaf_of;
using tg_test::close;
using tg_test::message_of;

namespace {

const tg_test::Golden& gold() {
  static const tg_test::Golden g("sort");
  return g;
}

// Long rows with ties come out of std::sort / std::nth_element in an order that depends on the
// standard library's algorithm. PyTorch runs libstdc++'s; with another library only the values and
// the consistency of the indices are checked for sort and topk.
#if defined(__GLIBCXX__)
constexpr bool kSameTieOrderAsPyTorch = true;
#else
constexpr bool kSameTieOrderAsPyTorch = false;
#endif

const float kNan = std::numeric_limits<float>::quiet_NaN();

/// The dims golden_sort.py visits: every dim and -1 (0 and -1 for a 0-d tensor).
std::vector<std::int64_t> dims_of(std::int64_t ndim) {
  std::vector<std::int64_t> dims;
  for (std::int64_t d = 0; d < ndim; ++d) dims.push_back(d);
  if (ndim == 0) dims.push_back(0);
  dims.push_back(-1);
  return dims;
}

std::int64_t size_along(const tg::Shape& shape, std::int64_t d) {
  if (shape.empty()) return 1;
  return shape[static_cast<std::size_t>(d < 0 ? d + static_cast<std::int64_t>(shape.size()) : d)];
}

/// Exact equality (NaN equals NaN, shapes equal) against golden `key`.
template <class T>
tg_test::Comparison same(const tg::Tensor<T>& actual, const std::string& key) {
  return close(actual, gold().values(key), gold().shape(key), 0.0, 0.0);
}

/// Indices of sort/topk: exact where the tie order is PyTorch's; otherwise each index must point at its value.
template <class T>
tg_test::Comparison same_indices(const tg::Tensor<std::int64_t>& indices, const std::string& key, const tg::Tensor<T>& input,
                                 const tg::Tensor<T>& values, std::int64_t dim) {
  if (kSameTieOrderAsPyTorch) return same(indices, key);
  if (input.dim() == 0) return close(indices, {0}, tg::Shape{});
  const auto d = static_cast<std::size_t>(dim < 0 ? dim + input.dim() : dim);
  const tg::Shape& s = input.shape();
  std::int64_t outer = 1, inner = 1;
  for (std::size_t k = 0; k < d; ++k) outer *= s[k];
  for (std::size_t k = d + 1; k < s.size(); ++k) inner *= s[k];
  const std::int64_t len = s[d], k = indices.shape()[d];
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t r = 0; r < k; ++r)
      for (std::int64_t j = 0; j < inner; ++j) {
        const std::int64_t at = (o * k + r) * inner + j;
        const T v = input.data()[(o * len + indices.data()[at]) * inner + j], w = values.data()[at];
        if (!(v == w || (v != v && w != w))) return {false, "index " + std::to_string(at) + " does not point at its value"};
      }
  return {};
}

/// Runs every golden of golden_sort.py's loop over one input (max/min, sort, argsort, topk, cumsum).
template <class T>
void check_against_pytorch(const std::string& name) {
  const auto x = gold().tensor<T>(name + "/input");
  const tg::Tensor<T> before = x.clone();
  INFO("input " << name << " of shape " << x.shape());
  if (x.numel() > 0) {
    CHECK(same(tg::max(x), "max/" + name + "/all"));
    CHECK(same(tg::min(x), "min/" + name + "/all"));
  }
  for (std::int64_t d : dims_of(x.dim())) {
    INFO("dim " << d);
    const std::int64_t len = size_along(x.shape(), d);
    if (len > 0)
      for (bool keep : {false, true}) {
        INFO("keepdim " << keep);
        const std::string suffix = name + "/" + std::to_string(d) + (keep ? "/keep" : "/drop");
        const auto [max_v, max_i] = tg::max(x, d, keep);
        CHECK(same(max_v, "max/" + suffix + "/values"));
        CHECK(same(max_i, "max/" + suffix + "/indices"));
        const auto [min_v, min_i] = tg::min(x, d, keep);
        CHECK(same(min_v, "min/" + suffix + "/values"));
        CHECK(same(min_i, "min/" + suffix + "/indices"));
      }
    for (bool desc : {false, true}) {
      INFO("descending " << desc);
      const std::string order = desc ? "/desc" : "/asc";
      for (bool stable : {false, true}) {
        INFO("stable " << stable);
        const std::string key = "sort/" + name + "/" + std::to_string(d) + order + (stable ? "/stable" : "/unstable");
        const auto [v, i] = tg::sort(x, d, desc, stable);
        CHECK(same(v, key + "/values"));
        CHECK(same_indices(i, key + "/indices", x, v, d));
      }
      const auto idx = tg::argsort(x, d, desc);
      CHECK(same_indices(idx, "argsort/" + name + "/" + std::to_string(d) + order, x, std::get<0>(tg::sort(x, d, desc)), d));
    }
    if constexpr (!std::is_same_v<T, bool>) {
      for (std::int64_t k : {std::int64_t(0), std::int64_t(1), std::int64_t(2), std::int64_t(3), len / 2, len}) {
        if (k > len) continue;
        for (bool largest : {false, true})
          for (bool sorted : {false, true}) {
            INFO("topk k " << k << " largest " << largest << " sorted " << sorted);
            const std::string key = "topk/" + name + "/" + std::to_string(d) + "/k" + std::to_string(k) +
                                    (largest ? "/largest" : "/smallest") + (sorted ? "/sorted" : "/unsorted");
            const auto [v, i] = tg::topk(x, k, d, largest, sorted);
            // Unsorted topk returns its picks in nth_element's order: compare exactly only where that is PyTorch's.
            if (sorted || kSameTieOrderAsPyTorch) CHECK(same(v, key + "/values"));
            CHECK(same_indices(i, key + "/indices", x, v, d));
          }
      }
    }
    CHECK(same(tg::cumsum(x, d), "cumsum/" + name + "/" + std::to_string(d)));
  }
  CHECK(close(x, before, 0.0, 0.0));  // inputs unchanged (NaN compares equal here)
}

using FloatOp = std::function<tg::Tensor<float>(const tg::Tensor<float>&)>;

/// The ops golden_sort.py differentiates, by the name it gives them.
std::map<std::string, FloatOp> gradient_ops(std::int64_t d, std::int64_t len) {
  const std::int64_t k = std::min<std::int64_t>(2, len);
  return {
      {"max", [d](const tg::Tensor<float>& t) { return std::get<0>(tg::max(t, d)); }},
      {"min", [d](const tg::Tensor<float>& t) { return std::get<0>(tg::min(t, d)); }},
      {"sort", [d](const tg::Tensor<float>& t) { return std::get<0>(tg::sort(t, d)); }},
      {"sort_desc", [d](const tg::Tensor<float>& t) { return std::get<0>(tg::sort(t, d, true)); }},
      {"topk2", [d, k](const tg::Tensor<float>& t) { return std::get<0>(tg::topk(t, k, d)); }},
      {"topk2_smallest_unsorted", [d, k](const tg::Tensor<float>& t) { return std::get<0>(tg::topk(t, k, d, false, false)); }},
      {"cumsum", [d](const tg::Tensor<float>& t) { return tg::cumsum(t, d); }},
  };
}

/// x.grad after backward(g) through `op`, against PyTorch's for the same upstream g.
tg_test::Comparison gradient_matches(const FloatOp& op, const std::string& input, const std::string& key) {
  const auto x = gold().tensor<float>(input + "/input", true);
  op(x).backward(gold().tensor<float>(key + "/g"));
  return close(x.grad(), gold().values(key + "/grad"), gold().shape(key + "/grad"));
}

}  // namespace

// ---- values and indices against PyTorch ----------------------------------------------------------

TEST_CASE("max, min, sort, argsort, topk, cumsum: values and indices against PyTorch for float32 inputs") {
  for (const char* name : {"f32_ties", "f32_nan", "f32_3d", "f32_big", "f32_0d", "f32_empty"}) check_against_pytorch<float>(name);
}

TEST_CASE("max, min, sort, argsort, topk, cumsum: values and indices against PyTorch for float64 and int64 inputs") {
  check_against_pytorch<double>("f64_ties");
  check_against_pytorch<std::int64_t>("i64_ties");
  check_against_pytorch<std::int64_t>("i64_big");
}

// ---- hand-checked behaviour ------------------------------------------------------------------------

TEST_CASE("max and min over a dim: first index on ties, first NaN wins, keepdim and 0-d shapes") {
  const auto x = tg::tensor<float>({1, 3, 3, 2, 5, 5, 1, 5}, {2, 4});
  const auto [v, i] = tg::max(x, 1);
  CHECK(close(v, {3, 5}, {2}));
  CHECK(close(i, {1, 0}, {2}));
  const auto [mv, mi] = tg::min(x, -1, true);
  CHECK(close(mv, {1, 1}, {2, 1}));
  CHECK(close(mi, {0, 2}, {2, 1}));
  const auto [nv, ni] = tg::max(tg::tensor<float>({1, kNan, 3, kNan}, {4}), 0);
  CHECK(std::isnan(nv.item()));
  CHECK(ni.item() == 1);
  const auto [sv, si] = tg::min(tg::scalar_tensor<float>(2.5f), -1, true);
  CHECK(close(sv, {2.5}, tg::Shape{}));
  CHECK(close(si, {0}, tg::Shape{}));
  const auto [ev, ei] = tg::max(tg::zeros<float>({2, 0}), 0);  // reducing a non-empty dim of an empty tensor
  CHECK(ev.shape() == tg::Shape{0});
  CHECK(ei.shape() == tg::Shape{0});
}

TEST_CASE("maximum and minimum: NaN on either side wins, ties, broadcasting, int64, max(a, b) is maximum(a, b)") {
  const auto a = tg::tensor<float>({1, 2, kNan, 4}, {4});
  const auto b = tg::tensor<float>({1, 3, 0, kNan}, {4});
  CHECK(close(tg::maximum(a, b), {1, 3, kNan, kNan}, {4}));
  CHECK(close(tg::minimum(a, b), {1, 2, kNan, kNan}, {4}));
  CHECK(close(tg::max(a, b), tg::maximum(a, b)));
  CHECK(close(tg::min(a, b), tg::minimum(a, b)));
  CHECK(close(tg::maximum(tg::tensor<std::int64_t>({1, 5}, {2}), tg::tensor<std::int64_t>({3, 4}, {2, 1})), {3, 5, 4, 5}, {2, 2}));
  for (const char* name : {"same", "bcast", "f64", "i64"}) {
    INFO("pair " << name);
    const std::string key = std::string("maximum/") + name;
    if (std::string(name) == "i64") {
      const auto ia = gold().tensor<std::int64_t>(key + "/a"), ib = gold().tensor<std::int64_t>(key + "/b");
      CHECK(same(tg::maximum(ia, ib), key + "/out"));
      CHECK(same(tg::minimum(ia, ib), std::string("minimum/") + name + "/out"));
    } else if (std::string(name) == "f64") {
      const auto da = gold().tensor<double>(key + "/a"), db = gold().tensor<double>(key + "/b");
      CHECK(same(tg::maximum(da, db), key + "/out"));
      CHECK(same(tg::minimum(da, db), std::string("minimum/") + name + "/out"));
    } else {
      const auto fa = gold().tensor<float>(key + "/a"), fb = gold().tensor<float>(key + "/b");
      CHECK(same(tg::max(fa, fb), key + "/out"));
      CHECK(same(tg::min(fa, fb), std::string("minimum/") + name + "/out"));
    }
  }
}

TEST_CASE("topk: ties come out as PyTorch's CPU kernel leaves them, NaN is the largest, 0-d and k = 0") {
  const auto x = tg::tensor<float>({3, 1, 3, kNan, 2, 1, kNan, 3}, {8});
  const auto [v, i] = tg::topk(x, 3);
  CHECK(close(v, {kNan, kNan, 3}, {3}));
  CHECK(close(i, {3, 6, 0}, {3}));
  const auto [sv, si] = tg::topk(x, 3, 0, false);
  CHECK(close(sv, {1, 1, 2}, {3}));
  CHECK(close(si, {1, 5, 4}, {3}));
  // Signed zeros are ties; nth_element leaves the last two first (PyTorch gives [2, 3] too).
  const auto [zv, zi] = tg::topk(tg::tensor<float>({0.0f, -0.0f, 0.0f, -0.0f}, {4}), 2);
  if (kSameTieOrderAsPyTorch) CHECK(close(zi, {2, 3}, {2}));
  CHECK(close(zv, {0, 0}, {2}));
  // PyTorch's 0-d special case: the element itself, even for k = 0.
  const auto [v0, i0] = tg::topk(tg::scalar_tensor<float>(2), 0);
  CHECK(close(v0, {2}, tg::Shape{}));
  CHECK(close(i0, {0}, tg::Shape{}));
  const auto [ev, ei] = tg::topk(tg::zeros<float>({2, 0}), 0);
  CHECK(ev.shape() == tg::Shape{2, 0});
  CHECK(ei.shape() == tg::Shape{2, 0});
}

TEST_CASE("sort: NaN sorts last (first when descending), short rows keep tied elements in order, argsort") {
  const float inf = std::numeric_limits<float>::infinity();
  const auto x = tg::tensor<float>({3, 1, 3, kNan, 2, 1, kNan, 3}, {8});
  const auto [v, i] = tg::sort(x);
  CHECK(close(v, {1, 1, 2, 3, 3, 3, kNan, kNan}, {8}));
  CHECK(close(i, {1, 5, 4, 0, 2, 7, 3, 6}, {8}));
  const auto [dv, di] = tg::sort(x, 0, true);
  CHECK(close(dv, {kNan, kNan, 3, 3, 3, 2, 1, 1}, {8}));
  CHECK(close(di, {3, 6, 0, 2, 7, 4, 1, 5}, {8}));
  CHECK(close(tg::argsort(tg::tensor<float>({inf, kNan, -inf, 1}, {4})), {2, 3, 0, 1}, {4}));
  const auto [bv, bi] = tg::sort(tg::tensor<bool>({true, false, true}, {3}));
  CHECK(close(bv, {0, 1, 1}, {3}));
  CHECK(close(bi, {1, 0, 2}, {3}));
  const auto [sv, si] = tg::sort(tg::scalar_tensor<double>(4.0));
  CHECK(close(sv, {4}, tg::Shape{}));
  CHECK(close(si, {0}, tg::Shape{}));
}

TEST_CASE("cumsum: running sums, bool and int32 give int64, float accumulates in double as PyTorch") {
  CHECK(close(tg::cumsum(tg::tensor<float>({1, 2, 3, 4, 5, 6}, {2, 3}), 1), {1, 3, 6, 4, 9, 15}, {2, 3}));
  CHECK(close(tg::cumsum(tg::tensor<float>({1, 2, 3, 4, 5, 6}, {2, 3}), -2), {1, 2, 3, 5, 7, 9}, {2, 3}));
  const tg::Tensor<std::int64_t> from_bool = tg::cumsum(gold().tensor<bool>("cumsum_bool/input"), 1);
  CHECK(same(from_bool, "cumsum_bool/1"));
  CHECK(same(tg::cumsum(gold().tensor<bool>("cumsum_bool/input"), 0), "cumsum_bool/0"));
  const tg::Tensor<std::int64_t> from_int32 = tg::cumsum(tg::tensor<std::int32_t>({1, 2, 3}, {3}), 0);
  CHECK(close(from_int32, {1, 3, 6}, {3}));
  CHECK(same(tg::cumsum(gold().tensor<float>("cumsum_acc/input"), 0), "cumsum_acc/out"));
  CHECK(close(tg::cumsum(tg::tensor<float>({1, kNan, 2}, {3}), 0), {1, kNan, kNan}, {3}));
  CHECK(close(tg::cumsum(tg::scalar_tensor<float>(3), -1), {3}, tg::Shape{}));
  CHECK(tg::cumsum(tg::zeros<float>({0, 3}), 0).shape() == tg::Shape{0, 3});
  // int64 overflow wraps around as in PyTorch (no undefined behaviour).
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  CHECK(close(tg::cumsum(tg::tensor<std::int64_t>({big, 1}, {2}), 0),
              {static_cast<double>(big), static_cast<double>(std::numeric_limits<std::int64_t>::min())}, {2}, 0.0, 0.0));
}

// ---- gradients -----------------------------------------------------------------------------------------

TEST_CASE("max, min, sort, topk, cumsum: gradients at ties and NaN match PyTorch") {
  for (const char* name : {"f32_ties", "f32_nan", "f32_3d", "f32_big", "f32_0d"}) {
    const auto shape = gold().shape(std::string(name) + "/input");
    for (std::int64_t d : dims_of(static_cast<std::int64_t>(shape.size())))
      for (const auto& [op, fn] : gradient_ops(d, size_along(shape, d))) {
        INFO(op << " over dim " << d << " of " << name);
        CHECK(gradient_matches(fn, name, "grad/" + op + "/" + std::to_string(d) + "/" + name));
      }
    INFO("over all elements of " << name);
    CHECK(gradient_matches([](const tg::Tensor<float>& t) { return tg::max(t); }, name, std::string("grad/max/all/") + name));
    CHECK(gradient_matches([](const tg::Tensor<float>& t) { return tg::min(t); }, name, std::string("grad/min/all/") + name));
  }
}

TEST_CASE("max and min over all elements: ties share the gradient evenly, NaNs share it when the result is NaN") {
  const auto x = leaf_of({5, 1, 5, 5, 1}, {5});
  tg::max(x).backward();
  CHECK(close(x.grad(), {1.0 / 3, 0, 1.0 / 3, 1.0 / 3, 0}, {5}, 1e-12, 0.0));
  const auto y = tg::tensor<float>({1, kNan, kNan, 2}, {4}, true);
  tg::min(y).backward();
  CHECK(close(y.grad(), {0, 0.5, 0.5, 0}, {4}));
}

TEST_CASE("maximum and minimum: equal inputs split the gradient in half, NaN sends it to both (PyTorch goldens)") {
  for (const char* name : {"same", "bcast"}) {
    for (const char* op : {"maximum", "minimum"}) {
      INFO(op << " on pair " << name);
      const std::string in = std::string("maximum/") + name, key = std::string(op) + "/" + name;
      const auto a = gold().tensor<float>(in + "/a", true), b = gold().tensor<float>(in + "/b", true);
      const auto out = std::string(op) == "maximum" ? tg::maximum(a, b) : tg::minimum(a, b);
      // golden_sort.py's upstream gradient: 0.5, 0.75, 1.0, ... in row-major order.
      auto g = tg::empty<float>(out.shape());
      for (std::int64_t i = 0; i < g.numel(); ++i) g.data()[i] = 0.5f + 0.25f * static_cast<float>(i);
      out.backward(g);
      CHECK(close(a.grad(), gold().values(key + "/grad_a"), gold().shape(key + "/grad_a")));
      CHECK(close(b.grad(), gold().values(key + "/grad_b"), gold().shape(key + "/grad_b")));
    }
  }
  const auto a = leaf_of({2, 1}, {2}), b = leaf_of({2, 3}, {2});
  tg::maximum(a, b).backward(tg::tensor<double>({4, 4}, {2}));
  CHECK(close(a.grad(), {2, 0}, {2}));
  CHECK(close(b.grad(), {2, 4}, {2}));
}

TEST_CASE("max and min over a dim, over all elements: gradcheck") {
  const auto x = leaf({3, 4, 5}, 11);
  for (std::int64_t d : {0, 1, 2, -1})
    for (bool keep : {false, true}) {
      INFO("dim " << d << " keepdim " << keep);
      CHECK(grad_ok([d, keep](const Inputs& v) { return std::get<0>(tg::max(v[0], d, keep)); }, {x}));
      CHECK(grad_ok([d, keep](const Inputs& v) { return std::get<0>(tg::min(v[0], d, keep)); }, {x}));
    }
  CHECK(grad_ok([](const Inputs& v) { return tg::max(v[0]); }, {x}));
  CHECK(grad_ok([](const Inputs& v) { return tg::min(v[0]); }, {x}));
  const auto s = leaf({}, 12);
  CHECK(grad_ok([](const Inputs& v) { return std::get<0>(tg::max(v[0], 0)) * tg::min(v[0]); }, {s}));
}

TEST_CASE("maximum and minimum: gradcheck with and without broadcasting") {
  const auto a = leaf({3, 4}, 21), b = leaf({3, 4}, 22), row = leaf({4}, 23), col = leaf({3, 1}, 24);
  CHECK(grad_ok([](const Inputs& v) { return tg::maximum(v[0], v[1]); }, {a, b}));
  CHECK(grad_ok([](const Inputs& v) { return tg::minimum(v[0], v[1]); }, {a, b}));
  CHECK(grad_ok([](const Inputs& v) { return tg::max(v[0], v[1]); }, {a, row}));
  CHECK(grad_ok([](const Inputs& v) { return tg::min(v[0], v[1]); }, {col, row}));
}

TEST_CASE("topk: gradcheck over every dim, largest and smallest, sorted and not") {
  const auto x = leaf({3, 5, 4}, 31);
  for (std::int64_t d : {0, 1, -1})
    for (bool largest : {false, true})
      for (bool sorted : {false, true}) {
        INFO("dim " << d << " largest " << largest << " sorted " << sorted);
        CHECK(grad_ok([d, largest, sorted](const Inputs& v) { return std::get<0>(tg::topk(v[0], 2, d, largest, sorted)); }, {x}));
      }
  // k * 64 <= size takes PyTorch's partial_sort path.
  const auto wide = leaf({2, 130}, 32);
  CHECK(grad_ok([](const Inputs& v) { return std::get<0>(tg::topk(v[0], 2)); }, {wide}));
}

TEST_CASE("sort: gradcheck over every dim, ascending and descending, cumsum: gradcheck") {
  const auto x = leaf({3, 4, 5}, 41);
  for (std::int64_t d : {0, 1, 2, -1})
    for (bool desc : {false, true}) {
      INFO("dim " << d << " descending " << desc);
      CHECK(grad_ok([d, desc](const Inputs& v) { return std::get<0>(tg::sort(v[0], d, desc)); }, {x}));
      CHECK(grad_ok([d, desc](const Inputs& v) { return std::get<0>(tg::sort(v[0], d, desc, true)); }, {x}));
      CHECK(grad_ok([d](const Inputs& v) { return tg::cumsum(v[0], d); }, {x}));
    }
  const auto long_row = leaf({40}, 42);  // longer than std::sort's insertion-sort threshold
  CHECK(grad_ok([](const Inputs& v) { return std::get<0>(tg::sort(v[0])); }, {long_row}));
  const auto s = leaf({}, 43);
  CHECK(grad_ok([](const Inputs& v) { return tg::cumsum(v[0], 0) * std::get<0>(tg::sort(v[0])); }, {s}));
}

TEST_CASE("max, min, maximum, topk, sort, cumsum: node names as in PyTorch") {
  const auto x = tg::tensor<float>({1, 2, 3, 4}, {2, 2}, true);
  CHECK(std::get<0>(tg::max(x, 1)).grad_fn_name() == "MaxBackward0");
  CHECK(std::get<0>(tg::min(x, 1, true)).grad_fn_name() == "MinBackward0");
  CHECK(tg::max(x).grad_fn_name() == "MaxBackward1");
  CHECK(tg::min(x).grad_fn_name() == "MinBackward1");
  CHECK(tg::max(x, x).grad_fn_name() == "MaximumBackward0");
  CHECK(tg::minimum(x, x).grad_fn_name() == "MinimumBackward0");
  CHECK(std::get<0>(tg::topk(x, 1)).grad_fn_name() == "TopkBackward0");
  CHECK(std::get<0>(tg::sort(x)).grad_fn_name() == "SortBackward0");
  CHECK(std::get<0>(tg::sort(x, -1, false, true)).grad_fn_name() == "SortBackward1");
  CHECK(tg::cumsum(x, 0).grad_fn_name() == "CumsumBackward0");
  CHECK_FALSE(std::get<1>(tg::max(x, 1)).requires_grad());
  CHECK_FALSE(tg::argsort(x).requires_grad());
  const tg::NoGradGuard no_grad;
  CHECK_FALSE(std::get<0>(tg::sort(x)).requires_grad());
}

// ---- errors ---------------------------------------------------------------------------------------------

TEST_CASE("max, min, topk, sort, argsort, cumsum, maximum: errors name the op, the value and the valid range") {
  const auto x = tg::tensor<float>({5, 1, 4, 2, 3, 0, 9, 8, 7, 6}, {2, 5}, true);
  const std::vector<float> before = x.to_vector();
  CHECK_THROWS_AS(tg::topk(x, 7, 1), tg::IndexError);
  CHECK(message_of([&] { tg::topk(x, 7, 1); }) == "topk: k = 7 is out of range for dim 1 of size 5 (valid range [0, 5])");
  CHECK(message_of([&] { tg::topk(x, -1); }) == "topk: k = -1 is out of range for dim -1 of size 5 (valid range [0, 5])");
  CHECK(message_of([] { tg::topk(tg::scalar_tensor<float>(1), 2); }) ==
        "topk: k = 2 is out of range for dim -1 of size 1 (valid range [0, 1])");
  CHECK_THROWS_AS(tg::max(x, 2), tg::IndexError);
  CHECK(message_of([&] { tg::max(x, 2); }) == "max: dim 2 is out of range for a tensor with 2 dimensions (valid range [-2, 1])");
  CHECK(message_of([&] { tg::min(x, -3); }) == "min: dim -3 is out of range for a tensor with 2 dimensions (valid range [-2, 1])");
  CHECK(message_of([&] { tg::topk(x, 1, 2); }) == "topk: dim 2 is out of range for a tensor with 2 dimensions (valid range [-2, 1])");
  CHECK(message_of([&] { tg::sort(x, 5); }) == "sort: dim 5 is out of range for a tensor with 2 dimensions (valid range [-2, 1])");
  CHECK(message_of([&] { tg::argsort(x, -4); }) == "argsort: dim -4 is out of range for a tensor with 2 dimensions (valid range [-2, 1])");
  CHECK(message_of([&] { tg::cumsum(x, 2); }) == "cumsum: dim 2 is out of range for a tensor with 2 dimensions (valid range [-2, 1])");
  CHECK(message_of([] { tg::cumsum(tg::scalar_tensor<float>(1), 1); }) ==
        "cumsum: dim 1 is out of range for a tensor with 0 dimensions (valid range [-1, 0])");
  CHECK_THROWS_AS(tg::max(tg::zeros<float>({2, 0}), 1), tg::ValueError);
  CHECK(message_of([] { tg::max(tg::zeros<float>({2, 0}), 1); }) == "max: cannot reduce over dim 1 of size 0 (shape [2, 0])");
  CHECK(message_of([] { tg::min(tg::zeros<std::int64_t>({0, 3}), -2, true); }) ==
        "min: cannot reduce over dim -2 of size 0 (shape [0, 3])");
  CHECK_THROWS_AS(tg::max(tg::zeros<float>({0})), tg::ValueError);
  CHECK(message_of([] { tg::max(tg::zeros<float>({2, 0})); }) ==
        "max: cannot reduce an empty tensor (shape [2, 0]) over all elements; give a dim");
  CHECK(message_of([] { tg::min(tg::zeros<double>({0})); }) ==
        "min: cannot reduce an empty tensor (shape [0]) over all elements; give a dim");
  CHECK_THROWS_AS(tg::maximum(x, tg::zeros<float>({3})), tg::ShapeError);
  CHECK_THAT(message_of([&] { tg::minimum(x, tg::zeros<float>({3})); }), tg_test::Contains("minimum: shapes [2, 5] and [3]"));
  const tg::Tensor<float> undefined;
  CHECK_THROWS_AS(tg::max(undefined, 0), tg::ValueError);
  CHECK(message_of([&] { tg::max(undefined); }) == "max: the input tensor is undefined (default-constructed)");
  CHECK(message_of([&] { tg::topk(undefined, 1); }) == "topk: the input tensor is undefined (default-constructed)");
  CHECK(message_of([&] { tg::sort(undefined); }) == "sort: the input tensor is undefined (default-constructed)");
  CHECK(message_of([&] { tg::argsort(undefined); }) == "argsort: the input tensor is undefined (default-constructed)");
  CHECK(message_of([&] { tg::cumsum(undefined, 0); }) == "cumsum: the input tensor is undefined (default-constructed)");
  CHECK(message_of([&] { tg::maximum(x, undefined); }) == "maximum: the input tensor is undefined (default-constructed)");
  CHECK(x.to_vector() == before);
  CHECK(x.grad_fn_name().empty());
}

}  // namespace sort_test
