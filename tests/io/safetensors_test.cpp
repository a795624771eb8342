// SPDX-License-Identifier: MIT
// safetensors: byte-exact output against the reference implementation's own test vectors, round
// trips, element conversions checked against hand-made bytes, metadata, the atomic-write guarantee,
// the JSON reader, and a catalogue of malformed files with their messages pinned.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <tapegrad/io/safetensors.hpp>

#include "io_test_util.hpp"
#include "support/test.hpp"

namespace safetensors_test {  // this file's tests and helpers: apart from other files' in a unity build

using namespace tapegrad;
using io::LoadOptions;
using tg_test::Contains;
using tg_test::TempDir;

namespace {

using Meta = std::map<std::string, std::string>;

// Little-endian bytes of an integer of `n` bytes.
std::string le(std::uint64_t v, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
  return out;
}
std::string le_f32(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return le(b, 4);
}
std::string le_f64(double f) {
  std::uint64_t b;
  std::memcpy(&b, &f, 8);
  return le(b, 8);
}

// A file as the spec lays it out: u64 header length, the header, the data.
std::string st_file(const std::string& header, const std::string& data = "") { return le(header.size(), 8) + header + data; }

// Reads a memory block as the fuzz target does; the file is called "bad.safetensors" in messages.
template <class T = float>
nn::StateDict<T> read_mem(const std::string& bytes, const LoadOptions& o = {}, Meta* meta = nullptr) {
  io::detail::ReadFile file("load_safetensors", std::string_view(bytes), "bad.safetensors");
  return io::detail::read_safetensors<T>(file, o, meta);
}

// The message of the FormatError that reading `bytes` throws, or a note saying what happened instead.
std::string format_error(const std::string& bytes) {
  try {
    read_mem<float>(bytes);
  } catch (const FormatError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a FormatError: ") + e.what();
  }
  return "no exception";
}

template <class T>
std::string value_error(const std::string& bytes, const LoadOptions& o = {}) {
  try {
    read_mem<T>(bytes, o);
  } catch (const ValueError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a ValueError: ") + e.what();
  }
  return "no exception";
}

template <class T>
std::string written(const nn::StateDict<T>& d, const Meta& m = {}) {
  io::detail::MemorySink sink;
  io::detail::write_safetensors(sink, d, m);
  return sink.bytes;
}

template <class T>
std::vector<T> values(const Tensor<T>& t) {
  return std::vector<T>(t.data(), t.data() + t.numel());
}

// Same bits, element by element (so NaN and -0 are compared exactly).
template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

const char* const kEntry = R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";

}  // namespace

// ---- the writer against the reference implementation's own test vectors -------------------------------

TEST_CASE("safetensors: writer output is byte-identical to the reference crate's test vectors") {
  // safetensors/src/tensor.rs, test_serialization: "attn.0", F32 [1, 2, 3] holding 0..5.
  const std::vector<int> expected = {
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34,
      70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95,
      111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0,
      64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64};
  nn::StateDict<float> d;
  d.insert("attn.0", tensor<float>({0, 1, 2, 3, 4, 5}, {1, 2, 3}));
  const std::string out = written(d);
  CHECK(std::vector<int>(reinterpret_cast<const unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(out.data()) + out.size()) == expected);

  // test_serialization_forced_alignement: "attn0" [1, 1, 2, 3]: the header is padded with 7 spaces.
  nn::StateDict<float> d2;
  d2.insert("attn0", tensor<float>({0, 1, 2, 3, 4, 5}, {1, 1, 2, 3}));
  const std::string out2 = written(d2);
  CHECK(out2.substr(0, 8) == le(72, 8));
  CHECK(out2.substr(8, 72) == R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})" + std::string(7, ' '));

  // test_empty: no tensors, then only {"framework": "pt"} as metadata.
  CHECK(written(nn::StateDict<float>()) == le(8, 8) + "{}      ");
  CHECK(written(nn::StateDict<float>(), {{"framework", "pt"}}) ==
        le(40, 8) + R"({"__metadata__":{"framework":"pt"}})" + "     ");
}

// ---- round trips --------------------------------------------------------------------------------------

