// SPDX-License-Identifier: MIT
// Ways to make a tensor: from values, filled, ranges, identity, and random (PyTorch's generator).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapegrad/random.hpp"
#include "tapegrad/tensor.hpp"

namespace tapegrad {

/// A tensor holding `values` in row-major order. Example: `tensor<float>({1, 2, 3, 4}, {2, 2})`.
template <class T = float>
Tensor<T> tensor(const std::vector<T>& values, Shape shape, bool requires_grad = false) {
  const std::int64_t n = detail::checked_numel("tensor", shape);
  if (static_cast<std::int64_t>(values.size()) != n)
    throw ShapeError(detail::cat("tensor: ", values.size(), " values do not fill shape ", detail::shape_str(shape), " (",
                                 n, " elements)"));
  Tensor<T> out = detail::make_tensor<T>(std::move(shape), "tensor");
  std::copy(values.begin(), values.end(), out.data());
  if (requires_grad) out.requires_grad_();
  return out;
}

/// A 1-d tensor holding `values`.
template <class T = float>
Tensor<T> tensor(const std::vector<T>& values) {
  return tensor<T>(values, {static_cast<std::int64_t>(values.size())});
}

namespace detail {

/// One entry of nested braces: a value, or a braced list of entries. A single recursive type (as
/// libtorch's) lets `{{1}, {2}}` mean a [2, 1] tensor: a braced `{1}` prefers the list constructor.
template <class T>
class NestedValues {
 public:
  NestedValues(T value) : value_(value), is_value_(true) {}  // implicit: the values inside the braces
  NestedValues(std::initializer_list<NestedValues> items) : items_(items) {}

  /// Appends the sizes met going down through first elements: the shape, if the lists are rectangular.
  void append_first_path_sizes(Shape& shape) const {
    for (const NestedValues* e = this; !e->is_value_ && e->items_.size() > 0; e = e->items_.begin())
      shape.push_back(static_cast<std::int64_t>(e->items_.size()));
  }

  /// Checks that this entry has the sizes shape[depth:] and appends its values in row-major order.
  void flatten_into(const Shape& shape, std::size_t depth, std::vector<T>& out,
                    std::vector<std::int64_t>& position) const {
    if (depth == shape.size()) {
      if (!is_value_) throw_ragged("the entry at", position, "is a list where a value was expected");
      out.push_back(value_);
      return;
    }
    if (is_value_) throw_ragged("the entry at", position, "is a value where a list was expected");
    const auto length = static_cast<std::int64_t>(items_.size());
    if (length != shape[depth])
      throw_ragged("the list at", position,
                   cat("has ", length, " elements, but the first list at that depth has ", shape[depth]));
    position.push_back(0);
    for (const NestedValues& item : items_) {
      item.flatten_into(shape, depth + 1, out, position);
      ++position.back();
    }
    position.pop_back();
  }

 private:
  [[noreturn]] static void throw_ragged(const char* subject, const std::vector<std::int64_t>& position,
                                        const std::string& what) {
    std::string where;
    for (std::int64_t i : position) where += cat("[", i, "]");
    throw ShapeError(cat("tensor: nested lists must be rectangular: ", subject, " ", where, " ", what));
  }

