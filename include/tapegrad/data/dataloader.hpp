// SPDX-License-Identifier: MIT
// DataLoader: batches of a dataset, optionally shuffled, like torch.utils.data.DataLoader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapegrad/data/collate.hpp"
#include "tapegrad/data/dataset.hpp"
#include "tapegrad/data/distributed_sampler.hpp"
#include "tapegrad/error.hpp"
#include "tapegrad/factories.hpp"
#include "tapegrad/random.hpp"

namespace tapegrad::data {

template <class Dataset, class Collate>
class DataLoader;

/// Options of a DataLoader, with PyTorch's defaults: batch_size 1, no shuffling, the last (short)
/// batch kept. seed(s) shuffles with a generator of its own (DataLoader's `generator=`); without
/// it, shuffling draws from tapegrad's default generator (PyTorch: the global RNG).
/// sampler(s) takes the order from a DistributedSampler (DataLoader's `sampler=`); shuffle must then stay off.
struct DataLoaderOptions {
  DataLoaderOptions() = default;
  explicit DataLoaderOptions(std::int64_t batch_size) : batch_size_(batch_size) {}
  DataLoaderOptions& batch_size(std::int64_t v) { batch_size_ = v; return *this; }
  DataLoaderOptions& shuffle(bool v) { shuffle_ = v; return *this; }
  DataLoaderOptions& drop_last(bool v) { drop_last_ = v; return *this; }
  DataLoaderOptions& seed(std::optional<std::uint64_t> v) { seed_ = v; return *this; }
  DataLoaderOptions& sampler(DistributedSampler v) { sampler_ = std::move(v); return *this; }
  std::int64_t batch_size() const noexcept { return batch_size_; }
  bool shuffle() const noexcept { return shuffle_; }
  bool drop_last() const noexcept { return drop_last_; }
  std::optional<std::uint64_t> seed() const noexcept { return seed_; }
  const std::optional<DistributedSampler>& sampler() const noexcept { return sampler_; }

 private:
  template <class Dataset, class Collate>
  friend class DataLoader;  // to let loader.sampler()->set_epoch(e) reach the loader's own sampler

  std::int64_t batch_size_ = 1;
  bool shuffle_ = false;
  bool drop_last_ = false;
  std::optional<std::uint64_t> seed_;
  std::optional<DistributedSampler> sampler_;
};

/// Batches of a dataset: `for (auto& batch : loader)` runs one epoch, each batch being
/// collate(examples of the batch). Every example appears exactly once per epoch (minus the short
/// last batch with drop_last).
///
/// Order: with shuffle, every epoch (every begin()) draws a fresh permutation with tg::randperm.
/// It draws exactly what PyTorch 1.13's DataLoader draws from the same generator, so a seeded loader
/// visits examples in the order `DataLoader(..., shuffle=True, generator=torch.Generator().manual_seed(s))`
/// does, epoch after epoch: a 64-bit base seed for worker processes (unused here), the permutation,
/// and a second permutation that RandomSampler makes (and throws away) for the `len % len`
/// remainder at the end of the epoch. Without a seed, the draws come from the default generator:
/// the base seed, then a seed for a generator of the epoch's own, as PyTorch does; without shuffle
/// the base seed is drawn too, so the default generator's later numbers (Dropout, init) match PyTorch.
/// With a sampler (DataLoaderOptions::sampler), each epoch takes the sampler's indices() for its current
/// epoch (call `loader.sampler()->set_epoch(e)` first, as PyTorch's `loader.sampler.set_epoch(e)`), and
/// draws only the base seed, as PyTorch does.
/// Only one iteration of a loader may be in progress at a time (begin() starts a new epoch).
template <class Dataset, class Collate = NoCollate>
class DataLoader {
  static_assert(is_dataset_v<Dataset>, "DataLoader: the dataset needs size() and get(std::size_t) (see data/dataset.hpp)");

 public:
  using example_type = example_t<Dataset>;
  using batch_type = std::decay_t<std::invoke_result_t<const Collate&, const std::vector<example_type>&>>;

  /// A loader over `dataset` (kept by value: std::move a large one in). ValueError for batch_size < 1,
  /// for a sampler together with shuffle, and for a sampler made for a dataset of another size.
  DataLoader(Dataset dataset, DataLoaderOptions options, Collate collate = {})
      : dataset_(std::move(dataset)), options_(std::move(options)), collate_(std::move(collate)) {
    if (options_.batch_size() < 1)
      throw ValueError(detail::cat("DataLoader: batch_size = ", options_.batch_size(), " must be at least 1"));
    if (const auto& sampler = options_.sampler()) {
      if (options_.shuffle())
        throw ValueError("DataLoader: shuffle = true cannot be combined with a sampler, which decides the order "
                         "(shuffle through DistributedSamplerOptions::shuffle instead)");
      if (sampler->dataset_size() != dataset_.size())
        throw ValueError(detail::cat("DataLoader: the sampler was made for a dataset of ", sampler->dataset_size(),
                                     " examples, but the dataset has ", dataset_.size()));
    }
    if (options_.seed()) generator_ = std::make_unique<Generator>(*options_.seed());
  }

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = batch_type;
    using difference_type = std::ptrdiff_t;
    using pointer = const batch_type*;
    using reference = const batch_type&;

