// SPDX-License-Identifier: MIT
// Interop tool for tests/io/python/numpy_interop.py: loads a file NumPy wrote and saves it again with
// tapegrad's writer, so the script can compare both with np.load.
//   io_npy_interop npy|npz f32|f64|i64|i32 <in> <out> [lossy]
// Prints the loaded names and shapes; exits 0 on success, 2 on FormatError, 3 on ValueError, 4 otherwise
// (the message on stderr).
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

#include <tapegrad/io/npy.hpp>

namespace {

using namespace tapegrad;

template <class T>
void run(const std::string& kind, const std::string& in, const std::string& out, const io::LoadOptions& options) {
  if (kind == "npy") {
    const Tensor<T> t = io::load_npy<T>(in, options);
    std::printf("%s\n", detail::shape_str(t.shape()).c_str());
    io::save_npy(out, t);
  } else {
    const nn::StateDict<T> dict = io::load_npz<T>(in, options);
    for (const auto& [name, t] : dict) std::printf("%s %s\n", name.c_str(), detail::shape_str(t.shape()).c_str());
    io::save_npz(out, dict);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || argc > 6) {
    std::fprintf(stderr, "usage: %s npy|npz f32|f64|i64|i32 <in> <out> [lossy]\n", argv[0]);
    return 1;
  }
  const std::string kind = argv[1], type = argv[2], in = argv[3], out = argv[4];
  const io::LoadOptions options = io::LoadOptions().allow_lossy(argc == 6 && std::string(argv[5]) == "lossy");
  try {
    if (type == "f32") run<float>(kind, in, out, options);
    else if (type == "f64") run<double>(kind, in, out, options);
    else if (type == "i64") run<std::int64_t>(kind, in, out, options);
    else if (type == "i32") run<std::int32_t>(kind, in, out, options);
    else return std::fprintf(stderr, "unknown type %s\n", type.c_str()), 1;
  } catch (const FormatError& e) {
    std::fprintf(stderr, "FormatError: %s\n", e.what());
    return 2;
  } catch (const ValueError& e) {
    std::fprintf(stderr, "ValueError: %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 4;
  }
  return 0;
}
