/**
 * PyTorch's `PackedSequence`: a batch of variable-length sequences stored without padding.
 *
 * @packageDocumentation
 */
import { describe } from '../is';
import { Tensor, type DType, type FloatDType } from '../tensor';

/** An integer vector as this library returns it, and as it accepts it (a `number[]` too). */
export type IndexArray = Int32Array;

/** True for a plain array or typed array of numbers (what `lengths`, `batchSizes` and indices may be). */
function isNumberList(value: unknown): value is ArrayLike<number> {
  if (Array.isArray(value)) return value.every((v) => typeof v === 'number');
  return ArrayBuffer.isView(value) && !(value instanceof DataView) && typeof (value as unknown as ArrayLike<unknown>)[0] !== 'bigint';
}

/**
 * Copies a list of integers into an Int32Array, rejecting anything else by name: `what` says which argument.
 * A copy, so that editing the caller's array later cannot change a PackedSequence.
 */
export function toIndexArray(what: string, value: unknown): IndexArray {
  if (!isNumberList(value)) {
    throw new TypeError(`${what} must be an array of integers (number[] or Int32Array), got: ${describe(value)}`);
  }
  const out = new Int32Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
      throw new TypeError(`${what} must hold integers, but ${what}[${i}] is ${String(v)}`);
    }
    out[i] = v;
  }
  return out;
}

/** PyTorch's `invert_permutation`: `inverse[permutation[i]] = i`. */
export function invertPermutation(permutation: IndexArray): IndexArray {
  const inverse = new Int32Array(permutation.length);
  for (let i = 0; i < permutation.length; i++) inverse[permutation[i]] = i;
  return inverse;
}

function checkPermutation(what: string, indices: IndexArray, batch: number): void {
  if (indices.length !== batch) {
    throw new Error(`${what} must have one entry per sequence (batchSizes[0] = ${batch}), got ${indices.length}`);
  }
  const seen = new Uint8Array(batch);
  for (let i = 0; i < batch; i++) {
    const index = indices[i];
    if (index < 0 || index >= batch || seen[index] === 1) {
      throw new Error(`${what} must be a permutation of 0..${batch - 1}, got [${Array.from(indices).join(', ')}]`);
    }
    seen[index] = 1;
  }
}

/**
 * Checks what PyTorch assumes of a PackedSequence without checking (it is meant to come from
 * {@link packPaddedSequence}): batch sizes positive and non-increasing, one data row per element, indices
 * mutually inverse permutations. The forward passes re-check, since the arrays are mutable.
 */
export function checkPackedSequence(seq: PackedSequence<DType>): void {
  const { data, batchSizes, sortedIndices, unsortedIndices } = seq;
  if (!(data instanceof Tensor)) throw new TypeError(`PackedSequence data must be a Tensor, got: ${describe(data)}`);
  if (data.dim() < 1) throw new Error('PackedSequence data must have at least one dimension, got a 0-D tensor');
  let rows = 0;
  for (let t = 0; t < batchSizes.length; t++) {
    const size = batchSizes[t];
    if (size < 1 || (t > 0 && size > batchSizes[t - 1])) {
      throw new Error(`batchSizes must be positive and non-increasing, got [${Array.from(batchSizes).join(', ')}]`);
    }
    rows += size;
  }
  if (batchSizes.length === 0) throw new Error('batchSizes must have at least one entry (one per time step)');
  if (rows !== data.shape[0]) {
    throw new Error(`PackedSequence data has ${data.shape[0]} rows but batchSizes add up to ${rows}`);
  }
  if ((sortedIndices === null) !== (unsortedIndices === null)) {
    throw new Error('sortedIndices and unsortedIndices must both be given or both be null');
  }
  if (sortedIndices !== null && unsortedIndices !== null) {
    checkPermutation('sortedIndices', sortedIndices, batchSizes[0]);
    checkPermutation('unsortedIndices', unsortedIndices, batchSizes[0]);
    for (let i = 0; i < sortedIndices.length; i++) {
      if (unsortedIndices[sortedIndices[i]] !== i) throw new Error('unsortedIndices must be the inverse permutation of sortedIndices');
    }
  }
}

