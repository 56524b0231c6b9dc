/**
 * Which kernels run the reduced-precision weights, beside {@link backend} for float32.
 *
 * @packageDocumentation
 */
import { native } from '../native';
import type { QuantizedDType } from './dtype';

/**
 * The kernel table each reduced precision runs on, chosen when the addon loaded from the same family as
 * `backend()` (and lowered with it by `TORCHRNN_ISA`): `'avx512-vnni'` (qint8) and `'avx512-bf16'`
 * (bfloat16) where the CPU has AVX-512 VNNI / BF16 dot products, which also round activations to 8 bits /
 * bfloat16 per call (docs/PRECISION.md; `TORCHRNN_ISA=avx512` keeps the family's plain kernels);
 * `'<family>-direct'` where the family's recurrent steps read the reduced weights in registers (AVX-512,
 * whose GEMM does too; AVX2, float16 there when the CPU has F16C, whose GEMM decodes each panel per call), else
 * `'<family>-decode'` (each panel decoded to float32 for the family's float kernels).
 *
 * @example
 * ```ts
 * quantizedBackends(); // { bfloat16: 'avx512-bf16', float16: 'avx512-direct', qint8: 'avx512-vnni' }
 * ```
 */
export function quantizedBackends(): Record<QuantizedDType, string> {
  return native.quantizedBackends();
}