  std::initializer_list<NestedValues> items_;
  T value_{};
  bool is_value_ = false;
};

}  // namespace detail

/// A tensor of 2 or more dims from nested braces, as `torch::tensor({{1, 2}, {3, 4}})`:
/// `tensor<float>({{1, 2}, {3, 4}})` is [2, 2] and `tensor<float>({{{1}, {2}}})` is [1, 2, 1].
template <class T = float>
Tensor<T> tensor(std::initializer_list<std::initializer_list<detail::NestedValues<T>>> rows,
                 bool requires_grad = false) {
  Shape shape{static_cast<std::int64_t>(rows.size())};
  if (rows.size() > 0) detail::NestedValues<T>(*rows.begin()).append_first_path_sizes(shape);
  if (shape.size() == 1) shape.push_back(0);  // {{}, {}}: rows of nothing
  std::vector<T> values;
  std::vector<std::int64_t> position{0};
  for (const auto& row : rows) {
    detail::NestedValues<T>(row).flatten_into(shape, 1, values, position);
    ++position[0];
  }
  return tensor<T>(values, shape, requires_grad);
}

/// A 0-d tensor (a scalar), like torch.scalar_tensor.
template <class T = float>
Tensor<T> scalar_tensor(T value, bool requires_grad = false) {
  return tensor<T>({value}, {}, requires_grad);
}

/// Uninitialised elements.
template <class T = float>
Tensor<T> empty(Shape shape, bool requires_grad = false) {
  Tensor<T> out = detail::make_tensor<T>(std::move(shape), "empty");
  if (requires_grad) out.requires_grad_();
  return out;
}

template <class T = float>
Tensor<T> full(Shape shape, T value, bool requires_grad = false) {
  Tensor<T> out = detail::make_tensor<T>(std::move(shape), "full");
  std::fill_n(out.data(), out.numel(), value);
  if (requires_grad) out.requires_grad_();
  return out;
}

template <class T = float>
Tensor<T> zeros(Shape shape, bool requires_grad = false) {
  Tensor<T> out = detail::zeros_of<T>(shape, "zeros");
  if (requires_grad) out.requires_grad_();
  return out;
}

template <class T = float>
Tensor<T> ones(Shape shape, bool requires_grad = false) {
  return full<T>(std::move(shape), T(1), requires_grad);
}

template <class T>
Tensor<T> empty_like(const Tensor<T>& t) {
  return empty<T>(t.shape());
}

template <class T>
Tensor<T> zeros_like(const Tensor<T>& t) {
  return zeros<T>(t.shape());
}

template <class T>
Tensor<T> ones_like(const Tensor<T>& t) {
  return ones<T>(t.shape());
}

namespace detail {

/// `value` as an element of T, or ValueError naming `op` and `what` when it is not finite or T cannot
/// hold it. Integer types truncate toward zero first, as torch's Scalar::to does.
template <class T>
T checked_element(const char* op, const char* what, double value) {
  if (!std::isfinite(value)) throw ValueError(cat(op, ": ", what, " must be finite, got ", value));
  if constexpr (std::is_integral_v<T>) {
    const double whole = std::trunc(value);
    // -min is 2^63 (2^31) exactly as a double, where max would round up past the range.
    if (!(whole >= static_cast<double>(std::numeric_limits<T>::min()) &&
          whole < -static_cast<double>(std::numeric_limits<T>::min())))
      throw ValueError(cat(op, ": ", what, " = ", value, " does not fit the element type, whose values are in [",
                           std::numeric_limits<T>::min(), ", ", std::numeric_limits<T>::max(), "]"));
    return static_cast<T>(whole);
  } else {
    if (std::abs(value) > static_cast<double>(std::numeric_limits<T>::max()))
      throw ValueError(cat(op, ": ", what, " = ", value, " is out of range for the element type (largest magnitude ",
                           std::numeric_limits<T>::max(), ")"));
    return static_cast<T>(value);
  }
}

/// Fills out[0, n) in the order and with the arithmetic of PyTorch 1.13's vectorised range kernels
/// (arange, linspace) on an AVX2 CPU, so the last bits agree: all but the last n % (2 * lanes)
/// elements come in vectors of `lanes`, whose first element is `at(i)` and the others
/// `lane(first, k)`; the rest come one by one from `at(i)`.
template <class T, class At, class Lane>
void fill_like_avx2_range(T* out, std::int64_t n, At at, Lane lane) {
  constexpr std::int64_t lanes = 32 / static_cast<std::int64_t>(sizeof(T));  // one 256-bit register
  const std::int64_t vectorised = n - n % (2 * lanes);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t k = i % lanes;
    out[i] = i < vectorised && k != 0 ? lane(out[i - k], k) : at(i);
  }
}

/// Length of torch.arange for an integer type: torch truncates the bounds and step first (so
/// arange(0, 2.5, 0.5) has step 0) and, for int64 only, counts with integer arithmetic.
template <class T>
std::int64_t integer_arange_count(double start, double end, double step, std::int64_t first, std::int64_t last,
                                  std::int64_t stride) {
  if (stride == 0) throw ValueError(cat("arange: step must be nonzero (the integer step is ", step, " truncated)"));
  if ((stride > 0 && last < first) || (stride < 0 && last > first))
    throw ValueError(cat("arange: upper bound and step have inconsistent signs (start ", start, ", end ", end,
                         ", step ", step, ")"));
  if constexpr (!std::is_same_v<T, std::int64_t>) {
    const double count = std::ceil((end - start) / step);  // torch counts other integer types in double
    if (!(count < 9223372036854775808.0))
      throw ValueError(cat("arange: [", start, ", ", end, ") with step ", step, " has ", count,
                           " elements, more than fit in int64"));
    return count > 0 ? static_cast<std::int64_t>(count) : 0;
  }
  // Unsigned differences cannot overflow: the span of two int64 values fits in uint64.
  const std::uint64_t span = stride > 0 ? static_cast<std::uint64_t>(last) - static_cast<std::uint64_t>(first)
                                        : static_cast<std::uint64_t>(first) - static_cast<std::uint64_t>(last);
  const std::uint64_t magnitude =
      stride > 0 ? static_cast<std::uint64_t>(stride) : std::uint64_t(0) - static_cast<std::uint64_t>(stride);
  const std::uint64_t count = span / magnitude + (span % magnitude != 0 ? 1 : 0);
  if (count > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    throw ValueError(cat("arange: [", start, ", ", end, ") with step ", step, " has ", count,
                         " elements, more than fit in int64"));
  return static_cast<std::int64_t>(count);
}

}  // namespace detail

/// start, start + step, ... up to (not including) end, like torch.arange. Integer type by default.
/// Float and double values are PyTorch 1.13's bit for bit (its AVX2 kernel fills vectors of 8 floats
/// or 4 doubles from a rounded first element). Integer types truncate start, end and step toward
/// zero first, as torch does for an integer dtype (so step 0.5 is an error there). Past 32768
/// elements these are single-threaded torch's values (its threads may split the vectors elsewhere).
template <class T = std::int64_t>
Tensor<T> arange(double start, double end, double step = 1) {
  static_assert(!std::is_same_v<T, bool>, "arange: not implemented for bool (as in PyTorch)");
  if (step == 0) throw ValueError("arange: step must be nonzero");
  if (!std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step))
    throw ValueError(detail::cat("arange: start, end and step must be finite, got ", start, ", ", end, " and ", step));
  if constexpr (std::is_integral_v<T>) {
    const auto first = detail::checked_element<std::int64_t>("arange", "start", start);
    const auto last = detail::checked_element<std::int64_t>("arange", "end", end);
    const auto stride = detail::checked_element<std::int64_t>("arange", "step", step);
    const std::int64_t n = detail::integer_arange_count<T>(start, end, step, first, last, stride);
    if (!std::is_same_v<T, std::int64_t> && n > 0) {  // int64 values lie between first and last
      const double final_value = static_cast<double>(first) + static_cast<double>(n - 1) * static_cast<double>(stride);
      if (!(final_value >= static_cast<double>(std::numeric_limits<T>::min()) &&
            final_value <= static_cast<double>(std::numeric_limits<T>::max())))
        throw ValueError(detail::cat("arange: values from ", first, " to ", final_value,
                                     " do not fit the element type, whose values are in [",
                                     std::numeric_limits<T>::min(), ", ", std::numeric_limits<T>::max(), "]"));
    }
    Tensor<T> out = detail::make_tensor<T>({n}, "arange");
    for (std::int64_t i = 0; i < n; ++i) out.data()[i] = static_cast<T>(first + i * stride);
    return out;
  } else {
    if ((end - start) / step < 0)
      throw ValueError(detail::cat("arange: upper bound and step have inconsistent signs (start ", start, ", end ",
                                   end, ", step ", step, ")"));
    const double count = std::ceil((end - start) / step);  // in double, as torch sizes every float range
    if (!(count < 9223372036854775808.0))  // 2^63: past it the conversion to int64 is undefined
      throw ValueError(detail::cat("arange: [", start, ", ", end, ") with step ", step, " has ", count,
                                   " elements, more than fit in int64"));
    const auto n = static_cast<std::int64_t>(count);
    Tensor<T> out = detail::make_tensor<T>({n}, "arange");
    // torch computes in double: the vector's first value fused, rounded to T, then first + k * step fused.
    detail::fill_like_avx2_range(
        out.data(), n, [&](std::int64_t i) { return static_cast<T>(std::fma(step, static_cast<double>(i), start)); },
        [&](T first, std::int64_t k) {
          return static_cast<T>(std::fma(static_cast<double>(k), step, static_cast<double>(first)));
        });
    return out;
  }
}

