// SPDX-License-Identifier: MIT
// ShardedEmbeddingBag against an unsharded EmbeddingBag on the same full table and the concatenated
// batch of all ranks. Every rank draws every rank's batch from one seeded generator, so all ranks
// know the whole batch and compute the unsharded reference themselves.
#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include "support/test.hpp"
#include "tapegrad/distributed/environment.hpp"
#include "tapegrad/distributed/sharded_embedding_bag.hpp"

namespace sharded_embedding_bag_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace {

namespace tg = tapegrad;
namespace td = tapegrad::distributed;
using tg::Tensor;
using tg::nn::EmbeddingBagMode;
using tg::nn::EmbeddingBagOptions;
using Sharded = tg::nn::ShardedEmbeddingBag<float>;

constexpr std::int64_t kRows = 23, kDim = 4, kBags = 5;

/// One rank's bags: a 1-D input with offsets (or 2-D), per-sample weights, and a target for the loss.
struct Batch {
  Tensor<std::int64_t> input, offsets;
  Tensor<float> weights, target;
};

/// kBags bags of 0..4 indices (bag 2 always empty); with padding, every index divisible by 5 becomes
/// the padding index, and bag 0 holds padding only.
Batch random_batch(tg::Generator& gen, std::optional<std::int64_t> padding = std::nullopt) {
  Tensor<std::int64_t> sizes = tg::randint<std::int64_t>(1, 5, {kBags}, gen);
  sizes.data()[2] = 0;
  Batch b;
  b.offsets = tg::zeros<std::int64_t>({kBags});
  std::int64_t total = 0;
  for (std::int64_t i = 0; i < kBags; ++i) b.offsets.data()[i] = total, total += sizes.data()[i];
  b.input = tg::randint<std::int64_t>(0, kRows, {total}, gen);
  if (padding) {
    for (std::int64_t i = 0; i < total; ++i)
      if (b.input.data()[i] % 5 == 0 || i < sizes.data()[0]) b.input.data()[i] = *padding;
  }
  b.weights = tg::rand<float>({total}, gen);
  b.target = tg::randn<float>({kBags, kDim}, gen);
  return b;
}

/// 2-D batches: kBags rows of 3 indices.
Batch random_batch_2d(tg::Generator& gen) {
  Batch b;
  b.input = tg::randint<std::int64_t>(0, kRows, {kBags, 3}, gen);
  b.weights = tg::rand<float>({kBags, 3}, gen);
  b.target = tg::randn<float>({kBags, kDim}, gen);
  return b;
}

/// All ranks' batches joined into one (offsets shifted), as one process would see them.
Batch concatenate(const std::vector<Batch>& parts) {
  std::vector<std::int64_t> input, offsets;
  std::vector<float> weights, target;
  for (const Batch& p : parts) {
    const auto base = static_cast<std::int64_t>(input.size());
    if (p.offsets.defined())
      for (std::int64_t i = 0; i < p.offsets.numel(); ++i) offsets.push_back(base + p.offsets.data()[i]);
    input.insert(input.end(), p.input.data(), p.input.data() + p.input.numel());
    weights.insert(weights.end(), p.weights.data(), p.weights.data() + p.weights.numel());
    target.insert(target.end(), p.target.data(), p.target.data() + p.target.numel());
  }
  const bool two_d = parts[0].input.dim() == 2;
  Batch all;
  const auto n = static_cast<std::int64_t>(input.size());
  all.input = tg::tensor(input, two_d ? tg::Shape{n / parts[0].input.size(1), parts[0].input.size(1)} : tg::Shape{n});
  if (!two_d) all.offsets = tg::tensor(offsets, {static_cast<std::int64_t>(offsets.size())});
  all.weights = tg::tensor(weights, all.input.shape());
  all.target = tg::tensor(target, {static_cast<std::int64_t>(target.size()) / kDim, kDim});
  return all;
}

/// Every rank's batch, drawn in rank order from one generator with `seed` (the same on all ranks).
template <class Make>
std::vector<Batch> batches_of_all_ranks(int world, std::uint64_t seed, Make make) {
  tg::Generator gen(seed);
  std::vector<Batch> out;
  for (int k = 0; k < world; ++k) out.push_back(make(gen));
  return out;
}

Tensor<float> full_table(std::uint64_t seed) {
  tg::Generator gen(seed);
  return tg::randn<float>({kRows, kDim}, gen);
}

tg::nn::EmbeddingBag<float> unsharded(const Tensor<float>& table, const EmbeddingBagOptions& o, bool sparse) {
  return tg::nn::EmbeddingBag<float>::from_pretrained(table.clone(), tg::nn::EmbeddingBagFromPretrainedOptions()
                                                                         .freeze(false)
                                                                         .mode(o.mode())
                                                                         .padding_idx(o.padding_idx())
                                                                         .include_last_offset(o.include_last_offset())
                                                                         .sparse(sparse));
}

/// This rank's rows of the unsharded output: its bags come after the lower ranks' bags.
Tensor<float> my_bags(const Tensor<float>& all, int rank, std::int64_t bags_per_rank) {
  return all.narrow(0, rank * bags_per_rank, bags_per_rank);
}

/// Forward on every rank against the unsharded forward on the concatenated batch (bit for bit: the
/// same rows are reduced in the same order by the same kernel).
void check_forward(const EmbeddingBagOptions& o, bool with_weights, bool two_d = false) {
  td::ProcessGroup& group = td::default_group();
  const Tensor<float> table = full_table(11);
  Sharded sharded = Sharded::from_full(group, table, o);
  const std::vector<Batch> parts = batches_of_all_ranks(group.size(), 12, [&](tg::Generator& g) {
    return two_d ? random_batch_2d(g) : random_batch(g, sharded.options.padding_idx());  // normalised
  });
  const Batch all = concatenate(parts);
  const Batch& mine = parts[static_cast<std::size_t>(group.rank())];
  tg::nn::EmbeddingBag<float> reference = unsharded(table, o, false);
  const Tensor<float> none;
  const Tensor<float> got = sharded(mine.input, mine.offsets, with_weights ? mine.weights : none);
  const Tensor<float> want = reference(all.input, all.offsets, with_weights ? all.weights : none);
  CHECK(tg_test::close(got, my_bags(want, group.rank(), kBags), 0, 0));
}

std::int64_t count_owned(std::int64_t rows, int world, int rank) {
  std::int64_t n = 0;
  for (std::int64_t r = 0; r < rows; ++r) n += r % world == rank;
  return n;
}

/// Two training steps (forward, mean squared error, backward, synchronize, step) on the sharded
/// table and on the unsharded one with the concatenated batch; afterwards every rank's shard and the
/// gathered table equal the unsharded table.
template <class MakeOptimizer>
void check_training(const EmbeddingBagOptions& o, bool with_weights, MakeOptimizer make_optimizer) {
  td::ProcessGroup& group = td::default_group();
  const int world = group.size(), rank = group.rank();
  const Tensor<float> table = full_table(21);
  Sharded sharded = Sharded::from_full(group, table, o);
  tg::nn::EmbeddingBag<float> reference = unsharded(table, o, o.mode() != EmbeddingBagMode::Max);
  auto sharded_opt = make_optimizer(sharded.parameters());
  auto reference_opt = make_optimizer(reference.parameters());
  const Tensor<float> none;
  for (std::uint64_t step = 0; step < 2; ++step) {
    const std::vector<Batch> parts =
        batches_of_all_ranks(world, 100 + step, [&](tg::Generator& g) { return random_batch(g, o.padding_idx()); });
    const Batch all = concatenate(parts);
    const Batch& mine = parts[static_cast<std::size_t>(rank)];

    sharded_opt.zero_grad();
    const Tensor<float> diff = sharded(mine.input, mine.offsets, with_weights ? mine.weights : none) - mine.target;
    (diff * diff).mean().backward();
    sharded.synchronize_gradients();
    CHECK(sharded.weight.grad().is_sparse());
    CHECK(sharded.weight.grad().is_coalesced());
    sharded_opt.step();

    reference_opt.zero_grad();
    const Tensor<float> all_diff = reference(all.input, all.offsets, with_weights ? all.weights : none) - all.target;
    (all_diff * all_diff).mean().backward();
    reference_opt.step();
  }
  const Tensor<float> want = reference.weight.detach();
  for (std::int64_t i = 0; i < sharded.local_rows(); ++i)
    CHECK(tg_test::close(sharded.weight.detach()[i], want[i * world + rank], 1e-5, 1e-6));
  const Tensor<float> gathered = sharded.gather_full(0);
  if (rank == 0) CHECK(tg_test::close(gathered, want, 1e-5, 1e-6));
  CHECK(gathered.defined() == (rank == 0));
}

}  // namespace

