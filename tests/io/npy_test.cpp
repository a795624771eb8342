// SPDX-License-Identifier: MIT
// NumPy .npy/.npz: every reading case on hand-made bytes (and on bytes real NumPy 1.24 wrote, embedded
// below), so these tests never depend on tapegrad's own writer; round trips; and the catalogue of
// malformed files with the exact messages they give.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <tapegrad/io/npy.hpp>

#include "io_test_util.hpp"
#include "support/test.hpp"

namespace npy_test {  // this file's tests and helpers: apart from other files' in a unity build

using namespace tapegrad;
using tg_test::Contains;

namespace {

// Archives np.savez / np.savez_compressed wrote (NumPy 1.24.2):
//   np.savez(f, a=np.array([1.5, -2], dtype='<f4'), b=np.array([[1, 2], [3, 4]], dtype='<i8'))
//   np.savez_compressed(f, w=np.ones(3, dtype='<f4'))
const char* const kNumpySavez =
    "504b030414000000000000002100d6434b05880000008800000005001400612e6e707901001000880000000000000088"
    "00000000000000934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572"
    "273a2046616c73652c20277368617065273a2028322c292c207d20202020202020202020202020202020202020202020"
    "20202020202020202020202020202020202020202020202020202020202020202020202020200a0000c03f000000c050"
    "4b030414000000000000002100a0444b5ba0000000a000000005001400622e6e707901001000a000000000000000a000"
    "000000000000934e554d5059010076007b276465736372273a20273c6938272c2027666f727472616e5f6f7264657227"
    "3a2046616c73652c20277368617065273a2028322c2032292c207d202020202020202020202020202020202020202020"
    "202020202020202020202020202020202020202020202020202020202020202020202020200a01000000000000000200"
    "00000000000003000000000000000400000000000000504b0102140314000000000000002100d6434b05880000008800"
    "0000050000000000000000000000800100000000612e6e7079504b0102140314000000000000002100a0444b5ba00000"
    "00a00000000500000000000000000000008001bf000000622e6e7079504b050600000000020002006600000096010000"
    "0000"
    ;
const char* const kNumpySavezCompressed =
    "504b030414000000080000002100527e32bf4a0000008c00000005001400772e6e7079010010008c000000000000004a"
    "000000000000009bec17ea1b10c9c850c650ad9e925a9c5ca46ea5a06e9366a2aea3a09e965f54529498179f5f94920a"
    "12774bcc294e058a17672416a402f91ac63a9a3a0ab50a14002e0686067b180600504b01021403140000000800000021"
    "00527e32bf4a0000008c000000050000000000000000000000800100000000772e6e7079504b05060000000001000100"
    "33000000810000000000"
    ;

std::string from_hex(const char* hex) {
  std::string out;
  for (std::size_t i = 0; hex[i] && hex[i + 1]; i += 2) out += static_cast<char>(std::stoi(std::string(hex + i, 2), nullptr, 16));
  return out;
}

/// An .npy file made by hand: magic, version, the header `dict` padded with spaces and '\n' to
/// `align` bytes, then `data`.
std::string npy(const std::string& dict, const std::string& data, int major = 1, std::size_t align = 64) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((prefix + header.size() + 1) % align != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  for (std::size_t i = 0; i < prefix - 8; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  return out + header + data;
}

std::string dict(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
}

/// The bytes of `values` as type U, little-endian, or big-endian with `big`.
template <class U>
std::string bytes(std::initializer_list<U> values, bool big = false) {
  std::string out;
  for (U v : values) {
    char b[sizeof(U)];
    std::memcpy(b, &v, sizeof(U));
    if (big) std::reverse(b, b + sizeof(U));
    out.append(b, sizeof(U));
  }
  return out;
}

/// Loads `file` from memory under the name "t.npy" (messages then do not depend on a temporary path).
template <class T = float>
Tensor<T> parse(const std::string& file, const io::LoadOptions& options = {}) {
  const io::detail::ReadFile f("load_npy", file, "t.npy");
  return io::detail::read_npy<T>(f, options);
}

template <class T = float>
nn::StateDict<T> parse_npz(const std::string& file, const io::LoadOptions& options = {}) {
  const io::detail::ReadFile f("load_npz", file, "t.npz");
  return io::detail::read_npz<T>(f, options);
}

/// A zip of stored entries made by hand (no data descriptors, no extra fields), for archives NumPy
/// would not write. `method` is what the headers claim.
std::string zip(const std::vector<std::pair<std::string, std::string>>& entries, std::uint16_t method = 0) {
  auto put = [](std::string& s, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  std::string out, cd;
  for (const auto& [name, data] : entries) {
    const std::uint32_t crc = io::detail::crc32(data.data(), data.size());
    const std::uint64_t offset = out.size();
    put(out, 0x04034b50, 4), put(out, 20, 2), put(out, 0, 2), put(out, method, 2), put(out, 0, 4);
    put(out, crc, 4), put(out, data.size(), 4), put(out, data.size(), 4), put(out, name.size(), 2), put(out, 0, 2);
    out += name + data;
    put(cd, 0x02014b50, 4), put(cd, 20, 2), put(cd, 20, 2), put(cd, 0, 2), put(cd, method, 2), put(cd, 0, 4);
    put(cd, crc, 4), put(cd, data.size(), 4), put(cd, data.size(), 4), put(cd, name.size(), 2);
    put(cd, 0, 2), put(cd, 0, 2), put(cd, 0, 2), put(cd, 0, 2), put(cd, 0, 4), put(cd, offset, 4);
    cd += name;
  }
  const std::uint64_t cd_offset = out.size();
  out += cd;
  put(out, 0x06054b50, 4), put(out, 0, 4), put(out, entries.size(), 2), put(out, entries.size(), 2);
  put(out, cd.size(), 4), put(out, cd_offset, 4), put(out, 0, 2);
  return out;
}

template <class T>
std::vector<T> values(const Tensor<T>& t) {
  return t.to_vector();
}

}  // namespace

// ---- reading ---------------------------------------------------------------------------------------

TEST_CASE("load_npy reads little-endian float32 in C order from a file") {
  tg_test::TempDir dir;
  const auto path = dir.write("x.npy", npy(dict("<f4", "(2, 3)"), bytes<float>({1, 2, 3, 4, 5, 6.5f})));
  const Tensor<float> t = io::load_npy<float>(path);
  CHECK(t.shape() == Shape{2, 3});
  CHECK(values(t) == std::vector<float>{1, 2, 3, 4, 5, 6.5f});
  // float32 into double is exact.
  CHECK(values(io::load_npy<double>(path)) == std::vector<double>{1, 2, 3, 4, 5, 6.5});
}

TEST_CASE("load_npy reads big-endian data") {
  CHECK(values(parse<double>(npy(dict(">f8", "(3,)"), bytes<double>({0.1, -2.5, 1e300}, true))))
        == std::vector<double>{0.1, -2.5, 1e300});
  CHECK(values(parse<std::int32_t>(npy(dict(">i4", "(2,)"), bytes<std::int32_t>({-2, 70000}, true))))
        == std::vector<std::int32_t>{-2, 70000});
  CHECK(values(parse<std::int64_t>(npy(dict(">i8", "(1,)"), bytes<std::int64_t>({-(std::int64_t(1) << 62)}, true))))
        == std::vector<std::int64_t>{-(std::int64_t(1) << 62)});
  CHECK(values(parse<float>(npy(dict(">f2", "(2,)"), std::string("\x3c\x00\xc0\x00", 4)))) == std::vector<float>{1.0f, -2.0f});
  CHECK(values(parse<float>(npy(dict(">f4", "(1,)"), bytes<float>({3.5f}, true)))) == std::vector<float>{3.5f});
  // '|' and '=' (native, little-endian here) and no byte order at all.
  CHECK(values(parse<float>(npy(dict("|f4", "(1,)"), bytes<float>({2.0f})))) == std::vector<float>{2.0f});
  CHECK(values(parse<float>(npy(dict("=f4", "(1,)"), bytes<float>({4.0f})))) == std::vector<float>{4.0f});
  CHECK(values(parse<float>(npy(dict("f4", "(1,)"), bytes<float>({8.0f})))) == std::vector<float>{8.0f});
}

TEST_CASE("load_npy rearranges Fortran-order data into row-major") {
  // [[1, 2, 3], [4, 5, 6]] stored column by column.
  const Tensor<float> t = parse(npy(dict("<f4", "(2, 3)", true), bytes<float>({1, 4, 2, 5, 3, 6})));
  CHECK(t.shape() == Shape{2, 3});
  CHECK(values(t) == std::vector<float>{1, 2, 3, 4, 5, 6});
  // 3-d: element (i, j, k) sits at i + 2 j + 6 k in the file.
  std::vector<std::int64_t> column_major(24);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) column_major[static_cast<std::size_t>(i + 2 * j + 6 * k)] = 100 * i + 10 * j + k;
  std::string data;
  for (std::int64_t v : column_major) data += bytes<std::int64_t>({v});
  const Tensor<std::int64_t> u = parse<std::int64_t>(npy(dict("<i8", "(2, 3, 4)", true), data));
  CHECK(u.shape() == Shape{2, 3, 4});
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) CHECK(u.at({i, j, k}) == 100 * i + 10 * j + k);
  // Fortran order, big-endian, converted: all three at once.
  CHECK(values(parse<double>(npy(dict(">i4", "(2, 2)", true), bytes<std::int32_t>({1, 3, 2, 4}, true))))
        == std::vector<double>{1, 2, 3, 4});
  // 1-d and 0-d Fortran arrays are the same as C ones.
  CHECK(values(parse(npy(dict("<f4", "(3,)", true), bytes<float>({1, 2, 3})))) == std::vector<float>{1, 2, 3});
}

TEST_CASE("load_npy reads 0-d and empty arrays") {
  const Tensor<double> scalar = parse<double>(npy(dict("<f8", "()"), bytes<double>({3.25})));
  CHECK(scalar.dim() == 0);
  CHECK(scalar.item() == 3.25);
  for (const char* shape : {"(0,)", "(2, 0)", "(0, 3, 4)", "(0, 1152921504606846976)"}) {
    const Tensor<float> t = parse(npy(dict("<f4", shape), ""));
    CHECK(t.numel() == 0);
  }
  CHECK(parse(npy(dict("<f4", "(2, 0)"), "")).shape() == Shape{2, 0});
}

TEST_CASE("load_npy reads format versions 2.0 and 3.0 and every header spelling NumPy can read") {
  CHECK(values(parse(npy(dict("<f4", "(2,)"), bytes<float>({1, 2}), 2))) == std::vector<float>{1, 2});
  CHECK(values(parse(npy(dict("<f4", "(2,)"), bytes<float>({1, 2}), 3))) == std::vector<float>{1, 2});
  const std::string data = bytes<float>({1, 2, 3, 4, 5, 6});
  for (const char* header : {
           "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}",   // other order, no trailing comma
           "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,3)}",  // double quotes, no spaces
           "{ 'descr' : '<f4' ,\n 'fortran_order' : False , 'shape' : ( 2 , 3 , ) , }",  // spaces, newline
           "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }",  // Python 2 longs
       }) {
    INFO(header);
    CHECK(values(parse(npy(header, data))) == std::vector<float>{1, 2, 3, 4, 5, 6});
  }
  // Old NumPy aligned the data to 16 bytes, not 64.
  CHECK(values(parse(npy(dict("<f4", "(1,)"), bytes<float>({7}), 1, 16))) == std::vector<float>{7});
}

TEST_CASE("load_npy reads float16, bool and every integer width") {
  // float16: 1, -2, 65504 (largest), 2^-24 (smallest subnormal), inf, -0.
  const std::string half("\x00\x3c\x00\xc0\xff\x7b\x01\x00\x00\x7c\x00\x80", 12);
  const Tensor<float> h = parse(npy(dict("<f2", "(6,)"), half));
  CHECK(values(h) == std::vector<float>{1, -2, 65504, std::ldexp(1.0f, -24), std::numeric_limits<float>::infinity(), -0.0f});
  CHECK(std::signbit(h.data()[5]));
  CHECK(std::isnan(parse<double>(npy(dict("<f2", "(1,)"), std::string("\x00\x7e", 2))).item()));
  CHECK(values(parse<std::int32_t>(npy(dict("|b1", "(3,)"), std::string("\x01\x00\x01", 3)))) == std::vector<std::int32_t>{1, 0, 1});
  CHECK(values(parse<double>(npy(dict("|b1", "(2,)"), std::string("\x00\x01", 2)))) == std::vector<double>{0, 1});
  CHECK(values(parse<std::int64_t>(npy(dict("|i1", "(3,)"), std::string("\x80\x00\x7f", 3)))) == std::vector<std::int64_t>{-128, 0, 127});
  CHECK(values(parse<float>(npy(dict("|u1", "(2,)"), std::string("\x00\xff", 2)))) == std::vector<float>{0, 255});
  CHECK(values(parse<std::int32_t>(npy(dict("<i2", "(2,)"), bytes<std::int16_t>({-32768, 32767})))) == std::vector<std::int32_t>{-32768, 32767});
  CHECK(values(parse<double>(npy(dict("<i4", "(2,)"), bytes<std::int32_t>({-7, 1 << 30})))) == std::vector<double>{-7, 1 << 30});
  CHECK(values(parse<float>(npy(dict("<i8", "(1,)"), bytes<std::int64_t>({1 << 24})))) == std::vector<float>{1 << 24});
  CHECK(values(parse<std::int32_t>(npy(dict("<f8", "(2,)"), bytes<double>({-3, 4})))) == std::vector<std::int32_t>{-3, 4});
}

TEST_CASE("load_npy refuses lossy conversions unless allow_lossy, and impossible ones always") {
  const std::string f8 = npy(dict("<f8", "(2,)"), bytes<double>({0.5, 0.1}));
  CHECK_THROWS_AS(parse<float>(f8), ValueError);
  CHECK_THROWS_WITH(parse<float>(f8), "load_npy: t.npy: entry \"t.npy\" is F64 and cannot be loaded as F32: element 1 = 0.1 "
                                      "has no exact value in the target type (LoadOptions().allow_lossy(true) rounds it)");
  CHECK(values(parse<float>(f8, io::LoadOptions().allow_lossy(true))) == std::vector<float>{0.5f, 0.1f});

  const std::string frac = npy(dict("<f4", "(2,)"), bytes<float>({2.0f, -1.5f}));
  CHECK_THROWS_WITH(parse<std::int32_t>(frac), Contains("element 1 = -1.5 is not an integer"));
  CHECK(values(parse<std::int32_t>(frac, io::LoadOptions().allow_lossy(true))) == std::vector<std::int32_t>{2, -1});

  const std::string big = npy(dict("<i8", "(1,)"), bytes<std::int64_t>({std::int64_t(1) << 40}));
  CHECK_THROWS_WITH(parse<std::int32_t>(big, io::LoadOptions().allow_lossy(true)), Contains("is out of the target type's range"));
  const std::string odd = npy(dict("<i8", "(1,)"), bytes<std::int64_t>({(std::int64_t(1) << 24) + 1}));
  CHECK_THROWS_WITH(parse<float>(odd), Contains("element 0 = 16777217 has no exact value"));
  const std::string nan = npy(dict("<f4", "(1,)"), bytes<float>({std::nanf("")}));
  CHECK_THROWS_WITH(parse<std::int64_t>(nan, io::LoadOptions().allow_lossy(true)), Contains("not a finite value"));
  CHECK_THROWS_WITH(parse<float>(npy(dict("|b1", "(2,)"), std::string("\x01\x02", 2))), Contains("element 1 = 2 (a BOOL must be 0 or 1)"));
  // Big-endian bytes are swapped before the check, not after.
  CHECK_THROWS_WITH(parse<float>(npy(dict(">f8", "(1,)"), bytes<double>({0.1}, true))), Contains("element 0 = 0.1 has no exact"));
}

// ---- writing -----------------------------------------------------------------------------------------

TEST_CASE("save_npy writes the bytes NumPy 1.24 writes") {
  tg_test::TempDir dir;
  Tensor<float> t = tapegrad::detail::make_tensor<float>(Shape{2, 3});
  for (int i = 0; i < 6; ++i) t.data()[i] = static_cast<float>(i) * 0.5f;
  io::save_npy(dir.path("a.npy"), t);
  // np.save(f, np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5): 128 header bytes, then the data.
  const std::string expected = std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
                               "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + std::string(58, ' ') + "\n" +
                               bytes<float>({0, 0.5f, 1, 1.5f, 2, 2.5f});
  CHECK(tg_test::read_file(dir.path("a.npy")) == expected);

  // np.save(f, np.array(3.5)) and np.save(f, np.zeros((0, 4), np.int64)): no growth padding for 0-d.
  io::save_npy(dir.path("s.npy"), tapegrad::detail::make_tensor<double>(Shape{}).fill_(3.5));
  CHECK(tg_test::read_file(dir.path("s.npy")) == std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
                                                     "{'descr': '<f8', 'fortran_order': False, 'shape': (), }" +
                                                     std::string(62, ' ') + "\n" + bytes<double>({3.5}));
  io::save_npy(dir.path("e.npy"), tapegrad::detail::make_tensor<std::int64_t>(Shape{0, 4}));
  CHECK(tg_test::read_file(dir.path("e.npy")) == std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
                                                     "{'descr': '<i8', 'fortran_order': False, 'shape': (0, 4), }" +
                                                     std::string(58, ' ') + "\n");
  // 1-d: "(3,)"; int32: '<i4'.
  io::save_npy(dir.path("i.npy"), tapegrad::detail::make_tensor<std::int32_t>(Shape{3}).fill_(-1));
  CHECK_THAT(tg_test::read_file(dir.path("i.npy")), Contains("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }"));
}

TEST_CASE("save_npy and load_npy round trip every element type, 0-d and empty tensors") {
  tg_test::TempDir dir;
  Tensor<float> f = tapegrad::detail::make_tensor<float>(Shape{2, 2});
  const float fv[] = {std::numeric_limits<float>::infinity(), -0.0f, std::numeric_limits<float>::denorm_min(), 1e38f};
  std::memcpy(f.data(), fv, sizeof fv);
  io::save_npy(dir.path("f.npy"), f);
  CHECK(tg_test::same_bits(io::load_npy<float>(dir.path("f.npy")), f));

  Tensor<double> d = tapegrad::detail::make_tensor<double>(Shape{3, 1, 2});
  for (int i = 0; i < 6; ++i) d.data()[i] = 1.0 / (i + 1);
  io::save_npy(dir.path("d.npy"), d);
  CHECK(tg_test::same_bits(io::load_npy<double>(dir.path("d.npy")), d));

  Tensor<std::int64_t> l = tapegrad::detail::make_tensor<std::int64_t>(Shape{2});
  l.data()[0] = std::numeric_limits<std::int64_t>::min(), l.data()[1] = std::numeric_limits<std::int64_t>::max();
  io::save_npy(dir.path("l.npy"), l);
  CHECK(tg_test::same_bits(io::load_npy<std::int64_t>(dir.path("l.npy")), l));

  Tensor<std::int32_t> i = tapegrad::detail::make_tensor<std::int32_t>(Shape{}).fill_(-42);
  io::save_npy(dir.path("i.npy"), i);
  CHECK(tg_test::same_bits(io::load_npy<std::int32_t>(dir.path("i.npy")), i));

  Tensor<float> e = tapegrad::detail::make_tensor<float>(Shape{0, 5});
  io::save_npy(dir.path("e.npy"), e);
  CHECK(io::load_npy<float>(dir.path("e.npy")).shape() == Shape{0, 5});
  // Every file starts its data on a 64-byte boundary.
  for (const char* name : {"f.npy", "d.npy", "l.npy", "i.npy", "e.npy"}) CHECK(tg_test::read_file(dir.path(name)).find('\n') % 64 == 63);
}

TEST_CASE("save_npy switches to format 2.0 when the header passes 65535 bytes") {
  // 22000 dimensions of size 1: "1, " each, so the header needs about 66 KB.
  const Shape shape(22000, 1);
  Tensor<float> t = tapegrad::detail::make_tensor<float>(shape).fill_(2.5f);
  io::detail::MemorySink out;
  io::detail::write_npy(out, t);
  CHECK(out.bytes.substr(0, 8) == std::string("\x93NUMPY\x02\x00", 8));
  const std::uint32_t length = io::detail::load_uint<std::uint32_t>(reinterpret_cast<const unsigned char*>(out.bytes.data() + 8), false);
  CHECK(length > 65535);
  CHECK((12 + length) % 64 == 0);
  CHECK(out.bytes.size() == 12 + length + 4);
  const Tensor<float> back = parse(out.bytes);
  CHECK(back.shape() == shape);
  CHECK(back.item() == 2.5f);
}

TEST_CASE("save_npy refuses undefined tensors and leaves the previous file in place") {
  tg_test::TempDir dir;
  const auto path = dir.write("keep.npy", "previous");
  CHECK_THROWS_WITH(io::save_npy(path, Tensor<float>()), "save_npy: the tensor is undefined (default-constructed)");
  nn::StateDict<float> sd;
  sd.insert("a", tapegrad::detail::make_tensor<float>(Shape{1}).fill_(1));
  sd.insert(std::string("b\0c", 3), tapegrad::detail::make_tensor<float>(Shape{1}).fill_(1));  // no zip can hold the NUL
  const auto npz = dir.write("keep.npz", "previous");
  CHECK_THROWS_AS(io::save_npz(npz, sd), ValueError);
  CHECK(tg_test::read_file(path) == "previous");
  CHECK(tg_test::read_file(npz) == "previous");
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()) == 2);
}