template <class T = std::int64_t>
Tensor<T> arange(double end) {
  return arange<T>(0, end, 1);
}

/// `steps` evenly spaced values from start to end inclusive, like torch.linspace: the first half
/// counted up from start, the second half down from end, with PyTorch 1.13's exact values (its AVX2
/// kernel: vectors of 8 floats, 4 doubles or int64s, 8 int32s, each lane `first + k * step`; integer
/// types round start and end toward zero and step in double). steps = 1 gives [start].
/// Throws ValueError for steps < 0 or a start or end that is not finite or does not fit T.
/// (torch gives NaNs for an infinite end; the values past 32768 steps also depend on its thread count,
/// these are its single-thread ones.)
template <class T = float>
Tensor<T> linspace(double start, double end, std::int64_t steps) {
  static_assert(!std::is_same_v<T, bool>, "linspace: not implemented for bool");
  if (steps < 0) throw ValueError(detail::cat("linspace: steps = ", steps, " must be non-negative"));
  const T first = detail::checked_element<T>("linspace", "start", start);
  const T last = detail::checked_element<T>("linspace", "end", end);
  Tensor<T> out = detail::make_tensor<T>({steps}, "linspace");
  if (steps == 1) out.data()[0] = first;
  if (steps < 2) return out;
  using Step = std::conditional_t<std::is_integral_v<T>, double, T>;  // torch's step_t
  const Step from = static_cast<Step>(first), to = static_cast<Step>(last);
  const Step step = (to - from) / static_cast<Step>(steps - 1);
  const std::int64_t half = steps / 2;
  // torch's compiler fuses the multiply-add of each vector's first value (and of the scalar tail),
  // not that of the other lanes (exact unless this file is built with FMA contraction, e.g. -mfma).
  detail::fill_like_avx2_range(
      out.data(), steps,
      [&](std::int64_t i) {
        return static_cast<T>(i < half ? std::fma(step, static_cast<Step>(i), from)
                                       : std::fma(-step, static_cast<Step>(steps - 1 - i), to));
      },
      [&](T lane0, std::int64_t k) { return static_cast<T>(static_cast<Step>(lane0) + static_cast<Step>(k) * step); });
  return out;
}

