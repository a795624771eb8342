// SPDX-License-Identifier: MIT
// tg::data: datasets, DataLoader (order against PyTorch 1.13's DataLoader), collation, tokenizer,
// vocabulary builder and the fastText / CSV / TSV readers.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "support/golden.hpp"
#include "support/test.hpp"

namespace data_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace data = tapegrad::data;
using tg_test::Contains;

namespace {

const tg_test::Golden& golden() {
  static const tg_test::Golden g("data");
  return g;
}

std::string file(const std::string& name) { return std::string(TAPEGRAD_DATA_FILES_DIR) + "/" + name; }

data::VectorDataset<std::int64_t> numbers(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return data::VectorDataset<std::int64_t>(v);
}

// Every batch of one epoch, each a vector of examples.
template <class Loader>
std::vector<std::vector<std::int64_t>> epoch(Loader& loader) {
  std::vector<std::vector<std::int64_t>> batches;
  for (auto& batch : loader) batches.push_back(batch);
  return batches;
}

std::vector<std::int64_t> flatten(const std::vector<std::vector<std::int64_t>>& batches) {
  std::vector<std::int64_t> out;
  for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
  return out;
}

std::vector<std::int64_t> as_int64(const std::vector<double>& v) { return {v.begin(), v.end()}; }

}  // namespace

// ---- datasets -------------------------------------------------------------------------------------

TEST_CASE("VectorDataset: size, get and an index out of range") {
  const auto ds = numbers(3);
  static_assert(data::is_dataset_v<data::VectorDataset<std::int64_t>>);
  static_assert(!data::is_dataset_v<std::vector<int>>);
  CHECK(ds.size() == 3);
  CHECK(ds.get(2) == 2);
  CHECK_THROWS_AS(ds.get(3), tg::IndexError);
  CHECK_THROWS_WITH(ds.get(3), Contains("index 3 is out of range for a dataset of 3 examples"));
}

TEST_CASE("TensorDataset: rows of inputs and targets, stacked back by StackCollate") {
  const auto x = tg::tensor<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  const auto y = tg::tensor<std::int64_t>({7, 8, 9});
  data::TensorDataset<float> ds(x, y);
  CHECK(ds.size() == 3);
  const auto e = ds.get(1);
  CHECK(tg_test::close(e.input, {3, 4}, {2}));
  CHECK(e.target.item() == 8);
  CHECK_THROWS_AS(ds.get(3), tg::IndexError);
  CHECK_THROWS_AS(data::TensorDataset<float>(x, tg::tensor<std::int64_t>({1, 2})), tg::ShapeError);

  data::DataLoader loader(ds, data::DataLoaderOptions(2), data::StackCollate{});
  std::vector<std::int64_t> sizes;
  for (auto& batch : loader) sizes.push_back(batch.size());
  CHECK(sizes == std::vector<std::int64_t>{2, 1});
  const auto first = *loader.begin();
  CHECK(tg_test::close(first.inputs, {1, 2, 3, 4}, {2, 2}));
  CHECK(first.targets.to_vector() == std::vector<std::int64_t>{7, 8});
}

// ---- DataLoader -----------------------------------------------------------------------------------

TEST_CASE("DataLoader: in order without shuffle, last batch kept or dropped") {
  auto keep = data::make_data_loader(numbers(7), data::DataLoaderOptions(3));
  CHECK(keep.size() == 3);
  CHECK(epoch(keep) == std::vector<std::vector<std::int64_t>>{{0, 1, 2}, {3, 4, 5}, {6}});
  auto drop = data::make_data_loader(numbers(7), data::DataLoaderOptions(3).drop_last(true));
  CHECK(drop.size() == 2);
  CHECK(epoch(drop) == std::vector<std::vector<std::int64_t>>{{0, 1, 2}, {3, 4, 5}});
  auto exact = data::make_data_loader(numbers(6), data::DataLoaderOptions(3).drop_last(true));
  CHECK(exact.size() == 2);
  CHECK(flatten(epoch(exact)).size() == 6);
  auto empty = data::make_data_loader(numbers(0), data::DataLoaderOptions(4));
  CHECK(empty.size() == 0);
  CHECK(epoch(empty).empty());
  auto small = data::make_data_loader(numbers(2), data::DataLoaderOptions(5).drop_last(true));
  CHECK(small.size() == 0);
  CHECK(epoch(small).empty());
  CHECK_THROWS_WITH(data::make_data_loader(numbers(3), data::DataLoaderOptions(0)),
                    Contains("DataLoader: batch_size = 0 must be at least 1"));
}

