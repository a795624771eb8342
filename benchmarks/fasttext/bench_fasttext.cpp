// SPDX-License-Identifier: MIT
// fastText as the bar (issue 13, target 5): fastText's supervised classifier (EmbeddingBag mean ->
// Linear without bias -> softmax, SGD with the learning rate decaying linearly to 0 over the
// training tokens) trained by Debian's `fasttext` and by tapegrad on the same `__label__` file,
// same hyper-parameters, same tokens, in one run. Prints P@1 of both, training tokens/s of
// fastText and of tapegrad on 1 and 2 threads, their ratios, and PASS/MISS per target (against
// fastText on 1 thread; its 2-thread run is context: how far these two cores let it scale).
// tapegrad's threads train as fastText's do (Hogwild!): each reads its own part of the file and
// updates the shared model without locks; see train_tapegrad and HogwildWorker.
//
// Usage: bench_fasttext [CORPUS_DIR]
//   CORPUS_DIR holds train.txt and test.txt (fastText format); default $TAPEGRAD_FASTTEXT_CORPUS,
//   else build_corpus.sh builds one from the apt package index into a temporary directory.
//   TAPEGRAD_BENCH_QUICK=1: a small corpus (3000 packages) and one repetition, for the smoke test.
//   FASTTEXT: the fastText binary (default `fasttext` on the PATH).
//   TAPEGRAD_FASTTEXT_BATCH: tapegrad's examples per SGD step (default kDefaultBatch);
//   TAPEGRAD_FASTTEXT_REPS: repetitions (seeds 0, 1, ...; default 3, quick 1).
//   TAPEGRAD_FASTTEXT_PUBLISH, TAPEGRAD_FASTTEXT_HOT: each thread publishes its private head and
//   rows of the commonest words every PUBLISH batches (default kDefaultPublishEvery), HOT words
//   (default kDefaultHotRows; PUBLISH=1 HOT=0 is plain Hogwild); see HogwildWorker.
//   TAPEGRAD_FASTTEXT_PROFILE=N: only tapegrad's training on N threads (for a profiler).
// Besides tokens/s, each tapegrad run reports its CPU use per thread (the thread's CPU time over
// its wall time; well below 100 % means other processes held the CPUs) and its speed per CPU
// second (what it would reach with a CPU per thread), to tell a slow run from a busy machine.
//
// What is timed, on both sides: training only. fastText's words/sec/thread (parsed from its
// -verbose 2 output) counts every token it reads, labels and the `</s>` ending each line included,
// over the time from starting its threads to joining them; reading the file and building the
// dictionary come before. tapegrad's figure counts the same tokens (the corpus' fastText token count
// times the epochs) over the time from starting the training loop (threads included) to its end;
// reading, the vocabulary and turning words into ids come before and are reported separately.
// fastText instead re-reads and hashes its words on every epoch, inside its timing.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <vector>

#include <tapegrad/tapegrad.hpp>

#include "../harness.hpp"

#ifndef TAPEGRAD_FASTTEXT_CORPUS_SCRIPT
#define TAPEGRAD_FASTTEXT_CORPUS_SCRIPT "benchmarks/fasttext/build_corpus.sh"
#endif

// OpenBLAS's own threads (if the build routes matrix products to OpenBLAS): weak, so the program
// links without it. Its GEMMs from 64 x 100 x 58 up would otherwise run on 2 threads, which the
// 1-thread figure must not, and which would fight our 2 threads for the 2 cores.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace tg = tapegrad;
namespace nn = tapegrad::nn;
namespace F = tapegrad::nn::functional;
namespace data = tapegrad::data;
namespace fs = std::filesystem;

namespace {

// fastText's defaults for `supervised` (dim 100, lr 0.1, epoch 5), 1-grams, softmax loss.
struct Hyper {
  std::int64_t dim = 100;
  double lr = 0.1;
  int epochs = 5;
};

// Batch 1 is fastText's exact algorithm (one SGD step per line). Summed losses over 32 lines keep
// each line's step size and, on the apt corpus, P@1 within 0.001 of batch 1 and of fastText (means
// over 4 seeds: fastText 0.7383, tapegrad batch 1 0.7389, 32 0.7393, 64 0.7387, 128 0.7377), while
// the batch turns the head's matrix-vector products into GEMMs and spreads the per-step cost of the
// tape and the parameter updates over 32 lines: 4x the tokens/s of batch 1.
constexpr std::int64_t kDefaultBatch = 32;
// Each thread adds its head steps to the shared head every this many batches (see HogwildWorker).
constexpr int kDefaultPublishEvery = 4;
// ... and keeps its own copies of the rows of this many commonest words, published with the head.
constexpr std::int64_t kDefaultHotRows = 100;
constexpr int kQuickPackages = 3000;
const char* const kEos = "</s>";  // fastText ends every line with this token

// ---- the corpus, encoded once -------------------------------------------------------------------------

// Examples in CSR layout: example i has word ids ids[starts[i], starts[i+1]) (`</s>` included).
struct Encoded {
  std::vector<std::int64_t> ids, starts{0}, labels;  // label -1: not a training label (always wrong)
  std::vector<std::int64_t> token_starts{0};         // tokens before each example, as fastText counts them
  std::int64_t fasttext_tokens = 0;                  // words + labels + `</s>`, as fastText counts them
  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
};

struct Corpus {
  tg::io::Vocabulary words, labels;
  Encoded train, test;
  double seconds = 0;  // reading, vocabulary, encoding
};

// Words as fastText reads them: the reader already split at fastText's whitespace (space, tab, CR,
// VT, FF, NUL) and joined the words with single spaces; `</s>` ends the line.
std::vector<std::string> fasttext_words(const std::string& text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = text.find(' ', i);
    if (j == std::string::npos) j = text.size();
    if (j > i) words.emplace_back(text, i, j - i);
    i = j + 1;
  }
  words.emplace_back(kEos);
  return words;
}