/// An n x m matrix with ones on the diagonal (m defaults to n).
template <class T = float>
Tensor<T> eye(std::int64_t n, std::int64_t m = -1) {
  if (m < 0) m = n;
  Tensor<T> out = zeros<T>({n, m});
  for (std::int64_t i = 0; i < std::min(n, m); ++i) out.data()[i * m + i] = T(1);
  return out;
}

/// Uniform in [0, 1), drawn exactly as torch.rand draws after the same manual_seed.
template <class T = float>
Tensor<T> rand(Shape shape, Generator& gen, bool requires_grad = false) {
  static_assert(std::is_floating_point_v<T>, "rand: T must be float or double");
  Tensor<T> out = detail::make_tensor<T>(std::move(shape), "rand");
  detail::fill_uniform(out.data(), out.numel(), 0.0, 1.0, gen);
  if (requires_grad) out.requires_grad_();
  return out;
}

template <class T = float>
Tensor<T> rand(Shape shape, bool requires_grad = false) {
  return rand<T>(std::move(shape), default_generator(), requires_grad);
}

/// Standard normal, drawn as torch.randn draws after the same manual_seed (see random.hpp on precision).
template <class T = float>
Tensor<T> randn(Shape shape, Generator& gen, bool requires_grad = false) {
  static_assert(std::is_floating_point_v<T>, "randn: T must be float or double");
  Tensor<T> out = detail::make_tensor<T>(std::move(shape), "randn");
  detail::fill_normal(out.data(), out.numel(), 0.0, 1.0, gen);
  if (requires_grad) out.requires_grad_();
  return out;
}

template <class T = float>
Tensor<T> randn(Shape shape, bool requires_grad = false) {
  return randn<T>(std::move(shape), default_generator(), requires_grad);
}

