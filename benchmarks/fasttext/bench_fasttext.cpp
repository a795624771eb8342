// SPDX-License-Identifier: MIT
// fastText as the bar (issue 13, target 5): fastText's supervised classifier (EmbeddingBag mean ->
// Linear without bias -> softmax, SGD with the learning rate decaying linearly to 0 over the
// training tokens) trained by Debian's `fasttext` and by tapegrad on the same `__label__` file,
// same hyper-parameters, same tokens, in one run. Prints P@1 of both, training tokens/s of
// fastText (1 thread) and of tapegrad (1 and 2 threads), their ratios, and PASS/MISS per target.
//
// Usage: bench_fasttext [CORPUS_DIR]
//   CORPUS_DIR holds train.txt and test.txt (fastText format); default $TAPEGRAD_FASTTEXT_CORPUS,
//   else build_corpus.sh builds one from the apt package index into a temporary directory.
//   TAPEGRAD_BENCH_QUICK=1: a small corpus (3000 packages) and one repetition, for the smoke test.
//   FASTTEXT: the fastText binary (default `fasttext` on the PATH).
//   TAPEGRAD_FASTTEXT_BATCH: tapegrad's examples per SGD step (default kDefaultBatch);
//   TAPEGRAD_FASTTEXT_REPS: repetitions (seeds 0, 1, ...; default 3, quick 1).
//   TAPEGRAD_FASTTEXT_PROFILE=N: only tapegrad's training on N threads (for a profiler).
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
// tape and the optimiser over 32 lines: 4x the tokens/s of batch 1.
constexpr std::int64_t kDefaultBatch = 32;
constexpr int kQuickPackages = 3000;
const char* const kEos = "</s>";  // fastText ends every line with this token

// ---- the corpus, encoded once -------------------------------------------------------------------------

// Examples in CSR layout: example i has word ids ids[starts[i], starts[i+1]) (`</s>` included).
struct Encoded {
  std::vector<std::int64_t> ids, starts{0}, labels;  // label -1: not a training label (always wrong)
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

// A spinning barrier: release/acquire on `generation` orders every write before the barrier
// (gradients, parameter updates) before every read after it in the other threads.
class SpinBarrier {
 public:
  explicit SpinBarrier(int threads) : threads_(threads) {}
  void wait() {
    const unsigned gen = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == threads_ - 1) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
      return;
    }
    // Yield after a short spin: on a shared machine the other thread may be off the CPU.
    for (int spins = 0; generation_.load(std::memory_order_acquire) == gen; ++spins)
      if (spins > 200) std::this_thread::yield();
  }

 private:
  const int threads_;
  std::atomic<int> arrived_{0};
  std::atomic<unsigned> generation_{0};
};

// One thread's view of the model: leaves that share the model's storage but have their own
// gradients, and an SGD optimiser for the head (the table's sparse rows are applied directly).
struct Worker {
  tg::Tensor<float> table, head;  // [V, D] and [C, D], aliases of the shared parameters
  tg::optim::SGD<float> head_sgd;
  Worker(const tg::Tensor<float>& t, const tg::Tensor<float>& h, double lr)
      : table(t.detach().requires_grad_()), head(h.detach().requires_grad_()), head_sgd({head}, tg::optim::SGDOptions(lr)) {}
};

// SGD on the rows of a sparse gradient, as fastText updates its input rows: row r -= lr * value,
// once per occurrence (no merging of repeated rows first; the sum is the same up to rounding).
// Only rows r with r % threads == t: with every thread taking its own residue class, all threads
// update the table at once and no row is written by two of them.
void sgd_sparse_rows(tg::Tensor<float>& table, const tg::Tensor<float>& grad, double lr, int t, int threads) {
  if (!grad.defined()) return;
  const tg::Tensor<std::int64_t> rows = grad.indices();
  const tg::Tensor<float> values = grad.values();
  const std::int64_t nnz = values.size(0), dim = values.size(1);
  const float step = static_cast<float>(lr);
  float* w = table.data();
  for (std::int64_t i = 0; i < nnz; ++i) {
    const std::int64_t r = rows.data()[i];
    if (r % threads != t) continue;
    float* row = w + r * dim;
    const float* v = values.data() + i * dim;
    for (std::int64_t j = 0; j < dim; ++j) row[j] -= step * v[j];
  }
}

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

tg::Tensor<float> logits(const data::BagBatch& b, const tg::Tensor<float>& table, const tg::Tensor<float>& head) {
  const auto bag = F::EmbeddingBagFuncOptions().mode(nn::EmbeddingBagMode::Mean).sparse(true);
  return F::linear(F::embedding_bag(b.indices, table, b.offsets, tg::Tensor<float>(), bag), head);
}

struct TrainResult {
  double seconds = 0;
  double p_at_1 = 0;
  double critical_cpu_seconds = 0;  // with `trace`: the sum over phases of the busiest thread's CPU time
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
    const tg::Tensor<std::int64_t> predicted = tg::argmax(logits(b, table, head), 1);
    for (std::int64_t i = 0; i < b.size(); ++i) right += predicted.data()[i] == b.labels.data()[i];
  }
  return static_cast<double>(right) / static_cast<double>(std::max<std::int64_t>(1, c.test.size()));
}

