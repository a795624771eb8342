// SPDX-License-Identifier: MIT
// Checkpoints: a run stopped at step k and resumed from the file ends bit-identical to one that never
// stopped, for every optimiser, dense and sparse embeddings; failed loads change nothing. Also the
// optimiser and scheduler state dicts, the generator's state and the vocabulary file.
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <tapegrad/io/checkpoint.hpp>

#include "io_test_util.hpp"
#include "support/test.hpp"

namespace checkpoint_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace optim = tapegrad::optim;
using tg_test::Contains;

namespace {

// An EmbeddingBag-style classifier made of an Embedding (mean over the bag) and a Linear.
struct Net : tg::nn::Module<float> {
  explicit Net(bool sparse)
      : emb(tg::nn::EmbeddingOptions(40, 6).sparse(sparse)), fc(tg::nn::LinearOptions(6, 3)) {}
  tg::nn::Embedding<float> emb;
  tg::nn::Linear<float> fc;
  void visit(tg::nn::Visitor<float>& v) override {
    v("emb", emb);
    v("fc", fc);
  }
  tg::Tensor<float> forward(const tg::Tensor<std::int64_t>& tokens) { return fc.forward(tg::mean(emb.forward(tokens), {1})); }
};

using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer<float>>(Net&)>;

// One training step whose batch is drawn from the default generator, so the RNG state matters too.
float train_step(Net& net, optim::Optimizer<float>& opt, optim::StepLR<float>& scheduler) {
  const auto tokens = tg::randint<std::int64_t>(0, 40, {8, 5});
  const auto labels = tg::randint<std::int64_t>(0, 3, {8});
  opt.zero_grad();
  auto loss = tg::cross_entropy(net.forward(tokens), labels);
  loss.backward();
  opt.step();
  scheduler.step();
  return loss.item();
}

bool bitwise_equal(const tg::Tensor<float>& a, const tg::Tensor<float>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.numel())) == 0;
}

// Trains 2k steps straight, then k steps + save + a fresh process-like restart + k steps, and compares.
void check_resume(bool sparse, const MakeOptimizer& make) {
  constexpr int k = 5;
  tg::manual_seed(7);
  Net straight(sparse);
  auto opt = make(straight);
  optim::StepLR<float> scheduler(*opt, 3, 0.5);
  std::vector<float> straight_losses;
  for (int i = 0; i < 2 * k; ++i) straight_losses.push_back(train_step(straight, *opt, scheduler));

  tg_test::TempDir dir;
  const auto path = dir.path("run.safetensors");
  std::vector<float> resumed_losses;
  {
    tg::manual_seed(7);
    Net first(sparse);
    auto opt1 = make(first);
    optim::StepLR<float> sched1(*opt1, 3, 0.5);
    for (int i = 0; i < k; ++i) resumed_losses.push_back(train_step(first, *opt1, sched1));
    tg::io::Checkpoint<float> ckpt;
    ckpt.model(first).optimizer(*opt1).scheduler(sched1).step(k).save(path);
  }
  tg::manual_seed(12345);  // a different start: everything must come from the file
  Net second(sparse);
  auto opt2 = make(second);
  optim::StepLR<float> sched2(*opt2, 3, 0.5);
  tg::io::Checkpoint<float> ckpt;
  ckpt.model(second).optimizer(*opt2).scheduler(sched2).load(path);
  CHECK(ckpt.step() == k);
  for (int i = k; i < 2 * k; ++i) resumed_losses.push_back(train_step(second, *opt2, sched2));

  CHECK(resumed_losses == straight_losses);
  CHECK(bitwise_equal(second.emb.weight, straight.emb.weight));
  CHECK(bitwise_equal(second.fc.weight, straight.fc.weight));
  CHECK(bitwise_equal(second.fc.bias, straight.fc.bias));
  CHECK(opt2->lr() == opt->lr());
}

