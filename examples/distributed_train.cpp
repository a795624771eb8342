// SPDX-License-Identifier: MIT
// Data-parallel training over MPI: the headline classifier of text_classifier.cpp, with each rank
// training on its share of every epoch (DistributedSampler) and DistributedDataParallel averaging the
// gradients. Rank 0 writes a checkpoint after every epoch; --resume continues from it.
// With --sharded the table is split across the ranks (ShardedEmbeddingBag): each holds 1/N of the rows.
//
//   mpirun -np 2 build/examples/distributed_train [--epochs N] [--sharded] [--resume] [--out DIR]
// (scripts/distributed_demo builds and runs it.)
#include <tapegrad/distributed.hpp>  // first: MPI without its C++ bindings
#include <tapegrad/tapegrad.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#ifndef TAPEGRAD_EXAMPLES_DATA_DIR
#define TAPEGRAD_EXAMPLES_DATA_DIR "examples/data"
#endif

namespace tg = tapegrad;
namespace nn = tapegrad::nn;
namespace data = tapegrad::data;
namespace dist = tapegrad::distributed;

namespace {

constexpr std::int64_t kDim = 16;
constexpr std::int64_t kBatchPerRank = 4;  // 8 examples per step on 2 ranks, as text_classifier's 8

// The replicated part: the classifier head (and the table, unless it is sharded).
struct Classifier : nn::Module<float> {
  bool has_table;
  nn::EmbeddingBag<float> bag;
  nn::Linear<float> fc;
  Classifier(std::int64_t vocab_size, std::int64_t num_classes, bool with_table)
      : has_table(with_table),
        bag(nn::EmbeddingBagOptions(with_table ? vocab_size : 1, kDim).mode(nn::EmbeddingBagMode::Mean)),
        fc(kDim, num_classes) {}
  void visit(nn::Visitor<float>& v) override {
    if (has_table) v("bag", bag);
    v("fc", fc);
  }
};

void train(dist::ProcessGroup& world, int argc, char** argv) {
  int epochs = 15;
  bool sharded = false, resume = false;
  std::filesystem::path out_dir = ".";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--epochs" && i + 1 < argc) epochs = std::stoi(argv[++i]);
    else if (arg == "--sharded") sharded = true;
    else if (arg == "--resume") resume = true;
    else if (arg == "--out" && i + 1 < argc) out_dir = argv[++i];
    else throw tg::ValueError("usage: distributed_train [--epochs N] [--sharded] [--resume] [--out DIR]");
  }
  const bool lead = world.rank() == 0;  // rank 0 prints and writes the checkpoint

  // Every rank reads the same file and builds the same vocabulary.
  const auto texts = data::read_fasttext(std::string(TAPEGRAD_EXAMPLES_DATA_DIR) + "/headlines.txt");
  std::vector<data::LabeledText> train_texts, test_texts;
  for (std::size_t i = 0; i < texts.size(); ++i) (i % 5 == 4 ? test_texts : train_texts).push_back(texts[i]);
  const data::Tokenizer tokenize;
  data::VocabularyBuilder counts;
  for (const auto& t : train_texts) counts.add(tokenize(t.text));
  const tg::io::Vocabulary vocab = counts.build();
  const tg::io::Vocabulary labels = data::label_vocabulary(texts);
  const auto train_set = data::encode_texts(train_texts, tokenize, vocab, labels);
  const data::BagBatch test_batch = data::collate_bags(data::encode_texts(test_texts, tokenize, vocab, labels).examples());

  // The same seed on every rank; DDP copies rank 0's parameters anyway.
  tg::manual_seed(0);
  Classifier model(vocab.size(), labels.size(), !sharded);
  std::unique_ptr<nn::ShardedEmbeddingBag<float>> table;
  if (sharded)
    table = std::make_unique<nn::ShardedEmbeddingBag<float>>(
        world, nn::EmbeddingBagOptions(vocab.size(), kDim).mode(nn::EmbeddingBagMode::Mean));
  dist::DistributedDataParallel<float> ddp(model, world);
  tg::optim::Adam<float> optimizer(model.parameters(), tg::optim::AdamOptions(0.02));
  std::unique_ptr<tg::optim::Adagrad<float>> table_optimizer;
  if (sharded) table_optimizer = std::make_unique<tg::optim::Adagrad<float>>(table->parameters(), tg::optim::AdagradOptions(0.5));