/** A copy of an index array (a typed array's copy never shares its memory); anything else as it is, for the checks to refuse. */
function copyOf<A>(array: A): A {
  if (!ArrayBuffer.isView(array) && !Array.isArray(array)) return array;
  const slice = (array as { slice?: unknown }).slice; // a DataView has none
  return typeof slice === 'function' ? (slice.call(array) as A) : array;
}

/**
 * `seq` with its three index arrays copied once, then checked as {@link checkPackedSequence} checks:
 * what a forward or `padPackedSequence` uses. The caller's arrays may be shared memory that another
 * thread rewrites meanwhile; checking them in place and reading them again could pass one sequence and
 * use another.
 */
export function checkedCopy<D extends DType>(seq: PackedSequence<D>): PackedSequence<D> {
  const copy: PackedSequence<D> = {
    data: seq.data,
    batchSizes: copyOf(seq.batchSizes),
    sortedIndices: copyOf(seq.sortedIndices),
    unsortedIndices: copyOf(seq.unsortedIndices),
  };
  checkPackedSequence(copy);
  return copy;
}

/**
 * A batch of variable-length sequences, packed time step by time step, as PyTorch's
 * `torch.nn.utils.rnn.PackedSequence`; RNN, LSTM and GRU accept one and return one.
 *
 * Rows of `data` are time-major: first the first step of every sequence, then the second step of every
 * sequence still running, and so on, sequences sorted longest first. `batchSizes[t]` counts the sequences
 * running at step t. `sortedIndices[i]` is the caller's index of the i-th longest sequence, and
 * `unsortedIndices` its inverse; both are null when the caller's batch was already sorted
 * (`enforceSorted`). The three integer vectors are Int32Arrays (PyTorch's int64 tensors), copied on
 * construction.
 *
 * Build one with {@link packPaddedSequence} or {@link packSequence} rather than by hand.
 *
 * @example
 * ```ts
 * const packed = packSequence([tensor([1, 2, 3]), tensor([4, 5]), tensor([6])]);
 * packed.data.toArray();          // [1, 4, 6, 2, 5, 3]
 * Array.from(packed.batchSizes);  // [3, 2, 1]
 * ```
 */
export class PackedSequence<D extends DType = FloatDType> {
  /** `(sum(batchSizes), *)`: every sequence's steps, time-major. Float unless integer sequences were packed. */
  readonly data: Tensor<D>;
  /** How many sequences run at each time step; non-increasing. */
  readonly batchSizes: IndexArray;
  /** The caller's index of each sequence in sorted (longest-first) order, or null. */
  readonly sortedIndices: IndexArray | null;
  /** Where each of the caller's sequences sits in sorted order (the inverse of sortedIndices), or null. */
  readonly unsortedIndices: IndexArray | null;

  /**
   * Wraps packed `data`, as PyTorch's `PackedSequence(data, batch_sizes, sorted_indices, unsorted_indices)`;
   * `unsortedIndices` defaults to the inverse of `sortedIndices`.
   */
  constructor(
    data: Tensor<D>,
    batchSizes: ArrayLike<number>,
    sortedIndices: ArrayLike<number> | null = null,
    unsortedIndices: ArrayLike<number> | null = null,
  ) {
    this.data = data;
    this.batchSizes = toIndexArray('batchSizes', batchSizes);
    this.sortedIndices = sortedIndices === null ? null : toIndexArray('sortedIndices', sortedIndices);
    this.unsortedIndices =
      unsortedIndices !== null
        ? toIndexArray('unsortedIndices', unsortedIndices)
        : this.sortedIndices === null
          ? null
          : invertPermutation(this.sortedIndices);
    checkPackedSequence(this);
  }
}