/// Integers uniform in [low, high), as torch.randint.
template <class T = std::int64_t>
Tensor<T> randint(std::int64_t low, std::int64_t high, Shape shape, Generator& gen) {
  if (low >= high) throw ValueError(detail::cat("randint: low (", low, ") must be less than high (", high, ")"));
  if constexpr (std::is_integral_v<T>) {
    if (low < std::numeric_limits<T>::min() || high - 1 > std::numeric_limits<T>::max())
      throw ValueError(detail::cat("randint: the range [", low, ", ", high, ") does not fit the element type, whose values are in [",
                                   std::numeric_limits<T>::min(), ", ", std::numeric_limits<T>::max(), "]"));
  }
  Tensor<T> out = detail::make_tensor<T>(std::move(shape), "randint");
  detail::fill_randint(out.data(), out.numel(), low, high, gen);
  return out;
}

template <class T = std::int64_t>
Tensor<T> randint(std::int64_t low, std::int64_t high, Shape shape) {
  return randint<T>(low, high, std::move(shape), default_generator());
}

// ---- like another tensor -----------------------------------------------------------------------

/// A tensor of t's shape and type filled with `value`, like torch.full_like.
/// (`value` does not take part in deducing T, so full_like(float_tensor, 2.5) works.)
template <class T>
Tensor<T> full_like(const Tensor<T>& t, typename std::common_type<T>::type value) {
  return full<T>(t.shape(), value);
}

/// rand with t's shape and type, like torch.rand_like: the same numbers as torch after manual_seed.
template <class T>
Tensor<T> rand_like(const Tensor<T>& t, Generator& gen) {
  return rand<T>(t.shape(), gen);
}

template <class T>
Tensor<T> rand_like(const Tensor<T>& t) {
  return rand<T>(t.shape());
}

/// randn with t's shape and type, like torch.randn_like: the same numbers as torch.randn after
/// manual_seed (float with 16+ elements: within a few ulp, see randn).
template <class T>
Tensor<T> randn_like(const Tensor<T>& t, Generator& gen) {
  return randn<T>(t.shape(), gen);
}

template <class T>
Tensor<T> randn_like(const Tensor<T>& t) {
  return randn<T>(t.shape());
}

/// Integers in [low, high) with t's shape and type, like torch.randint_like: the same numbers as
/// torch after manual_seed.
template <class T>
Tensor<T> randint_like(const Tensor<T>& t, std::int64_t low, std::int64_t high, Generator& gen) {
  return randint<T>(low, high, t.shape(), gen);
}

template <class T>
Tensor<T> randint_like(const Tensor<T>& t, std::int64_t low, std::int64_t high) {
  return randint<T>(low, high, t.shape());
}

/// randint_like(t, 0, high), like torch.randint_like(t, high).
template <class T>
Tensor<T> randint_like(const Tensor<T>& t, std::int64_t high, Generator& gen) {
  return randint<T>(0, high, t.shape(), gen);
}

template <class T>
Tensor<T> randint_like(const Tensor<T>& t, std::int64_t high) {
  return randint<T>(0, high, t.shape());
}

// ---- randperm -----------------------------------------------------------------------------------

/// A random permutation of 0..n-1, like torch.randperm: the same numbers as torch.randperm after
/// torch.manual_seed for every n (its CPU Fisher-Yates with 32-bit draws; checked up to n = 10^5 in
/// full and n = 214748365 in its first elements). Throws ValueError for n < 0 or an n whose values
/// T cannot hold exactly (floats: n <= 2^24 + 1, doubles: n <= 2^53 + 1, as torch).
template <class T = std::int64_t>
Tensor<T> randperm(std::int64_t n, Generator& gen) {
  static_assert(!std::is_same_v<T, bool>, "randperm: not implemented for bool");
  if (n < 0) throw ValueError(detail::cat("randperm: n = ", n, " must be non-negative"));
  if constexpr (std::is_floating_point_v<T>) {
    constexpr std::int64_t limit = (std::int64_t(1) << std::numeric_limits<T>::digits) + 1;
    if (n > limit)
      throw ValueError(detail::cat("randperm: n = ", n, " is too large for ", sizeof(T) == 4 ? "float" : "double",
                                   ", which holds consecutive integers only up to n = ", limit));
  } else if (n - 1 > static_cast<std::int64_t>(std::numeric_limits<T>::max())) {
    throw ValueError(detail::cat("randperm: n = ", n, " is too large for the element type, whose largest value is ",
                                 std::numeric_limits<T>::max()));
  }
  Tensor<T> out = detail::make_tensor<T>({n}, "randperm");
  detail::fill_randperm(out.data(), n, gen);
  return out;
}

