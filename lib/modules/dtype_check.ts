/**
 * PyTorch's message when an input's element type is not its layer's: `expected scalar type Double but
 * found Float`, with PyTorch's scalar-type names.
 *
 * @packageDocumentation
 */
import { TORCH_TYPE_NAMES, type Tensor } from '../tensor';

/** PyTorch's name of a dtype's scalar type (`float64` → `Double`). */
export function scalarTypeName(dtype: string): string {
  return (TORCH_TYPE_NAMES as Readonly<Record<string, string>>)[dtype] ?? dtype;
}

/** Throws PyTorch's TypeError unless `input` has the layer's `dtype`. */
export function checkInputDType(input: Tensor, dtype: string): void {
  if (input.dtype !== dtype) {
    throw new TypeError(`expected scalar type ${scalarTypeName(input.dtype)} but found ${scalarTypeName(dtype)}`);
  }
}
