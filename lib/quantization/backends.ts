/**
 * Which kernels run the reduced-precision weights, beside {@link backend} for float32.
 *
 * @packageDocumentation
 */
import { native } from '../native';
import type { QuantizedDType } from './dtype';

/**
 * The kernel table each reduced precision runs on, chosen when the addon loaded from the same family as
 * `backend()` (and lowered with it by `TORCHRNN_ISA`). Today every family reads reduced weights by decoding
 * each panel to float32 for its own float kernels: `'avx512-decode'`, `'avx2-decode'`, `'neon-decode'`,
 * `'scalar-decode'`.
 *
 * @example
 * ```ts
 * quantizedBackends(); // { bfloat16: 'avx512-decode', float16: 'avx512-decode', qint8: 'avx512-decode' }
 * ```
 */
export function quantizedBackends(): Record<QuantizedDType, string> {
  return native.quantizedBackends();
}