// ---- npz ------------------------------------------------------------------------------------------------

TEST_CASE("load_npz reads an archive np.savez wrote") {
  tg_test::TempDir dir;
  const auto path = dir.write("m.npz", from_hex(kNumpySavez));
  const nn::StateDict<double> sd = io::load_npz<double>(path);
  CHECK(sd.keys() == std::vector<std::string>{"a", "b"});
  CHECK(sd.at("a").shape() == Shape{2});
  CHECK(values(sd.at("a")) == std::vector<double>{1.5, -2});
  CHECK(sd.at("b").shape() == Shape{2, 2});
  CHECK(values(sd.at("b")) == std::vector<double>{1, 2, 3, 4});
  CHECK_THROWS_WITH(io::load_npz<std::int32_t>(path), Contains("entry \"a\" is F32 and cannot be loaded as I32: element 0 = 1.5"));
}

TEST_CASE("save_npz and load_npz round trip in order, entries are <name>.npy files") {
  tg_test::TempDir dir;
  nn::StateDict<float> sd;
  sd.insert("layer.weight", tapegrad::detail::make_tensor<float>(Shape{2, 3}).fill_(0.25f));
  sd.insert("layer.bias", tapegrad::detail::make_tensor<float>(Shape{3}).fill_(-1));
  sd.insert("scale", tapegrad::detail::make_tensor<float>(Shape{}).fill_(7));
  sd.insert("empty", tapegrad::detail::make_tensor<float>(Shape{0}));
  io::save_npz(dir.path("m.npz"), sd);
  const std::string file = tg_test::read_file(dir.path("m.npz"));
  const io::detail::ReadFile rf("test", file, "m.npz");
  const io::detail::ZipReader zr(rf);
  REQUIRE(zr.entries().size() == 4);
  CHECK(zr.entries()[0].name == "layer.weight.npy");
  CHECK(zr.entries()[3].name == "empty.npy");
  // Each entry is exactly what save_npy writes.
  std::string entry(static_cast<std::size_t>(zr.entries()[2].size), '\0');
  zr.read(zr.entries()[2], entry.data());
  io::save_npy(dir.path("scale.npy"), sd.at("scale"));
  CHECK(entry == tg_test::read_file(dir.path("scale.npy")));

  const nn::StateDict<float> back = io::load_npz<float>(dir.path("m.npz"));
  CHECK(back.keys() == sd.keys());
  for (const auto& [name, t] : sd) CHECK(tg_test::same_bits(back.at(name), t));
  // An empty dict is an empty archive.
  io::save_npz(dir.path("none.npz"), nn::StateDict<double>());
  CHECK(io::load_npz<double>(dir.path("none.npz")).empty());
}

