// This machine's limits for the roofline of bench/roofline.mjs, per core: the fp32 FMA peak with the
// widest vector ISA the CPU has, and the streaming read bandwidth from L2 and from L3, each with one core
// alone and with every physical core at once (each thread pinned to its own core, on its own buffer).
// Prints one JSON object on stdout; bench/machine_limits.mjs compiles and runs it.
//
// Standalone C++17, no dependencies: `c++ -O3 -std=c++17 -pthread machine_limits.cpp`. The vector kernels
// carry target attributes and are chosen at run time, so one binary runs on any x86-64 (and elsewhere,
// scalar). Each figure is the best of a few ~0.1 s repetitions, timed in each thread's CPU time:
// interference only ever slows a run down, and time given to other processes does not count.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#define LIMITS_X86 1
#include <immintrin.h>
#endif
#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

namespace {

constexpr int kReps = 4;               // repetitions per figure; the best one counts
constexpr double kRepSeconds = 0.1;    // length of one repetition
constexpr size_t kBlockFloats = 256;   // buffers are whole 1 KB blocks: every read kernel's stride divides it

volatile float g_sink;  // results land here so that no kernel is optimised away

// ---- kernels ----------------------------------------------------------------------------------------
// An FMA kernel runs `iters` iterations of independent FMA chains and returns their sum; a read kernel
// sums `n` floats (a multiple of kBlockFloats) with independent accumulators and returns the sum.

using FmaKernel = float (*)(long iters);
using ReadKernel = float (*)(const float* p, size_t n);

#define REP16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define REP12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define REP8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

#ifdef LIMITS_X86
__attribute__((target("avx512f"))) float sum512(__m512 s) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  float t = 0;
  for (float v : lanes) t += v;
  return t;
}

// 16 chains of 16 lanes: FMA latency 4 × 2 ports needs 8 in flight; 16 leaves margin.
constexpr int kFma512Flops = 16 * 16 * 2;
__attribute__((target("avx512f"))) float fma512(long iters) {
  const __m512 m = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-6f);
#define INIT(i) __m512 a##i = _mm512_set1_ps(1.0f + (i) * 1e-3f);
  REP16(INIT)
#undef INIT
  for (long k = 0; k < iters; k++) {
#define STEP(i) a##i = _mm512_fmadd_ps(a##i, m, b);
    REP16(STEP)
#undef STEP
  }
  __m512 s = _mm512_setzero_ps();
#define SUM(i) s = _mm512_add_ps(s, a##i);
  REP16(SUM)
#undef SUM
  return sum512(s);
}

// 16 accumulators × 16 floats = 1 KB per iteration: far more loads in flight than L2 or L3 can serve.
__attribute__((target("avx512f"))) float read512(const float* p, size_t n) {
#define INIT(i) __m512 a##i = _mm512_setzero_ps();
  REP16(INIT)
#undef INIT
  for (size_t k = 0; k < n; k += 256) {
#define STEP(i) a##i = _mm512_add_ps(a##i, _mm512_load_ps(p + k + 16 * (i)));
    REP16(STEP)
#undef STEP
  }
  __m512 s = _mm512_setzero_ps();
#define SUM(i) s = _mm512_add_ps(s, a##i);
  REP16(SUM)
#undef SUM
  return sum512(s);
}

// The reduced-precision dot-product units, for the bounds of int8 and bfloat16 weights: 16 chains of
// vpdpbusd (16 lanes × 4 byte products, counted as 2 ops each) and of vdpbf16ps (16 lanes × 2 products).
constexpr int kVnni512Ops = 16 * 16 * 4 * 2;
__attribute__((target("avx512f,avx512vnni"))) float vnni512(long iters) {
  const __m512i u = _mm512_set1_epi8(1), s = _mm512_set1_epi8(-1);
#define INIT(i) __m512i a##i = _mm512_set1_epi32(i);
  REP16(INIT)
#undef INIT
  for (long k = 0; k < iters; k++) {
#define STEP(i) a##i = _mm512_dpbusd_epi32(a##i, u, s);
    REP16(STEP)
#undef STEP
  }
  __m512i t = _mm512_setzero_si512();
#define SUM(i) t = _mm512_add_epi32(t, a##i);
  REP16(SUM)
#undef SUM
  return static_cast<float>(_mm512_reduce_add_epi32(t));
}

