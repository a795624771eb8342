// SPDX-License-Identifier: MIT
// libFuzzer target for load_torch on whole files (a zip holding a pickle and storages). Anything but
// FormatError or ValueError aborts; what loads must survive a save_torch/load_torch round trip.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <tapegrad/io/torch.hpp>

namespace {

using namespace tapegrad;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_torch: invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    nn::StateDict<float> sd;
    try {
      const io::detail::ReadFile file("fuzz_torch", bytes, "fuzz.pt");
      sd = io::detail::read_torch<float>(file);
    } catch (const FormatError&) {
      return 0;
    } catch (const ValueError&) {
      return 0;
    }
    std::uint64_t total = 0;
    for (const auto& item : sd) total += static_cast<std::uint64_t>(item.second.numel());
    if (total > 16 * std::uint64_t(size) + 1024) fail("more elements than the file can back");
    io::detail::MemorySink sink;
    io::detail::write_torch(sink, sd, "fuzz");
    const io::detail::ReadFile again("fuzz_torch", sink.bytes, "again.pt");
    const auto back = io::detail::read_torch<float>(again);
    if (back.keys() != sd.keys()) fail("round trip changed the keys");
    for (const auto& [name, t] : sd) {
      const auto& b = back.at(name);
      if (b.shape() != t.shape() || std::memcmp(b.data(), t.data(), static_cast<std::size_t>(t.numel()) * 4) != 0)
        fail("round trip changed a tensor");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_torch: unexpected exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}
