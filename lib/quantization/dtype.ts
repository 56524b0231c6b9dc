/**
 * The reduced precisions {@link quantizeDynamic} converts weights to, by PyTorch's dtype names.
 *
 * @packageDocumentation
 */
import { describe } from '../is';

/**
 * `'qint8'`: int8 weights with one symmetric scale per output row (PyTorch's per-channel weight
 * observer); `'float16'` and `'bfloat16'`: weights rounded to nearest even at half width. Activations,
 * states and accumulation stay float32 in every case.
 */
export type QuantizedDType = 'qint8' | 'float16' | 'bfloat16';

/** Every {@link QuantizedDType}, in the order messages list them. */
export const QUANTIZED_DTYPES: readonly QuantizedDType[] = ['qint8', 'float16', 'bfloat16'];

/** Throws a TypeError naming the choices unless `dtype` is a {@link QuantizedDType}. */
export function checkQuantizedDType(owner: string, dtype: unknown): asserts dtype is QuantizedDType {
  if (!(QUANTIZED_DTYPES as readonly unknown[]).includes(dtype)) {
    throw new TypeError(`${owner}: dtype must be 'qint8', 'float16' or 'bfloat16', got: ${describe(dtype)}`);
  }
}

/** Options of the `fromFloat` converters. */
export interface FromFloatOptions {
  /** The stored precision of the weight matrices. Default `'qint8'`. */
  dtype?: QuantizedDType;
}