constexpr int kBf16512Flops = 16 * 16 * 2 * 2;
__attribute__((target("avx512f,avx512bf16"))) float bf16dot512(long iters) {
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3380);  // 1, ~6e-8
#define INIT(i) __m512 a##i = _mm512_set1_ps(1.0f + (i) * 1e-3f);
  REP16(INIT)
#undef INIT
  for (long k = 0; k < iters; k++) {
#define STEP(i) a##i = _mm512_dpbf16_ps(a##i, a, b);
    REP16(STEP)
#undef STEP
  }
  __m512 t = _mm512_setzero_ps();
#define SUM(i) t = _mm512_add_ps(t, a##i);
  REP16(SUM)
#undef SUM
  return sum512(t);
}

// 12 chains of 8 lanes (16 ymm registers: 12 accumulators and the two constants).
constexpr int kFma256Flops = 12 * 8 * 2;
__attribute__((target("avx2,fma"))) float fma256(long iters) {
  const __m256 m = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-6f);
#define INIT(i) __m256 a##i = _mm256_set1_ps(1.0f + (i) * 1e-3f);
  REP12(INIT)
#undef INIT
  for (long k = 0; k < iters; k++) {
#define STEP(i) a##i = _mm256_fmadd_ps(a##i, m, b);
    REP12(STEP)
#undef STEP
  }
  __m256 s = _mm256_setzero_ps();
#define SUM(i) s = _mm256_add_ps(s, a##i);
  REP12(SUM)
#undef SUM
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  float t = 0;
  for (float v : lanes) t += v;
  return t;
}

// 16 accumulators × 8 floats = 512 bytes per iteration; the loads fold into the adds, so all 16 ymm
// registers can hold accumulators.
__attribute__((target("avx2,fma"))) float read256(const float* p, size_t n) {
#define INIT(i) __m256 a##i = _mm256_setzero_ps();
  REP16(INIT)
#undef INIT
  for (size_t k = 0; k < n; k += 128) {
#define STEP(i) a##i = _mm256_add_ps(a##i, _mm256_load_ps(p + k + 8 * (i)));
    REP16(STEP)
#undef STEP
  }
  __m256 s = _mm256_setzero_ps();
#define SUM(i) s = _mm256_add_ps(s, a##i);
  REP16(SUM)
#undef SUM
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  float t = 0;
  for (float v : lanes) t += v;
  return t;
}
#endif  // LIMITS_X86

// Scalar: 8 multiply-add chains (2 FLOPs each), and 8 scalar accumulators.
constexpr int kScalarFlops = 8 * 2;
float fmaScalar(long iters) {
  const float m = 0.999999f, b = 1e-6f;
#define INIT(i) float a##i = 1.0f + (i) * 1e-3f;
  REP8(INIT)
#undef INIT
  for (long k = 0; k < iters; k++) {
#define STEP(i) a##i = a##i * m + b;
    REP8(STEP)
#undef STEP
  }
  return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

float readScalar(const float* p, size_t n) {
#define INIT(i) float a##i = 0;
  REP8(INIT)
#undef INIT
  for (size_t k = 0; k < n; k += 8) {
#define STEP(i) a##i += p[k + (i)];
    REP8(STEP)
#undef STEP
  }
  return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

struct Isa {
  const char* name;
  FmaKernel fma;
  int flopsPerIter;
  ReadKernel read;
};

Isa widestIsa() {
#ifdef LIMITS_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {"avx512f", fma512, kFma512Flops, read512};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {"avx2+fma", fma256, kFma256Flops, read256};
#endif
  return {"scalar", fmaScalar, kScalarFlops, readScalar};
}

// ---- the machine ------------------------------------------------------------------------------------

std::string readLine(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

// "2048K" -> 2097152; 0 when absent.
size_t parseSize(const std::string& s) {
  if (s.empty()) return 0;
  char* end = nullptr;
  size_t v = std::strtoull(s.c_str(), &end, 10);
  if (end && (*end == 'K' || *end == 'k')) v <<= 10;
  if (end && (*end == 'M' || *end == 'm')) v <<= 20;
  return v;
}

// Size of cpu0's data or unified cache of `level`, from sysfs; 0 when unknown.
size_t cacheSize(int level) {
  for (int i = 0; i < 16; i++) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    const std::string lv = readLine(dir + "level");
    if (lv.empty()) continue;
    if (std::atoi(lv.c_str()) != level || readLine(dir + "type") == "Instruction") continue;
    return parseSize(readLine(dir + "size"));
  }
  return 0;
}

// One logical CPU per physical core this process may run on: measuring two hyper-threads of one core
// would halve the per-core figures.
std::vector<int> onePerCore() {
  std::vector<int> cpus;
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    std::set<std::pair<std::string, std::string>> seen;
    for (int c = 0; c < CPU_SETSIZE; c++) {
      if (!CPU_ISSET(c, &set)) continue;
      const std::string topo = "/sys/devices/system/cpu/cpu" + std::to_string(c) + "/topology/";
      const std::string core = readLine(topo + "core_id"), pkg = readLine(topo + "physical_package_id");
      if (!core.empty() && !seen.insert({pkg, core}).second) continue;
      cpus.push_back(c);
    }
  }
#endif
  if (cpus.empty()) {
    const unsigned n = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned c = 0; c < n; c++) cpus.push_back(-1);  // -1: not pinned
  }
  return cpus;
}

