// SPDX-License-Identifier: MIT
// tg::data::DistributedSampler against PyTorch 1.13.1's DistributedSampler (goldens from
// tests/reference/golden_distributed_sampler.py), and a DataLoader taking its order from one.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "support/golden.hpp"
#include "support/test.hpp"

namespace distributed_sampler_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace data = tapegrad::data;
using tg_test::Contains;

namespace {

const tg_test::Golden& golden() {
  static const tg_test::Golden g("distributed_sampler");
  return g;
}

data::VectorDataset<std::int64_t> numbers(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return data::VectorDataset<std::int64_t>(v);
}

std::vector<std::int64_t> as_int64(const std::vector<std::size_t>& v) { return {v.begin(), v.end()}; }
std::vector<std::int64_t> as_int64(const std::vector<double>& v) { return {v.begin(), v.end()}; }

std::vector<std::size_t> indices_at(data::DistributedSampler& sampler, std::int64_t epoch) {
  sampler.set_epoch(epoch);
  return sampler.indices();
}

// Every example of one epoch, batches concatenated.
template <class Loader>
std::vector<std::int64_t> epoch_examples(Loader& loader) {
  std::vector<std::int64_t> out;
  for (auto& batch : loader) out.insert(out.end(), batch.begin(), batch.end());
  return out;
}

const std::int64_t kSizes[] = {0, 1, 2, 3, 5, 7, 8, 10, 13, 100};
const std::int64_t kReplicas[] = {1, 2, 3, 4, 5, 8};

}  // namespace

TEST_CASE("DistributedSampler: PyTorch 1.13's indices for every size, replicas, rank, seed, epoch and drop_last") {
  struct Mode {
    bool shuffle;
    std::uint64_t seed;
  };
  int compared = 0;
  for (std::int64_t n : kSizes)
    for (std::int64_t replicas : kReplicas)
      for (std::int64_t rank = 0; rank < replicas; ++rank)
        for (bool drop_last : {false, true})
          for (const Mode& m : {Mode{false, 0}, Mode{true, 0}, Mode{true, 7}}) {
            data::DistributedSampler sampler(
                static_cast<std::size_t>(n),
                data::DistributedSamplerOptions(replicas, rank).shuffle(m.shuffle).seed(m.seed).drop_last(drop_last));
            const std::string prefix = tg::detail::cat("sampler/", n, "_", replicas, "_", rank, "_", int(m.shuffle), "_",
                                                       m.seed, "_", int(drop_last), "/");
            for (std::int64_t e = 0; e < (m.shuffle ? 3 : 1); ++e) {
              INFO(prefix << "epoch" << e);
              const auto expected = as_int64(golden().values(prefix + "epoch" + std::to_string(e)));
              CHECK(as_int64(indices_at(sampler, e)) == expected);
              CHECK(sampler.size() == expected.size());
              ++compared;
            }
            CHECK(sampler.num_samples() == sampler.size());
            CHECK(sampler.total_size() == sampler.size() * static_cast<std::size_t>(replicas));
            CHECK(sampler.dataset_size() == static_cast<std::size_t>(n));
          }
  CHECK(compared == 3220);
}

TEST_CASE("DistributedSampler: hand-computed shares, padding from the head, drop_last cutting the tail") {
  auto share = [](std::size_t n, std::int64_t replicas, std::int64_t rank, bool drop_last) {
    return data::DistributedSampler(n, data::DistributedSamplerOptions(replicas, rank).shuffle(false).drop_last(drop_last))
        .indices();
  };
  using V = std::vector<std::size_t>;
  // n = 5, 2 replicas: padded to [0 1 2 3 4 0], or cut to [0 1 2 3].
  CHECK(share(5, 2, 0, false) == V{0, 2, 4});
  CHECK(share(5, 2, 1, false) == V{1, 3, 0});
  CHECK(share(5, 2, 0, true) == V{0, 2});
  CHECK(share(5, 2, 1, true) == V{1, 3});
  // Padding longer than the dataset repeats it: n = 2, 5 replicas -> [0 1 0 1 0].
  for (std::int64_t rank = 0; rank < 5; ++rank) CHECK(share(2, 5, rank, false) == V{std::size_t(rank % 2)});
  // n = 3, 8 replicas: num_samples = 1, total_size 8, padding 5 > 3 -> [0 1 2 0 1 2 0 1].
  CHECK(share(3, 8, 7, false) == V{1});
  // drop_last with fewer examples than replicas leaves every rank empty.
  CHECK(share(2, 4, 3, true).empty());
  CHECK(data::DistributedSampler(2, data::DistributedSamplerOptions(4, 3).drop_last(true)).total_size() == 0);
  // An empty dataset is allowed (PyTorch too) and gives nothing.
  CHECK(share(0, 3, 2, false).empty());
  // n = 7, 3 replicas: ceil(7/3) = 3 each (total 9), or with drop_last ceil((7-3)/3) = 2 each (total 6).
  const data::DistributedSampler padded(7, data::DistributedSamplerOptions(3, 0));
  CHECK(padded.size() == 3);
  CHECK(padded.total_size() == 9);
  const data::DistributedSampler cut(7, data::DistributedSamplerOptions(3, 0).drop_last(true));
  CHECK(cut.size() == 2);
  CHECK(cut.total_size() == 6);
}

