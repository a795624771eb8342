// Instantiates the public templates for float and double, so -Werror sees their bodies too. With
// TAPEGRAD_CHECK_DISTRIBUTED (check.sh sets it, with MPI's include flags, when Open MPI is
// installed) the distributed templates too: one translation unit, so the library is parsed once.
#ifdef TAPEGRAD_CHECK_DISTRIBUTED
#include <tapegrad/distributed.hpp>  // first, so it is seen to include everything it needs
#endif
#include <tapegrad/tapegrad.hpp>

#include <cstdlib>
#include <sstream>

namespace tg = tapegrad;

template <class T>
T use_everything() {
  auto a = tg::randn<T>({2, 3}, true);
  auto b = tg::rand<T>({3}, true);
  auto c = tg::relu(a * b + a / (b + T(2)) - tg::exp(a)) + tg::pow(tg::abs(a), T(2));
  auto d = tg::matmul(c, a.transpose(0, 1)) + tg::log(tg::sigmoid(tg::tanh(tg::sqrt(tg::clamp(c, T(0.1), T(5))))));
  auto loss = tg::mean(tg::sum(d, {1}, true)) + tg::norm(a, 2.0) + tg::sum(tg::pow(d, d).reshape({-1}).t().clone().template to<T>());
  loss.backward();
  std::ostringstream os;
  os << loss << a.grad() << tg::argmax(a, 1);
  const auto check = tg::gradcheck([](const std::vector<tg::Tensor<double>>& v) { return tg::sum(v[0] * v[0]); },
                                   {tg::randn<double>({2}, true)});
  return loss.item() + T(check ? 0 : 1);
}

template <class T>
T use_nn_and_optim() {
  namespace nn = tg::nn;
  namespace F = tg::nn::functional;
  nn::Embedding<T> emb(nn::EmbeddingOptions(10, 4).padding_idx(0).max_norm(1.0).scale_grad_by_freq(true));
  nn::Embedding<T> sparse_emb(nn::EmbeddingOptions(10, 4).sparse(true));
  nn::EmbeddingBag<T> bag(nn::EmbeddingBagOptions(10, 4).mode(nn::EmbeddingBagMode::Sum));
  nn::Linear<T> fc(nn::LinearOptions(4, 3));
  const auto ids = tg::tensor<std::int64_t>({1, 2, 3, 4}, {2, 2});
  const auto flat = tg::tensor<std::int32_t>({1, 2, 3, 4});
  const auto offsets = tg::tensor<std::int32_t>({0, 2});
  auto h = tg::mean(emb(ids), {1}) + bag(flat, offsets, tg::ones<T>({4})) + tg::sum(sparse_emb(ids), {1});
  auto loss = F::cross_entropy(fc(F::relu(h)), tg::tensor<std::int64_t>({0, 2})) +
              F::mse_loss(F::softmax(h, 1), F::log_softmax(h, 1).detach()) +
              tg::sum(F::cosine_similarity(h, h)) + tg::sum(F::one_hot<T>(tg::tensor<std::int64_t>({1}), 3));
  loss.backward();
  std::vector<tg::Tensor<T>> dense_params{emb.weight, bag.weight, fc.weight, fc.bias};
  tg::optim::SGD<T> sgd(dense_params, tg::optim::SGDOptions(0.1).momentum(0.9).nesterov(true));
  tg::optim::Adam<T> adam(dense_params, tg::optim::AdamOptions(1e-3).amsgrad(true));
  tg::optim::AdamW<T> adamw(dense_params, tg::optim::AdamWOptions(1e-3));
  tg::optim::Adagrad<T> adagrad(dense_params, tg::optim::AdagradOptions(0.1));
  tg::optim::SparseAdam<T> sparse_adam({sparse_emb.weight}, tg::optim::SparseAdamOptions(1e-3));
  tg::optim::StepLR<T> scheduler(sgd, 2, 0.5);
  tg::nn::utils::clip_grad_norm_(dense_params, 1.0);
  sgd.step();
  adam.step();
  adamw.step();
  adagrad.step();
  sparse_adam.step();
  scheduler.step();
  sgd.zero_grad();
  std::ostringstream os;
  os << emb << fc << bag << fc.weight;
  auto state = fc.state_dict();
  fc.load_state_dict(state);
  return static_cast<T>(loss.item());
}

// Instantiates every model-file reader and writer (the files are never created: -fsyntax-only).
template <class T>
void use_model_files(tg::nn::Module<T>& model, tg::optim::Optimizer<T>& opt, tg::optim::LRScheduler& scheduler) {
  namespace io = tg::io;
  const auto opts = io::LoadOptions().allow_lossy(true);
  model.save("m.safetensors");
  model.load("m.pt", false, opts);
  const auto dict = model.state_dict();
  io::save_safetensors("a.safetensors", dict, {{"k", "v"}});
  io::save_torch("a.pt", io::load_safetensors<T>("a.safetensors", opts));
  io::save_npz("a.npz", io::load_torch<T>("a.pt", opts));
  io::save_npy("a.npy", io::load_npy<T>("a.npy", opts));
  io::save_state_dict("b.pt", io::load_npz<T>("a.npz", opts));
  (void)io::read_safetensors_metadata("a.safetensors");
  io::Vocabulary vocab({"a"});
  io::Checkpoint<T> ckpt;
  ckpt.model(model).optimizer(opt).scheduler(scheduler).vocabulary(vocab).save("c.safetensors");
  ckpt.load("c.safetensors");
  opt.load_state_dict(opt.state_dict());
  scheduler.load_state_dict(scheduler.state_dict());
}

template <class T>
void use_model_files_on_a_model() {
  tg::nn::Linear<T> fc(tg::nn::LinearOptions(2, 2));
  tg::optim::Adam<T> adam(fc.parameters());
  tg::optim::StepLR<T> scheduler(adam, 2);
  use_model_files(fc, adam, scheduler);
}

#ifdef TAPEGRAD_CHECK_DISTRIBUTED
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

void use_distributed_for_float_and_double(int argc, char** argv) {
  td::run(argc, argv, [](td::ProcessGroup& world) {
    use_distributed<float>(world);
    use_distributed<double>(world);
  });
}
#endif

int main() {
  if (std::getenv("NEVER_SET_ANYWHERE")) {
    use_model_files_on_a_model<float>();
    use_model_files_on_a_model<double>();
  }
  const auto vectors = tg::io::parse_word_vectors<float>("a 1 2\nb 3 4\n", tg::io::WordVectorFormat::Glove);
  return static_cast<int>(use_everything<float>() + use_everything<double>() + use_nn_and_optim<float>() +
                          use_nn_and_optim<double>() + static_cast<float>(vectors.size())) * 0;
}
