// SPDX-License-Identifier: MIT
// Malformed word-vector files: each problem gives a FormatError naming the file, the line or byte offset
// and the problem (messages pinned), every truncated prefix of a valid file is caught, and corrupted
// bytes never crash the loaders.
#include <functional>

#include "io_test_util.hpp"
#include "support/test.hpp"

namespace malformed_test {  // this file's tests and helpers: apart from other files' in a unity build

using namespace tapegrad;
using io::WordVectorFormat;
using io::WordVectorLoadOptions;
using io::WordVectors;
using tg_test::f32;
using tg_test::TempDir;

namespace {

constexpr WordVectorFormat G = WordVectorFormat::Glove;
constexpr WordVectorFormat W = WordVectorFormat::Word2VecText;
constexpr WordVectorFormat B = WordVectorFormat::Word2VecBinary;

WordVectors<float> parse(std::string_view bytes, WordVectorFormat f, const WordVectorLoadOptions& o = {}) {
  return io::parse_word_vectors(bytes, f, o, f == B ? "v.bin" : "v.txt");
}

// The message of the FormatError that parsing `bytes` throws, or a note saying what happened instead.
std::string format_error(std::string_view bytes, WordVectorFormat f, const WordVectorLoadOptions& o = {}) {
  try {
    parse(bytes, f, o);
  } catch (const FormatError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a FormatError: ") + e.what();
  }
  return "no exception";
}

const std::string kOne = f32("0000803F");  // 1.0f
const std::string kNaN = f32("0000C07F");  // a quiet NaN

}  // namespace

TEST_CASE("missing files and directories: FormatError with the system's reason") {
  TempDir dir;
  const auto missing = dir.path("missing.txt");
  CHECK_THROWS_AS(io::load_glove(missing), FormatError);
  CHECK_THROWS_WITH(io::load_glove(missing), "load_glove: " + missing.string() + ": cannot open: No such file or directory");
  CHECK_THROWS_WITH(io::load_word2vec_binary(missing),
                    "load_word2vec_binary: " + missing.string() + ": cannot open: No such file or directory");
  CHECK_THROWS_WITH(io::load_fasttext(dir.path()), "load_fasttext: " + dir.path().string() + ": cannot read: Is a directory");
}

TEST_CASE("conflicting options are a ValueError raised before the file is opened") {
  const auto opt = WordVectorLoadOptions().add_pad(true).add_unk(true).unk_token("<pad>");
  CHECK_THROWS_AS(io::load_glove("does-not-matter.txt", opt), ValueError);
  CHECK_THROWS_WITH(io::load_glove("does-not-matter.txt", opt),
                    "load_glove: pad_token and unk_token are both \"<pad>\"; they must differ");
  CHECK_THROWS_WITH(WordVectorLoadOptions().pad_token(""), "WordVectorLoadOptions::pad_token: the token must not be empty");
  CHECK_THROWS_WITH(WordVectorLoadOptions().unk_token(""), "WordVectorLoadOptions::unk_token: the token must not be empty");
}

TEST_CASE("malformed GloVe text: structure") {
  CHECK(format_error("", G) == "load_glove: v.txt: the file is empty");
  CHECK(format_error("\xEF\xBB\xBF", G) == "load_glove: v.txt: the file is empty");
  CHECK(format_error("hello\n", G) == "load_glove: v.txt, line 1: expected a token followed by its numbers, found \"hello\"");
  CHECK(format_error("2 3\na 1 2 3\n", G) ==
        "load_glove: v.txt, line 1: the line \"2 3\" looks like a word2vec header, but GloVe files have no header; use "
        "load_word2vec_text or load_fasttext");
  CHECK(format_error("a 1 2 3\nb 1 2\n", G) == "load_glove: v.txt, line 2: expected a token and 3 numbers, found 3 fields");
  CHECK(format_error("a 1 2\nb\n", G) == "load_glove: v.txt, line 2: expected a token and 2 numbers, found 1 field");
  CHECK(format_error("a 1 2\n\nb 3 4\n", G) == "load_glove: v.txt, line 2: empty line (expected a token and 2 numbers)");
  CHECK(format_error("a 1 2\nb 3 4", G) ==
        "load_glove: v.txt, line 2: the file ends without a newline, so it looks truncated (GloVe, word2vec and "
        "fastText end every line with '\\n'; add one if the file is complete)");
  std::string wide = "a";
  for (int i = 0; i < 70000; ++i) wide += " 1";
  CHECK(format_error(wide + "\n", G) == "load_glove: v.txt, line 1: the line has 70000 numbers, more than the limit of 65536");
}

TEST_CASE("malformed GloVe text: tokens") {
  CHECK(format_error("a 1 2\n 3 4\n", G) == "load_glove: v.txt, line 2: empty token");
  CHECK(format_error("a 1 2\nb 3 4\na 5 6\n", G) == "load_glove: v.txt, line 3: duplicate token \"a\" (first on line 1)");
  CHECK(format_error("a 1 2\n" + std::string(5000, 'x') + " 1 2\n", G) ==
        "load_glove: v.txt, line 2: token of 5000 bytes is longer than the limit of 4096 bytes: \"" +
            std::string(40, 'x') + "\"...");
  CHECK(format_error("a 1 2\n" + std::string(4096, 'x') + " 1 2\n", G) == "no exception");  // the limit itself is fine
  CHECK(format_error("a 1 2\n<pad> 3 4\n", G, WordVectorLoadOptions().add_pad(true)) ==
        "load_glove: v.txt, line 2: token \"<pad>\" is reserved for the padding row by add_pad; rename that row with "
        "pad_token(...) or load without add_pad");
  CHECK(format_error("<unk> 1 2\n<unk> 3 4\n", G, WordVectorLoadOptions().add_unk(true)) ==
        "load_glove: v.txt, line 2: duplicate token \"<unk>\" (first on line 1)");
}

TEST_CASE("malformed GloVe text: numbers") {
  CHECK(format_error("a 1 1.0abc\n", G) == "load_glove: v.txt, line 1: bad number \"1.0abc\" (value 2 of 2)");
  CHECK(format_error("a 1,5 2\n", G) == "load_glove: v.txt, line 1: bad number \"1,5\" (value 1 of 2)");
  CHECK(format_error("a 0x10 2\n", G) == "load_glove: v.txt, line 1: bad number \"0x10\" (value 1 of 2)");
  CHECK(format_error("a 1 2\nb 1  2\n", G) == "load_glove: v.txt, line 2: value 1 of 2 is empty (two spaces in a row?)");
  CHECK(format_error("a 1\tb 2\n", G) == "load_glove: v.txt, line 1: bad number \"1\\x09b\" (value 1 of 2)");
  CHECK(format_error("a 1e39 0\n", G) == "load_glove: v.txt, line 1: number \"1e39\" (value 1 of 2) is out of range for float32");
  CHECK(format_error("a nan 0\n", G) ==
        "load_glove: v.txt, line 1: non-finite number \"nan\" (value 1 of 2); pass allow_nonfinite(true) to accept NaN "
        "and infinity");
  CHECK(format_error("a 0 -inf\n", G) ==
        "load_glove: v.txt, line 1: non-finite number \"-inf\" (value 2 of 2); pass allow_nonfinite(true) to accept NaN "
        "and infinity");
  CHECK_THROWS_WITH(io::parse_word_vectors<double>("a 1e400 0\n", G, {}, "v.txt"),
                    "load_glove: v.txt, line 1: number \"1e400\" (value 1 of 2) is out of range for float64");
}

TEST_CASE("malformed word2vec and fastText text: header") {
  CHECK(format_error("", W) == "load_word2vec_text: v.txt: the file is empty (expected a header \"count dim\")");
  CHECK(format_error("the 0.1 0.2\n", W) ==
        "load_word2vec_text: v.txt, line 1: expected a header \"count dim\" (two integers), found \"the 0.1 0.2\"; "
        "GloVe files have no header: use load_glove");
  CHECK(format_error("2\n", W) == "load_word2vec_text: v.txt, line 1: expected a header \"count dim\" (two integers), "
                                  "found \"2\"; GloVe files have no header: use load_glove");
  CHECK(format_error("2 3 4\n", W) == "load_word2vec_text: v.txt, line 1: expected a header \"count dim\" (two "
                                      "integers), found \"2 3 4\"; GloVe files have no header: use load_glove");
  CHECK(format_error("99999999999999999999 3\n", W) ==
        "load_word2vec_text: v.txt, line 1: expected a header \"count dim\" (two integers), found \"99999999999999999999 "
        "3\"; GloVe files have no header: use load_glove");
  CHECK(format_error("-1 3\n", W) == "load_word2vec_text: v.txt, line 1: negative vector count -1 in the header");
  CHECK(format_error("1 0\n", W) == "load_word2vec_text: v.txt, line 1: dimension 0 in the header must be positive");
  CHECK(format_error("1 -3\n", W) == "load_word2vec_text: v.txt, line 1: dimension -3 in the header must be positive");
  CHECK(format_error("1 100000\n", W) ==
        "load_word2vec_text: v.txt, line 1: dimension 100000 in the header exceeds the limit of 65536");
  CHECK(format_error("1000000 300\na 1 2\n", W) ==
        "load_word2vec_text: v.txt, line 1: the header announces 1000000 vectors of dimension 300, but the 6 bytes "
        "that follow can hold at most 0 (each takes at least 602 bytes): the file is truncated or the header is wrong");
  // The largest counts and dims: refused by arithmetic on the file size, before any allocation.
  CHECK(format_error("9223372036854775807 65536\na 1\n", W) ==
        "load_word2vec_text: v.txt, line 1: the header announces 9223372036854775807 vectors of dimension 65536, but "
        "the 4 bytes that follow can hold at most 0 (each takes at least 131074 bytes): the file is truncated or the "
        "header is wrong");
  CHECK(format_error("", WordVectorFormat::FastText) ==
        "load_fasttext: v.txt: the file is empty (expected a header \"count dim\")");
}

TEST_CASE("malformed word2vec and fastText text: rows") {
  CHECK(format_error("3 2\na 0.100000 0.200000\nb 0.300000 0.400000\n", W) ==
        "load_word2vec_text: v.txt, line 4: the file ends after 2 of the 3 vectors the header announces (truncated "
        "file or wrong count)");
  CHECK(format_error("1 2\na 1 2\nb 3 4\n", W) ==
        "load_word2vec_text: v.txt, line 3: more lines than the 1 vectors the header announces (wrong count?)");
  CHECK(format_error("1 2\na 1 2\n\n", W) ==
        "load_word2vec_text: v.txt, line 3: more lines than the 1 vectors the header announces (wrong count?)");
  CHECK(format_error("1 2\nnew york 1 2\n", W) ==
        "load_word2vec_text: v.txt, line 2: expected 3 fields (a token and 2 numbers), found 4 (word2vec and fastText "
        "tokens cannot contain spaces)");
  CHECK(format_error("1 2\na 1 2 3\n", W) ==
        "load_word2vec_text: v.txt, line 2: expected 3 fields (a token and 2 numbers), found 4 (word2vec and fastText "
        "tokens cannot contain spaces)");
  CHECK(format_error("1 3\nabc 1.5 2.5\n", W) ==
        "load_word2vec_text: v.txt, line 2: expected a token and 3 numbers, found 3 fields");
  CHECK(format_error("2 2\na 1 2\na 3 4\n", W) == "load_word2vec_text: v.txt, line 3: duplicate token \"a\" (first on line 2)");
  CHECK(format_error("1 2\na 1.5 2.5", W) ==
        "load_word2vec_text: v.txt, line 2: the file ends without a newline, so it looks truncated (GloVe, word2vec and "
        "fastText end every line with '\\n'; add one if the file is complete)");
}

TEST_CASE("malformed word2vec binary: header") {
  CHECK(format_error("", B) == "load_word2vec_binary: v.bin: the file is empty (expected a header \"count dim\")");
  CHECK(format_error("2 2", B) ==
        "load_word2vec_binary: v.bin, byte 0: expected a header line \"count dim\" ending in a newline, found \"2 2\"");
  CHECK(format_error(std::string(100, '1'), B) == "load_word2vec_binary: v.bin, byte 0: expected a header line \"count "
                                                  "dim\" ending in a newline, found \"" + std::string(40, '1') + "\"...");
  CHECK(format_error("x y\n", B) ==
        "load_word2vec_binary: v.bin, byte 0: expected a header \"count dim\" (two integers), found \"x y\"");
  CHECK(format_error("-5 2\n", B) == "load_word2vec_binary: v.bin, byte 0: negative vector count -5 in the header");
  CHECK(format_error("1 0\n", B) == "load_word2vec_binary: v.bin, byte 0: dimension 0 in the header must be positive");
  CHECK(format_error("1 65537\n", B) ==
        "load_word2vec_binary: v.bin, byte 0: dimension 65537 in the header exceeds the limit of 65536");
  // count * (4 * dim + 2) must fit in the bytes after the header: checked before allocating.
  CHECK(format_error("2 2\na " + kOne + kOne + "\n", B) ==
        "load_word2vec_binary: v.bin, byte 0: the header announces 2 vectors of dimension 2, but the 11 bytes that "
        "follow can hold at most 1 (each takes at least 10 bytes): the file is truncated or the header is wrong");
  CHECK(format_error("3000000000 300\n" + std::string(100, 'x'), B) ==
        "load_word2vec_binary: v.bin, byte 0: the header announces 3000000000 vectors of dimension 300, but the 100 "
        "bytes that follow can hold at most 0 (each takes at least 1202 bytes): the file is truncated or the header is "
        "wrong");
}

TEST_CASE("malformed word2vec binary: rows") {
  // Offsets: header 0-3, "abcdefghij" 4-13, ' ' 14, vector 15-22, '\n' 23, "b" 24, ' ' 25, vector 26-33.
  CHECK(format_error("2 2\nabcdefghij " + kOne + kOne + "\nb " + kOne, B) ==
        "load_word2vec_binary: v.bin, byte 26: the file ends inside the vector of token \"b\" (8 bytes needed, 4 left)");
  CHECK(format_error("2 2\nabcdefghij " + kOne + kOne + "\nbcdefg", B) ==
        "load_word2vec_binary: v.bin, byte 24: the file ends inside a token: \"bcdefg\"");
  CHECK(format_error("2 2\nabcdefghijklmnopqrstuvwxyz " + kOne + kOne + "\n", B) ==
        "load_word2vec_binary: v.bin, byte 40: the file ends after 1 of the 2 vectors the header announces (truncated "
        "file or wrong count)");
  CHECK(format_error("1 2\na " + kOne + kOne + "\nb " + kOne + kOne, B) ==
        "load_word2vec_binary: v.bin, byte 15: unexpected data after the 1 vectors the header announces (wrong count?)");
  CHECK(format_error("2 2\na " + kOne + kOne + "\n\nb " + kOne + kOne, B) ==
        "load_word2vec_binary: v.bin, byte 15: token \"\\x0Ab\" contains a newline (at most one '\\n' may separate two "
        "vectors)");
  CHECK(format_error("2 2\na " + kOne + kOne + "\n " + kOne + kOne, B) == "load_word2vec_binary: v.bin, byte 15: empty token");
  CHECK(format_error("2 2\na " + kOne + kOne + "\na " + kOne + kOne, B) ==
        "load_word2vec_binary: v.bin, byte 15: duplicate token \"a\" (first at byte 4)");
  CHECK(format_error("1 2\na " + kOne + kNaN, B) ==
        "load_word2vec_binary: v.bin, byte 10: non-finite value nan (value 2 of 2 of token \"a\"); pass "
        "allow_nonfinite(true) to accept NaN and infinity");
  CHECK(format_error("1 1\n" + std::string(5000, 'x') + " " + kOne, B) ==
        "load_word2vec_binary: v.bin, byte 4: no space within 4097 bytes: a token is longer than the limit of 4096 "
        "bytes, or the file is damaged");
  CHECK(format_error("1 1\n" + std::string(4096, 'x') + " " + kOne, B) == "no exception");
  CHECK(format_error("2 3\nking 0.1 0.2 0.3\nqueen 0.4 0.5 0.6\n", B) ==
        "load_word2vec_binary: v.bin, byte 9: the vector of token \"king\" looks like text (\"0.1 0.2 0.3\\x0A\"); for "
        "word2vec text files use load_word2vec_text");
}

TEST_CASE("errors from files name the path and the file loaders agree with parse_word_vectors") {
  TempDir dir;
  const auto path = dir.write("bad.txt", "a 1 2\nb 3 x\n");
  CHECK_THROWS_AS(io::load_glove(path), FormatError);
  CHECK_THROWS_WITH(io::load_glove(path), "load_glove: " + path.string() + ", line 2: bad number \"x\" (value 2 of 2)");
  CHECK_THROWS_WITH(io::load_word_vectors(path, G), "load_glove: " + path.string() + ", line 2: bad number \"x\" (value 2 of 2)");
  CHECK_THROWS_WITH(io::parse_word_vectors("a 1 2\nb 3 x\n", G), "load_glove: <memory>, line 2: bad number \"x\" (value 2 of 2)");
  const auto bin = dir.write("bad.bin", "1 2\na " + kOne);
  CHECK_THROWS_WITH(io::load_word2vec_binary(bin),
                    "load_word2vec_binary: " + bin.string() + ", byte 0: the header announces 1 vectors of dimension 2, "
                    "but the 6 bytes that follow can hold at most 0 (each takes at least 10 bytes): the file is truncated "
                    "or the header is wrong");
}

TEST_CASE("overlong lines are refused without reading them whole") {
  const std::string line(detail::kMaxLineBytes + 10, 'x');
  CHECK(format_error(line, G) == "load_glove: v.txt, line 1: line is longer than the limit of 16777216 bytes");
  CHECK(format_error("1 2\n" + line + "\n", W) ==
        "load_word2vec_text: v.txt, line 2: line is longer than the limit of 16777216 bytes");
}

namespace {

// Loads every proper prefix of `file`, from memory and from a file: each must throw FormatError,
// except where `valid(prefix_length)` says the prefix is itself a complete file, which must then
// load the leading rows of the full file unchanged.
void check_prefixes(const std::string& file, WordVectorFormat f, const std::function<bool(std::size_t)>& valid) {
  TempDir dir;
  const WordVectors<float> full = parse(file, f);
  for (std::size_t n = 0; n < file.size(); ++n) {
    const std::string prefix = file.substr(0, n);
    const auto path = dir.write("prefix", prefix);
    for (int from_file = 0; from_file < 2; ++from_file) {
      INFO("prefix of " << n << " bytes" << (from_file ? " (from a file)" : ""));
      if (!valid(n)) {
        CHECK_THROWS_AS(from_file ? io::load_word_vectors(path, f) : parse(prefix, f), FormatError);
        continue;
      }
      const WordVectors<float> part = from_file ? io::load_word_vectors(path, f) : parse(prefix, f);
      const std::int64_t rows = part.size();
      REQUIRE(rows <= full.size());
      CHECK(std::vector<std::string>(full.vocab.tokens().begin(), full.vocab.tokens().begin() + rows) ==
            part.vocab.tokens());
      CHECK(std::equal(part.weight.data(), part.weight.data() + part.weight.numel(), full.weight.data()));
    }
  }
}

}  // namespace

TEST_CASE("every truncated prefix of a GloVe file is refused except those ending a line") {
  const std::string file = "the 0.25 -1.5\n. . . 3 4\nnew york 1e-3 2\r\n";
  check_prefixes(file, G, [&](std::size_t n) { return n > 0 && file[n - 1] == '\n'; });
}

TEST_CASE("every truncated prefix of a word2vec or fastText text file is refused") {
  const std::string file = "3 2\nthe 0.25 -1.5 \n, 3 4 \nyork 1e-3 2 \n";
  check_prefixes(file, W, [](std::size_t) { return false; });
  check_prefixes(file, WordVectorFormat::FastText, [](std::size_t) { return false; });
}

TEST_CASE("every truncated prefix of a word2vec binary file is refused except the one missing the last newline") {
  const std::string file = "3 2\nthe " + kOne + f32("000000C0") + "\n, " + kOne + kOne + "\nyork " + kOne + kOne + "\n";
  check_prefixes(file, B, [&](std::size_t n) { return n == file.size() - 1; });
}

TEST_CASE("corrupting any byte of a valid file never crashes a loader") {
  const std::string files[] = {"a 0.25 -1.5\nb 3 4\n", "2 2\na 0.25 -1.5 \nb 3 4 \n",
                               "2 2\na " + kOne + kOne + "\nb " + kOne + kNaN + "\n"};
  const char replacements[] = {'\0', '\n', ' ', '\r', '-', '9', 'e', '\xff'};
  const WordVectorFormat formats[] = {G, W, B};
  int loaded = 0, refused = 0;
  for (const std::string& file : files)
    for (const WordVectorFormat f : formats)
      for (std::size_t i = 0; i < file.size(); ++i)
        for (const char c : replacements) {
          std::string bad = file;
          bad[i] = c;
          for (const auto& opt : {WordVectorLoadOptions(), WordVectorLoadOptions().lowercase(true).add_pad(true).add_unk(true)}) {
            try {
              const auto wv = parse(bad, f, opt);
              CHECK(wv.weight.size(0) == wv.vocab.size());  // whatever loads is consistent
              ++loaded;
            } catch (const FormatError&) {
              ++refused;
            }
          }
        }
  CHECK(loaded > 0);
  CHECK(refused > 0);
}

}  // namespace malformed_test