template <template <class> class Opt, class Options>
MakeOptimizer maker(Options options) {
  return [options](Net& net) -> std::unique_ptr<optim::Optimizer<float>> {
    return std::make_unique<Opt<float>>(net.parameters(), options);
  };
}

}  // namespace

TEST_CASE("Checkpoint: resuming is bit-identical with SGD and momentum, dense and sparse embeddings") {
  check_resume(false, maker<optim::SGD>(optim::SGDOptions(0.5).momentum(0.9).nesterov(true)));
  check_resume(true, maker<optim::SGD>(optim::SGDOptions(0.5).momentum(0.9)));
  check_resume(true, maker<optim::SGD>(optim::SGDOptions(0.5)));
}

TEST_CASE("Checkpoint: resuming is bit-identical with Adam, AdamW and AMSGrad") {
  check_resume(false, maker<optim::Adam>(optim::AdamOptions(0.05)));
  check_resume(false, maker<optim::AdamW>(optim::AdamWOptions(0.05).amsgrad(true)));
  check_resume(true, maker<optim::Adam>(optim::AdamOptions(0.05).lazy_sparse(true)));
}

TEST_CASE("Checkpoint: resuming is bit-identical with Adagrad, dense and sparse") {
  check_resume(false, maker<optim::Adagrad>(optim::AdagradOptions(0.3).lr_decay(0.01)));
  check_resume(true, maker<optim::Adagrad>(optim::AdagradOptions(0.3)));
}

TEST_CASE("Checkpoint: resuming is bit-identical with SparseAdam on a sparse embedding") {
  // SparseAdam takes only sparse gradients: it trains the embedding, SGD the linear layer.
  constexpr int k = 4;
  auto run = [](Net& net, optim::SparseAdam<float>& sparse_opt, optim::SGD<float>& dense_opt) {
    const auto tokens = tg::randint<std::int64_t>(0, 40, {8, 5});
    const auto labels = tg::randint<std::int64_t>(0, 3, {8});
    sparse_opt.zero_grad();
    dense_opt.zero_grad();
    tg::cross_entropy(net.forward(tokens), labels).backward();
    sparse_opt.step();
    dense_opt.step();
  };
  tg::manual_seed(3);
  Net straight(true);
  optim::SparseAdam<float> s1({straight.emb.weight}, optim::SparseAdamOptions(0.05));
  optim::SGD<float> d1({straight.fc.weight, straight.fc.bias}, optim::SGDOptions(0.1).momentum(0.5));
  for (int i = 0; i < 2 * k; ++i) run(straight, s1, d1);

  tg_test::TempDir dir;
  tg::manual_seed(3);
  Net first(true);
  optim::SparseAdam<float> s2({first.emb.weight}, optim::SparseAdamOptions(0.05));
  optim::SGD<float> d2({first.fc.weight, first.fc.bias}, optim::SGDOptions(0.1).momentum(0.5));
  for (int i = 0; i < k; ++i) run(first, s2, d2);
  tg::io::Checkpoint<float>().model(first).optimizer(s2).save(dir.path("a.safetensors"));
  tg::io::Checkpoint<float>().optimizer(d2).generator(nullptr).save(dir.path("b.safetensors"));

  tg::manual_seed(99);
  Net second(true);
  optim::SparseAdam<float> s3({second.emb.weight}, optim::SparseAdamOptions(0.05));
  optim::SGD<float> d3({second.fc.weight, second.fc.bias}, optim::SGDOptions(0.1).momentum(0.5));
  tg::io::Checkpoint<float>().model(second).optimizer(s3).load(dir.path("a.safetensors"));
  tg::io::Checkpoint<float>().optimizer(d3).generator(nullptr).load(dir.path("b.safetensors"));
  for (int i = k; i < 2 * k; ++i) run(second, s3, d3);
  CHECK(bitwise_equal(second.emb.weight, straight.emb.weight));
  CHECK(bitwise_equal(second.fc.weight, straight.fc.weight));
  CHECK(s3.state(second.emb.weight).step == 2 * k);
}

