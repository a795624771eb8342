// SPDX-License-Identifier: MIT
// Model files: load_safetensors<float> of a V x 300 float32 table (V = 1M, 1.2
// GB; 10k in quick mode) against a plain read() of the same bytes into a
// preallocated buffer, both from the page cache; and save_safetensors
// (temporary, write, fsync, rename) against a plain write() + fsync. Target:
// the load runs at >= 80 % of the plain read's speed (one copy, straight into
// the tensor). Usage: bench_model_files [load|save]   (only that part;
// TAPEGRAD_BENCH_ROWS=<V> overrides the rows)
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <tapegrad/io/safetensors.hpp>
#include <tapegrad/tapegrad.hpp>

#include "suite.hpp"

namespace tg = tapegrad;
namespace fs = std::filesystem;

namespace {

// read() of the whole file into `dst`, the way a program with its own buffer
// would.
void plain_read(const std::string &path, char *dst, std::size_t n) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    std::abort();
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = ::read(
        fd, dst + done, std::min<std::size_t>(n - done, std::size_t(1) << 30));
    if (got <= 0)
      std::abort();
    done += static_cast<std::size_t>(got);
  }
  ::close(fd);
}

// write() + fsync of `n` bytes to a fresh file.
void plain_write(const std::string &path, const char *src, std::size_t n) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    std::abort();
  std::size_t done = 0;
  while (done < n) {
    const ssize_t put = ::write(
        fd, src + done, std::min<std::size_t>(n - done, std::size_t(1) << 30));
    if (put <= 0)
      std::abort();
    done += static_cast<std::size_t>(put);
  }
  if (::fsync(fd) != 0)
    std::abort();
  ::close(fd);
}

void print_pair(const char *what, double ours, double plain, double bytes,
                const char *plain_name) {
  std::printf(
      "%-38s %10s %8.2f GB/s | %-16s %10s %8.2f GB/s | plain/ours %5.1f %%\n",
      what, bench::format_time(ours).c_str(), bytes / ours * 1e-9, plain_name,
      bench::format_time(plain).c_str(), bytes / plain * 1e-9,
      plain / ours * 100);
}

} // namespace

int main(int argc, char **argv) {
  const std::string only = argc > 1 ? argv[1] : "";
  const std::int64_t d = 300;
  std::int64_t v = bench::quick() ? 10000 : 1000000;
  if (const char *rows = std::getenv("TAPEGRAD_BENCH_ROWS"))
    v = std::atoll(rows);
  bench::print_header(
      "Model files: safetensors load and save (float32 table, page cache)");
  std::printf("table [%lld, %lld] float32 = %.3f GB; load vs read() into a "
              "preallocated buffer (both warm);\n"
              "save (temporary + write + fsync + rename + folder fsync) vs "
              "write() + fsync of the same bytes\n",
              static_cast<long long>(v), static_cast<long long>(d),
              static_cast<double>(v * d * 4) * 1e-9);

  const fs::path dir =
      fs::temp_directory_path() /
      ("tapegrad_bench_model_files_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string st_path = (dir / "table.safetensors").string(),
                    raw_path = (dir / "table.raw").string();

  tg::nn::StateDict<float> dict;
  {
    tg::Tensor<float> w = tg::empty<float>({v, d});
    bench::fill_unit_variance(w.data(), v * d);
    dict.insert("weight", w);
  }
  const double table_bytes = static_cast<double>(v * d) * 4;
  const int reps = bench::quick() ? 1 : 3;

  // ---- save
  // --------------------------------------------------------------------------------------------------
  const float *table = dict.at("weight").data();
  if (only != "load") {
    std::vector<double> save_t = bench::time_interleaved(
        {[&] { tg::io::save_safetensors(st_path, dict); },
         [&] {
           plain_write(raw_path, reinterpret_cast<const char *>(table),
                       static_cast<std::size_t>(table_bytes));
         }},
        reps, 1, 0.0);
    print_pair("save_safetensors", save_t[0], save_t[1], table_bytes,
               "write+fsync");
  } else {
    tg::io::save_safetensors(st_path, dict);
  }
  if (only == "save") {
    std::error_code ec;
    fs::remove_all(dir, ec);
    bench::print_footer();
    return 0;
  }

  // ---- load
  // --------------------------------------------------------------------------------------------------
  const std::size_t file_bytes =
      static_cast<std::size_t>(fs::file_size(st_path));
  // Preallocated and faulted in, as a reused buffer would be; 2 MiB-aligned
  // with huge pages advised, like tapegrad's own large buffers, so both sides
  // copy into the same kind of memory.
  const std::size_t huge = std::size_t(2) << 20;
  std::unique_ptr<char, decltype(&std::free)> buffer(
      static_cast<char *>(
          std::aligned_alloc(huge, (file_bytes + huge - 1) / huge * huge)),
      &std::free);
  (void)::madvise(buffer.get(), file_bytes, MADV_HUGEPAGE);
  std::memset(buffer.get(), 0, file_bytes);
  plain_read(st_path, buffer.get(), file_bytes); // warm the page cache
  double first_load = 0;
  {
    const double t0 = bench::now_seconds();
    auto loaded = tg::io::load_safetensors<float>(st_path);
    first_load = bench::now_seconds() - t0;
    if (std::memcmp(loaded.at("weight").data(), table,
                    static_cast<std::size_t>(table_bytes)) != 0) {
      std::printf("ERROR: the loaded table differs from the saved one\n");
      return 1;
    }
  }
  std::vector<double> load_t =
      bench::time_interleaved({[&] {
                                 auto loaded =
                                     tg::io::load_safetensors<float>(st_path);
                                 bench::keep(loaded.at("weight").data());
                               },
                               [&] {
                                 plain_read(st_path, buffer.get(), file_bytes);
                                 bench::keep(buffer.get());
                               }},
                              reps, bench::quick() ? 1 : 3, 0.0);
  print_pair("load_safetensors<float>", load_t[0], load_t[1],
             static_cast<double>(file_bytes), "read()");
  std::printf("%-38s %10s %8.2f GB/s (fresh tensor memory: page faults on "
              "first touch)\n",
              "  first load in this process",
              bench::format_time(first_load).c_str(),
              static_cast<double>(file_bytes) / first_load * 1e-9);
  const double ratio = load_t[1] / load_t[0];
  std::printf("load speed / plain read speed: %.1f %% (target >= 80 %%): %s\n",
              ratio * 100, ratio >= 0.8 ? "met" : "MISSED");

  std::error_code ec;
  fs::remove_all(dir, ec);
  bench::print_footer();
  return 0;
}
