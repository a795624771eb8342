// SPDX-License-Identifier: MIT
// Module: names, train/eval, zero_grad, state dicts and their errors, printing, a user-defined model.
#include "nn/nn_test.hpp"

namespace module_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace nn = tapegrad::nn;
using tg_test::close;
using tg_test::nn_golden;

namespace {

// A user-defined model: one line registers its members.
struct Net : nn::Module<float> {
  nn::Embedding<float> emb{nn::EmbeddingOptions(5, 3).padding_idx(0)};
  nn::Linear<float> fc{nn::LinearOptions(3, 4)};

  void visit(nn::Visitor<float>& v) override {
    v("emb", emb);
    v("fc", fc);
  }
  tg::Tensor<float> forward(const tg::Tensor<std::int64_t>& idx) const { return tg::tanh(fc(emb(idx))); }
};

struct Deep : nn::Module<float> {
  Net encoder;
  std::vector<nn::Linear<float>> layers{nn::Linear<float>(4, 4), nn::Linear<float>(nn::LinearOptions(4, 2).bias(false))};
  void visit(nn::Visitor<float>& v) override {
    v("encoder", encoder);
    v("layers", layers);
  }
  std::string extra_repr() const override { return "depth=2"; }
};

struct Empty : nn::Module<float> {};

template <class T>
std::vector<std::string> names_of(const T& items) {
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(item.first);
  return out;
}

}  // namespace

TEST_CASE("Module: a user model composing Embedding and Linear matches torch (values and all gradients)") {
  const auto& g = nn_golden();
  Net net;
  net.emb.weight = g.tensor<float>("embedding/weight");
  net.fc.weight = g.tensor<float>("linear/weight");
  net.fc.bias = g.tensor<float>("linear/bias");
  const auto out = net.forward(g.tensor<std::int64_t>("embedding/basic/indices"));
  out.backward(g.tensor<float>("model/gout"));
  CHECK(close(out, g.values("model/out"), {2, 3, 4}, 1e-6, 1e-7));
  for (const auto& [name, p] : net.named_parameters()) {
    INFO(name);
    CHECK(close(p.grad(), g.values("model/grad/" + name), g.shape("model/grad/" + name), 1e-6, 1e-6));  // sums of 6 terms
  }
}

TEST_CASE("Module: named_parameters uses PyTorch's dotted names, in registration order") {
  Net net;
  CHECK(names_of(net.named_parameters()) == std::vector<std::string>{"emb.weight", "fc.weight", "fc.bias"});
  CHECK(net.parameters().size() == 3);
  CHECK(net.parameters()[1].is_same(net.fc.weight));
  Deep deep;
  CHECK(names_of(deep.named_parameters()) == std::vector<std::string>{"encoder.emb.weight", "encoder.fc.weight",
                                                                      "encoder.fc.bias", "layers.0.weight",
                                                                      "layers.0.bias", "layers.1.weight"});
  CHECK(names_of(deep.named_children()) == std::vector<std::string>{"encoder", "layers.0", "layers.1"});
  CHECK(Empty().parameters().empty());
}

TEST_CASE("Module: tied parameters are listed once by parameters(), under every name by state_dict()") {
  Deep deep;
  deep.layers[1].weight = tg::zeros<float>({2, 4});
  struct Tied : nn::Module<float> {
    nn::Linear<float> a{nn::LinearOptions(4, 4)}, b{nn::LinearOptions(4, 4)};
    void visit(nn::Visitor<float>& v) override {
      v("a", a);
      v("b", b);
    }
  } tied;
  tied.b.weight = tied.a.weight;
  CHECK(names_of(tied.named_parameters()) == std::vector<std::string>{"a.weight", "a.bias", "b.bias"});
  CHECK(tied.state_dict().keys() == std::vector<std::string>{"a.weight", "a.bias", "b.weight", "b.bias"});
  // Both uses of the tied weight add into one gradient.
  const auto x = tg::ones<float>({1, 4});
  tg::sum(tied.b(tied.a(x))).backward();
  CHECK(tied.a.weight.grad().is_same(tied.b.weight.grad()));
}

TEST_CASE("Module: train() and eval() reach every submodule") {
  Deep deep;
  CHECK(deep.is_training());
  deep.eval();
  CHECK_FALSE(deep.is_training());
  CHECK_FALSE(deep.encoder.is_training());
  CHECK_FALSE(deep.encoder.fc.is_training());
  CHECK_FALSE(deep.layers[1].is_training());
  deep.encoder.train();
  CHECK(deep.encoder.emb.is_training());
  CHECK_FALSE(deep.is_training());
  deep.train(true);
  CHECK(deep.layers[0].is_training());
}

