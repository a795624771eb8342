// SPDX-License-Identifier: MIT
// DistributedDataParallel: N ranks on per-rank batches of b must train exactly as one process on the
// concatenated batch of N·b. Every rank computes that single-process run itself (same seed, same
// data) and compares its replica with it after each step.
#include "support/test.hpp"
#include "tapegrad/distributed/data_parallel.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <unistd.h>
#include <memory>
#include <string>
#include <vector>

namespace data_parallel_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace td = tapegrad::distributed;
namespace nn = tapegrad::nn;
namespace optim = tapegrad::optim;

namespace {

constexpr std::int64_t kVocab = 40, kDim = 6, kClasses = 4, kBagSize = 3, kPerRank = 5;

// Embedding or EmbeddingBag (mean) → Linear, the model of the issue.
struct Model : nn::Module<float> {
  bool bags;
  nn::Embedding<float> embedding;
  nn::EmbeddingBag<float> bag;
  nn::Linear<float> head;
  Model(bool use_bags, bool sparse)
      : bags(use_bags),
        embedding(nn::EmbeddingOptions(kVocab, kDim).sparse(sparse)),
        bag(nn::EmbeddingBagOptions(kVocab, kDim).mode(nn::EmbeddingBagMode::Mean).sparse(sparse)),
        head(kDim, kClasses) {}
  void visit(nn::Visitor<float>& v) override {
    if (bags) v("bag", bag);
    else v("embedding", embedding);
    v("head", head);
  }
  // `tokens` holds kBagSize indices per example.
  tg::Tensor<float> operator()(const tg::Tensor<std::int64_t>& tokens) {
    const std::int64_t examples = tokens.numel() / kBagSize;
    if (bags) return head(bag(tokens.reshape({examples, kBagSize})));
    return head(embedding(tokens.reshape({examples, kBagSize})).mean(1));
  }
};

struct Batch {
  tg::Tensor<std::int64_t> tokens, labels;
};

// The whole batch of a step (identical on every rank) and this rank's share of it.
Batch global_batch(tg::Generator& gen, int world) {
  const std::int64_t n = kPerRank * world;
  return {tg::randint<std::int64_t>(0, kVocab, {n * kBagSize}, gen), tg::randint<std::int64_t>(0, kClasses, {n}, gen)};
}
Batch share(const Batch& all, int rank) {
  const std::int64_t first = rank * kPerRank;
  return {all.tokens.narrow(0, first * kBagSize, kPerRank * kBagSize), all.labels.narrow(0, first, kPerRank)};
}

using Optimizers = std::vector<std::unique_ptr<optim::Optimizer<float>>>;
using MakeOptimizers = std::function<Optimizers(Model&)>;

template <class O, class Options>
Optimizers one(std::vector<tg::Tensor<float>> params, Options options) {
  Optimizers out;
  out.push_back(std::make_unique<O>(std::move(params), options));
  return out;
}

// Largest |a - b| / (1 + |b|) over every parameter.
double max_difference(Model& a, Model& b) {
  double worst = 0;
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  for (std::size_t k = 0; k < pa.size(); ++k)
    for (std::int64_t i = 0; i < pa[k].second.numel(); ++i) {
      const double x = pa[k].second.data()[i], y = pb[k].second.data()[i];
      worst = std::max(worst, std::abs(x - y) / (1 + std::abs(y)));
    }
  return worst;
}

void check_equivalence(bool bags, bool sparse, const MakeOptimizers& make) {
  td::ProcessGroup& world = td::default_group();
  tg::manual_seed(1234);
  Model single(bags, sparse);  // what rank 0 draws, since the seed below is 1234 + rank
  tg::manual_seed(1234 + static_cast<std::uint64_t>(world.rank()));
  Model replica(bags, sparse);
  td::DistributedDataParallel<float> ddp(replica, world);
  CHECK(max_difference(replica, single) == 0.0);  // rank 0's parameters everywhere

  Optimizers single_opt = make(single), replica_opt = make(replica);
  tg::Generator data(99);
  for (int step = 0; step < 4; ++step) {
    const Batch all = global_batch(data, world.size());
    for (auto& o : single_opt) o->zero_grad();
    tg::cross_entropy(single(all.tokens), all.labels).backward();
    for (auto& o : single_opt) o->step();

    const Batch mine = share(all, world.rank());
    for (auto& o : replica_opt) o->zero_grad();
    ddp.backward(tg::cross_entropy(replica(mine.tokens), mine.labels));
    if (sparse) CHECK(replica.named_parameters()[0].second.grad().is_sparse());
    for (auto& o : replica_opt) o->step();
    CHECK(max_difference(replica, single) < 1e-5);
  }
}

}  // namespace