    iterator() = default;
    const batch_type& operator*() const { return *batch_; }
    const batch_type* operator->() const { return &*batch_; }
    iterator& operator++() {
      ++index_;
      load();
      return *this;
    }
    bool operator==(const iterator& other) const { return index_ == other.index_; }
    bool operator!=(const iterator& other) const { return index_ != other.index_; }
    /// The number of this batch in the epoch, from 0.
    std::size_t index() const noexcept { return index_; }

   private:
    friend class DataLoader;
    iterator(const DataLoader* loader, std::size_t index) : loader_(loader), index_(index) { load(); }
    void load() {
      if (loader_ && index_ < loader_->size()) batch_ = loader_->batch(index_);
      else batch_.reset();
    }
    const DataLoader* loader_ = nullptr;
    std::size_t index_ = 0;
    std::optional<batch_type> batch_;
  };

  /// Starts an epoch: draws the order (when shuffling) and collates the first batch.
  iterator begin() {
    new_epoch();
    return iterator(this, 0);
  }
  /// Past the last batch of the epoch.
  iterator end() const { return iterator(nullptr, size()); }

  /// Batches per epoch (len(loader)): ceil(n / batch_size), or floor with drop_last, where n is the
  /// dataset's size, or the sampler's (its share) with a sampler.
  std::size_t size() const noexcept {
    const auto n = options_.sampler() ? options_.sampler()->size() : dataset_.size();
    const auto b = static_cast<std::size_t>(options_.batch_size());
    return options_.drop_last() ? n / b : n / b + (n % b != 0);
  }

  /// The dataset index of every example of the current epoch, in the order the batches take them.
  const std::vector<std::size_t>& order() const noexcept { return order_; }
  const Dataset& dataset() const noexcept { return dataset_; }
  const DataLoaderOptions& options() const noexcept { return options_; }
  /// The loader's sampler (PyTorch's loader.sampler), or nullptr without one: `loader.sampler()->set_epoch(e)`.
  DistributedSampler* sampler() noexcept { return options_.sampler_ ? &*options_.sampler_ : nullptr; }
  const DistributedSampler* sampler() const noexcept { return options_.sampler_ ? &*options_.sampler_ : nullptr; }

 private:
  void new_epoch() {
    const std::size_t n = dataset_.size();
    Generator& source = generator_ ? *generator_ : default_generator();
    (void)source.random64();  // PyTorch's _base_seed for worker processes
    if (options_.sampler_) {
      order_ = options_.sampler_->indices();  // its own generator: the default one is left alone
      return;
    }
    order_.resize(n);
    if (!options_.shuffle()) {
      for (std::size_t i = 0; i < n; ++i) order_[i] = i;
      return;
    }
    const auto count = static_cast<std::int64_t>(n);
    auto draw = [&](Generator& gen) {
      const Tensor<std::int64_t> perm = randperm<std::int64_t>(count, gen);
      for (std::size_t i = 0; i < n; ++i) order_[i] = static_cast<std::size_t>(perm.data()[i]);
      (void)randperm<std::int64_t>(count, gen);  // RandomSampler's discarded remainder permutation
    };
    if (generator_) {
      draw(*generator_);
    } else {
      // RandomSampler without a generator seeds one from the global RNG (an int64 random_: 63 bits).
      Generator epoch_generator(source.random64() & 0x7FFFFFFFFFFFFFFFULL);
      draw(epoch_generator);
    }
  }

  batch_type batch(std::size_t index) const {
    const auto b = static_cast<std::size_t>(options_.batch_size());
    const std::size_t first = index * b;
    const std::size_t last = std::min(first + b, order_.size());
    std::vector<example_type> examples;
    examples.reserve(last - first);
    for (std::size_t k = first; k < last; ++k) examples.push_back(dataset_.get(order_[k]));
    return collate_(examples);
  }

  Dataset dataset_;
  DataLoaderOptions options_;
  Collate collate_;
  std::unique_ptr<Generator> generator_;  // the seeded generator, if any (a Generator cannot be moved)
  std::vector<std::size_t> order_;
};

/// A DataLoader over `dataset` (deduces the types): `auto loader = make_data_loader(ds, opts, BagCollate{})`.
template <class Dataset, class Collate = NoCollate>
DataLoader<std::decay_t<Dataset>, Collate> make_data_loader(Dataset&& dataset, DataLoaderOptions options,
                                                            Collate collate = {}) {
  return DataLoader<std::decay_t<Dataset>, Collate>(std::forward<Dataset>(dataset), std::move(options),
                                                    std::move(collate));
}

}  // namespace tapegrad::data