TEST_CASE("load_npz reads hand-made archives: names without .npy kept as they are") {
  const nn::StateDict<float> sd = parse_npz(zip({{"x.npy", npy(dict("<f4", "(1,)"), bytes<float>({1}))},
                                                 {"dir/y", npy(dict(">f8", "()"), bytes<double>({2}, true))}}));
  CHECK(sd.keys() == std::vector<std::string>{"x", "dir/y"});
  CHECK(sd.at("dir/y").item() == 2.0f);
}

// ---- malformed files ---------------------------------------------------------------------------------------

TEST_CASE("malformed .npy catalogue: magic, version, header length") {
  CHECK_THROWS_AS(parse(""), FormatError);
  CHECK_THROWS_WITH(parse(""), "load_npy: t.npy, byte 0: the file is empty (an .npy file starts with \"\\x93NUMPY\")");
  CHECK_THROWS_WITH(parse("\x89PNG\r\n\x1a\n..."),
                    "load_npy: t.npy, byte 0: not a NumPy .npy file: it starts with \"\\x89PNG\\x0d\\n\\x1a\\n\" instead of \"\\x93NUMPY\"");
  CHECK_THROWS_WITH(parse("\x93NUM"), "load_npy: t.npy, byte 0: not a NumPy .npy file: it starts with \"\\x93NUM\" instead of \"\\x93NUMPY\"");
  CHECK_THROWS_WITH(parse("\x93NUMPY"), "load_npy: t.npy, byte 6: the format version needs 2 bytes, but the file has 0 bytes "
                                        "from there (6 in all); it is truncated or damaged");
  CHECK_THROWS_WITH(parse(std::string("\x93NUMPY\x04\x00\x10\x00", 10) + std::string(16, ' ')),
                    "load_npy: t.npy, byte 6: unsupported .npy format version 4.0 (this reader knows 1.0, 2.0 and 3.0)");
  CHECK_THROWS_WITH(parse(std::string("\x93NUMPY\x01\x01\x10\x00", 10)), Contains("unsupported .npy format version 1.1"));
  CHECK_THROWS_WITH(parse(std::string("\x93NUMPY\x01\x00\x10", 9)),
                    "load_npy: t.npy, byte 8: the header length needs 2 bytes, but the file has 1 bytes from there (9 in all); "
                    "it is truncated or damaged");
  CHECK_THROWS_WITH(parse(std::string("\x93NUMPY\x01\x00\x76\x00{'descr'", 18)),
                    "load_npy: t.npy, byte 8: the header length 118 runs past the end of the file (8 bytes follow the length field)");
  CHECK_THROWS_WITH(parse(std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12)),
                    Contains("the header length 4294967295 runs past the end of the file (0 bytes follow the length field)"));
}

