/**
 * The Tensor class: a contiguous typed array, a shape and a dtype. Its operations live one family per
 * file beside it (shape.ts, elementwise.ts, reduce.ts, activation.ts, matmul.ts); the methods here are
 * thin calls into those functions.
 *
 * @packageDocumentation
 */
import { describe, isNonNegativeInteger } from '../is';
import { gelu, logSoftmax, relu, sigmoid, softmax, tanh, type GeluApproximate } from './activation';
import { formatShape, product, sizesArgument } from './dims';
import { allocate, arrayName, checkDType, convertData, naturalDType, type DType, type DTypeArrays, type FloatDType, type TensorDType } from './dtype';
import { binary, exp, log } from './elementwise';
import { matmul } from './matmul';
import { amax, argmax, max, mean, sum, topk, type Dims } from './reduce';
import { fillValue, readNumber, type Scalar } from './scalar';
import * as shapeOps from './shape';

/** Nested arrays of numbers, as {@link Tensor.toArray} returns them; a 0-d tensor gives a bare number. */
export type NestedNumbers = number | NestedNumbers[];

/** A (possibly) nested array of numbers, as given to {@link tensor}; typed arrays count as arrays. */
export type NestedArray = number | ArrayLike<number> | readonly NestedArray[];

/** Nested arrays whose leaves are all of one type `T` (typed arrays count as arrays of their elements). */
export type NestedOf<T extends Scalar> = T | (T extends number ? ArrayLike<number> : T extends bigint ? BigInt64Array : never) | readonly NestedOf<T>[];

/** Everything {@link tensor} accepts: numbers, bigints and booleans, nested in arrays or typed arrays. */
export type NestedValues = Scalar | ArrayLike<number> | BigInt64Array | readonly NestedValues[];

/** The dtype `sum` gives for a tensor of dtype `D`: floats keep theirs, integers and bool give int64. */
export type SumDType<D extends DType> = D extends FloatDType ? D : 'int64';