TEST_CASE("DistributedSampler: the ranks together cover the dataset, each example once when nothing is padded") {
  for (std::int64_t n : kSizes)
    for (std::int64_t replicas : kReplicas)
      for (bool drop_last : {false, true})
        for (std::int64_t epoch : {0, 1, 2}) {
          INFO("n " << n << " replicas " << replicas << " drop_last " << drop_last << " epoch " << epoch);
          std::map<std::size_t, int> count;
          std::size_t total = 0;
          for (std::int64_t rank = 0; rank < replicas; ++rank) {
            data::DistributedSampler sampler(static_cast<std::size_t>(n),
                                             data::DistributedSamplerOptions(replicas, rank).seed(3).drop_last(drop_last));
            const auto mine = indices_at(sampler, epoch);
            for (std::size_t i : mine) {
              CHECK(i < static_cast<std::size_t>(n));
              ++count[i];
            }
            total += mine.size();
            CHECK(total == sampler.size() * static_cast<std::size_t>(rank + 1));  // every rank the same length
          }
          const std::size_t nn = static_cast<std::size_t>(n), r = static_cast<std::size_t>(replicas);
          if (drop_last) {
            CHECK(total == nn / r * r);
            for (const auto& kv : count) CHECK(kv.second == 1);  // cut, never repeated
          } else {
            CHECK(total == (nn + r - 1) / r * r);
            CHECK(count.size() == nn);  // every example somewhere
            for (const auto& kv : count) {
              // padding repeats the order cyclically: each example total / n times, or once more
              CHECK(kv.second >= int(total / nn));
              CHECK(kv.second <= int((total + nn - 1) / nn));
            }
          }
        }
}

TEST_CASE("DistributedSampler: defaults, set_epoch, same epoch same order, other epoch or seed another order") {
  const data::DistributedSamplerOptions defaults(4, 1);
  CHECK(defaults.shuffle());
  CHECK(defaults.seed() == 0);
  CHECK_FALSE(defaults.drop_last());
  CHECK(defaults.num_replicas() == 4);
  CHECK(defaults.rank() == 1);

  data::DistributedSampler sampler(50, data::DistributedSamplerOptions(2, 0));
  CHECK(sampler.epoch() == 0);
  const auto first = sampler.indices();
  CHECK(sampler.indices() == first);  // without set_epoch every epoch repeats the order, as in PyTorch
  sampler.set_epoch(1);
  CHECK(sampler.epoch() == 1);
  CHECK(sampler.indices() != first);
  sampler.set_epoch(0);
  CHECK(sampler.indices() == first);
  data::DistributedSampler reseeded(50, data::DistributedSamplerOptions(2, 0).seed(1));
  CHECK(reseeded.indices() != first);
  data::DistributedSampler ordered(50, data::DistributedSamplerOptions(2, 0).shuffle(false));
  ordered.set_epoch(5);
  CHECK(ordered.indices()[3] == 6);  // without shuffle the epoch changes nothing
}

TEST_CASE("DistributedSampler: seed + epoch wraps like torch.Generator.manual_seed (seed -1, a 41-bit seed)") {
  struct Case {
    std::size_t n;
    std::int64_t replicas, rank;
  };
  for (const Case& k : {Case{10, 3, 1}, Case{1000, 7, 3}}) {
    for (const auto& [name, seed] : {std::pair<std::string, std::uint64_t>{"minus1", std::uint64_t(-1)},
                                     std::pair<std::string, std::uint64_t>{"big", (std::uint64_t(1) << 40) + 3}}) {
      data::DistributedSampler sampler(k.n, data::DistributedSamplerOptions(k.replicas, k.rank).seed(seed));
      for (std::int64_t e = 0; e < 3; ++e) {
        const std::string key = tg::detail::cat("seed_", name, "/", k.n, "_", k.replicas, "_", k.rank, "/epoch", e);
        INFO(key);
        CHECK(as_int64(indices_at(sampler, e)) == as_int64(golden().values(key)));
      }
    }
  }
}