void pinTo(int cpu) {
#if defined(__linux__)
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
#else
  (void)cpu;
#endif
}

// ---- measuring --------------------------------------------------------------------------------------

// CPU time of the calling thread in s: time the scheduler gives to other processes does not count, so a
// figure measured beside other work still says what the core can do.
double threadSeconds() {
#if defined(__linux__)
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
#else
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
#endif
}

// All threads leave wait() together, so that in every repetition all cores work at the same time.
class SpinBarrier {
 public:
  explicit SpinBarrier(int n) : n_(n) {}
  void wait() {
    const int gen = gen_.load(std::memory_order_acquire);
    if (count_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_) {
      count_.store(0, std::memory_order_relaxed);
      gen_.fetch_add(1, std::memory_order_acq_rel);
    } else {
      while (gen_.load(std::memory_order_acquire) == gen) std::this_thread::yield();
    }
  }

 private:
  const int n_;
  std::atomic<int> count_{0};
  std::atomic<int> gen_{0};
};

// One piece of work a thread repeats: `count` FMA iterations, or `count` sweeps over its own buffer of
// `bytes` (0 for FMA).
struct Work {
  const Isa* isa;
  size_t bytes;
  long count;
};

float* newBuffer(size_t bytes) {
  float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (!p) {
    std::fprintf(stderr, "machine_limits: cannot allocate %zu bytes\n", bytes);
    std::exit(1);
  }
  const size_t n = bytes / sizeof(float);
  for (size_t i = 0; i < n; i++) p[i] = 1e-3f;  // written by the thread that reads it: its memory, its caches
  return p;
}

float runOnce(const Work& w, const float* buf) {
  if (!w.bytes) return w.isa->fma(w.count);
  float s = 0;
  for (long k = 0; k < w.count; k++) s += w.isa->read(buf, w.bytes / sizeof(float));
  return s;
}

// Runs `w` on each of `cpus` at once, kReps times, and returns the work per second per core of the best
// repetition: `units` of work per count, over each thread's CPU time, averaged over the threads.
double bestRate(const Work& w, const std::vector<int>& cpus, double units) {
  const int P = static_cast<int>(cpus.size());
  SpinBarrier barrier(P);
  std::vector<double> seconds(P);
  double best = 0;
  auto body = [&](int t) {
    pinTo(cpus[t]);
    float* buf = w.bytes ? newBuffer(w.bytes) : nullptr;
    float sink = runOnce(w, buf);  // warm-up: caches filled, vector units at their working clock
    for (int r = 0; r < kReps; r++) {
      barrier.wait();
      const double t0 = threadSeconds();
      sink += runOnce(w, buf);
      seconds[t] = threadSeconds() - t0;
      barrier.wait();
      if (t == 0) {
        double rate = 0;
        for (double s : seconds) rate += units * static_cast<double>(w.count) / s / P;
        best = std::max(best, rate);
      }
    }
    g_sink = sink;
    std::free(buf);
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < P; t++) threads.emplace_back(body, t);
  body(0);
  for (auto& th : threads) th.join();
  return best;
}

