// SPDX-License-Identifier: MIT
// The loaders' building blocks: strict locale-free number parsing and the quoting of bytes in messages.
#include <clocale>
#include <limits>

#include "support/test.hpp"

namespace input_test {  // this file's tests and helpers: apart from other files' in a unity build

using tapegrad::detail::parse_real;
using tapegrad::detail::parse_real_stream;
using tapegrad::detail::ParseStatus;
using tapegrad::detail::quote;

namespace {

template <class T>
ParseStatus parse(std::string_view s, T& out) {
  return parse_real(s.data(), s.data() + s.size(), out);
}

}  // namespace

TEST_CASE("parse_real accepts exactly the decimal numbers and rounds like the compiler") {
  float f = 0;
  CHECK(parse("0.1", f) == ParseStatus::ok);
  CHECK(f == 0.1f);
  CHECK(parse("-2.5e-3", f) == ParseStatus::ok);
  CHECK(f == -2.5e-3f);
  CHECK(parse("+7", f) == ParseStatus::ok);
  CHECK(f == 7.0f);
  CHECK(parse(".5", f) == ParseStatus::ok);
  CHECK(f == 0.5f);
  CHECK(parse("3.", f) == ParseStatus::ok);
  CHECK(f == 3.0f);
  CHECK(parse("1E2", f) == ParseStatus::ok);
  CHECK(f == 100.0f);
  CHECK(parse("3.4028235e+38", f) == ParseStatus::ok);  // FLT_MAX's shortest text
  CHECK(f == std::numeric_limits<float>::max());
  double d = 0;
  CHECK(parse("0.1", d) == ParseStatus::ok);
  CHECK(d == 0.1);
  CHECK(parse("-0", d) == ParseStatus::ok);
  CHECK((d == 0 && std::signbit(d)));
}

TEST_CASE("parse_real rejects trailing garbage and spaces and commas and hex and doubled signs") {
  float f = 0;
  for (const char* bad : {"", "1.0abc", "1e", "1,5", " 1", "1 ", "0x10", "++1", "+-1", "--1", "+", "-", ".", "e5", "abc",
                          "1.0.0", "1e5e5"}) {
    INFO("input: \"" << bad << "\"");
    CHECK(parse(bad, f) == ParseStatus::bad);
  }
}

TEST_CASE("parse_real: NaN and infinity parse while overflow is out_of_range and underflow rounds to zero") {
  float f = 0;
  CHECK(parse("nan", f) == ParseStatus::ok);
  CHECK(std::isnan(f));
  CHECK(parse("-inf", f) == ParseStatus::ok);
  CHECK((std::isinf(f) && f < 0));
  CHECK(parse("1e39", f) == ParseStatus::out_of_range);
  CHECK(parse("-1e39", f) == ParseStatus::out_of_range);
  CHECK(parse("1e-50", f) == ParseStatus::ok);
  CHECK(f == 0.0f);
  CHECK(parse("-1e-50", f) == ParseStatus::ok);
  CHECK((f == 0.0f && std::signbit(f)));
  CHECK(parse("1e-45", f) == ParseStatus::ok);  // the smallest float32 subnormal survives
  CHECK(f == std::numeric_limits<float>::denorm_min());
  double d = 0;
  CHECK(parse("1e39", d) == ParseStatus::ok);
  CHECK(d == 1e39);
  CHECK(parse("1e400", d) == ParseStatus::out_of_range);
  CHECK(parse("1e-400", d) == ParseStatus::ok);
  CHECK(d == 0.0);
}

TEST_CASE("parse_real does not depend on the C locale") {
  const std::string old = std::setlocale(LC_NUMERIC, nullptr);
  // A decimal-comma locale, where one is installed (strtod would then reject "1.5" and accept "1,5").
  if (!std::setlocale(LC_NUMERIC, "de_DE.UTF-8")) std::setlocale(LC_NUMERIC, "fr_FR.UTF-8");
  float f = 0;
  const ParseStatus dot = parse("1.5", f);
  const float dot_value = f;
  const ParseStatus comma = parse("1,5", f);
  std::setlocale(LC_NUMERIC, old.c_str());
  CHECK(dot == ParseStatus::ok);
  CHECK(dot_value == 1.5f);
  CHECK(comma == ParseStatus::bad);
}

TEST_CASE("parse_real_stream (the fallback without std::from_chars) agrees on ordinary numbers") {
  const auto stream = [](std::string_view s, double& out) { return parse_real_stream(s.data(), s.data() + s.size(), out); };
  double d = 0;
  CHECK(stream("0.1", d) == ParseStatus::ok);
  CHECK(d == 0.1);
  CHECK(stream("-2.5e-3", d) == ParseStatus::ok);
  CHECK(d == -2.5e-3);
  for (const char* bad : {"", "1.0abc", " 1", "1,5", "0x10", "+1", "nan"}) {
    INFO("input: \"" << bad << "\"");
    CHECK(stream(bad, d) == ParseStatus::bad);
  }
}

TEST_CASE("quote escapes control bytes and invalid UTF-8 but keeps valid UTF-8 and cuts long text") {
  CHECK(quote("abc") == "\"abc\"");
  CHECK(quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(quote(std::string("\x01\n\x7f", 3)) == "\"\\x01\\x0A\\x7F\"");
  CHECK(quote("优良") == "\"优良\"");
  CHECK(quote("\xff\xfe") == "\"\\xFF\\xFE\"");
  CHECK(quote("\xe4\xbc") == "\"\\xE4\\xBC\"");          // a cut-off 3-byte sequence
  CHECK(quote("\xed\xa0\x80") == "\"\\xED\\xA0\\x80\"");  // an encoded surrogate
  CHECK(quote("\xc0\xaf") == "\"\\xC0\\xAF\"");          // an overlong '/'
  CHECK(quote(std::string(50, 'x'), 10) == "\"xxxxxxxxxx\"...");
  CHECK(quote("ab优", 3) == "\"ab\"...");  // never splits a character
}

}  // namespace input_test
