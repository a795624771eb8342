// SPDX-License-Identifier: MIT
// PyTorch files: the zip reader and writer, the restricted unpickler, load_torch on pickles written by
// the real torch.save (PyTorch 1.13.1, bytes pasted below) inside hand-built archives, save_torch's
// pickle compared byte for byte with torch.save's, and a catalogue of malformed files with their
// messages pinned.
#include <functional>

#include <tapegrad/io/torch.hpp>

#include "io_test_util.hpp"
#include "support/test.hpp"

namespace torch_test {  // this file's tests and helpers: apart from other files' in a unity build

using namespace tapegrad;
using namespace std::string_literals;
using io::detail::MemorySink;
using io::detail::ReadFile;
using io::detail::ZipReader;
using io::detail::ZipWriter;
using tg_test::Contains;
using tg_test::TempDir;

namespace {

std::string hex(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16));
  return out;
}
std::string le16(std::uint32_t v) { return {static_cast<char>(v & 0xFF), static_cast<char>((v >> 8) & 0xFF)}; }
std::string le32(std::uint32_t v) { return le16(v & 0xFFFF) + le16(v >> 16); }
std::string le64(std::uint64_t v) { return le32(static_cast<std::uint32_t>(v)) + le32(static_cast<std::uint32_t>(v >> 32)); }
void patch(std::string& s, std::size_t at, const std::string& bytes) { s.replace(at, bytes.size(), bytes); }
std::string floats(std::initializer_list<float> v) {
  std::string out(v.size() * 4, '\0');
  std::memcpy(out.data(), v.begin(), out.size());
  return out;
}

// data.pkl of torch.save({'t': base.t(), 'r': base[1], 'n': base.narrow(1, 1, 2), 'p': nn.Parameter(torch.ones(2)),
// 'z': torch.tensor(3.5), 'e': torch.zeros(0, 3), 'h': torch.ones(2, dtype=torch.float16)}) with
// base = torch.arange(12.).reshape(3, 4), by PyTorch 1.13.1: a plain dict, views sharing storage "0".
const std::string kViewsPickle = hex(
    "80027d710028580100000074710163746f7263682e5f7574696c730a5f72656275696c645f74656e736f725f76320a710228"
    "28580700000073746f72616765710363746f7263680a466c6f617453746f726167650a710458010000003071055803000000"
    "63707571064b0c747107514b004b044b038671084b014b048671098963636f6c6c656374696f6e730a4f7264657265644469"
    "63740a710a2952710b74710c52710d580100000072710e6802282868036804680568064b0c74710f514b044b048571104b01"
    "85711189680a2952711274711352711458010000006e71156802282868036804680568064b0c747116514b014b034b028671"
    "174b044b0186711889680a2952711974711a52711b580100000070711c63746f7263682e5f7574696c730a5f72656275696c"
    "645f706172616d657465720a711d6802282868036804580100000031711e68064b0274711f514b004b028571204b01857121"
    "89680a2952712274712352712488680a2952712587712652712758010000007a712868022828680368045801000000327129"
    "68064b0174712a514b00292989680a2952712b74712c52712d580100000065712e6802282868036804580100000033712f68"
    "064b00747130514b004b004b038671314b034b0186713289680a295271337471345271355801000000687136680228286803"
    "63746f7263680a48616c6653746f726167650a7137580100000034713868064b02747139514b004b0285713a4b0185713b89"
    "680a2952713c74713d52713e752e");

// data.pkl of torch.save(OrderedDict(w=torch.arange(6.).reshape(2, 3), b=torch.tensor([1., 2.]), z=torch.tensor(2.),
// e=torch.zeros(0, 3), big=torch.zeros(70000), four=torch.zeros(1, 2, 1, 2))) by PyTorch 1.13.1.
const std::string kRefPickle = hex(
    "800263636f6c6c656374696f6e730a4f726465726564446963740a71002952710128580100000077710263746f7263682e5f"
    "7574696c730a5f72656275696c645f74656e736f725f76320a71032828580700000073746f72616765710463746f7263680a"
    "466c6f617453746f726167650a71055801000000307106580300000063707571074b06747108514b004b024b038671094b03"
    "4b0186710a8968002952710b74710c52710d580100000062710e6803282868046805580100000031710f68074b0274711051"
    "4b004b028571114b018571128968002952711374711452711558010000007a71166803282868046805580100000032711768"
    "074b01747118514b0029298968002952711974711a52711b580100000065711c6803282868046805580100000033711d6807"
    "4b0074711e514b004b004b0386711f4b034b0186712089680029527121747122527123580300000062696771246803282868"
    "046805580100000034712568074a70110100747126514b004a701101008571274b018571288968002952712974712a52712b"
    "5804000000666f7572712c6803282868046805580100000035712d68074b0474712e514b00284b014b024b014b0274712f28"
    "4b044b024b024b0174713089680029527131747132527133752e");

// data.pkl of torch.save(nn.Sequential(nn.Embedding(5, 3), nn.Linear(3, 2)).state_dict()) by PyTorch 1.13.1:
// an OrderedDict with a _metadata attribute (BUILD, SETITEM).
const std::string kModulePickle = hex(
    "800263636f6c6c656374696f6e730a4f726465726564446963740a710029527101285808000000302e776569676874710263"
    "746f7263682e5f7574696c730a5f72656275696c645f74656e736f725f76320a71032828580700000073746f726167657104"
    "63746f7263680a466c6f617453746f726167650a71055801000000307106580300000063707571074b0f747108514b004b05"
    "4b038671094b034b0186710a8968002952710b74710c52710d5808000000312e776569676874710e68032828680468055801"
    "00000031710f68074b06747110514b004b024b038671114b034b01867112896800295271137471145271155806000000312e"
    "6269617371166803282868046805580100000032711768074b02747118514b004b028571194b0185711a8968002952711b74"
    "711c52711d757d711e58090000005f6d65746164617461711f68002952712028580000000071217d71225807000000766572"
    "73696f6e71234b017358010000003071247d712568234b017358010000003171267d712768234b01737573622e");