/** A tensor of any dtype (the default `Tensor` is a floating-point one). */
type AnyTensor = Tensor<DType>;

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
 * The type parameter follows the dtype: `Tensor` (the default) is a float32 or float64 tensor, whose
 * `data[i]` is a number, as every module takes and returns; `Tensor<'int64'>` holds a BigInt64Array;
 * `Tensor<DType>` is a tensor of any dtype (narrow it with {@link Tensor.isFloatingPoint}). Pass the
 * dtype to the constructor for a non-float array, so that TypeScript knows it.
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

  /** PyTorch's `is_floating_point()`: true for float32 and float64, narrowing the type to `Tensor`. */
  isFloatingPoint(): this is Tensor {
    return this.dtype === 'float32' || this.dtype === 'float64';
  }

  // Shape operations (see shape.ts): views share `data` where the result is a contiguous run of it.

  /** PyTorch's `select(dim, index)`: the slice at `index` along `dim`, that dim removed (`x[:, -1]` is `x.select(1, -1)`). */
  select(dim: number, index: number): Tensor<D> {
    return shapeOps.select(this, dim, index) as Tensor<D>;
  }

  /** PyTorch's `narrow(dim, start, length)`: `length` slices from `start` along `dim`. */
  narrow(dim: number, start: number, length: number): Tensor<D> {
    return shapeOps.narrow(this, dim, start, length) as Tensor<D>;
  }

  /** PyTorch's `reshape(*shape)`: the same data in a new shape (shared); one size may be -1. */
  reshape(...shape: number[] | [readonly number[]]): Tensor<D> {
    return shapeOps.reshape(this, sizesArgument(shape)) as Tensor<D>;
  }

  /** PyTorch's `view(*shape)`: as {@link Tensor.reshape} (every Tensor here is contiguous). */
  view(...shape: number[] | [readonly number[]]): Tensor<D> {
    return shapeOps.reshape(this, sizesArgument(shape)) as Tensor<D>;
  }

  /** PyTorch's `squeeze(dim?)`: size-1 dims removed (all, or `dim` if its size is 1). */
  squeeze(dim?: number): Tensor<D> {
    return shapeOps.squeeze(this, dim) as Tensor<D>;
  }

  /** PyTorch's `unsqueeze(dim)`: a size-1 dim inserted at `dim`. */
  unsqueeze(dim: number): Tensor<D> {
    return shapeOps.unsqueeze(this, dim) as Tensor<D>;
  }

  /** PyTorch's `transpose(dim0, dim1)` (a copy). */
  transpose(dim0: number, dim1: number): Tensor<D> {
    return shapeOps.transpose(this, dim0, dim1) as Tensor<D>;
  }

  /** PyTorch's `permute(*dims)` (a copy). */
  permute(...dims: number[] | [readonly number[]]): Tensor<D> {
    return shapeOps.permute(this, sizesArgument(dims)) as Tensor<D>;
  }

  /** PyTorch's `flatten(startDim = 0, endDim = -1)` (shared data). */
  flatten(startDim = 0, endDim = -1): Tensor<D> {
    return shapeOps.flatten(this, startDim, endDim) as Tensor<D>;
  }

  /** PyTorch's `contiguous()`: this tensor, which is always contiguous. */
  contiguous(): this {
    return this;
  }

  /** PyTorch's `clone()`: a copy with its own data. */
  clone(): Tensor<D> {
    return shapeOps.clone(this) as Tensor<D>;
  }

  /** PyTorch's `split(sizeOrSections, dim = 0)`: pieces of one size, or of the listed sizes. */
  split(sizeOrSections: number | readonly number[], dim = 0): Tensor<D>[] {
    return shapeOps.split(this, sizeOrSections, dim) as Tensor<D>[];
  }

  /** PyTorch's `chunk(chunks, dim = 0)`: at most `chunks` pieces of equal size (the last may be smaller). */
  chunk(chunks: number, dim = 0): Tensor<D>[] {
    return shapeOps.chunk(this, chunks, dim) as Tensor<D>[];
  }

  // Arithmetic (see elementwise.ts): broadcasting and PyTorch's type promotion. A plain number acts as a
  // Python scalar: an integral one as an int (int tensor + 2 stays int), any other as a float.

  /** PyTorch's `add(other)`: `this + other`, broadcast and promoted. */
  add(this: Tensor, other: AnyTensor | Scalar): Tensor;
  add(other: Tensor): Tensor;
  add(other: AnyTensor | Scalar): AnyTensor;
  add(other: AnyTensor | Scalar): AnyTensor {
    return binary('add', this, other);
  }

  /** PyTorch's `sub(other)`: `this - other`, broadcast and promoted (bool operands refused, as PyTorch). */
  sub(this: Tensor, other: AnyTensor | Scalar): Tensor;
  sub(other: Tensor): Tensor;
  sub(other: AnyTensor | Scalar): AnyTensor;
  sub(other: AnyTensor | Scalar): AnyTensor {
    return binary('sub', this, other);
  }

  /** PyTorch's `mul(other)`: `this * other`, broadcast and promoted. */
  mul(this: Tensor, other: AnyTensor | Scalar): Tensor;
  mul(other: Tensor): Tensor;
  mul(other: AnyTensor | Scalar): AnyTensor;
  mul(other: AnyTensor | Scalar): AnyTensor {
    return binary('mul', this, other);
  }

  /** PyTorch's `div(other)`: true division, broadcast; integer operands give float32. */
  div(other: AnyTensor | Scalar): Tensor {
    return binary('div', this, other) as Tensor;
  }

  /** PyTorch's `matmul(other)` on the engine's GEMM; float32 or float64 (see {@link matmul}). */
  matmul(other: AnyTensor): Tensor<D> {
    return matmul(this, other) as Tensor<D>;
  }

  // Elementwise functions and activations (see elementwise.ts, activation.ts); integer input gives float32.

  /** PyTorch's `exp()`. */
  exp(): Tensor {
    return exp(this) as Tensor;
  }

  /** PyTorch's `log()`. */
  log(): Tensor {
    return log(this) as Tensor;
  }

  /** PyTorch's `sigmoid()`. */
  sigmoid(): Tensor {
    return sigmoid(this) as Tensor;
  }

  /** PyTorch's `tanh()`. */
  tanh(): Tensor {
    return tanh(this) as Tensor;
  }

  /** PyTorch's `relu()`, in this tensor's dtype. */
  relu(): Tensor<D> {
    return relu(this) as Tensor<D>;
  }

  /** PyTorch's `F.gelu(x, approximate)`: `'none'` (exact, erf) or `'tanh'`. */
  gelu(approximate: GeluApproximate = 'none'): Tensor {
    return gelu(this, approximate) as Tensor;
  }

  /** PyTorch's `softmax(dim)`, numerically stable. */
  softmax(dim: number): Tensor {
    return softmax(this, dim) as Tensor;
  }

  /** PyTorch's `log_softmax(dim)`, numerically stable. */
  logSoftmax(dim: number): Tensor {
    return logSoftmax(this, dim) as Tensor;
  }

  // Reductions (see reduce.ts).

  /** PyTorch's `sum(dim?, keepdim = false)`: over all elements, one dim or a list; integers sum to int64. */
  sum(dim?: Dims, keepdim = false): Tensor<SumDType<D>> {
    return sum(this, dim, keepdim) as Tensor<SumDType<D>>;
  }

  /** PyTorch's `mean(dim?, keepdim = false)`; floating-point tensors only. */
  mean(dim?: Dims, keepdim = false): Tensor<D> {
    return mean(this, dim, keepdim) as Tensor<D>;
  }

  /** PyTorch's `amax(dim?, keepdim = false)`: the maximum over the dims (all by default). */
  amax(dim?: Dims, keepdim = false): Tensor<D> {
    return amax(this, dim, keepdim) as Tensor<D>;
  }

  /**
   * PyTorch's `max()`: the largest element as a 0-d tensor; `max(dim, keepdim)` gives `[values, indices]`
   * (int64) along `dim`, the first maximal index on ties.
   */
  max(): Tensor<D>;
  max(dim: number, keepdim?: boolean): [Tensor<D>, Tensor<'int64'>];
  max(dim?: number, keepdim = false): Tensor<D> | [Tensor<D>, Tensor<'int64'>] {
    if (dim === undefined) return max(this) as Tensor<D>;
    return max(this, dim, keepdim) as [Tensor<D>, Tensor<'int64'>];
  }

  /** PyTorch's `argmax(dim?, keepdim = false)`: int64 indices of the maximum; without `dim`, a flat index. */
  argmax(dim?: number, keepdim = false): Tensor<'int64'> {
    return argmax(this, dim, keepdim) as Tensor<'int64'>;
  }

  /** PyTorch's `topk(k, dim = -1, largest = true, sorted = true)`: `[values, indices]` (int64). */
  topk(k: number, dim = -1, largest = true, sorted = true): [Tensor<D>, Tensor<'int64'>] {
    return topk(this, k, dim, largest, sorted) as [Tensor<D>, Tensor<'int64'>];
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
