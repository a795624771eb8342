// SPDX-License-Identifier: MIT
// Starting and ending an MPI job: MPI_Init/MPI_Finalize, the default process group, and a failure
// on one rank ending every rank with an error instead of a hang.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "tapegrad/distributed/process_group.hpp"  // first: it includes <mpi.h> without the C++ bindings

namespace tapegrad::distributed {

class Environment;

namespace detail {
// The default process group, as torch.distributed keeps one per process (set by Environment).
inline Environment*& current_environment() {
  static Environment* environment = nullptr;
  return environment;
}
}  // namespace detail

/// MPI for the lifetime of this object, with the world as the default process group
/// (torch.distributed.init_process_group("mpi") ... destroy_process_group()).
///
/// Ending: the destructor waits (within the timeout) for every rank to arrive, then finalises MPI.
/// If a rank fails instead (an exception leaves main through this object's scope, or abort() is
/// called, or run()'s body throws), it tells the other ranks, whose collectives throw PeerError,
/// waits a moment for them to report back, prints its error and ends the whole job with MPI_Abort.
/// So every rank exits with an error within about the timeout, never hangs.
class Environment {
 public:
  /// Initialises MPI (unless the program already did) and makes the world group the default.
  Environment(int& argc, char**& argv, ProcessGroupOptions options = {}) { start(&argc, &argv, options); }
  explicit Environment(ProcessGroupOptions options = {}) { start(nullptr, nullptr, options); }
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  ~Environment() {
    if (std::uncaught_exceptions() > uncaught_at_start_)
      abort("an exception is leaving the scope of tapegrad::distributed::Environment");
    try {
      world_->barrier();
    } catch (const std::exception& e) {
      abort(e.what());
    }
    world_.reset();
    if (detail::current_environment() == this) detail::current_environment() = nullptr;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owns_mpi_ && !finalized) MPI_Finalize();
  }

  /// The group of all ranks (MPI_COMM_WORLD).
  ProcessGroup& world() noexcept { return *world_; }

  /// Ends the job after a failure on this rank: tells the other ranks (their collectives throw
  /// PeerError naming this rank and `message`), waits up to `grace` for each to report back,
  /// prints the message to stderr and calls MPI_Abort with `code`.
  [[noreturn]] void abort(const std::string& message, int code = 1,
                          std::chrono::milliseconds grace = std::chrono::seconds(10)) noexcept {
    std::fprintf(stderr, "tapegrad.distributed: rank %d of %d failed: %s\n", world_->rank(), world_->size(),
                 message.c_str());
    std::fflush(stderr);
    world_->fail(message);
    world_->wait_for_peers_to_fail(std::min(grace, world_->options().timeout()));
    MPI_Abort(MPI_COMM_WORLD, code);
    std::terminate();  // MPI_Abort does not return
  }

 private:
  void start(int* argc, char*** argv, ProcessGroupOptions options) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      // Only the thread that created the Environment calls MPI (tapegrad's own threads never do).
      if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        throw DistributedError("Environment: MPI_Init_thread failed");
      owns_mpi_ = true;
    }
    world_ = std::make_unique<ProcessGroup>(MPI_COMM_WORLD, options);
    if (detail::current_environment() != nullptr)
      throw DistributedError("Environment: MPI is already set up by another tapegrad::distributed::Environment");
    detail::current_environment() = this;
    uncaught_at_start_ = std::uncaught_exceptions();
  }

  bool owns_mpi_ = false;
  int uncaught_at_start_ = 0;
  std::unique_ptr<ProcessGroup> world_;
};

/// The default process group: the world of the live Environment (torch.distributed's default group).
inline ProcessGroup& default_group() {
  Environment* environment = detail::current_environment();
  if (environment == nullptr)
    throw DistributedError("default_group: no tapegrad::distributed::Environment is alive (create one in main)");
  return environment->world();
}

/// dist.get_rank() and dist.get_world_size() of the default group.
inline int get_rank() { return default_group().rank(); }
inline int get_world_size() { return default_group().size(); }

/// Runs `body(world)` inside an Environment and returns main's exit code: 0, or if body throws on
/// any rank, every rank's collective throws PeerError and the job ends with an error on every rank
/// (Environment::abort) instead of hanging. Usage:
///   int main(int argc, char** argv) {
///     return tapegrad::distributed::run(argc, argv, [&](tapegrad::distributed::ProcessGroup& world) { ... });
///   }
template <class Body>
int run(int& argc, char**& argv, Body&& body, ProcessGroupOptions options = {}) {
  Environment environment(argc, argv, options);
  try {
    std::forward<Body>(body)(environment.world());
  } catch (const std::exception& e) {
    environment.abort(e.what());
  } catch (...) {
    environment.abort("a non-standard exception");
  }
  return 0;
}

}  // namespace tapegrad::distributed