template <class T>
void round_trip_case() {
  TempDir dir;
  nn::StateDict<T> d;
  d.insert("z.last", tensor<T>({T(1), T(2), T(3), T(4), T(5), T(6)}, {2, 3}));
  d.insert("a.scalar", scalar_tensor<T>(T(-7)));
  d.insert("m.empty", tensor<T>({}, {0, 4}));
  d.insert("b.vec", tensor<T>({T(100), std::numeric_limits<T>::max(), std::numeric_limits<T>::lowest()}, {3}));
  io::save_safetensors(dir.path("m.safetensors"), d);
  const auto back = io::load_safetensors<T>(dir.path("m.safetensors"));
  REQUIRE(back.keys() == d.keys());  // the writer's order comes back (the order of the data offsets)
  for (const auto& [name, t] : d) {
    CHECK(back.at(name).shape() == t.shape());
    CHECK(same_bits(values(back.at(name)), values(t)));
  }
  // The data region is exactly the elements, in order, after an 8-byte aligned header.
  const std::string bytes = tg_test::read_file(dir.path("m.safetensors"));
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);
  CHECK(bytes.size() == 8 + n + (6 + 1 + 0 + 3) * sizeof(T));
  const std::string header = bytes.substr(8, n);
  CHECK_THAT(header, Contains(tapegrad::detail::cat("\"dtype\":\"", io::detail::dtype_name(io::detail::dtype_of<T>()), "\"")));
  CHECK_THAT(header, Contains(R"("a.scalar":{"dtype")"));
  CHECK_THAT(header, Contains(R"("shape":[],)"));
  CHECK_THAT(header, Contains(R"("m.empty":{"dtype":")"));
  CHECK(header.find("__metadata__") == std::string::npos);
}

TEST_CASE("safetensors: float, double, int64 and int32 round trips keep order, shapes (0-d, empty) and bits") {
  round_trip_case<float>();
  round_trip_case<double>();
  round_trip_case<std::int64_t>();
  round_trip_case<std::int32_t>();
}

TEST_CASE("safetensors: non-finite floats and -0 round trip bit for bit") {
  TempDir dir;
  nn::StateDict<float> d;
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  d.insert("x", tensor<float>({nan, inf, -inf, -0.0f, std::numeric_limits<float>::denorm_min()}, {5}));
  io::save_safetensors(dir.path("x.safetensors"), d);
  CHECK(same_bits(values(io::load_safetensors<float>(dir.path("x.safetensors")).at("x")), values(d.at("x"))));
}

TEST_CASE("safetensors: entries come back in the order of their data offsets, whatever the header's order") {
  // Hand-made: the header lists "b" (data second) before "a" (data first), and "e" (empty) last.
  const std::string header =
      R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
      R"("e":{"data_offsets":[8,8],"shape":[0],"dtype":"F64"}})";
  const auto d = read_mem(st_file(header, le_f32(1.5f) + le_f32(-2.0f)));
  CHECK(d.keys() == std::vector<std::string>{"a", "b", "e"});
  CHECK(values(d.at("a")) == std::vector<float>{1.5f});
  CHECK(values(d.at("b")) == std::vector<float>{-2.0f});
  CHECK(d.at("e").shape() == Shape{0});
}

TEST_CASE("safetensors: a header padded with spaces, and an empty file of tensors, load") {
  CHECK(read_mem(st_file("{}      ")).empty());
  CHECK(read_mem(st_file(std::string("{") + kEntry + "}   \t\n", le_f32(1) + le_f32(2))).size() == 1);
}

// ---- conversions ------------------------------------------------------------------------------------------

TEST_CASE("safetensors: F16 edge values load exactly as float and double") {
  // Bits and values computed independently of the converter: ldexp of the IEEE binary16 fields.
  const std::vector<std::uint16_t> bits = {0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x3C00, 0xC000,
                                           0x7BFF, 0x3555, 0x7C00, 0xFC00, 0x7E00};
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> expected = {0.0f, -0.0f, std::ldexp(1.0f, -24), std::ldexp(1023.0f, -24), std::ldexp(1.0f, -14),
                                       1.0f, -2.0f, 65504.0f, std::ldexp(1365.0f, -12), inf, -inf, std::nanf("")};
  std::string data;
  for (auto b : bits) data += le(b, 2);
  const std::string file =
      st_file(tapegrad::detail::cat(R"({"h":{"dtype":"F16","shape":[3,4],"data_offsets":[0,)", data.size(), "]}}"), data);
  const auto f = values(read_mem<float>(file).at("h"));
  REQUIRE(f.size() == expected.size());
  for (std::size_t i = 0; i + 1 < f.size(); ++i) {
    CHECK(f[i] == expected[i]);
    CHECK(std::signbit(f[i]) == std::signbit(expected[i]));
  }
  CHECK(std::isnan(f.back()));
  const auto d = values(read_mem<double>(file).at("h"));
  CHECK(d[2] == std::ldexp(1.0, -24));
  CHECK(d[7] == 65504.0);
  CHECK(std::isnan(d[11]));
}

