// NEON (arm64 Advanced SIMD) registers as the SIMD kernel templates see them (simd_*.h): the same
// interface as avx2_vector.h, over 4 floats or 2 doubles with 32 registers. Included only by the NEON
// unit; the anonymous namespace keeps every function, and every template instantiated on these types,
// private to that unit.
//
// Full loads and stores are memcpy, and fma is vector arithmetic under GCC: GCC (seen with 12) treats
// NEON intrinsics as opaque calls, and one of them in a tile's loop keeps the whole accumulator tile in
// memory, stored back on every k. GCC contracts `a * b + c` into one fmla (-ffp-contract=fast, its C++
// default).
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstring>

namespace torchrnn {
namespace kernels {
namespace {

struct NeonFloat {
  using Scalar = float;
  using Reg = float32x4_t;
  static constexpr std::size_t kLanes = 4;
  static constexpr std::size_t kRegisters = 32;

  static Reg zero() { return vdupq_n_f32(0.0f); }
  static Reg set1(Scalar x) { return vdupq_n_f32(x); }
  static Reg load(const Scalar* p) {
    Reg v;
    std::memcpy(&v, p, sizeof v);  // one unaligned ldr q
    return v;
  }
  // The first n lanes from p, zeros after; reads nothing past p[n - 1] (NEON has no masked load).
  static Reg loadFirst(const Scalar* p, std::size_t n) {
    const float32x2_t zeroPair = vdup_n_f32(0.0f);
    switch (n) {
      case 0: return zero();
      case 1: return vcombine_f32(vld1_lane_f32(p, zeroPair, 0), zeroPair);
      case 2: return vcombine_f32(vld1_f32(p), zeroPair);
      case 3: return vcombine_f32(vld1_f32(p), vld1_lane_f32(p + 2, zeroPair, 0));
      default: return load(p);
    }
  }
  static void store(Scalar* p, Reg v) { std::memcpy(p, &v, sizeof v); }
  // The x86 headers' store around the caches, here a plain one (the GEMM streams only 64-byte panels).
  static void stream(Scalar* p, Reg v) { store(p, v); }
  static void streamFence() {}
  // Writes p[0 .. n) only.
  static void storeFirst(Scalar* p, Reg v, std::size_t n) {
    switch (n) {
      case 0: return;
      case 1: return vst1q_lane_f32(p, v, 0);
      case 2: return vst1_f32(p, vget_low_f32(v));
      case 3: vst1_f32(p, vget_low_f32(v)); return vst1q_lane_f32(p + 2, v, 2);
      default: return store(p, v);
    }
  }
#if defined(__GNUC__) && !defined(__clang__)
  static Reg fma(Reg a, Reg b, Reg c) { return a * b + c; }  // one fmla, one rounding
#else
  static Reg fma(Reg a, Reg b, Reg c) { return vfmaq_f32(c, a, b); }
#endif
  static Reg add(Reg a, Reg b) { return vaddq_f32(a, b); }
  static Reg sub(Reg a, Reg b) { return vsubq_f32(a, b); }
  static Reg mul(Reg a, Reg b) { return vmulq_f32(a, b); }
  static Reg div(Reg a, Reg b) { return vdivq_f32(a, b); }
  // x86's minps/maxps: b when either is NaN or both are zeros (reluVector relies on NaN passing as b).
  static Reg min(Reg a, Reg b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
  static Reg max(Reg a, Reg b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
  static Reg abs(Reg a) { return vabsq_f32(a); }
  static Reg roundNearest(Reg a) { return vrndnq_f32(a); }  // ties to even, as _MM_FROUND_TO_NEAREST_INT
  static Reg scaleByPow2(Reg a, Reg n) {  // n integral and within the normal exponent range
    const int32x4_t bits = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
    return vmulq_f32(a, vreinterpretq_f32_s32(bits));
  }
  static Reg copySign(Reg magnitude, Reg sign) {
    return vbslq_f32(vreinterpretq_u32_f32(vdupq_n_f32(-0.0f)), sign, magnitude);
  }
  static Reg whereLess(Reg a, Reg b, Reg ifLess, Reg otherwise) {  // ordered: false for NaN
    return vbslq_f32(vcltq_f32(a, b), ifLess, otherwise);
  }
  static Reg whereNaN(Reg x, Reg otherwise) { return vbslq_f32(vceqq_f32(x, x), otherwise, x); }
};

struct NeonDouble {
  using Scalar = double;
  using Reg = float64x2_t;
  static constexpr std::size_t kLanes = 2;
  static constexpr std::size_t kRegisters = 32;

  static Reg zero() { return vdupq_n_f64(0.0); }
  static Reg set1(Scalar x) { return vdupq_n_f64(x); }
  static Reg load(const Scalar* p) {
    Reg v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  // The first n lanes from p, zeros after; reads nothing past p[n - 1].
  static Reg loadFirst(const Scalar* p, std::size_t n) {
    switch (n) {
      case 0: return zero();
      case 1: return vcombine_f64(vld1_f64(p), vdup_n_f64(0.0));
      default: return load(p);
    }
  }
  static void store(Scalar* p, Reg v) { std::memcpy(p, &v, sizeof v); }
  // The x86 headers' store around the caches, here a plain one (the GEMM streams only 64-byte panels).
  static void stream(Scalar* p, Reg v) { store(p, v); }
  static void streamFence() {}
  // Writes p[0 .. n) only.
  static void storeFirst(Scalar* p, Reg v, std::size_t n) {
    switch (n) {
      case 0: return;
      case 1: return vst1_f64(p, vget_low_f64(v));
      default: return store(p, v);
    }
  }
#if defined(__GNUC__) && !defined(__clang__)
  static Reg fma(Reg a, Reg b, Reg c) { return a * b + c; }  // one fmla, one rounding
#else
  static Reg fma(Reg a, Reg b, Reg c) { return vfmaq_f64(c, a, b); }
#endif
  static Reg add(Reg a, Reg b) { return vaddq_f64(a, b); }
  static Reg sub(Reg a, Reg b) { return vsubq_f64(a, b); }
  static Reg mul(Reg a, Reg b) { return vmulq_f64(a, b); }
  static Reg div(Reg a, Reg b) { return vdivq_f64(a, b); }
  // x86's minpd/maxpd: b when either is NaN or both are zeros (reluVector relies on NaN passing as b).
  static Reg min(Reg a, Reg b) { return vbslq_f64(vcltq_f64(a, b), a, b); }
  static Reg max(Reg a, Reg b) { return vbslq_f64(vcgtq_f64(a, b), a, b); }
  static Reg abs(Reg a) { return vabsq_f64(a); }
  static Reg roundNearest(Reg a) { return vrndnq_f64(a); }  // ties to even, as _MM_FROUND_TO_NEAREST_INT
  static Reg scaleByPow2(Reg a, Reg n) {  // n integral and within the normal exponent range
    const int64x2_t bits = vshlq_n_s64(vaddq_s64(vcvtq_s64_f64(n), vdupq_n_s64(1023)), 52);
    return vmulq_f64(a, vreinterpretq_f64_s64(bits));
  }
  static Reg copySign(Reg magnitude, Reg sign) {
    return vbslq_f64(vreinterpretq_u64_f64(vdupq_n_f64(-0.0)), sign, magnitude);
  }
  static Reg whereLess(Reg a, Reg b, Reg ifLess, Reg otherwise) {  // ordered: false for NaN
    return vbslq_f64(vcltq_f64(a, b), ifLess, otherwise);
  }
  static Reg whereNaN(Reg x, Reg otherwise) { return vbslq_f64(vceqq_f64(x, x), otherwise, x); }
};

}  // namespace
}  // namespace kernels
}  // namespace torchrnn
