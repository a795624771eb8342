// SPDX-License-Identifier: MIT
// A training loop in which one rank fails at step 3: by throwing ("throw") or by stalling without
// ever joining the next collective ("stall"). failure_test.cmake checks that every rank then exits
// with an error, each naming the failure, within a bounded time.
#include "tapegrad/distributed/environment.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  namespace td = tapegrad::distributed;
  const std::string mode = argc > 1 ? argv[1] : "throw";
  const auto options = td::ProcessGroupOptions().timeout(std::chrono::seconds(mode == "stall" ? 3 : 60));
  return td::run(argc, argv, [&](td::ProcessGroup& world) {
    const int culprit = world.size() - 1;
    tapegrad::Tensor<float> gradient = tapegrad::ones<float>({1000});
    for (int step = 0; step < 10; ++step) {
      if (step == 3 && world.rank() == culprit) {
        if (mode == "throw") throw std::runtime_error("step 3 went wrong on purpose");
        std::this_thread::sleep_for(std::chrono::seconds(60));  // never joins the all_reduce
      }
      world.all_reduce(gradient, td::ReduceOp::Mean);
    }
  }, options);
}
