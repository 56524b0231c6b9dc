/** Comparison of computed tensors against PyTorch's, within the project's parity tolerances. */
import { Tensor } from '../../lib';

/** float32: 1e-5 absolute + 1e-4 relative; float64: 1e-10 absolute + 1e-10 relative. */
export function tolerance(dtype: 'float32' | 'float64'): { atol: number; rtol: number } {
  return dtype === 'float64' ? { atol: 1e-10, rtol: 1e-10 } : { atol: 1e-5, rtol: 1e-4 };
}

/**
 * Describes the first element where `actual` and `expected` differ by more than the tolerance (NaN
 * matches only NaN, an infinity only the same infinity), or returns null when they agree.
 */
export function mismatch(actual: Tensor, expected: Tensor, what: string): string | null {
  if (actual.shape.join(',') !== expected.shape.join(',')) {
    return `${what}: shape [${actual.shape}] but PyTorch gave [${expected.shape}]`;
  }
  if (actual.dtype !== expected.dtype) return `${what}: dtype ${actual.dtype} but PyTorch gave ${expected.dtype}`;
  const { atol, rtol } = tolerance(expected.dtype);
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i];
    const e = expected.data[i];
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (Number.isNaN(e) && Number.isNaN(a)) continue;
    } else if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (a === e) continue;
    } else if (Math.abs(a - e) <= atol + rtol * Math.abs(e)) {
      continue;
    }
    return `${what}: element ${i} is ${a} but PyTorch gave ${e}`;
  }
  return null;
}

/** Collects mismatches so that one failing case reports every tensor that is off. */
export function mismatches(pairs: [Tensor, Tensor, string][]): string[] {
  return pairs.map(([a, e, what]) => mismatch(a, e, what)).filter((m): m is string => m !== null);
}