TEST_CASE("malformed .npy catalogue: the header dict") {
  const std::string data = bytes<float>({1, 2});
  auto bad = [&](const std::string& header) { return parse(npy(header, data)); };
  CHECK_THROWS_WITH(bad("[1, 2]"), "load_npy: t.npy, byte 10: the header is not the Python dict NumPy writes: expected '{' at the "
                                   "start, found \"[1, 2]      \" (header: \"[1, 2]" + std::string(47, ' ') + "\\n\")");
  CHECK_THROWS_WITH(bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}"),
                    Contains("byte 66: the header is not the Python dict NumPy writes: unknown key 'extra' (NumPy writes exactly "
                             "'descr', 'fortran_order' and 'shape')"));
  CHECK_THROWS_WITH(bad("{'descr': '<f4', 'shape': (2,)}"), Contains("byte 10: the header is not the Python dict NumPy writes: the key "
                                                                    "'fortran_order' is missing"));
  CHECK_THROWS_WITH(bad("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}"),
                    Contains("the key 'descr' appears twice"));
  CHECK_THROWS_WITH(bad("{1: '<f4'}"), Contains("a key is an integer (1), not a string"));
  CHECK_THROWS_WITH(bad("{'descr': 4, 'fortran_order': False, 'shape': (2,)}"),
                    Contains("'descr' is an integer (4), not a string such as '<f4'"));
  CHECK_THROWS_WITH(bad("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}"),
                    Contains("'fortran_order' is an integer (0), not True or False"));
  CHECK_THROWS_WITH(bad("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}"),
                    Contains("'shape' is a list ([2]), not a tuple such as (2, 3)"));
  CHECK_THROWS_WITH(bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}"),
                    Contains("a parenthesised value without a comma is not a tuple"));
  CHECK_THROWS_WITH(bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,)}"),
                    Contains("only decimal integers are supported, found \".0,)}"));
  CHECK_THROWS_WITH(bad("{'descr': '<f4', 'fortran_order': False, 'shape': ('2',)}"),
                    Contains("byte 60: shape ('2',): the item '2' is not an integer"));
  CHECK_THROWS_WITH(bad("{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}"), Contains("byte 27: the header is not the Python dict NumPy writes: expected ',' or '}', found \"fortran_orde\""));
  CHECK_THROWS_WITH(bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)"), Contains("expected ',' or '}'"));
  CHECK_THROWS_WITH(bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x"), Contains("text after the closing '}'"));
  CHECK_THROWS_WITH(bad("{'descr': '<f\\x34', 'fortran_order': False, 'shape': (2,)}"),
                    Contains("escape sequences in strings are not supported"));
  CHECK_THROWS_WITH(bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': " + std::string(20, '(') + "}"),
                    Contains("values nested more than 16 deep"));
  CHECK_THROWS_WITH(bad("{'descr': '<f4', 'fortran_order': Fals, 'shape': (2,)}"), Contains("expected a value, found \"Fals,"));
  // Python 2 longs only in versions 1.0 and 2.0 (3.0 is Python 3 only).
  CHECK_THROWS_WITH(parse(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2L,)}", data, 3)),
                    Contains("only decimal integers are supported, found \"L,)}"));
}