TEST_CASE("DistributedDataParallel: rank 0's parameters reach every rank", "[data_parallel]") {
  td::ProcessGroup& world = td::default_group();
  tg::manual_seed(static_cast<std::uint64_t>(world.rank()));
  nn::Linear<float> linear(3, 2);
  tg::manual_seed(0);
  const nn::Linear<float> rank0(3, 2);
  td::DistributedDataParallel<float> ddp(linear, world);
  CHECK(tg_test::close(linear.weight, rank0.weight));
  CHECK(tg_test::close(linear.bias, rank0.bias));
}

TEST_CASE("DistributedDataParallel: dense Embedding -> Linear equals one process on N times the batch",
          "[data_parallel]") {
  SECTION("SGD") { check_equivalence(false, false, [](Model& m) { return one<optim::SGD<float>>(m.parameters(), optim::SGDOptions(0.5)); }); }
  SECTION("SGD with momentum, Nesterov and weight decay") {
    check_equivalence(false, false, [](Model& m) {
      return one<optim::SGD<float>>(m.parameters(), optim::SGDOptions(0.2).momentum(0.9).nesterov(true).weight_decay(1e-3));
    });
  }
  SECTION("Adam") { check_equivalence(false, false, [](Model& m) { return one<optim::Adam<float>>(m.parameters(), optim::AdamOptions(0.05)); }); }
  SECTION("AdamW") { check_equivalence(false, false, [](Model& m) { return one<optim::AdamW<float>>(m.parameters(), optim::AdamWOptions(0.05)); }); }
  SECTION("Adagrad") { check_equivalence(false, false, [](Model& m) { return one<optim::Adagrad<float>>(m.parameters(), optim::AdagradOptions(0.3)); }); }
  SECTION("RMSprop") { check_equivalence(false, false, [](Model& m) { return one<optim::RMSprop<float>>(m.parameters(), optim::RMSpropOptions(0.01)); }); }
}

TEST_CASE("DistributedDataParallel: dense EmbeddingBag -> Linear equals one process on N times the batch",
          "[data_parallel]") {
  SECTION("SGD") { check_equivalence(true, false, [](Model& m) { return one<optim::SGD<float>>(m.parameters(), optim::SGDOptions(0.5)); }); }
  SECTION("Adam") { check_equivalence(true, false, [](Model& m) { return one<optim::Adam<float>>(m.parameters(), optim::AdamOptions(0.05)); }); }
  SECTION("AdamW") { check_equivalence(true, false, [](Model& m) { return one<optim::AdamW<float>>(m.parameters(), optim::AdamWOptions(0.05)); }); }
  SECTION("Adagrad") { check_equivalence(true, false, [](Model& m) { return one<optim::Adagrad<float>>(m.parameters(), optim::AdagradOptions(0.3)); }); }
  SECTION("RMSprop") { check_equivalence(true, false, [](Model& m) { return one<optim::RMSprop<float>>(m.parameters(), optim::RMSpropOptions(0.01)); }); }
}