TEST_CASE("DataLoader: shuffling visits every example once per epoch, a new order each epoch") {
  auto loader = data::make_data_loader(numbers(50), data::DataLoaderOptions(8).shuffle(true).seed(1));
  std::vector<std::int64_t> previous;
  for (int e = 0; e < 4; ++e) {
    const auto batches = epoch(loader);
    CHECK(batches.size() == 7);
    CHECK(batches.back().size() == 2);
    auto seen = flatten(batches);
    CHECK(seen != previous);
    previous = seen;
    std::sort(seen.begin(), seen.end());
    CHECK(seen == flatten({numbers(50).examples()}));
  }
  auto dropping = data::make_data_loader(numbers(50), data::DataLoaderOptions(8).shuffle(true).seed(1).drop_last(true));
  const auto seen = flatten(epoch(dropping));
  CHECK(seen.size() == 48);
  CHECK(std::set<std::int64_t>(seen.begin(), seen.end()).size() == 48);  // no example twice
}

TEST_CASE("DataLoader: same seed, same order, different seeds, different orders") {
  auto a = data::make_data_loader(numbers(30), data::DataLoaderOptions(4).shuffle(true).seed(7));
  auto b = data::make_data_loader(numbers(30), data::DataLoaderOptions(4).shuffle(true).seed(7));
  auto c = data::make_data_loader(numbers(30), data::DataLoaderOptions(4).shuffle(true).seed(8));
  for (int e = 0; e < 3; ++e) {
    const auto order_a = flatten(epoch(a));
    CHECK(order_a == flatten(epoch(b)));
    CHECK(order_a != flatten(epoch(c)));
  }
}

TEST_CASE("DataLoader: a seeded loader visits examples in PyTorch 1.13's order, epoch after epoch") {
  struct Case {
    std::uint64_t seed;
    std::int64_t n, batch;
    bool drop_last;
  };
  for (const Case& k : {Case{0, 10, 3, false}, Case{5, 10, 3, true}, Case{42, 33, 4, false}, Case{7, 12, 4, false},
                        Case{7, 12, 5, true}, Case{123, 1, 1, false}, Case{3, 100, 16, false}}) {
    auto loader = data::make_data_loader(
        numbers(k.n), data::DataLoaderOptions(k.batch).shuffle(true).drop_last(k.drop_last).seed(k.seed));
    for (int e = 0; e < 3; ++e) {
      const std::string key = tg::detail::cat("seeded/", k.seed, "_", k.n, "_", k.batch, "_", int(k.drop_last), "/epoch", e);
      INFO(key);
      CHECK(flatten(epoch(loader)) == as_int64(golden().values(key)));
    }
  }
}

TEST_CASE("DataLoader: without a seed it draws from the default generator as PyTorch's does") {
  struct Case {
    std::uint64_t seed;
    std::int64_t n, batch;
    bool shuffle;
  };
  for (const Case& k : {Case{0, 10, 3, true}, Case{9, 17, 5, true}, Case{0, 10, 3, false}}) {
    const std::string prefix = tg::detail::cat("global/", k.seed, "_", k.n, "_", k.batch, "_", int(k.shuffle), "/");
    INFO(prefix);
    tg::manual_seed(k.seed);
    auto loader = data::make_data_loader(numbers(k.n), data::DataLoaderOptions(k.batch).shuffle(k.shuffle));
    for (int e = 0; e < 2; ++e) CHECK(flatten(epoch(loader)) == as_int64(golden().values(prefix + "epoch" + std::to_string(e))));
    // What the global generator gives next shows the loader took exactly PyTorch's draws from it.
    CHECK(tg_test::close(tg::rand<double>({4}), golden().values(prefix + "rand_after"), {4}, 0, 0));
  }
}

// ---- collate --------------------------------------------------------------------------------------

