// The kernel interface: every instruction-set family (portable C++, AVX2, AVX-512, ...) fills one
// KernelTable per scalar type, and the engine calls only through it. Packed layouts are part of the
// contract: a table says how wide its panels are, and packing.h writes weights in that shape.
#pragma once

#include <cstddef>
#include <cstdint>

namespace torchrnn {
namespace kernels {

// The recurrent cells a step kernel knows how to finish (their fused epilogues).
enum class CellKind { RnnTanh = 0, RnnRelu = 1, Lstm = 2, Gru = 3 };
constexpr std::size_t kCellKindCount = 4;

// How packed weights are stored. Float32 is the module's own type (float or double panels, bPacked /
// whhPacked); the reduced formats hold float modules' weights at lower precision in panels of the same
// geometry (bReduced / whhReduced), read by the tables reducedKernels() returns. Activations, states and
// accumulation stay float32 in every format.
enum class WeightFormat { Float32 = 0, BFloat16 = 1, Float16 = 2, Int8 = 3 };
constexpr std::size_t kWeightFormatCount = 4;

// Gates per hidden unit: rows of W_ih / W_hh per unit.
constexpr std::size_t gatesPerUnit(CellKind kind) {
  return kind == CellKind::Lstm ? 4 : kind == CellKind::Gru ? 3 : 1;
}

// C[m, n] = sum_k A[m, k] * B[n, k] (+ bias[n]), i.e. C = A·Bᵀ, with B pre-packed by packGemmPanels.
template <class T>
struct GemmArgs {
  std::size_t m = 0, n = 0, k = 0;
  const T* a = nullptr;        // row m starts at a + m * lda
  std::size_t lda = 0;
  const T* bPacked = nullptr;  // packGemmPanels(B, n, k, gemmPanelCols)
  const T* bias = nullptr;     // n values added to every row, or nullptr
  T* c = nullptr;              // row m starts at c + m * ldc
  std::size_t ldc = 0;
  // Reduced-precision tables only, in place of bPacked: the same panels in the table's WeightFormat, and
  // for Int8 one scale per packed column (bScales[j] for column j of this call).
  const void* bReduced = nullptr;
  const float* bScales = nullptr;
  // Int8 in the dot-product layout (dotDepthGroup(Int8) > 1) only: each packed column's sum of its int8 weights.
  const std::int32_t* bColumnSums = nullptr;
};

// One time step of one direction for `rows` sequences: gates = gx + hPrev·W_hhᵀ, then the cell's update.
// Row r of every matrix starts at base + r * its leading dimension; units are hidden units (H of them).
template <class T>
struct RecurrentStepArgs {
  std::size_t rows = 0;
  std::size_t hiddenSize = 0;   // H: units, and the width of c and of the cell output
  std::size_t stateSize = 0;    // Hout: width of hPrev, the inner dimension of W_hh
  const T* whhPacked = nullptr; // packRecurrentPanels(W_hh, gates, H, Hout, recurrentPanelUnits)
  const T* gx = nullptr;        // input projection with folded biases; gate g of unit u at [g * H + u]
  std::size_t ldgx = 0;
  const T* hPrev = nullptr;     // Hout values per row
  std::size_t ldhPrev = 0;
  const T* bhn = nullptr;       // GRU only: b_hn, H values, kept inside r * (W_hn h + b_hn)
  const T* cPrev = nullptr;     // LSTM only
  T* cNext = nullptr;           // LSTM only
  std::size_t ldc = 0;
  T* hNext = nullptr;           // the cell output, H values per row (before any LSTM projection)
  std::size_t ldhNext = 0;
  T* out = nullptr;             // optional second destination of the cell output (the layer output)
  std::size_t ldout = 0;
  // Reduced-precision tables only, in place of whhPacked: the same panels in the table's WeightFormat, and
  // for Int8 one scale per packed column, in panel order ([panel][gate][unit]).
  const void* whhReduced = nullptr;
  const float* whhScales = nullptr;
  const std::int32_t* whhColumnSums = nullptr;  // as GemmArgs::bColumnSums, in the scales' order
  // A hint: walk the units last to first. Alternate steps that alternate it find the panels read last
  // still in L1; every unit's sums are the same in either order, so results do not depend on it.
  bool lastUnitsFirst = false;
};

template <class T>
using GemmFn = void (*)(const GemmArgs<T>& args);

// Computes hidden units [unitBegin, unitEnd) only, so that panels of W_hh can be split across threads;
// unitBegin must be a multiple of recurrentPanelUnits.
template <class T>
using RecurrentStepFn = void (*)(const RecurrentStepArgs<T>& args, std::size_t unitBegin, std::size_t unitEnd);

// y[i] = f(x[i]) over n values; x and y may alias.
template <class T>
using ActivationFn = void (*)(const T* x, T* y, std::size_t n);

template <class T>
struct KernelTable {
  const char* name;
  std::size_t gemmPanelCols;        // columns of B per packed GEMM panel
  std::size_t recurrentPanelUnits;  // hidden units per gate-interleaved W_hh panel
  GemmFn<T> packedGemm;
  RecurrentStepFn<T> recurrentStep[kCellKindCount];  // indexed by CellKind
  ActivationFn<T> sigmoid;
  ActivationFn<T> tanh;
};

// Which kernel families this build holds, by the target the compiler builds for: the x86 ones on
// x86-64, NEON on arm64, only the portable one elsewhere. binding.gyp builds their libraries under the
// same conditions (target_arch 'x64' / 'arm64').
#if (defined(__x86_64__) || defined(_M_X64)) && !defined(_M_ARM64EC)
#define TORCHRNN_X86_KERNELS 1
#elif defined(__aarch64__) || defined(_M_ARM64)
#define TORCHRNN_NEON_KERNELS 1
#endif

// The table of each instruction-set family; dispatch.cpp picks one at load. The AVX tables live in units
// compiled with those instructions: call them only when the CPU has them.
const KernelTable<float>& portableKernelsF32();
const KernelTable<double>& portableKernelsF64();
#ifdef TORCHRNN_X86_KERNELS
const KernelTable<float>& avx2KernelsF32();
const KernelTable<double>& avx2KernelsF64();
const KernelTable<float>& avx512KernelsF32();
const KernelTable<double>& avx512KernelsF64();
// Recurrent steps (indexed by CellKind) that read W_hh panels stored in `format` in registers, with the
// panel geometry of the family's float table; null where the family has none (Float32; float16 on AVX2
// without F16C).
const RecurrentStepFn<float>* avx2ReducedRecurrentSteps(WeightFormat format);
// AVX2 with F16C (a unit of its own, compiled with -mf16c): float16 only; call only when the CPU has F16C.
const RecurrentStepFn<float>* avx2F16cReducedRecurrentSteps(WeightFormat format);
const RecurrentStepFn<float>* avx512ReducedRecurrentSteps(WeightFormat format);
// The AVX-512 GEMM that reads panels stored in `format` in registers, with the float table's panel width.
GemmFn<float> avx512ReducedGemm(WeightFormat format);
// AVX-512 VNNI (a unit of its own, compiled with -mavx512vnni): the qint8 GEMM and recurrent steps on int8
// panels in the dot-product layout, activations quantized per call; call only when the CPU has VNNI.
GemmFn<float> avx512VnniInt8Gemm();
const RecurrentStepFn<float>* avx512VnniInt8RecurrentSteps();
// AVX-512 BF16 (a unit of its own, -mavx512bf16): the bfloat16 GEMM and recurrent steps on bfloat16 panels
// in the dot-product layout, activations rounded to bfloat16 per call; call only when the CPU has it.
GemmFn<float> avx512Bf16Gemm();
const RecurrentStepFn<float>* avx512Bf16RecurrentSteps();
#endif
#ifdef TORCHRNN_NEON_KERNELS
const KernelTable<float>& neonKernelsF32();
const KernelTable<double>& neonKernelsF64();
#endif

// Kernel families. Each architecture ranks its own: Scalar < Avx2 < Avx512 on x86-64, Scalar < Neon on
// arm64.
enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };

// The family in use: the best the CPU and OS support, or a lower one named by the environment variable
// TORCHRNN_ISA (avx512 | avx2 | neon | scalar). Naming one the CPU lacks (or another architecture's)
// gives the best available instead, so one test matrix runs anywhere. Decided on first call; throws
// std::invalid_argument on any other value.
Isa chosenIsa();

// The best table this CPU runs (chosen once, then cached).
template <class T>
const KernelTable<T>& selectKernels();

// Name of the chosen family, as backend() reports it.
const char* backendName();

// The table that reads float modules' weights stored in `format`: the chosen family's own float table for
// Float32; for the reduced formats, one of the same panel geometry whose GEMM and recurrent step read
// bReduced / whhReduced (reduced_kernels.cpp). Its name is what quantizedBackends() reports.
const KernelTable<float>& reducedKernels(WeightFormat format);

}  // namespace kernels
}  // namespace torchrnn