Encoded encode(const std::vector<data::LabeledText>& texts, const tg::io::Vocabulary& words,
               const tg::io::Vocabulary& labels) {
  Encoded e;
  for (const data::LabeledText& t : texts) {
    const std::vector<std::string> tokens = fasttext_words(t.text);
    for (const std::string& w : tokens)
      if (const auto id = words.find(w)) e.ids.push_back(*id);  // fastText drops unknown words
    e.starts.push_back(static_cast<std::int64_t>(e.ids.size()));
    const auto label = labels.find(t.label());
    e.labels.push_back(label ? *label : -1);
    e.fasttext_tokens += static_cast<std::int64_t>(tokens.size() + t.labels.size());
    e.token_starts.push_back(e.fasttext_tokens);
  }
  return e;
}

Corpus load_corpus(const fs::path& dir) {
  const double t0 = bench::now_seconds();
  const auto train = data::read_fasttext(dir / "train.txt");
  const auto test = data::read_fasttext(dir / "test.txt");
  // fastText's dictionary: every word of the training file and `</s>`, minCount 1. The order of the
  // ids does not matter to the model (each row is drawn independently).
  data::VocabularyBuilder counts;
  for (const auto& t : train) counts.add(fasttext_words(t.text));
  Corpus c;
  c.words = counts.build(data::VocabularyOptions().min_count(1).specials({}).unk_token(std::nullopt));
  c.labels = data::label_vocabulary(train);
  c.train = encode(train, c.words, c.labels);
  c.test = encode(test, c.words, c.labels);
  c.seconds = bench::now_seconds() - t0;
  return c;
}

// ---- tapegrad's fastText ----------------------------------------------------------------------------------

// ---- Hogwild: shared parameters without locks ------------------------------------------------------

// The memory-model argument. fastText's threads read and write the shared model with plain loads
// and stores and no locks (Hogwild!): a thread may read a row half updated by another, and two
// read-add-write updates of one float may overlap so that one of them is lost; SGD tolerates both,
// and with sparse rows collisions are rare. In C++ two unsynchronised plain accesses to one float,
// one of them a write, are a data race and so undefined behaviour. While threads train, the
// shared parameters therefore live in arrays of std::atomic<std::uint64_t>, each word holding two
// floats, and every access is a relaxed atomic load or store of a whole word: no race by
// definition, and on x86-64 (naturally aligned 8-byte accesses are atomic) plain 8-byte moves,
// half as many as float by float (the compiler never vectorises atomics). An update is a relaxed
// load, an add and a relaxed store, not one atomic read-modify-write: like fastText's, an update
// that lands between the two is lost, which is the Hogwild contract. tapegrad's kernels never see
// the shared arrays: each thread copies the rows its batch needs into tensors of its own, runs
// forward and backward on those, and writes its updates back. Relaxed is enough because no
// thread infers anything about other data from a value it reads; the threads' start and join
// order the copy in from the modules before, and the copy back after, every access.
class SharedMatrix {
 public:
  using Word = std::atomic<std::uint64_t>;
  static_assert(Word::is_always_lock_free, "the Hogwild updates assume plain 8-byte loads and stores");