// Trains fastText's model: `threads` threads share each batch of `batch` examples (in file order,
// epoch after epoch, as fastText reads it). Per batch: every thread runs forward and backward on its
// slice with its own leaves (reads of the shared parameters only), a barrier, then the updates, each
// parameter by one thread (the head on thread 0, the table on the last), a barrier. No two threads
// ever touch the same float without a barrier between them, so there is no data race.
// With `trace`, every thread records its CPU time per phase, for the critical path: the 2-thread
// speed-up a machine with idle cores would give, even when measured on a busy one.
TrainResult train_tapegrad(const Corpus& c, const Hyper& hp, int threads, std::int64_t batch, std::uint64_t seed,
                           bool trace = false) {
  tg::manual_seed(seed);
  const std::int64_t vocab = c.words.size(), classes = c.labels.size();
  nn::EmbeddingBag<float> bag(nn::EmbeddingBagOptions(vocab, hp.dim).mode(nn::EmbeddingBagMode::Mean).sparse(true));
  nn::Linear<float> fc(nn::LinearOptions(hp.dim, classes).bias(false));
  {
    tg::NoGradGuard no_grad;  // fastText's initialisation: input U(-1/dim, 1/dim), output zeros
    nn::init::uniform_(bag.weight, -1.0 / static_cast<double>(hp.dim), 1.0 / static_cast<double>(hp.dim));
    nn::init::zeros_(fc.weight);
  }
  std::vector<Worker> workers;
  workers.reserve(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) workers.emplace_back(bag.weight, fc.weight, hp.lr);

  const std::int64_t n = c.train.size();
  const double total_tokens = static_cast<double>(c.train.fasttext_tokens) * hp.epochs;
  // Tokens before each example (fastText's count), for the learning rate's linear decay.
  std::vector<double> tokens_before(static_cast<std::size_t>(n) + 1, 0);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t words = c.train.starts[static_cast<std::size_t>(i) + 1] - c.train.starts[static_cast<std::size_t>(i)];
    tokens_before[static_cast<std::size_t>(i) + 1] = tokens_before[static_cast<std::size_t>(i)] + static_cast<double>(words + 1);
  }
  const auto sum_reduction = tg::CrossEntropyOptions<float>().reduction(tg::Reduction::Sum);
  SpinBarrier barrier(threads);

  const std::int64_t phases = 2 * hp.epochs * ((n + batch - 1) / batch);
  std::vector<std::vector<double>> phase_cpu(static_cast<std::size_t>(threads),
                                             std::vector<double>(trace ? static_cast<std::size_t>(phases) : 0));
  auto run = [&](int t) {
    Worker& w = workers[static_cast<std::size_t>(t)];
    std::vector<double>& cpu = phase_cpu[static_cast<std::size_t>(t)];
    std::size_t phase = 0;
    double cpu0 = trace ? thread_cpu_seconds() : 0;
    const auto end_phase = [&] {
      if (!trace) return;
      const double now = thread_cpu_seconds();
      cpu[phase++] = now - cpu0;
      cpu0 = now;
    };
    for (int epoch = 0; epoch < hp.epochs; ++epoch)
      for (std::int64_t first = 0; first < n; first += batch) {
        const std::int64_t last = std::min(first + batch, n);
        const double progress = (epoch * tokens_before.back() + tokens_before[static_cast<std::size_t>(first)]) / total_tokens;
        const double lr = hp.lr * (1.0 - progress);
        // This thread's slice of the batch.
        const std::int64_t lo = first + (last - first) * t / threads, hi = first + (last - first) * (t + 1) / threads;
        w.table.mutable_grad() = tg::Tensor<float>();
        w.head_sgd.zero_grad();
        if (lo < hi) {
          const data::BagBatch b = make_batch(c.train, lo, hi);
          tg::cross_entropy(logits(b, w.table, w.head), b.labels, sum_reduction).backward();
        }
        end_phase();
        if (threads > 1) barrier.wait();
        if (trace) cpu0 = thread_cpu_seconds();  // spinning at the barrier is not work
        // Thread 0 steps the small dense head; every thread applies its residue class of table rows
        // from every worker's gradient.
        for (Worker& other : workers) {
          if (t == 0) {
            other.head_sgd.set_lr(lr);
            other.head_sgd.step();
          }
          sgd_sparse_rows(other.table, other.table.grad(), lr, t, threads);
        }
        end_phase();
        if (threads > 1) barrier.wait();
        if (trace) cpu0 = thread_cpu_seconds();
      }
  };
  const double t0 = bench::now_seconds();
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(run, t);
  run(0);
  for (std::thread& th : pool) th.join();
  TrainResult r;
  r.seconds = bench::now_seconds() - t0;
  r.p_at_1 = precision_at_1(c, bag.weight, fc.weight);
  for (std::size_t p = 0; trace && p < static_cast<std::size_t>(phases); ++p) {
    double busiest = 0;
    for (const auto& cpu : phase_cpu) busiest = std::max(busiest, cpu[p]);
    r.critical_cpu_seconds += busiest;
  }
  return r;
}

