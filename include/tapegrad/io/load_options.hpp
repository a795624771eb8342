// SPDX-License-Identifier: MIT
// LoadOptions: what the model-file readers may do when a file's element type differs from the tensor's.
#pragma once

namespace tapegrad::io {

/// Options of the model-file readers (safetensors, PyTorch, NumPy), set by chaining:
/// `load_safetensors<float>(path, LoadOptions().allow_lossy(true))`.
///
/// A file's elements are converted to the tensor's type when every value converts exactly (float16,
/// bfloat16 and float32 into float; small integers into float; ...). A value that would change is an
/// error naming the entry, both types and the element, unless allow_lossy(true).
class LoadOptions {
 public:
  /// Accept conversions that change values: float64 to float rounds to nearest, large integers to
  /// float round, floats to integers truncate. Values that cannot be held at all (NaN to an integer,
  /// out of range) are still refused.
  LoadOptions& allow_lossy(bool on) {
    allow_lossy_ = on;
    return *this;
  }
  bool allow_lossy() const noexcept { return allow_lossy_; }

 private:
  bool allow_lossy_ = false;
};

}  // namespace tapegrad::io
