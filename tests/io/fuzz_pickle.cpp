// SPDX-License-Identifier: MIT
// libFuzzer target for the restricted unpickler and the tensor rebuilding behind load_torch: any bytes
// as a data.pkl, with a fake storage table (every storage key exists and holds deterministic bytes, up
// to 64 KiB). Anything but FormatError (malformed) or ValueError (a value the tensor type cannot hold)
// aborts; tensors that load must not hold more elements than their storage.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <unordered_map>

#include <tapegrad/io/torch.hpp>

namespace {

using namespace tapegrad;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_pickle: invariant broken: %s\n", what);
  std::abort();
}

template <class T>
void rebuild(const io::detail::pickle::Unpickled& u, bool lossy) {
  std::unordered_map<std::string, std::string> storages;
  std::uint64_t largest = 0;
  auto storage = [&](const std::string& key, io::detail::DType dtype, std::uint64_t numel) -> std::string_view {
    const std::uint64_t bytes = numel * io::detail::dtype_size(dtype);
    if (numel > (1u << 16) || bytes > (1u << 16)) throw FormatError("fuzz: storage too large for the fake table");
    largest = numel > largest ? numel : largest;
    std::string& s = storages[key];
    s.assign(static_cast<std::size_t>(bytes), '\0');
    // Small values (valid in every dtype, booleans 0/1) so conversions mostly succeed.
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>((i * 7 + key.size()) % 2);
    return s;
  };
  try {
    const auto sd = io::detail::rebuild_state_dict<T>(u, "fuzz", storage, false, io::LoadOptions().allow_lossy(lossy));
    for (const auto& item : sd)
      if (static_cast<std::uint64_t>(item.second.numel()) > largest && item.second.numel() > 0)
        fail("a tensor has more elements than any storage");
  } catch (const FormatError&) {
  } catch (const ValueError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    io::detail::pickle::Unpickled u;
    try {
      u = io::detail::pickle::unpickle(bytes, "fuzz");
    } catch (const FormatError&) {
      return 0;
    }
    if (u.root >= u.nodes.size()) fail("root out of range");
    if (u.nodes.size() > size + 1) fail("more values than input bytes");
    rebuild<float>(u, false);
    rebuild<double>(u, true);
    rebuild<std::int64_t>(u, true);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_pickle: unexpected exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}
