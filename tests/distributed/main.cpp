// SPDX-License-Identifier: MIT
// Catch2's main inside an MPI job: every rank runs the same test cases, in the same order.
#define CATCH_CONFIG_RUNNER
#include "support/test.hpp"
#include "tapegrad/distributed/environment.hpp"

#include <chrono>
#include <string>

int main(int argc, char** argv) {
  namespace td = tapegrad::distributed;
  // A failed check on one rank must not leave the others waiting for half an hour.
  td::Environment environment(argc, argv, td::ProcessGroupOptions().timeout(std::chrono::seconds(120)));
  Catch::Session session;
  // A rank that stops here would leave the others waiting in their first collective.
  if (session.applyCommandLine(argc, argv) != 0) environment.abort("bad command line");
  const int failures = session.run();
  if (failures != 0) environment.abort("some test cases failed on rank " + std::to_string(environment.world().rank()));
  return 0;
}