TEST_CASE("DistributedDataParallel: sparse Embedding and EmbeddingBag exchange rows and equal one process",
          "[data_parallel]") {
  const bool bags = GENERATE(false, true);
  SECTION("SGD") { check_equivalence(bags, true, [](Model& m) { return one<optim::SGD<float>>(m.parameters(), optim::SGDOptions(0.5)); }); }
  SECTION("SGD with momentum") {
    check_equivalence(bags, true, [](Model& m) { return one<optim::SGD<float>>(m.parameters(), optim::SGDOptions(0.2).momentum(0.9)); });
  }
  SECTION("Adagrad") { check_equivalence(bags, true, [](Model& m) { return one<optim::Adagrad<float>>(m.parameters(), optim::AdagradOptions(0.3)); }); }
  SECTION("SparseAdam on the table, Adam on the head") {
    check_equivalence(bags, true, [](Model& m) {
      Optimizers out = one<optim::SparseAdam<float>>({m.named_parameters()[0].second}, optim::SparseAdamOptions(0.05));
      out.push_back(std::make_unique<optim::Adam<float>>(m.head.parameters(), optim::AdamOptions(0.05)));
      return out;
    });
  }
  SECTION("Adam with lazy_sparse") {
    check_equivalence(bags, true, [](Model& m) { return one<optim::Adam<float>>(m.parameters(), optim::AdamOptions(0.05).lazy_sparse(true)); });
  }
}

TEST_CASE("DistributedDataParallel: sparse gradients travel as rows, not as the table", "[data_parallel]") {
  td::ProcessGroup& world = td::default_group();
  nn::Embedding<float> table(nn::EmbeddingOptions(100000, 8).sparse(true));
  td::DistributedDataParallel<float> ddp(table, world);
  // Rank r looks up rows r and 1000 + r: two rows of 8 floats.
  const tg::Tensor<std::int64_t> rows = tg::tensor<std::int64_t>({world.rank(), 1000 + world.rank()});
  world.reset_traffic();
  ddp.backward(table(rows).sum());
  const tg::Tensor<float> g = table.weight.grad();
  REQUIRE(g.is_sparse());
  CHECK(g.is_coalesced());
  CHECK(g.indices().numel() == 2 * world.size());
  for (std::int64_t i = 0; i < g.values().numel(); ++i) CHECK(g.values().data()[i] == 1.0f / static_cast<float>(world.size()));
  // Sent: the kinds check (2 int64), then twice a row count (1 int64) and the data: 2 indices, 16 values.
  const std::int64_t peers = world.size() - 1;
  CHECK(world.traffic().bytes_sent == 2 * 8 + (8 + 2 * 8) + (8 + 16 * 4));
  CHECK(world.traffic().bytes_received == 2 * 8 + peers * (8 + 2 * 8) + peers * (8 + 16 * 4));
}

TEST_CASE("DistributedDataParallel: a parameter unused on some ranks counts as zero there", "[data_parallel]") {
  td::ProcessGroup& world = td::default_group();
  tg::manual_seed(5);
  nn::Embedding<float> table(nn::EmbeddingOptions(4, 2));
  td::DistributedDataParallel<float> ddp(table, world);
  // Only rank 0 uses the table.
  if (world.rank() == 0) table(tg::tensor<std::int64_t>({1})).sum().backward();
  ddp.synchronize_gradients();
  const tg::Tensor<float> g = table.weight.grad();
  REQUIRE(g.defined());
  const float share = 1.0f / static_cast<float>(world.size());
  CHECK(tg_test::close(g, {0, 0, share, share, 0, 0, 0, 0}, {4, 2}));
  // A step where nobody used it leaves no gradient.
  table.zero_grad(true);
  ddp.synchronize_gradients();
  CHECK_FALSE(table.weight.grad().defined());
}

TEST_CASE("DistributedDataParallel: models that differ between ranks are refused on every rank", "[data_parallel]") {
  td::ProcessGroup& world = td::default_group();
  nn::Linear<float> linear(3, world.rank() == 0 ? 2 : 3);
  CHECK_THROWS_AS(td::DistributedDataParallel<float>(linear, world), tg::ShapeError);
  nn::Linear<float> same(3, 2);
  CHECK_THROWS_WITH(td::DistributedDataParallel<float>(same, world, td::DistributedDataParallelOptions().bucket_cap_mb(0)),
                    tg_test::Contains("bucket_cap_mb = 0 must be positive"));
  world.barrier();
}

