// A downstream program on tapegrad::mpi: one rank (or as many as mpirun starts) averaging a tensor.
#include <tapegrad/distributed.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  namespace td = tapegrad::distributed;
  return td::run(argc, argv, [](td::ProcessGroup& world) {
    tapegrad::Tensor<float> t = tapegrad::full<float>({3}, 2.0f);
    world.all_reduce(t, td::ReduceOp::Mean);
    if (world.rank() == 0) std::printf("%s\n", t.data()[0] == 2.0f ? "mpi consumer ok" : "mpi consumer FAILED");
  });
}