TEST_CASE("Checkpoint: epoch, step, user metadata and the vocabulary with its unknown-token id come back") {
  tg_test::TempDir dir;
  Net net(false);
  tg::io::Vocabulary vocab({"<pad>", "<unk>", "héllo", "tab\there", "quote\"back\\slash"});
  vocab.set_unk_id(1);
  tg::io::Checkpoint<float> ckpt;
  ckpt.model(net).vocabulary(vocab).epoch(4).step(1234);
  ckpt.metadata()["lr"] = "0.1";
  ckpt.metadata()["note"] = "日本語";
  ckpt.save(dir.path("c.safetensors"));

  Net other(false);
  tg::io::Vocabulary loaded;
  tg::io::Checkpoint<float> back;
  back.model(other).vocabulary(loaded).load(dir.path("c.safetensors"));
  CHECK(back.epoch() == 4);
  CHECK(back.step() == 1234);
  CHECK(back.metadata() == ckpt.metadata());
  CHECK(loaded.tokens() == vocab.tokens());
  CHECK(loaded.unk_id() == std::optional<std::int64_t>(1));
  CHECK(loaded.id("never seen") == 1);
  CHECK(bitwise_equal(other.fc.weight, net.fc.weight));
  // The file is plain safetensors: its tensors load on their own.
  const auto dict = tg::io::load_safetensors<float>(dir.path("c.safetensors"));
  CHECK(dict.contains("model.emb.weight"));
  CHECK(tg::io::read_safetensors_metadata(dir.path("c.safetensors")).at("format") == "tapegrad.checkpoint.v1");
}

TEST_CASE("Checkpoint errors: a checkpoint that does not fit changes nothing") {
  tg_test::TempDir dir;
  tg::manual_seed(1);
  Net net(false);
  optim::Adam<float> adam(net.parameters(), optim::AdamOptions(0.1));
  optim::StepLR<float> scheduler(adam, 2);
  train_step(net, adam, scheduler);
  tg::io::Checkpoint<float>().model(net).optimizer(adam).scheduler(scheduler).save(dir.path("ok.safetensors"));

  tg::manual_seed(2);
  Net target(false);
  optim::SGD<float> sgd(target.parameters(), optim::SGDOptions(0.1));
  const auto before = target.fc.weight.clone();
  const std::string rng_before = tg::default_generator().get_state();
  tg::io::Checkpoint<float> wrong_kind;
  wrong_kind.model(target).optimizer(sgd);
  CHECK_THROWS_WITH(wrong_kind.load(dir.path("ok.safetensors")),
                    Contains("holds the state of optimiser Adam, not of SGD"));
  CHECK(bitwise_equal(target.fc.weight, before));
  CHECK(sgd.lr() == 0.1);
  CHECK(tg::default_generator().get_state() == rng_before);

  // A model of another shape: the optimiser and scheduler must stay as they were too.
  struct Wide : tg::nn::Module<float> {
    tg::nn::Embedding<float> emb{tg::nn::EmbeddingOptions(40, 6)};
    tg::nn::Linear<float> fc{tg::nn::LinearOptions(6, 4)};
    void visit(tg::nn::Visitor<float>& v) override {
      v("emb", emb);
      v("fc", fc);
    }
  } wide;
  optim::Adam<float> adam2(wide.parameters(), optim::AdamOptions(0.5));
  tg::io::Checkpoint<float> wrong_shape;
  wrong_shape.model(wide).optimizer(adam2);
  CHECK_THROWS_AS(wrong_shape.load(dir.path("ok.safetensors")), tg::ShapeError);
  CHECK(adam2.lr() == 0.5);

  // Not a checkpoint at all.
  tg::nn::StateDict<float> plain;
  plain.insert("w", tg::zeros<float>({2}));
  tg::io::save_safetensors(dir.path("plain.safetensors"), plain);
  tg::io::Checkpoint<float> any;
  any.model(target);
  CHECK_THROWS_AS(any.load(dir.path("plain.safetensors")), tg::FormatError);
  CHECK_THROWS_WITH(any.load(dir.path("plain.safetensors")), Contains("no \"format\" in the metadata; is this a checkpoint?"));
  CHECK_THROWS_AS(any.load(dir.path("missing.safetensors")), tg::IoError);
}