// A zip archive built by hand, independently of ZipWriter: local headers without padding, then the
// central directory, then the end record. Offsets are kept for tests that damage the archive.
struct HandZip {
  std::string bytes;
  std::vector<std::size_t> local;    // local header offsets
  std::vector<std::size_t> central;  // central entry offsets
  std::size_t end = 0;               // end record offset
};

HandZip hand_zip(const std::vector<std::pair<std::string, std::string>>& entries, std::uint16_t method = 0,
                 const std::string& comment = "") {
  HandZip z;
  for (const auto& [name, data] : entries) {
    z.local.push_back(z.bytes.size());
    const std::uint32_t crc = io::detail::crc32(data.data(), data.size());
    z.bytes += le32(0x04034b50) + le16(20) + le16(0) + le16(method) + le16(0) + le16(0x21) + le32(crc) +
               le32(static_cast<std::uint32_t>(data.size())) + le32(static_cast<std::uint32_t>(data.size())) +
               le16(static_cast<std::uint32_t>(name.size())) + le16(0) + name + data;
  }
  const std::size_t cd = z.bytes.size();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& [name, data] = entries[i];
    z.central.push_back(z.bytes.size());
    const std::uint32_t crc = io::detail::crc32(data.data(), data.size());
    z.bytes += le32(0x02014b50) + le16(20) + le16(20) + le16(0) + le16(method) + le16(0) + le16(0x21) + le32(crc) +
               le32(static_cast<std::uint32_t>(data.size())) + le32(static_cast<std::uint32_t>(data.size())) +
               le16(static_cast<std::uint32_t>(name.size())) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0) +
               le32(static_cast<std::uint32_t>(z.local[i])) + name;
  }
  z.end = z.bytes.size();
  const auto n = static_cast<std::uint32_t>(entries.size());
  z.bytes += le32(0x06054b50) + le16(0) + le16(0) + le16(n) + le16(n) + le32(static_cast<std::uint32_t>(z.end - cd)) +
             le32(static_cast<std::uint32_t>(cd)) + le16(static_cast<std::uint32_t>(comment.size())) + comment;
  return z;
}

// The zip's message for `bytes`, or a note of what happened instead.
std::string zip_error(const std::string& bytes) {
  try {
    const ReadFile f("zip", bytes, "a.zip");
    const ZipReader z(f);
    for (const auto& e : z.entries()) z.read_string(e, 1 << 20, "hint");
  } catch (const FormatError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a FormatError: ") + e.what();
  }
  return "no exception";
}

nn::StateDict<float> load_bytes(const std::string& bytes, const io::LoadOptions& o = {}) {
  const ReadFile f("load_torch", bytes, "t.pt");
  return io::detail::read_torch<float>(f, o);
}

std::string load_error(const std::string& bytes) {
  try {
    load_bytes(bytes);
  } catch (const FormatError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a FormatError: ") + e.what();
  }
  return "no exception";
}

// Pickle pieces written by hand, as Python's pickler would for the tensors of a state_dict.
std::string p_str(const std::string& s) { return "X" + le32(static_cast<std::uint32_t>(s.size())) + s; }
std::string p_int(std::int64_t v) {
  if (v >= INT32_MIN && v <= INT32_MAX) return "J" + le32(static_cast<std::uint32_t>(v));
  return "\x8a\x08" + le64(static_cast<std::uint64_t>(v));  // LONG1
}
std::string p_ints(const std::vector<std::int64_t>& v) {
  std::string out = "(";
  for (const std::int64_t x : v) out += p_int(x);
  return out + "t";
}
struct Spec {
  std::string key, storage_type = "FloatStorage", storage_key = "0";
  std::int64_t numel = 0, offset = 0;
  std::vector<std::int64_t> sizes, strides;
};
std::string p_tensor(const Spec& s) {
  return "ctorch._utils\n_rebuild_tensor_v2\n((" + p_str("storage") + "ctorch\n" + s.storage_type + "\n" + p_str(s.storage_key) +
         p_str("cpu") + p_int(s.numel) + "tQ" + p_int(s.offset) + p_ints(s.sizes) + p_ints(s.strides) + "\x89}tR";
}
std::string p_dict(const std::vector<Spec>& specs) {
  std::string out = "\x80\x02}(";
  for (const Spec& s : specs) out += p_str(s.key) + p_tensor(s);
  return out + "u.";
}

// An archive "t/..." holding `pickle` and the storages.
std::string torch_zip(const std::string& pickle, const std::vector<std::pair<std::string, std::string>>& storages) {
  std::vector<std::pair<std::string, std::string>> entries{{"t/data.pkl", pickle}};
  for (const auto& [key, data] : storages) entries.emplace_back("t/data/" + key, data);
  entries.emplace_back("t/version", "3\n");
  return hand_zip(entries).bytes;
}

template <class T>
std::vector<T> values(const Tensor<T>& t) {
  return std::vector<T>(t.data(), t.data() + t.numel());
}

}  // namespace

TEST_CASE("crc32 is zlib's CRC-32 and chains") {
  CHECK(io::detail::crc32("123456789", 9) == 0xCBF43926u);  // the standard check value
  CHECK(io::detail::crc32("", 0) == 0u);
  CHECK(io::detail::crc32("6789", 4, io::detail::crc32("12345", 5)) == 0xCBF43926u);
}

