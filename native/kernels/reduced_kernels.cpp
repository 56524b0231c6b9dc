// The reduced-precision tables every kernel family gets: each GEMM panel, or each W_hh panel a step
// needs, is decoded to float32 into a per-thread buffer and handed to the chosen family's own float
// kernel, so bfloat16, float16 and int8 weights run (and accumulate in float32) wherever float32 does,
// with the same panel geometry and the same fused epilogues. A family with recurrent steps that read the
// reduced panels in registers (simd_reduced_recurrent.h, instantiated by avx512_reduced_kernels.cpp and
// avx2_reduced_kernels.cpp) puts them in place of the decoding ones; the packing stays as it is.
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "cpu_features.h"
#include "kernels.h"
#include "reduced_precision.h"

namespace torchrnn {
namespace kernels {

namespace {

// A thread's decode buffer: grown to the largest request, never shrunk, left uninitialised (every use
// writes what it reads). One per purpose, so that a step's decoded panels survive the projection GEMM an
// LSTM with projection runs between steps.
class DecodeBuffer {
 public:
  float* reserve(std::size_t floats) {
    if (floats > capacity_) {
      data_.reset(new float[floats]);
      capacity_ = floats;
    }
    return data_.get();
  }

 private:
  std::unique_ptr<float[]> data_;
  std::size_t capacity_ = 0;
};

thread_local DecodeBuffer gemmBuffer;
thread_local DecodeBuffer recurrentBuffer;

const unsigned char* bytesAt(const void* base, std::size_t weights, WeightFormat format) {
  return static_cast<const unsigned char*>(base) + weights * bytesPerWeight(format);
}

// One panel of B at a time: decoded once per call, then swept by every row of A in the float kernel.
template <WeightFormat Format>
void decodingGemm(const GemmArgs<float>& g) {
  const KernelTable<float>& base = selectKernels<float>();
  const std::size_t P = base.gemmPanelCols;
  float* panel = gemmBuffer.reserve(std::max<std::size_t>(g.k * P, 1));
  for (std::size_t j0 = 0; j0 < g.n; j0 += P) {
    decodePanel(Format, bytesAt(g.bReduced, j0 * g.k, Format), g.bScales ? g.bScales + j0 : nullptr, g.k, P, panel);
    GemmArgs<float> one = g;
    one.n = std::min(P, g.n - j0);
    one.bPacked = panel;
    one.bReduced = nullptr;
    one.bScales = nullptr;
    one.bias = g.bias ? g.bias + j0 : nullptr;
    one.c = g.c + j0;
    base.packedGemm(one);
  }
}

// The panels of units [unitBegin, unitEnd) decoded at the offsets the float kernel computes them at
// (pages of the buffer before them are never touched), then the float step over the same units.
template <WeightFormat Format, CellKind Kind>
void decodeAndStep(const RecurrentStepArgs<float>& s, std::size_t unitBegin, std::size_t unitEnd) {
  const KernelTable<float>& base = selectKernels<float>();
  const std::size_t U = base.recurrentPanelUnits;
  const std::size_t cols = gatesPerUnit(Kind) * U;
  const std::size_t panelWeights = cols * s.stateSize;
  const std::size_t firstPanel = unitBegin / U, endPanel = (unitEnd + U - 1) / U;
  float* panels = recurrentBuffer.reserve(std::max<std::size_t>(endPanel * panelWeights, 1));
  for (std::size_t p = firstPanel; p < endPanel; ++p)
    decodePanel(Format, bytesAt(s.whhReduced, p * panelWeights, Format), s.whhScales ? s.whhScales + p * cols : nullptr,
                s.stateSize, cols, panels + p * panelWeights);
  RecurrentStepArgs<float> a = s;
  a.whhPacked = panels;
  a.whhReduced = nullptr;
  a.whhScales = nullptr;
  base.recurrentStep[static_cast<std::size_t>(Kind)](a, unitBegin, unitEnd);
}

// The step in chunks of four panels, last to first when the step asks for it (the engine hands a reduced
// step all its units in one call), as the float kernels are walked: alternate steps start on the panels
// the step before read last.
template <WeightFormat Format, CellKind Kind>
void decodingRecurrentStep(const RecurrentStepArgs<float>& s, std::size_t unitBegin, std::size_t unitEnd) {
  unitEnd = std::min(unitEnd, s.hiddenSize);
  if (unitBegin >= unitEnd) return;
  const std::size_t chunkUnits = 4 * selectKernels<float>().recurrentPanelUnits;
  const std::size_t chunks = (unitEnd - unitBegin + chunkUnits - 1) / chunkUnits;
  for (std::size_t i = 0; i < chunks; ++i) {
    const std::size_t begin = unitBegin + (s.lastUnitsFirst ? chunks - 1 - i : i) * chunkUnits;
    decodeAndStep<Format, Kind>(s, begin, std::min(unitEnd, begin + chunkUnits));
  }
}

// Whether the AVX-512 float table packs the panel widths the reduced AVX-512 kernels are written for: 32
// GEMM columns (simd_reduced_gemm.h, avx512_dot_kernels.h) and 16 units per W_hh panel. Should the float
// geometry change, those kernels stand aside rather than read panels of another shape.
#ifdef TORCHRNN_X86_KERNELS
bool avx512PanelsAsBuilt() {
  const KernelTable<float>& base = selectKernels<float>();
  return base.gemmPanelCols == 32 && base.recurrentPanelUnits == 16;
}
#endif

// Whether the AVX-512 dot-product kernels may run: the AVX-512 family is in use and TORCHRNN_ISA does not
// name avx512 itself (which forces the family's plain kernels, so that those stay tested where the
// dot-product instructions exist).
bool dotKernelsAllowed() {
#ifdef TORCHRNN_X86_KERNELS
  static const bool allowed = [] {
    const char* forced = std::getenv("TORCHRNN_ISA");
    return chosenIsa() == Isa::Avx512 && avx512PanelsAsBuilt() && !(forced != nullptr && std::strcmp(forced, "avx512") == 0);
  }();
  return allowed;
#else
  return false;
#endif
}

// qint8 on VNNI, bfloat16 on AVX-512 BF16, where the CPU has them (asked once: cpuid may trap in a VM).
bool int8OnVnni() {
  static const bool on = dotKernelsAllowed() && detectCpuFeatures().avx512Vnni;
  return on;
}

bool bfloat16OnDot() {
  static const bool on = dotKernelsAllowed() && detectCpuFeatures().avx512Bf16;
  return on;
}

// The recurrent step reads the reduced panels directly where the family has such a kernel (AVX-512; AVX2,
// float16 when the CPU has F16C), else decodes them; the GEMM reads them directly on AVX-512, else decodes
// them (once per panel and call, then swept by every row of A). The dot-product kernels replace both.
template <WeightFormat Format>
KernelTable<float> makeReducedTable() {
  const KernelTable<float>& base = selectKernels<float>();
  const RecurrentStepFn<float>* direct = nullptr;
#ifdef TORCHRNN_X86_KERNELS
  if (chosenIsa() == Isa::Avx512) direct = avx512ReducedRecurrentSteps(Format);
  if (chosenIsa() == Isa::Avx2) {
    direct = avx2ReducedRecurrentSteps(Format);
    if (direct == nullptr && detectCpuFeatures().f16c) direct = avx2F16cReducedRecurrentSteps(Format);
  }
#endif
  static const std::string name = std::string(base.name) + (direct ? "-direct" : "-decode");
  KernelTable<float> table = base;  // same panel geometry and activations
  table.name = name.c_str();
  table.packedGemm = &decodingGemm<Format>;
  table.recurrentStep[static_cast<std::size_t>(CellKind::RnnTanh)] = &decodingRecurrentStep<Format, CellKind::RnnTanh>;
  table.recurrentStep[static_cast<std::size_t>(CellKind::RnnRelu)] = &decodingRecurrentStep<Format, CellKind::RnnRelu>;
  table.recurrentStep[static_cast<std::size_t>(CellKind::Lstm)] = &decodingRecurrentStep<Format, CellKind::Lstm>;
  table.recurrentStep[static_cast<std::size_t>(CellKind::Gru)] = &decodingRecurrentStep<Format, CellKind::Gru>;
  if (direct)
    for (std::size_t kind = 0; kind < kCellKindCount; ++kind) table.recurrentStep[kind] = direct[kind];
#ifdef TORCHRNN_X86_KERNELS
  // AVX-512's GEMM reads the reduced panels in registers too: decoding a panel per call costs as much as
  // its products when A has few rows (an LSTM projection, every step).
  if (chosenIsa() == Isa::Avx512 && avx512PanelsAsBuilt()) table.packedGemm = avx512ReducedGemm(Format);
  if (Format == WeightFormat::Int8 && int8OnVnni()) {
    // Activations quantized per call, int8 dot products: GEMM and steps both read the grouped panels.
    static const std::string vnni = std::string(base.name) + "-vnni";
    table.name = vnni.c_str();
    table.packedGemm = avx512VnniInt8Gemm();
    const RecurrentStepFn<float>* steps = avx512VnniInt8RecurrentSteps();
    for (std::size_t kind = 0; kind < kCellKindCount; ++kind) table.recurrentStep[kind] = steps[kind];
  }
  if (Format == WeightFormat::BFloat16 && bfloat16OnDot()) {
    // Activations rounded to bfloat16 per call, bfloat16 dot products into float32.
    static const std::string bf16 = std::string(base.name) + "-bf16";
    table.name = bf16.c_str();
    table.packedGemm = avx512Bf16Gemm();
    const RecurrentStepFn<float>* steps = avx512Bf16RecurrentSteps();
    for (std::size_t kind = 0; kind < kCellKindCount; ++kind) table.recurrentStep[kind] = steps[kind];
  }
#endif
  return table;
}

}  // namespace

std::size_t dotDepthGroup(WeightFormat format) {
  if (format == WeightFormat::Int8 && int8OnVnni()) return 4;
  if (format == WeightFormat::BFloat16 && bfloat16OnDot()) return 2;
  return 1;
}

const KernelTable<float>& reducedKernels(WeightFormat format) {
  switch (format) {
    case WeightFormat::BFloat16: {
      static const KernelTable<float> table = makeReducedTable<WeightFormat::BFloat16>();
      return table;
    }
    case WeightFormat::Float16: {
      static const KernelTable<float> table = makeReducedTable<WeightFormat::Float16>();
      return table;
    }
    case WeightFormat::Int8: {
      static const KernelTable<float> table = makeReducedTable<WeightFormat::Int8>();
      return table;
    }
    case WeightFormat::Float32: break;
  }
  return selectKernels<float>();
}

}  // namespace kernels
}  // namespace torchrnn