TEST_CASE("Optimizer state_dict: PyTorch's names, copies, and load_state_dict checks before it changes anything") {
  tg::manual_seed(0);
  Net net(false);
  optim::Adam<float> adam(net.parameters(), optim::AdamOptions(0.01).amsgrad(true));
  optim::StepLR<float> scheduler(adam, 5);
  train_step(net, adam, scheduler);
  const auto dict = adam.state_dict();
  REQUIRE(dict.param_groups.size() == 1);
  CHECK(dict.param_groups[0].params == std::vector<std::int64_t>{0, 1, 2});
  CHECK(dict.param_groups[0].options[0] == std::pair<std::string, std::vector<double>>{"lr", {0.01}});
  CHECK(dict.param_groups[0].options[1] == std::pair<std::string, std::vector<double>>{"betas", {0.9, 0.999}});
  REQUIRE(dict.state.size() == 3);
  CHECK(dict.state[0].second.values[0] == std::pair<std::string, std::vector<double>>{"step", {1}});
  std::vector<std::string> names;
  for (const auto& item : dict.state[0].second.tensors) names.push_back(item.first);
  CHECK(names == std::vector<std::string>{"exp_avg", "exp_avg_sq", "max_exp_avg_sq"});
  // A copy: stepping on does not change the dict taken before.
  const auto m0 = dict.state[0].second.tensors[0].second.clone();
  train_step(net, adam, scheduler);
  CHECK(bitwise_equal(dict.state[0].second.tensors[0].second, m0));

  optim::Adam<float> other(net.parameters(), optim::AdamOptions(0.5));
  auto bad = dict;
  bad.state[1].second.tensors[0].second = tg::zeros<float>({2, 2});
  CHECK_THROWS_AS(other.load_state_dict(bad), tg::ShapeError);
  CHECK_THROWS_WITH(other.load_state_dict(bad),
                    "Adam::load_state_dict: state of parameter 1: \"exp_avg\" must be a dense tensor of the parameter's "
                    "shape [3, 6], got [2, 2]");
  CHECK(other.lr() == 0.5);
  CHECK(other.state(net.fc.weight).step == 0);
  bad = dict;
  bad.param_groups[0].options[0].second = {-1.0};
  CHECK_THROWS_WITH(other.load_state_dict(bad), "Adam: lr must be >= 0, got -1");
  bad = dict;
  bad.param_groups[0].options.push_back({"momentum", {0.9}});
  CHECK_THROWS_WITH(other.load_state_dict(bad), "Adam::load_state_dict: param_groups[0]: unexpected entry \"momentum\"");
  bad = dict;
  bad.param_groups[0].params.pop_back();
  CHECK_THROWS_WITH(other.load_state_dict(bad), Contains("lists 2 parameters, this optimiser has 3"));
  bad = dict;
  bad.state[0].second.values[0].second = {1.5};
  CHECK_THROWS_WITH(other.load_state_dict(bad), Contains("\"step\" must be a whole number >= 0, got 1.5"));
  CHECK(other.lr() == 0.5);

  other.load_state_dict(dict);
  CHECK(other.lr() == 0.01);
  CHECK(other.options().amsgrad());
  CHECK(other.state(net.fc.weight).step == 1);
}

