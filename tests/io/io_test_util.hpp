// SPDX-License-Identifier: MIT
// Helpers for the io tests: a temporary directory that cleans up after itself, and hand-made float32 bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <tapegrad/tapegrad.hpp>

namespace tg_test {

/// A fresh directory under the system's temporary directory, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    for (int attempt = 0;; ++attempt) {
      path_ = std::filesystem::temp_directory_path() /
              ("tapegrad_io_" + std::to_string(rd()) + "_" + std::to_string(attempt));
      if (std::filesystem::create_directory(path_)) break;
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  std::filesystem::path path() const { return path_; }
  std::filesystem::path path(const std::string& name) const { return path_ / name; }

  /// Writes `bytes` to a file named `name` in the directory and returns its path.
  std::filesystem::path write(const std::string& name, std::string_view bytes) const {
    const std::filesystem::path p = path_ / name;
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
  }

 private:
  std::filesystem::path path_;
};

/// The whole content of a file.
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Four bytes given as hex in file order, e.g. f32("0000803F") for 1.0f.
inline std::string f32(const char* hex) {
  std::string out;
  for (int i = 0; i < 8; i += 2) out += static_cast<char>(std::stoi(std::string(hex + i, 2), nullptr, 16));
  return out;
}

/// Row `token` of loaded vectors as a std::vector, for exact comparisons.
template <class T>
std::vector<T> row(const tapegrad::io::WordVectors<T>& wv, const std::string& token) {
  const std::int64_t id = *wv.vocab.find(token);
  const T* p = wv.weight.data() + id * wv.dim();
  return std::vector<T>(p, p + wv.dim());
}

/// Whether two tensors hold the same bits (NaN payloads included).
template <class T>
bool same_bits(const tapegrad::Tensor<T>& a, const tapegrad::Tensor<T>& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.numel()) * sizeof(T)) == 0;
}

}  // namespace tg_test