template <class T = std::int64_t>
Tensor<T> randperm(std::int64_t n) {
  return randperm<T>(n, default_generator());
}

// ---- bernoulli ----------------------------------------------------------------------------------

/// 1 with probability p[i], else 0, in p's shape and type, like torch.bernoulli(p): the same numbers
/// as torch after manual_seed (a 24-bit uniform per float element, 53-bit per double, below p[i]).
/// Throws ValueError naming the first p[i] outside [0, 1] (or NaN); the generator is then unchanged.
template <class T>
Tensor<T> bernoulli(const Tensor<T>& p, Generator& gen) {
  static_assert(std::is_floating_point_v<T>, "bernoulli: p must be float or double (as in PyTorch)");
  const T* probs = p.data();
  for (std::int64_t i = 0; i < p.numel(); ++i)
    if (!(probs[i] >= 0 && probs[i] <= 1))
      throw ValueError(detail::cat("bernoulli: p = ", probs[i], " at flat index ", i,
                                   " is not a probability (valid range [0, 1])"));
  Tensor<T> out = detail::make_tensor<T>(p.shape(), "bernoulli");
  detail::fill_bernoulli(out.data(), probs, p.numel(), gen);
  return out;
}

template <class T>
Tensor<T> bernoulli(const Tensor<T>& p) {
  return bernoulli(p, default_generator());
}

/// 1 with probability p, else 0, in the shape and type of `like` (its values are not used), like
/// torch.bernoulli(like, p): the same numbers as torch after manual_seed (a 53-bit uniform per
/// element, below p, for every element type). Throws ValueError unless 0 <= p <= 1.
template <class T>
Tensor<T> bernoulli(const Tensor<T>& like, double p, Generator& gen) {
  if (!(p >= 0 && p <= 1)) throw ValueError(detail::cat("bernoulli: p = ", p, " is not a probability (valid range [0, 1])"));
  Tensor<T> out = detail::make_tensor<T>(like.shape(), "bernoulli");
  detail::fill_bernoulli(out.data(), p, out.numel(), gen);
  return out;
}

template <class T>
Tensor<T> bernoulli(const Tensor<T>& like, double p) {
  return bernoulli(like, p, default_generator());
}

// ---- multinomial --------------------------------------------------------------------------------

namespace detail {

// topk's order (ops/sort.hpp, which this header cannot include): NaN first, then larger values.
template <class T>
bool ranks_before(const std::pair<T, std::int64_t>& a, const std::pair<T, std::int64_t>& b) {
  return (std::isnan(a.first) && !std::isnan(b.first)) || a.first > b.first;
}

/// torch's CPU multinomial without replacement: the exponential race, one Exp(1)
/// draw per element in row-major order, then per row the indices of the `k` largest p / q, as
/// argmax (k = 1) or topk picks them, so ties fall as in torch.
template <class T>
void multinomial_race(const T* probs, std::int64_t rows, std::int64_t len, std::int64_t k, std::int64_t* out,
                      Generator& gen) {
  std::vector<std::pair<T, std::int64_t>> ratio(static_cast<std::size_t>(rows * len));
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    for (std::size_t i = 0; i < ratio.size(); ++i) ratio[i].first = static_cast<T>(gen.exponential(1.0));
  }
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto row = ratio.begin() + r * len;
    for (std::int64_t j = 0; j < len; ++j) row[j] = {probs[r * len + j] / row[j].first, j};
    if (k == 1) {  // torch's argmax: the first largest
      out[r] = std::min_element(row, row + len, ranks_before<T>)->second;
      continue;
    }
    // torch's topk: a partial sort when k is small against the row, else nth_element and a sort.
    if (k * 64 <= len) {
      std::partial_sort(row, row + k, row + len, ranks_before<T>);
    } else {
      std::nth_element(row, row + (k - 1), row + len, ranks_before<T>);
      std::sort(row, row + (k - 1), ranks_before<T>);
    }
    for (std::int64_t s = 0; s < k; ++s) out[r * k + s] = row[s].second;
  }
}