TEST_CASE("ShardedEmbeddingBag: forward equals EmbeddingBag for sum, mean and max with empty bags",
          "[sharded_embedding_bag]") {
  for (EmbeddingBagMode mode : {EmbeddingBagMode::Sum, EmbeddingBagMode::Mean, EmbeddingBagMode::Max}) {
    INFO("mode " << tg::detail::mode_name(mode));
    check_forward(EmbeddingBagOptions(kRows, kDim).mode(mode), false);
  }
}

TEST_CASE("ShardedEmbeddingBag: per-sample weights and their gradient", "[sharded_embedding_bag]") {
  check_forward(EmbeddingBagOptions(kRows, kDim).mode(EmbeddingBagMode::Sum), true);

  td::ProcessGroup& group = td::default_group();
  const auto o = EmbeddingBagOptions(kRows, kDim).mode(EmbeddingBagMode::Sum).padding_idx(2);
  const Tensor<float> table = full_table(13);
  Sharded sharded = Sharded::from_full(group, table, o);
  const std::vector<Batch> parts = batches_of_all_ranks(group.size(), 14, [](tg::Generator& g) { return random_batch(g, 2); });
  Batch all = concatenate(parts);
  Batch mine = parts[static_cast<std::size_t>(group.rank())];
  mine.weights.requires_grad_(true);
  all.weights.requires_grad_(true);
  (sharded(mine.input, mine.offsets, mine.weights) * mine.target).sum().backward();
  (unsharded(table, o, true)(all.input, all.offsets, all.weights) * all.target).sum().backward();
  std::int64_t first = 0;  // where this rank's indices start in the concatenated batch
  for (int k = 0; k < group.rank(); ++k) first += parts[static_cast<std::size_t>(k)].input.numel();
  CHECK(tg_test::close(mine.weights.grad(), all.weights.grad().narrow(0, first, mine.input.numel()), 0, 0));
}