// How many iterations or sweeps fill about kRepSeconds on `cpu`.
long calibrate(Work w, int cpu) {
  long count = 0;
  std::thread([&] {
    pinTo(cpu);
    float* buf = w.bytes ? newBuffer(w.bytes) : nullptr;
    for (w.count = 1;; w.count *= 4) {
      const double t0 = threadSeconds();
      g_sink = runOnce(w, buf);
      const double s = threadSeconds() - t0;
      if (s >= 0.01 || w.count > (1L << 40)) {
        count = std::max(1L, static_cast<long>(w.count * kRepSeconds / s));
        break;
      }
    }
    std::free(buf);
  }).join();
  return count;
}

struct Rates {
  double oneCore, allCores;  // per core
};

// Work per second per core, one core alone and all of `cpus` at once.
Rates rates(Work w, const std::vector<int>& cpus, double unitsPerCount) {
  w.count = calibrate(w, cpus[0]);
  Rates r{bestRate(w, {cpus[0]}, unitsPerCount), 0};
  r.allCores = cpus.size() > 1 ? bestRate(w, cpus, unitsPerCount) : r.oneCore;
  return r;
}

}  // namespace

int main() {
  const Isa isa = widestIsa();
  const std::vector<int> cpus = onePerCore();

  size_t l2 = cacheSize(2);
  const bool l2Known = l2 != 0;
  if (!l2Known) l2 = 1024 * 1024;  // so that the buffers below come out at the defaults (512 KB, 4 MB)
  const size_t l3 = cacheSize(3);
  const auto blocks = [](size_t bytes) { return std::max<size_t>(1, bytes / (kBlockFloats * 4)) * kBlockFloats * 4; };
  // Half of L2: resident in L2 with room to spare for everything else.
  const size_t l2Test = blocks(l2 / 2);
  // Twice L2, so that a sweep cannot stay in L2, but at most half of L3, so that it stays in L3.
  size_t l3Test = l2Known ? 2 * l2 : 4u << 20;
  if (l3) l3Test = std::min(l3Test, l3 / 2);
  l3Test = blocks(l3Test);

  const Rates flops = rates({&isa, 0, 0}, cpus, isa.flopsPerIter);
  // The dot-product units reduced-precision kernels use, where the CPU has them: "null" otherwise.
  std::string unitPeaks;
  const auto unitPeak = [&](const char* name, const Isa& unit) {
    const Rates r = rates({&unit, 0, 0}, cpus, unit.flopsPerIter);
    char buf[160];
    std::snprintf(buf, sizeof buf, ", \"%s\": %.4g, \"%sAllCores\": %.4g", name, r.oneCore, name, r.allCores);
    unitPeaks += buf;
  };
#ifdef LIMITS_X86
  if (__builtin_cpu_supports("avx512vnni")) unitPeak("peakInt8Ops", {"avx512vnni", vnni512, kVnni512Ops, read512});
  if (__builtin_cpu_supports("avx512bf16")) unitPeak("peakBf16Flops", {"avx512bf16", bf16dot512, kBf16512Flops, read512});
#endif
  const Rates fromL2 = rates({&isa, l2Test, 0}, cpus, static_cast<double>(l2Test));
  const Rates fromL3 = rates({&isa, l3Test, 0}, cpus, static_cast<double>(l3Test));

  std::printf(
      "{\"isa\": \"%s\", \"peakFlops\": %.4g, \"peakFlopsAllCores\": %.4g, \"l2Bytes\": %zu, \"l2BytesFromSystem\": %s, "
      "\"l3Bytes\": %zu, \"l2TestBytes\": %zu, \"l3TestBytes\": %zu, \"l2Bandwidth\": %.4g, \"l3Bandwidth\": %.4g, "
      "\"l2BandwidthAllCores\": %.4g, \"l3BandwidthAllCores\": %.4g, \"cores\": %zu, \"repetitions\": %d, "
      "\"secondsPerRepetition\": %.2g%s}\n",
      isa.name, flops.oneCore, flops.allCores, l2, l2Known ? "true" : "false", l3, l2Test, l3Test, fromL2.oneCore,
      fromL3.oneCore, fromL2.allCores, fromL3.allCores, cpus.size(), kReps, kRepSeconds, unitPeaks.c_str());
  return 0;
}