TEST_CASE("malformed .npy catalogue: unsupported descr") {
  const std::string tail = "; only numeric dtypes are supported: f2, f4, f8, i1, i2, i4, i8, u1, b1 (float16/32/64, "
                           "int8/16/32/64, uint8, bool)";
  CHECK_THROWS_WITH(parse(npy(dict("|O", "(2,)"), "\x80\x02]q\x00.")),
                    "load_npy: t.npy, byte 20: descr \"|O\" is an array of Python objects (its data is a pickle, which is never "
                    "run)" + tail);
  CHECK_THROWS_WITH(parse(npy(dict("<U5", "(1,)"), std::string(20, 'a'))),
                    "load_npy: t.npy, byte 20: descr \"<U5\" is a unicode string dtype" + tail);
  CHECK_THROWS_WITH(parse(npy(dict("|S3", "(1,)"), "abc")), Contains("descr \"|S3\" is a bytes dtype"));
  CHECK_THROWS_WITH(parse(npy(dict("<c8", "(1,)"), std::string(8, '\0'))), Contains("descr \"<c8\" is a complex dtype"));
  CHECK_THROWS_WITH(parse(npy(dict("<u4", "(1,)"), std::string(4, '\0'))),
                    Contains("descr \"<u4\" is an unsigned integer dtype wider than one byte"));
  CHECK_THROWS_WITH(parse(npy(dict("<M8[ns]", "(1,)"), std::string(8, '\0'))), Contains("descr \"<M8[ns]\" is a datetime dtype"));
  CHECK_THROWS_WITH(parse(npy(dict("<f3", "(1,)"), "abc")), Contains("descr \"<f3\" is not a dtype this reader knows"));
  CHECK_THROWS_WITH(parse(npy("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0'))),
                    "load_npy: t.npy, byte 20: descr \"[('a', '<f4'), ('b', '<i4')]\" is a structured dtype" + tail);
}

TEST_CASE("malformed .npy catalogue: shapes and data sizes") {
  CHECK_THROWS_WITH(parse(npy(dict("<f4", "(2, -3)"), "")),
                    "load_npy: t.npy, byte 60: shape (2, -3) has the negative dimension -3");
  CHECK_THROWS_WITH(parse(npy(dict("<f4", "(4611686018427387904, 4)"), "")),
                    "load_npy: t.npy, byte 60: shape (4611686018427387904, 4) has more elements than fit in 64 bits");
  CHECK_THROWS_WITH(parse(npy(dict("<f8", "(2305843009213693952, 2)"), "")),
                    "load_npy: t.npy, byte 60: shape (2305843009213693952, 2) of \"<f8\" needs more bytes than fit in 64 bits");
  CHECK_THROWS_WITH(parse(npy(dict("<f4", "(99999999999999999999,)"), "")),
                    "load_npy: t.npy, byte 60: shape (99999999999999999999,): the dimension 99999999999999999999 does not fit in 64 bits");
  CHECK_THROWS_WITH(parse(npy(dict("<f4", "(2, 3)"), bytes<float>({1, 2, 3, 4, 5}))),
                    "load_npy: t.npy, byte 128: the data is truncated: shape (2, 3) of \"<f4\" needs 24 bytes, but only 20 follow the header");
  CHECK_THROWS_WITH(parse(npy(dict("<f4", "(2,)"), bytes<float>({1, 2, 3}))),
                    "load_npy: t.npy, byte 136: 4 unexpected bytes after the data (shape (2,) of \"<f4\" needs 8 bytes, 12 follow the header)");
  CHECK_THROWS_WITH(parse(npy(dict("<f4", "(1048576, 1048576)"), "")), Contains("needs 4398046511104 bytes, but only 0 follow the header"));
}

TEST_CASE("malformed .npy catalogue: a real file names its path") {
  tg_test::TempDir dir;
  const auto path = dir.write("broken.npy", npy(dict("<f4", "(3,)"), bytes<float>({1})));
  CHECK_THROWS_WITH(io::load_npy<float>(path), Contains("load_npy: " + path.string() + ", byte 128: the data is truncated"));
  CHECK_THROWS_AS(io::load_npy<float>(dir.path("missing.npy")), IoError);
}

TEST_CASE("malformed .npz catalogue") {
  CHECK_THROWS_WITH(parse_npz(from_hex(kNumpySavezCompressed)),
                    Contains("load_npz: t.npz, byte 55: entry \"w.npy\" is compressed (deflate); tapegrad reads only stored "
                             "(uncompressed) .npz entries: save with np.savez instead of np.savez_compressed, or re-save the file: "
                             "np.savez(out, **dict(np.load(path)))"));
  // One flipped byte, in the data or in the header: the CRC catches it (entry a.npy's bytes start at 55).
  std::string damaged = from_hex(kNumpySavez);
  damaged[55 + 128] ^= 1;
  CHECK_THROWS_WITH(parse_npz(damaged), "load_npz: t.npz, byte 55: entry \"a.npy\": CRC-32 mismatch (the archive says "
                                        "0x054b43d6, the bytes give 0xc9e14348): the archive is damaged");  // zlib.crc32 of the bytes
  damaged = from_hex(kNumpySavez);
  damaged[55 + 127] = '!';  // the header's final '\n'
  CHECK_THROWS_WITH(parse_npz(damaged), Contains("load_npz: t.npz, byte 55: entry \"a.npy\": CRC-32 mismatch"));
  // An entry that is not an .npy: the message names the archive, the entry and the archive's byte offset.
  CHECK_THROWS_WITH(parse_npz(zip({{"ok.npy", npy(dict("<f4", "()"), bytes<float>({1}))}, {"bad.npy", "hello"}})),
                    Contains("load_npz: t.npz, byte 205: entry \"bad.npy\": not a NumPy .npy file: it starts with \"hello\""));
  CHECK_THROWS_WITH(parse_npz(zip({{"t.npy", npy(dict("<f4", "(2,)"), bytes<float>({1}))}})),
                    "load_npz: t.npz, byte 163: entry \"t.npy\": the data is truncated: shape (2,) of \"<f4\" needs 8 bytes, but "
                    "only 4 follow the header");
  CHECK_THROWS_WITH(parse_npz(zip({{"a", npy(dict("<f4", "()"), bytes<float>({1}))}, {"a.npy", npy(dict("<f4", "()"), bytes<float>({1}))}})),
                    Contains("entry \"a.npy\": a second array named \"a\""));
  CHECK_THROWS_AS(parse_npz("not a zip at all"), FormatError);
  CHECK_THROWS_WITH(parse_npz(npy(dict("<f4", "()"), bytes<float>({1}))),
                    "load_npz: t.npz, byte 0: this is an .npy file (one array), not an .npz archive; read it with load_npy");
  CHECK_THROWS_WITH(parse(from_hex(kNumpySavez)), Contains("it starts with \"PK\\x03\\x04\\x14\\x00\\x00\\x00\" instead of "
                                                           "\"\\x93NUMPY\" (it is a zip archive: an .npz file is read with load_npz)"));
}

}  // namespace npy_test
