// SPDX-License-Identifier: MIT
// The C++ half of the safetensors interop test: loads a safetensors file written by Python (from the
// spec, with NumPy/PyTorch values) as Tensor<T>, and saves what it read, metadata included, with
// save_safetensors for Python to check.
// Usage: io_safetensors_interop <in> <out> <float|double|int64|int32> [lossy]
// Exit status 2 with the message on stderr when the load is refused (a FormatError or ValueError).
#include <cstdio>
#include <cstring>
#include <string>

#include <tapegrad/io/safetensors.hpp>

namespace {

template <class T>
void copy(const char* in, const char* out, bool lossy) {
  using namespace tapegrad;
  const auto dict = io::load_safetensors<T>(in, io::LoadOptions().allow_lossy(lossy));
  io::save_safetensors(out, dict, io::read_safetensors_metadata(in));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s <in> <out> <float|double|int64|int32> [lossy]\n", argv[0]);
    return 1;
  }
  const std::string type = argv[3];
  const bool lossy = argc > 4 && std::strcmp(argv[4], "lossy") == 0;
  try {
    if (type == "float") copy<float>(argv[1], argv[2], lossy);
    else if (type == "double") copy<double>(argv[1], argv[2], lossy);
    else if (type == "int64") copy<std::int64_t>(argv[1], argv[2], lossy);
    else if (type == "int32") copy<std::int32_t>(argv[1], argv[2], lossy);
    else {
      std::fprintf(stderr, "unknown type %s\n", type.c_str());
      return 1;
    }
  } catch (const tapegrad::FormatError& e) {
    std::fprintf(stderr, "FormatError: %s\n", e.what());
    return 2;
  } catch (const tapegrad::ValueError& e) {
    std::fprintf(stderr, "ValueError: %s\n", e.what());
    return 2;
  }
  return 0;
}
