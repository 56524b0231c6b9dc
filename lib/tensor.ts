/**
 * The carrier of data in and out of the recurrent modules: a contiguous typed array and a shape.
 *
 * @packageDocumentation
 */
import { describe, isNonNegativeInteger } from './is';

/** Element type of a Tensor, in PyTorch's names without the `torch.` prefix. */
export type DType = 'float32' | 'float64';

/** The typed array behind a Tensor of either dtype. */
export type TensorData = Float32Array | Float64Array;

/** A (possibly) nested array of numbers, as given to {@link tensor}. */
export type NestedArray = number | ArrayLike<number> | readonly NestedArray[];

/** True for a dtype this library supports. */
export function isDType(value: unknown): value is DType {
  return value === 'float32' || value === 'float64';
}

/**
 * The dtype of a Float32Array or Float64Array, else undefined. Not `instanceof`: arrays made in another
 * realm (the native addon's, a vm context's) have other constructors.
 */
function typedArrayDType(value: unknown): DType | undefined {
  if (!ArrayBuffer.isView(value)) return undefined;
  const tag = (value as unknown as { [Symbol.toStringTag]: unknown })[Symbol.toStringTag];
  return tag === 'Float32Array' ? 'float32' : tag === 'Float64Array' ? 'float64' : undefined;
}

function allocate(dtype: DType, length: number): TensorData {
  return dtype === 'float64' ? new Float64Array(length) : new Float32Array(length);
}

function checkDType(dtype: unknown): asserts dtype is DType {
  if (!isDType(dtype)) throw new TypeError(`dtype should be 'float32' or 'float64', got: ${describe(dtype)}`);
}

function product(shape: readonly number[]): number {
  return shape.reduce((n, size) => n * size, 1);
}

function formatShape(shape: readonly unknown[]): string {
  return `[${shape.join(', ')}]`;
}

function checkShape(shape: unknown): asserts shape is number[] {
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    const shown = Array.isArray(shape) ? formatShape(shape.map((s) => (typeof s === 'string' ? `'${s}'` : String(s)))) : describe(shape);
    throw new TypeError(`Tensor shape must be an array of non-negative integers, got ${shown}`);
  }
}

/**
 * A dense, row-major (C-contiguous) array of float32 or float64 values with a shape.
 *
 * It carries data; it does no arithmetic. `data` is shared, not copied: editing it edits the tensor.
 *
 * @example
 * ```ts
 * const x = new Tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]);
 * x.size(-1);   // 4
 * x.dtype;      // 'float32'
 * ```
 */
export class Tensor {
  /** The elements, row-major. */
  readonly data: TensorData;
  /** Size of each dimension, outermost first. */
  readonly shape: readonly number[];

  /** Wraps `data` (not copied) with `shape`; the product of `shape` must equal `data.length`. */
  constructor(data: TensorData, shape: readonly number[]) {
    if (typedArrayDType(data) === undefined) {
      throw new TypeError(`Tensor data must be a Float32Array or Float64Array, got: ${describe(data)}`);
    }
    checkShape(shape);
    const needed = product(shape);
    if (data.length !== needed) {
      throw new Error(`Tensor data has ${data.length} elements but shape ${formatShape(shape)} needs ${needed}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  /** A tensor of `shape` filled with zeros. */
  static zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    checkShape(shape);
    checkDType(dtype);
    return new Tensor(allocate(dtype, product(shape)), shape);
  }

  /** A tensor of `shape` filled with ones. */
  static ones(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    t.data.fill(1);
    return t;
  }

  /** `'float32'` or `'float64'`, from the typed array. */
  get dtype(): DType {
    return typedArrayDType(this.data) as DType;
  }

  /** Number of dimensions. */
  dim(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  numel(): number {
    return this.data.length;
  }

  /** The whole shape, or the size of one dimension; negative `dim` counts from the end, as in PyTorch. */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number | number[] {
    if (dim === undefined) return [...this.shape];
    const rank = this.shape.length;
    if (rank === 0) throw new RangeError(`Dimension specified as ${dim} but tensor has no dimensions`);
    if (!Number.isInteger(dim) || dim < -rank || dim >= rank) {
      throw new RangeError(
        `Dimension out of range (expected to be in range of [${-rank}, ${rank - 1}], but got ${dim})`,
      );
    }
    return this.shape[dim < 0 ? dim + rank : dim];
  }

  /** This tensor when it already has `dtype`, otherwise a converted copy. */
  to(dtype: DType): Tensor {
    checkDType(dtype);
    if (dtype === this.dtype) return this;
    const data = allocate(dtype, this.data.length);
    data.set(this.data);
    return new Tensor(data, this.shape);
  }

  /** The elements as nested JS arrays (PyTorch's `tolist()`); a 0-d tensor gives a number. */
  toArray(): NestedArray {
    const build = (offset: number, depth: number): NestedArray => {
      if (depth === this.shape.length) return this.data[offset];
      const stride = product(this.shape.slice(depth + 1));
      return Array.from({ length: this.shape[depth] }, (_, i) => build(offset + i * stride, depth + 1));
    };
    return build(0, 0);
  }
}

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

/**
 * A new tensor from nested arrays of numbers, its shape inferred as `torch.tensor` does.
 * Ragged input is an error in PyTorch's words (`expected sequence of length 3 at dim 1 (got 2)`).
 *
 * @example
 * ```ts
 * tensor([[1, 2, 3], [4, 5, 6]]).shape;   // [2, 3]
 * ```
 */
export function tensor(nested: NestedArray, dtype: DType = 'float32'): Tensor {
  checkDType(dtype);
  const shape = inferShape(nested);
  const data = allocate(dtype, product(shape));
  let next = 0;
  const fill = (value: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (typeof value !== 'number') {
        throw new TypeError(
          isSequence(value)
            ? `expected a number at dim ${depth} (got a sequence of length ${value.length})`
            : `tensor(): invalid data type: expected a number, got: ${describe(value)}`,
        );
      }
      data[next++] = value;
      return;
    }
    if (!isSequence(value)) throw new Error(`expected sequence of length ${shape[depth]} at dim ${depth} (got ${describe(value)})`);
    if (value.length !== shape[depth]) {
      throw new Error(`expected sequence of length ${shape[depth]} at dim ${depth} (got ${value.length})`);
    }
    for (let i = 0; i < value.length; i++) fill(value[i], depth + 1);
  };
  fill(nested, 0);
  return new Tensor(data, shape);
}