TEST_CASE("collate_bags: EmbeddingBag's indices and offsets, empty bags included") {
  const std::vector<data::TokenExample> batch{{{4, 5, 6}, 1}, {{}, 0}, {{7}, 2}, {{8, 9}, 1}};
  const data::BagBatch b = data::collate_bags(batch);
  CHECK(b.indices.to_vector() == std::vector<std::int64_t>{4, 5, 6, 7, 8, 9});
  CHECK(b.offsets.to_vector() == std::vector<std::int64_t>{0, 3, 3, 4});
  CHECK(b.labels.to_vector() == std::vector<std::int64_t>{1, 0, 2, 1});
  CHECK(b.size() == 4);
  // The bags feed EmbeddingBag directly: the empty bag gives a row of zeros.
  tg::manual_seed(0);
  tg::nn::EmbeddingBag<float> bag(tg::nn::EmbeddingBagOptions(10, 2).mode(tg::nn::EmbeddingBagMode::Sum));
  const auto out = bag(b.indices, b.offsets);
  CHECK(out.shape() == tg::Shape{4, 2});
  CHECK(out.to_vector()[2] == 0.0f);
  CHECK(out.to_vector()[3] == 0.0f);
  const data::BagBatch none = data::collate_bags({});
  CHECK(none.indices.shape() == tg::Shape{0});
  CHECK(none.offsets.shape() == tg::Shape{0});
}

TEST_CASE("collate_padded: a [B, L] batch filled with padding_idx, lengths and labels") {
  const std::vector<data::TokenExample> batch{{{4, 5, 6}, 1}, {{}, 0}, {{7}, 2}};
  const data::PaddedBatch p = data::collate_padded(batch, 0);
  CHECK(p.ids.shape() == tg::Shape{3, 3});
  CHECK(p.ids.to_vector() == std::vector<std::int64_t>{4, 5, 6, 0, 0, 0, 7, 0, 0});
  CHECK(p.lengths.to_vector() == std::vector<std::int64_t>{3, 0, 1});
  CHECK(p.labels.to_vector() == std::vector<std::int64_t>{1, 0, 2});
  const data::PaddedBatch cut = data::PadCollate{-1, 2}(batch);
  CHECK(cut.ids.to_vector() == std::vector<std::int64_t>{4, 5, -1, -1, 7, -1});
  CHECK(cut.lengths.to_vector() == std::vector<std::int64_t>{2, 0, 1});
  const data::PaddedBatch blank = data::collate_padded({{{}, 3}, {{}, 4}}, 1);
  CHECK(blank.ids.shape() == tg::Shape{2, 0});
  CHECK_THROWS_WITH(data::collate_padded(batch, 0, -1), Contains("max_length = -1 must be non-negative"));
}

TEST_CASE("DataLoader: token examples in EmbeddingBag layout through BagCollate") {
  data::VectorDataset<data::TokenExample> ds({{{1, 2}, 0}, {{3}, 1}, {{4, 5, 6}, 1}});
  data::DataLoader loader(ds, data::DataLoaderOptions(2), data::BagCollate{});
  std::vector<std::vector<std::int64_t>> offsets;
  for (const data::BagBatch& b : loader) offsets.push_back(b.offsets.to_vector());
  CHECK(offsets == std::vector<std::vector<std::int64_t>>{{0, 2}, {0}});
}

// ---- tokenizer and vocabulary ---------------------------------------------------------------------

TEST_CASE("Tokenizer: whitespace, lower-casing and the punctuation modes") {
  using V = std::vector<std::string>;
  CHECK(data::tokenize("Hello, World!  It's   fine.") == V{"hello", ",", "world", "!", "it's", "fine", "."});
  CHECK(data::tokenize("'quoted' rock'n'roll e-mail") == V{"'", "quoted", "'", "rock'n'roll", "e", "-", "mail"});
  const auto keep = data::TokenizerOptions().lowercase(false).punctuation(data::Punctuation::Keep);
  CHECK(data::tokenize("Hello, World!\tok\n", keep) == V{"Hello,", "World!", "ok"});
  const auto drop = data::TokenizerOptions().punctuation(data::Punctuation::Drop);
  CHECK(data::tokenize("Hello,World! (yes)", drop) == V{"hello", "world", "yes"});
  CHECK(data::tokenize("") == V{});
  CHECK(data::tokenize(" \t\r\n ") == V{});
}