TEST_CASE("DistributedDataParallel: small buckets give the same gradients as one bucket", "[data_parallel]") {
  td::ProcessGroup& world = td::default_group();
  tg::manual_seed(3);
  nn::Linear<float> a(20, 30), b(20, 30);
  b.weight = a.weight.detach().clone();
  b.bias = a.bias.detach().clone();
  td::DistributedDataParallel<float> one_bucket(a, world);
  td::DistributedDataParallel<float> many(b, world, td::DistributedDataParallelOptions().bucket_cap_mb(100.0 * 4 / (1024 * 1024)));
  tg::Generator gen(static_cast<std::uint64_t>(world.rank()));
  const tg::Tensor<float> x = tg::randn<float>({4, 20}, gen);
  one_bucket.backward(a(x).pow(2.0f).sum());
  many.backward(b(x).pow(2.0f).sum());
  CHECK(tg_test::close(a.weight.grad(), b.weight.grad()));
  CHECK(tg_test::close(a.bias.grad(), b.bias.grad()));
}

TEST_CASE("DistributedDataParallel: a checkpoint written by rank 0 resumes bit for bit", "[data_parallel]") {
  td::ProcessGroup& world = td::default_group();
  // One file for the job: rank 0 picks the name (its pid) and tells the others.
  tg::Tensor<std::int64_t> id = tg::full<std::int64_t>({1}, static_cast<std::int64_t>(::getpid()));
  world.broadcast(id, 0);
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("tapegrad_ddp_" + std::to_string(id.item()) + ".safetensors");

  auto train = [&](Model& model, optim::Adam<float>& opt, td::DistributedDataParallel<float>& ddp, tg::Generator& data,
                   int from, int to, tg::io::Checkpoint<float>* checkpoint, int save_at) {
    for (int step = from; step < to; ++step) {
      if (checkpoint && step == save_at) {
        if (world.rank() == 0) checkpoint->step(step).save(path);
        world.barrier();
      }
      const Batch mine = share(global_batch(data, world.size()), world.rank());
      opt.zero_grad();
      ddp.backward(tg::cross_entropy(model(mine.tokens), mine.labels));
      opt.step();
    }
  };

  tg::manual_seed(7);
  Model straight(true, false);
  td::DistributedDataParallel<float> ddp_straight(straight, world);
  optim::Adam<float> opt_straight(straight.parameters(), optim::AdamOptions(0.05));
  tg::Generator data(11);
  tg::io::Checkpoint<float> saver;
  saver.model(straight).optimizer(opt_straight).generator(&data);
  train(straight, opt_straight, ddp_straight, data, 0, 6, &saver, 3);

  tg::manual_seed(8);  // a different start, replaced by the checkpoint
  Model resumed(true, false);
  optim::Adam<float> opt_resumed(resumed.parameters(), optim::AdamOptions(0.05));
  tg::Generator data_resumed(0);
  tg::io::Checkpoint<float> loader;
  loader.model(resumed).optimizer(opt_resumed).generator(&data_resumed);
  loader.load(path);  // every rank reads rank 0's file
  CHECK(loader.step() == 3);
  td::DistributedDataParallel<float> ddp_resumed(resumed, world);
  train(resumed, opt_resumed, ddp_resumed, data_resumed, 3, 6, nullptr, -1);

  const auto a = straight.named_parameters(), b = resumed.named_parameters();
  for (std::size_t k = 0; k < a.size(); ++k)
    CHECK(std::memcmp(a[k].second.data(), b[k].second.data(), sizeof(float) * static_cast<std::size_t>(a[k].second.numel())) == 0);
  world.barrier();
  if (world.rank() == 0) std::filesystem::remove(path);
}

}  // namespace data_parallel_test
