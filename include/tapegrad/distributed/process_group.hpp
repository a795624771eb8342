// SPDX-License-Identifier: MIT
// Process groups over MPI: ranks, collectives on tensors, and failures that reach every rank.
//
// The only header of the library that includes <mpi.h> besides the other distributed/ headers; the
// core knows nothing of MPI. Link with tapegrad::mpi (CMake) or build with mpicxx.
#pragma once

// Open MPI's and MPICH's deprecated C++ bindings are not used (and do not compile warning-free).
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapegrad/error.hpp"
#include "tapegrad/factories.hpp"
#include "tapegrad/tensor.hpp"

namespace tapegrad::distributed {

/// A collective could not complete: MPI reported an error, or the group is unusable after an
/// earlier failure. Thrown on the rank that sees it.
class DistributedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A collective did not complete within the group's timeout (some rank never joined it).
class TimeoutError : public DistributedError {
 public:
  using DistributedError::DistributedError;
};

/// Another rank failed (threw, timed out, or aborted its step); `rank()` names it. Every other rank
/// gets this from its next (or current) collective instead of waiting forever.
class PeerError : public DistributedError {
 public:
  PeerError(int failed_rank, const std::string& message) : DistributedError(message), rank_(failed_rank) {}
  int rank() const noexcept { return rank_; }

 private:
  int rank_;
};

/// How all_reduce combines the ranks' values (torch.distributed.ReduceOp: SUM, AVG, MAX, MIN).
enum class ReduceOp { Sum, Mean, Max, Min };

/// Options of a process group.
struct ProcessGroupOptions {
  /// How long a collective may wait for the other ranks before it throws TimeoutError
  /// (PyTorch's default: 30 minutes).
  ProcessGroupOptions& timeout(std::chrono::milliseconds v) { return timeout_ = v, *this; }
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }
  /// Check before each tensor collective that every rank passes the same element type and count
  /// (a mismatch is a ShapeError on every rank instead of a hang or truncated data). It costs one
  /// small extra collective; DDP checks its layout once at construction and skips it per step.
  ProcessGroupOptions& check_sizes(bool v) { return check_sizes_ = v, *this; }
  bool check_sizes() const noexcept { return check_sizes_; }

 private:
  std::chrono::milliseconds timeout_{30 * 60 * 1000};
  bool check_sizes_ = true;
};

/// What this rank's collectives carried, counted the same way whatever algorithm MPI picks: the
/// bytes of its send buffers (for all_to_all, those bound for other ranks) and the bytes it received
/// from other ranks (for all_reduce, the reduced result). What MPI's algorithms put on the wire is a
/// multiple of this: docs/design.md has the cost model for both.
struct Traffic {
  std::int64_t collectives = 0;
  std::int64_t bytes_sent = 0;
  std::int64_t bytes_received = 0;
};

namespace detail {
using tapegrad::detail::cat;

template <class T>
MPI_Datatype mpi_type() {
  if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
  else if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
  else if constexpr (std::is_same_v<T, std::int64_t>) return MPI_INT64_T;
  else if constexpr (std::is_same_v<T, std::int32_t>) return MPI_INT32_T;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return MPI_UINT8_T;
  else if constexpr (std::is_same_v<T, char>) return MPI_CHAR;
  else static_assert(sizeof(T) == 0, "distributed: no MPI type for this element type");
}

/// A code per element type, exchanged by the size check so ranks that disagree on the type fail too.
template <class T>
constexpr std::int64_t type_code() {
  if constexpr (std::is_same_v<T, float>) return 1;
  else if constexpr (std::is_same_v<T, double>) return 2;
  else if constexpr (std::is_same_v<T, std::int64_t>) return 3;
  else if constexpr (std::is_same_v<T, std::int32_t>) return 4;
  else return 5;
}

inline std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return cat("MPI error ", code);
  return std::string(text, static_cast<std::size_t>(length));
}