TEST_CASE("DistributedSampler: bad num_replicas, rank or dataset size are ValueErrors naming the value and the range") {
  using Options = data::DistributedSamplerOptions;
  CHECK_THROWS_AS(data::DistributedSampler(10, Options(0, 0)), tg::ValueError);
  CHECK_THROWS_WITH(data::DistributedSampler(10, Options(0, 0)),
                    Contains("DistributedSampler: num_replicas = 0 must be at least 1"));
  CHECK_THROWS_WITH(data::DistributedSampler(10, Options(-2, 0)), Contains("num_replicas = -2 must be at least 1"));
  CHECK_THROWS_AS(data::DistributedSampler(10, Options(4, 4)), tg::ValueError);
  CHECK_THROWS_WITH(data::DistributedSampler(10, Options(4, 4)),
                    Contains("DistributedSampler: rank = 4 is out of range for num_replicas = 4 (valid range [0, 3])"));
  CHECK_THROWS_WITH(data::DistributedSampler(10, Options(4, -1)),
                    Contains("rank = -1 is out of range for num_replicas = 4 (valid range [0, 3])"));
  CHECK_THROWS_WITH(data::DistributedSampler(10, Options(1, 1)), Contains("(valid range [0, 0])"));
  const std::size_t huge = std::numeric_limits<std::size_t>::max();
  CHECK_THROWS_AS(data::DistributedSampler(huge, Options(2, 0)), tg::ValueError);
  CHECK_THROWS_WITH(data::DistributedSampler(huge, Options(2, 0)),
                    Contains(tg::detail::cat("dataset size = ", huge, " is too large (at most 9223372036854775807")));
  // The largest size randperm takes is accepted (only counted: indices() would need the memory).
  const data::DistributedSampler largest(std::size_t(std::numeric_limits<std::int64_t>::max()),
                                         Options(std::numeric_limits<std::int64_t>::max(), 3));
  CHECK(largest.size() == 1);
  CHECK(largest.total_size() == std::size_t(std::numeric_limits<std::int64_t>::max()));
  // Options outside the range are caught however they were set.
  CHECK_THROWS_WITH(data::DistributedSampler(10, Options(2, 0).rank(2).num_replicas(2)), Contains("rank = 2"));
}

TEST_CASE("DistributedSampler: a DataLoader with the sampler visits PyTorch's examples and draws PyTorch's base seeds") {
  struct Case {
    std::uint64_t seed;
    std::int64_t n, replicas, rank, batch;
    bool drop_last, shuffle, sampler_drop_last;
    std::int64_t loader_seed;  // -1: no generator of its own
  };
  for (const Case& k : {Case{0, 10, 3, 1, 2, false, true, false, -1}, Case{3, 17, 4, 3, 2, true, true, false, -1},
                        Case{5, 17, 4, 0, 3, false, false, true, -1}, Case{1, 2, 4, 3, 1, false, true, false, -1},
                        Case{8, 33, 2, 1, 5, false, true, true, 11}}) {
    const std::string prefix =
        tg::detail::cat("loader/", k.seed, "_", k.n, "_", k.replicas, "_", k.rank, "_", k.batch, "_", int(k.drop_last),
                        "_", int(k.shuffle), "_", int(k.sampler_drop_last), "_", k.loader_seed, "/");
    INFO(prefix);
    tg::manual_seed(k.seed);
    data::DistributedSampler sampler(
        static_cast<std::size_t>(k.n),
        data::DistributedSamplerOptions(k.replicas, k.rank).shuffle(k.shuffle).drop_last(k.sampler_drop_last));
    auto options = data::DataLoaderOptions(k.batch).drop_last(k.drop_last).sampler(sampler);
    if (k.loader_seed >= 0) options.seed(static_cast<std::uint64_t>(k.loader_seed));
    auto loader = data::make_data_loader(numbers(k.n), options);
    REQUIRE(loader.sampler() != nullptr);
    CHECK(loader.size() == static_cast<std::size_t>(golden().scalar(prefix + "batches")));
    for (std::int64_t e = 0; e < 3; ++e) {
      loader.sampler()->set_epoch(e);
      CHECK(epoch_examples(loader) == as_int64(golden().values(prefix + "epoch" + std::to_string(e))));
      CHECK(loader.order() == indices_at(sampler, e));  // the loader's order is the sampler's share
    }
    // What the global generator gives next shows the loader took exactly PyTorch's draws from it.
    CHECK(tg_test::close(tg::rand<double>({4}), golden().values(prefix + "rand_after"), {4}, 0, 0));
  }
}

TEST_CASE("DistributedSampler: a DataLoader refuses shuffle with a sampler and a sampler of another dataset") {
  const data::DistributedSampler sampler(10, data::DistributedSamplerOptions(2, 0));
  CHECK_THROWS_AS(data::make_data_loader(numbers(10), data::DataLoaderOptions(2).shuffle(true).sampler(sampler)),
                  tg::ValueError);
  CHECK_THROWS_WITH(data::make_data_loader(numbers(10), data::DataLoaderOptions(2).sampler(sampler).shuffle(true)),
                    Contains("DataLoader: shuffle = true cannot be combined with a sampler"));
  CHECK_THROWS_WITH(data::make_data_loader(numbers(9), data::DataLoaderOptions(2).sampler(sampler)),
                    Contains("DataLoader: the sampler was made for a dataset of 10 examples, but the dataset has 9"));
  auto plain = data::make_data_loader(numbers(4), data::DataLoaderOptions(2));
  CHECK(plain.sampler() == nullptr);
  CHECK_FALSE(plain.options().sampler().has_value());
  // len(loader) follows the sampler's share: 5 examples in batches of 2 -> 3, or 2 with drop_last.
  CHECK(data::make_data_loader(numbers(10), data::DataLoaderOptions(2).sampler(sampler)).size() == 3);
  CHECK(data::make_data_loader(numbers(10), data::DataLoaderOptions(2).drop_last(true).sampler(sampler)).size() == 2);
}

}  // namespace distributed_sampler_test