  // Each rank's share of each epoch, shuffled by epoch as PyTorch's DistributedSampler.
  data::DistributedSampler sampler(train_set.size(), data::DistributedSamplerOptions(world.size(), world.rank()));
  data::DataLoader loader(train_set, data::DataLoaderOptions(kBatchPerRank).sampler(sampler), data::BagCollate{});

  // A replicated model's checkpoint, written by rank 0, read by every rank. (A sharded table would
  // be gathered to rank 0 with gather_full() first; this example keeps --sharded runs uncheckpointed.)
  const std::filesystem::path checkpoint_path = out_dir / "distributed_checkpoint.safetensors";
  tg::io::Checkpoint<float> checkpoint;
  checkpoint.model(model).optimizer(optimizer);
  int first_epoch = 1;
  if (resume && !sharded && std::filesystem::exists(checkpoint_path)) {
    checkpoint.load(checkpoint_path);
    first_epoch = static_cast<int>(checkpoint.epoch()) + 1;
    if (lead) std::printf("resumed from %s after epoch %d\n", checkpoint_path.string().c_str(), first_epoch - 1);
  }
  if (lead)
    std::printf("%d ranks, %zu training examples (%zu per rank per epoch), table %s\n", world.size(), train_set.size(),
                sampler.size(), sharded ? "sharded across the ranks" : "replicated");

  auto logits_of = [&](const data::BagBatch& batch) {
    return model.fc(sharded ? (*table)(batch.indices, batch.offsets) : model.bag(batch.indices, batch.offsets));
  };
  for (int epoch = first_epoch; epoch <= epochs; ++epoch) {
    loader.sampler()->set_epoch(epoch);
    tg::Tensor<double> loss_sum = tg::zeros<double>({2});  // summed loss, examples
    for (const data::BagBatch& batch : loader) {
      auto loss = tg::cross_entropy(logits_of(batch), batch.labels);
      optimizer.zero_grad();
      if (sharded) table->zero_grad();
      // [snippet ddp_step]
      ddp.backward(loss);  // loss.backward(), then the gradients averaged over the ranks
      if (sharded) {
        table->synchronize_gradients();  // the table's row gradients go to the ranks that own the rows
        table_optimizer->step();
      }
      optimizer.step();  // the same step on every rank: the replicas stay identical
      // [/snippet ddp_step]
      loss_sum.data()[0] += loss.item() * static_cast<double>(batch.size());
      loss_sum.data()[1] += static_cast<double>(batch.size());
    }
    world.all_reduce(loss_sum);  // the epoch's mean loss over every rank's examples
    double accuracy = 0;
    {
      tg::NoGradGuard no_grad;
      accuracy = data::accuracy(logits_of(test_batch), test_batch.labels);
    }
    if (lead) std::printf("epoch %2d  loss %.4f  test accuracy %.3f\n", epoch, loss_sum.data()[0] / loss_sum.data()[1], accuracy);
    if (lead && !sharded) checkpoint.epoch(epoch).save(checkpoint_path);
  }

  // Every replica must hold the same parameters: compare each rank's checksum with rank 0's.
  double sum = 0;
  for (const auto& p : model.parameters())
    for (std::int64_t i = 0; i < p.numel(); ++i) sum += static_cast<double>(p.data()[i]) * static_cast<double>(i % 7 + 1);
  tg::Tensor<double> mine = tg::full<double>({1}, sum);
  const auto all = world.all_gather(mine);
  bool same = true;
  for (const auto& other : all) same = same && other.item() == all[0].item();
  if (lead) std::printf("replicas identical on all %d ranks: %s\n%s\n", world.size(), same ? "yes" : "no (FAILED)",
                        same ? "distributed_train: all checks passed" : "distributed_train: FAILED");
}

}  // namespace

int main(int argc, char** argv) {
  // run(): if any rank throws, every rank stops with an error instead of waiting for it forever.
  return dist::run(argc, argv, [&](dist::ProcessGroup& world) { train(world, argc, argv); });
}
