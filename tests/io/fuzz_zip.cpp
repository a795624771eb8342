// SPDX-License-Identifier: MIT
// libFuzzer target for the zip reader: any bytes as an archive, every entry read. Anything but a
// FormatError aborts; entries that load must lie inside the file and not overlap.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tapegrad/io/detail/zip.hpp>

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_zip: invariant broken: %s\n", what);
  std::abort();
}

void run(std::string_view bytes) {
  using namespace tapegrad::io::detail;
  const ReadFile file("fuzz_zip", bytes, "fuzz.zip");
  try {
    const ZipReader zip(file);
    std::set<std::string> names;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    for (const ZipEntry& e : zip.entries()) {
      if (!names.insert(e.name).second) fail("duplicate name accepted");
      if (e.name.empty() || e.name.find('\0') != std::string::npos) fail("empty name or NUL accepted");
      if (e.data_offset > bytes.size() || e.compressed_size > bytes.size() - e.data_offset) fail("entry past the end");
      if (zip.find(e.name) != &e) fail("find does not return the entry");
      ranges.emplace_back(e.data_offset, e.data_offset + e.compressed_size);
      try {
        const std::string data = zip.read_string(e, 1 << 24, "hint");
        if (data.size() != e.size) fail("read a different size");
        if (crc32(data.data(), data.size()) != e.crc32) fail("CRC not checked");
      } catch (const tapegrad::FormatError&) {
      }
    }
    std::sort(ranges.begin(), ranges.end());
    for (std::size_t i = 1; i < ranges.size(); ++i)
      if (ranges[i].first < ranges[i - 1].second) fail("overlapping entries accepted");
  } catch (const tapegrad::FormatError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    run(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_zip: unexpected exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}
