// SPDX-License-Identifier: MIT
// Random numbers that follow PyTorch's CPU generator, so seeded programs can match PyTorch's values.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <locale>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#include "tapegrad/error.hpp"

namespace tapegrad {

namespace detail {
inline constexpr double kPi = 3.14159265358979323846;
}

/// PyTorch's CPU generator: MT19937 seeded with the low 32 bits of the seed, plus the second
/// Box–Muller sample it caches. Same seed, same draws, same values as torch (see docs/design.md).
class Generator {
 public:
  static constexpr std::uint64_t kDefaultSeed = 67280421310721ULL;  // torch's default seed

  explicit Generator(std::uint64_t seed = kDefaultSeed) { manual_seed(seed); }
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  void manual_seed(std::uint64_t seed) {
    seed_ = seed;
    engine_.seed(static_cast<std::uint32_t>(seed));
    cached_normal_.reset();
  }
  std::uint64_t initial_seed() const noexcept { return seed_; }

  std::uint32_t random() { return static_cast<std::uint32_t>(engine_()); }
  std::uint64_t random64() {
    const std::uint64_t high = random();
    const std::uint64_t low = random();
    return (high << 32) | low;
  }

  /// One uniform draw in [from, to): 24 random bits for float, 53 for double, as torch's uniform_.
  template <class T>
  T uniform(T from, T to) {
    static_assert(std::is_floating_point_v<T>, "uniform: T must be float or double");
    return std::fma(unit<T>(), to - from, from);  // torch's AVX2 build fuses this multiply-add
  }

  /// One normal draw by torch's scalar path: Box–Muller in double, the sine half cached for the next call.
  double normal(double mean, double stddev) {
    double z;
    if (cached_normal_) {
      z = *cached_normal_;
      cached_normal_.reset();
    } else {
      const double u1 = unit<double>();
      const double u2 = unit<double>();
      const double r = std::sqrt(-2.0 * std::log(1.0 - u2));
      const double theta = 2.0 * detail::kPi * u1;
      cached_normal_ = r * std::sin(theta);
      z = r * std::cos(theta);
    }
    return std::fma(z, stddev, mean);
  }

  /// One exponential draw by torch's CPU exponential_: -log(1 - u) / lambda, u a 53-bit uniform.
  double exponential(double lambda) { return -1.0 / lambda * std::log(1.0 - unit<double>()); }

  /// The whole state as text (seed, the MT19937 state, the cached normal draw), for checkpoints:
  /// set_state(get_state()) continues the same stream of numbers exactly. Like torch.get_rng_state().
  std::string get_state() const {
    std::ostringstream os;
    os.imbue(std::locale::classic());
    os << "mt19937 " << seed_ << ' ' << engine_ << ' ';
    if (cached_normal_) {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%a", *cached_normal_);  // hexadecimal: exact
      os << buf;
    } else {
      os << "none";
    }
    return os.str();
  }

  /// Restores a state from get_state(); ValueError (and no change) if the text is not one.
  void set_state(const std::string& state) {
    std::istringstream in(state);
    in.imbue(std::locale::classic());
    std::string tag, cached;
    std::uint64_t seed = 0;
    std::mt19937 engine;
    in >> tag >> seed >> engine >> cached;
    char* end = nullptr;
    const double normal = cached == "none" ? 0.0 : std::strtod(cached.c_str(), &end);
    if (tag != "mt19937" || in.fail() || !(in >> std::ws).eof() ||
        (cached != "none" && (cached.empty() || *end != '\0' || !std::isfinite(normal))))
      throw ValueError("Generator::set_state: not a state from Generator::get_state() (it starts with \"" +
                       state.substr(0, 20) + "\")");
    seed_ = seed;
    engine_ = engine;
    if (cached == "none") cached_normal_.reset();
    else cached_normal_ = normal;
  }

  /// Guards the generator when several threads share it (the default generator is shared).
  std::mutex& mutex() noexcept { return mutex_; }

  /// A uniform draw in [0, 1) with the mantissa width of T.
  template <class T>
  T unit() {
    if constexpr (std::is_same_v<T, double>)
      return static_cast<double>(random64() & ((std::uint64_t(1) << 53) - 1)) * 0x1.0p-53;
    else
      return static_cast<float>(random() & ((1u << 24) - 1)) * 0x1.0p-24f;
  }

