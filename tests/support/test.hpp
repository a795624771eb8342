// SPDX-License-Identifier: MIT
// The one place tests include Catch2 from (v2 on Debian 12, v3 elsewhere), plus comparison helpers.
#pragma once

#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
namespace tg_test {
using Catch::Approx;
inline auto Contains(const std::string& s) { return Catch::Matchers::ContainsSubstring(s); }
}  // namespace tg_test
#else
#include <catch2/catch.hpp>
namespace tg_test {
using Catch::Detail::Approx;
inline auto Contains(const std::string& s) { return Catch::Matchers::Contains(s); }
}  // namespace tg_test
#endif

#include <cmath>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <tapegrad/tapegrad.hpp>

namespace tg_test {

/// Outcome of a comparison; Catch prints `why` when a CHECK on it fails.
struct Comparison {
  bool ok = true;
  std::string why;
  explicit operator bool() const { return ok; }
  friend std::ostream& operator<<(std::ostream& os, const Comparison& c) { return os << (c.ok ? "close" : c.why); }
};

/// |actual - expected| <= atol + rtol * |expected| for every element, and equal shapes.
template <class T>
Comparison close(const tapegrad::Tensor<T>& actual, const std::vector<double>& expected,
                 const tapegrad::Shape& shape, double rtol = 1e-6, double atol = 1e-7) {
  if (actual.shape() != shape)
    return {false, "shape " + tapegrad::detail::shape_str(actual.shape()) + " != expected " + tapegrad::detail::shape_str(shape)};
  if (static_cast<std::size_t>(actual.numel()) != expected.size())
    return {false, "expected " + std::to_string(expected.size()) + " values for shape " + tapegrad::detail::shape_str(shape)};
  const tapegrad::Tensor<T> dense = actual.to_dense();
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const double a = static_cast<double>(dense.data()[i]), e = expected[i];
    if (a == e || (std::isnan(a) && std::isnan(e))) continue;  // exact, equal infinities, or both NaN
    if (!(std::abs(a - e) <= atol + rtol * std::abs(e))) {
      std::ostringstream os;
      os.precision(10);
      os << "element " << i << ": got " << a << ", expected " << e << " (rtol " << rtol << ", atol " << atol << ")";
      return {false, os.str()};
    }
  }
  return {};
}

/// A braced shape, close(t, values, {3}): without this overload `{3}` would silently become rtol = 3
/// (an initializer_list parameter wins over a double for a braced argument).
template <class T>
Comparison close(const tapegrad::Tensor<T>& actual, const std::vector<double>& expected,
                 std::initializer_list<std::int64_t> shape, double rtol = 1e-6, double atol = 1e-7) {
  return close(actual, expected, tapegrad::Shape(shape), rtol, atol);
}

template <class T>
Comparison close(const tapegrad::Tensor<T>& actual, const std::vector<double>& expected, double rtol = 1e-6,
                 double atol = 1e-7) {
  return close(actual, expected, actual.defined() ? actual.shape() : tapegrad::Shape{}, rtol, atol);
}

template <class T, class U>
Comparison close(const tapegrad::Tensor<T>& actual, const tapegrad::Tensor<U>& expected, double rtol = 1e-6,
                 double atol = 1e-7) {
  const tapegrad::Tensor<U> dense = expected.to_dense();
  std::vector<double> values(dense.data(), dense.data() + dense.numel());
  return close(actual, values, expected.shape(), rtol, atol);
}

/// The message of the exception `f` throws (empty if it throws none).
template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace tg_test
