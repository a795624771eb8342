// SPDX-License-Identifier: MIT
// The C++ half of the PyTorch interop test. Python (real torch 1.13) writes files with torch.save; this
// tool loads them with load_torch, prints every value it read, writes them back with save_torch, and
// for a model's state_dict runs tapegrad's Embedding + Linear forward on the loaded weights.
// Usage:
//   io_torch_interop values <in.pt> <float|double|int64|int32> <values.txt> <resaved.pt>
//   io_torch_interop model <in.pt> <forward.txt> <resaved.pt> <index>...
// values.txt: one line per tensor, "name<TAB>shape (comma-separated)<TAB>values (space-separated)", values
// printed exactly (%.17g, integers as integers). Exit status 2 with the message on stderr when the
// load is refused (a FormatError or ValueError).
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <vector>

#include <tapegrad/tapegrad.hpp>
#include <tapegrad/io/torch.hpp>

namespace {

using namespace tapegrad;

template <class T>
void print_values(std::FILE* out, const nn::StateDict<T>& dict) {
  for (const auto& [name, t] : dict) {
    std::fprintf(out, "%s\t", name.c_str());
    for (std::size_t d = 0; d < t.shape().size(); ++d) std::fprintf(out, "%s%" PRId64, d ? "," : "", t.shape()[d]);
    std::fprintf(out, "\t");
    for (std::int64_t i = 0; i < t.numel(); ++i) {
      if (i) std::fputc(' ', out);
      if constexpr (std::is_floating_point_v<T>) std::fprintf(out, "%.17g", static_cast<double>(t.data()[i]));
      else std::fprintf(out, "%" PRId64, static_cast<std::int64_t>(t.data()[i]));
    }
    std::fprintf(out, "\n");
  }
}

template <class T>
void values(const char* in, const char* txt, const char* resaved) {
  const auto dict = io::load_torch<T>(in);
  std::FILE* out = std::fopen(txt, "w");
  if (!out) throw IoError(std::string("cannot write ") + txt);
  print_values(out, dict);
  std::fclose(out);
  io::save_torch(resaved, dict);
}

// emb = Embedding(V, D), lin = Linear(D, O), as the Python model's "emb" and "lin"; forward lin(emb(idx)).
void model(const char* in, const char* txt, const char* resaved, const std::vector<std::int64_t>& idx) {
  const auto dict = io::load_torch<float>(in);
  const auto& ew = dict.at("emb.weight");
  const auto& lw = dict.at("lin.weight");
  nn::Embedding<float> emb(ew.size(0), ew.size(1));
  nn::Linear<float> lin(lw.size(1), lw.size(0));
  nn::StateDict<float> e, l;
  e.insert("weight", ew);
  l.insert("weight", lw);
  l.insert("bias", dict.at("lin.bias"));
  emb.load_state_dict(e);
  lin.load_state_dict(l);
  const auto y = lin(emb(tensor<std::int64_t>(idx, {static_cast<std::int64_t>(idx.size())})));
  std::FILE* out = std::fopen(txt, "w");
  if (!out) throw IoError(std::string("cannot write ") + txt);
  for (std::int64_t i = 0; i < y.numel(); ++i) std::fprintf(out, "%s%.9g", i ? " " : "", static_cast<double>(y.data()[i]));
  std::fprintf(out, "\n");
  std::fclose(out);
  // Write back the modules' own parameters under the Python model's names.
  nn::StateDict<float> back;
  back.insert("emb.weight", emb.state_dict().at("weight"));
  back.insert("lin.weight", lin.state_dict().at("weight"));
  back.insert("lin.bias", lin.state_dict().at("bias"));
  io::save_torch(resaved, back);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "values" && argc == 6) {
      const std::string type = argv[3];
      if (type == "float") values<float>(argv[2], argv[4], argv[5]);
      else if (type == "double") values<double>(argv[2], argv[4], argv[5]);
      else if (type == "int64") values<std::int64_t>(argv[2], argv[4], argv[5]);
      else if (type == "int32") values<std::int32_t>(argv[2], argv[4], argv[5]);
      else throw ValueError("unknown type " + type);
    } else if (mode == "model" && argc >= 5) {
      std::vector<std::int64_t> idx;
      for (int i = 5; i < argc; ++i) idx.push_back(std::strtoll(argv[i], nullptr, 10));
      model(argv[2], argv[3], argv[4], idx);
    } else {
      std::fprintf(stderr,
                   "usage: %s values <in.pt> <float|double|int64|int32> <values.txt> <resaved.pt>\n"
                   "       %s model <in.pt> <forward.txt> <resaved.pt> <index>...\n",
                   argv[0], argv[0]);
      return 1;
    }
  } catch (const tapegrad::FormatError& e) {
    std::fprintf(stderr, "FormatError: %s\n", e.what());
    return 2;
  } catch (const tapegrad::ValueError& e) {
    std::fprintf(stderr, "ValueError: %s\n", e.what());
    return 2;
  }
  return 0;
}