// ---- fastText ---------------------------------------------------------------------------------------------

struct FastTextResult {
  double words_per_sec_thread = 0;
  double p_at_1 = 0;
  bool ok = false;
};

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

FastTextResult run_fasttext(const std::string& binary, const fs::path& corpus, const fs::path& work, const Hyper& hp,
                            std::uint64_t seed) {
  FastTextResult r;
  const fs::path model = work / "model", log = work / "train.log", predictions = work / "predictions.txt";
  char args[256];
  std::snprintf(args, sizeof args, " -dim %lld -lr %g -epoch %d -wordNgrams 1 -minCount 1 -thread 1 -loss softmax -verbose 2 -seed %llu",
                static_cast<long long>(hp.dim), hp.lr, hp.epochs, static_cast<unsigned long long>(seed));
  const std::string train = binary + " supervised -input " + shell_quote(corpus / "train.txt") + " -output " + shell_quote(model) + args +
                            " > " + shell_quote(log) + " 2>&1";
  if (std::system(train.c_str()) != 0) {
    std::fprintf(stderr, "bench_fasttext: `%s` failed:\n%s\n", train.c_str(), read_all(log).c_str());
    return r;
  }
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

double spread(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end()) - *std::min_element(v.begin(), v.end());
}

int run(int argc, char** argv) {
  if (openblas_set_num_threads) openblas_set_num_threads(1);
  const bool quick = bench::quick();
  const Hyper hp;
  const std::int64_t batch = env_long("TAPEGRAD_FASTTEXT_BATCH", kDefaultBatch);
  const int reps = static_cast<int>(env_long("TAPEGRAD_FASTTEXT_REPS", quick ? 1 : 3));
  const char* ft_env = std::getenv("FASTTEXT");
  const std::string fasttext = ft_env && *ft_env ? ft_env : "fasttext";
  if (batch < 1 || reps < 1) {
    std::fprintf(stderr, "bench_fasttext: TAPEGRAD_FASTTEXT_BATCH and TAPEGRAD_FASTTEXT_REPS must be at least 1\n");
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

  const double tokens = static_cast<double>(c.train.fasttext_tokens) * hp.epochs;
  if (const long threads = env_long("TAPEGRAD_FASTTEXT_PROFILE", 0); threads > 0) {  // tapegrad alone, for a profiler
    for (int rep = 0; rep < reps; ++rep) {
      const TrainResult r = train_tapegrad(c, hp, static_cast<int>(threads), batch, static_cast<std::uint64_t>(rep), true);
      std::printf("  tapegrad %ld threads, seed %d: P@1 %.4f, %.0f tokens/s; CPU-time critical path %.0f tokens/s\n", threads,
                  rep, r.p_at_1, tokens / r.seconds, tokens / r.critical_cpu_seconds);
    }
    fs::remove_all(work);
    return 0;
  }
  std::vector<double> ft_p, tg1_p, tg2_p;
  double ft_speed = 0, tg1_speed = 0, tg2_speed = 0;  // best of the repetitions
  for (int rep = 0; rep < reps; ++rep) {  // interleaved, so drift in machine load hits all three alike
    const auto seed = static_cast<std::uint64_t>(rep);
    const FastTextResult ft = run_fasttext(fasttext, corpus_dir, work, hp, seed);
    if (!ft.ok) return 1;
    const TrainResult one = train_tapegrad(c, hp, 1, batch, seed);
    const TrainResult two = train_tapegrad(c, hp, 2, batch, seed);
    ft_p.push_back(ft.p_at_1);
    tg1_p.push_back(one.p_at_1);
    tg2_p.push_back(two.p_at_1);
    ft_speed = std::max(ft_speed, ft.words_per_sec_thread);
    tg1_speed = std::max(tg1_speed, tokens / one.seconds);
    tg2_speed = std::max(tg2_speed, tokens / two.seconds);
    std::printf("  seed %d: P@1 fastText %.4f, tapegrad 1T %.4f, 2T %.4f; tokens/s fastText %.0f, tapegrad 1T %.0f, 2T %.0f\n",
                rep, ft.p_at_1, one.p_at_1, two.p_at_1, ft.words_per_sec_thread, tokens / one.seconds, tokens / two.seconds);
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
  std::printf("training tokens/s (best of %d)\n", reps);
  std::printf("  fastText 1 thread (words/sec/thread)  %10.0f\n", ft_speed);
  std::printf("  tapegrad 1 thread                     %10.0f  %.2fx fastText   target >= 2x   %s\n", tg1_speed,
              tg1_speed / ft_speed, verdict(tg1_speed >= 2 * ft_speed));
  std::printf("  tapegrad 2 threads                    %10.0f  %.2fx 1 thread   target >= 1.7x %s\n", tg2_speed,
              tg2_speed / tg1_speed, verdict(tg2_speed >= 1.7 * tg1_speed));
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
