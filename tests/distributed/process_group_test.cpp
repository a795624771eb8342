// SPDX-License-Identifier: MIT
// ProcessGroup: collectives against hand-computed results, and errors that reach every rank.
#include "support/test.hpp"
#include "tapegrad/distributed/environment.hpp"

#include <cstdint>
#include <vector>

namespace process_group_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace td = tapegrad::distributed;

namespace {
// Rank r contributes r + 1 + i at position i; sums, means, maxima and minima follow by hand.
template <class T>
tg::Tensor<T> contribution(int rank, std::int64_t n) {
  tg::Tensor<T> t = tg::empty<T>({n});
  for (std::int64_t i = 0; i < n; ++i) t.data()[i] = static_cast<T>(rank + 1 + i);
  return t;
}
}  // namespace

TEST_CASE("ProcessGroup: rank and size", "[process_group]") {
  td::ProcessGroup& world = td::default_group();
  int mpi_rank = -1, mpi_size = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &mpi_size);
  CHECK(world.rank() == mpi_rank);
  CHECK(world.size() == mpi_size);
  CHECK(td::get_rank() == mpi_rank);
  CHECK(td::get_world_size() == mpi_size);
  CHECK(world.size() >= 2);  // ctest runs this suite with 2 and 4 ranks
}

TEMPLATE_TEST_CASE("ProcessGroup: all_reduce sum, mean, max, min", "[process_group]", float, double, std::int64_t) {
  td::ProcessGroup& world = td::default_group();
  const int n = world.size();
  const std::int64_t count = 5;
  // Sum over r of (r + 1 + i) = n(n + 1)/2 + n·i.
  tg::Tensor<TestType> sum = contribution<TestType>(world.rank(), count);
  world.all_reduce(sum);
  tg::Tensor<TestType> max = contribution<TestType>(world.rank(), count);
  world.all_reduce(max, td::ReduceOp::Max);
  tg::Tensor<TestType> min = contribution<TestType>(world.rank(), count);
  world.all_reduce(min, td::ReduceOp::Min);
  for (std::int64_t i = 0; i < count; ++i) {
    CHECK(sum.data()[i] == static_cast<TestType>(n * (n + 1) / 2 + n * i));
    CHECK(max.data()[i] == static_cast<TestType>(n + i));
    CHECK(min.data()[i] == static_cast<TestType>(1 + i));
  }
  if constexpr (std::is_floating_point_v<TestType>) {
    tg::Tensor<TestType> mean = contribution<TestType>(world.rank(), count);
    world.all_reduce(mean, td::ReduceOp::Mean);
    for (std::int64_t i = 0; i < count; ++i)
      CHECK(mean.data()[i] == tg_test::Approx(static_cast<double>(n + 1) / 2 + static_cast<double>(i)));
  }
}

TEST_CASE("ProcessGroup: all_reduce of an empty and of a 0-d tensor", "[process_group]") {
  td::ProcessGroup& world = td::default_group();
  tg::Tensor<float> nothing = tg::empty<float>({0, 3});
  world.all_reduce(nothing);
  CHECK(nothing.numel() == 0);
  tg::Tensor<float> scalar = tg::full<float>({}, 2.0f);
  world.all_reduce(scalar);
  CHECK(scalar.item() == 2.0f * static_cast<float>(world.size()));
}

TEST_CASE("ProcessGroup: broadcast from every rank", "[process_group]") {
  td::ProcessGroup& world = td::default_group();
  for (int src = 0; src < world.size(); ++src) {
    tg::Tensor<double> t = contribution<double>(world.rank(), 4).reshape({2, 2});
    world.broadcast(t, src);
    CHECK(t.shape() == tg::Shape{2, 2});
    for (std::int64_t i = 0; i < 4; ++i) CHECK(t.data()[i] == static_cast<double>(src + 1 + i));
  }
}

TEST_CASE("ProcessGroup: all_gather returns every rank's tensor in rank order", "[process_group]") {
  td::ProcessGroup& world = td::default_group();
  const std::vector<tg::Tensor<std::int64_t>> all = world.all_gather(contribution<std::int64_t>(world.rank(), 3));
  REQUIRE(all.size() == static_cast<std::size_t>(world.size()));
  for (int r = 0; r < world.size(); ++r)
    for (std::int64_t i = 0; i < 3; ++i) CHECK(all[static_cast<std::size_t>(r)].data()[i] == r + 1 + i);
}

