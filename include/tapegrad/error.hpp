// SPDX-License-Identifier: MIT
// Exception types thrown by tapegrad, and the helpers that put values and shapes into messages.
#pragma once

#include <cstdint>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

// Marks functions that only run on error paths, so the fast paths that call them stay small.
#if defined(__GNUC__) || defined(__clang__)
#define TAPEGRAD_COLD __attribute__((cold, noinline))
#else
#define TAPEGRAD_COLD
#endif

namespace tapegrad {

/// A tensor's shape does not fit the operation. The message names the operation and every shape.
class ShapeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// An index is outside its valid range. The message names the index, where it was found and the range.
class IndexError : public std::out_of_range {
 public:
  using std::out_of_range::out_of_range;
};

/// An argument has a value the operation cannot take (a negative size, an unknown option, a bad dtype).
class ValueError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The tape cannot do what was asked (backward twice through a freed graph, backward without grad...).
class AutogradError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A file or byte stream is malformed. The message names the file, the line or byte offset, and the problem.
class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The system refused to read or write a file (missing, no permission, disk full). The message
/// names the file, what was being done and the system's reason.
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Memory for a tensor could not be had. The message names the operation, the shape and the bytes
/// it needs. Derives from std::bad_alloc, so code that catches that still does.
class AllocationError : public std::bad_alloc {
 public:
  explicit AllocationError(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

namespace detail {

/// Streams every argument into one string: cat("index ", 3, " out of range").
template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

}  // namespace detail
}  // namespace tapegrad