TEST_CASE("ShardedEmbeddingBag: padding_idx (also negative) in every mode", "[sharded_embedding_bag]") {
  for (EmbeddingBagMode mode : {EmbeddingBagMode::Sum, EmbeddingBagMode::Mean, EmbeddingBagMode::Max}) {
    INFO("mode " << tg::detail::mode_name(mode));
    check_forward(EmbeddingBagOptions(kRows, kDim).mode(mode).padding_idx(6), false);
    check_forward(EmbeddingBagOptions(kRows, kDim).mode(mode).padding_idx(-3), false);
  }
  check_forward(EmbeddingBagOptions(kRows, kDim).mode(EmbeddingBagMode::Sum).padding_idx(1), true);
}

TEST_CASE("ShardedEmbeddingBag: 2-D input", "[sharded_embedding_bag]") {
  for (EmbeddingBagMode mode : {EmbeddingBagMode::Sum, EmbeddingBagMode::Mean, EmbeddingBagMode::Max})
    check_forward(EmbeddingBagOptions(kRows, kDim).mode(mode), false, /*two_d=*/true);
  check_forward(EmbeddingBagOptions(kRows, kDim).mode(EmbeddingBagMode::Sum), true, /*two_d=*/true);
}

TEST_CASE("ShardedEmbeddingBag: include_last_offset, int32 indices, and a rank with no bags",
          "[sharded_embedding_bag]") {
  td::ProcessGroup& group = td::default_group();
  const Tensor<float> table = full_table(31);
  const auto o = EmbeddingBagOptions(kRows, kDim).mode(EmbeddingBagMode::Sum).include_last_offset(true);
  Sharded sharded = Sharded::from_full(group, table, o);
  // Rank 0 looks up rows 22, 0 | 5, 5, 17; every other rank has no bags at all.
  const bool first = group.rank() == 0;
  const Tensor<std::int32_t> input = first ? tg::tensor<std::int32_t>({22, 0, 5, 5, 17}, {5}) : tg::zeros<std::int32_t>({0});
  const Tensor<std::int32_t> offsets = first ? tg::tensor<std::int32_t>({0, 2, 5}, {3}) : tg::zeros<std::int32_t>({1});
  const Tensor<float> got = sharded(input, offsets);
  const Tensor<float> want =
      unsharded(table, o, false)(tg::tensor<std::int64_t>({22, 0, 5, 5, 17}, {5}), tg::tensor<std::int64_t>({0, 2, 5}, {3}));
  if (first) CHECK(tg_test::close(got, want, 0, 0));
  else CHECK(got.shape() == tg::Shape{0, kDim});
}

