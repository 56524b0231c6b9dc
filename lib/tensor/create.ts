/**
 * `tensor(nested, dtype?)`: a Tensor from nested JS arrays, as `torch.tensor` builds one from lists.
 *
 * @packageDocumentation
 */
import { describe } from '../is';
import { allocate, checkDType, type DType, type NumberData, type TensorDType } from './dtype';
import { convertScalar } from './scalar';
import { Tensor, type NestedArray, type NestedOf, type NestedValues } from './tensor';

function isSequence(value: unknown): value is ArrayLike<unknown> {
  return Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
}

function inferShape(nested: unknown): number[] {
  const shape: number[] = [];
  let level = nested;
  while (isSequence(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  return shape;
}

/** The leaves of `nested`, row-major, after checking that it is a regular array of `shape`. */
function leaves(nested: unknown, shape: readonly number[]): unknown[] {
  const out: unknown[] = [];
  const walk = (value: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (isSequence(value)) throw new TypeError(`expected a number at dim ${depth} (got a sequence of length ${value.length})`);
      out.push(value);
      return;
    }
    if (!isSequence(value)) throw new Error(`expected sequence of length ${shape[depth]} at dim ${depth} (got ${describe(value)})`);
    if (value.length !== shape[depth]) {
      throw new Error(`expected sequence of length ${shape[depth]} at dim ${depth} (got ${value.length})`);
    }
    for (let i = 0; i < value.length; i++) walk(value[i], depth + 1);
  };
  walk(nested, 0);
  return out;
}

/** The dtype `torch.tensor` would pick, in JS terms: all booleans → bool; any bigint → int64; else float32. */
function inferDType(values: readonly unknown[]): DType {
  if (values.length > 0 && values.every((v) => typeof v === 'boolean')) return 'bool';
  return values.some((v) => typeof v === 'bigint') ? 'int64' : 'float32';
}

/**
 * A new tensor from nested arrays, its shape inferred as `torch.tensor` does. Leaves are numbers, bigints
 * or booleans. `dtype` defaults to `'float32'` (JS numbers do not say whether they are integers), to
 * `'bool'` when every leaf is a boolean and to `'int64'` when a leaf is a bigint. Integer dtypes truncate
 * toward zero and refuse values they cannot hold, in PyTorch's words. Ragged input is an error in
 * PyTorch's words (`expected sequence of length 3 at dim 1 (got 2)`).
 *
 * @example
 * ```ts
 * tensor([[1, 2, 3], [4, 5, 6]]).shape;   // [2, 3]
 * tensor([3, 1, 2], 'int64').dtype;       // 'int64'
 * tensor([true, false]).dtype;            // 'bool'
 * ```
 */
export function tensor<D extends DType>(nested: NestedValues, dtype: D): Tensor<TensorDType<D>>;
export function tensor(nested: NestedArray): Tensor;
export function tensor(nested: NestedOf<boolean>): Tensor<'bool'>;
export function tensor(nested: NestedOf<bigint>): Tensor<'int64'>;
export function tensor(nested: NestedValues): Tensor<DType>;
export function tensor(nested: NestedValues, dtype?: DType): Tensor<DType> {
  if (dtype !== undefined) checkDType(dtype);
  const shape = inferShape(nested);
  const values = leaves(nested, shape);
  const type = dtype ?? inferDType(values);
  const data = allocate(type, values.length);
  if (type === 'int64') {
    const target = data as BigInt64Array;
    for (let i = 0; i < values.length; i++) target[i] = convertScalar(values[i], type) as bigint;
  } else {
    const target = data as NumberData;
    for (let i = 0; i < values.length; i++) target[i] = convertScalar(values[i], type) as number;
  }
  return new Tensor(data, shape, type);
}