  // A copy of the rows x cols matrix at `values`; each row starts on a word (odd cols: one float pads it).
  SharedMatrix(const float* values, std::int64_t rows, std::int64_t cols)
      : rows_(rows), cols_(cols), row_words_((cols + 1) / 2), words_(static_cast<std::size_t>(rows * row_words_)) {
    float pair[2] = {0, 0};
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t j = 0; j < cols; j += 2) {
        pair[0] = values[r * cols + j];
        pair[1] = j + 1 < cols ? values[r * cols + j + 1] : 0.0f;
        word(r, j / 2).store(pack(pair), std::memory_order_relaxed);
      }
  }

  // Copies the matrix back to `values` (after the threads have joined).
  void copy_to(float* values) const {
    for (std::int64_t r = 0; r < rows_; ++r) load_row(r, values + r * cols_);
  }

  // to[0, cols) = row r.
  void load_row(std::int64_t r, float* to) const {
    const Word* w = &word(r, 0);
    const std::int64_t pairs = cols_ / 2;
    for (std::int64_t j = 0; j < pairs; ++j) unpack(w[j].load(std::memory_order_relaxed), to + 2 * j);
    if (cols_ % 2) to[cols_ - 1] = first_of(w[pairs].load(std::memory_order_relaxed));
  }

  // Asks for all of row r's cache lines at once: the table (10 MB on the apt corpus) is mostly out of
  // cache, and the word-by-word loads keep few misses in flight. (A prefetch is not an access.)
  void prefetch_row(std::int64_t r) const {
    const char* p = reinterpret_cast<const char*>(&word(r, 0));
    const std::size_t bytes = static_cast<std::size_t>(row_words_) * sizeof(Word);
    for (std::size_t at = 0; at < bytes; at += 64) __builtin_prefetch(p + at);
    __builtin_prefetch(p + bytes - 1);
  }

  // Row r -= step * grad, a Hogwild update.
  void sgd_row(std::int64_t r, const float* grad, float step) {
    update_row(r, [&](std::int64_t j, float v) { return v - step * grad[j]; });
  }

  // Row r += local - snapshot (a thread's updates since its snapshot), then local = snapshot = row r.
  void publish_row(std::int64_t r, float* local, float* snapshot) {
    update_row(r, [&](std::int64_t j, float v) { return local[j] = snapshot[j] = v + (local[j] - snapshot[j]); });
  }

 private:
  static std::uint64_t pack(const float* pair) {
    std::uint64_t bits;
    std::memcpy(&bits, pair, sizeof bits);
    return bits;
  }
  static void unpack(std::uint64_t bits, float* pair) { std::memcpy(pair, &bits, sizeof bits); }
  static float first_of(std::uint64_t bits) {
    float pair[2];
    unpack(bits, pair);
    return pair[0];
  }

  Word& word(std::int64_t r, std::int64_t j) { return words_[static_cast<std::size_t>(r * row_words_ + j)]; }
  const Word& word(std::int64_t r, std::int64_t j) const { return words_[static_cast<std::size_t>(r * row_words_ + j)]; }

  // Row r's float j becomes f(j, its value), one relaxed load and one relaxed store per word.
  template <class F>
  void update_row(std::int64_t r, F f) {
    Word* w = &word(r, 0);
    for (std::int64_t j = 0; j < row_words_; ++j) {
      float pair[2];
      unpack(w[j].load(std::memory_order_relaxed), pair);
      pair[0] = f(2 * j, pair[0]);
      if (2 * j + 1 < cols_) pair[1] = f(2 * j + 1, pair[1]);
      w[j].store(pack(pair), std::memory_order_relaxed);
    }
  }

  std::int64_t rows_, cols_, row_words_;
  std::vector<Word> words_;
};

// ---- tapegrad's fastText ----------------------------------------------------------------------------------

// The batch of examples [first, last) as EmbeddingBag input: indices, offsets and labels.
data::BagBatch make_batch(const Encoded& e, std::int64_t first, std::int64_t last) {
  const std::int64_t begin = e.starts[static_cast<std::size_t>(first)], end = e.starts[static_cast<std::size_t>(last)];
  data::BagBatch b{tg::empty<std::int64_t>({end - begin}), tg::empty<std::int64_t>({last - first}),
                   tg::empty<std::int64_t>({last - first})};
  std::copy(e.ids.begin() + begin, e.ids.begin() + end, b.indices.data());
  for (std::int64_t i = first; i < last; ++i) {
    b.offsets.data()[i - first] = e.starts[static_cast<std::size_t>(i)] - begin;
    b.labels.data()[i - first] = e.labels[static_cast<std::size_t>(i)];
  }
  return b;
}

// fastText's model: the mean of the bag's rows, then the head without bias. With `sparse`, the
// table's gradient holds only the rows looked up (for the full table); dense suits a small table.
tg::Tensor<float> logits(const data::BagBatch& b, const tg::Tensor<float>& table, const tg::Tensor<float>& head, bool sparse) {
  const auto bag = F::EmbeddingBagFuncOptions().mode(nn::EmbeddingBagMode::Mean).sparse(sparse);
  return F::linear(F::embedding_bag(b.indices, table, b.offsets, tg::Tensor<float>(), bag), head);
}