TEST_CASE("ZipWriter writes stored entries on 64-byte boundaries that ZipReader reads back") {
  MemorySink sink;
  ZipWriter w(sink);
  const std::string big(1000, 'x');
  w.add("a/data.pkl", "hello", 5);
  w.add("a/empty", "", 0);
  w.add("a/d\xc3\xa9j\xc3\xa0", "utf8", 4);  // a non-ASCII name: UTF-8 flag
  w.add("a/data/0", big.data(), big.size());
  w.finish();
  CHECK_THROWS_WITH(w.add("late", "", 0), "ZipWriter::add: entry \"late\" added after finish()");

  const std::string& b = sink.bytes;
  CHECK(b.substr(0, 4) == "PK\x03\x04");
  CHECK(b.substr(30, 10) == "a/data.pkl");
  CHECK(b.substr(40, 4) == "FB" + le16(20));  // the filler: 30 + 10 + 4 + 20 = 64
  CHECK(b.substr(64, 5) == "hello");
  CHECK(b.substr(b.size() - 22, 4) == "PK\x05\x06");
  CHECK(b.substr(b.size() - 14, 4) == le16(4) + le16(4));

  const ReadFile f("zip", b, "a.zip");
  const ZipReader z(f);
  REQUIRE(z.entries().size() == 4);
  for (const auto& e : z.entries()) {
    CHECK(e.data_offset % 64 == 0);
    CHECK(e.method == 0);
  }
  CHECK(z.entries()[2].name == "a/d\xc3\xa9j\xc3\xa0");
  REQUIRE(z.find("a/data/0") != nullptr);
  CHECK(z.read_string(*z.find("a/data/0"), 1000) == big);
  CHECK(z.read_string(*z.find("a/data.pkl"), 5) == "hello");
  CHECK(z.read_string(*z.find("a/empty"), 0).empty());
  CHECK(z.find("a/missing") == nullptr);
  CHECK_THROWS_WITH(z.read_string(*z.find("a/data/0"), 999),
                    "zip: a.zip, byte 256: entry \"a/data/0\" has 1000 bytes, more than the 999 allowed for it");

  MemorySink other;
  ZipWriter w2(other);
  w2.add("x", "1", 1);
  CHECK_THROWS_WITH(w2.add("x", "2", 1), "ZipWriter::add: entry \"x\" was already added");
  CHECK_THROWS_WITH(w2.add(std::string("a\0b", 3), "2", 1), Contains("must have 1 to 65535 bytes and no NUL"));
}

TEST_CASE("ZipWriter adds zip64 end records past 65534 entries, and ZipReader reads them") {
  MemorySink sink;
  ZipWriter w(sink);
  for (int i = 0; i < 70000; ++i) w.add(std::to_string(i), &i, sizeof i);
  w.finish();
  const std::string& b = sink.bytes;
  CHECK(b.substr(b.size() - 22, 4) == "PK\x05\x06");
  CHECK(b.substr(b.size() - 14, 4) == le16(0xFFFF) + le16(0xFFFF));  // the counts are in the zip64 record
  CHECK(b.substr(b.size() - 42, 4) == "PK\x06\x07");                // the zip64 locator
  CHECK(b.substr(b.size() - 98, 4) == "PK\x06\x06");                // the zip64 end record
  CHECK(b.substr(b.size() - 98 + 32, 8) == le64(70000));
  const ReadFile f("zip", b, "big.zip");
  const ZipReader z(f);
  REQUIRE(z.entries().size() == 70000);
  int v = 0;
  z.read(*z.find("69999"), &v);
  CHECK(v == 69999);
}

TEST_CASE("ZipReader reads hand-built archives: no padding, a comment, zip64 end records") {
  SECTION("plain, with a comment") {
    const HandZip z = hand_zip({{"one", "1"}, {"two", "22"}}, 0, "a comment PK\x05\x06 inside");
    const ReadFile f("zip", z.bytes, "a.zip");
    const ZipReader r(f);
    REQUIRE(r.entries().size() == 2);
    CHECK(r.entries()[0].data_offset == 33);
    CHECK(r.read_string(r.entries()[1], 2) == "22");
  }
  SECTION("zip64: the end record defers to the zip64 records") {
    HandZip z = hand_zip({{"one", "1"}, {"two", "22"}});
    const std::string end = z.bytes.substr(z.end);
    const std::uint64_t cd = z.central[0], cd_size = z.end - cd;
    std::string zip64 = le32(0x06064b50) + le64(44) + le16(45) + le16(45) + le32(0) + le32(0) + le64(2) + le64(2) +
                        le64(cd_size) + le64(cd);
    zip64 += le32(0x07064b50) + le32(0) + le64(z.end) + le32(1);
    z.bytes = z.bytes.substr(0, z.end) + zip64 + le32(0x06054b50) + le16(0) + le16(0) + le16(0xFFFF) + le16(0xFFFF) +
              le32(0xFFFFFFFF) + le32(0xFFFFFFFF) + le16(0);
    const ReadFile f("zip", z.bytes, "a.zip");
    const ZipReader r(f);
    REQUIRE(r.entries().size() == 2);
    CHECK(r.read_string(r.entries()[0], 1) == "1");
  }
}