/// torch's CPU multinomial with replacement: per row the running sum of p in T, divided by the total,
/// the last entry set to 1; each sample is the first entry not below a 53-bit uniform (binary search).
template <class T>
void multinomial_inverse_cdf(const T* probs, std::int64_t rows, std::int64_t len, std::int64_t k, std::int64_t* out,
                             Generator& gen) {
  std::vector<T> cumulative(static_cast<std::size_t>(len));
  std::lock_guard<std::mutex> lock(gen.mutex());
  for (std::int64_t r = 0; r < rows; ++r) {
    T sum = 0;
    for (std::int64_t j = 0; j < len; ++j) cumulative[static_cast<std::size_t>(j)] = sum += probs[r * len + j];
    for (T& c : cumulative) c /= sum;
    cumulative.back() = 1;
    for (std::int64_t s = 0; s < k; ++s) {
      const double u = gen.unit<double>();
      const auto slot = std::lower_bound(cumulative.begin(), cumulative.end(), u,
                                         [](T c, double x) { return static_cast<double>(c) < x; });
      out[r * k + s] = slot - cumulative.begin();
    }
  }
}

}  // namespace detail

/// `num_samples` category indices per row of `probs` (1-d: one distribution, 2-d: one per row),
/// drawn with probabilities proportional to the entries, like torch.multinomial. Without replacement
/// every index appears at most once per row. The same numbers as torch.multinomial after
/// torch.manual_seed (both paths of its CPU kernel; with k > 1 draws without replacement from a row
/// with fewer than k non-zero entries, the zero ones follow in topk's tie order, as in torch).
/// Throws ShapeError unless probs is 1-d or 2-d, ValueError for num_samples <= 0, num_samples more
/// than the categories without replacement, more than 2^24 categories, a negative, infinite or NaN
/// entry (named with its position) or a row summing to 0; the generator is then unchanged.
template <class T>
Tensor<std::int64_t> multinomial(const Tensor<T>& probs, std::int64_t num_samples, bool replacement, Generator& gen) {
  static_assert(std::is_floating_point_v<T>, "multinomial: probs must be float or double (as in PyTorch)");
  if (probs.dim() != 1 && probs.dim() != 2)
    throw ShapeError(detail::cat("multinomial: probs must be 1-d or 2-d, got shape ", detail::shape_str(probs.shape())));
  const std::int64_t len = probs.shape().back();
  const std::int64_t rows = probs.dim() == 2 ? probs.shape()[0] : 1;
  if (num_samples <= 0)
    throw ValueError(detail::cat("multinomial: num_samples = ", num_samples, " must be positive"));
  if (!replacement && num_samples > len)
    throw ValueError(detail::cat("multinomial: cannot draw num_samples = ", num_samples, " without replacement from ",
                                 len, " categories (valid range [1, ", len, "])"));
  if (len > (std::int64_t(1) << 24))
    throw ValueError(detail::cat("multinomial: ", len, " categories, more than the 2^24 = 16777216 torch allows"));
  Tensor<std::int64_t> out = detail::make_tensor<std::int64_t>(
      probs.dim() == 2 ? Shape{rows, num_samples} : Shape{num_samples}, "multinomial");
  if (out.numel() == 0) return out;
  const T* p = probs.data();
  for (std::int64_t r = 0; r < rows; ++r) {
    bool positive = false;
    for (std::int64_t j = 0; j < len; ++j) {
      const T v = p[r * len + j];
      if (!(v >= 0 && std::isfinite(v)))
        throw ValueError(detail::cat("multinomial: probability ", v, " at ",
                                     probs.dim() == 2 ? detail::cat("[", r, ", ", j, "]") : detail::cat("[", j, "]"),
                                     " is not a finite number >= 0"));
      positive |= v > 0;
    }
    if (!positive)
      throw ValueError(detail::cat("multinomial: the probabilities", probs.dim() == 2 ? detail::cat(" of row ", r) : "",
                                   " sum to 0 (a distribution needs a positive sum)"));
  }
  if (!replacement)  // torch 1.13 uses the cumulative sum for every draw with replacement, even one
    detail::multinomial_race(p, rows, len, num_samples, out.data(), gen);
  else
    detail::multinomial_inverse_cdf(p, rows, len, num_samples, out.data(), gen);
  return out;
}

template <class T>
Tensor<std::int64_t> multinomial(const Tensor<T>& probs, std::int64_t num_samples, bool replacement = false) {
  return multinomial(probs, num_samples, replacement, default_generator());
}

}  // namespace tapegrad