TEST_CASE("ShardedEmbeddingBag: one step of SGD equals the unsharded step on the concatenated batch",
          "[sharded_embedding_bag]") {
  auto sgd = [](std::vector<Tensor<float>> p) { return tg::optim::SGD<float>(std::move(p), tg::optim::SGDOptions(0.5)); };
  for (EmbeddingBagMode mode : {EmbeddingBagMode::Sum, EmbeddingBagMode::Mean, EmbeddingBagMode::Max}) {
    INFO("mode " << tg::detail::mode_name(mode));
    check_training(EmbeddingBagOptions(kRows, kDim).mode(mode), false, sgd);
    check_training(EmbeddingBagOptions(kRows, kDim).mode(mode).padding_idx(10), false, sgd);
  }
  check_training(EmbeddingBagOptions(kRows, kDim).mode(EmbeddingBagMode::Sum), true, sgd);
}

TEST_CASE("ShardedEmbeddingBag: Adagrad and SparseAdam steps equal the unsharded steps", "[sharded_embedding_bag]") {
  auto adagrad = [](std::vector<Tensor<float>> p) {
    return tg::optim::Adagrad<float>(std::move(p), tg::optim::AdagradOptions(0.3).lr_decay(0.1));
  };
  auto adam = [](std::vector<Tensor<float>> p) {
    return tg::optim::SparseAdam<float>(std::move(p), tg::optim::SparseAdamOptions(0.05));
  };
  for (EmbeddingBagMode mode : {EmbeddingBagMode::Sum, EmbeddingBagMode::Mean, EmbeddingBagMode::Max}) {
    INFO("mode " << tg::detail::mode_name(mode));
    check_training(EmbeddingBagOptions(kRows, kDim).mode(mode).padding_idx(4), false, adagrad);
  }
  // SparseAdam takes sparse gradients only, which the unsharded reference cannot give for mode=max.
  for (EmbeddingBagMode mode : {EmbeddingBagMode::Sum, EmbeddingBagMode::Mean}) {
    INFO("mode " << tg::detail::mode_name(mode));
    check_training(EmbeddingBagOptions(kRows, kDim).mode(mode), false, adam);
  }
  check_training(EmbeddingBagOptions(kRows, kDim).mode(EmbeddingBagMode::Sum).padding_idx(0), true, adam);
}

