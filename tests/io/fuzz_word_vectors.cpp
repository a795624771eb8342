// SPDX-License-Identifier: MIT
// libFuzzer target for the word-vector loaders: byte 0 picks the format and options, the rest is the file.
// Whatever loads must be consistent and survive a save/load round trip; anything but FormatError aborts.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <tapegrad/io.hpp>

namespace {

using namespace tapegrad;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_word_vectors: invariant broken: %s\n", what);
  std::abort();
}

template <class T>
bool same_values(const Tensor<T>& a, const Tensor<T>& b) {
  if (a.shape() != b.shape()) return false;
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    const T x = a.data()[i], y = b.data()[i];
    const bool both_nan = std::isnan(x) && std::isnan(y);
    if (!both_nan && std::memcmp(&x, &y, sizeof(T)) != 0) return false;
  }
  return true;
}

// Saves `wv` in word2vec text or binary to memory, loads it back and checks nothing changed.
template <class T>
void round_trip(const io::WordVectors<T>& wv, bool binary) {
  try {
    detail::check_saveable("fuzz", wv, binary);
  } catch (const ValueError&) {
    return;  // tokens with spaces and the like: a word2vec file cannot hold them
  }
  std::string bytes;
  detail::write_word2vec(bytes, wv, binary);
  const auto format = binary ? io::WordVectorFormat::Word2VecBinary : io::WordVectorFormat::Word2VecText;
  const auto back = io::parse_word_vectors<T>(bytes, format, io::WordVectorLoadOptions().allow_nonfinite(true));
  if (back.vocab.tokens() != wv.vocab.tokens()) fail("round trip changed the tokens");
  if (binary && std::is_same_v<T, double>) return;  // values were rounded to float32 on purpose
  if (!same_values(back.weight, wv.weight)) fail("round trip changed the values");
}

template <class T>
void run(std::string_view bytes, io::WordVectorFormat format, const io::WordVectorLoadOptions& opt) {
  io::WordVectors<T> wv;
  try {
    wv = io::parse_word_vectors<T>(bytes, format, opt);
  } catch (const FormatError&) {
    return;
  }
  const std::int64_t specials = (opt.add_pad() ? 1 : 0) + (opt.add_unk() ? 1 : 0);
  if (wv.weight.dim() != 2 || wv.weight.size(0) != wv.vocab.size()) fail("weight rows != vocabulary size");
  if (wv.dim() < 1 || wv.dim() > io::kMaxWordVectorDim) fail("dimension out of range");
  if (opt.max_vectors() && wv.size() > specials + *opt.max_vectors()) fail("more rows than max_vectors");
  // A value takes at least 2 bytes of text (a space and a digit) or 4 of binary.
  if (wv.weight.numel() > static_cast<std::int64_t>(bytes.size() / 2) + specials * wv.dim())
    fail("more values than the input can hold");
  if (opt.add_pad()) {
    if (wv.vocab.token(0) != opt.pad_token()) fail("pad token not at id 0");
    for (std::int64_t j = 0; j < wv.dim(); ++j)
      if (wv.weight.data()[j] != T(0)) fail("pad row not zero");
  }
  if (opt.add_unk() != wv.vocab.unk_id().has_value()) fail("unk id does not match add_unk");
  if (!opt.allow_nonfinite())
    for (std::int64_t i = 0; i < wv.weight.numel(); ++i)
      if (!std::isfinite(wv.weight.data()[i])) fail("non-finite value loaded");
  round_trip(wv, false);
  round_trip(wv, true);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  const auto format = static_cast<io::WordVectorFormat>(flags & 3);
  io::WordVectorLoadOptions opt;
  opt.lowercase(flags & 4).add_pad(flags & 8).add_unk(flags & 16).allow_nonfinite(flags & 32);
  if (flags & 128) opt.max_vectors(2);
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    if (flags & 64)
      run<double>(bytes, format, opt);
    else
      run<float>(bytes, format, opt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_word_vectors: unexpected exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}
