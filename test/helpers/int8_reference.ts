/**
 * The qint8 arithmetic of the dot-product kernels (docs/PRECISION.md, "qint8 activations"), written out in
 * float32 steps (Math.fround after every operation) so that tests can hold the engine to it: each row of
 * activations quantized to uint8 with its own scale and zero point, integer dot products with the int8
 * weights, then `(dot - zeroPoint * columnSum) * (rowScale * weightScale) + bias`.
 *
 * `broken` names one deliberate error, so that a test can show its comparison would catch it.
 */
const f = Math.fround;

/** A deliberate error in the scheme, for showing that a comparison catches it. */
export type Int8Break = 'none' | 'zeroPointOffByOne' | 'valueHalfAway' | 'scaleOver256' | 'noZeroPoint';

/** Round half to even, as the kernels' default rounding mode. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // halves go up here
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Round half away from zero (a broken variant). */
function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** One row of activations as the kernels quantize it. */
export interface QuantizedRow {
  q: Int32Array;
  scale: number;
  zeroPoint: number;
}

/** Quantizes one row: range widened to include 0, scale (max - min) / 255, zero point round(-min / scale). */
export function quantizeRow(x: ArrayLike<number>, broken: Int8Break = 'none'): QuantizedRow {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < x.length; i++) {
    lo = Math.min(lo, x[i]);
    hi = Math.max(hi, x[i]);
  }
  let scale = f(f(hi - lo) / (broken === 'scaleOver256' ? 256 : 255));
  if (scale === 0 || !Number.isFinite(f(1 / scale))) scale = f(0.1);
  const inverse = f(1 / scale);
  const clamp = (v: number): number => Math.min(255, Math.max(0, v));
  const zeroPoint = broken === 'noZeroPoint' ? 0 : clamp(roundHalfEven(f(-lo * inverse)));
  const round = broken === 'valueHalfAway' ? roundHalfAway : roundHalfEven;
  const q = Int32Array.from(x, (v) => clamp(round(f(v * inverse)) + zeroPoint));
  // A zero point that the correction gets wrong (how it is rounded cancels out: q moves with it).
  return { q, scale, zeroPoint: broken === 'zeroPointOffByOne' ? zeroPoint + 1 : zeroPoint };
}

/**
 * `rows` rows of `x` (row-major, `k` per row) times int8 weights `values` ([n, k] row-major, scale per
 * row) plus `bias` (n values or null), as the kernels compute it.
 */
export function int8Linear(
  x: ArrayLike<number>,
  rows: number,
  k: number,
  values: Int8Array,
  scales: Float32Array,
  bias: ArrayLike<number> | null,
  broken: Int8Break = 'none',
): Float32Array {
  const n = scales.length;
  const out = new Float32Array(rows * n);
  const sums = new Int32Array(n);
  for (let j = 0; j < n; j++) for (let i = 0; i < k; i++) sums[j] += values[j * k + i];
  for (let r = 0; r < rows; r++) {
    const row = quantizeRow(Array.prototype.slice.call(x, r * k, (r + 1) * k) as number[], broken);
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = 0; i < k; i++) dot += row.q[i] * values[j * k + i];
      const centred = dot - row.zeroPoint * sums[j];
      const value = f(f(centred) * f(row.scale * scales[j]));
      out[r * n + j] = bias ? f(value + bias[j]) : value;
    }
  }
  return out;
}