TEST_CASE("ShardedEmbeddingBag: each rank holds its rows only (about R / N of the table)", "[sharded_embedding_bag]") {
  td::ProcessGroup& group = td::default_group();
  const int world = group.size(), rank = group.rank();
  const std::int64_t rows = 100003, dim = 16;
  Sharded table(group, EmbeddingBagOptions(rows, dim).padding_idx(7));
  CHECK(table.local_rows() == count_owned(rows, world, rank));
  CHECK(table.weight.shape() == tg::Shape{table.local_rows(), dim});
  const auto shard_bytes = table.weight.numel() * static_cast<std::int64_t>(sizeof(float));
  const auto table_bytes = rows * dim * static_cast<std::int64_t>(sizeof(float));
  CHECK(shard_bytes <= (rows + world - 1) / world * dim * static_cast<std::int64_t>(sizeof(float)));
  CHECK(static_cast<double>(shard_bytes) == tg_test::Approx(static_cast<double>(table_bytes) / world).epsilon(1e-3));
  std::int64_t total = shard_bytes;
  group.all_reduce(&total, 1, td::ReduceOp::Sum, "test");
  CHECK(total == table_bytes);
  // parameters() and state_dict() hold the local shard; the padding row is zeroed by its owner.
  CHECK(table.parameters().size() == 1);
  CHECK(table.state_dict().at("weight").shape() == tg::Shape{table.local_rows(), dim});
  for (std::int64_t r : {std::int64_t(0), std::int64_t(1), std::int64_t(7), rows - 1}) CHECK(table.owner_of(r) == r % world);
  if (table.owner_of(7) == rank) CHECK(tg_test::close(table.weight.detach()[7 / world], std::vector<double>(dim, 0.0)));
}

TEST_CASE("ShardedEmbeddingBag: from_full and gather_full round-trip on any root", "[sharded_embedding_bag]") {
  td::ProcessGroup& group = td::default_group();
  const Tensor<float> table = full_table(41);
  Sharded sharded = Sharded::from_full(group, table, EmbeddingBagOptions(kRows, kDim));
  for (int root = 0; root < group.size(); ++root) {
    const Tensor<float> full = sharded.gather_full(root);
    if (group.rank() == root) CHECK(tg_test::close(full, table, 0, 0));
    else CHECK_FALSE(full.defined());
  }
  CHECK_THROWS_AS(sharded.gather_full(group.size()), tg::ValueError);
  CHECK_THROWS_AS(sharded.load_full(tg::zeros<float>({kRows + 1, kDim})), tg::ShapeError);
}

TEST_CASE("ShardedEmbeddingBag: an index out of range on one rank throws IndexError on every rank",
          "[sharded_embedding_bag]") {
  td::ProcessGroup& group = td::default_group();
  const int last = group.size() - 1;
  Sharded sharded = Sharded::from_full(group, full_table(51), EmbeddingBagOptions(kRows, kDim));
  const Tensor<std::int64_t> offsets = tg::tensor<std::int64_t>({0, 2}, {2});
  for (std::int64_t bad : {kRows, std::int64_t(-1)}) {
    const Tensor<std::int64_t> input = tg::tensor<std::int64_t>({1, 2, group.rank() == last ? bad : 3}, {3});
    CHECK_THROWS_AS(sharded(input, offsets), tg::IndexError);
    CHECK_THROWS_WITH(sharded(input, offsets),
                      tg_test::Contains(tg::detail::cat("index ", bad)) && tg_test::Contains("valid range [0, 23)"));
  }
  // Another argument error on one rank (per-sample weights with mode=mean) is a ValueError everywhere.
  const Tensor<std::int64_t> input = tg::tensor<std::int64_t>({1, 2, 3}, {3});
  const Tensor<float> weights = group.rank() == 0 ? tg::ones<float>({3}) : Tensor<float>();
  CHECK_THROWS_AS(sharded(input, offsets, weights), tg::ValueError);
  // Nobody was left in a collective: the group still works.
  CHECK(sharded(input, offsets).shape() == tg::Shape{2, kDim});
}

