// SPDX-License-Identifier: MIT
// A fastText-style text classifier: EmbeddingBag (mean) -> Linear, trained with Adam on a file in
// fastText's `__label__<class> text` format. Shows the tg::data toolkit end to end: reading the file,
// tokenizing, building the vocabulary, batching with a shuffling DataLoader, a progress bar per epoch,
// and the metrics (accuracy, macro F1, confusion matrix) and loss plot at the end.
//
// Usage: text_classifier [train.txt] [--epochs N] [--seed N] [--out DIR]
//   The data defaults to examples/data/headlines.txt (90 short synthetic headlines about sports, tech
//   and food); every 5th line is held out for testing. DIR (default: the current directory) gets
//   text_classifier_loss.svg and text_classifier_confusion.csv.
#include <tapegrad/tapegrad.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#ifndef TAPEGRAD_EXAMPLES_DATA_DIR
#define TAPEGRAD_EXAMPLES_DATA_DIR "examples/data"
#endif

namespace tg = tapegrad;
namespace nn = tapegrad::nn;
namespace data = tapegrad::data;

namespace {

constexpr std::int64_t kDim = 16;
constexpr std::int64_t kBatch = 8;
constexpr double kLearningRate = 0.02;

struct Classifier : nn::Module<float> {
  nn::EmbeddingBag<float> bag;
  nn::Linear<float> fc;
  Classifier(std::int64_t vocab_size, std::int64_t num_classes)
      : bag(nn::EmbeddingBagOptions(vocab_size, kDim).mode(nn::EmbeddingBagMode::Mean)), fc(kDim, num_classes) {}
  void visit(nn::Visitor<float>& v) override {
    v("bag", bag);
    v("fc", fc);
  }
  tg::Tensor<float> operator()(const data::BagBatch& batch) const { return fc(bag(batch.indices, batch.offsets)); }
};

int run(int argc, char** argv) {
  std::string path = std::string(TAPEGRAD_EXAMPLES_DATA_DIR) + "/headlines.txt";
  std::filesystem::path out_dir = ".";
  int epochs = 15;
  std::uint64_t seed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--epochs" && i + 1 < argc) epochs = std::stoi(argv[++i]);
    else if (arg == "--seed" && i + 1 < argc) seed = std::stoull(argv[++i]);
    else if (arg == "--out" && i + 1 < argc) out_dir = argv[++i];
    else if (arg.rfind("--", 0) != 0) path = arg;
    else {
      std::cerr << "usage: text_classifier [train.txt] [--epochs N] [--seed N] [--out DIR]\n";
      return 2;
    }
  }

  const std::vector<data::LabeledText> texts = data::read_fasttext(path);  // errors name the file and line
  std::vector<data::LabeledText> train_texts, test_texts;
  for (std::size_t i = 0; i < texts.size(); ++i) (i % 5 == 4 ? test_texts : train_texts).push_back(texts[i]);

  const data::Tokenizer tokenize;  // lower-case, punctuation split off
  data::VocabularyBuilder counts;
  for (const auto& t : train_texts) counts.add(tokenize(t.text));
  const tg::io::Vocabulary vocab = counts.build();  // <pad> 0, <unk> 1, then by frequency
  const tg::io::Vocabulary labels = data::label_vocabulary(texts);
  const auto train = data::encode_texts(train_texts, tokenize, vocab, labels);
  const auto test = data::encode_texts(test_texts, tokenize, vocab, labels);
  const data::BagBatch test_batch = data::collate_bags(test.examples());
  std::printf("%zu training and %zu test examples, %lld tokens, %lld classes\n", train.size(), test.size(),
              static_cast<long long>(vocab.size()), static_cast<long long>(labels.size()));

  tg::manual_seed(seed);
  Classifier model(vocab.size(), labels.size());
  tg::optim::Adam<float> optimizer(model.parameters(), tg::optim::AdamOptions(kLearningRate));
  data::DataLoader loader(train, data::DataLoaderOptions(kBatch).shuffle(true).seed(seed), data::BagCollate{});