// A thread's private copy of the first `rows` rows of a shared matrix, for rows that every step
// changes: steps go to the copy, and publish() adds what the copy gained since the last
// publication to the shared rows and takes the sums (which hold the other threads' published
// steps too) as the new copy.
class PrivateRows {
 public:
  PrivateRows(SharedMatrix& shared, std::int64_t rows, std::int64_t cols)
      : shared_(shared), copy_(tg::empty<float>({rows, cols})), snapshot_(static_cast<std::size_t>(rows * cols)) {
    for (std::int64_t r = 0; r < rows; ++r) shared_.load_row(r, row(r));
    std::copy(copy_.data(), copy_.data() + copy_.numel(), snapshot_.begin());
  }

  tg::Tensor<float>& tensor() { return copy_; }
  float* row(std::int64_t r) { return copy_.data() + r * copy_.size(1); }

  void publish() {
    const std::int64_t cols = copy_.size(1);
    for (std::int64_t r = 0; r < copy_.size(0); ++r) shared_.publish_row(r, row(r), snapshot_.data() + r * cols);
  }

 private:
  SharedMatrix& shared_;
  tg::Tensor<float> copy_;
  std::vector<float> snapshot_;  // the shared rows as this thread last took them
};

// to[j] -= step * grad[j] for j < n, on this thread's own memory.
void sgd(float* to, const float* grad, std::int64_t n, float step) {
  for (std::int64_t j = 0; j < n; ++j) to[j] -= step * grad[j];
}

// One training thread: SGD steps on batches of lines against the shared model, Hogwild style.
// Most of the table's rows are rare (two threads seldom touch one at once) and go straight to
// the shared table. But the head (58 x 100 on the apt corpus) changes whole at every step, and so
// do the rows of the commonest words (`</s>` ends every line): written to the shared model at
// every step by both threads, their cache lines would bounce between the cores all the time
// (with the head alone, a third of the 2-thread time went there). Each thread instead keeps
// copies of its own of the head and of the `hot_rows` commonest words' rows, steps on them, and
// publishes them every `publish_every` steps (PrivateRows): delayed Hogwild, as if those rows
// took mini-batches of publish_every x batch lines.
class HogwildWorker {
 public:
  HogwildWorker(const Encoded& train, SharedMatrix& table, SharedMatrix& head, std::int64_t vocab, std::int64_t classes,
                std::int64_t dim, std::int64_t hot_rows, int publish_every)
      : train_(train), table_(table), dim_(dim), hot_rows_(std::min(hot_rows, vocab)), publish_every_(publish_every),
        local_row_(static_cast<std::size_t>(vocab), -1), head_(head, classes, dim), hot_(table, hot_rows_, dim) {
    head_.tensor().requires_grad_();
  }

  // One SGD step on lines [first, last) with learning rate lr (a summed loss: each line's step is lr).
  void step(std::int64_t first, std::int64_t last, double lr) {
    data::BagBatch b = make_batch(train_, first, last);
    // The batch's distinct rows become a small table of its own; the indices point into it.
    rows_.clear();
    std::int64_t* ix = b.indices.data();
    for (std::int64_t i = 0; i < b.indices.numel(); ++i) {
      std::int64_t& local = local_row_[static_cast<std::size_t>(ix[i])];
      if (local < 0) {
        local = static_cast<std::int64_t>(rows_.size());
        rows_.push_back(ix[i]);
        if (!hot(ix[i])) table_.prefetch_row(ix[i]);
      }
      ix[i] = local;
    }
    const auto n_rows = static_cast<std::int64_t>(rows_.size());
    tg::Tensor<float> table = tg::empty<float>({n_rows, dim_});
    for (std::int64_t r = 0; r < n_rows; ++r) {
      const std::int64_t row = rows_[static_cast<std::size_t>(r)];
      if (hot(row)) std::copy(hot_.row(row), hot_.row(row) + dim_, table.data() + r * dim_);
      else table_.load_row(row, table.data() + r * dim_);
    }
    table.requires_grad_();
    tg::Tensor<float>& head = head_.tensor();
    head.mutable_grad() = tg::Tensor<float>();

    const auto sum_reduction = tg::CrossEntropyOptions<float>().reduction(tg::Reduction::Sum);
    tg::cross_entropy(logits(b, table, head, false), b.labels, sum_reduction).backward();

    const auto lr_f = static_cast<float>(lr);
    sgd(head.data(), head.grad().data(), head.numel(), lr_f);
    const float* g = table.grad().data();
    for (std::int64_t r = 0; r < n_rows; ++r) {
      const std::int64_t row = rows_[static_cast<std::size_t>(r)];
      if (hot(row)) sgd(hot_.row(row), g + r * dim_, dim_, lr_f);
      else table_.sgd_row(row, g + r * dim_, lr_f);
      local_row_[static_cast<std::size_t>(row)] = -1;
    }
    if (++steps_unpublished_ == publish_every_) publish();
  }

