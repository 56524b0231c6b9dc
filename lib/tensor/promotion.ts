/**
 * PyTorch's type promotion: the dtype of `a + b` from the operands' dtypes and kinds (tensors with
 * dimensions, 0-d tensors, plain numbers), as `torch.result_type`.
 *
 * @packageDocumentation
 */
import { isFloatDType, type DType } from './dtype';
import { Tensor } from './tensor';

/** An operand: a tensor, or a number / bigint / boolean standing for a Python scalar. */
export type Operand = Tensor<DType> | number | bigint | boolean;

const INT_RANK: Readonly<Record<string, number>> = { int8: 1, int16: 2, int32: 3, int64: 4 };
const SIGNED_BY_RANK: readonly DType[] = ['bool', 'int8', 'int16', 'int32', 'int64'];

/** PyTorch's `promote_types(a, b)`: the smallest dtype both fit in, by category (bool < integer < float). */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  if (isFloatDType(a) || isFloatDType(b)) {
    if (isFloatDType(a) && isFloatDType(b)) return 'float64';
    return isFloatDType(a) ? a : b;
  }
  if (a === 'bool') return b;
  if (b === 'bool') return a;
  if (a === 'uint8' || b === 'uint8') {
    // uint8 with a signed type needs one more bit than either: int8 → int16, wider stay.
    const other = a === 'uint8' ? b : a;
    return INT_RANK[other] <= 1 ? 'int16' : other;
  }
  return SIGNED_BY_RANK[Math.max(INT_RANK[a], INT_RANK[b])];
}

/** The dtype a plain JS value stands for: an integral number as a Python int (int64), any other number as a float. */
export function scalarDType(value: number | bigint | boolean): DType {
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'bigint') return 'int64';
  return Number.isInteger(value) ? 'int64' : 'float32';
}

/** PyTorch's `combine_categories`: the lower-priority kind wins only by being of a higher category. */
function combine(higher: DType | undefined, lower: DType | undefined): DType | undefined {
  if (higher === undefined) return lower;
  if (lower === undefined) return higher;
  if (isFloatDType(higher)) return higher;
  if (higher === 'bool' || isFloatDType(lower)) return promoteTypes(higher, lower);
  return higher;
}

/**
 * PyTorch's `torch.result_type` over `operands`: tensors with dimensions decide within their category;
 * 0-d tensors and then plain values count only when of a higher category (int tensor + 0.5 → float32;
 * float32 tensor + float64 0-d tensor → float32).
 */
export function resultTypeOf(operands: readonly Operand[]): DType {
  let dims: DType | undefined;
  let zeroDim: DType | undefined;
  let wrapped: DType | undefined;
  for (const operand of operands) {
    if (operand instanceof Tensor) {
      if (operand.dim() > 0) dims = dims === undefined ? operand.dtype : promoteTypes(dims, operand.dtype);
      else zeroDim = zeroDim === undefined ? operand.dtype : promoteTypes(zeroDim, operand.dtype);
    } else {
      const d = scalarDType(operand);
      wrapped = wrapped === undefined ? d : promoteTypes(wrapped, d);
    }
  }
  return combine(dims, combine(zeroDim, wrapped)) as DType;
}
