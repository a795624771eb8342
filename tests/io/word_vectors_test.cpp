// SPDX-License-Identifier: MIT
// Word-vector loaders on well-formed files: each format, the options, streaming across buffer refills,
// and round trips through the savers. Expected values are written by hand (float literals, hex bytes).
#include <cmath>
#include <limits>

#include "io_test_util.hpp"
#include "support/test.hpp"

namespace word_vectors_test {  // this file's tests and helpers: apart from other files' in a unity build

using namespace tapegrad;
using io::WordVectorFormat;
using io::WordVectorLoadOptions;
using io::WordVectors;
using tg_test::f32;
using tg_test::row;
using tg_test::TempDir;
using Strings = std::vector<std::string>;
using Floats = std::vector<float>;

TEST_CASE("load_glove reads tokens and values and infers dim from the first line") {
  TempDir dir;
  const auto path = dir.write("glove.txt", "the 0.1 -0.2 3e-1\n, 1 2 3\n");
  const WordVectors<float> wv = io::load_glove(path);
  CHECK(wv.vocab.tokens() == Strings{"the", ","});
  CHECK(wv.weight.shape() == Shape{2, 3});
  CHECK(wv.dim() == 3);
  CHECK(wv.size() == 2);
  CHECK(row(wv, "the") == Floats{0.1f, -0.2f, 0.3f});
  CHECK(row(wv, ",") == Floats{1, 2, 3});
  CHECK_FALSE(wv.weight.requires_grad());
  CHECK_FALSE(wv.vocab.unk_id().has_value());
  CHECK(wv.lowercase_collisions == 0);
}

TEST_CASE("load_glove: tokens may contain spaces since the last dim fields are the numbers") {
  const auto wv = io::parse_word_vectors("the 1 2\n. . . 0.5 0.25\nnew york -1 -2\n  2 3\nroute 66 7 8\n",
                                         WordVectorFormat::Glove);
  CHECK(wv.vocab.tokens() == Strings{"the", ". . .", "new york", " ", "route 66"});
  CHECK(row(wv, "route 66") == Floats{7, 8});
  CHECK(row(wv, ". . .") == Floats{0.5f, 0.25f});
  CHECK(row(wv, "new york") == Floats{-1, -2});
  CHECK(row(wv, " ") == Floats{2, 3});
}

TEST_CASE("load_glove accepts CRLF line endings and trailing spaces and a UTF-8 byte-order mark") {
  const auto wv = io::parse_word_vectors("\xEF\xBB\xBF" "a 1 2 \r\nb 3 4\r\nc 5 6  \n", WordVectorFormat::Glove);
  CHECK(wv.vocab.tokens() == Strings{"a", "b", "c"});
  CHECK(row(wv, "b") == Floats{3, 4});
  CHECK(row(wv, "c") == Floats{5, 6});
}

TEST_CASE("load_glove keeps token bytes as they are: UTF-8 and invalid UTF-8 alike") {
  const auto wv = io::parse_word_vectors("优 1 2\n\xff\xfe 3 4\nÉcole 5 6\n", WordVectorFormat::Glove);
  CHECK(wv.vocab.tokens() == Strings{"优", "\xff\xfe", "École"});
}

TEST_CASE("load_word2vec_text reads the header and word2vec's trailing spaces") {
  TempDir dir;
  const auto path = dir.write("w2v.txt", "2 3\nking 0.5 0.25 -1 \nqueen 1e-3 2 3 \n");
  const auto wv = io::load_word2vec_text(path);
  CHECK(wv.vocab.tokens() == Strings{"king", "queen"});
  CHECK(row(wv, "king") == Floats{0.5f, 0.25f, -1});
  CHECK(row(wv, "queen") == Floats{1e-3f, 2, 3});
}

TEST_CASE("load_fasttext reads a .vec file (word2vec text layout with CRLF tolerated)") {
  TempDir dir;
  const auto path = dir.write("ft.vec", "3 2\r\n</s> 0.1 0.2 \r\n, -0.3 0.4 \r\nthe 5 6 \r\n");
  const auto wv = io::load_fasttext(path);
  CHECK(wv.vocab.tokens() == Strings{"</s>", ",", "the"});
  CHECK(row(wv, ",") == Floats{-0.3f, 0.4f});
}

TEST_CASE("load_word2vec_text accepts a header announcing zero vectors") {
  const auto wv = io::parse_word_vectors("0 4\n", WordVectorFormat::Word2VecText);
  CHECK(wv.weight.shape() == Shape{0, 4});
  CHECK(wv.size() == 0);
}

namespace {
// Hand-made word2vec binary: 1.0 = 0000803F, -2.0 = 000000C0, 0.5 = 0000003F, 3.0 = 00004040 (little-endian).
const std::string kVecA = f32("0000803F") + f32("000000C0");
const std::string kVecB = f32("0000003F") + f32("00004040");
}  // namespace

TEST_CASE("load_word2vec_binary reads little-endian float32 with or without the newline after a vector") {
  TempDir dir;
  for (const std::string& body : {"a " + kVecA + "\n" + "bb " + kVecB + "\n",  // as word2vec writes it
                                  "a " + kVecA + "bb " + kVecB,                // no newlines at all
                                  "a " + kVecA + "\n" + "bb " + kVecB}) {      // mixed
    const auto path = dir.write("v.bin", "2 2\n" + body);
    const auto wv = io::load_word2vec_binary(path);
    CHECK(wv.vocab.tokens() == Strings{"a", "bb"});
    CHECK(row(wv, "a") == Floats{1, -2});
    CHECK(row(wv, "bb") == Floats{0.5f, 3});
  }
}

TEST_CASE("load_word2vec_binary takes any bytes but space and newline in tokens and a CRLF header") {
  const auto wv = io::parse_word_vectors("2 2\r\n优 " + kVecA + "\n\xff\t\r " + kVecB + "\n",
                                         WordVectorFormat::Word2VecBinary);
  CHECK(wv.vocab.tokens() == Strings{"优", "\xff\t\r"});
}

TEST_CASE("load_word_vectors dispatches on the format") {
  TempDir dir;
  const auto glove = dir.write("g.txt", "a 1 2\n");
  const auto text = dir.write("w.txt", "1 2\na 1 2\n");
  const auto bin = dir.write("w.bin", "1 2\na " + kVecA + "\n");
  CHECK(io::load_word_vectors(glove, WordVectorFormat::Glove).vocab.tokens() == Strings{"a"});
  CHECK(io::load_word_vectors(text, WordVectorFormat::Word2VecText).vocab.tokens() == Strings{"a"});
  CHECK(io::load_word_vectors(text, WordVectorFormat::FastText).vocab.tokens() == Strings{"a"});
  CHECK(row(io::load_word_vectors(bin, WordVectorFormat::Word2VecBinary), "a") == Floats{1, -2});
  CHECK_THROWS_WITH(io::load_word_vectors(bin, static_cast<WordVectorFormat>(9)),
                    "load_word_vectors: unknown WordVectorFormat 9");
}

TEST_CASE("loaders produce double tensors when asked") {
  const auto text = io::parse_word_vectors<double>("a 0.1 1e39\n", WordVectorFormat::Glove);
  CHECK(text.weight.shape() == Shape{1, 2});
  CHECK(row(text, "a") == std::vector<double>{0.1, 1e39});
  const auto bin = io::parse_word_vectors<double>("1 2\na " + kVecA, WordVectorFormat::Word2VecBinary);
  CHECK(row(bin, "a") == std::vector<double>{1.0, -2.0});
}

TEST_CASE("WordVectors::vector copies a token's row") {
  const auto wv = io::parse_word_vectors("a 1 2\nb 3 4\n", WordVectorFormat::Glove);
  const Tensor<float> b = wv.vector("b");
  CHECK(tg_test::close(b, {3, 4}, Shape{2}, 0, 0));
  CHECK_THROWS_AS(wv.vector("zebra"), IndexError);
}

TEST_CASE("max_vectors stops reading early: the rest of the file is never looked at") {
  const WordVectorLoadOptions two = WordVectorLoadOptions().max_vectors(2);
  CHECK(two.max_vectors() == std::optional<std::int64_t>(2));
  auto glove = io::parse_word_vectors("a 1 2\nb 3 4\nthis line is not a vector\n", WordVectorFormat::Glove, two);
  CHECK(glove.vocab.tokens() == Strings{"a", "b"});
  CHECK(glove.weight.shape() == Shape{2, 2});
  // A header announcing far more vectors than present: the head of a truncated download still loads.
  auto text = io::parse_word_vectors("1000000 2\na 1 2\nb 3 4\nc 5", WordVectorFormat::Word2VecText, two);
  CHECK(text.vocab.tokens() == Strings{"a", "b"});
  auto bin = io::parse_word_vectors("3 2\na " + kVecA + "\nbb " + kVecB + "\nc \x01", WordVectorFormat::Word2VecBinary,
                                    two);
  CHECK(bin.vocab.tokens() == Strings{"a", "bb"});
  auto none = io::parse_word_vectors("a 1 2 3\nb 3 4 5\n", WordVectorFormat::Glove, WordVectorLoadOptions().max_vectors(0));
  CHECK(none.weight.shape() == Shape{0, 3});
  CHECK_THROWS_AS(WordVectorLoadOptions().max_vectors(-1), ValueError);
  CHECK_THROWS_WITH(WordVectorLoadOptions().max_vectors(-1), "WordVectorLoadOptions::max_vectors: n = -1 must be >= 0");
}

TEST_CASE("lowercase folds A-Z and on a collision the first row wins and the others are counted") {
  const std::string file = "The 1 2\nthe 3 4\nTHE 5 6\nApple 7 8\nÉCOLE 9 10\n";
  const auto folded = io::parse_word_vectors(file, WordVectorFormat::Glove, WordVectorLoadOptions().lowercase(true));
  CHECK(folded.vocab.tokens() == Strings{"the", "apple", "École"});  // only ASCII letters are folded
  CHECK(row(folded, "the") == Floats{1, 2});
  CHECK(row(folded, "apple") == Floats{7, 8});
  CHECK(folded.lowercase_collisions == 2);
  CHECK(folded.weight.shape() == Shape{3, 2});
  const auto kept = io::parse_word_vectors(file, WordVectorFormat::Glove);
  CHECK(kept.vocab.tokens() == Strings{"The", "the", "THE", "Apple", "ÉCOLE"});
  CHECK(kept.lowercase_collisions == 0);
  // Rows skipped as collisions count towards max_vectors: it limits what is read.
  const auto head = io::parse_word_vectors(file, WordVectorFormat::Glove,
                                           WordVectorLoadOptions().lowercase(true).max_vectors(3));
  CHECK(head.vocab.tokens() == Strings{"the"});
}

TEST_CASE("add_pad puts a zero row at id 0 and add_unk adds the mean row and the fallback id") {
  const std::string file = "a 1 2\nb 3 5\n";
  const auto both = io::parse_word_vectors(file, WordVectorFormat::Glove,
                                           WordVectorLoadOptions().add_pad(true).add_unk(true));
  CHECK(both.vocab.tokens() == Strings{"<pad>", "<unk>", "a", "b"});
  CHECK(tg_test::close(both.weight, {0, 0, 2, 3.5, 1, 2, 3, 5}, Shape{4, 2}, 0, 0));
  CHECK(both.vocab.unk_id() == std::optional<std::int64_t>(1));
  CHECK(both.vocab.id("zebra") == 1);
  CHECK(both.vocab.id("<pad>") == 0);

  const auto unk = io::parse_word_vectors(file, WordVectorFormat::Glove, WordVectorLoadOptions().add_unk(true));
  CHECK(unk.vocab.tokens() == Strings{"<unk>", "a", "b"});
  CHECK(unk.vocab.unk_id() == std::optional<std::int64_t>(0));

  const auto pad = io::parse_word_vectors(file, WordVectorFormat::Glove,
                                          WordVectorLoadOptions().add_pad(true).pad_token("[PAD]"));
  CHECK(pad.vocab.tokens() == Strings{"[PAD]", "a", "b"});
  CHECK_FALSE(pad.vocab.unk_id().has_value());

  const auto named = io::parse_word_vectors("1 2\na 1 2\n", WordVectorFormat::Word2VecText,
                                            WordVectorLoadOptions().add_unk(true).unk_token("[UNK]"));
  CHECK(named.vocab.tokens() == Strings{"[UNK]", "a"});
  CHECK(row(named, "[UNK]") == Floats{1, 2});

  const auto empty = io::parse_word_vectors("0 3\n", WordVectorFormat::Word2VecText,
                                            WordVectorLoadOptions().add_pad(true).add_unk(true));
  CHECK(tg_test::close(empty.weight, {0, 0, 0, 0, 0, 0}, Shape{2, 3}, 0, 0));  // no vectors: a zero mean
}

TEST_CASE("add_unk uses the file's own unknown-token row when there is one") {
  const std::string file = "a 1 2\n<unk> 9 8\nb 3 4\n";
  const auto wv = io::parse_word_vectors(file, WordVectorFormat::Glove,
                                         WordVectorLoadOptions().add_pad(true).add_unk(true));
  CHECK(wv.vocab.tokens() == Strings{"<pad>", "<unk>", "a", "b"});
  CHECK(row(wv, "<unk>") == Floats{9, 8});
  const auto plain = io::parse_word_vectors(file, WordVectorFormat::Glove);  // without add_unk: an ordinary token
  CHECK(plain.vocab.tokens() == Strings{"a", "<unk>", "b"});
  CHECK_FALSE(plain.vocab.unk_id().has_value());
  const auto folded = io::parse_word_vectors("<UNK> 9 8\na 1 2\n<unk> 7 7\n", WordVectorFormat::Glove,
                                             WordVectorLoadOptions().add_unk(true).lowercase(true));
  CHECK(row(folded, "<unk>") == Floats{9, 8});
  CHECK(folded.lowercase_collisions == 1);
}

TEST_CASE("allow_nonfinite lets NaN and infinity through") {
  const auto opt = WordVectorLoadOptions().allow_nonfinite(true);
  const auto text = io::parse_word_vectors("a nan -inf\n", WordVectorFormat::Glove, opt);
  CHECK(std::isnan(row(text, "a")[0]));
  CHECK(row(text, "a")[1] == -std::numeric_limits<float>::infinity());
  const auto bin = io::parse_word_vectors("1 2\na " + f32("0000C07F") + f32("0000807F"),
                                          WordVectorFormat::Word2VecBinary, opt);
  CHECK(std::isnan(row(bin, "a")[0]));
  CHECK(row(bin, "a")[1] == std::numeric_limits<float>::infinity());
}

namespace {
// Deterministic awkward values: subnormals, extremes, signed zero, thirds, large and tiny magnitudes.
std::vector<float> awkward_values(std::size_t n) {
  const float special[] = {0.0f, -0.0f, 1.0f / 3, -2.0f / 3, std::numeric_limits<float>::max(),
                           std::numeric_limits<float>::lowest(), std::numeric_limits<float>::denorm_min(),
                           std::numeric_limits<float>::min(), 1e-30f, 123456.789f};
  std::vector<float> out(n);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = i < std::size(special) ? special[i] : std::ldexp(static_cast<float>(i % 97) - 48.5f, static_cast<int>(i % 13) - 6);
  return out;
}
}  // namespace

TEST_CASE("save_word2vec_text and save_word2vec_binary round-trip tokens and exact values") {
  TempDir dir;
  WordVectors<float> wv;
  for (const char* t : {"a", "优", "\xff\x01", "<pad>", "x\ry"}) wv.vocab.add(t);
  wv.weight = tapegrad::tensor<float>(awkward_values(5 * 7), {5, 7});
  io::save_word2vec_text(dir.path("v.txt"), wv);
  io::save_word2vec_binary(dir.path("v.bin"), wv);
  const auto text = io::load_word2vec_text(dir.path("v.txt"));
  const auto bin = io::load_word2vec_binary(dir.path("v.bin"));
  CHECK(text.vocab.tokens() == wv.vocab.tokens());
  CHECK(bin.vocab.tokens() == wv.vocab.tokens());
  CHECK(tg_test::same_bits(text.weight, wv.weight));
  CHECK(tg_test::same_bits(bin.weight, wv.weight));

  WordVectors<double> wd;
  wd.vocab.add("third");
  wd.weight = tapegrad::tensor<double>({1.0 / 3, 1e300, -5e-324}, {1, 3});
  io::save_word2vec_text(dir.path("d.txt"), wd);
  CHECK(tg_test::same_bits(io::load_word2vec_text<double>(dir.path("d.txt")).weight, wd.weight));
}

TEST_CASE("the savers write the documented layouts byte for byte") {
  TempDir dir;
  WordVectors<float> wv;
  wv.vocab = io::Vocabulary({"a", "bb"});
  wv.weight = tapegrad::tensor<float>({1, -2, 0.5f, 3}, {2, 2});
  io::save_word2vec_text(dir.path("v.txt"), wv);
  io::save_word2vec_binary(dir.path("v.bin"), wv);
  CHECK(tg_test::read_file(dir.path("v.txt")) == "2 2\na 1 -2\nbb 0.5 3\n");
  CHECK(tg_test::read_file(dir.path("v.bin")) == "2 2\na " + kVecA + "\nbb " + kVecB + "\n");
}

TEST_CASE("the savers refuse what a word2vec file cannot hold before creating the file") {
  TempDir dir;
  WordVectors<float> wv;
  wv.vocab = io::Vocabulary({"ok", "new york"});
  wv.weight = tapegrad::zeros<float>({2, 3});
  CHECK_THROWS_AS(io::save_word2vec_text(dir.path("v.txt"), wv), ValueError);
  CHECK_THROWS_WITH(io::save_word2vec_text(dir.path("v.txt"), wv),
                    "save_word2vec_text: token 1 (\"new york\") contains a space, which a word2vec file cannot hold");
  CHECK_FALSE(std::filesystem::exists(dir.path("v.txt")));
  wv.vocab = io::Vocabulary({"a", "b", "c"});
  CHECK_THROWS_AS(io::save_word2vec_binary(dir.path("v.bin"), wv), ShapeError);
  CHECK_THROWS_WITH(io::save_word2vec_binary(dir.path("v.bin"), wv),
                    "save_word2vec_binary: weight of shape [2, 3] does not fit a vocabulary of 3 tokens (expected "
                    "[3, dim] with dim in [1, 65537))");
  WordVectors<double> big;
  big.vocab = io::Vocabulary({"a"});
  big.weight = tapegrad::tensor<double>({1.0, 1e300}, {1, 2});
  CHECK_THROWS_WITH(io::save_word2vec_binary(dir.path("v.bin"), big),
                    "save_word2vec_binary: value 1e+300 at [0, 1] is out of range for float32, the only type "
                    "word2vec binary files hold");
  wv.vocab = io::Vocabulary({"a", "b"});
  const auto missing = dir.path("no/such/dir/v.txt");
  CHECK_THROWS_AS(io::save_word2vec_text(missing, wv), FormatError);
  CHECK_THROWS_WITH(io::save_word2vec_text(missing, wv),
                    "save_word2vec_text: " + missing.string() + ": cannot create: No such file or directory");
}

TEST_CASE("loading streams across buffer refills and lines longer than the first buffer") {
  TempDir dir;
  // ~3 MiB of GloVe text: three refills of the 1 MiB buffer, with lines cut at every refill.
  std::string text;
  const int rows = 30000, dim = 10;
  for (int i = 0; i < rows; ++i) {
    text += "w" + std::to_string(i);
    for (int j = 0; j < dim; ++j) text += " " + std::to_string(i % 1000) + "." + std::to_string(j) + "5";
    text += "\n";
  }
  const auto wv = io::load_glove(dir.write("big.txt", text));
  REQUIRE(wv.weight.shape() == Shape{rows, dim});
  bool all_match = true;
  for (int i = 0; i < rows; i += 997)
    for (int j = 0; j < dim; ++j)
      all_match &= wv.weight.data()[i * dim + j] == std::stof(std::to_string(i % 1000) + "." + std::to_string(j) + "5");
  CHECK(all_match);
  CHECK(wv.vocab.token(rows - 1) == "w" + std::to_string(rows - 1));

  // One line of ~1.3 MiB (longer than the 1 MiB buffer), then a short one.
  std::string wide = "wide";
  const int big_dim = 60000;
  for (int j = 0; j < big_dim; ++j) wide += " 0.0000000000000000025";
  wide += "\nnext";
  for (int j = 0; j < big_dim; ++j) wide += " 1";
  wide += "\n";
  const auto w = io::load_glove(dir.write("wide.txt", wide));
  REQUIRE(w.weight.shape() == Shape{2, big_dim});
  CHECK(w.weight.data()[big_dim - 1] == 2.5e-18f);
  CHECK(w.weight.data()[2 * big_dim - 1] == 1.0f);

  // ~2.4 MiB of word2vec binary.
  std::string bin = "2000 300\n";
  for (int i = 0; i < 2000; ++i) {
    bin += "t" + std::to_string(i) + " ";
    for (int j = 0; j < 300; ++j) bin += f32(j % 2 ? "0000803F" : "000000C0");
    bin += "\n";
  }
  const auto b = io::load_word2vec_binary(dir.write("big.bin", bin));
  REQUIRE(b.weight.shape() == Shape{2000, 300});
  CHECK(row(b, "t1999")[298] == -2.0f);
  CHECK(row(b, "t1999")[299] == 1.0f);
}

}  // namespace word_vectors_test
