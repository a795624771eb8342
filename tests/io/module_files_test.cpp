// SPDX-License-Identifier: MIT
// Module::save and Module::load: the format by extension, strict loading with PyTorch's names,
// missing and unexpected keys with strict=false, and failed loads that change nothing.
#include <filesystem>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "support/test.hpp"

namespace module_files_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace nn = tapegrad::nn;
using tg_test::Contains;

namespace {

struct Net : nn::Module<float> {
  nn::Embedding<float> emb{nn::EmbeddingOptions(7, 3)};
  nn::Linear<float> fc{nn::LinearOptions(3, 2)};
  void visit(nn::Visitor<float>& v) override {
    v("emb", emb);
    v("fc", fc);
  }
};

struct EmbeddingOnly : nn::Module<float> {
  nn::Embedding<float> emb{nn::EmbeddingOptions(7, 3)};
  nn::Linear<float> head{nn::LinearOptions(3, 4)};
  void visit(nn::Visitor<float>& v) override {
    v("emb", emb);
    v("head", head);
  }
};

}  // namespace

TEST_CASE("Module::save and load: every format round-trips the parameters exactly, by extension") {
  tg_test::TempDir dir;
  tg::manual_seed(4);
  Net net;
  for (const char* name : {"m.safetensors", "m.pt", "m.pth", "m.npz", "M.SAFETENSORS"}) {
    net.save(dir.path(name));
    tg::manual_seed(5);
    Net other;
    const nn::LoadResult result = other.load(dir.path(name));
    CHECK(result.ok());
    CHECK(tg_test::same_bits(other.emb.weight, net.emb.weight));
    CHECK(tg_test::same_bits(other.fc.weight, net.fc.weight));
    CHECK(tg_test::same_bits(other.fc.bias, net.fc.bias));
    CHECK(other.fc.weight.requires_grad());
  }
}

TEST_CASE("Module::load(path, strict=false) returns PyTorch's missing and unexpected keys") {
  tg_test::TempDir dir;
  Net net;
  net.save(dir.path("net.safetensors"));
  EmbeddingOnly other;
  const auto before = other.head.weight.clone();
  CHECK_THROWS_AS(other.load(dir.path("net.safetensors")), tg::ValueError);
  CHECK_THROWS_WITH(other.load(dir.path("net.safetensors")),
                    "load_state_dict into EmbeddingOnly: missing key \"head.weight\"; missing key \"head.bias\"; "
                    "unexpected key \"fc.weight\"; unexpected key \"fc.bias\". Nothing was loaded");
  CHECK(tg_test::same_bits(other.head.weight, before));
  const nn::LoadResult result = other.load(dir.path("net.safetensors"), /*strict=*/false);
  CHECK(result.missing_keys == std::vector<std::string>{"head.weight", "head.bias"});
  CHECK(result.unexpected_keys == std::vector<std::string>{"fc.weight", "fc.bias"});
  CHECK(tg_test::same_bits(other.emb.weight, net.emb.weight));
  CHECK(tg_test::same_bits(other.head.weight, before));
}

TEST_CASE("Module::save and load errors: an unknown extension names the three formats, and nothing changes") {
  tg_test::TempDir dir;
  Net net;
  CHECK_THROWS_AS(net.save(dir.path("model.bin")), tg::ValueError);
  CHECK_THROWS_WITH(net.save(dir.path("model.bin")),
                    Contains("unknown extension \".bin\"; the format is chosen by extension: .safetensors, .pt/.pth "
                             "(PyTorch) or .npz (NumPy)"));
  CHECK_THROWS_WITH(net.load(dir.path("model")), Contains("unknown extension \"\""));
  CHECK(std::filesystem::is_empty(dir.path()));
  const auto before = net.fc.weight.clone();
  CHECK_THROWS_AS(net.load(dir.path("absent.pt")), tg::IoError);
  // A truncated file: FormatError, and the model keeps its parameters.
  Net other;
  other.save(dir.path("full.safetensors"));
  const std::string bytes = tg_test::read_file(dir.path("full.safetensors"));
  dir.write("cut.safetensors", bytes.substr(0, bytes.size() - 5));
  CHECK_THROWS_AS(net.load(dir.path("cut.safetensors")), tg::FormatError);
  CHECK(tg_test::same_bits(net.fc.weight, before));
  // A double file into a float model: refused unless the values convert exactly.
  nn::StateDict<double> wide;
  wide.insert("emb.weight", tg::full<double>({7, 3}, 0.1));
  wide.insert("fc.weight", tg::full<double>({2, 3}, 0.5));
  wide.insert("fc.bias", tg::full<double>({2}, 0.25));
  tg::io::save_safetensors(dir.path("wide.safetensors"), wide);
  CHECK_THROWS_WITH(net.load(dir.path("wide.safetensors")), Contains("\"emb.weight\" is F64 and cannot be loaded as F32"));
  CHECK(tg_test::same_bits(net.fc.weight, before));
  net.load(dir.path("wide.safetensors"), true, tg::io::LoadOptions().allow_lossy(true));
  CHECK(net.emb.weight.at({0, 0}) == 0.1f);
  CHECK(net.fc.weight.at({1, 2}) == 0.5f);
}

}  // namespace module_files_test