TEST_CASE("safetensors: BF16 edge values load exactly as float") {
  const std::vector<std::uint16_t> bits = {0x3F80, 0xC040, 0x0001, 0x0080, 0x7F7F, 0x7F80, 0xFF80, 0x7FC0, 0x8000};
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> expected = {1.0f, -3.0f, std::ldexp(1.0f, -133), std::ldexp(1.0f, -126),
                                       std::ldexp(255.0f, 120), inf, -inf, 0.0f /*NaN*/, -0.0f};
  std::string data;
  for (auto b : bits) data += le(b, 2);
  const auto f = values(
      read_mem<float>(st_file(R"({"b":{"dtype":"BF16","shape":[9],"data_offsets":[0,18]}})", data)).at("b"));
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (i == 7) {
      CHECK(std::isnan(f[i]));
      continue;
    }
    CHECK(f[i] == expected[i]);
    CHECK(std::signbit(f[i]) == std::signbit(expected[i]));
  }
}

TEST_CASE("safetensors: F64 to float is refused when it rounds, and rounds to nearest with allow_lossy") {
  const std::string file = st_file(R"({"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}})", le_f64(0.5) + le_f64(0.1));
  CHECK(value_error<float>(file) ==
        "load_safetensors: bad.safetensors: entry \"d\" is F64 and cannot be loaded as F32: element 1 = 0.1 has no exact "
        "value in the target type (LoadOptions().allow_lossy(true) rounds it)");
  CHECK(values(read_mem<float>(file, LoadOptions().allow_lossy(true)).at("d")) == std::vector<float>{0.5f, 0.1f});
  CHECK(values(read_mem<double>(file).at("d")) == std::vector<double>{0.5, 0.1});
}