  std::vector<double> train_loss, test_loss;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    // On a terminal the bar redraws in place; in a log it prints one line per epoch.
    data::ProgressBar bar(data::ProgressOptions(static_cast<std::int64_t>(loader.size()))
                              .description(tg::detail::cat("epoch ", epoch, "/", epochs))
                              .output(std::cout));
    double loss_sum = 0;
    for (const data::BagBatch& batch : loader) {
      auto loss = tg::cross_entropy(model(batch), batch.labels);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      loss_sum += loss.item() * static_cast<double>(batch.size());
      bar.set_postfix("loss", loss.item());
      bar.update();
    }
    train_loss.push_back(loss_sum / static_cast<double>(train.size()));
    tg::NoGradGuard no_grad;
    const auto logits = model(test_batch);
    test_loss.push_back(tg::cross_entropy(logits, test_batch.labels).item());
    bar.set_postfix("loss", train_loss.back());
    bar.set_postfix("test_loss", test_loss.back());
    bar.set_postfix("test_acc", data::accuracy(logits, test_batch.labels));
    bar.close();
  }

  tg::NoGradGuard no_grad;
  const auto predicted = tg::argmax(model(test_batch), 1);
  const double accuracy = data::accuracy(predicted, test_batch.labels);
  const auto macro = data::precision_recall_f1(predicted, test_batch.labels, labels.size(), data::Average::Macro);
  std::printf("\ntest accuracy %.3f, macro precision %.3f, recall %.3f, F1 %.3f\n", accuracy, macro.precision,
              macro.recall, macro.f1);

  // The confusion matrix: rows are the true classes, columns the predictions.
  const auto cm = data::confusion_matrix(predicted, test_batch.labels, labels.size());
  const auto C = labels.size();
  std::printf("confusion matrix (rows: true class, columns: predicted)\n%10s", "");
  for (std::int64_t j = 0; j < C; ++j) std::printf("%10s", labels.token(j).c_str());
  std::printf("\n");
  std::ofstream csv(out_dir / "text_classifier_confusion.csv");
  csv << "true\\predicted";
  for (std::int64_t j = 0; j < C; ++j) csv << "," << labels.token(j);
  csv << "\n";
  for (std::int64_t i = 0; i < C; ++i) {
    std::printf("%10s", labels.token(i).c_str());
    csv << labels.token(i);
    for (std::int64_t j = 0; j < C; ++j) {
      std::printf("%10lld", static_cast<long long>(cm.data()[i * C + j]));
      csv << "," << cm.data()[i * C + j];
    }
    std::printf("\n");
    csv << "\n";
  }
  if (!csv) throw tg::IoError("text_classifier: cannot write " + (out_dir / "text_classifier_confusion.csv").string());

  std::vector<double> epochs_axis;
  for (int e = 1; e <= epochs; ++e) epochs_axis.push_back(e);
  data::LinePlot plot;
  plot.title("Text classifier: cross-entropy loss per epoch").x_label("epoch").y_label("loss");
  plot.add("training", epochs_axis, train_loss).add("test", epochs_axis, test_loss);
  plot.save(out_dir / "text_classifier_loss.svg");
  std::printf("wrote text_classifier_confusion.csv and text_classifier_loss.svg to %s\n",
              std::filesystem::absolute(out_dir).lexically_normal().string().c_str());

  if (path == std::string(TAPEGRAD_EXAMPLES_DATA_DIR) + "/headlines.txt" && epochs >= 15 && accuracy < 0.9) {
    std::printf("FAILED: expected a test accuracy of at least 0.9 on the headlines\n");
    return 1;
  }
  std::printf("text_classifier: all checks passed\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "text_classifier: " << e.what() << "\n";
    return 1;
  }
}
