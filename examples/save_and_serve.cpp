// SPDX-License-Identifier: MIT
// Train, save, and serve from a fresh process: a bag-of-words sentiment classifier (EmbeddingBag mean ->
// Linear) trained on the English reviews of examples/data/reviews.tsv, saved as model files that
// tapegrad, PyTorch and NumPy all read, then loaded by a second run of this program to answer queries.
//
// Usage: save_and_serve train <dir> [--data reviews.tsv]
//          trains, then writes <dir>/model.safetensors, <dir>/model.pt (for torch.load),
//          <dir>/vocab.json and <dir>/checkpoint.safetensors (to resume training)
//        save_and_serve serve <dir> "text" ["text" ...]
//          loads the model and vocabulary and prints a prediction per text
#include <tapegrad/tapegrad.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
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
namespace fs = std::filesystem;

namespace {

// [snippet model]
// The same names as a PyTorch module with `self.bag = nn.EmbeddingBag(V, 16)` and
// `self.fc = nn.Linear(16, 2)`, so state dicts move between the two unchanged.
struct Classifier : nn::Module<float> {
  explicit Classifier(std::int64_t vocab_size)
      : bag(nn::EmbeddingBagOptions(vocab_size, 16).mode(nn::EmbeddingBagMode::Mean)), fc(nn::LinearOptions(16, 2)) {}
  nn::EmbeddingBag<float> bag;
  nn::Linear<float> fc;
  void visit(nn::Visitor<float>& v) override {
    v("bag", bag);
    v("fc", fc);
  }
  tg::Tensor<float> forward(const tg::Tensor<std::int64_t>& tokens, const tg::Tensor<std::int64_t>& offsets) {
    return fc.forward(bag.forward(tokens, offsets));
  }
};
// [/snippet model]

// Lower-cased words: runs of letters and apostrophes.
std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out(1);
  for (const unsigned char c : text) {
    if (std::isalpha(c) || c == '\'') out.back() += static_cast<char>(std::tolower(c));
    else if (!out.back().empty()) out.emplace_back();
  }
  if (out.back().empty()) out.pop_back();
  return out;
}

bool is_ascii(const std::string& s) {
  for (const unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

// Packs token-id lists into EmbeddingBag's flat indices and offsets.
void pack(const std::vector<std::vector<std::int64_t>>& bags, tg::Tensor<std::int64_t>& tokens,
          tg::Tensor<std::int64_t>& offsets) {
  std::vector<std::int64_t> flat, starts;
  for (const auto& b : bags) {
    starts.push_back(static_cast<std::int64_t>(flat.size()));
    flat.insert(flat.end(), b.begin(), b.end());
  }
  tokens = tg::tensor<std::int64_t>(flat);
  offsets = tg::tensor<std::int64_t>(starts);
}

int train(const fs::path& dir, const fs::path& data) {
  std::ifstream in(data);
  if (!in) {
    std::cerr << "save_and_serve: cannot read " << data << "\n";
    return 1;
  }
  tg::io::Vocabulary vocab({"<unk>"});
  vocab.set_unk_id(0);
  std::vector<std::vector<std::int64_t>> bags;
  std::vector<std::int64_t> labels;
  for (std::string line; std::getline(in, line);) {
    const auto tab = line.find('\t');
    if (line.empty() || line[0] == '#' || tab == std::string::npos || !is_ascii(line)) continue;
    std::vector<std::int64_t> ids;
    for (const auto& w : words(line.substr(tab + 1))) ids.push_back(vocab.add(w));
    bags.push_back(ids);
    labels.push_back(line.compare(0, tab, "pos") == 0 ? 1 : 0);
  }
  tg::Tensor<std::int64_t> tokens, offsets;
  pack(bags, tokens, offsets);
  const auto targets = tg::tensor<std::int64_t>(labels);

  // [snippet train and save]
  tg::manual_seed(0);
  Classifier model(vocab.size());
  tg::optim::Adam<float> opt(model.parameters(), tg::optim::AdamOptions(0.05));
  for (int epoch = 0; epoch < 30; ++epoch) {
    opt.zero_grad();
    auto loss = tg::cross_entropy(model.forward(tokens, offsets), targets);
    loss.backward();
    opt.step();
  }
  fs::create_directories(dir);
  model.save(dir / "model.safetensors");  // for tapegrad (and Python's safetensors)
  model.save(dir / "model.pt");           // for torch.load in Python
  vocab.save(dir / "vocab.json");         // tokens and the unknown-token id
  tg::io::Checkpoint<float>().model(model).optimizer(opt).vocabulary(vocab).epoch(30).save(dir / "checkpoint.safetensors");
  // [/snippet train and save]

  const auto predicted = tg::argmax(model.forward(tokens, offsets), 1).to_vector();
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) correct += predicted[i] == labels[i];
  std::printf("trained on %zu reviews, %lld words; training accuracy %.3f\n", labels.size(),
              static_cast<long long>(vocab.size()), static_cast<double>(correct) / static_cast<double>(labels.size()));
  std::printf("saved model.safetensors, model.pt, vocab.json and checkpoint.safetensors in %s\n", dir.string().c_str());
  return 0;
}

int serve(const fs::path& dir, const std::vector<std::string>& texts) {
  // [snippet serve]
  const auto vocab = tg::io::Vocabulary::load(dir / "vocab.json");
  Classifier model(vocab.size());
  model.load(dir / "model.safetensors");  // strict: every name and shape must match
  model.eval();
  tg::NoGradGuard no_grad;
  for (const std::string& text : texts) {
    const auto ids = vocab.ids(words(text));  // unknown words map to <unk>
    tg::Tensor<std::int64_t> tokens, offsets;
    pack({ids}, tokens, offsets);
    const auto p = tg::softmax(model.forward(tokens, offsets), 1).to_vector();
    std::printf("%-40s %s (%.2f)\n", text.c_str(), p[1] > p[0] ? "positive" : "negative", std::max(p[0], p[1]));
  }
  // [/snippet serve]
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() >= 2 && args[0] == "train") {
      fs::path data = fs::path(TAPEGRAD_EXAMPLES_DATA_DIR) / "reviews.tsv";
      if (args.size() == 4 && args[2] == "--data") data = args[3];
      return train(args[1], data);
    }
    if (args.size() >= 3 && args[0] == "serve") return serve(args[1], std::vector<std::string>(args.begin() + 2, args.end()));
  } catch (const std::exception& e) {
    std::cerr << "save_and_serve: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "usage: save_and_serve train <dir> [--data reviews.tsv]\n"
               "       save_and_serve serve <dir> \"text\" [\"text\" ...]\n";
  return 2;
}
