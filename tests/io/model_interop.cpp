// SPDX-License-Identifier: MIT
// The C++ half of tests/io/python/model_interop.py: loads a model PyTorch trained (from torch.save and
// np.savez files) and prints its outputs, then trains a step itself and saves the model in every format.
// Usage: io_model_interop <dir>    (reads <dir>/inputs.txt, net.pt, net.npz; writes <dir>/out_*.txt, cpp.*)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;
namespace nn = tapegrad::nn;

namespace {

// PyTorch's `bag = nn.EmbeddingBag(50, 8, mode="mean")`, `fc = nn.Linear(8, 3)`.
struct Net : nn::Module<float> {
  nn::EmbeddingBag<float> bag{nn::EmbeddingBagOptions(50, 8).mode(nn::EmbeddingBagMode::Mean)};
  nn::Linear<float> fc{nn::LinearOptions(8, 3)};
  void visit(nn::Visitor<float>& v) override {
    v("bag", bag);
    v("fc", fc);
  }
  tg::Tensor<float> forward(const tg::Tensor<std::int64_t>& tokens, const tg::Tensor<std::int64_t>& offsets) {
    return fc.forward(bag.forward(tokens, offsets));
  }
};

std::vector<std::int64_t> read_line(std::istream& in) {
  std::string line;
  std::getline(in, line);
  std::vector<std::int64_t> out;
  std::size_t pos = 0;
  while (pos < line.size()) {
    std::size_t used = 0;
    out.push_back(std::stoll(line.substr(pos), &used));
    pos += used;
    while (pos < line.size() && line[pos] == ' ') ++pos;
  }
  return out;
}

void write_values(const std::filesystem::path& path, const tg::Tensor<float>& t) {
  std::ofstream out(path);
  char buf[32];
  for (float v : t.to_vector()) {
    std::snprintf(buf, sizeof buf, "%.9g\n", static_cast<double>(v));
    out << buf;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: io_model_interop <dir>\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::ifstream in(dir / "inputs.txt");
  const auto tokens = tg::tensor<std::int64_t>(read_line(in));
  const auto offsets = tg::tensor<std::int64_t>(read_line(in));
  const auto labels = tg::tensor<std::int64_t>(read_line(in));
  try {
    for (const char* file : {"net.pt", "net.npz", "net.safetensors"}) {
      Net net;
      const nn::LoadResult result = net.load(dir / file);  // strict: every name and shape must match
      if (!result.ok()) return 3;
      write_values(dir / (std::string("out_") + file + ".txt"), net.forward(tokens, offsets));
    }
    // Train one SGD step from the PyTorch weights and save the result in every format.
    Net net;
    net.load(dir / "net.pt");
    tg::optim::SGD<float> opt(net.parameters(), tg::optim::SGDOptions(0.5));
    tg::cross_entropy(net.forward(tokens, offsets), labels).backward();
    opt.step();
    write_values(dir / "out_cpp.txt", net.forward(tokens, offsets));
    for (const char* file : {"cpp.pt", "cpp.npz", "cpp.safetensors"}) net.save(dir / file);
  } catch (const std::exception& e) {
    std::cerr << "io_model_interop: " << e.what() << "\n";
    return 1;
  }
  std::cout << "io_model_interop: done\n";
  return 0;
}
