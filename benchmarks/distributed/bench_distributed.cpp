// SPDX-License-Identifier: MIT
// Data-parallel training and sharded tables over MPI: per-step time, bytes per step per rank and
// table memory per rank, at whatever world size mpirun gives (run.sh runs 1, 2 and 4 ranks).
//
// 1. The end-to-end model (Embedding(10000, 64) -> mean over 16 tokens -> Linear(64, 2) ->
//    cross_entropy -> SGD) under DistributedDataParallel, dense and sparse gradients.
// 2. Bytes each rank sends per step: the payload (ProcessGroup::traffic()), the wire bytes (Open MPI's
//    pml monitoring, or over TCP the kernel's count: see WireCounter), and the cost model's figure.
// 3. ShardedEmbeddingBag: the shard's bytes and the resident memory building it added, per rank,
//    and a training step (forward, backward, synchronize_gradients, SGD) at 256 bags of 16.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <tapegrad/distributed/data_parallel.hpp>
#include <tapegrad/distributed/sharded_embedding_bag.hpp>
#include <tapegrad/tapegrad.hpp>

#include "../harness.hpp"

namespace tg = tapegrad;
namespace td = tapegrad::distributed;
namespace nn = tapegrad::nn;

namespace {

constexpr std::int64_t kVocab = 10000, kDim = 64, kTokens = 16, kClasses = 2;
constexpr float kLr = 0.1f;
constexpr std::int64_t kLinearFloats = kDim * kClasses + kClasses;   // the Linear's weight and bias
constexpr std::int64_t kDenseFloats = kVocab * kDim + kLinearFloats;  // P, every parameter
constexpr std::int64_t kKindsBytes = 2 * 3 * 8;  // DDP's per-step agreement on 3 gradients' kinds (int64)

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  double size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

// Bytes one rank sends in Open MPI 4.1's non-blocking all-reduce (libnbc) of `bytes` bytes, which
// ProcessGroup calls with separate send and receive buffers. From 4 ranks and 64 KiB up it takes a
// ring: a reduce-scatter and an all-gather of N segments, 2(N - 1) segments of bytes / N sent per
// rank. Otherwise a binomial tree: a reduce towards rank 0 (every rank but 0 sends the whole buffer
// once) and a binomial broadcast (one whole buffer per child).
double allreduce_sent_bytes(int rank, int world, double bytes) {
  if (world >= 4 && bytes >= 65536) return 2.0 * (world - 1) * bytes / world;
  int sends = rank == 0 ? 0 : 1;
  for (int step = 1; step < world; step <<= 1)
    if (rank < step && rank + step < world) ++sends;
  return sends * bytes;
}

// Bytes this rank has put on the wire. Preferably Open MPI's pml monitoring (every point-to-point
// message the collectives are made of), read through the MPI tool interface: it needs the job to run
// with --mca pml_monitoring_enable 1, and Open MPI 4.1 drops the monitoring layer while loading it
// (open-mpi/ompi#9260: the pvar pml_monitoring_messages_size is never registered). Otherwise, when
// the job runs over TCP only (--mca btl self,tcp), the kernel's count of the bytes this process wrote
// (/proc/self/io wchar): the messages with Open MPI's fragment headers, as the sockets carried them.
class WireCounter {
 public:
  WireCounter() {
    if (start_monitoring()) source_ = "Open MPI pml monitoring (MPI_T pvar pml_monitoring_messages_size)";
    else if (tcp_only()) source_ = "bytes written to TCP sockets (/proc/self/io wchar; the job runs with --mca btl self,tcp)";
  }
  WireCounter(const WireCounter&) = delete;
  WireCounter& operator=(const WireCounter&) = delete;
  ~WireCounter() {
    if (handle_ != MPI_T_PVAR_HANDLE_NULL) MPI_T_pvar_handle_free(session_, &handle_);
    if (session_ != MPI_T_PVAR_SESSION_NULL) MPI_T_pvar_session_free(&session_);
    if (tool_interface_) MPI_T_finalize();
  }

  bool available() const noexcept { return !source_.empty(); }
  const std::string& source() const noexcept { return source_; }