 private:
  std::mt19937 engine_;
  std::uint64_t seed_ = kDefaultSeed;
  std::optional<double> cached_normal_;
  std::mutex mutex_;
};

/// The process-wide generator behind rand(), randn(), nn::init and module initialisation.
/// Shared by all threads (each fill locks it), as torch's default CPU generator is.
inline Generator& default_generator() {
  static Generator generator;
  return generator;
}

/// Seeds the default generator, like torch.manual_seed.
inline void manual_seed(std::uint64_t seed) {
  std::lock_guard<std::mutex> lock(default_generator().mutex());
  default_generator().manual_seed(seed);
}

namespace detail {

/// torch's uniform_: one draw per element, in order.
template <class T>
void fill_uniform(T* data, std::int64_t n, double from, double to, Generator& gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  const T lo = static_cast<T>(from), hi = static_cast<T>(to);
  for (std::int64_t i = 0; i < n; ++i) data[i] = gen.uniform<T>(lo, hi);
}

// torch's normal_fill_16: Box–Muller on 8 pairs of uniforms already in the buffer.
template <class T>
void box_muller_16(T* d, T mean, T stddev) {
  for (int j = 0; j < 8; ++j) {
    const T u1 = T(1) - d[j];
    const T u2 = d[j + 8];
    const T radius = std::sqrt(T(-2) * std::log(u1));
    const T theta = static_cast<T>(2.0 * kPi) * u2;
    d[j] = std::fma(radius * std::cos(theta), stddev, mean);
    d[j + 8] = std::fma(radius * std::sin(theta), stddev, mean);
  }
}

/// torch's normal_: fewer than 16 elements take the scalar path (exact for float and double);
/// 16 or more take the blocked path (exact for double; float within a few ulp, because torch's
/// AVX2 build uses its own log/sin/cos polynomials there).
template <class T>
void fill_normal(T* data, std::int64_t n, double mean, double stddev, Generator& gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  if (n < 16) {
    for (std::int64_t i = 0; i < n; ++i) data[i] = static_cast<T>(gen.normal(mean, stddev));
    return;
  }
  const T m = static_cast<T>(mean), s = static_cast<T>(stddev);
  for (std::int64_t i = 0; i < n; ++i) data[i] = gen.unit<T>();
  for (std::int64_t i = 0; i + 16 <= n; i += 16) box_muller_16(data + i, m, s);
  if (n % 16 != 0) {  // torch redraws the last 16 and recomputes that overlapping block
    T* tail = data + n - 16;
    for (int j = 0; j < 16; ++j) tail[j] = gen.unit<T>();
    box_muller_16(tail, m, s);
  }
}

/// torch's random_(from, to): one 32-bit draw per element (64-bit when the range needs it).
template <class T>
void fill_randint(T* data, std::int64_t n, std::int64_t low, std::int64_t high, Generator& gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  const std::uint64_t range = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint64_t r = range >= (std::uint64_t(1) << 32) ? gen.random64() % range : gen.random() % range;
    data[i] = static_cast<T>(static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + r));  // wraps: no signed overflow
  }
}

/// torch's bernoulli_(p) with a tensor p: element i is 1 when a uniform draw with p's precision
/// (24 bits for float, 53 for double) is below p[i].
template <class T>
void fill_bernoulli(T* out, const T* p, std::int64_t n, Generator& gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  for (std::int64_t i = 0; i < n; ++i) out[i] = gen.unit<T>() < p[i] ? T(1) : T(0);
}

/// torch's bernoulli_(p) with a number p: one 53-bit uniform per element, whatever the element type.
template <class T>
void fill_bernoulli(T* out, double p, std::int64_t n, Generator& gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  for (std::int64_t i = 0; i < n; ++i) out[i] = gen.unit<double>() < p ? T(1) : T(0);
}

/// torch's CPU randperm: 0..n-1, then a Fisher-Yates pass swapping i with i + random() % (n - i).
/// torch uses the 32-bit draw for every n (checked against torch up to n = 214748365), so this does too.
template <class T>
void fill_randperm(T* out, std::int64_t n, Generator& gen) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(i);
  std::lock_guard<std::mutex> lock(gen.mutex());
  for (std::int64_t i = 0; i + 1 < n; ++i) {
    const std::int64_t z = static_cast<std::int64_t>(gen.random()) % (n - i);
    std::swap(out[i], out[i + z]);
  }
}

}  // namespace detail
}  // namespace tapegrad
