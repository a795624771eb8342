// SPDX-License-Identifier: MIT
// The bad-input catalogue: each kind of bad input through the public API gives its typed exception,
// with a message that names the offending value, and leaves every tensor, module and optimiser it
// touched exactly as it was.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <typeinfo>
#include <vector>

#include <unistd.h>

#include "support/test.hpp"

namespace bad_input_catalogue_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace nn = tapegrad::nn;
namespace optim = tapegrad::optim;

namespace {

struct Net : nn::Module<float> {
  nn::Embedding<float> emb{nn::EmbeddingOptions(10, 3)};
  nn::EmbeddingBag<float> bag{nn::EmbeddingBagOptions(10, 3)};
  nn::Linear<float> fc{nn::LinearOptions(3, 2)};
  void visit(nn::Visitor<float>& v) override {
    v("emb", emb);
    v("bag", bag);
    v("fc", fc);
  }
};

// Everything a case may touch, and its bits before the case ran.
struct World {
  World() : data(tg::randn<float>({2, 3})), sgd(net.parameters(), optim::SGDOptions(0.1).momentum(0.9)) {
    tg::sum(net.fc(net.emb(tg::tensor<std::int64_t>({1, 2})))).backward();
    sgd.step();  // a momentum buffer to watch
  }
  Net net;
  tg::Tensor<float> data;
  optim::SGD<float> sgd;

