// SPDX-License-Identifier: MIT
// Element types found in model files and their checked conversion into a Tensor<T>'s elements.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>

#include "tapegrad/error.hpp"
#include "tapegrad/io/load_options.hpp"

namespace tapegrad::io::detail {

using tapegrad::detail::cat;

/// The element types the readers know. Names are safetensors' ("F32"); messages use them.
enum class DType { F16, BF16, F32, F64, I8, I16, I32, I64, U8, Bool };

inline std::size_t dtype_size(DType d) noexcept {
  switch (d) {
    case DType::I8: case DType::U8: case DType::Bool: return 1;
    case DType::F16: case DType::BF16: case DType::I16: return 2;
    case DType::F32: case DType::I32: return 4;
    case DType::F64: case DType::I64: return 8;
  }
  return 0;
}

inline const char* dtype_name(DType d) noexcept {
  switch (d) {
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F32: return "F32";
    case DType::F64: return "F64";
    case DType::I8: return "I8";
    case DType::I16: return "I16";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::U8: return "U8";
    case DType::Bool: return "BOOL";
  }
  return "?";
}

/// The file dtype that holds a T exactly: float F32, double F64, int64 I64, int32 I32.
template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::F32;
  else if constexpr (std::is_same_v<T, double>) return DType::F64;
  else if constexpr (std::is_same_v<T, std::int64_t>) return DType::I64;
  else {
    static_assert(std::is_same_v<T, std::int32_t>, "dtype_of<T>: T must be float, double, int64 or int32");
    return DType::I32;
  }
}

/// IEEE half (binary16) bits to float: exact, subnormals, infinities and NaN included.
inline float half_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1Fu, mantissa = h & 0x3FFu;
  float magnitude;
  if (exponent == 0) magnitude = std::ldexp(static_cast<float>(mantissa), -24);  // zero or subnormal
  else if (exponent == 31) magnitude = mantissa ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else magnitude = std::ldexp(static_cast<float>(mantissa | 0x400u), static_cast<int>(exponent) - 25);
  std::uint32_t bits;
  std::memcpy(&bits, &magnitude, 4);
  bits |= sign;
  std::memcpy(&magnitude, &bits, 4);
  return magnitude;
}

/// bfloat16 bits to float: the top half of a float32, so exact.
inline float bfloat16_to_float(std::uint16_t b) noexcept {
  const std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

/// Reads one little-endian (or, with `swap`, big-endian) unsigned integer of N bytes.
template <class U>
U load_uint(const unsigned char* p, bool swap) noexcept {
  U v = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i) v |= static_cast<U>(p[swap ? sizeof(U) - 1 - i : i]) << (8 * i);
  return v;
}

/// One element of dtype `d` at p, as a double (integers past 2^53 are read separately).
inline double load_as_double(DType d, const unsigned char* p, bool swap) noexcept {
  switch (d) {
    case DType::F16: return half_to_float(load_uint<std::uint16_t>(p, swap));
    case DType::BF16: return bfloat16_to_float(load_uint<std::uint16_t>(p, swap));
    case DType::F32: {
      const std::uint32_t bits = load_uint<std::uint32_t>(p, swap);
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    case DType::F64: {
      const std::uint64_t bits = load_uint<std::uint64_t>(p, swap);
      double f;
      std::memcpy(&f, &bits, 8);
      return f;
    }
    case DType::I8: return static_cast<std::int8_t>(p[0]);
    case DType::U8: return p[0];
    case DType::Bool: return p[0] != 0;
    case DType::I16: return static_cast<std::int16_t>(load_uint<std::uint16_t>(p, swap));
    case DType::I32: return static_cast<std::int32_t>(load_uint<std::uint32_t>(p, swap));
    case DType::I64: return static_cast<double>(static_cast<std::int64_t>(load_uint<std::uint64_t>(p, swap)));
  }
  return 0;
}

inline bool is_integer_dtype(DType d) noexcept { return d != DType::F16 && d != DType::BF16 && d != DType::F32 && d != DType::F64; }

/// Converts `n` elements of dtype `from` at `src` (little-endian; big-endian with `swap`) into `dst`.
///
/// A conversion that changes a value is refused with a ValueError naming `where`, the entry, both
/// dtypes and the first such element, unless `options.allow_lossy()`: then values round to nearest
/// (float narrowing, large integers to float) or truncate toward zero (float to integer). A value
/// that cannot be held at all (NaN or infinity to an integer, an integer out of range) is refused
/// either way. BOOL must be 0 or 1.
template <class T>
void convert_elements(const std::string& where, const std::string& entry, DType from, const unsigned char* src,
                      std::uint64_t n, T* dst, bool swap, const LoadOptions& options) {
  const DType to = dtype_of<T>();
  const std::size_t size = dtype_size(from);
  if (from == to && !swap) {  // the common case: one copy
    if (n > 0) std::memcpy(static_cast<void*>(dst), src, static_cast<std::size_t>(n) * size);
    return;
  }
  auto refuse = [&](std::uint64_t i, const std::string& value, const char* why) {
    throw ValueError(cat(where, ": entry \"", entry, "\" is ", dtype_name(from), " and cannot be loaded as ",
                         dtype_name(to), ": element ", i, " = ", value, " ", why));
  };
  const bool lossy_ok = options.allow_lossy();
  for (std::uint64_t i = 0; i < n; ++i) {
    const unsigned char* p = src + i * size;
    if (from == DType::Bool && p[0] > 1) refuse(i, std::to_string(p[0]), "(a BOOL must be 0 or 1)");
    if constexpr (std::is_floating_point_v<T>) {
      if (from == DType::I64) {
        const auto v = static_cast<std::int64_t>(load_uint<std::uint64_t>(p, swap));
        const T t = static_cast<T>(v);
        // A float that rounded up to 2^63 has no int64 equal; long double compares exactly otherwise.
        if (!lossy_ok && static_cast<long double>(t) != static_cast<long double>(v))
          refuse(i, std::to_string(v), "has no exact value in the target type (LoadOptions().allow_lossy(true) rounds it)");
        dst[i] = t;
        continue;
      }
      const double v = load_as_double(from, p, swap);
      const T t = static_cast<T>(v);
      if (!lossy_ok && static_cast<double>(t) != v && !std::isnan(v))
        refuse(i, cat(v), "has no exact value in the target type (LoadOptions().allow_lossy(true) rounds it)");
      dst[i] = t;
    } else {
      if (is_integer_dtype(from)) {
        const std::int64_t v = from == DType::I64 ? static_cast<std::int64_t>(load_uint<std::uint64_t>(p, swap))
                                                  : static_cast<std::int64_t>(load_as_double(from, p, swap));
        if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
          refuse(i, std::to_string(v), "is out of the target type's range");
        dst[i] = static_cast<T>(v);
        continue;
      }
      const double v = load_as_double(from, p, swap);
      // The range check is on doubles; 2^63 itself (the first double past int64) is out.
      if (!(v >= static_cast<double>(std::numeric_limits<T>::min()) && v < -static_cast<double>(std::numeric_limits<T>::min())))
        refuse(i, cat(v), "is not a finite value in the target type's range");
      if (!lossy_ok && std::trunc(v) != v)
        refuse(i, cat(v), "is not an integer (LoadOptions().allow_lossy(true) truncates it)");
      dst[i] = static_cast<T>(v);
    }
  }
}

}  // namespace tapegrad::io::detail