  /// Bytes sent so far (0 when unavailable).
  double sent() {
    if (!per_peer_.empty()) {
      if (MPI_T_pvar_read(session_, handle_, per_peer_.data()) != MPI_SUCCESS) return 0;
      double total = 0;
      for (unsigned long long bytes : per_peer_) total += static_cast<double>(bytes);
      return total;
    }
    if (!available()) return 0;
    std::ifstream io("/proc/self/io");
    std::string key;
    double value = 0;
    while (io >> key >> value)
      if (key == "wchar:") return value;
    return 0;
  }

 private:
  bool start_monitoring() {
    int provided = 0, index = 0, count = 0;
    if (MPI_T_init_thread(MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS) return false;
    tool_interface_ = true;
    if (MPI_T_pvar_get_index("pml_monitoring_messages_size", MPI_T_PVAR_CLASS_SIZE, &index) != MPI_SUCCESS) return false;
    if (MPI_T_pvar_session_create(&session_) != MPI_SUCCESS) return false;
    MPI_Comm world = MPI_COMM_WORLD;  // counts are per peer, over every communicator
    if (MPI_T_pvar_handle_alloc(session_, index, &world, &handle_, &count) != MPI_SUCCESS || count <= 0) return false;
    const int started = MPI_T_pvar_start(session_, handle_);  // a continuous variable cannot be started
    if (started != MPI_SUCCESS && started != MPI_T_ERR_PVAR_NO_STARTSTOP) return false;
    per_peer_.resize(static_cast<std::size_t>(count));
    return true;
  }

  static bool tcp_only() {
    const char* btl = std::getenv("OMPI_MCA_btl");
    return btl && (std::string(btl) == "self,tcp" || std::string(btl) == "tcp,self");
  }

  std::string source_;
  bool tool_interface_ = false;
  MPI_T_pvar_session session_ = MPI_T_PVAR_SESSION_NULL;
  MPI_T_pvar_handle handle_ = MPI_T_PVAR_HANDLE_NULL;
  std::vector<unsigned long long> per_peer_;
};

// What one rank measured in one configuration; rank 0 gathers every rank's and prints one line.
struct Measured {
  double step = 0, compute = 0, exchange = 0;  // medians over the measured steps, seconds
  double payload = 0, wire = 0, model = 0;     // bytes this rank sent per step
};

// Times `steps` calls of `step` (after `warmup`), each after a barrier so that every rank starts
// together; `step` fills its own compute/exchange seconds. Bytes: traffic() of the last step, and
// the wire counter's difference over the measured steps.
template <class Step>
Measured measure(td::ProcessGroup& world, WireCounter& wire, int warmup, int steps, Step&& step) {
  for (int i = 0; i < warmup; ++i) {
    double compute = 0, exchange = 0;
    step(compute, exchange);
  }
  std::vector<double> total, compute, exchange;
  world.barrier();
  const double wire_before = wire.sent();
  for (int i = 0; i < steps; ++i) {
    world.barrier();
    world.reset_traffic();
    double c = 0, x = 0;
    const double t0 = bench::now_seconds();
    step(c, x);
    total.push_back(bench::now_seconds() - t0);
    compute.push_back(c);
    exchange.push_back(x);
  }
  Measured m;
  m.payload = static_cast<double>(world.traffic().bytes_sent);
  m.wire = (wire.sent() - wire_before) / steps;
  m.step = median(total), m.compute = median(compute), m.exchange = median(exchange);
  return m;
}

// Every rank's `mine` (the same count on every rank), in rank order: a collective.
std::vector<std::vector<double>> gather_values(td::ProcessGroup& world, const std::vector<double>& mine) {
  std::vector<std::int64_t> counts;
  const std::vector<double> all = world.all_gather_v(mine.data(), static_cast<std::int64_t>(mine.size()), counts, "bench_distributed");
  std::vector<std::vector<double>> out;
  for (auto at = all.begin(); at != all.end(); at += static_cast<std::ptrdiff_t>(mine.size())) out.emplace_back(at, at + static_cast<std::ptrdiff_t>(mine.size()));
  return out;
}

std::vector<Measured> gather(td::ProcessGroup& world, const Measured& m) {
  std::vector<Measured> out;
  for (const auto& v : gather_values(world, {m.step, m.compute, m.exchange, m.payload, m.wire, m.model}))
    out.push_back({v[0], v[1], v[2], v[3], v[4], v[5]});
  return out;
}

std::string bytes_text(double b) {
  char text[32];
  if (b >= 1e6) std::snprintf(text, sizeof text, "%.3f MB", b / 1e6);
  else std::snprintf(text, sizeof text, "%.1f kB", b / 1e3);
  return text;
}

// "wire  model  ratio" columns: means over ranks, and the per-rank range of measured / model.
void print_bytes(const std::vector<Measured>& ranks, bool wire_available) {
  double payload = 0, wire = 0, model = 0, low = 1e300, high = 0;
  for (const Measured& m : ranks) {
    payload += m.payload / static_cast<double>(ranks.size());
    wire += m.wire / static_cast<double>(ranks.size());
    model += m.model / static_cast<double>(ranks.size());
    if (m.model > 0) low = std::min(low, m.wire / m.model), high = std::max(high, m.wire / m.model);
  }
  std::printf(" %11s", bytes_text(payload).c_str());
  if (!wire_available) return (void)std::printf("  wire bytes: n/a\n");
  std::printf(" %11s %11s", bytes_text(wire).c_str(), bytes_text(model).c_str());
  if (model > 0) std::printf("  %5.3f (%.3f..%.3f)\n", wire / model, low, high);
  else std::printf("  -\n");
}

std::vector<std::int64_t> uniform_indices(std::int64_t high, std::int64_t n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<std::int64_t> pick(0, high - 1);
  std::vector<std::int64_t> out(static_cast<std::size_t>(n));
  for (auto& i : out) i = pick(gen);
  return out;
}

// ---- 1 and 2: the end-to-end model under DistributedDataParallel --------------------------------

struct Model : nn::Module<float> {
  nn::Embedding<float> embedding;
  nn::Linear<float> head{kDim, kClasses};
  explicit Model(bool sparse) : embedding(nn::EmbeddingOptions(kVocab, kDim).sparse(sparse)) {}
  void visit(nn::Visitor<float>& v) override { v("embedding", embedding), v("head", head); }
  tg::Tensor<float> operator()(const tg::Tensor<std::int64_t>& tokens) { return head(embedding(tokens).mean(1)); }
};

void run_data_parallel(td::ProcessGroup& world, WireCounter& wire, std::int64_t batch, bool sparse) {
  const int n = world.size(), rank = world.rank();
  Model model(sparse);
  td::DistributedDataParallel<float> ddp(model, world);
  tg::optim::SGD<float> sgd(model.parameters(), tg::optim::SGDOptions(kLr));
  // This rank's share of the batch: the same every step, different on every rank.
  const auto seed = static_cast<std::uint64_t>(100 + rank);
  const auto tokens = tg::tensor<std::int64_t>(uniform_indices(kVocab, batch * kTokens, seed), {batch, kTokens});
  const auto labels = tg::tensor<std::int64_t>(uniform_indices(kClasses, batch, seed + 50), {batch});

  std::int64_t nnz = 0;  // rows of this rank's sparse embedding gradient
  auto step = [&](double& compute, double& exchange) {
    const double t0 = bench::now_seconds();
    sgd.zero_grad();
    tg::cross_entropy(model(tokens), labels).backward();
    if (sparse) nnz = model.embedding.weight.grad().indices().numel();
    const double t1 = bench::now_seconds();
    ddp.synchronize_gradients();
    const double t2 = bench::now_seconds();
    sgd.step();
    compute = (t1 - t0) + (bench::now_seconds() - t2), exchange = t2 - t1;
  };
  const int steps = bench::quick() ? 3 : batch >= 256 ? 30 : 60;
  Measured m = measure(world, wire, bench::quick() ? 1 : 5, steps, step);

  // The cost model of what this rank sends (docs/design.md): both first agree on the gradients'
  // kinds (a small all-reduce); dense, every gradient in one bucket through the all-reduce; sparse,
  // the rows and values with all_gather_v (each rank sends its nnz rows to each of the n - 1 others,
  // after an 8-byte count exchange each) and the Linear's gradients through the all-reduce.
  const double kinds = allreduce_sent_bytes(rank, n, kKindsBytes);
  m.model = sparse ? static_cast<double>((n - 1) * (nnz * (8 + 4 * kDim) + 2 * 8)) +
                         allreduce_sent_bytes(rank, n, 4 * kLinearFloats) + kinds
                   : allreduce_sent_bytes(rank, n, 4 * kDenseFloats) + kinds;
  const std::vector<Measured> ranks = gather(world, m);
  if (rank != 0) return;
  double step_time = 0, compute = 0, exchange = 0;  // the slowest rank's step, the mean split
  for (const Measured& r : ranks) {
    step_time = std::max(step_time, r.step);
    compute += r.compute / n, exchange += r.exchange / n;
  }
  std::printf("%-7s %5d %6lld %10.3f %10.3f %10.3f %10.0f", sparse ? "sparse" : "dense", n, static_cast<long long>(batch),
              step_time * 1e3, compute * 1e3, exchange * 1e3, static_cast<double>(n * batch) / step_time);
  print_bytes(ranks, wire.available());
}

// ---- 3: ShardedEmbeddingBag: memory per rank and a training step ---------------------------------

void run_sharded(td::ProcessGroup& world, WireCounter& wire, std::int64_t rows) {
  constexpr std::int64_t kBags = 256;
  const int n = world.size(), rank = world.rank();
  {  // first a small table, so that one-time allocations (pools, generator state) are not counted
    nn::ShardedEmbeddingBag<float> warmup(world, nn::EmbeddingBagOptions(1000, kDim));
  }
  world.barrier();
  const double rss_before = resident_bytes();
  nn::ShardedEmbeddingBag<float> table(world, nn::EmbeddingBagOptions(rows, kDim));  // mode mean
  const double rss_added = resident_bytes() - rss_before;
  const double shard = static_cast<double>(table.weight.numel() * 4);
  tg::optim::SGD<float> sgd(table.parameters(), tg::optim::SGDOptions(kLr));

  // Every rank's batch (seeded by rank), so each can count exactly what the others ask it for.
  std::vector<std::set<std::int64_t>> distinct(static_cast<std::size_t>(n));
  for (int r = 0; r < n; ++r)
    for (std::int64_t i : uniform_indices(rows, kBags * kTokens, static_cast<std::uint64_t>(500 + r)))
      distinct[static_cast<std::size_t>(r)].insert(i);
  const auto input = tg::tensor<std::int64_t>(uniform_indices(rows, kBags * kTokens, static_cast<std::uint64_t>(500 + rank)),
                                              {kBags, kTokens});

  auto step = [&](double& compute, double& exchange) {
    const double t0 = bench::now_seconds();
    sgd.zero_grad();
    const tg::Tensor<float> y = table(input);  // includes the exchange of indices and rows
    (y * y).mean().backward();
    const double t1 = bench::now_seconds();
    table.synchronize_gradients();
    const double t2 = bench::now_seconds();
    sgd.step();
    compute = (t1 - t0) + (bench::now_seconds() - t2), exchange = t2 - t1;
  };
  Measured m = measure(world, wire, bench::quick() ? 1 : 3, bench::quick() ? 3 : 30, step);

  // Cost model: the forward asks each owner for the distinct rows it holds (8 B each) and answers
  // the others' requests with rows (4D B each); synchronize_gradients sends each row's index and
  // gradient back to its owner (8 + 4D B); four all_to_all count exchanges (8 B per peer) and the
  // 8-byte argument check (binomial all-reduce).
  std::int64_t asked_of_others = 0, asked_of_me = 0;
  for (int r = 0; r < n; ++r)
    for (std::int64_t row : distinct[static_cast<std::size_t>(r)]) {
      const int owner = table.owner_of(row);
      if (r == rank && owner != rank) ++asked_of_others;
      if (r != rank && owner == rank) ++asked_of_me;
    }
  m.model = static_cast<double>(asked_of_others * (8 + 8 + 4 * kDim) + asked_of_me * 4 * kDim + 4 * 8 * (n - 1) +
                                allreduce_sent_bytes(rank, n, 8));
  const std::vector<Measured> ranks = gather(world, m);
  const std::vector<std::vector<double>> memory = gather_values(world, {shard, rss_added});  // bytes
  if (rank != 0) return;
  const double expected = static_cast<double>(rows * kDim * 4) / n;
  double shard_mean = 0, rss_low = 1e300, rss_high = 0, step_time = 0, compute = 0, exchange = 0;
  for (const auto& r : memory) {
    shard_mean += r[0] / n;
    rss_low = std::min(rss_low, r[1]), rss_high = std::max(rss_high, r[1]);
  }
  for (const Measured& r : ranks) {
    step_time = std::max(step_time, r.step);
    compute += r.compute / n, exchange += r.exchange / n;
  }
  std::printf("memory  %5d %9lld %12.2f %12.2f %9.2f..%-9.2f %6.3f..%.3f\n", n, static_cast<long long>(rows),
              expected / 1e6, shard_mean / 1e6, rss_low / 1e6, rss_high / 1e6, rss_low / expected, rss_high / expected);
  std::printf("\nkind    ranks         R    step ms compute ms exchange ms     bags/s     payload        wire       model  ratio\n");
  std::printf("step    %5d %9lld %9.3f %10.3f %11.3f %10.0f", n, static_cast<long long>(rows), step_time * 1e3,
              compute * 1e3, exchange * 1e3, static_cast<double>(n * kBags) / step_time);
  print_bytes(ranks, wire.available());
}

void print_header(td::ProcessGroup& world, WireCounter& wire) {
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(version, &length);
  std::string mpi(version, static_cast<std::size_t>(length));
  mpi = mpi.substr(0, mpi.find_first_of(",\n"));
  const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  const char* blas_threads = std::getenv("OPENBLAS_NUM_THREADS");
  std::printf("== bench_distributed: %d rank%s, one process per rank; %s; %ld cores; OPENBLAS_NUM_THREADS=%s\n",
              world.size(), world.size() == 1 ? "" : "s", mpi.c_str(), cores, blas_threads ? blas_threads : "unset");
  if (world.size() > cores)
    std::printf("OVERSUBSCRIBED: %d ranks share %ld cores, so times at this world size include time-slicing\n",
                world.size(), cores);
  if (bench::quick()) std::printf("quick mode (TAPEGRAD_BENCH_QUICK): smoke-test sizes and timings, not for reporting\n");
  std::printf("wire bytes: %s\n", wire.available() ? wire.source().c_str()
                                                   : "n/a (run with --mca pml_monitoring_enable 1, or --mca btl self,tcp)");
  std::printf("bytes are per step per rank (mean over ranks); ratio = wire / model, mean (per-rank range)\n");
}

}  // namespace

int main(int argc, char** argv) {
  return td::run(argc, argv, [](td::ProcessGroup& world) {
    WireCounter wire;
    if (world.rank() == 0) print_header(world, wire);

    if (world.rank() == 0) {
      std::printf("\n-- DistributedDataParallel: Embedding(10000, 64) -> mean(16) -> Linear(64, 2) -> cross_entropy -> SGD\n");
      std::printf("   step: median step time of the slowest rank; compute (fwd+bwd+SGD) and exchange (synchronize_gradients)\n");
      std::printf("   are means over ranks of per-rank medians; exchange includes waiting for slower ranks\n");
      std::printf("grads   ranks batch/r   step ms compute ms exchange ms  samples/s     payload        wire       model  ratio\n");
    }
    for (std::int64_t batch : {32, 256})
      for (bool sparse : {false, true}) run_data_parallel(world, wire, batch, sparse);

    const std::int64_t rows = bench::quick() ? 100000 : 1000000;
    if (world.rank() == 0) {
      std::printf("\n-- ShardedEmbeddingBag(R, 64), mean bags: memory per rank (R*64*4/N expected) and a step at 256 bags of 16\n");
      std::printf("   memory: expected MB, shard MB (mean), resident-memory increase while building it MB (min..max over ranks)\n");
      std::printf("   step: forward+backward+SGD (with the row exchange) and synchronize_gradients, as above\n");
      std::printf("kind    ranks         R  expected MB     shard MB   RSS added MB (range)  RSS/expected\n");
    }
    run_sharded(world, wire, rows);
  });
}
