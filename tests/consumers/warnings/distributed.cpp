// Instantiates the distributed templates (MPI) for float and double, so -Werror sees their bodies.
#include <tapegrad/distributed.hpp>
#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;
namespace td = tapegrad::distributed;

template <class T>
void use_distributed(td::ProcessGroup& world) {
  tg::nn::Linear<T> linear(3, 2);
  td::DistributedDataParallel<T> ddp(linear, world);
  ddp.backward(linear(tg::ones<T>({1, 3})).sum());
  tg::Tensor<T> t = tg::ones<T>({2});
  world.all_reduce(t, td::ReduceOp::Mean);
  world.broadcast(t, 0);
  (void)world.all_gather(t);
  tg::nn::ShardedEmbeddingBag<T> table(world, tg::nn::EmbeddingBagOptions(10, 4));
  table(tg::zeros<std::int64_t>({2, 3})).sum().backward();
  table.synchronize_gradients();
  (void)table.gather_full(0);
}

int main(int argc, char** argv) {
  return td::run(argc, argv, [](td::ProcessGroup& world) {
    use_distributed<float>(world);
    use_distributed<double>(world);
  });
}
