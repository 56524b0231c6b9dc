/**
 * PyTorch's message when an input's element type is not its layer's: `expected scalar type Double but
 * found Float`, with PyTorch's scalar-type names.
 *
 * @packageDocumentation
 */
import type { Tensor } from '../tensor';

const SCALAR_TYPE_NAMES: Record<string, string> = {
  float32: 'Float',
  float64: 'Double',
  int64: 'Long',
  int32: 'Int',
  int16: 'Short',
  int8: 'Char',
  uint8: 'Byte',
  bool: 'Bool',
};

/** PyTorch's name of a dtype's scalar type (`float64` → `Double`). */
export function scalarTypeName(dtype: string): string {
  return SCALAR_TYPE_NAMES[dtype] ?? dtype;
}

/** Throws PyTorch's TypeError unless `input` has the layer's `dtype`. */
export function checkInputDType(input: Tensor, dtype: string): void {
  if (input.dtype !== dtype) {
    throw new TypeError(`expected scalar type ${scalarTypeName(input.dtype)} but found ${scalarTypeName(dtype)}`);
  }
}
