/**
 * The two 16-bit float formats PyTorch stores, widened to float32 bit for bit as `tensor.float()` does.
 *
 * @packageDocumentation
 */

/**
 * The float32 bit pattern of an IEEE 754 half (float16) bit pattern. Exact: every half is a float32.
 * Built on bits rather than arithmetic so that signed zeros and NaN payloads come through unchanged.
 */
export function halfBitsToFloatBits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >> 10) & 0x1f;
  let mantissa = half & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0; // infinity, NaN
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0; // 112 = 127 - 15
  if (mantissa === 0) return sign >>> 0; // signed zero
  // A subnormal half is a normal float32: shift the leading 1 up to the implicit bit.
  let shift = 0;
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1;
    shift++;
  }
  return (sign | ((113 - shift) << 23) | ((mantissa & 0x3ff) << 13)) >>> 0;
}

/** The float32 bit pattern of a bfloat16 bit pattern: bfloat16 is the upper half of a float32. */
export function bfloat16BitsToFloatBits(bfloat16: number): number {
  return (bfloat16 << 16) >>> 0;
}
