// SPDX-License-Identifier: MIT
// libFuzzer target for the safetensors reader. The input is the whole file. It is loaded as float,
// double, int64 and int32 (lossy conversions allowed on a second try); whatever loads must be
// consistent with the input's size and survive save -> load with identical tensors and metadata,
// and a second save must give identical bytes. Anything but FormatError/ValueError aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

#include <tapegrad/io/safetensors.hpp>

namespace {

using namespace tapegrad;
using Meta = std::map<std::string, std::string>;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_safetensors: invariant broken: %s\n", what);
  std::abort();
}

template <class T>
bool same(const nn::StateDict<T>& a, const nn::StateDict<T>& b) {
  if (a.keys() != b.keys()) return false;
  for (const auto& [name, t] : a) {
    const Tensor<T>& u = b.at(name);
    if (t.shape() != u.shape()) return false;
    if (t.numel() > 0 && std::memcmp(t.data(), u.data(), static_cast<std::size_t>(t.numel()) * sizeof(T)) != 0)
      return false;
  }
  return true;
}

template <class T>
void run(std::string_view bytes) {
  nn::StateDict<T> dict;
  Meta meta;
  const io::detail::ReadFile file("load_safetensors", bytes, "fuzz.safetensors");
  try {
    dict = io::detail::read_safetensors<T>(file, io::LoadOptions(), &meta);
  } catch (const FormatError&) {
    return;
  } catch (const ValueError&) {
    try {  // a value that does not convert exactly: allowed with allow_lossy, unless it cannot be held at all
      dict = io::detail::read_safetensors<T>(file, io::LoadOptions().allow_lossy(true), &meta);
    } catch (const ValueError&) {
      return;
    }
  }
  // Every element took at least one byte of the input, and tensors are no larger than T.
  std::uint64_t elements = 0;
  for (const auto& item : dict) elements += static_cast<std::uint64_t>(item.second.numel());
  if (elements > bytes.size()) fail("more elements than the input has bytes");

  io::detail::MemorySink first;
  io::detail::write_safetensors(first, dict, meta);
  std::uint64_t n = 0;
  std::memcpy(&n, first.bytes.data(), 8);
  if (n % 8 != 0) fail("written header length is not a multiple of 8");
  Meta meta2;
  const io::detail::ReadFile again("load_safetensors", first.bytes, "round-trip.safetensors");
  const nn::StateDict<T> back = io::detail::read_safetensors<T>(again, io::LoadOptions(), &meta2);
  if (!same(dict, back)) fail("save -> load changed the tensors");
  if (meta2 != meta) fail("save -> load changed the metadata");
  io::detail::MemorySink second;
  io::detail::write_safetensors(second, back, meta2);
  if (second.bytes != first.bytes) fail("a second save wrote different bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    run<float>(bytes);
    run<double>(bytes);
    run<std::int64_t>(bytes);
    run<std::int32_t>(bytes);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_safetensors: unexpected exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}