TEST_CASE("malformed zip archives: FormatError naming the file, byte offset and problem") {
  const HandZip good = hand_zip({{"a", "1234"}, {"b", "5678"}});
  REQUIRE(zip_error(good.bytes) == "no exception");

  CHECK(zip_error("PK") == "zip: a.zip, byte 0: not a zip archive: 2 bytes is shorter than the 22-byte end-of-central-directory record");
  CHECK(zip_error(std::string(100, 'x')) ==
        "zip: a.zip, byte 100: not a zip archive: no end-of-central-directory record in its last bytes (the file is not a zip, or is truncated)");
  {  // a damaged central directory entry signature
    std::string b = good.bytes;
    patch(b, good.central[1], "XXXX");
    CHECK(zip_error(b) == "zip: a.zip, byte 117: expected central directory entry 1 (signature 0x02014b50), found 0x58585858");
  }
  {  // the central directory's offset points past the end record
    std::string b = good.bytes;
    patch(b, good.end + 16, le32(1000));
    CHECK(zip_error(b) == "zip: a.zip, byte 164: the central directory (94 bytes at byte 1000) does not end before the end record at byte 164");
  }
  {  // more entries than the central directory can hold
    std::string b = good.bytes;
    patch(b, good.end + 8, le16(9) + le16(9));
    CHECK(zip_error(b) == "zip: a.zip, byte 164: the archive claims 9 entries, but its 94-byte central directory has room for at most 2");
  }
  {  // an entry whose data would run past the end of the file (and into the central directory)
    std::string b = good.bytes;
    patch(b, good.central[1] + 20, le32(1u << 30) + le32(1u << 30));
    CHECK(zip_error(b) == "zip: a.zip, byte 35: entry \"b\" has 1073741824 bytes of data at byte 66, which run past the start "
                          "of the central directory at byte 70 (the file has 186 bytes)");
  }
  {  // sizes that differ for a stored entry
    std::string b = good.bytes;
    patch(b, good.central[0] + 24, le32(5));
    CHECK(zip_error(b) == "zip: a.zip, byte 70: entry \"a\" is stored, but its size 5 differs from its stored size 4");
  }
  {  // a local header that does not name the same entry
    std::string b = good.bytes;
    patch(b, good.local[1] + 30, "c");
    CHECK(zip_error(b) == "zip: a.zip, byte 35: the local header's name differs from the central directory's \"b\"");
  }
  {  // a local header offset that is not a local header
    std::string b = good.bytes;
    patch(b, good.central[1] + 42, le32(2));
    CHECK(zip_error(b) == "zip: a.zip, byte 2: expected the local header of entry \"b\" (signature 0x04034b50), found 0x00140403");
  }
  {  // two entries on the same bytes
    std::string b = good.bytes;
    patch(b, good.central[1] + 46, "a");
    patch(b, good.local[1] + 30, "a");
    CHECK(zip_error(b) == "zip: a.zip, byte 117: entry \"a\" appears twice in the central directory");
  }
  {  // two entries that overlap: "a" claims 6 bytes, running into the local header of "a2"
    const HandZip z = hand_zip({{"a", "1234"}, {"a2", "5678"}});
    std::string b = z.bytes;
    patch(b, z.central[0] + 20, le32(6) + le32(6));
    CHECK(zip_error(b) == "zip: a.zip, byte 35: entry \"a2\" overlaps entry \"a\", whose data runs to byte 37");
  }
  {  // a NUL in a name
    std::string b = good.bytes;
    patch(b, good.central[0] + 46, std::string(1, '\0'));
    CHECK(zip_error(b) == "zip: a.zip, byte 70: the name of entry \"\\x00\" contains a NUL byte");
  }
  {  // damaged data: the CRC-32 does not match
    std::string b = good.bytes;
    patch(b, good.local[0] + 31, "9");
    CHECK(zip_error(b) == "zip: a.zip, byte 31: entry \"a\": its data has CRC-32 0x5e57c84c but the archive records 0x9be3e0a3; the entry is damaged");
  }
  {  // a deflated entry
    const HandZip z = hand_zip({{"a", "1234"}}, 8);
    CHECK(zip_error(z.bytes) == "zip: a.zip, byte 31: entry \"a\" is compressed with deflate; only stored (uncompressed) entries can be read; hint");
  }
  {  // encrypted
    std::string b = good.bytes;
    patch(b, good.central[0] + 8, le16(1));
    CHECK(zip_error(b) == "zip: a.zip, byte 70: entry \"a\" is encrypted, which is not supported");
  }
  {  // split over disks
    std::string b = good.bytes;
    patch(b, good.end + 4, le16(1));
    CHECK(zip_error(b) == "zip: a.zip, byte 164: the archive spans several disks (disk 1, central directory on disk 0, 2 of 2 entries here); split archives are not supported");
  }
  {  // zip64 markers without zip64 records
    std::string b = good.bytes;
    patch(b, good.end + 16, le32(0xFFFFFFFF));
    CHECK(zip_error(b) == "zip: a.zip, byte 164: the end-of-central-directory record defers to zip64 records, but there is no zip64 locator before it");
  }
  {  // bytes left over in the central directory
    std::string b = good.bytes;
    patch(b, good.end + 8, le16(1) + le16(1));
    CHECK(zip_error(b) == "zip: a.zip, byte 117: the central directory has 47 bytes after its 1 entries; the archive is damaged");
  }
  // Every prefix of a valid archive is refused, never read past.
  for (std::size_t n = 0; n < good.bytes.size(); ++n) {
    const std::string msg = zip_error(good.bytes.substr(0, n));
    INFO("prefix " << n << ": " << msg);
    CHECK(msg.rfind("zip: a.zip, byte ", 0) == 0);
  }
}

