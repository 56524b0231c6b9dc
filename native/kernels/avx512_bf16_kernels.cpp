// bfloat16 on AVX-512 BF16: bfloat16 weights in the dot-product layout (2 consecutive k of a column in one
// 32-bit lane) against activations rounded to bfloat16 per call (round to nearest even, as
// tensor.to(torch.bfloat16)); vdpbf16ps adds both products of each lane's pair to float32 accumulators, 32
// multiply-adds per instruction where the float32 kernels do 16. Compiled with -mavx512bf16, in its own
// library: call only when the CPU has AVX-512 BF16.
#include <cstdint>

#include "avx512_dot_kernels.h"

namespace torchrnn {
namespace kernels {
namespace {

struct BFloat16Dot {
  using Elem = std::uint16_t;
  using Acc = __m512;
  struct Row {};  // nothing: bfloat16 values need no scale
  static constexpr std::size_t kGroup = 2;
  static constexpr bool kExactSums = false;

  // n floats to bfloat16 bits, rounding to nearest even (vcvtne2ps2bf16; NaN stays NaN), and a zero past n
  // when n is odd (its weights are zeros).
  static Row convertRow(const float* x, std::size_t n, std::uint16_t* out) {
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
      const __m512bh pair = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(x + i));
      _mm512_storeu_si512(out + i, (__m512i)pair);
    }
    for (; i < n; i += 16) {
      const std::size_t lanes = n - i < 16 ? n - i : 16;
      const __mmask16 m = static_cast<__mmask16>((1u << lanes) - 1u);
      const __m256bh half = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, x + i));
      _mm256_mask_storeu_epi16(out + i, m, (__m256i)half);
    }
    if (n % 2) out[n] = 0;
    return Row{};
  }

  static Acc zero() { return _mm512_setzero_ps(); }
  static Acc add(Acc x, Acc y) { return _mm512_add_ps(x, y); }

  // acc + both products of each lane's pair of a and w. Spelled as the instruction for GCC (see
  // avx512_vnni_kernels.cpp).
  static Acc dot(Acc acc, __m512i a, __m512i w) {
#if defined(__GNUC__) && !defined(__clang__)
    __asm__("vdpbf16ps %2, %1, %0" : "+v"(acc) : "v"(a), "v"(w));
    return acc;
#else
    return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)w);
#endif
  }

  static __m512 finish(Acc acc, const Row&, const std::int32_t*, const float*) { return acc; }
};

}  // namespace

GemmFn<float> avx512Bf16Gemm() { return &DotKernels<BFloat16Dot>::gemm; }

const RecurrentStepFn<float>* avx512Bf16RecurrentSteps() { return DotKernels<BFloat16Dot>::kSteps; }

}  // namespace kernels
}  // namespace torchrnn
