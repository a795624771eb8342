// SPDX-License-Identifier: MIT
// DistributedSampler: each rank's share of an epoch's order, like torch.utils.data.distributed.DistributedSampler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "tapegrad/error.hpp"
#include "tapegrad/factories.hpp"
#include "tapegrad/random.hpp"

namespace tapegrad::data {

/// Options of a DistributedSampler, with PyTorch 1.13's defaults: shuffle on, seed 0, the dataset
/// padded (not cut) to a multiple of num_replicas. num_replicas and rank are plain numbers here (no
/// process group needed): `DistributedSamplerOptions(world, rank).shuffle(true).seed(0).drop_last(false)`.
struct DistributedSamplerOptions {
  DistributedSamplerOptions(std::int64_t num_replicas, std::int64_t rank) : num_replicas_(num_replicas), rank_(rank) {}
  DistributedSamplerOptions& num_replicas(std::int64_t v) { num_replicas_ = v; return *this; }
  DistributedSamplerOptions& rank(std::int64_t v) { rank_ = v; return *this; }
  DistributedSamplerOptions& shuffle(bool v) { shuffle_ = v; return *this; }
  /// The seed every replica must share; epoch e shuffles with a generator seeded with seed + e.
  /// (A negative Python seed s is the same as seed(s mod 2^64) here, as torch.Generator.manual_seed.)
  DistributedSamplerOptions& seed(std::uint64_t v) { seed_ = v; return *this; }
  DistributedSamplerOptions& drop_last(bool v) { drop_last_ = v; return *this; }
  std::int64_t num_replicas() const noexcept { return num_replicas_; }
  std::int64_t rank() const noexcept { return rank_; }
  bool shuffle() const noexcept { return shuffle_; }
  std::uint64_t seed() const noexcept { return seed_; }
  bool drop_last() const noexcept { return drop_last_; }

 private:
  std::int64_t num_replicas_;
  std::int64_t rank_;
  bool shuffle_ = true;
  std::uint64_t seed_ = 0;
  bool drop_last_ = false;
};

/// One rank's share of a dataset of `dataset_size` examples, exactly as PyTorch 1.13.1's
/// DistributedSampler(dataset, num_replicas, rank, shuffle, seed, drop_last) yields it:
/// - the epoch's order is 0..n-1, or torch.randperm(n) from a generator seeded with seed + epoch
///   (the same on every rank, so the shares never overlap);
/// - without drop_last the order is padded to total_size by repeating it from its head (as often as
///   needed, so with n < num_replicas some examples appear on several ranks); with drop_last its
///   tail is cut to total_size instead;
/// - rank r takes the positions r, r + num_replicas, r + 2 * num_replicas, ... (`indices[r::num_replicas]`).
/// Call set_epoch(e) before each epoch, as in PyTorch, or every epoch repeats epoch 0's order.
class DistributedSampler {
 public:
  /// A sampler over a dataset of `dataset_size` examples (len(dataset)). ValueError for
  /// num_replicas < 1, rank outside [0, num_replicas), or a dataset too large for torch.randperm.
  DistributedSampler(std::size_t dataset_size, DistributedSamplerOptions options)
      : dataset_size_(dataset_size), options_(options) {
    const std::int64_t replicas = options_.num_replicas();
    if (replicas < 1)
      throw ValueError(detail::cat("DistributedSampler: num_replicas = ", replicas,
                                   " must be at least 1 (it is the number of processes sharing the dataset)"));
    if (options_.rank() < 0 || options_.rank() >= replicas)
      throw ValueError(detail::cat("DistributedSampler: rank = ", options_.rank(), " is out of range for num_replicas = ",
                                   replicas, " (valid range [0, ", replicas - 1, "])"));
    constexpr auto max_length = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (static_cast<std::uint64_t>(dataset_size) > max_length)
      throw ValueError(detail::cat("DistributedSampler: dataset size = ", dataset_size,
                                   " is too large (at most ", max_length, ", the largest length randperm takes)"));
    const auto n = static_cast<std::uint64_t>(dataset_size);
    const auto r = static_cast<std::uint64_t>(replicas);
    // PyTorch: ceil(n / r), or with drop_last and a remainder ceil((n - r) / r), which is floor(n / r).
    const std::uint64_t samples = options_.drop_last() ? n / r : n / r + (n % r != 0);
    std::uint64_t total = 0;
    // samples * r <= n + r - 1 fits in 64 bits, but size_t may be narrower.
    if (__builtin_mul_overflow(samples, r, &total) || total > std::numeric_limits<std::size_t>::max())
      throw ValueError(detail::cat("DistributedSampler: a dataset of ", dataset_size, " examples padded for num_replicas = ",
                                   replicas, " does not fit in std::size_t"));
    num_samples_ = static_cast<std::size_t>(samples);
    total_size_ = static_cast<std::size_t>(total);
  }

  /// Sets the epoch whose order indices() gives (PyTorch's set_epoch); every rank must set the same.
  void set_epoch(std::int64_t epoch) noexcept { epoch_ = epoch; }
  /// The current epoch (0 until set_epoch).
  std::int64_t epoch() const noexcept { return epoch_; }

  /// This rank's number of examples per epoch: len(sampler), PyTorch's num_samples.
  std::size_t size() const noexcept { return num_samples_; }
  /// PyTorch's num_samples, the same as size().
  std::size_t num_samples() const noexcept { return num_samples_; }
  /// Examples per epoch over all ranks: num_samples * num_replicas (PyTorch's total_size).
  std::size_t total_size() const noexcept { return total_size_; }
  /// The number of examples of the dataset, len(dataset).
  std::size_t dataset_size() const noexcept { return dataset_size_; }
  const DistributedSamplerOptions& options() const noexcept { return options_; }

  /// This rank's dataset indices for the current epoch, in order: list(iter(sampler)).
  /// size() of them; an index may repeat (padding) when the dataset is smaller than total_size().
  std::vector<std::size_t> indices() const {
    std::vector<std::size_t> order(dataset_size_);
    if (options_.shuffle()) {
      // Python's seed + epoch, wrapped to 64 bits as torch.Generator.manual_seed wraps a negative seed.
      Generator generator(options_.seed() + static_cast<std::uint64_t>(epoch_));
      const Tensor<std::int64_t> perm = randperm<std::int64_t>(static_cast<std::int64_t>(dataset_size_), generator);
      for (std::size_t i = 0; i < dataset_size_; ++i) order[i] = static_cast<std::size_t>(perm.data()[i]);
    } else {
      std::iota(order.begin(), order.end(), std::size_t{0});
    }
    // Position k of the padded (or cut) order is order[k % n]: padding repeats the order from its head,
    // and with drop_last every k < total_size <= n. Rank r takes k = r, r + replicas, ...
    const auto replicas = static_cast<std::size_t>(options_.num_replicas());
    const auto rank = static_cast<std::size_t>(options_.rank());
    std::vector<std::size_t> mine(num_samples_);
    for (std::size_t j = 0; j < num_samples_; ++j) mine[j] = order[(rank + j * replicas) % dataset_size_];
    return mine;
  }

 private:
  std::size_t dataset_size_;
  DistributedSamplerOptions options_;
  std::int64_t epoch_ = 0;
  std::size_t num_samples_ = 0;
  std::size_t total_size_ = 0;
};

}  // namespace tapegrad::data