TEST_CASE("StepLR state_dict: PyTorch's names, and a loaded scheduler continues the same sequence") {
  tg::manual_seed(0);
  Net net(false);
  optim::SGD<float> sgd(net.parameters(), optim::SGDOptions(1.0));
  optim::StepLR<float> scheduler(sgd, 2, 0.5);
  for (int i = 0; i < 3; ++i) scheduler.step();
  const auto state = scheduler.state_dict();
  CHECK(state == optim::NamedValues{{"step_size", {2}}, {"gamma", {0.5}}, {"base_lrs", {1.0}}, {"last_epoch", {3}},
                                    {"_last_lr", {0.5}}});
  optim::SGD<float> sgd2(net.parameters(), optim::SGDOptions(0.5));
  optim::StepLR<float> loaded(sgd2, 10);
  loaded.load_state_dict(state);
  loaded.step();  // epoch 4: decays
  CHECK(sgd2.lr() == 0.25);
  auto bad = state;
  bad[0].second = {0};
  CHECK_THROWS_WITH(loaded.load_state_dict(bad), "StepLR: step_size must be >= 1, got 0");
  CHECK(loaded.last_epoch() == 4);
}

TEST_CASE("Generator state: set_state(get_state()) continues the same stream, the cached normal included") {
  tg::Generator gen(42);
  (void)tg::randn<double>({3}, gen);  // an odd number of normal draws leaves one cached
  const std::string state = gen.get_state();
  const auto a = tg::randn<double>({5}, gen);
  const auto u = tg::rand<float>({4}, gen);
  tg::Generator other(1);
  other.set_state(state);
  CHECK(tg::randn<double>({5}, other).to_vector() == a.to_vector());
  CHECK(tg::rand<float>({4}, other).to_vector() == u.to_vector());
  CHECK(other.initial_seed() == 42);
  const std::string before = other.get_state();
  CHECK_THROWS_AS(other.set_state("mt19937 1 2 3"), tg::ValueError);
  CHECK_THROWS_AS(other.set_state(state + " trailing"), tg::ValueError);
  CHECK(other.get_state() == before);
}

TEST_CASE("Vocabulary save and load: tokens, order and the unknown-token id, hostile files refused") {
  tg_test::TempDir dir;
  tg::io::Vocabulary vocab({"<unk>", "the", "naïve", "new\nline", ""});
  vocab.set_unk_id(0);
  vocab.save(dir.path("vocab.json"));
  const auto back = tg::io::Vocabulary::load(dir.path("vocab.json"));
  CHECK(back.tokens() == vocab.tokens());
  CHECK(back.unk_id() == std::optional<std::int64_t>(0));
  CHECK(tg_test::read_file(dir.path("vocab.json")) ==
        "{\"tokens\":[\"<unk>\",\"the\",\"naïve\",\"new\\nline\",\"\"],\"unk_id\":0}");

  tg::io::Vocabulary no_unk({"a"});
  no_unk.save(dir.path("plain.json"));
  CHECK_FALSE(tg::io::Vocabulary::load(dir.path("plain.json")).unk_id().has_value());

  const auto bad = [&](const std::string& text) { return tg::io::Vocabulary::load(dir.write("bad.json", text)); };
  CHECK_THROWS_AS(bad("{\"tokens\":[\"a\",\"a\"],\"unk_id\":null}"), tg::FormatError);
  CHECK_THROWS_WITH(bad("{\"tokens\":[\"a\",\"a\"],\"unk_id\":null}"), Contains("token \"a\" appears twice, at 0 and 1"));
  CHECK_THROWS_WITH(bad("{\"tokens\":[\"a\"],\"unk_id\":5}"), Contains("unk_id 5 is out of range [0, 1)"));
  CHECK_THROWS_WITH(bad("{\"tokens\":[\"a\"],\"extra\":1}"), Contains("unexpected field \"extra\""));
  CHECK_THROWS_WITH(bad("{\"unk_id\":null}"), Contains("no \"tokens\" field"));
  CHECK_THROWS_AS(bad("[1, 2"), tg::FormatError);
  tg::io::Vocabulary binary({std::string("\xff\xfe", 2)});
  CHECK_THROWS_WITH(binary.save(dir.path("x.json")), Contains("is not valid UTF-8"));
  CHECK_FALSE(std::filesystem::exists(dir.path("x.json")));
}

}  // namespace checkpoint_test