  std::vector<std::vector<float>> snapshot() const {
    std::vector<std::vector<float>> out;
    for (const auto& p : net.parameters()) {
      out.push_back(p.to_vector());
      out.push_back(p.grad().defined() ? p.grad().to_dense().to_vector() : std::vector<float>{});
      const auto& buffer = sgd.state(p).momentum_buffer;
      out.push_back(buffer.defined() ? buffer.to_vector() : std::vector<float>{});
    }
    out.push_back(data.to_vector());
    out.push_back({static_cast<float>(sgd.lr())});
    return out;
  }
};

struct Case {
  const char* name;
  std::function<void(World&, const std::filesystem::path& dir)> action;
  const std::type_info& expected;
  std::string message_part;  // names the value
};

template <class E>
bool is_a(const std::exception& e) {
  return dynamic_cast<const E*>(&e) != nullptr;
}

bool matches(const std::exception& e, const std::type_info& expected) {
  if (expected == typeid(tg::ShapeError)) return is_a<tg::ShapeError>(e);
  if (expected == typeid(tg::IndexError)) return is_a<tg::IndexError>(e);
  if (expected == typeid(tg::ValueError)) return is_a<tg::ValueError>(e);
  if (expected == typeid(tg::AutogradError)) return is_a<tg::AutogradError>(e);
  if (expected == typeid(tg::FormatError)) return is_a<tg::FormatError>(e);
  if (expected == typeid(tg::IoError)) return is_a<tg::IoError>(e);
  if (expected == typeid(tg::AllocationError)) return is_a<tg::AllocationError>(e);
  return false;
}

void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A .pt file whose pickle asks for `posix system`: it must be refused, never run.
void write_hostile_pt(const std::filesystem::path& p) {
  tg::io::detail::MemorySink sink;
  tg::io::detail::ZipWriter zip(sink);
  const std::string pickle = "\x80\x02" "cposix\nsystem\n" "q\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.";
  zip.add("evil/data.pkl", pickle.data(), pickle.size());
  zip.add("evil/version", "3\n", 2);
  zip.finish();
  write_bytes(p, sink.bytes);
}

using tg::ShapeError, tg::IndexError, tg::ValueError, tg::AutogradError, tg::FormatError, tg::IoError,
    tg::AllocationError;
using I64 = std::vector<std::int64_t>;

const std::vector<Case>& catalogue() {
  static const std::vector<Case> cases = {
      // Indices
      {"Embedding index past the table", [](World& w, auto&) { w.net.emb(tg::tensor<std::int64_t>({1, 10})); },
       typeid(IndexError), "index 10"},
      {"Embedding negative index", [](World& w, auto&) { w.net.emb(tg::tensor<std::int64_t>({-1})); },
       typeid(IndexError), "index -1"},
      {"EmbeddingBag index past the table",
       [](World& w, auto&) { w.net.bag(tg::tensor<std::int64_t>({3, 12}), tg::tensor<std::int64_t>({0})); },
       typeid(IndexError), "12"},
      {"EmbeddingBag offsets not starting at 0",
       [](World& w, auto&) { w.net.bag(tg::tensor<std::int64_t>({3, 4}), tg::tensor<std::int64_t>({1})); },
       typeid(ValueError), "1"},
      {"index_select index out of range",
       [](World& w, auto&) { tg::index_select(w.data, 0, tg::tensor<std::int64_t>({5})); }, typeid(IndexError), "5"},
      {"sum over a dim the tensor lacks", [](World& w, auto&) { tg::sum(w.data, {4}); }, typeid(IndexError), "4"},
      {"cross_entropy class out of range",
       [](World& w, auto&) { tg::cross_entropy(w.data, tg::tensor<std::int64_t>({0, 7})); }, typeid(IndexError), "7"},
      {"one_hot negative class", [](World&, auto&) { tg::one_hot(tg::tensor<std::int64_t>({-3}), 4); },
       typeid(IndexError), "-3"},
      {"Vocabulary unknown token without fallback", [](World&, auto&) { tg::io::Vocabulary({"a"}).id("zebra"); },
       typeid(IndexError), "zebra"},
      {"Vocabulary id out of range", [](World&, auto&) { tg::io::Vocabulary({"a"}).token(3); }, typeid(IndexError),
       "id 3"},
      // Shapes
      {"Linear input of the wrong width", [](World& w, auto&) { w.net.fc(tg::zeros<float>({2, 4})); },
       typeid(ShapeError), "[2, 4]"},
      {"Parameter assigned the wrong shape", [](World& w, auto&) { w.net.fc.weight = tg::zeros<float>({3, 2}); },
       typeid(ShapeError), "[3, 2]"},
      {"matmul of incompatible shapes", [](World& w, auto&) { tg::matmul(w.data, tg::zeros<float>({2, 2})); },
       typeid(ShapeError), "[2, 2]"},
      {"broadcast of incompatible shapes", [](World& w, auto&) { (void)(w.data + tg::zeros<float>({4})); },
       typeid(ShapeError), "[4]"},
      {"reshape to another element count", [](World& w, auto&) { w.data.reshape({4, 2}); }, typeid(ShapeError),
       "[4, 2]"},
      {"view with two -1", [](World& w, auto&) { w.data.view({-1, -1}); }, typeid(ShapeError), "[-1, -1]"},
      {"cat of mismatched shapes", [](World& w, auto&) { tg::cat({w.data, tg::zeros<float>({2, 4})}, 0); },
       typeid(ShapeError), "[2, 4]"},
      {"cross_entropy batch mismatch",
       [](World& w, auto&) { tg::cross_entropy(w.data, tg::tensor<std::int64_t>({0, 1, 2})); }, typeid(ShapeError),
       "[3]"},
      {"from_pretrained of a 1-d tensor",
       [](World&, auto&) { nn::Embedding<float>::from_pretrained(tg::zeros<float>({5})); }, typeid(ShapeError), "[5]"},
      {"load_state_dict size mismatch",
       [](World& w, auto&) {
         auto dict = w.net.state_dict();
         nn::StateDict<float> bad;
         for (const auto& [name, value] : dict) bad.insert(name, name == "fc.bias" ? tg::zeros<float>({7}) : value.clone());
         w.net.load_state_dict(bad);
       },
       typeid(ShapeError), "[7]"},
      // Overflowing sizes and allocation
      {"reshape whose size product overflows",
       [](World& w, auto&) { w.data.reshape({(std::int64_t(1) << 62) + 1, 2, 2}); }, typeid(ShapeError),
       "4611686018427387905"},
      {"a negative dimension", [](World&, auto&) { tg::zeros<float>({3, -2}); }, typeid(ValueError), "-2"},
      {"a shape past int64", [](World&, auto&) { tg::zeros<float>({std::int64_t(1) << 40, std::int64_t(1) << 40}); },
       typeid(ValueError), "1099511627776"},
      {"memory that cannot be had", [](World&, auto&) { tg::zeros<float>({std::int64_t(1) << 58}); },
       typeid(AllocationError), "288230376151711744"},
      {"arange past int64", [](World&, auto&) { tg::arange<float>(0, 1e30); }, typeid(ValueError), "1e+30"},
      {"one_hot of INT64_MAX",
       [](World&, auto&) { tg::one_hot(tg::tensor<std::int64_t>({std::numeric_limits<std::int64_t>::max()})); },
       typeid(ValueError), "9223372036854775807"},
      {"randint range wider than int32", [](World&, auto&) { tg::randint<std::int32_t>(0, std::int64_t(1) << 40, {2}); },
       typeid(ValueError), "1099511627776"},
      // Options
      {"randint with low >= high", [](World&, auto&) { tg::randint<std::int64_t>(5, 5, {2}); }, typeid(ValueError),
       "5"},
      {"arange with step 0", [](World&, auto&) { tg::arange<float>(0, 3, 0); }, typeid(ValueError), "step"},
      {"SGD with a negative learning rate", [](World& w, auto&) { optim::SGD<float>(w.net.parameters(), optim::SGDOptions(-1)); },
       typeid(ValueError), "-1"},
      {"set_lr negative", [](World& w, auto&) { w.sgd.set_lr(-0.5); }, typeid(ValueError), "-0.5"},
      {"Adam betas out of range",
       [](World& w, auto&) { optim::Adam<float>(w.net.parameters(), optim::AdamOptions().betas({1.5, 0.9})); },
       typeid(ValueError), "1.5"},
      {"optimiser without parameters",
       [](World&, auto&) { optim::SGD<float>(std::vector<tg::Tensor<float>>{}, optim::SGDOptions(0.1)); },
       typeid(ValueError), "empty parameter list"},
      {"StepLR step_size 0", [](World& w, auto&) { optim::StepLR<float>(w.sgd, 0); }, typeid(ValueError), "0"},
      {"clip_grad_norm_ negative max_norm",
       [](World& w, auto&) { nn::utils::clip_grad_norm_(w.net.parameters(), -1.0); }, typeid(ValueError), "-1"},
      {"requires_grad on an integer tensor", [](World&, auto&) { tg::tensor<std::int64_t>({1}).requires_grad_(); },
       typeid(ValueError), "int64"},
      {"Generator state that is not one", [](World&, auto&) { tg::Generator().set_state("mt19937 garbage"); },
       typeid(ValueError), "mt19937 garbage"},
      {"Vocabulary with a repeated token", [](World&, auto&) { tg::io::Vocabulary({"a", "b", "a"}); },
       typeid(ValueError), "\"a\""},
      // Gradients and autograd
      {"optimiser step with a gradient of the wrong shape",
       [](World& w, auto&) {
         const tg::Tensor<float> good = w.net.fc.bias.grad();
         w.net.fc.bias.mutable_grad() = tg::zeros<float>({5});
         struct Restore {
           World& w;
           tg::Tensor<float> good;
           ~Restore() { w.net.fc.bias.mutable_grad() = good; }
         } restore{w, good};
         w.sgd.step();
       },
       typeid(ShapeError), "[5]"},
      {"backward into a grad() of the wrong shape",
       [](World& w, auto&) {
         auto x = tg::ones<float>({3}, true);
         x.mutable_grad() = tg::zeros<float>({2});
         tg::sum(x * w.data.reshape({-1}).clone().reshape({2, 3})).backward();
       },
       typeid(ShapeError), "[2]"},
      {"backward of a non-scalar without a gradient",
       [](World& w, auto&) { (w.net.fc(w.data) * 2.0f).backward(); }, typeid(AutogradError), "[2, 2]"},
      {"backward with a gradient of the wrong shape",
       [](World& w, auto&) { w.net.fc(w.data).backward(tg::ones<float>({3})); }, typeid(ShapeError), "[3]"},
      {"backward twice through a freed graph",
       [](World& w, auto&) {
         auto x = tg::ones<float>({3}, true);
         auto y = tg::sum(x * w.data.at({0, 0}));
         y.backward();
         y.backward();
       },
       typeid(AutogradError), "second time"},
      {"SparseAdam given a dense gradient",
       [](World& w, auto&) {
         optim::SparseAdam<float> sparse({w.net.fc.weight});
         sparse.step();
       },
       typeid(ValueError), "dense gradient"},
      // Non-finite values
      {"clip_grad_norm_ of a NaN gradient with error_if_nonfinite",
       [](World& w, auto&) {
         auto p = tg::ones<float>({2}, true);
         p.mutable_grad() = tg::tensor<float>({NAN, 1.0f});
         nn::utils::clip_grad_norm_<float>({p, w.net.fc.weight}, 1.0, 2.0, true);
       },
       typeid(ValueError), "nan"},
      {"a NaN gradient under DetectAnomalyGuard",
       [](World& w, auto&) {
         tg::autograd::DetectAnomalyGuard anomaly;
         auto x = tg::tensor<float>({0.0f, 1.0f}, {2}, true);
         tg::sum(tg::sqrt(x) * w.data.at({0, 0})).backward();
       },
       typeid(AutogradError), "SqrtBackward0"},
      // Malformed files
      {"safetensors header length past the end",
       [](World& w, const std::filesystem::path& dir) {
         write_bytes(dir / "short.safetensors", std::string("\xff\x00\x00\x00\x00\x00\x00\x00{}", 10));
         w.net.load(dir / "short.safetensors");
       },
       typeid(FormatError), "255"},
      {".pt whose pickle names posix system",
       [](World& w, const std::filesystem::path& dir) {
         write_hostile_pt(dir / "evil.pt");
         w.net.load(dir / "evil.pt");
       },
       typeid(FormatError), "posix system"},
      {".npy with a bad magic",
       [](World&, const std::filesystem::path& dir) {
         write_bytes(dir / "bad.npy", "NUMPY?not an array");
         tg::io::load_npy<float>(dir / "bad.npy");
       },
       typeid(FormatError), "NUMPY?no"},
      {"a file in an unknown format", [](World& w, const std::filesystem::path& dir) { w.net.load(dir / "model.onnx"); },
       typeid(ValueError), ".onnx"},
      {"a file that does not exist", [](World& w, const std::filesystem::path& dir) { w.net.load(dir / "absent.pt"); },
       typeid(IoError), "absent.pt"},
      {"GloVe line with a bad number",
       [](World&, auto&) { tg::io::parse_word_vectors<float>("a 1 2\nb 3 x4\n", tg::io::WordVectorFormat::Glove); },
       typeid(FormatError), "x4"},
      {"a checkpoint that is a plain state dict",
       [](World& w, const std::filesystem::path& dir) {
         w.net.save(dir / "plain.safetensors");
         tg::io::Checkpoint<float>().model(w.net).load(dir / "plain.safetensors");
       },
       typeid(FormatError), "format"},
  };
  return cases;
}

}  // namespace

TEST_CASE("Bad-input catalogue: every case throws its typed exception naming the value, and changes nothing") {
  const auto& cases = catalogue();
  CHECK(cases.size() >= 40);
  const auto dir = std::filesystem::temp_directory_path() / ("tapegrad_catalogue_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  tg::manual_seed(0);
  World world;
  for (const Case& c : cases) {
    INFO("case: " << c.name);
    const auto before = world.snapshot();
    bool threw = false;
    try {
      c.action(world, dir);
    } catch (const std::exception& e) {
      threw = true;
      INFO("threw " << typeid(e).name() << ": " << e.what());
      CHECK(matches(e, c.expected));
      CHECK_THAT(e.what(), tg_test::Contains(c.message_part));
    }
    CHECK(threw);
    CHECK(world.snapshot() == before);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace bad_input_catalogue_test
