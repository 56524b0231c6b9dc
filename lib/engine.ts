/**
 * The engine's process-wide settings: which kernel family runs, and how many threads a forward may use.
 *
 * @packageDocumentation
 */
import { describe, isInteger } from './is';
import { native } from './native';

/** The most threads setNumThreads accepts: far more than any machine's cores, but a bound on a typo. */
const MAX_THREADS = 1024;

/**
 * The kernel family chosen when the addon loaded: `'avx512'`, `'avx2'`, `'neon'` (arm64) or `'scalar'` — the
 * best this CPU and OS run, or a lower one named by the environment variable `TORCHRNN_ISA` (naming one the
 * CPU lacks gives the best available).
 *
 * @example
 * ```ts
 * console.log(backend()); // 'avx512'
 * ```
 */
export function backend(): string {
  return native.backend();
}

/**
 * Sets how many threads every later forward may use (the caller's thread plus `n - 1` workers, shared by
 * the whole process). `1` runs everything on the calling thread. Like `torch.set_num_threads`.
 *
 * @param n - a positive integer, at most 1024
 * @example
 * ```ts
 * setNumThreads(1);
 * ```
 */
export function setNumThreads(n: number): void {
  if (!isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new RangeError(`setNumThreads expects an integer from 1 to ${MAX_THREADS}, got: ${describe(n)}`);
  }
  native.setNumThreads(n);
}

/**
 * How many threads a forward may use: the last `setNumThreads`, or by default the number of physical
 * cores. Like `torch.get_num_threads`.
 *
 * @example
 * ```ts
 * getNumThreads(); // 2 on a two-core machine
 * ```
 */
export function getNumThreads(): number {
  return native.getNumThreads();
}