inline int to_int_count(const char* op, std::int64_t count) {
  if (count < 0 || count > INT_MAX)
    throw ValueError(cat(op, ": ", count, " elements in one message; MPI counts are limited to [0, ", INT_MAX, "]"));
  return static_cast<int>(count);
}

inline constexpr int kFailureTag = 7;
inline constexpr int kFailureMessageBytes = 1024;
}  // namespace detail

/// A group of processes that run collectives together: torch.distributed's process group on MPI.
///
/// Every collective is posted non-blocking and then waited for while watching two things: a
/// deadline (the timeout, since MPI has none) and a side channel on which a failing rank tells the
/// others (fail()). So a rank that throws never leaves the others hanging: they get PeerError from
/// the collective they are in. After a timeout or a peer failure the group is unusable (MPI cannot
/// cancel a started collective); later calls throw DistributedError.
///
/// Collectives copy through buffers the group owns, so a collective abandoned by an exception can
/// never write into a tensor freed in the meantime. Not thread-safe: one thread per group.
class ProcessGroup {
 public:
  /// A group over a duplicate of `comm` (MPI must be initialised; see Environment).
  explicit ProcessGroup(MPI_Comm comm = MPI_COMM_WORLD, ProcessGroupOptions options = {}) : options_(options) {
    check(MPI_Comm_dup(comm, &comm_), "ProcessGroup");
    check(MPI_Comm_dup(comm, &control_), "ProcessGroup");
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(control_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    post_failure_receive();
  }
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;
  ~ProcessGroup() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    if (failure_request_ != MPI_REQUEST_NULL) {
      MPI_Cancel(&failure_request_);
      MPI_Wait(&failure_request_, MPI_STATUS_IGNORE);
    }
    // A communicator with a collective still pending (after a timeout) cannot be freed safely.
    if (broken_.empty()) {
      MPI_Comm_free(&comm_);
      MPI_Comm_free(&control_);
    }
  }

  /// This process's rank, in [0, size()).
  int rank() const noexcept { return rank_; }
  /// The number of processes (the world size).
  int size() const noexcept { return size_; }
  const ProcessGroupOptions& options() const noexcept { return options_; }
  void set_timeout(std::chrono::milliseconds timeout) { options_.timeout(timeout); }
  /// The payload this rank has exchanged so far.
  const Traffic& traffic() const noexcept { return traffic_; }
  void reset_traffic() noexcept { traffic_ = Traffic{}; }
  /// Why the group is unusable ("" while it works).
  const std::string& broken_reason() const noexcept { return broken_; }

  // ---- collectives on tensors (torch.distributed's names and in-place conventions) -------------

  /// Combines `tensor` over all ranks in place (dist.all_reduce). Same shape and type on every rank.
  template <class T>
  void all_reduce(Tensor<T>& tensor, ReduceOp op = ReduceOp::Sum) {
    constexpr const char* name = "all_reduce";
    check_tensor(name, tensor);
    check_same_on_all_ranks(name, {{"element type", detail::type_code<T>()}, {"element count", tensor.numel()},
                                   {"reduce op", static_cast<std::int64_t>(op)}});
    all_reduce(tensor.data(), tensor.numel(), op, name);
  }

  /// Replaces `tensor` on every rank by `src`'s (dist.broadcast). Same shape and type on every rank.
  template <class T>
  void broadcast(Tensor<T>& tensor, int src = 0) {
    constexpr const char* name = "broadcast";
    check_tensor(name, tensor);
    check_rank(name, "src", src);
    check_same_on_all_ranks(name, {{"element type", detail::type_code<T>()}, {"element count", tensor.numel()},
                                   {"source rank", src}});
    broadcast(tensor.data(), tensor.numel(), src, name);
  }