TEST_CASE("load_torch reads PyTorch's pickle of views, a parameter, 0-d, empty and float16 tensors") {
  std::vector<float> base(12);
  for (int i = 0; i < 12; ++i) base[static_cast<std::size_t>(i)] = static_cast<float>(i);
  std::string base_bytes(48, '\0');
  std::memcpy(base_bytes.data(), base.data(), 48);
  const std::string bytes = torch_zip(kViewsPickle, {{"0", base_bytes},
                                                     {"1", floats({1.f, 1.f})},
                                                     {"2", floats({3.5f})},
                                                     {"3", ""},
                                                     {"4", hex("003c00bc")}});  // float16 1, -1
  const auto sd = load_bytes(bytes);
  CHECK(sd.keys() == std::vector<std::string>{"t", "r", "n", "p", "z", "e", "h"});
  CHECK(sd.at("t").shape() == Shape{4, 3});
  CHECK(values(sd.at("t")) == std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});  // base.t()
  CHECK(values(sd.at("r")) == std::vector<float>{4, 5, 6, 7});                             // base[1]
  CHECK(sd.at("n").shape() == Shape{3, 2});
  CHECK(values(sd.at("n")) == std::vector<float>{1, 2, 5, 6, 9, 10});  // base.narrow(1, 1, 2)
  CHECK(values(sd.at("p")) == std::vector<float>{1, 1});
  CHECK(sd.at("z").shape() == Shape{});
  CHECK(values(sd.at("z")) == std::vector<float>{3.5f});
  CHECK(sd.at("e").shape() == Shape{0, 3});
  CHECK(values(sd.at("h")) == std::vector<float>{1, -1});
  // Into double: exact, so allowed.
  const ReadFile f("load_torch", bytes, "t.pt");
  CHECK(values(io::detail::read_torch<double>(f).at("t"))[1] == 4.0);
}

TEST_CASE("load_torch reads a module's state_dict: OrderedDict with _metadata") {
  const std::string bytes = torch_zip(kModulePickle, {{"0", std::string(60, '\0')}, {"1", std::string(24, '\0')}, {"2", hex("963f50be0c14a6be")}});
  const auto sd = load_bytes(bytes);
  CHECK(sd.keys() == std::vector<std::string>{"0.weight", "1.weight", "1.bias"});
  CHECK(sd.at("0.weight").shape() == Shape{5, 3});
  CHECK(sd.at("1.weight").shape() == Shape{2, 3});
  CHECK(values(sd.at("1.bias")) == std::vector<float>{-0.20336756110191345f, -0.32437169551849365f});
}

TEST_CASE("load_torch: element types are converted exactly, or refused") {
  SECTION("int64 into float, and into int32") {
    const std::string pkl = p_dict({{"i", "LongStorage", "0", 2, 0, {2}, {1}}});
    const std::string bytes = torch_zip(pkl, {{"0", le64(7) + le64(static_cast<std::uint64_t>(-3))}});
    CHECK(values(load_bytes(bytes).at("i")) == std::vector<float>{7, -3});
    const ReadFile f("load_torch", bytes, "t.pt");
    CHECK(values(io::detail::read_torch<std::int32_t>(f).at("i")) == std::vector<std::int32_t>{7, -3});
  }
  SECTION("float64 0.1 into float: ValueError unless allow_lossy") {
    double v = 0.1;
    std::string data(8, '\0');
    std::memcpy(data.data(), &v, 8);
    const std::string bytes = torch_zip(p_dict({{"d", "DoubleStorage", "0", 1, 0, {}, {}}}), {{"0", data}});
    CHECK_THROWS_AS(load_bytes(bytes), ValueError);
    CHECK_THROWS_WITH(load_bytes(bytes), Contains("entry \"d\" is F64 and cannot be loaded as F32: element 0 = 0.1"));
    CHECK(values(load_bytes(bytes, io::LoadOptions().allow_lossy(true)).at("d")) == std::vector<float>{0.1f});
  }
  SECTION("bfloat16, int8, uint8, bool, int16, int32") {
    const std::string pkl = p_dict({{"bf", "BFloat16Storage", "0", 1, 0, {1}, {1}},
                                    {"c", "CharStorage", "1", 1, 0, {1}, {1}},
                                    {"u", "ByteStorage", "2", 1, 0, {1}, {1}},
                                    {"b", "BoolStorage", "3", 2, 0, {2}, {1}},
                                    {"s", "ShortStorage", "4", 1, 0, {1}, {1}},
                                    {"n", "IntStorage", "5", 1, 0, {1}, {1}}});
    const auto sd = load_bytes(torch_zip(pkl, {{"0", hex("c03f")}, {"1", hex("fe")}, {"2", hex("fe")}, {"3", hex("0100")},
                                               {"4", hex("00ff")}, {"5", le32(123456)}}));
    CHECK(values(sd.at("bf")) == std::vector<float>{1.5f});
    CHECK(values(sd.at("c")) == std::vector<float>{-2});
    CHECK(values(sd.at("u")) == std::vector<float>{254});
    CHECK(values(sd.at("b")) == std::vector<float>{1, 0});
    CHECK(values(sd.at("s")) == std::vector<float>{-256});
    CHECK(values(sd.at("n")) == std::vector<float>{123456});
  }
}