TEST_CASE("ShardedEmbeddingBag: unsupported options throw ValueError naming them", "[sharded_embedding_bag]") {
  td::ProcessGroup& group = td::default_group();
  CHECK_THROWS_WITH(Sharded(group, EmbeddingBagOptions(5, 2).max_norm(1.0)), tg_test::Contains("max_norm"));
  CHECK_THROWS_AS(Sharded(group, EmbeddingBagOptions(5, 2).max_norm(1.0)), tg::ValueError);
  CHECK_THROWS_WITH(Sharded(group, EmbeddingBagOptions(5, 2).scale_grad_by_freq(true)),
                    tg_test::Contains("scale_grad_by_freq"));
  CHECK_THROWS_AS(Sharded(group, EmbeddingBagOptions(5, 2).scale_grad_by_freq(true)), tg::ValueError);
  CHECK_THROWS_AS(Sharded(group, EmbeddingBagOptions(5, 2).padding_idx(5)), tg::IndexError);
  CHECK_NOTHROW(Sharded(group, EmbeddingBagOptions(5, 2).sparse(true)));  // sparse is implied
}

TEST_CASE("ShardedEmbeddingBag: bytes exchanged by a forward and synchronize_gradients match the count by hand",
          "[sharded_embedding_bag]") {
  td::ProcessGroup& group = td::default_group();
  const int world = group.size(), rank = group.rank();
  const auto o = EmbeddingBagOptions(kRows, kDim).mode(EmbeddingBagMode::Sum).padding_idx(0);
  Sharded sharded = Sharded::from_full(group, full_table(61), o);
  const std::vector<Batch> parts = batches_of_all_ranks(world, 62, [&](tg::Generator& g) { return random_batch(g, 0); });
  // Distinct non-padding rows each rank looks up.
  std::vector<std::set<std::int64_t>> used(static_cast<std::size_t>(world));
  for (int k = 0; k < world; ++k) {
    const Tensor<std::int64_t>& in = parts[static_cast<std::size_t>(k)].input;
    for (std::int64_t i = 0; i < in.numel(); ++i)
      if (in.data()[i] != 0) used[static_cast<std::size_t>(k)].insert(in.data()[i]);
  }
  std::int64_t remote = 0, asked_of_me = 0;  // rows I fetch from others; rows others fetch from me
  for (std::int64_t r : used[static_cast<std::size_t>(rank)]) remote += r % world != rank;
  for (int k = 0; k < world; ++k)
    if (k != rank)
      for (std::int64_t r : used[static_cast<std::size_t>(k)]) asked_of_me += r % world == rank;
  const std::int64_t index = 8, row = kDim * 4, flag = 8;  // int64 index, float row, the 8-byte error flag
  const std::int64_t counts = 8 * (world - 1);  // each all_to_all_v first exchanges one int64 count per peer

  const Batch& mine = parts[static_cast<std::size_t>(rank)];
  group.reset_traffic();
  const Tensor<float> out = sharded(mine.input, mine.offsets);
  td::Traffic t = group.traffic();
  CHECK(t.collectives == 5);  // the error flag, the indices and the rows (each after its counts)
  CHECK(t.bytes_sent == flag + 2 * counts + remote * index + asked_of_me * row);
  CHECK(t.bytes_received == flag + 2 * counts + asked_of_me * index + remote * row);

  out.sum().backward();
  group.reset_traffic();
  sharded.synchronize_gradients();
  t = group.traffic();
  CHECK(t.collectives == 4);  // the row numbers and the gradient rows (each after its counts)
  CHECK(t.bytes_sent == 2 * counts + remote * (index + row));
  CHECK(t.bytes_received == 2 * counts + asked_of_me * (index + row));
}

}  // namespace sharded_embedding_bag_test
