// SPDX-License-Identifier: MIT
// libFuzzer target for the NumPy readers: byte 0 picks .npy or .npz, the element type and allow_lossy;
// the rest is the file. Whatever loads must survive a write/read round trip bit for bit; anything but
// FormatError (malformed file) or ValueError (a value the element type cannot hold) aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <tapegrad/io/npy.hpp>

namespace {

using namespace tapegrad;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_npy: invariant broken: %s\n", what);
  std::abort();
}

template <class T>
bool same_bits(const Tensor<T>& a, const Tensor<T>& b) {
  return a.shape() == b.shape() &&
         (a.numel() == 0 || std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.numel()) * sizeof(T)) == 0);
}

template <class T>
void check_tensor(const Tensor<T>& t, std::size_t input_size) {
  // Every element takes at least one byte of the input.
  if (static_cast<std::uint64_t>(t.numel()) > input_size) fail("more elements than the input has bytes");
}

template <class T>
void run_npy(std::string_view bytes, const io::LoadOptions& options) {
  Tensor<T> t;
  try {
    const io::detail::ReadFile file("fuzz_npy", bytes, "input.npy");
    t = io::detail::read_npy<T>(file, options);
  } catch (const FormatError&) {
    return;
  } catch (const ValueError&) {
    return;
  }
  check_tensor(t, bytes.size());
  io::detail::MemorySink out;
  try {
    io::detail::write_npy(out, t);
  } catch (const ValueError&) {
    return;  // an empty array whose non-zero sizes are too large for T's width: refused before writing
  }
  const io::detail::ReadFile again("fuzz_npy", out.bytes, "again.npy");
  if (!same_bits(io::detail::read_npy<T>(again), t)) fail("npy round trip changed the tensor");
}

template <class T>
void run_npz(std::string_view bytes, const io::LoadOptions& options) {
  nn::StateDict<T> dict;
  try {
    const io::detail::ReadFile file("fuzz_npz", bytes, "input.npz");
    dict = io::detail::read_npz<T>(file, options);
  } catch (const FormatError&) {
    return;
  } catch (const ValueError&) {
    return;
  }
  for (const auto& [name, t] : dict) {
    check_tensor(t, bytes.size());
    if (name.find('\0') != std::string::npos) return;  // a zip name the writer refuses to write
  }
  io::detail::MemorySink out;
  try {
    io::detail::write_npz(out, dict);
  } catch (const ValueError&) {
    return;  // as in run_npy
  }
  const io::detail::ReadFile again("fuzz_npz", out.bytes, "again.npz");
  const nn::StateDict<T> back = io::detail::read_npz<T>(again);
  if (back.keys() != dict.keys()) fail("npz round trip changed the names");
  for (const auto& [name, t] : dict)
    if (!same_bits(back.at(name), t)) fail("npz round trip changed a tensor");
}

template <class T>
void run(bool npz, std::string_view bytes, const io::LoadOptions& options) {
  if (npz) run_npz<T>(bytes, options);
  else run_npy<T>(bytes, options);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  const bool npz = flags & 1;
  const io::LoadOptions options = io::LoadOptions().allow_lossy(flags & 8);
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    switch ((flags >> 1) & 3) {
      case 0: run<float>(npz, bytes, options); break;
      case 1: run<double>(npz, bytes, options); break;
      case 2: run<std::int64_t>(npz, bytes, options); break;
      default: run<std::int32_t>(npz, bytes, options); break;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_npy: unexpected exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}