TEST_CASE("Module: zero_grad fills zeros in place by default (PyTorch 1.13), or drops gradients with set_to_none") {
  Net net;
  const auto idx = tg::tensor<std::int64_t>({1, 2}, {2});
  tg::sum(net.forward(idx)).backward();
  const auto held = net.fc.weight.grad();  // a handle to the gradient sees the in-place zeroing
  net.zero_grad();
  CHECK(net.fc.weight.grad().is_same(held));
  CHECK(held.to_vector() == std::vector<float>(12, 0.0f));
  CHECK(net.emb.weight.grad().to_vector() == std::vector<float>(15, 0.0f));
  net.zero_grad(true);
  for (const auto& p : net.parameters()) CHECK_FALSE(p.grad().defined());
  CHECK_NOTHROW(net.zero_grad());  // no gradients: nothing to do
}

TEST_CASE("Module: zero_grad on a sparse gradient leaves an empty sparse gradient") {
  nn::Embedding<float> e(nn::EmbeddingOptions(4, 2).sparse(true));
  tg::sum(e(tg::tensor<std::int64_t>({1, 3}))).backward();
  REQUIRE(e.weight.grad().indices().numel() == 2);
  e.zero_grad();
  REQUIRE(e.weight.grad().is_sparse());
  CHECK(e.weight.grad().indices().numel() == 0);
  CHECK(e.weight.grad().values().shape() == tg::Shape{0, 2});
  tg::sum(e(tg::tensor<std::int64_t>({2}))).backward();
  CHECK(close(e.weight.grad(), {0, 0, 0, 0, 1, 1, 0, 0}, {4, 2}, 0, 0));
}

TEST_CASE("Module: state_dict round trip copies values in place") {
  tg::manual_seed(1);
  Net a;
  tg::manual_seed(2);
  Net b;
  const auto b_weight = b.fc.weight;  // the same tensor before and after loading
  const auto dict = a.state_dict();
  CHECK(dict.keys() == std::vector<std::string>{"emb.weight", "fc.weight", "fc.bias"});
  CHECK(dict.at("fc.weight").shares_storage(a.fc.weight));
  CHECK_FALSE(dict.at("fc.weight").requires_grad());
  b.load_state_dict(dict);
  CHECK(b.fc.weight.is_same(b_weight));
  CHECK(b.fc.weight.requires_grad());
  for (const auto& [name, p] : b.named_parameters()) CHECK(close(p, a.state_dict().at(name), 0, 0));
  CHECK_FALSE(b.fc.weight.shares_storage(a.fc.weight));
}

TEST_CASE("Module: load_state_dict while a graph saved the weight keeps that graph's gradients right") {
  Net net;
  const auto idx = tg::tensor<std::int64_t>({1, 2}, {2});
  const auto out = tg::sum(net.forward(idx));
  Net other;
  net.load_state_dict(other.state_dict());  // copy-on-write: the recorded ops keep the old values
  CHECK_NOTHROW(out.backward());
  CHECK(net.fc.weight.grad().defined());
}

TEST_CASE("Module errors: load_state_dict names every missing, unexpected and mismatched key, and loads nothing") {
  Net net;
  const auto before = net.fc.bias.to_vector();
  tg::nn::StateDict<float> dict;
  dict.insert("emb.weight", tg::zeros<float>({5, 4}));
  dict.insert("fc.weight", tg::zeros<float>({4, 3}));
  dict.insert("fc.bias_", tg::zeros<float>({4}));
  CHECK_THROWS_AS(net.load_state_dict(dict), tg::ValueError);
  CHECK_THROWS_WITH(net.load_state_dict(dict),
                    "load_state_dict into Net: size mismatch for \"emb.weight\": the state dict has shape [5, 4], the "
                    "model has [5, 3]; missing key \"fc.bias\"; unexpected key \"fc.bias_\". Nothing was loaded");
  CHECK(net.fc.bias.to_vector() == before);
  // strict=false ignores missing and unexpected keys, but never a size mismatch (as in PyTorch).
  CHECK_THROWS_AS(net.load_state_dict(dict, false), tg::ShapeError);
  CHECK_THROWS_WITH(net.load_state_dict(dict, false),
                    "load_state_dict into Net: size mismatch for \"emb.weight\": the state dict has shape [5, 4], the "
                    "model has [5, 3]. Nothing was loaded");
  CHECK(net.fc.weight.to_vector() != std::vector<float>(12, 0.0f));
  tg::nn::StateDict<float> partial;
  partial.insert("fc.weight", tg::zeros<float>({4, 3}));
  partial.insert("extra", tg::zeros<float>({1}));
  net.load_state_dict(partial, false);
  CHECK(net.fc.weight.to_vector() == std::vector<float>(12, 0.0f));
  CHECK(net.fc.bias.to_vector() == before);
  tg::nn::StateDict<float> bad;
  bad.insert("emb.weight", tg::Tensor<float>());
  CHECK_THROWS_WITH(net.load_state_dict(bad, false),
                    "load_state_dict into Net: \"emb.weight\" is undefined in the state dict. Nothing was loaded");
}

