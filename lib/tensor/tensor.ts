/**
 * The Tensor class: a contiguous typed array, a shape and a dtype. Its operations live one family per
 * file beside it (shape.ts, elementwise.ts, reduce.ts, activation.ts, matmul.ts); the methods here are
 * thin calls into those functions.
 *
 * @packageDocumentation
 */
import { describe, isNonNegativeInteger } from '../is';
import { allocate, arrayName, checkDType, convertData, naturalDType, type DType, type DTypeArrays, type FloatDType, type TensorDType } from './dtype';
import { fillValue, readNumber, type Scalar } from './scalar';

/** Nested arrays of numbers, as {@link Tensor.toArray} returns them; a 0-d tensor gives a bare number. */
export type NestedNumbers = number | NestedNumbers[];

/** A (possibly) nested array of numbers, as given to {@link tensor}; typed arrays count as arrays. */
export type NestedArray = number | ArrayLike<number> | readonly NestedArray[];

/** Nested arrays whose leaves are all of one type `T` (typed arrays count as arrays of their elements). */
export type NestedOf<T extends Scalar> = T | (T extends number ? ArrayLike<number> : T extends bigint ? BigInt64Array : never) | readonly NestedOf<T>[];

/** Everything {@link tensor} accepts: numbers, bigints and booleans, nested in arrays or typed arrays. */
export type NestedValues = Scalar | ArrayLike<number> | BigInt64Array | readonly NestedValues[];

function product(shape: readonly number[]): number {
  let n = 1;
  for (const size of shape) n *= size;
  return n;
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
 * A dense, row-major (C-contiguous) array with a shape and a dtype: float32, float64, int64 (a
 * BigInt64Array), int32, int16, int8, uint8 or bool (a Uint8Array of 0 and 1).
 *
 * `data` is shared, not copied: editing it edits the tensor, and shape operations that can (reshape,
 * view, squeeze, unsqueeze, flatten; select and narrow on dim 0) return tensors over the same array.
 *
 * @example
 * ```ts
 * const x = new Tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]);
 * x.size(-1);   // 4
 * x.dtype;      // 'float32'
 * const mask = new Tensor(Uint8Array.of(1, 0, 1), [3], 'bool');
 * ```
 */
export class Tensor<D extends DType = FloatDType> {
  /** The elements, row-major. */
  readonly data: DTypeArrays[D];
  /** Size of each dimension, outermost first. */
  readonly shape: readonly number[];
  /** Element type; `data` is the typed array {@link DTypeArrays} names for it. */
  readonly dtype: D;

  /**
   * Wraps `data` (not copied) with `shape`; the product of `shape` must equal `data.length`. `dtype`
   * defaults to the array's own (a Uint8Array is `'uint8'`: pass `'bool'` for a mask).
   */
  constructor(data: DTypeArrays[D], shape: readonly number[], dtype?: D) {
    const natural = naturalDType(data);
    if (natural === undefined) {
      throw new TypeError(
        `Tensor data must be a Float32Array, Float64Array, BigInt64Array, Int32Array, Int16Array, Int8Array or Uint8Array, got: ${describe(data)}`,
      );
    }
    if (dtype !== undefined) {
      checkDType(dtype);
      const fits = dtype === natural || (dtype === 'bool' && natural === 'uint8');
      if (!fits) throw new TypeError(`Tensor data for dtype '${dtype}' must be a ${arrayName(dtype)}, got: ${describe(data)}`);
    }
    checkShape(shape);
    const needed = product(shape);
    if (data.length !== needed) {
      throw new Error(`Tensor data has ${data.length} elements but shape ${formatShape(shape)} needs ${needed}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype ?? (natural as D);
  }

  /** A tensor of `shape` filled with zeros (`torch.zeros`). */
  static zeros(shape: readonly number[]): Tensor;
  static zeros<E extends DType>(shape: readonly number[], dtype: E): Tensor<TensorDType<E>>;
  static zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor<DType> {
    checkShape(shape);
    checkDType(dtype);
    return new Tensor<DType>(allocate(dtype, product(shape)), shape, dtype);
  }

  /** A tensor of `shape` filled with ones (`torch.ones`). */
  static ones(shape: readonly number[]): Tensor;
  static ones<E extends DType>(shape: readonly number[], dtype: E): Tensor<TensorDType<E>>;
  static ones(shape: readonly number[], dtype: DType = 'float32'): Tensor<DType> {
    return Tensor.full(shape, 1, dtype);
  }

  /**
   * A tensor of `shape` filled with `value` (`torch.full`). The dtype defaults to `'bool'` for a boolean,
   * `'int64'` for a bigint, else `'float32'`; an integer dtype takes `value` truncated toward zero.
   */
  static full(shape: readonly number[], value: boolean): Tensor<'bool'>;
  static full(shape: readonly number[], value: bigint): Tensor<'int64'>;
  static full(shape: readonly number[], value: number): Tensor;
  static full<E extends DType>(shape: readonly number[], value: Scalar, dtype: E): Tensor<TensorDType<E>>;
  static full(shape: readonly number[], value: Scalar, dtype?: DType): Tensor<DType> {
    const type = dtype ?? (typeof value === 'boolean' ? 'bool' : typeof value === 'bigint' ? 'int64' : 'float32');
    const t = Tensor.zeros(shape, type);
    fillValue(t.data, type, value);
    return t;
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

  /**
   * This tensor when it already has `dtype`, otherwise a converted copy, as PyTorch's casts: float →
   * integer truncates toward zero, narrower integers wrap, anything → bool is `x != 0`.
   */
  to<E extends DType>(dtype: E): Tensor<TensorDType<E>> {
    checkDType(dtype);
    if ((dtype as DType) === this.dtype) return this as unknown as Tensor<TensorDType<E>>;
    return new Tensor<DType>(convertData(this.data, this.dtype, dtype), this.shape, dtype) as Tensor<TensorDType<E>>;
  }

  /**
   * The value of a one-element tensor as a number (PyTorch's `item()`): bool gives 0 or 1; an int64
   * beyond ±2^53, which a number cannot hold exactly, is a RangeError (read `data` as a bigint instead).
   */
  item(): number {
    if (this.data.length !== 1) throw new RangeError('only one element tensors can be converted to Python scalars');
    return readNumber(this.data, 0);
  }

  /**
   * The elements as nested JS arrays of numbers (PyTorch's `tolist()`); a 0-d tensor gives a number.
   * bool gives 0/1; an int64 beyond ±2^53 is a RangeError, as for {@link Tensor.item}.
   */
  toArray(): NestedNumbers {
    const { data, shape } = this;
    const strides = shape.map((_, d) => product(shape.slice(d + 1)));
    const build = (offset: number, depth: number): NestedNumbers => {
      if (depth === shape.length) return readNumber(data, offset);
      const out: NestedNumbers[] = new Array(shape[depth]);
      for (let i = 0; i < shape[depth]; i++) out[i] = build(offset + i * strides[depth], depth + 1);
      return out;
    };
    return build(0, 0);
  }
}