TEST_CASE("save_torch writes torch.save's pickle byte for byte, 64-byte aligned, and reads back") {
  nn::StateDict<float> sd;
  sd.insert("w", tensor<float>({0, 1, 2, 3, 4, 5}, {2, 3}));
  sd.insert("b", tensor<float>({1, 2}, {2}));
  sd.insert("z", tensor<float>({2}, Shape{}));
  sd.insert("e", zeros<float>({0, 3}));
  sd.insert("big", zeros<float>({70000}));
  sd.insert("four", zeros<float>({1, 2, 1, 2}));
  MemorySink sink;
  io::detail::write_torch(sink, sd, "ref");
  const ReadFile f("load_torch", sink.bytes, "ref.pt");
  const ZipReader z(f);
  std::vector<std::string> names;
  for (const auto& e : z.entries()) {
    names.push_back(e.name);
    CHECK(e.data_offset % 64 == 0);
  }
  CHECK(names == std::vector<std::string>{"ref/data.pkl", "ref/data/0", "ref/data/1", "ref/data/2", "ref/data/3",
                                          "ref/data/4", "ref/data/5", "ref/version"});
  CHECK(z.read_string(*z.find("ref/data.pkl"), 1 << 20) == kRefPickle);
  CHECK(z.read_string(*z.find("ref/version"), 10) == "3\n");
  CHECK(z.read_string(*z.find("ref/data/1"), 10) == floats({1, 2}));

  const auto back = io::detail::read_torch<float>(f);
  CHECK(back.keys() == sd.keys());
  for (const auto& [name, t] : sd) CHECK(tg_test::same_bits(back.at(name), t));
}

TEST_CASE("save_torch and load_torch round trip through files for every element type") {
  TempDir dir;
  nn::StateDict<double> d;
  d.insert("x", tensor<double>({0.1, -2.5e300, 3}, {3}));
  io::save_torch(dir.path("model.pt"), d);
  const auto bytes = tg_test::read_file(dir.path("model.pt"));
  CHECK(bytes.substr(30, 14) == "model/data.pkl");  // the top folder is the file's stem, as in PyTorch
  CHECK(tg_test::same_bits(io::load_torch<double>(dir.path("model.pt")).at("x"), d.at("x")));

  nn::StateDict<std::int64_t> l;
  l.insert("ids", tensor<std::int64_t>({-(std::int64_t(1) << 62), 5}, {1, 2}));
  io::save_torch(dir.path("ids.pt"), l);
  CHECK(values(io::load_torch<std::int64_t>(dir.path("ids.pt")).at("ids")) ==
        std::vector<std::int64_t>{-(std::int64_t(1) << 62), 5});

  nn::StateDict<std::int32_t> i;
  i.insert("n", tensor<std::int32_t>({1, -2, 3, 4}, {2, 2}));
  io::save_torch(dir.path("n.pt"), i);
  CHECK(values(io::load_torch<std::int32_t>(dir.path("n.pt")).at("n")) == std::vector<std::int32_t>{1, -2, 3, 4});

  nn::StateDict<float> empty;
  io::save_torch(dir.path("empty.pt"), empty);
  CHECK(io::load_torch<float>(dir.path("empty.pt")).empty());

  CHECK_THROWS_AS(io::load_torch<float>(dir.path("missing.pt")), IoError);
  nn::StateDict<float> bad;
  bad.insert("\xff", zeros<float>({1}));
  CHECK_THROWS_WITH(io::save_torch(dir.path("bad.pt"), bad),
                    "save_torch: entry name \"\\xff\" is not valid UTF-8; Python could not read it back");
  CHECK(!std::filesystem::exists(dir.path("bad.pt")));
}

