// SPDX-License-Identifier: MIT
// Vocabulary: ids in insertion order, lookups both ways, the unknown-token fallback, and its errors.
#include "support/test.hpp"

namespace vocabulary_test {  // this file's tests and helpers: apart from other files' in a unity build

using tapegrad::IndexError;
using tapegrad::ValueError;
using tapegrad::io::Vocabulary;

TEST_CASE("Vocabulary gives ids in insertion order and maps both ways") {
  Vocabulary v;
  CHECK(v.empty());
  CHECK(v.add("优") == 0);
  CHECK(v.add("良") == 1);
  CHECK(v.add("差") == 2);
  CHECK(v.add("良") == 1);  // already present: same id, nothing added
  CHECK(v.size() == 3);
  CHECK(v.tokens() == std::vector<std::string>{"优", "良", "差"});
  CHECK(v.id("差") == 2);
  CHECK(v.token(0) == "优");
  CHECK(v.contains("良"));
  CHECK_FALSE(v.contains("好"));
  CHECK(v.find("良") == std::optional<std::int64_t>(1));
  CHECK_FALSE(v.find("好").has_value());
  CHECK(v.ids({"差", "优", "差"}) == std::vector<std::int64_t>{2, 0, 2});
}

TEST_CASE("Vocabulary::id of an unknown token throws an IndexError saying what to do") {
  const Vocabulary v({"a", "b", "c"});
  CHECK_THROWS_AS(v.id("zebra"), IndexError);
  CHECK_THROWS_WITH(v.id("zebra"), "Vocabulary::id: unknown token \"zebra\" in a vocabulary of 3 tokens without an "
                                   "unknown-token id (test with contains() or find(), or set a fallback with "
                                   "set_unk_id())");
  CHECK_THROWS_WITH(v.ids({"a", "zebra"}), tg_test::Contains("unknown token \"zebra\""));
}

TEST_CASE("Vocabulary::token checks the id against the valid half-open range") {
  const Vocabulary v({"a", "b", "c"});
  CHECK_THROWS_AS(v.token(3), IndexError);
  CHECK_THROWS_WITH(v.token(3), "Vocabulary::token: id 3 is out of range [0, 3)");
  CHECK_THROWS_WITH(v.token(-1), "Vocabulary::token: id -1 is out of range [0, 3)");
  CHECK_THROWS_WITH(Vocabulary().token(0), "Vocabulary::token: id 0 is out of range [0, 0)");
}

TEST_CASE("Vocabulary unknown-token fallback applies to id() but not to find()") {
  Vocabulary v({"<unk>", "a", "b"});
  CHECK_FALSE(v.unk_id().has_value());
  v.set_unk_id(0);
  CHECK(v.unk_id() == std::optional<std::int64_t>(0));
  CHECK(v.id("zebra") == 0);
  CHECK(v.id("b") == 2);
  CHECK_FALSE(v.find("zebra").has_value());
  CHECK_FALSE(v.contains("zebra"));
  CHECK_THROWS_AS(v.set_unk_id(3), IndexError);
  CHECK_THROWS_WITH(v.set_unk_id(3), "Vocabulary::set_unk_id: id 3 is out of range [0, 3)");
  CHECK(v.unk_id() == std::optional<std::int64_t>(0));  // unchanged by the failed call
  v.set_unk_id(std::nullopt);
  CHECK_THROWS_AS(v.id("zebra"), IndexError);
}

TEST_CASE("Vocabulary from a token list rejects a repeated token") {
  CHECK_THROWS_AS(Vocabulary({"a", "b", "a"}), ValueError);
  CHECK_THROWS_WITH(Vocabulary({"a", "b", "a"}), "Vocabulary: token \"a\" appears twice, at positions 0 and 2");
}

TEST_CASE("Vocabulary keeps arbitrary bytes and quotes them safely in messages") {
  Vocabulary v;
  const std::string odd("\xff\x01 x", 4);
  CHECK(v.add(odd) == 0);
  CHECK(v.token(0) == odd);
  CHECK_THROWS_WITH(v.id(std::string("\xfe\n", 2)), tg_test::Contains("unknown token \"\\xFE\\x0A\""));
}

}  // namespace vocabulary_test