  // Publishes this thread's steps on the head and the hot rows (see PrivateRows).
  void publish() {
    head_.publish();
    hot_.publish();
    steps_unpublished_ = 0;
  }

 private:
  // Word ids run in order of falling frequency (VocabularyBuilder), so the commonest are the first.
  bool hot(std::int64_t row) const { return row < hot_rows_; }

  const Encoded& train_;
  SharedMatrix& table_;  // [V, D], shared
  const std::int64_t dim_, hot_rows_;
  const int publish_every_;
  int steps_unpublished_ = 0;
  std::vector<std::int64_t> local_row_;  // word id -> its row in this batch's table, or -1
  std::vector<std::int64_t> rows_;       // this batch's word ids, by local row
  PrivateRows head_;                     // this thread's head, a leaf
  PrivateRows hot_;                      // this thread's rows of the hot_rows_ commonest words
};

struct TrainResult {
  double seconds = 0;
  double tokens = 0;  // fastText's count of the tokens trained on (words + labels + `</s>`)
  double p_at_1 = 0;
  double cpu_use = 0;    // the threads' CPU time over threads x wall time: below 1, the machine was busy
  double cpu_speed = 0;  // the sum over threads of their tokens per CPU second: the speed with a CPU each
  std::vector<double> thread_cpu_use;  // each thread's CPU time over its own wall time
};

// This thread's CPU time: unlike the wall clock, it does not grow while other processes hold the CPU.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// P@1 on the test set: the arg-max class (first on ties) against the label.
double precision_at_1(const Corpus& c, const tg::Tensor<float>& table, const tg::Tensor<float>& head) {
  tg::NoGradGuard no_grad;
  std::int64_t right = 0;
  for (std::int64_t first = 0; first < c.test.size(); first += 1024) {
    const data::BagBatch b = make_batch(c.test, first, std::min(first + 1024, c.test.size()));
    const tg::Tensor<std::int64_t> predicted = tg::argmax(logits(b, table, head, true), 1);
    for (std::int64_t i = 0; i < b.size(); ++i) right += predicted.data()[i] == b.labels.data()[i];
  }
  return static_cast<double>(right) / static_cast<double>(std::max<std::int64_t>(1, c.test.size()));
}

// Trains fastText's model as fastText does with -thread N: thread t starts at line n * t / N and
// reads the file round and round, in batches of `batch` lines (a batch ends at the end of the
// file), until all threads together have trained on epochs x the file's tokens, counted in one
// shared atomic counter that also drives the learning rate, lr0 * (1 - tokens done / total).
// Each thread applies its own updates to the shared model without locks (see HogwildWorker).
// With one thread this is epoch after epoch in file order; with two, a slow thread simply trains
// on fewer lines, as in fastText. The model moves into SharedMatrix words before the clock starts
// and back into the modules after it stops.
TrainResult train_tapegrad(const Corpus& c, const Hyper& hp, int threads, std::int64_t batch, int publish_every,
                           std::int64_t hot_rows, std::uint64_t seed) {
  tg::manual_seed(seed);
  const std::int64_t vocab = c.words.size(), classes = c.labels.size();
  nn::EmbeddingBag<float> bag(nn::EmbeddingBagOptions(vocab, hp.dim).mode(nn::EmbeddingBagMode::Mean).sparse(true));
  nn::Linear<float> fc(nn::LinearOptions(hp.dim, classes).bias(false));
  {
    tg::NoGradGuard no_grad;  // fastText's initialisation: input U(-1/dim, 1/dim), output zeros
    nn::init::uniform_(bag.weight, -1.0 / static_cast<double>(hp.dim), 1.0 / static_cast<double>(hp.dim));
    nn::init::zeros_(fc.weight);
  }
  SharedMatrix table(bag.weight.data(), vocab, hp.dim), head(fc.weight.data(), classes, hp.dim);
  const std::int64_t n = c.train.size();
  const std::vector<std::int64_t>& token_starts = c.train.token_starts;
  const std::int64_t total_tokens = c.train.fasttext_tokens * hp.epochs;
  // Read by every thread before each batch and written after it: on a cache line of its own, so
  // that no thread's other data (thread 0 runs on this stack) shares the line's traffic.
  struct alignas(64) Counter {
    std::atomic<std::int64_t> value{0};
  } tokens_done;
  struct alignas(64) ThreadStats {  // one cache line each: written only at the end, but kept apart anyway
    double cpu_seconds = 0, wall_seconds = 0, tokens = 0;
  };
  std::vector<ThreadStats> stats(static_cast<std::size_t>(threads));

  auto run = [&](int t) {
    const double cpu0 = thread_cpu_seconds(), wall0 = bench::now_seconds();
    HogwildWorker worker(c.train, table, head, vocab, classes, hp.dim, hot_rows, publish_every);
    std::int64_t first = n * t / threads, my_tokens = 0;
    for (std::int64_t done; (done = tokens_done.value.load(std::memory_order_relaxed)) < total_tokens;) {
      const std::int64_t last = std::min(first + batch, n);
      worker.step(first, last, hp.lr * (1.0 - static_cast<double>(done) / static_cast<double>(total_tokens)));
      const std::int64_t tokens = token_starts[static_cast<std::size_t>(last)] - token_starts[static_cast<std::size_t>(first)];
      tokens_done.value.fetch_add(tokens, std::memory_order_relaxed);
      my_tokens += tokens;
      first = last == n ? 0 : last;
    }
    worker.publish();  // the head steps not yet published
    ThreadStats& s = stats[static_cast<std::size_t>(t)];
    s.cpu_seconds = thread_cpu_seconds() - cpu0;
    s.wall_seconds = bench::now_seconds() - wall0;
    s.tokens = static_cast<double>(my_tokens);
  };
  const double t0 = bench::now_seconds();
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(run, t);
  run(0);
  for (std::thread& th : pool) th.join();
  TrainResult r;
  r.seconds = bench::now_seconds() - t0;
  r.tokens = static_cast<double>(tokens_done.value.load());
  table.copy_to(bag.weight.data());
  head.copy_to(fc.weight.data());
  r.p_at_1 = precision_at_1(c, bag.weight, fc.weight);
  double cpu = 0;
  for (const ThreadStats& s : stats) {
    cpu += s.cpu_seconds;
    r.cpu_speed += s.tokens / s.cpu_seconds;
    r.thread_cpu_use.push_back(s.cpu_seconds / s.wall_seconds);
  }
  r.cpu_use = cpu / (r.seconds * threads);
  return r;
}