TEST_CASE("malformed pickles: FormatError naming the opcode or GLOBAL and its byte offset") {
  auto err = [](const std::string& pkl) { return load_error(torch_zip(pkl, {})); };
  const std::string at = "load_torch: t.pt, entry \"t/data.pkl\", byte ";
  const std::string not_allowed =
      "\" is not allowed: a state_dict names only collections.OrderedDict, torch._utils._rebuild_tensor_v2,"
      " torch._utils._rebuild_parameter and torch.*Storage types; nothing in the file is ever run";
  // The classic exploit: os.system("echo pwned") by REDUCE. Refused at the GLOBAL, before anything else.
  CHECK(err("\x80\x02\x63posix\nsystem\nq\x00X\x0a\x00\x00\x00\x65\x63ho pwned\x85R."s) == at + "2: GLOBAL \"posix system" + not_allowed);
  CHECK(err("\x80\x02}(X\x01\x00\x00\x00m\x63__main__\nNet\n)Ru."s) == at + "10: GLOBAL \"__main__ Net" + not_allowed);
  CHECK(err("\x80\x02\x63\x62uiltins\neval\n."s) == at + "2: GLOBAL \"builtins eval" + not_allowed);
  CHECK(err("\x80\x02X\x05\x00\x00\x00posixX\x06\x00\x00\x00system\x93."s) == at + "23: GLOBAL \"posix system" + not_allowed);
  CHECK(err("\x80\x02}i."s) == at + "3: unknown or unsupported pickle opcode 0x69 ('i'); a state_dict saved by torch.save uses only a few simple opcodes");
  CHECK(err("\x80\x02}\xff."s) == at + "3: unknown or unsupported pickle opcode 0xff; a state_dict saved by torch.save uses only a few simple opcodes");
  CHECK(err("\x80\x02}q\x00h\x05."s) == at + "5: BINGET 5: no value was stored under that memo index (1 stored)");
  CHECK(err("\x80\x02}j\x00\x00\x00\x01."s) == at + "3: LONG_BINGET 16777216: no value was stored under that memo index (0 stored)");
  CHECK(err("\x80\x02K\x01\x86."s) == at + "4: TUPLE2 needs a value, but the stack is empty (stack underflow)");
  CHECK(err("\x80\x02}(K\x01\x86."s) == at + "6: TUPLE2 needs a value, but the stack is empty above the last MARK (stack underflow)");
  CHECK(err("\x80\x02."s) == at + "2: STOP needs a value, but the stack is empty (stack underflow)");
  CHECK(err("\x80\x02}K\x01K\x02u."s) == at + "7: SETITEMS needs a MARK before its items, but there is none");
  CHECK(err("\x80\x02X\x05\x00\x00\x00" "ab"s) == at + "2: BINUNICODE needs 5 bytes of argument, but the pickle ends after 2 (it is truncated)");
  CHECK(err("\x80\x02}"s) == at + "3: the pickle ends without a STOP opcode (it is truncated)");
  CHECK(err("\x80\x02}.}"s) == at + "4: the pickle has 1 bytes after its STOP opcode; the entry is damaged");
  CHECK(err(""s) == at + "0: the pickle is empty");
  CHECK(err("\x80\x07}."s) == at + "0: pickle protocol 7 is not supported (torch.save writes protocol 2)");
  CHECK(err("\x80\x02\x63torch._utils\n_rebuild_tensor_v2\nK\x01R."s) ==
        at + "37: REDUCE of torch._utils _rebuild_tensor_v2 needs a tuple of arguments, found an int");
  CHECK(err("\x80\x02K\x01)R."s) == at + "5: REDUCE needs a GLOBAL to call, found an int");
  CHECK(err("\x80\x02\x63\x63ollections\nOrderedDict\nK\x01\x85R."s) ==
        at + "30: REDUCE of collections OrderedDict with 1 arguments; a state_dict's OrderedDict() is built empty, then filled with SETITEMS");
  CHECK(err("\x80\x02]K\x01K\x02s."s) == at + "7: SETITEM needs a dict below its items, found a list");
  CHECK(err("\x80\x02\x8a\x09\x01\x01\x01\x01\x01\x01\x01\x01\x01."s) == at + "2: LONG1 integer of 9 bytes does not fit in 64 bits");
  CHECK(err("\x80\x02X\x01\x00\x00\x00\xff."s) == at + "2: BINUNICODE string of 1 bytes is not valid UTF-8");
  CHECK(err("\x80\x02\x63torch\n"s) == at + "2: GLOBAL's module and name are not ended by newlines (the pickle is truncated)");
  CHECK(err("\x80\x02K\x01."s) == at + "2: the pickle holds an int, not a dict of tensors; load_torch reads files saved with torch.save(model.state_dict(), path)");
  CHECK(err("\x80\x02}(K\x01K\x02u."s) == at + "4: a key of the state_dict is an int, not a string");
  CHECK(err("\x80\x02}(X\x01\x00\x00\x00\x61K\x02u."s) == at + "10: tensor \"a\" is an int, not a tensor (torch._utils._rebuild_tensor_v2)");
  CHECK(err("\x80\x02}(X\x01\x00\x00\x00\x61\x63torch\nFloatStorage\n)Ru."s) ==
        at + "31: tensor \"a\" is a call of torch FloatStorage, not a tensor (torch._utils._rebuild_tensor_v2)");
  // A dict that contains itself: refused as a non-tensor, no loop, no leak.
  CHECK(err("\x80\x02}q\x00(X\x01\x00\x00\x00\x61h\x00u."s) == at + "2: tensor \"a\" is a dict, not a tensor (torch._utils._rebuild_tensor_v2)");

  // Every prefix of a real pickle is a FormatError.
  for (std::size_t n = 0; n < kViewsPickle.size(); ++n) {
    const std::string msg = err(kViewsPickle.substr(0, n));
    INFO("prefix " << n << ": " << msg);
    CHECK(msg.rfind(at, 0) == 0);
  }
}

TEST_CASE("malformed tensors: views outside their storage, missing or short storages") {
  const std::string at = "load_torch: t.pt, entry \"t/data.pkl\", byte ";
  const std::string four = floats({1, 2, 3, 4});
  auto err = [&](const Spec& s, const std::string& data) { return load_error(torch_zip(p_dict({s}), {{"0", data}})); };
  CHECK(err({"a", "FloatStorage", "0", 4, 0, {2, 2}, {2, 1}}, four) == "no exception");
  CHECK(err({"a", "FloatStorage", "0", 4, 1, {2, 2}, {2, 1}}, four) ==
        at + "130: tensor \"a\": offset 1, shape [2, 2] and stride [2, 1] reach element 4 of a storage of 4 elements");
  CHECK(err({"a", "FloatStorage", "0", 4, 0, {2, 2}, {3, 1}}, four) ==
        at + "130: tensor \"a\": offset 0, shape [2, 2] and stride [3, 1] reach element 4 of a storage of 4 elements");
  CHECK(err({"a", "FloatStorage", "0", 4, 0, {2}, {INT32_MAX}}, four) ==
        at + "120: tensor \"a\": offset 0, shape [2] and stride [2147483647] reach element 2147483647 of a storage of 4 elements");
  CHECK(err({"a", "FloatStorage", "0", 4, 5, {0}, {1}}, four) ==
        at + "120: tensor \"a\": offset 5, shape [0] and stride [1] reach element 5 of a storage of 4 elements");
  CHECK(err({"a", "FloatStorage", "0", 4, 0, {2}, {-1}}, four) == at + "116: tensor \"a\": stride 0 must be an int >= 0");
  CHECK(err({"a", "FloatStorage", "0", 4, 0, {-2}, {1}}, four) == at + "109: tensor \"a\": size 0 must be an int >= 0");
  CHECK(err({"a", "FloatStorage", "0", 4, -1, {2}, {1}}, four) == at + "98: tensor \"a\": the storage offset must be an int >= 0");
  CHECK(err({"a", "FloatStorage", "0", 4, 0, {2, 2}, {1}}, four) == at + "125: tensor \"a\": size and stride must be tuples of the same length");
  CHECK(err({"a", "FloatStorage", "0", 4, 0, {8}, {0}}, four) ==
        at + "120: tensor \"a\" has 8 elements (shape [8]), more than the 4 of its storage (an expanded view); save it with .contiguous()");
  CHECK(err({"a", "FloatStorage", "0", -4, 0, {2}, {1}}, four) == at + "96: tensor \"a\": its storage has a negative size -4");
  CHECK(load_error(torch_zip(p_dict({{"a", "FloatStorage", "0", 4, 0, {4}, {1}}}), {})) ==
        "load_torch: t.pt: storage \"0\" has no entry \"t/data/0\" in the archive");
  CHECK(err({"a", "FloatStorage", "0", 4, 0, {4}, {1}}, four.substr(0, 12)) ==
        "load_torch: t.pt, byte 201: entry \"t/data/0\" has 12 bytes, but its storage holds 4 F32 elements (4 x 4 bytes)");
  CHECK(err({"a", "FloatStorage", "0", std::int64_t(1) << 62, 0, {4}, {1}}, four) ==
        "load_torch: t.pt, byte 206: entry \"t/data/0\" has 16 bytes, but its storage holds 4611686018427387904 F32 elements (4611686018427387904 x 4 bytes)");
  CHECK(err({"a", "FloatStorage", "0", 4, 0, std::vector<std::int64_t>(65, 1), std::vector<std::int64_t>(65, 1)}, four) ==
        at + "429: tensor \"a\" has 65 dimensions, more than 64");
  CHECK(load_error(torch_zip(p_dict({{"a", "FloatStorage", "0", 4, 0, {4}, {1}}, {"b", "LongStorage", "0", 2, 0, {2}, {1}}}), {{"0", four}})) ==
        at + "212: tensor \"b\": storage \"0\" is I64 x 2 here but F32 x 4 elsewhere");
  CHECK(load_error(torch_zip(p_dict({{"a", "FloatStorage", "0", 4, 0, {4}, {1}}, {"a", "FloatStorage", "0", 4, 0, {4}, {1}}}), {{"0", four}})) ==
        at + "121: tensor \"a\" appears twice in the state_dict");
}