TEST_CASE("safetensors: integers beyond 2^24 into float are refused, exact ones load") {
  const std::string ok = st_file(R"({"i":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})",
                                 le(16777216, 8) + le(static_cast<std::uint64_t>(-3), 8));
  CHECK(values(read_mem<float>(ok).at("i")) == std::vector<float>{16777216.0f, -3.0f});
  const std::string bad = st_file(R"({"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", le(16777217, 8));
  CHECK_THAT(value_error<float>(bad), Contains("entry \"i\" is I64 and cannot be loaded as F32: element 0 = 16777217"));
  CHECK(values(read_mem<float>(bad, LoadOptions().allow_lossy(true)).at("i")) == std::vector<float>{16777216.0f});
  CHECK(values(read_mem<double>(bad).at("i")) == std::vector<double>{16777217.0});
}

TEST_CASE("safetensors: I32, I16, I8, U8 and BOOL load as int64, int32 and float, out-of-range is refused") {
  const std::string data = le(static_cast<std::uint32_t>(-5), 4) + le(static_cast<std::uint16_t>(-300), 2) + "\xF6" "\xC8" "\x01";
  const std::string header =
      R"({"i32":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},"i16":{"dtype":"I16","shape":[1],"data_offsets":[4,6]},)"
      R"("i8":{"dtype":"I8","shape":[],"data_offsets":[6,7]},"u8":{"dtype":"U8","shape":[1],"data_offsets":[7,8]},)"
      R"("t":{"dtype":"BOOL","shape":[1],"data_offsets":[8,9]}})";
  const auto d = read_mem<std::int64_t>(st_file(header, data));
  CHECK(values(d.at("i32")) == std::vector<std::int64_t>{-5});
  CHECK(values(d.at("i16")) == std::vector<std::int64_t>{-300});
  CHECK(values(d.at("i8")) == std::vector<std::int64_t>{-10});
  CHECK(values(d.at("u8")) == std::vector<std::int64_t>{200});
  CHECK(values(d.at("t")) == std::vector<std::int64_t>{1});
  CHECK(values(read_mem<float>(st_file(header, data)).at("u8")) == std::vector<float>{200.0f});
  CHECK(values(read_mem<std::int32_t>(st_file(header, data)).at("i16")) == std::vector<std::int32_t>{-300});

  const std::string big = st_file(R"({"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", le(std::uint64_t(1) << 40, 8));
  CHECK_THAT(value_error<std::int32_t>(big), Contains("element 0 = 1099511627776 is out of the target type's range"));
  const std::string bool2 = st_file(R"({"t":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}})", "\x02");
  CHECK_THAT(value_error<float>(bool2), Contains("entry \"t\" is BOOL and cannot be loaded as F32: element 0 = 2 (a BOOL must be 0 or 1)"));
  const std::string f_half = st_file(R"({"f":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", le_f32(2.5f));
  CHECK_THAT(value_error<std::int64_t>(f_half), Contains("element 0 = 2.5 is not an integer"));
  CHECK(values(read_mem<std::int64_t>(f_half, LoadOptions().allow_lossy(true)).at("f")) == std::vector<std::int64_t>{2});
}

// ---- metadata --------------------------------------------------------------------------------------------

TEST_CASE("safetensors: metadata round trips, non-ASCII and escapes included") {
  TempDir dir;
  const Meta meta = {{"format", "pt"},
                     {"quote \" backslash \\ slash /", "tab\tnewline\ncr\rbs\bff\f ctrl\x01\x1f end"},
                     {"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "\xE6\x97\xA5\xE6\x9C\xAC"},
                     {"", ""}};
  nn::StateDict<float> d;
  d.insert("w", tensor<float>({1, 2}, {2}));
  io::save_safetensors(dir.path("m.safetensors"), d, meta);
  CHECK(io::read_safetensors_metadata(dir.path("m.safetensors")) == meta);
  const std::string bytes = tg_test::read_file(dir.path("m.safetensors"));
  CHECK_THAT(bytes, Contains(R"("tab\tnewline\ncr\rbs\bff\f ctrl\u0001\u001f end")"));
  CHECK_THAT(bytes, Contains(R"("quote \" backslash \\ slash /")"));
  CHECK(io::read_safetensors_metadata(dir.path("m.safetensors")).size() == 4);

  // No metadata: an empty map.
  io::save_safetensors(dir.path("n.safetensors"), d);
  CHECK(io::read_safetensors_metadata(dir.path("n.safetensors")).empty());
}

TEST_CASE("safetensors: u-escapes and surrogate pairs in a hand-made header decode to UTF-8") {
  const std::string header = std::string(R"({"__metadata__":{"k\u00e9y":"\ud83d\ude00 \u20AC \/ \u0000"},)") + kEntry + "}";
  Meta meta;
  const auto d = read_mem(st_file(header, le_f32(1) + le_f32(2)), {}, &meta);
  CHECK(meta == Meta{{"k\xC3\xA9y", std::string("\xF0\x9F\x98\x80 \xE2\x82\xAC / ") + std::string(1, '\0')}});
  CHECK(d.size() == 1);
}

// ---- saving: errors and the atomic-write guarantee --------------------------------------------------------

TEST_CASE("safetensors: undefined and sparse tensors, and the name __metadata__, are refused by name") {
  TempDir dir;
  auto save_error = [&](const nn::StateDict<float>& d, const Meta& m = {}) -> std::string {
    try {
      io::save_safetensors(dir.path("x.safetensors"), d, m);
    } catch (const ValueError& e) {
      return e.what();
    }
    return "no ValueError";
  };
  nn::StateDict<float> undefined;
  undefined.insert("ok", tensor<float>({1}, {1}));
  undefined.insert("enc.weight", Tensor<float>());
  CHECK(save_error(undefined) == "save_safetensors: entry \"enc.weight\" is an undefined tensor");

  nn::StateDict<float> sparse;
  sparse.insert("emb.grad", detail::make_sparse<float>({4, 2}, tensor<std::int64_t>({1}, {1}), tensor<float>({1, 2}, {1, 2}), true));
  CHECK(save_error(sparse) ==
        "save_safetensors: entry \"emb.grad\" is a sparse tensor of shape [4, 2]; save t.to_dense() instead");

  nn::StateDict<float> reserved;
  reserved.insert("__metadata__", tensor<float>({1}, {1}));
  CHECK_THAT(save_error(reserved), Contains("an entry may not be named \"__metadata__\""));

  nn::StateDict<float> bad_utf8;
  bad_utf8.insert("w\xFF", tensor<float>({1}, {1}));
  CHECK_THAT(save_error(bad_utf8), Contains("is not valid UTF-8 (byte 1)"));
  CHECK_THAT(save_error(nn::StateDict<float>(), {{"k", "\xC3"}}), Contains("the metadata value of \"k\" is not valid UTF-8"));

  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()) == 0);
}

namespace {
// Passes bytes through to the real file until `limit` bytes, then throws: a failure part-way.
class FailingSink final : public io::detail::Sink {
 public:
  FailingSink(io::detail::Sink& inner, std::uint64_t limit) : inner_(inner), limit_(limit) {}
  void write(const void* data, std::size_t n) override {
    const std::uint64_t room = limit_ - inner_.written();
    inner_.write(data, static_cast<std::size_t>(std::min<std::uint64_t>(n, room)));
    if (n > room) throw std::runtime_error("injected failure");
  }
  std::uint64_t written() const noexcept override { return inner_.written(); }

 private:
  io::detail::Sink& inner_;
  std::uint64_t limit_;
};
}  // namespace

TEST_CASE("safetensors: a write that fails part-way leaves the previous file byte-identical and no temporary") {
  TempDir dir;
  const auto target = dir.path("model.safetensors");
  nn::StateDict<float> old_dict;
  old_dict.insert("w", tensor<float>({1, 2, 3}, {3}));
  io::save_safetensors(target, old_dict);
  const std::string before = tg_test::read_file(target);

  nn::StateDict<float> big;
  big.insert("a", tensor<float>(std::vector<float>(300000, 1.0f), {300000}));  // > the AtomicFile buffer
  big.insert("b", tensor<float>(std::vector<float>(1000, 2.0f), {1000}));
  const std::uint64_t total = written(big).size();
  for (std::uint64_t limit : {std::uint64_t(0), std::uint64_t(5), std::uint64_t(100), std::uint64_t(600000), total - 1}) {
    CAPTURE(limit);
    CHECK_THROWS_WITH(io::detail::write_atomically("save_safetensors", target,
                                                   [&](io::detail::Sink& sink) {
                                                     FailingSink failing(sink, limit);
                                                     io::detail::write_safetensors(failing, big, {});
                                                   }),
                      "injected failure");
    CHECK(tg_test::read_file(target) == before);
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) names.push_back(e.path().filename().string());
    CHECK(names == std::vector<std::string>{"model.safetensors"});
  }
  // The same fill without the failure replaces the file.
  io::detail::write_atomically("save_safetensors", target,
                               [&](io::detail::Sink& sink) { io::detail::write_safetensors(sink, big, {}); });
  CHECK(io::load_safetensors<float>(target).keys() == std::vector<std::string>{"a", "b"});
}

TEST_CASE("safetensors: files name themselves in errors, a missing file is an IoError") {
  TempDir dir;
  const auto p = dir.write("t.safetensors", st_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", le_f32(1)));
  CHECK_THROWS_WITH(io::load_safetensors<float>(p),
                    Contains("load_safetensors: " + p.string() + ", byte ") && Contains("run past the end of the data"));
  CHECK_THROWS_WITH(io::read_safetensors_metadata(p), Contains("read_safetensors_metadata: " + p.string()));
  CHECK_THROWS_AS(io::load_safetensors<float>(dir.path("missing.safetensors")), IoError);
}

// ---- the JSON reader -----------------------------------------------------------------------------------

namespace {
std::string json_error(const std::string& text, const std::function<void(io::detail::JsonReader&)>& f) {
  io::detail::ReadFile file("json", std::string_view(text), "j");
  try {
    io::detail::JsonReader r(text, file, 0);
    f(r);
    r.finish();
  } catch (const FormatError& e) {
    return e.what();
  }
  return "no exception";
}
}  // namespace

TEST_CASE("json reader: integers in 64 bits without overflow, numbers, literals") {
  const std::string text = R"([18446744073709551615, -9223372036854775808, 9223372036854775807, 0, -0, 1.5e3, -2E-2, true, false, null])";
  io::detail::ReadFile file("json", std::string_view(text), "j");
  io::detail::JsonReader r(text, file, 0);
  r.begin_array("a");
  REQUIRE(r.next_element());
  CHECK(r.read_u64("x") == std::numeric_limits<std::uint64_t>::max());
  REQUIRE(r.next_element());
  CHECK(r.read_i64("x") == std::numeric_limits<std::int64_t>::min());
  REQUIRE(r.next_element());
  CHECK(r.read_i64("x") == std::numeric_limits<std::int64_t>::max());
  REQUIRE(r.next_element());
  CHECK(r.read_u64("x") == 0);
  REQUIRE(r.next_element());
  CHECK(r.read_i64("x") == 0);
  REQUIRE(r.next_element());
  CHECK(r.read_number("x") == 1500.0);
  REQUIRE(r.next_element());
  CHECK(r.read_number("x") == -0.02);
  REQUIRE(r.next_element());
  CHECK(r.read_bool("x"));
  REQUIRE(r.next_element());
  CHECK(!r.read_bool("x"));
  REQUIRE(r.next_element());
  r.read_null("x");
  CHECK(!r.next_element());
  r.finish();

  auto u64 = [](io::detail::JsonReader& j) { j.read_u64("n"); };
  auto i64 = [](io::detail::JsonReader& j) { j.read_i64("n"); };
  CHECK(json_error("18446744073709551616", u64) == "json: j, byte 0: header JSON: n must be a non-negative integer, got 18446744073709551616");
  CHECK(json_error("-1", u64) == "json: j, byte 0: header JSON: n must be a non-negative integer, got -1");
  CHECK(json_error("1.0", u64) == "json: j, byte 0: header JSON: n must be a non-negative integer, got 1.0");
  CHECK(json_error("1e2", u64) == "json: j, byte 0: header JSON: n must be a non-negative integer, got 1e2");
  CHECK(json_error("9223372036854775808", i64) ==
        "json: j, byte 0: header JSON: n must be an integer in [-2^63, 2^63), got 9223372036854775808");
  CHECK(json_error("-9223372036854775809", i64) ==
        "json: j, byte 0: header JSON: n must be an integer in [-2^63, 2^63), got -9223372036854775809");
  CHECK(json_error("012", u64) == "json: j, byte 0: header JSON: numbers must not have leading zeros");
  CHECK(json_error("+1", u64) == "json: j, byte 0: header JSON: expected a JSON value, found '+'");
  CHECK(json_error("1.", u64) == "json: j, byte 2: header JSON: a number needs a digit after '.'");
  CHECK(json_error("  7 x", u64) == "json: j, byte 4: header JSON: unexpected 'x' after the end of the JSON value");
}

TEST_CASE("json reader: strict strings, duplicate keys, depth limit, skipping") {
  auto str = [](io::detail::JsonReader& j) { j.read_string("s"); };
  CHECK(json_error("\"a\x01\"", str) == "json: j, byte 2: header JSON: control character byte 0x01 inside a string (it must be escaped)");
  CHECK(json_error(R"("\x")", str) == "json: j, byte 1: header JSON: unknown escape \\'x' in a string");
  CHECK(json_error(R"("\u12")", str) == "json: j, byte 1: header JSON: a \\u escape needs four hex digits");
  CHECK(json_error(R"("\ude00")", str) == "json: j, byte 1: header JSON: a lone low surrogate \\u escape");
  CHECK(json_error(R"("\ud83d x")", str) == "json: j, byte 1: header JSON: a high surrogate \\u escape not followed by a low one");
  CHECK(json_error(R"("\ud83d\u0041")", str) == "json: j, byte 1: header JSON: a high surrogate \\u escape not followed by a low one");
  CHECK(json_error("\"abc", str) == "json: j, byte 0: header JSON: a string is not closed before the end of the JSON text");
  CHECK(json_error("\"\xC0\xAF\"", str) == "json: j, byte 1: header JSON: invalid UTF-8 (byte 0xC0)");  // overlong '/'
  CHECK(json_error("\"\xED\xA0\x80\"", str) == "json: j, byte 1: header JSON: invalid UTF-8 (byte 0xED)");  // a surrogate in UTF-8
  CHECK(json_error("\"\xF4\x90\x80\x80\"", str) == "json: j, byte 1: header JSON: invalid UTF-8 (byte 0xF4)");  // past U+10FFFF
  CHECK(json_error("\"\xE2\x82\"", str) == "json: j, byte 1: header JSON: invalid UTF-8 (byte 0xE2)");  // cut short

  auto skip = [](io::detail::JsonReader& j) { j.skip_value(); };
  CHECK(json_error(R"({"a":1,"b":{"c":[1,2,{"d":null}]},"a":2})", skip) ==
        "json: j, byte 34: header JSON: duplicate key \"a\" in one object");
  CHECK(json_error(R"({"a":1,"b":{"a":2}})", skip) == "no exception");  // same key in another object is fine
  CHECK(json_error(R"([1,2,])", skip) == "json: j, byte 5: header JSON: expected a JSON value, found ']'");
  CHECK(json_error(R"({"a":1,})", skip) == "json: j, byte 7: header JSON: expected an object key (a string), found '}'");
  CHECK(json_error(R"({"a" 1})", skip) == "json: j, byte 5: header JSON: expected ':' after an object key, found '1'");
  CHECK(json_error(R"([1 2])", skip) == "json: j, byte 3: header JSON: expected ',' or ']' after an array element, found '2'");
  CHECK(json_error(R"([tru])", skip) == "json: j, byte 1: header JSON: value must be true or false, got tru");
  CHECK(json_error(std::string(64, '[') + std::string(64, ']'), skip) == "no exception");
  CHECK(json_error(std::string(65, '[') + std::string(65, ']'), skip) == "json: j, byte 64: header JSON: nesting deeper than 64 levels");
  CHECK(json_error(std::string(100000, '['), skip) == "json: j, byte 64: header JSON: nesting deeper than 64 levels");
  CHECK(json_error("", skip) == "json: j, byte 0: header JSON: expected a value, found the end of the JSON text");
}

TEST_CASE("json writer: escapes quotes, backslashes and control characters, keeps UTF-8") {
  CHECK(io::detail::json_string("a\"b\\c\n\x01\x7f\xC3\xA9") == "\"a\\\"b\\\\c\\n\\u0001\x7f\xC3\xA9\"");
}

// ---- the malformed-file catalogue --------------------------------------------------------------------------

TEST_CASE("safetensors malformed: each problem is a FormatError naming the file, the byte, the entry and the value") {
  const std::string F = "load_safetensors: bad.safetensors, byte ";
  const std::string data8 = le_f32(1) + le_f32(2);
  auto one = [](const std::string& entry) { return "{\"w\":" + entry + "}"; };

  // The length prefix.
  CHECK(format_error("") == F + "0: the file has 0 bytes; a safetensors file starts with an 8-byte header length");
  CHECK(format_error(std::string("\x08\x00\x00", 3)) == F + "0: the file has 3 bytes; a safetensors file starts with an 8-byte header length");
  CHECK(format_error(le(100, 8) + "{}") ==
        F + "0: header length 100 runs past the end of the file (2 bytes follow the length); the file is truncated or not a safetensors file");
  CHECK(format_error(le(~std::uint64_t(0), 8) + "{}") ==
        F + "0: header length 18446744073709551615 is larger than the 100000000-byte limit (the file is damaged or not a safetensors file)");
  CHECK(format_error(le(~std::uint64_t(0) - 7, 8) + "{}") ==
        F + "0: header length 18446744073709551608 is larger than the 100000000-byte limit (the file is damaged or not a safetensors file)");
  CHECK(format_error(le(100000001, 8) + "{}") ==
        F + "0: header length 100000001 is larger than the 100000000-byte limit (the file is damaged or not a safetensors file)");

  // The JSON.
  CHECK(format_error(st_file("{\"w\xFF\":1}")) == F + "11: header JSON: invalid UTF-8 (byte 0xFF)");
  CHECK(format_error(st_file("{\"w\":{\"dtype\":\"F32\"")) == F + "27: header JSON: expected ',' or '}' after an object member, found the end of the JSON text");
  CHECK(format_error(st_file("PK\x03\x04")) == F + "8: header JSON: expected a JSON value, found 'P'");
  CHECK(format_error(st_file("[]")) == F + "8: header JSON: the header must be a JSON object, got an array");
  CHECK(format_error(st_file("{}  x")) == F + "12: header JSON: unexpected 'x' after the end of the JSON value");
  CHECK(format_error(st_file(std::string("{}") + std::string(6, '\0'))) ==
        F + "10: header JSON: unexpected byte 0x00 after the end of the JSON value");
  CHECK(format_error(st_file(std::string("{") + kEntry + "," + kEntry + "}", data8)) ==
        F + "62: header JSON: duplicate key \"w\" in one object");

  // Entries.
  CHECK(format_error(st_file(one("[1]"))) == F + "13: header JSON: entry \"w\" must be a JSON object, got an array");
  CHECK(format_error(st_file(one("\"F32\""))) == F + "13: header JSON: entry \"w\" must be a JSON object, got the string \"F32\"");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":[2]})"), data8)) == F + "13: entry \"w\": the member \"data_offsets\" is missing");
  CHECK(format_error(st_file(one(R"({"shape":[2],"data_offsets":[0,8]})"), data8)) == F + "13: entry \"w\": the member \"dtype\" is missing");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8],"offsets":[0,8]})"), data8)) ==
        F + "61: entry \"w\": unexpected member \"offsets\" (an entry has exactly \"dtype\", \"shape\" and \"data_offsets\")");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]})"), data8)) ==
        F + "28: header JSON: duplicate key \"dtype\" in one object");
  CHECK(format_error(st_file(one(R"({"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]})"), "ab")) ==
        F + "22: entry \"w\": unknown dtype \"F8_E4M3\" (tapegrad reads F64, F32, F16, BF16, I64, I32, I16, I8, U8 and BOOL)");
  CHECK(format_error(st_file(one(R"({"dtype":"float32","shape":[2],"data_offsets":[0,8]})"), data8)) ==
        F + "22: entry \"w\": unknown dtype \"float32\" (tapegrad reads F64, F32, F16, BF16, I64, I32, I16, I8, U8 and BOOL)");
  CHECK(format_error(st_file(one(R"({"dtype":32,"shape":[2],"data_offsets":[0,8]})"), data8)) ==
        F + "22: header JSON: entry \"w\": \"dtype\" must be a string, got 32");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":[-2],"data_offsets":[0,8]})"), data8)) ==
        F + "37: header JSON: entry \"w\": \"shape\" element 0 must be a non-negative integer, got -2");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":[2.0],"data_offsets":[0,8]})"), data8)) ==
        F + "37: header JSON: entry \"w\": \"shape\" element 0 must be a non-negative integer, got 2.0");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":["2"],"data_offsets":[0,8]})"), data8)) ==
        F + "37: header JSON: entry \"w\": \"shape\" element 0 must be a non-negative integer, got the string \"2\"");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":2,"data_offsets":[0,8]})"), data8)) ==
        F + "36: header JSON: entry \"w\": \"shape\" must be a JSON array, got 2");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,8]})"), data8)) ==
        F + "37: entry \"w\": \"shape\" element 0 = 9223372036854775808 does not fit in int64");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]})"), data8)) ==
        F + "13: entry \"w\": shape [4294967296, 4294967296] has more elements than fit in int64");
  CHECK(format_error(st_file(one(R"({"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]})"), data8)) ==
        F + "13: entry \"w\": shape [4611686018427387904] of F64 needs more bytes than fit in 64 bits");
  std::string dims65 = "[1";
  for (int i = 0; i < 64; ++i) dims65 += ",1";
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":)" + dims65 + R"(],"data_offsets":[0,4]})"), "abcd")) ==
        F + "165: entry \"w\": \"shape\" has more than 64 dimensions");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0]})"), data8)) ==
        F + "55: entry \"w\": \"data_offsets\" must be [begin, end], but it has 1 element");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8,8]})"), data8)) ==
        F + "60: entry \"w\": \"data_offsets\" must be [begin, end], but it has more than 2 elements");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":[0],"data_offsets":[8,0]})"), data8)) ==
        F + "55: entry \"w\": \"data_offsets\" [8, 0] ends before it begins");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,-8]})"), data8)) ==
        F + "58: header JSON: entry \"w\": \"data_offsets\" element 1 must be a non-negative integer, got -8");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})"), data8)) ==
        F + "13: entry \"w\": data_offsets [0, 8] hold 8 bytes, but shape [3] of F32 needs 3 x 4 = 12 bytes");
  CHECK(format_error(st_file(one(R"({"dtype":"F16","shape":[2],"data_offsets":[0,8]})"), data8)) ==
        F + "13: entry \"w\": data_offsets [0, 8] hold 8 bytes, but shape [2] of F16 needs 2 x 2 = 4 bytes");

  // How the entries cover the data.
  const std::string a04 = R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  CHECK(format_error(st_file("{" + a04 + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[2,10]}})", data8 + "xx")) ==
        F + "66: entry \"b\": data_offsets [2, 10] overlap entry \"a\" [0, 4]");
  CHECK(format_error(st_file("{" + a04 + R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", le_f32(1))) ==
        F + "66: entry \"b\": data_offsets [0, 4] overlap entry \"a\" [0, 4]");
  CHECK(format_error(st_file("{" + a04 + R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[6,10]}})", data8 + "xx")) ==
        F + "66: entry \"b\": data_offsets [6, 10] leave bytes [4, 6) of the data unused after entry \"a\" (entries must cover the data exactly)");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":[1],"data_offsets":[4,8]})"), data8)) ==
        F + "13: entry \"w\": data_offsets [4, 8] leave bytes [0, 4) of the data unused at its start (entries must cover the data exactly)");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})"), le_f32(1))) ==
        F + "13: entry \"w\": data_offsets [0, 8] run past the end of the data (4 bytes); the file is truncated or damaged");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":[1000000000],"data_offsets":[0,4000000000]})"), data8)) ==
        F + "13: entry \"w\": data_offsets [0, 4000000000] run past the end of the data (8 bytes); the file is truncated or damaged");
  CHECK(format_error(st_file(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})"), data8 + "zz")) ==
        F + "70: 2 bytes after the end of the last entry's data (8 of 10 data bytes are described); the reference implementation rejects these too");
  CHECK(format_error(st_file("{}", "x")) ==
        F + "10: 1 byte after the end of the last entry's data (0 of 1 data bytes are described); the reference implementation rejects these too");

  // __metadata__.
  CHECK(format_error(st_file(R"({"__metadata__":[]})")) == F + "24: header JSON: \"__metadata__\" must be a JSON object, got an array");
  CHECK(format_error(st_file(R"({"__metadata__":{"a":1}})")) == F + "29: header JSON: \"__metadata__\" value \"a\" must be a string, got 1");
  CHECK(format_error(st_file(R"({"__metadata__":{"a":"1","a":"2"}})")) == F + "33: header JSON: duplicate key \"a\" in one object");
  CHECK(format_error(st_file(R"({"__metadata__":{},"__metadata__":{}})")) == F + "27: header JSON: duplicate key \"__metadata__\" in one object");
}

TEST_CASE("safetensors malformed: every truncation and every single-byte corruption of a valid file is caught") {
  nn::StateDict<float> d;
  d.insert("a", tensor<float>({1, 2, 3}, {3}));
  d.insert("b", scalar_tensor<float>(4));
  const std::string good = written(d, {{"k", "v"}});
  for (std::size_t n = 0; n < good.size(); ++n) {
    CAPTURE(n);
    CHECK_THROWS_AS(read_mem(good.substr(0, n)), FormatError);
  }
  // Flipping any byte either still loads or fails with a FormatError/ValueError: never anything else.
  for (std::size_t i = 0; i < good.size(); ++i)
    for (unsigned char x : {0x01, 0x20, 0x80, 0xFF}) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ x);
      try {
        read_mem(bad);
      } catch (const FormatError&) {
      } catch (const ValueError&) {
      }
    }
}

}  // namespace safetensors_test