TEST_CASE("Tokenizer: CJK ideographs one per token, CJK punctuation, other UTF-8 untouched") {
  using V = std::vector<std::string>;
  CHECK(data::tokenize("质量很优，推荐!") == V{"质", "量", "很", "优", "，", "推", "荐", "!"});
  CHECK(data::tokenize("质量很优，推荐", data::TokenizerOptions().punctuation(data::Punctuation::Drop)) ==
        V{"质", "量", "很", "优", "推", "荐"});
  CHECK(data::tokenize("优良", data::TokenizerOptions().split_cjk(false)) == V{"优良"});
  CHECK(data::tokenize("Café ÉTÉ") == V{"café", "ÉtÉ"});  // only ASCII letters are lower-cased
  CHECK(data::tokenize("a\xff b") == V{"a\xff", "b"});      // a malformed byte stays, nothing is lost
  CHECK(data::tokenize("x\xE4\xBC") == V{"x\xE4\xBC"});     // a truncated sequence at the end too
}

TEST_CASE("VocabularyBuilder: specials first, then by frequency, ties in byte order") {
  data::VocabularyBuilder builder;
  builder.add({"b", "a", "c", "a", "d"});
  builder.add({"c", "a", "e", "<unk>"});
  CHECK(builder.count("a") == 3);
  CHECK(builder.count("zzz") == 0);
  CHECK(builder.distinct() == 6);
  const tg::io::Vocabulary v = builder.build();
  CHECK(v.tokens() == std::vector<std::string>{"<pad>", "<unk>", "a", "c", "b", "d", "e"});
  CHECK(v.unk_id() == 1);
  CHECK(v.id("never seen") == 1);
  CHECK(builder.build(data::VocabularyOptions().min_count(2)).tokens() == std::vector<std::string>{"<pad>", "<unk>", "a", "c"});
  CHECK(builder.build(data::VocabularyOptions().max_size(4)).tokens() == std::vector<std::string>{"<pad>", "<unk>", "a", "c"});
  CHECK(builder.build(data::VocabularyOptions().max_size(2)).size() == 2);
  const auto plain = builder.build(data::VocabularyOptions().specials({}).unk_token(std::nullopt));
  CHECK(plain.tokens() == std::vector<std::string>{"a", "c", "<unk>", "b", "d", "e"});
  CHECK_FALSE(plain.unk_id());
  CHECK_THROWS_WITH(builder.build(data::VocabularyOptions().min_count(0)), Contains("min_count = 0 must be at least 1"));
  CHECK_THROWS_WITH(builder.build(data::VocabularyOptions().max_size(1)), Contains("max_size = 1 leaves no room for the 2 specials"));
  CHECK_THROWS_WITH(builder.build(data::VocabularyOptions().unk_token("<oov>")), Contains("\"<oov>\" is not one of the specials"));
  CHECK_THROWS_AS(builder.build(data::VocabularyOptions().specials({"<pad>", "<pad>"})), tg::ValueError);
  CHECK(data::build_vocabulary({{"x", "y", "y"}}).tokens() == std::vector<std::string>{"<pad>", "<unk>", "y", "x"});
}

// ---- readers --------------------------------------------------------------------------------------

TEST_CASE("read_fasttext: labels anywhere in the line, all kept, blank lines skipped") {
  const auto ex = data::read_fasttext(file("good.ft"));
  REQUIRE(ex.size() == 3);
  CHECK(ex[0].labels == std::vector<std::string>{"pos"});
  CHECK(ex[0].text == "This film was great!");
  CHECK(ex[0].line == 1);
  CHECK(ex[1].labels == std::vector<std::string>{"neg", "boring"});
  CHECK(ex[1].label() == "neg");
  CHECK(ex[1].text == "Dull, slow and far too long.");
  CHECK(ex[2].labels == std::vector<std::string>{"pos", "recommend"});
  CHECK(ex[2].text == "I loved it");
  CHECK(ex[2].line == 4);
  CHECK(data::label_vocabulary(ex).tokens() == std::vector<std::string>{"boring", "neg", "pos", "recommend"});
  const auto custom = data::parse_fasttext("#A x y\n", "mem", "#");
  CHECK(custom[0].labels == std::vector<std::string>{"A"});
}

TEST_CASE("read_fasttext: a bad line is named by file and line") {
  CHECK_THROWS_AS(data::read_fasttext(file("no_label.ft")), tg::FormatError);
  CHECK_THROWS_WITH(data::read_fasttext(file("no_label.ft")),
                    Contains("read_fasttext: " + file("no_label.ft") + ":3: no label (expected words like __label__<name>"));
  CHECK_THROWS_WITH(data::parse_fasttext("__label__a ok\n\n__label__ text\n", "x.txt"),
                    Contains("parse_fasttext: x.txt:3: empty label \"__label__\""));
  CHECK_THROWS_AS(data::read_fasttext(file("missing.ft")), tg::IoError);
}

