// The NEON kernel family against the portable one, without Node: packed GEMM over many shapes (edges,
// k = 0, padded leading dimensions), the recurrent step of every cell kind (rows 1..20, H not a multiple
// of the lanes, Hout != H, unit ranges, chunked K), and sigmoid/tanh against std:: on a dense grid and at
// ±inf, NaN, ±1e30. Every kernel must also leave alone what lies outside its output. Built for arm64 and
// run by scripts/arm64-check.sh; `--backend` prints the family dispatch.cpp picks instead.
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "../native/kernels/kernels.h"
#include "../native/kernels/packing.h"

#ifndef TORCHRNN_NEON_KERNELS
#error "arm64-kernel-check checks the NEON kernels: build it for arm64 (aarch64-linux-gnu-g++)"
#endif

using namespace torchrnn::kernels;

namespace {

std::mt19937_64 rng(20240611);

// Outside every output: a kernel that writes past its range changes one of these.
template <class T>
const T kGuard = T(-1234.5);

template <class T>
std::vector<T> randomValues(std::size_t n, T scale) {
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(uniform(rng) * scale);
  return v;
}

template <class T>
const char* typeName() {
  return sizeof(T) == 4 ? "f32" : "f64";
}

// Worst difference seen in one section, and the first few failures. `where` names a value, and is
// called only for a failure.
struct Tally {
  const char* section;
  std::size_t cases = 0, values = 0, failures = 0;
  double worst = 0;
  template <class Where>
  void compare(double got, double want, double tolerance, const Where& where) {
    ++values;
    const bool same = (std::isnan(got) && std::isnan(want)) || got == want;
    const double diff = same ? 0 : std::fabs(got - want);
    if (!same && diff > worst) worst = diff;
    if (!same && !(diff <= tolerance)) {
      if (failures < 10) std::printf("  FAIL %s %s: got %.9g, want %.9g\n", section, where().c_str(), got, want);
      ++failures;
    }
  }
  template <class Where>
  void guard(double got, double guardValue, const Where& where) {
    ++values;
    if (got != guardValue) {
      if (failures < 10) std::printf("  FAIL %s %s: wrote outside its output (%.9g)\n", section, where().c_str(), got);
      ++failures;
    }
  }
  bool report() const {
    std::printf("%-28s %6zu cases %10zu values  worst |neon - reference| %.3g  %s\n", section, cases, values, worst,
                failures ? "FAILED" : "ok");
    return failures == 0;
  }
};

// ---- packed GEMM --------------------------------------------------------------------------------------

template <class T>
void runGemm(const KernelTable<T>& table, std::size_t m, std::size_t n, std::size_t k, const std::vector<T>& a,
             std::size_t lda, const std::vector<T>& b, const T* bias, std::vector<T>& c, std::size_t ldc) {
  std::vector<T> packed(gemmPanelsSize(n, k, table.gemmPanelCols) + 1);
  packGemmPanels(b.data(), n, k, table.gemmPanelCols, packed.data());
  GemmArgs<T> g;
  g.m = m, g.n = n, g.k = k, g.a = a.data(), g.lda = lda, g.bPacked = packed.data(), g.bias = bias;
  g.c = c.data(), g.ldc = ldc;
  table.packedGemm(g);
}

template <class T>
bool checkGemm(const KernelTable<T>& neon, const KernelTable<T>& portable, double tolerance) {
  const std::string section = std::string("packed GEMM ") + typeName<T>();
  Tally t{section.c_str()};
  const std::size_t ms[] = {0, 1, 2, 5, 13, 14, 15, 28, 113};
  const std::size_t ns[] = {1, 3, 4, 5, 8, 9, 17, 33, 130};
  const std::size_t ks[] = {0, 1, 3, 8, 256, 257, 600};
  for (std::size_t m : ms)
    for (std::size_t n : ns)
      for (std::size_t k : ks)
        for (int withBias = 0; withBias < 2; ++withBias) {
          if (!withBias && k != 0 && (m > 28 || n > 33)) continue;  // the bias changes nothing at size
          const std::size_t lda = k + 3, ldc = n + 2, rowsOfC = m + 1;
          const std::vector<T> a = randomValues<T>(m * lda + 1, T(1));
          const std::vector<T> b = randomValues<T>(n * k + 1, T(1));
          const std::vector<T> bias = randomValues<T>(n, T(1));
          std::vector<T> cNeon(rowsOfC * ldc, kGuard<T>), cPortable(rowsOfC * ldc, kGuard<T>);
          runGemm(neon, m, n, k, a, lda, b, withBias ? bias.data() : nullptr, cNeon, ldc);
          runGemm(portable, m, n, k, a, lda, b, withBias ? bias.data() : nullptr, cPortable, ldc);
          ++t.cases;
          for (std::size_t i = 0; i < rowsOfC; ++i)
            for (std::size_t j = 0; j < ldc; ++j) {
              auto where = [&] {
                return "m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k) + " [" +
                       std::to_string(i) + "," + std::to_string(j) + "]";
              };
              const T got = cNeon[i * ldc + j];
              if (i >= m || j >= n) {
                t.guard(got, kGuard<T>, where);
                continue;
              }
              double scale = withBias ? std::fabs(double(bias[j])) : 0;  // the sum's size bounds its rounding
              for (std::size_t kk = 0; kk < k; ++kk) scale += std::fabs(double(a[i * lda + kk]) * b[j * k + kk]);
              t.compare(got, cPortable[i * ldc + j], tolerance * (scale > 1 ? scale : 1), where);
            }
        }
  return t.report();
}

// ---- recurrent step -----------------------------------------------------------------------------------

const char* cellName(CellKind kind) {
  switch (kind) {
    case CellKind::RnnTanh: return "rnn_tanh";
    case CellKind::RnnRelu: return "rnn_relu";
    case CellKind::Lstm: return "lstm";
    case CellKind::Gru: return "gru";
  }
  return "?";
}

// One step's inputs, shared by both families; the outputs each family writes into its own copy.
template <class T>
struct StepCase {
  CellKind kind;
  std::size_t rows, H, Hout, G;
  std::size_t ldgx, ldhPrev, ldc, ldhNext, ldout;
  std::vector<T> whh, gx, hPrev, bhn, cPrev;
};

template <class T>
struct StepOutputs {
  std::vector<T> cNext, hNext, out;
};

template <class T>
StepOutputs<T> runStep(const KernelTable<T>& table, const StepCase<T>& c, bool withOut,
                       const std::vector<std::pair<std::size_t, std::size_t>>& ranges) {
  const std::size_t U = table.recurrentPanelUnits;
  std::vector<T> packed(recurrentPanelsSize(c.G, c.H, c.Hout, U) + 1);
  packRecurrentPanels(c.whh.data(), c.G, c.H, c.Hout, U, packed.data());
  StepOutputs<T> o{std::vector<T>(c.rows * c.ldc, kGuard<T>), std::vector<T>(c.rows * c.ldhNext, kGuard<T>),
                   std::vector<T>(c.rows * c.ldout, kGuard<T>)};
  RecurrentStepArgs<T> s;
  s.rows = c.rows, s.hiddenSize = c.H, s.stateSize = c.Hout, s.whhPacked = packed.data();
  s.gx = c.gx.data(), s.ldgx = c.ldgx, s.hPrev = c.hPrev.data(), s.ldhPrev = c.ldhPrev;
  s.bhn = c.kind == CellKind::Gru ? c.bhn.data() : nullptr;
  s.cPrev = c.kind == CellKind::Lstm ? c.cPrev.data() : nullptr;
  s.cNext = c.kind == CellKind::Lstm ? o.cNext.data() : nullptr;
  s.ldc = c.ldc, s.hNext = o.hNext.data(), s.ldhNext = c.ldhNext;
  s.out = withOut ? o.out.data() : nullptr, s.ldout = c.ldout;
  for (const auto& range : ranges) table.recurrentStep[static_cast<std::size_t>(c.kind)](s, range.first, range.second);
  return o;
}

template <class T>
bool checkRecurrent(const KernelTable<T>& neon, const KernelTable<T>& portable, double tolerance) {
  const std::string section = std::string("recurrent step ") + typeName<T>();
  Tally t{section.c_str()};
  const std::size_t U = neon.recurrentPanelUnits;
  if (U != portable.recurrentPanelUnits) {
    std::printf("  the families' panel units differ (%zu, %zu): ranges below assume one U\n", U,
                portable.recurrentPanelUnits);
  }
  const CellKind kinds[] = {CellKind::RnnTanh, CellKind::RnnRelu, CellKind::Lstm, CellKind::Gru};
  // A state width past every table's K chunk (at most 512), for the chunked-K path of larger batches.
  constexpr std::size_t kLongK = 520;
  std::vector<std::size_t> rowCounts;
  for (std::size_t r = 1; r <= 20; ++r) rowCounts.push_back(r);
  rowCounts.push_back(70);  // more than one band of rows in the chunked-K path
  for (CellKind kind : kinds)
    for (std::size_t rows : rowCounts) {
      const bool longK = rows == 1 || rows == 7 || rows == 9 || rows == 20 || rows == 70;
      std::vector<std::size_t> hiddens = {1, 3, 5, 7, 9, 13, 16};
      if (longK && kind == CellKind::Gru) hiddens.push_back(kLongK);  // GRU's K is H
      for (std::size_t H : hiddens) {
        // Hout: H, fewer (an LSTM projection), more, and long. GRU has no projection: Hout == H.
        std::vector<std::size_t> houts = {H};
        if (kind != CellKind::Gru) houts.insert(houts.end(), {H > 1 ? H / 2 : 1, H + 5});
        if (kind != CellKind::Gru && longK) houts.push_back(kLongK);
        for (std::size_t Hout : houts) {
          const std::size_t G = gatesPerUnit(kind);
          StepCase<T> c{kind, rows, H, Hout, G, G * H + 2, Hout + 1, H + 3, H + 1, H + 2, {}, {}, {}, {}, {}};
          c.whh = randomValues<T>(G * H * Hout, T(1.5 / std::sqrt(double(Hout))));
          c.gx = randomValues<T>(rows * c.ldgx, T(2));
          c.hPrev = randomValues<T>(rows * c.ldhPrev, T(1));
          c.bhn = randomValues<T>(H, T(1));
          c.cPrev = randomValues<T>(rows * c.ldc, T(2));
          // Every unit at once; then the units split at a panel boundary in two calls; then a range that
          // leaves units out on both sides (which must keep their guards).
          std::vector<std::vector<std::pair<std::size_t, std::size_t>>> splits = {{{0, H}}};
          if (H > U) splits.push_back({{U, H}, {0, U}});
          if (H > 2 * U) splits.push_back({{U, 2 * U}});
          for (const auto& ranges : splits)
            for (int withOut = 0; withOut < 2; ++withOut) {
              if (Hout == kLongK && (withOut || ranges.size() > 1)) continue;  // the long K once is enough
              const StepOutputs<T> got = runStep(neon, c, withOut, ranges);
              const StepOutputs<T> want = runStep(portable, c, withOut, ranges);
              ++t.cases;
              std::vector<bool> computed(H, false);
              for (const auto& range : ranges)
                for (std::size_t u = range.first; u < range.second && u < H; ++u) computed[u] = true;
              for (std::size_t r = 0; r < rows; ++r) {
                auto check = [&](const char* what, const std::vector<T>& g, const std::vector<T>& w, std::size_t ld,
                                 bool present) {
                  for (std::size_t u = 0; u < ld; ++u) {
                    auto where = [&] {
                      return std::string(cellName(kind)) + " " + what + " rows=" + std::to_string(rows) + " H=" +
                             std::to_string(H) + " Hout=" + std::to_string(Hout) + " [" + std::to_string(r) + "," +
                             std::to_string(u) + "]";
                    };
                    const T value = g[r * ld + u];
                    if (present && u < H && computed[u]) {
                      const double want = w[r * ld + u];
                      t.compare(value, want, tolerance * (std::fabs(want) > 1 ? std::fabs(want) : 1), where);
                    } else {
                      t.guard(value, kGuard<T>, where);
                    }
                  }
                };
                check("h", got.hNext, want.hNext, c.ldhNext, true);
                check("c", got.cNext, want.cNext, c.ldc, kind == CellKind::Lstm);
                check("out", got.out, want.out, c.ldout, withOut);
              }
            }
        }
      }
    }
  return t.report();
}

// ---- activations --------------------------------------------------------------------------------------

double sigmoidReference(double x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }

template <class T>
bool checkActivations(const KernelTable<T>& neon, double tolerance) {
  bool ok = true;
  const double inf = std::numeric_limits<double>::infinity();
  for (int which = 0; which < 2; ++which) {
    const bool isSigmoid = which == 0;
    const std::string section = std::string(isSigmoid ? "sigmoid " : "tanh ") + typeName<T>();
    Tally t{section.c_str()};
    const ActivationFn<T> f = isSigmoid ? neon.sigmoid : neon.tanh;
    auto reference = [&](double x) { return isSigmoid ? sigmoidReference(x) : std::tanh(x); };
    const double low = isSigmoid ? 0 : -1;

    // The dense grid of test/activations.test.ts: where the functions bend, out to saturation, near 0.
    std::vector<T> x;
    for (double v = -20; v <= 20; v += 1.0 / 512) x.push_back(T(v));
    for (double v = -100; v <= 100; v += 0.37) x.push_back(T(v));
    for (double v : {1e-3, -1e-3, 1e-8, -1e-8, 1e-30, 0.0, -0.0}) x.push_back(T(v));
    std::vector<T> y(x.size());
    f(x.data(), y.data(), x.size());
    ++t.cases;
    for (std::size_t i = 0; i < x.size(); ++i)
      t.compare(y[i], reference(double(x[i])), tolerance, [&] { return "x=" + std::to_string(x[i]); });

    // Near 0 the relative error stays small too (tanh), and sigmoid(0) is 0.5.
    const T nearZero[] = {T(1e-3), T(-1e-3), T(1e-8), T(1e-30), T(0)};
    T yNear[5];
    f(nearZero, yNear, 5);
    ++t.cases;
    for (std::size_t i = 0; i < 5; ++i) {
      const double want = reference(double(nearZero[i]));
      t.compare(yNear[i], want, std::fabs(want) * 1e-6, [&] { return "near 0, x=" + std::to_string(nearZero[i]); });
    }

    // NaN propagates; ±inf and ±1e30 give the exact limits.
    const T special[] = {T(NAN), T(inf), T(-inf), T(1e30), T(-1e30), T(100), T(-100)};
    T ySpecial[7];
    f(special, ySpecial, 7);
    ++t.cases;
    t.values += 7;
    auto expect = [&](bool holds, const char* what) {
      if (!holds) {
        std::printf("  FAIL %s: %s\n", section.c_str(), what);
        ++t.failures;
      }
    };
    expect(std::isnan(ySpecial[0]), "NaN gives NaN");
    expect(ySpecial[1] == T(1), "+inf gives 1");
    expect(ySpecial[2] == T(low), "-inf gives the lower limit");
    expect(ySpecial[3] == T(1), "1e30 gives 1");
    expect(std::fabs(double(ySpecial[4]) - low) < 1e-30, "-1e30 gives the lower limit");
    expect(std::fabs(double(ySpecial[5]) - 1) < 1e-15, "100 gives 1");
    expect(std::fabs(double(ySpecial[6]) - low) < 1e-30 + (isSigmoid ? 4e-44 : 0), "-100 gives the lower limit");

    // Every length, the last vector partial; nothing written past n, and in place (x and y alias).
    for (std::size_t n = 0; n <= 40; ++n) {
      std::vector<T> in(n + 4), out(n + 4, kGuard<T>);
      for (std::size_t i = 0; i < n; ++i) in[i] = T(double(i) / 7 - 2);
      f(in.data(), out.data(), n);
      ++t.cases;
      for (std::size_t i = 0; i < n + 4; ++i) {
        auto where = [&] { return "n=" + std::to_string(n) + " [" + std::to_string(i) + "]"; };
        if (i < n)
          t.compare(out[i], reference(double(in[i])), tolerance, where);
        else
          t.guard(out[i], kGuard<T>, where);
      }
      std::vector<T> inPlace(in);
      f(inPlace.data(), inPlace.data(), n);
      for (std::size_t i = 0; i < n; ++i)
        t.compare(inPlace[i], out[i], 0, [&] { return "in place, n=" + std::to_string(n) + " [" + std::to_string(i) + "]"; });
    }
    ok = t.report() && ok;
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--backend") == 0) {
    try {
      std::printf("%s\n", backendName());
      return 0;
    } catch (const std::invalid_argument& e) {
      std::printf("error: %s\n", e.what());
      return 2;
    }
  }
  const KernelTable<float>& neon32 = neonKernelsF32();
  const KernelTable<double>& neon64 = neonKernelsF64();
  std::printf("families: %s (f32 panels %zu cols / %zu units, f64 %zu / %zu) against %s\n", neon32.name,
              neon32.gemmPanelCols, neon32.recurrentPanelUnits, neon64.gemmPanelCols, neon64.recurrentPanelUnits,
              portableKernelsF32().name);
  bool ok = true;
  ok = checkActivations(neon32, 2e-7) && ok;
  ok = checkActivations(neon64, 1e-14) && ok;
  ok = checkGemm(neon32, portableKernelsF32(), 1e-5) && ok;
  ok = checkGemm(neon64, portableKernelsF64(), 1e-12) && ok;
  ok = checkRecurrent(neon32, portableKernelsF32(), 1e-5) && ok;
  ok = checkRecurrent(neon64, portableKernelsF64(), 1e-12) && ok;
  std::printf("%s\n", ok ? "arm64 kernel check: all passed" : "arm64 kernel check: FAILED");
  return ok ? 0 : 1;
}