TEST_CASE("StateDict errors: duplicate and unknown keys") {
  tg::nn::StateDict<float> dict;
  dict.insert("w", tg::zeros<float>({1}));
  CHECK_THROWS_AS(dict.insert("w", tg::zeros<float>({1})), tg::ValueError);
  CHECK_THROWS_WITH(dict.insert("w", tg::zeros<float>({1})), "StateDict::insert: there is already an entry named \"w\"");
  CHECK_THROWS_AS(dict.at("v"), tg::IndexError);
  CHECK_THROWS_WITH(dict.at("v"), "StateDict::at: no entry named \"v\"");
  CHECK(dict.size() == 1);
}

TEST_CASE("Module: printing nests like PyTorch's repr") {
  CHECK(tg::nn::to_string(Net()) ==
        "Net(\n"
        "  (emb): Embedding(5, 3, padding_idx=0)\n"
        "  (fc): Linear(in_features=3, out_features=4, bias=True)\n"
        ")");
  std::ostringstream os;
  os << Deep();
  CHECK(os.str() ==
        "Deep(\n"
        "  depth=2\n"
        "  (encoder): Net(\n"
        "    (emb): Embedding(5, 3, padding_idx=0)\n"
        "    (fc): Linear(in_features=3, out_features=4, bias=True)\n"
        "  )\n"
        "  (layers.0): Linear(in_features=4, out_features=4, bias=True)\n"
        "  (layers.1): Linear(in_features=4, out_features=2, bias=False)\n"
        ")");
  CHECK(tg::nn::to_string(Empty()) == "Empty()");
}

TEST_CASE("Module: the default name is the C++ class name without namespaces or template arguments") {
  CHECK(tg::detail::unqualified_type_name("ns::Outer<a::b>::Net") == "Net");
  CHECK(tg::detail::unqualified_type_name("(anonymous namespace)::Net") == "Net");
  CHECK(tg::detail::unqualified_type_name("f(std::string)::Local<int>") == "Local");
  CHECK(Empty().name() == "Empty");
}

TEST_CASE("Module: copies share parameters, models are copy- and move-assignable") {
  Net a;
  Net b = a;
  CHECK(b.fc.weight.is_same(a.fc.weight));
  Net c;
  c = a;
  CHECK(c.emb.weight.is_same(a.emb.weight));
  Net d;
  d = std::move(c);
  CHECK(d.emb.weight.is_same(a.emb.weight));
  std::vector<Net> nets(3);
  nets.erase(nets.begin());
  CHECK(nets.size() == 2);
}

TEST_CASE("Parameter: prints as PyTorch, an unset Parameter takes its shape from the first assignment") {
  nn::Parameter<float> p;
  p = tg::tensor<float>({1, 2});
  CHECK(p.requires_grad());
  CHECK(p.expected_shape() == tg::Shape{2});
  CHECK_THROWS_WITH(p = tg::zeros<float>({3}), "Parameter: expected shape [2], got [3]");
  std::ostringstream os;
  os << p;
  CHECK(os.str() == "Parameter containing:\ntensor([1., 2.], requires_grad=True)");
  const auto sparse = tg::detail::make_sparse<float>({2}, tg::tensor<std::int64_t>({1}), tg::tensor<float>({5}), true);
  CHECK_THROWS_WITH(p = sparse, "Parameter: cannot assign a sparse tensor (shape [2]); call to_dense() first");
}

}  // namespace module_test