TEST_CASE("read_csv: RFC 4180 quoting, a header, fields over two lines") {
  const auto ex = data::read_csv(file("reviews.csv"), data::DelimitedOptions().header(true));
  REQUIRE(ex.size() == 4);
  CHECK(ex[0].label() == "pos");
  CHECK(ex[0].text == "Great, really great");
  CHECK(ex[0].line == 2);
  CHECK(ex[1].text == "He said \"meh\" and left");
  CHECK(ex[2].text == "two\nlines");
  CHECK(ex[3].text == "plain text");
  CHECK(ex[3].line == 6);
  // Columns picked by number, CRLF line ends, a byte order mark, a trailing empty field.
  const auto swapped = data::parse_text_labels("\xEF\xBB\xBFhello,a\r\n\"x,y\",b\r\n", "m.csv",
                                               data::DelimitedOptions().label_column(1).text_column(0));
  REQUIRE(swapped.size() == 2);
  CHECK(swapped[1].label() == "b");
  CHECK(swapped[1].text == "x,y");
  const auto records = data::parse_delimited("a,\n,\n", "m.csv");
  CHECK(records[0].fields == std::vector<std::string>{"a", ""});
  CHECK(records[1].fields == std::vector<std::string>{"", ""});
}

TEST_CASE("read_csv: bad records are named by file and line") {
  CHECK_THROWS_WITH(data::read_csv(file("bad_fields.csv"), data::DelimitedOptions().header(true)),
                    Contains("read_csv: " + file("bad_fields.csv") + ":4: expected 2 fields, got 3"));
  CHECK_THROWS_WITH(data::read_csv(file("unclosed.csv")),
                    Contains(file("unclosed.csv") + ":2: field 2 opens a quote that is never closed"));
  CHECK_THROWS_WITH(data::parse_text_labels("a,b\nc,\"d\"e\n", "q.csv"), Contains("q.csv:2: unexpected \"e\" after the closing quote of field 2"));
  CHECK_THROWS_WITH(data::parse_text_labels("onlyone\n", "one.csv"), Contains("one.csv:1: expected at least 2 fields"));
  CHECK_THROWS_WITH(data::parse_text_labels("x\n,text\n", "e.csv"), Contains("e.csv:2: expected 1 field, got 2"));
  CHECK_THROWS_WITH(data::parse_text_labels(",text\n", "e.csv"), Contains("e.csv:1: empty label in column 0"));
}

TEST_CASE("read_tsv: tabs, comments, quotes inside unquoted fields taken literally") {
  const auto ex = data::read_tsv(file("reviews.tsv"), data::DelimitedOptions().comment('#'));
  REQUIRE(ex.size() == 2);
  CHECK(ex[0].label() == "pos");
  CHECK(ex[0].text == "great, really");
  CHECK(ex[0].line == 2);
  CHECK(ex[1].text == "awful \"quoted\" word");
}

TEST_CASE("encode_texts: token ids through the vocabulary, the first label through the labels") {
  const auto texts = data::parse_fasttext("__label__pos Good good film\n__label__neg __label__x bad film\n", "m");
  const data::Tokenizer tokenizer;
  data::VocabularyBuilder builder;
  for (const auto& t : texts) builder.add(tokenizer(t.text));
  const auto vocab = builder.build();  // <pad> <unk> film good bad
  const auto ds = data::encode_texts(texts, tokenizer, vocab, tg::io::Vocabulary({"neg", "pos"}));
  REQUIRE(ds.size() == 2);
  CHECK(ds.get(0).ids == std::vector<std::int64_t>{3, 3, 2});
  CHECK(ds.get(0).label == 1);
  CHECK(ds.get(1).ids == std::vector<std::int64_t>{4, 2});
  CHECK(ds.get(1).label == 0);
  CHECK_THROWS_WITH(data::encode_texts(texts, tokenizer, vocab, tg::io::Vocabulary({"pos"})),
                    Contains("the label \"neg\" of line 2 is not one of the 1 known labels"));
}

}  // namespace data_test