// ---- fastText ---------------------------------------------------------------------------------------------

struct FastTextResult {
  double words_per_sec_thread = 0;
  double p_at_1 = 0;
  double cpu_use = 0;  // its CPU time over threads x wall time, reading and dictionary (one thread) included
  bool ok = false;
};

// CPU seconds of the children waited for so far.
double children_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_CHILDREN, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

std::string shell_quote(const fs::path& p) {
  std::string s = "'";
  for (char ch : p.string()) s += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return s + "'";
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The last number after `key` in fastText's output (its progress lines end in '\r', the last one is final).
double last_number_after(const std::string& text, const std::string& key) {
  const std::size_t at = text.rfind(key);
  return at == std::string::npos ? -1 : std::strtod(text.c_str() + at + key.size(), nullptr);
}

FastTextResult run_fasttext(const std::string& binary, const fs::path& corpus, const fs::path& work, const Hyper& hp, int threads,
                            std::uint64_t seed) {
  FastTextResult r;
  const fs::path model = work / "model", log = work / "train.log", predictions = work / "predictions.txt";
  char args[256];
  std::snprintf(args, sizeof args, " -dim %lld -lr %g -epoch %d -wordNgrams 1 -minCount 1 -thread %d -loss softmax -verbose 2 -seed %llu",
                static_cast<long long>(hp.dim), hp.lr, hp.epochs, threads, static_cast<unsigned long long>(seed));
  const std::string train = binary + " supervised -input " + shell_quote(corpus / "train.txt") + " -output " + shell_quote(model) + args +
                            " > " + shell_quote(log) + " 2>&1";
  const double cpu0 = children_cpu_seconds(), t0 = bench::now_seconds();
  if (std::system(train.c_str()) != 0) {
    std::fprintf(stderr, "bench_fasttext: `%s` failed:\n%s\n", train.c_str(), read_all(log).c_str());
    return r;
  }
  r.cpu_use = (children_cpu_seconds() - cpu0) / ((bench::now_seconds() - t0) * threads);
  r.words_per_sec_thread = last_number_after(read_all(log), "words/sec/thread:");
  const std::string predict =
      binary + " predict " + shell_quote(model.string() + ".bin") + " " + shell_quote(corpus / "test.txt") + " > " + shell_quote(predictions);
  if (std::system(predict.c_str()) != 0) {
    std::fprintf(stderr, "bench_fasttext: `%s` failed\n", predict.c_str());
    return r;
  }
  // P@1 as for tapegrad: the predicted label against the first label of each test line.
  const auto test = data::read_fasttext(corpus / "test.txt");
  std::ifstream in(predictions);
  std::string line;
  std::size_t i = 0, right = 0;
  while (std::getline(in, line) && i < test.size()) right += line == "__label__" + test[i++].label();
  r.p_at_1 = static_cast<double>(right) / static_cast<double>(std::max<std::size_t>(1, test.size()));
  r.ok = i == test.size() && r.words_per_sec_thread > 0;
  if (!r.ok) std::fprintf(stderr, "bench_fasttext: could not read fastText's speed or predictions (%zu of %zu)\n", i, test.size());
  return r;
}

// ---- the comparison ---------------------------------------------------------------------------------------

long env_long(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtol(v, nullptr, 10) : fallback;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

double best(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.empty() ? 0 : v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

double spread(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end()) - *std::min_element(v.begin(), v.end());
}

// Fractions as percentages separated by slashes, e.g. "99/97 %".
std::string percentages(const std::vector<double>& fractions) {
  std::string s;
  for (double f : fractions) s += (s.empty() ? "" : "/") + std::to_string(std::lround(100 * f));
  return s + " %";
}

int run(int argc, char** argv) {
  if (openblas_set_num_threads) openblas_set_num_threads(1);
  const bool quick = bench::quick();
  const Hyper hp;
  const std::int64_t batch = env_long("TAPEGRAD_FASTTEXT_BATCH", kDefaultBatch);
  const int publish_every = static_cast<int>(env_long("TAPEGRAD_FASTTEXT_PUBLISH", kDefaultPublishEvery));
  const std::int64_t hot_rows = env_long("TAPEGRAD_FASTTEXT_HOT", kDefaultHotRows);
  const int reps = static_cast<int>(env_long("TAPEGRAD_FASTTEXT_REPS", quick ? 1 : 3));
  const char* ft_env = std::getenv("FASTTEXT");
  const std::string fasttext = ft_env && *ft_env ? ft_env : "fasttext";
  if (batch < 1 || reps < 1 || publish_every < 1 || hot_rows < 0) {
    std::fprintf(stderr, "bench_fasttext: TAPEGRAD_FASTTEXT_BATCH, _REPS and _PUBLISH must be at least 1\n");
    return 2;
  }
  if (std::system((fasttext + " > /dev/null 2>&1 < /dev/null; command -v " + fasttext + " > /dev/null").c_str()) != 0) {
    std::fprintf(stderr, "bench_fasttext: `%s` not found (Debian: apt-get install fasttext)\n", fasttext.c_str());
    return 2;
  }

  const fs::path work = fs::temp_directory_path() / ("tapegrad_fasttext_" + std::to_string(::getpid()));
  fs::create_directories(work);
  fs::path corpus_dir;
  const char* corpus_env = std::getenv("TAPEGRAD_FASTTEXT_CORPUS");
  if (argc > 1) corpus_dir = argv[1];
  else if (corpus_env && *corpus_env) corpus_dir = corpus_env;
  else {
    corpus_dir = work / "corpus";
    const std::string build = std::string("sh ") + shell_quote(TAPEGRAD_FASTTEXT_CORPUS_SCRIPT) + " " + shell_quote(corpus_dir) +
                              (quick ? " " + std::to_string(kQuickPackages) : std::string());
    if (std::system(build.c_str()) != 0) {
      std::fprintf(stderr, "bench_fasttext: building the corpus failed: %s\n", build.c_str());
      return 2;
    }
  }

  const Corpus c = load_corpus(corpus_dir);
  std::printf("fastText as the bar: corpus %s\n", corpus_dir.c_str());
  std::printf("  train %lld lines, %lld tokens (words + labels + </s>), vocabulary %lld words; test %lld lines; %lld labels\n",
              static_cast<long long>(c.train.size()), static_cast<long long>(c.train.fasttext_tokens),
              static_cast<long long>(c.words.size()), static_cast<long long>(c.test.size()),
              static_cast<long long>(c.labels.size()));
  std::printf("  hyper-parameters: dim %lld, lr %g (linear decay to 0), epoch %d, wordNgrams 1, minCount 1, loss softmax; "
              "tapegrad batch %lld (sum of per-example losses)\n",
              static_cast<long long>(hp.dim), hp.lr, hp.epochs, static_cast<long long>(batch));
  std::printf("  tapegrad reading + vocabulary + encoding: %.2f s (not timed, like fastText's dictionary)\n", c.seconds);

  if (const long threads = env_long("TAPEGRAD_FASTTEXT_PROFILE", 0); threads > 0) {  // tapegrad alone, for a profiler
    for (int rep = 0; rep < reps; ++rep) {
      const TrainResult r = train_tapegrad(c, hp, static_cast<int>(threads), batch, publish_every, hot_rows, static_cast<std::uint64_t>(rep));
      std::printf("  tapegrad %ld threads, seed %d: P@1 %.4f, %.0f tokens/s, CPU use %.0f %% (per thread %s), per CPU second %.0f tokens/s\n",
                  threads, rep, r.p_at_1, r.tokens / r.seconds, 100 * r.cpu_use, percentages(r.thread_cpu_use).c_str(), r.cpu_speed);
    }
    fs::remove_all(work);
    return 0;
  }
  std::vector<double> ft_p, ft2_p, tg1_p, tg2_p, ft_speed, ft2_speed, tg1_speed, tg2_speed;
  for (int rep = 0; rep < reps; ++rep) {  // interleaved, so drift in machine load hits all of them alike
    const auto seed = static_cast<std::uint64_t>(rep);
    const FastTextResult ft = run_fasttext(fasttext, corpus_dir, work, hp, 1, seed);
    const FastTextResult ft2 = run_fasttext(fasttext, corpus_dir, work, hp, 2, seed);
    if (!ft.ok || !ft2.ok) return 1;
    const TrainResult one = train_tapegrad(c, hp, 1, batch, publish_every, hot_rows, seed);
    const TrainResult two = train_tapegrad(c, hp, 2, batch, publish_every, hot_rows, seed);
    ft_p.push_back(ft.p_at_1);
    ft2_p.push_back(ft2.p_at_1);
    tg1_p.push_back(one.p_at_1);
    tg2_p.push_back(two.p_at_1);
    ft_speed.push_back(ft.words_per_sec_thread);
    ft2_speed.push_back(2 * ft2.words_per_sec_thread);  // words/sec/thread x threads: the whole run's speed
    tg1_speed.push_back(one.tokens / one.seconds);
    tg2_speed.push_back(two.tokens / two.seconds);
    std::printf("  seed %d: P@1 fastText 1T %.4f, 2T %.4f; tapegrad 1T %.4f, 2T %.4f\n", rep, ft.p_at_1, ft2.p_at_1, one.p_at_1,
                two.p_at_1);
    std::printf("    fastText  words/s 1T %8.0f, 2T %8.0f (%.2fx); CPU use 1T %.0f %%, 2T %.0f %% (whole command)\n", ft_speed.back(),
                ft2_speed.back(), ft2_speed.back() / ft_speed.back(), 100 * ft.cpu_use, 100 * ft2.cpu_use);
    std::printf("    tapegrad tokens/s 1T %8.0f, 2T %8.0f (%.2fx); CPU use per thread 1T %s, 2T %s; per CPU second 1T %.0f, 2T %.0f (%.2fx)\n",
                tg1_speed.back(), tg2_speed.back(), tg2_speed.back() / tg1_speed.back(), percentages(one.thread_cpu_use).c_str(),
                percentages(two.thread_cpu_use).c_str(), one.cpu_speed, two.cpu_speed, two.cpu_speed / one.cpu_speed);
    std::fflush(stdout);
  }
  fs::remove_all(work);

  const double diff = mean(tg1_p) - mean(ft_p), diff2 = mean(tg2_p) - mean(ft_p);
  const auto verdict = [](bool ok) { return ok ? "PASS" : "MISS"; };
  std::printf("\nP@1 (mean of %d seeds; spread max-min)\n", reps);
  std::printf("  fastText      %.4f (spread %.4f)\n", mean(ft_p), spread(ft_p));
  std::printf("  tapegrad 1T   %.4f (spread %.4f)  difference %+.4f  target |diff| <= 0.005  %s\n", mean(tg1_p), spread(tg1_p),
              diff, verdict(std::fabs(diff) <= 0.005));
  std::printf("  tapegrad 2T   %.4f (spread %.4f)  difference %+.4f  target |diff| <= 0.005  %s\n", mean(tg2_p), spread(tg2_p),
              diff2, verdict(std::fabs(diff2) <= 0.005));
  std::printf("  fastText 2T   %.4f (spread %.4f)  difference %+.4f  (context)\n", mean(ft2_p), spread(ft2_p), mean(ft2_p) - mean(ft_p));
  // Speeds: the best of the repetitions (the least disturbed run), the median in brackets.
  const double ft_best = best(ft_speed), tg1_best = best(tg1_speed), tg2_best = best(tg2_speed);
  std::printf("training tokens/s (best of %d; median)\n", reps);
  std::printf("  fastText 1 thread (words/sec/thread)  %10.0f (%.0f)\n", ft_best, median(ft_speed));
  std::printf("  fastText 2 threads (x 2)              %10.0f (%.0f)  %.2fx 1 thread   (context: fastText on the same cores)\n",
              best(ft2_speed), median(ft2_speed), best(ft2_speed) / ft_best);
  std::printf("  tapegrad 1 thread                     %10.0f (%.0f)  %.2fx fastText   target >= 2x   %s\n", tg1_best,
              median(tg1_speed), tg1_best / ft_best, verdict(tg1_best >= 2 * ft_best));
  std::printf("  tapegrad 2 threads                    %10.0f (%.0f)  %.2fx 1 thread   target >= 1.7x %s\n", tg2_best,
              median(tg2_speed), tg2_best / tg1_best, verdict(tg2_best >= 1.7 * tg1_best));
  std::printf("load average at the end: %s", read_all("/proc/loadavg").c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_fasttext: %s\n", e.what());
    return 1;
  }
}