TEST_CASE("legacy, TorchScript, deflated and non-PyTorch files are named as such") {
  CHECK(load_error(hex("80028a0a6cfc9c46f9206aa8501911") + std::string(50, '\0')) ==
        "load_torch: t.pt: this is PyTorch's legacy (pre-1.6, non-zip) format, which load_torch does not read; re-save it "
        "with PyTorch >= 1.6: torch.save(torch.load(f), f, _use_new_zipfile_serialization=True)");
  CHECK(load_error(hand_zip({{"m/constants.pkl", "\x80\x02)."}, {"m/code/x.py", ""}}).bytes) ==
        "load_torch: t.pt: this is a TorchScript archive (torch.jit.save), not a state_dict; save model.state_dict() with torch.save instead");
  CHECK(load_error(hand_zip({{"a.npy", "x"}}).bytes) ==
        "load_torch: t.pt: the zip archive has no \"<folder>/data.pkl\" entry: it was not written by torch.save");
  CHECK(load_error(hand_zip({{"a/data.pkl", "\x80\x02}."}, {"b/data.pkl", "\x80\x02}."}}).bytes) ==
        "load_torch: t.pt, byte 84: the archive has two pickles, \"a/data.pkl\" and \"b/data.pkl\"; a torch.save archive has one top folder");
  CHECK(load_error(hand_zip({{"t/data.pkl", "\x80\x02}."}}, 8).bytes) ==
        "load_torch: t.pt, byte 40: entry \"t/data.pkl\" is compressed with deflate; only stored (uncompressed) entries can be "
        "read; re-save the file with torch.save, which stores entries uncompressed");
  CHECK(load_error(hand_zip({{"t/data.pkl", "\x80\x02}."}, {"t/byteorder", "middle"}}).bytes) ==
        "load_torch: t.pt, byte 85: entry \"t/byteorder\" says \"middle\", expected \"little\" or \"big\"");
  CHECK(load_bytes(hand_zip({{"t/data.pkl", "\x80\x02}."}}).bytes).empty());  // any top folder; no version needed
  // Written on a big-endian machine (newer PyTorch records the byte order): elements are swapped.
  const std::string big = hand_zip({{"x/data.pkl", p_dict({{"a", "FloatStorage", "0", 1, 0, {1}, {1}}})},
                                    {"x/byteorder", "big"},
                                    {"x/data/0", hex("3fc00000")}})
                              .bytes;
  CHECK(values(load_bytes(big).at("a")) == std::vector<float>{1.5f});
}

TEST_CASE("corrupting any byte of a valid file gives a typed error or a consistent load, never a crash") {
  nn::StateDict<float> sd;
  sd.insert("w", tensor<float>({1, 2, 3, 4, 5, 6}, {2, 3}));
  sd.insert("b", tensor<float>({7}, Shape{}));
  MemorySink sink;
  io::detail::write_torch(sink, sd, "c");
  const std::string good = sink.bytes;
  std::size_t loaded = 0, refused = 0;
  for (std::size_t i = 0; i < good.size(); ++i)
    for (const unsigned char x : {0x01, 0x80, 0xFF}) {
      std::string b = good;
      b[i] = static_cast<char>(static_cast<unsigned char>(b[i]) ^ x);
      try {
        const auto back = load_bytes(b);
        ++loaded;
        for (const auto& [name, t] : back) CHECK(t.numel() <= 6);
      } catch (const FormatError&) {
        ++refused;
      } catch (const ValueError&) {
        ++refused;
      }
    }
  CHECK(refused > 0);
  CHECK(loaded + refused == good.size() * 3);
}

}  // namespace torch_test