  /// Every rank's `tensor`, in rank order (dist.all_gather). Same shape and type on every rank.
  template <class T>
  std::vector<Tensor<T>> all_gather(const Tensor<T>& tensor) {
    constexpr const char* name = "all_gather";
    check_tensor(name, tensor);
    check_same_on_all_ranks(name, {{"element type", detail::type_code<T>()}, {"element count", tensor.numel()}});
    std::vector<std::int64_t> counts;
    const std::vector<T> all = all_gather_v(tensor.data(), tensor.numel(), counts, name);
    std::vector<Tensor<T>> out;
    for (int r = 0; r < size_; ++r) {
      Tensor<T> piece = empty<T>(tensor.shape());
      std::copy_n(all.data() + r * tensor.numel(), tensor.numel(), piece.data());
      out.push_back(std::move(piece));
    }
    return out;
  }

  /// Waits until every rank has arrived (dist.barrier), within the timeout.
  void barrier() {
    check_usable("barrier");
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Ibarrier(comm_, &request), "barrier");
    wait(&request, 1, "barrier", nullptr);
    ++traffic_.collectives;
  }

  // ---- collectives on buffers (what DDP and the sharded tables build on) -----------------------

  /// Combines data[0..count) over all ranks in place. Ranks must agree on count (unchecked).
  template <class T>
  void all_reduce(T* data, std::int64_t count, ReduceOp op, const char* what) {
    static_assert(!std::is_same_v<T, bool>, "all_reduce: bool tensors cannot be reduced");
    check_usable(what);
    if (count < 0) throw ValueError(detail::cat(what, ": count = ", count, " must be non-negative"));
    ++traffic_.collectives;
    if (size_ == 1) return;  // the sum, mean, max and min of one rank's values are its values
    const std::size_t bytes = static_cast<std::size_t>(count) * sizeof(T);
    // Separate send and receive buffers: Open MPI's non-blocking all-reduce takes a binomial tree
    // (the whole message through rank 0) for in-place buffers, and its ring from 4 ranks otherwise.
    ScratchRef send = acquire(bytes), receive = acquire(bytes);
    if (bytes > 0) std::memcpy(send->bytes.get(), data, bytes);
    const MPI_Op mpi_op = op == ReduceOp::Max ? MPI_MAX : op == ReduceOp::Min ? MPI_MIN : MPI_SUM;
    std::vector<MPI_Request> requests;  // MPI counts are int: one request per 2^31 - 1 elements
    std::int64_t first = 0;
    do {
      const int n = static_cast<int>(std::min<std::int64_t>(count - first, INT_MAX));
      const std::size_t at = static_cast<std::size_t>(first) * sizeof(T);
      requests.push_back(MPI_REQUEST_NULL);
      check(MPI_Iallreduce(send->bytes.get() + at, receive->bytes.get() + at, n, detail::mpi_type<T>(), mpi_op,
                           comm_, &requests.back()),
            what);
      first += n;
    } while (first < count);
    wait(requests.data(), static_cast<int>(requests.size()), what, send, receive);
    if (bytes > 0) std::memcpy(data, receive->bytes.get(), bytes);
    if (op == ReduceOp::Mean) {
      for (std::int64_t i = 0; i < count; ++i) data[i] /= static_cast<T>(size_);
    }
    release(std::move(send), std::move(receive));
    count_bytes(static_cast<std::int64_t>(bytes), static_cast<std::int64_t>(bytes));
  }

  /// Replaces data[0..count) by `src`'s. Ranks must agree on count (unchecked).
  template <class T>
  void broadcast(T* data, std::int64_t count, int src, const char* what) {
    check_usable(what);
    check_rank(what, "src", src);
    ++traffic_.collectives;
    if (size_ == 1) return;
    const std::size_t bytes = static_cast<std::size_t>(count) * sizeof(T);
    ScratchRef buffer = acquire(bytes);
    if (bytes > 0) std::memcpy(buffer->bytes.get(), data, bytes);
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Ibcast(buffer->bytes.get(), detail::to_int_count(what, count), detail::mpi_type<T>(), src, comm_,
                     &request),
          what);
    wait(&request, 1, what, buffer);
    if (bytes > 0) std::memcpy(data, buffer->bytes.get(), bytes);
    release(std::move(buffer));
    const auto sent = static_cast<std::int64_t>(bytes);
    count_bytes(rank_ == src ? sent : 0, rank_ == src ? 0 : sent);
  }

  /// Every rank's data[0..count), concatenated in rank order into `out`; the counts may differ
  /// between ranks and are returned in `counts` (MPI_Allgatherv after an exchange of the counts).
  /// `out` keeps its capacity: pass the same vector every step.
  template <class T>
  void all_gather_v(const T* data, std::int64_t count, std::vector<T>& out, std::vector<std::int64_t>& counts,
                    const char* what) {
    check_usable(what);
    counts = exchange_counts_all_gather(count, what);
    std::vector<int> recv_counts(static_cast<std::size_t>(size_)), displs(static_cast<std::size_t>(size_));
    std::int64_t total = 0;
    for (int r = 0; r < size_; ++r) {
      displs[static_cast<std::size_t>(r)] = detail::to_int_count(what, total);
      recv_counts[static_cast<std::size_t>(r)] = detail::to_int_count(what, counts[static_cast<std::size_t>(r)]);
      total += counts[static_cast<std::size_t>(r)];
    }
    detail::to_int_count(what, total);
    ScratchRef send = acquire(static_cast<std::size_t>(count) * sizeof(T));
    ScratchRef receive = acquire(static_cast<std::size_t>(total) * sizeof(T));
    if (count > 0) std::memcpy(send->bytes.get(), data, static_cast<std::size_t>(count) * sizeof(T));
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Iallgatherv(send->bytes.get(), static_cast<int>(count), detail::mpi_type<T>(), receive->bytes.get(),
                          recv_counts.data(), displs.data(), detail::mpi_type<T>(), comm_, &request),
          what);
    wait(&request, 1, what, send, receive);
    copy_out(receive, total, out);
    release(std::move(send), std::move(receive));
    const auto bytes = static_cast<std::int64_t>(sizeof(T));
    count_traffic(count * bytes, (total - count) * bytes);
  }

  /// all_gather_v returning a new vector.
  template <class T>
  std::vector<T> all_gather_v(const T* data, std::int64_t count, std::vector<std::int64_t>& counts, const char* what) {
    std::vector<T> out;
    all_gather_v(data, count, out, counts, what);
    return out;
  }

  /// Sends send_counts[r] elements of `data` (in rank order) to each rank r; `out` receives what
  /// every rank sent here, in rank order, with the counts in `recv_counts` (MPI_Alltoallv).
  template <class T>
  void all_to_all_v(const T* data, const std::vector<std::int64_t>& send_counts, std::vector<T>& out,
                    std::vector<std::int64_t>& recv_counts, const char* what) {
    check_usable(what);
    if (send_counts.size() != static_cast<std::size_t>(size_))
      throw ValueError(detail::cat(what, ": ", send_counts.size(), " send counts for a group of ", size_, " ranks"));
    std::vector<int> scounts(send_counts.size()), sdispls(send_counts.size());
    std::int64_t sent = 0;
    for (std::size_t r = 0; r < send_counts.size(); ++r) {
      sdispls[r] = detail::to_int_count(what, sent);
      scounts[r] = detail::to_int_count(what, send_counts[r]);
      sent += send_counts[r];
    }
    detail::to_int_count(what, sent);
    recv_counts = exchange_counts_all_to_all(send_counts, what);
    std::vector<int> rcounts(recv_counts.size()), rdispls(recv_counts.size());
    std::int64_t total = 0;
    for (std::size_t r = 0; r < recv_counts.size(); ++r) {
      rdispls[r] = detail::to_int_count(what, total);
      rcounts[r] = detail::to_int_count(what, recv_counts[r]);
      total += recv_counts[r];
    }
    detail::to_int_count(what, total);
    ScratchRef send = acquire(static_cast<std::size_t>(sent) * sizeof(T));
    ScratchRef receive = acquire(static_cast<std::size_t>(total) * sizeof(T));
    if (sent > 0) std::memcpy(send->bytes.get(), data, static_cast<std::size_t>(sent) * sizeof(T));
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Ialltoallv(send->bytes.get(), scounts.data(), sdispls.data(), detail::mpi_type<T>(),
                         receive->bytes.get(), rcounts.data(), rdispls.data(), detail::mpi_type<T>(), comm_, &request),
          what);
    wait(&request, 1, what, send, receive);
    copy_out(receive, total, out);
    release(std::move(send), std::move(receive));
    const auto bytes = static_cast<std::int64_t>(sizeof(T));
    const auto self = static_cast<std::size_t>(rank_);
    count_traffic((sent - send_counts[self]) * bytes, (total - recv_counts[self]) * bytes);
  }

  /// all_to_all_v returning a new vector.
  template <class T>
  std::vector<T> all_to_all_v(const T* data, const std::vector<std::int64_t>& send_counts,
                              std::vector<std::int64_t>& recv_counts, const char* what) {
    std::vector<T> out;
    all_to_all_v(data, send_counts, out, recv_counts, what);
    return out;
  }

  /// One number every rank must agree on, with the name a mismatch message gives it.
  struct Agreed {
    const char* name;
    std::int64_t value;
  };

  /// Throws ShapeError on every rank unless all ranks pass the same values (one small collective:
  /// the maximum of each value and of its negation). Skipped with ProcessGroupOptions::check_sizes(false).
  void check_same_on_all_ranks(const char* what, std::initializer_list<Agreed> fields) {
    if (!options_.check_sizes()) return;
    std::vector<std::int64_t> bounds;
    for (const Agreed& f : fields) {
      bounds.push_back(f.value);
      bounds.push_back(-f.value);
    }
    all_reduce(bounds.data(), static_cast<std::int64_t>(bounds.size()), ReduceOp::Max, what);
    std::size_t i = 0;
    for (const Agreed& f : fields) {
      const std::int64_t high = bounds[2 * i], low = -bounds[2 * i + 1];
      ++i;
      if (high != low)
        throw ShapeError(detail::cat(what, ": the ranks disagree on the ", f.name, ": ", f.value, " on rank ", rank_,
                                     ", between ", low, " and ", high, " across the ", size_, " ranks"));
    }
  }

  // ---- failures ---------------------------------------------------------------------------------

  /// Tells every other rank that this one failed with `message` (their collectives then throw
  /// PeerError). Safe to call more than once; never throws.
  void fail(const std::string& message) noexcept {
    if (failed_) return;
    failed_ = true;
    if (broken_.empty()) broken_ = message;
    std::string text = message.substr(0, detail::kFailureMessageBytes - 1);
    failure_text_ = std::make_shared<std::vector<char>>(text.begin(), text.end());
    failure_text_->push_back('\0');
    for (int r = 0; r < size_; ++r) {
      if (r == rank_) continue;
      failure_sends_.push_back(MPI_REQUEST_NULL);
      MPI_Isend(failure_text_->data(), static_cast<int>(failure_text_->size()), MPI_CHAR, r, detail::kFailureTag,
                control_, &failure_sends_.back());
    }
  }

  /// After fail(): waits (at most `grace`) until every other rank has reported a failure too, so
  /// that each has printed its error before the job is torn down. Returns the number that did.
  int wait_for_peers_to_fail(std::chrono::milliseconds grace) noexcept {
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (static_cast<int>(failed_peers_.size()) < size_ - 1 && std::chrono::steady_clock::now() < deadline) {
      int done = 0;
      if (!failure_sends_.empty())
        MPI_Testall(static_cast<int>(failure_sends_.size()), failure_sends_.data(), &done, MPI_STATUSES_IGNORE);
      take_failure_notices();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return static_cast<int>(failed_peers_.size());
  }

  /// Throws PeerError if another rank has reported a failure (a cheap poll).
  void check_peers(const char* what) {
    take_failure_notices();
    if (!failed_peers_.empty() && !failed_) {
      const auto& [peer, message] = failed_peers_.front();
      if (broken_.empty()) broken_ = detail::cat("rank ", peer, " failed: ", message);
      throw PeerError(peer, detail::cat(what, " on rank ", rank_, ": stopped because rank ", peer,
                                        " failed: ", message));
    }
  }

  MPI_Comm communicator() const noexcept { return comm_; }

 private:
  static void check(int code, const char* what) {
    if (code != MPI_SUCCESS) throw DistributedError(detail::cat(what, ": ", detail::mpi_error_text(code)));
  }

  void check_rank(const char* what, const char* name, int r) const {
    if (r < 0 || r >= size_)
      throw ValueError(detail::cat(what, ": ", name, " = ", r, " is not a rank of this group (valid range [0, ",
                                   size_ - 1, "])"));
  }

  template <class T>
  static void check_tensor(const char* what, const Tensor<T>& t) {
    if (!t.defined()) throw ValueError(detail::cat(what, ": the tensor is undefined"));
    if (t.is_sparse()) throw ValueError(detail::cat(what, ": needs a dense tensor, got a sparse one"));
  }

  void check_usable(const char* what) {
    if (!broken_.empty())
      throw DistributedError(detail::cat(what, " on rank ", rank_, ": the process group is unusable since: ", broken_));
    check_peers(what);
  }

  void count_traffic(std::int64_t sent, std::int64_t received) noexcept {
    ++traffic_.collectives;
    count_bytes(sent, received);
  }
  void count_bytes(std::int64_t sent, std::int64_t received) noexcept {
    traffic_.bytes_sent += sent;
    traffic_.bytes_received += received;
  }

  /// A buffer a collective sends from or receives into. The group keeps them and reuses them: a
  /// fresh multi-megabyte buffer every step costs a page fault per 4 KiB when first written
  /// (measured: 25 ms of a 2.5 MB gradient exchange). Only memcpy and MPI touch the bytes.
  struct Scratch {
    std::unique_ptr<unsigned char[]> bytes;
    std::size_t capacity = 0;
  };
  using ScratchRef = std::shared_ptr<Scratch>;

  ScratchRef acquire(std::size_t bytes) {
    ScratchRef scratch;
    if (!spare_.empty()) {
      scratch = std::move(spare_.back());
      spare_.pop_back();
    } else {
      scratch = std::make_shared<Scratch>();
    }
    if (scratch->capacity < bytes) {
      scratch->bytes.reset(new unsigned char[bytes]);  // uninitialised: MPI or memcpy fills it
      scratch->capacity = bytes;
    }
    return scratch;
  }
  template <class... Refs>
  void release(Refs&&... scratch) {
    (spare_.push_back(std::move(scratch)), ...);
  }

  template <class T>
  static void copy_out(const ScratchRef& from, std::int64_t count, std::vector<T>& out) {
    out.resize(static_cast<std::size_t>(count));
    if (count > 0) std::memcpy(out.data(), from->bytes.get(), static_cast<std::size_t>(count) * sizeof(T));
  }

  std::vector<std::int64_t> exchange_counts_all_gather(std::int64_t count, const char* what) {
    auto counts = std::make_shared<std::vector<std::int64_t>>(static_cast<std::size_t>(size_));
    auto mine = std::make_shared<std::vector<std::int64_t>>(1, count);
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Iallgather(mine->data(), 1, MPI_INT64_T, counts->data(), 1, MPI_INT64_T, comm_, &request), what);
    wait(&request, 1, what, counts, mine);
    count_traffic(8, 8 * (size_ - 1));
    return *counts;
  }

  std::vector<std::int64_t> exchange_counts_all_to_all(const std::vector<std::int64_t>& send_counts, const char* what) {
    auto send = std::make_shared<std::vector<std::int64_t>>(send_counts);
    auto receive = std::make_shared<std::vector<std::int64_t>>(send_counts.size());
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Ialltoall(send->data(), 1, MPI_INT64_T, receive->data(), 1, MPI_INT64_T, comm_, &request), what);
    wait(&request, 1, what, send, receive);
    count_traffic(8 * (size_ - 1), 8 * (size_ - 1));
    return *receive;
  }

  /// Waits for `requests`, polling for peer failures and the deadline. If it throws, the requests
  /// stay pending: the buffers they use are kept alive for as long as the group lives.
  template <class... Buffers>
  void wait(MPI_Request* requests, int count, const char* what, const Buffers&... buffers) {
    const auto start = std::chrono::steady_clock::now();
    for (std::uint32_t spin = 0;; ++spin) {
      int done = 0;
      check(MPI_Testall(count, requests, &done, MPI_STATUSES_IGNORE), what);
      if (done) return;
      const auto waited = std::chrono::steady_clock::now() - start;
      try {
        check_peers(what);
        if (waited > options_.timeout()) {
          const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout()).count();
          broken_ = detail::cat(what, " timed out");
          throw TimeoutError(detail::cat(what, " on rank ", rank_, " of ", size_, ": not every rank joined within the ",
                                         "timeout of ", ms, " ms (ProcessGroupOptions::timeout)"));
        }
      } catch (...) {
        (keep_alive(buffers), ...);
        throw;
      }
      // Non-blocking collectives progress only inside MPI calls, so poll often; but ranks may share
      // cores (--oversubscribe), so yield the core between polls, and sleep between them once the
      // wait is long (a straggler, or a rank that will never come).
      if (waited > std::chrono::milliseconds(100)) std::this_thread::sleep_for(std::chrono::microseconds(50));
      else if (spin > 64) std::this_thread::yield();
    }
  }

  void keep_alive(std::nullptr_t) {}
  template <class V>
  void keep_alive(const std::shared_ptr<V>& buffer) {
    abandoned_.push_back(std::static_pointer_cast<void>(buffer));
  }

  void post_failure_receive() {
    failure_buffer_.assign(detail::kFailureMessageBytes, '\0');
    MPI_Irecv(failure_buffer_.data(), detail::kFailureMessageBytes, MPI_CHAR, MPI_ANY_SOURCE, detail::kFailureTag,
              control_, &failure_request_);
  }

  void take_failure_notices() noexcept {
    for (;;) {
      int done = 0;
      MPI_Status status;
      if (failure_request_ == MPI_REQUEST_NULL || MPI_Test(&failure_request_, &done, &status) != MPI_SUCCESS || !done)
        return;
      failure_buffer_.back() = '\0';
      failed_peers_.emplace_back(status.MPI_SOURCE, std::string(failure_buffer_.data()));
      post_failure_receive();
    }
  }

  ProcessGroupOptions options_;
  MPI_Comm comm_ = MPI_COMM_NULL;     // the collectives
  MPI_Comm control_ = MPI_COMM_NULL;  // failure notices, apart so they never match a collective's messages
  int rank_ = 0;
  int size_ = 1;
  Traffic traffic_;
  std::string broken_;
  bool failed_ = false;
  std::vector<char> failure_buffer_;
  MPI_Request failure_request_ = MPI_REQUEST_NULL;
  std::vector<std::pair<int, std::string>> failed_peers_;
  std::shared_ptr<std::vector<char>> failure_text_;
  std::vector<MPI_Request> failure_sends_;
  std::vector<ScratchRef> spare_;              // message buffers for reuse
  std::vector<std::shared_ptr<void>> abandoned_;  // buffers of collectives abandoned by an exception
};

}  // namespace tapegrad::distributed