TEST_CASE("ProcessGroup: all_gather_v and all_to_all_v with counts that differ by rank", "[process_group]") {
  td::ProcessGroup& world = td::default_group();
  const int me = world.rank(), n = world.size();
  // Rank r sends r + 1 copies of the value 10·r.
  std::vector<std::int64_t> mine(static_cast<std::size_t>(me + 1), 10 * me);
  std::vector<std::int64_t> counts;
  const std::vector<std::int64_t> gathered =
      world.all_gather_v(mine.data(), static_cast<std::int64_t>(mine.size()), counts, "test");
  std::vector<std::int64_t> expected;
  for (int r = 0; r < n; ++r) expected.insert(expected.end(), static_cast<std::size_t>(r + 1), 10 * r);
  CHECK(gathered == expected);
  REQUIRE(counts.size() == static_cast<std::size_t>(n));
  for (int r = 0; r < n; ++r) CHECK(counts[static_cast<std::size_t>(r)] == r + 1);

  // Rank r sends to rank d the d + r + 1 values 100·r + d; it gets from s the values 100·s + r.
  std::vector<std::int64_t> send_counts, send;
  for (int d = 0; d < n; ++d) {
    send_counts.push_back(d + me + 1);
    send.insert(send.end(), static_cast<std::size_t>(d + me + 1), 100 * me + d);
  }
  std::vector<std::int64_t> recv_counts;
  const std::vector<float> as_float(send.begin(), send.end());
  const std::vector<float> received = world.all_to_all_v(as_float.data(), send_counts, recv_counts, "test");
  std::vector<float> want;
  for (int s = 0; s < n; ++s) want.insert(want.end(), static_cast<std::size_t>(me + s + 1), static_cast<float>(100 * s + me));
  CHECK(received == want);
  for (int s = 0; s < n; ++s) CHECK(recv_counts[static_cast<std::size_t>(s)] == me + s + 1);
}

TEST_CASE("ProcessGroup: traffic counts the payload bytes", "[process_group]") {
  td::ProcessGroup& world = td::default_group();
  world.reset_traffic();
  tg::Tensor<float> t = tg::ones<float>({256});
  world.all_reduce(t);  // a size check (6 int64 values) and the data
  CHECK(world.traffic().collectives == 2);
  CHECK(world.traffic().bytes_sent == 6 * 8 + 256 * 4);
  CHECK(world.traffic().bytes_received == 6 * 8 + 256 * 4);
}

TEST_CASE("ProcessGroup: ranks that pass different sizes get a ShapeError on every rank", "[process_group]") {
  td::ProcessGroup& world = td::default_group();
  tg::Tensor<float> t = tg::ones<float>({3 + world.rank()});
  try {
    world.all_reduce(t);
    FAIL("no error");
  } catch (const tg::ShapeError& e) {
    CHECK_THAT(e.what(), tg_test::Contains("all_reduce: the ranks disagree on the element count: " +
                                           std::to_string(3 + world.rank()) + " on rank " +
                                           std::to_string(world.rank()) + ", between 3 and " +
                                           std::to_string(2 + world.size())));
  }
  // The values were left alone and the group still works.
  CHECK(t.data()[0] == 1.0f);
  tg::Tensor<double> d = tg::ones<double>({2});
  tg::Tensor<float> f = tg::ones<float>({2});
  if (world.rank() == 0) CHECK_THROWS_AS(world.all_reduce(d), tg::ShapeError);  // a type mismatch
  else CHECK_THROWS_AS(world.all_reduce(f), tg::ShapeError);
  world.barrier();
}

TEST_CASE("ProcessGroup: bad arguments are rejected before any message", "[process_group]") {
  td::ProcessGroup& world = td::default_group();
  tg::Tensor<float> t = tg::ones<float>({2});
  CHECK_THROWS_WITH(world.broadcast(t, world.size()),
                    tg_test::Contains("broadcast: src = " + std::to_string(world.size()) +
                                      " is not a rank of this group (valid range [0, " +
                                      std::to_string(world.size() - 1) + "])"));
  CHECK_THROWS_WITH(world.broadcast(t, -1), tg_test::Contains("src = -1"));
  tg::Tensor<float> undefined;
  CHECK_THROWS_AS(world.all_reduce(undefined), tg::ValueError);
  tg::Tensor<float> sparse = tg::detail::make_sparse<float>({4, 2}, tg::zeros<std::int64_t>({1}), tg::ones<float>({1, 2}), true);
  CHECK_THROWS_WITH(world.all_reduce(sparse), tg_test::Contains("needs a dense tensor"));
  std::vector<std::int64_t> counts(static_cast<std::size_t>(world.size() + 1), 0), recv;
  CHECK_THROWS_WITH(world.all_to_all_v(static_cast<const float*>(nullptr), counts, recv, "exchange"),
                    tg_test::Contains("exchange: " + std::to_string(world.size() + 1) + " send counts for a group of " +
                                      std::to_string(world.size()) + " ranks"));
  world.barrier();
}

TEST_CASE("ProcessGroup: a group over a split communicator", "[process_group]") {
  td::ProcessGroup& world = td::default_group();
  MPI_Comm halves = MPI_COMM_NULL;
  MPI_Comm_split(MPI_COMM_WORLD, world.rank() % 2, world.rank(), &halves);
  {
    td::ProcessGroup half(halves);
    CHECK(half.size() == (world.size() + 1 - world.rank() % 2) / 2);
    tg::Tensor<std::int64_t> t = tg::full<std::int64_t>({1}, world.rank());
    half.all_reduce(t);
    std::int64_t want = 0;
    for (int r = world.rank() % 2; r < world.size(); r += 2) want += r;
    CHECK(t.item() == want);
  }
  MPI_Comm_free(&halves);
}

}  // namespace process_group_test
