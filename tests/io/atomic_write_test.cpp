// SPDX-License-Identifier: MIT
// Nothing lost: a write that fails part-way (an exception, a full disk, the process killed) leaves the
// previous file exactly as it was and no temporary file beside it.
#include <csignal>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tapegrad/io/safetensors.hpp>

#include "io_test_util.hpp"
#include "support/test.hpp"

namespace atomic_write_test {  // this file's tests and helpers: apart from other files' in a unity build

namespace tg = tapegrad;
namespace iod = tapegrad::io::detail;
using tg_test::Contains;

namespace {

// A Sink that passes bytes on and throws once `limit` bytes have gone through: a writer failing part-way.
class FailingSink final : public iod::Sink {
 public:
  FailingSink(iod::Sink& next, std::uint64_t limit) : next_(next), limit_(limit) {}
  void write(const void* data, std::size_t n) override {
    if (written_ + n > limit_) throw std::runtime_error("injected failure");
    next_.write(data, n);
    written_ += n;
  }
  std::uint64_t written() const noexcept override { return written_; }

 private:
  iod::Sink& next_;
  std::uint64_t limit_, written_ = 0;
};

std::vector<std::string> folder_listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

tg::nn::StateDict<float> table(std::int64_t rows, float value) {
  tg::nn::StateDict<float> dict;
  dict.insert("weight", tg::full<float>({rows, 256}, value));
  return dict;
}

}  // namespace

TEST_CASE("Atomic writes: an exception part-way leaves the previous file intact and no temporary") {
  tg_test::TempDir dir;
  const auto path = dir.path("model.safetensors");
  tg::io::save_safetensors(path, table(4, 1.0f));
  const std::string before = tg_test::read_file(path);
  for (std::uint64_t limit : {std::uint64_t(0), std::uint64_t(8), std::uint64_t(100), std::uint64_t(4000)}) {
    CHECK_THROWS_WITH(iod::write_atomically("test", path,
                                            [&](iod::Sink& sink) {
                                              FailingSink failing(sink, limit);
                                              iod::write_safetensors(failing, table(8, 2.0f), {});
                                            }),
                      "injected failure");
    CHECK(tg_test::read_file(path) == before);
    CHECK(folder_listing(dir.path()) == std::vector<std::string>{"model.safetensors"});
  }
  // A save that succeeds replaces the file.
  tg::io::save_safetensors(path, table(8, 2.0f));
  CHECK(tg::io::load_safetensors<float>(path).at("weight").size(0) == 8);
  CHECK(folder_listing(dir.path()) == std::vector<std::string>{"model.safetensors"});
}

TEST_CASE("Atomic writes: a full disk (file size limit) gives IoError and keeps the previous file") {
  tg_test::TempDir dir;
  const auto path = dir.path("model.safetensors");
  tg::io::save_safetensors(path, table(4, 1.0f));
  const std::string before = tg_test::read_file(path);
  // In a child: a 64 KiB limit on file sizes makes the write fail with EFBIG, as a full disk would.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit {};
    limit.rlim_cur = limit.rlim_max = 64 * 1024;
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      tg::io::save_safetensors(path, table(1024, 3.0f));  // 1 MiB of data
    } catch (const tg::IoError& e) {
      _exit(std::strstr(e.what(), "save_safetensors") && std::strstr(e.what(), "the previous file, if any, is unchanged") ? 42 : 2);
    } catch (...) {
      _exit(3);
    }
    _exit(4);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 42);
  CHECK(tg_test::read_file(path) == before);
  CHECK(folder_listing(dir.path()) == std::vector<std::string>{"model.safetensors"});
}

TEST_CASE("Atomic writes: a process killed while writing a large file leaves the previous one and nothing else") {
  tg_test::TempDir dir;
  const auto path = dir.path("big.safetensors");
  tg::io::save_safetensors(path, table(4, 1.0f));
  const std::string before = tg_test::read_file(path);
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(ready[0]);
    const auto big = table(64 * 1024, 5.0f);  // 64 MiB per pass: the write takes a while
    // Once the first bytes are out, tell the parent, then keep writing.
    iod::write_atomically("test", path, [&](iod::Sink& sink) {
      iod::write_safetensors(sink, table(1, 0.0f), {});
      if (::write(ready[1], "x", 1) != 1) _exit(5);
      for (int i = 0; i < 100; ++i) iod::write_safetensors(sink, big, {});
    });
    _exit(0);
  }
  ::close(ready[1]);
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  ::usleep(20000);
  ::kill(child, SIGKILL);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  ::close(ready[0]);
  CHECK(WIFSIGNALED(status));
  CHECK(tg_test::read_file(path) == before);
  CHECK(folder_listing(dir.path()) == std::vector<std::string>{"big.safetensors"});
}

TEST_CASE("Atomic writes: a folder that does not exist or a path that names a folder is an error, nothing created") {
  tg_test::TempDir dir;
  CHECK_THROWS_AS(tg::io::save_safetensors(dir.path("no/such/folder/m.safetensors"), table(1, 1.0f)), tg::IoError);
  CHECK_THROWS_WITH(tg::io::save_safetensors(dir.path("no/such/folder/m.safetensors"), table(1, 1.0f)),
                    Contains("cannot create a temporary file in"));
  CHECK(folder_listing(dir.path()).empty());
}

}  // namespace atomic_write_test
