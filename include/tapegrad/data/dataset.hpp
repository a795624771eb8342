// SPDX-License-Identifier: MIT
// Datasets: anything with size() and get(i), like torch.utils.data.Dataset (__len__ and __getitem__).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapegrad/error.hpp"
#include "tapegrad/factories.hpp"
#include "tapegrad/tensor.hpp"
#include "tapegrad/tensor_methods.hpp"

namespace tapegrad::data {

/// The Dataset concept: `d.size()` (a std::size_t, the number of examples) and `d.get(i)` (the
/// example at 0 <= i < size(), by value or by const reference), both callable on a const dataset.
/// is_dataset_v<D> says whether D has them; example_t<D> is the example type.
template <class D, class = void>
struct is_dataset : std::false_type {};
template <class D>
struct is_dataset<D, std::void_t<decltype(std::size_t{std::declval<const D&>().size()}),
                                 decltype(std::declval<const D&>().get(std::size_t{}))>> : std::true_type {};
template <class D>
inline constexpr bool is_dataset_v = is_dataset<D>::value;

/// The type of one example of dataset D (get's return type without reference and const).
template <class D>
using example_t = std::decay_t<decltype(std::declval<const D&>().get(std::size_t{}))>;

/// A dataset holding its examples in a std::vector.
template <class Example>
class VectorDataset {
 public:
  VectorDataset() = default;
  /// The dataset of `examples`, in that order.
  explicit VectorDataset(std::vector<Example> examples) : examples_(std::move(examples)) {}

  /// Number of examples (len(dataset)).
  std::size_t size() const noexcept { return examples_.size(); }
  /// Example i (dataset[i]); IndexError outside [0, size()).
  const Example& get(std::size_t i) const {
    if (i >= examples_.size())
      throw IndexError(detail::cat("VectorDataset::get: index ", i, " is out of range for a dataset of ",
                                   examples_.size(), " examples (valid range [0, ", examples_.size(), "))"));
    return examples_[i];
  }
  /// All examples in order.
  const std::vector<Example>& examples() const noexcept { return examples_; }

 private:
  std::vector<Example> examples_;
};

/// One example of a TensorDataset: row i of the inputs and of the targets.
template <class T, class Target = std::int64_t>
struct TensorExample {
  Tensor<T> input;        // inputs[i]: the input's shape without its first dim
  Tensor<Target> target;  // targets[i]: a 0-d tensor for 1-d targets
};

/// A dataset over two tensors that share their first dim, like torch.utils.data.TensorDataset(x, y):
/// example i is {inputs[i], targets[i]}.
template <class T, class Target = std::int64_t>
class TensorDataset {
 public:
  /// Throws ShapeError unless both tensors have at least one dim and the same size in dim 0.
  TensorDataset(Tensor<T> inputs, Tensor<Target> targets) : inputs_(std::move(inputs)), targets_(std::move(targets)) {
    if (inputs_.dim() == 0 || targets_.dim() == 0 || inputs_.size(0) != targets_.size(0))
      throw ShapeError(detail::cat("TensorDataset: inputs ", detail::shape_str(inputs_.shape()), " and targets ",
                                   detail::shape_str(targets_.shape()), " must have the same size in dim 0"));
  }

  /// Number of examples: the size of dim 0.
  std::size_t size() const noexcept { return static_cast<std::size_t>(inputs_.size(0)); }
  /// {inputs[i], targets[i]}; IndexError outside [0, size()).
  TensorExample<T, Target> get(std::size_t i) const {
    if (i >= size())
      throw IndexError(detail::cat("TensorDataset::get: index ", i, " is out of range for a dataset of ", size(),
                                   " examples (valid range [0, ", size(), "))"));
    const auto row = static_cast<std::int64_t>(i);
    return {inputs_[row], targets_[row]};
  }

  const Tensor<T>& inputs() const noexcept { return inputs_; }
  const Tensor<Target>& targets() const noexcept { return targets_; }

 private:
  Tensor<T> inputs_;
  Tensor<Target> targets_;
};

}  // namespace tapegrad::data
