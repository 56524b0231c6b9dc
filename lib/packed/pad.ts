/**
 * Padding: PyTorch's `pad_packed_sequence` and `pad_sequence`.
 *
 * @packageDocumentation
 */
import { describe, isInteger, isNumber } from '../is';
import { indexSelect } from '../index_select';
import { checkBoolean, checkOptionNames } from '../options';
import { Tensor, type DType, type FloatDType } from '../tensor';
import { checkedCopy, PackedSequence, type IndexArray } from './packed_sequence';

/** Options of {@link padPackedSequence}. */
export interface PadPackedSequenceOptions {
  /** Return `(B, T, *)` instead of `(T, B, *)`. Default false. */
  batchFirst?: boolean;
  /** The value of every padded element. Default 0. */
  paddingValue?: number;
  /** Pad to this many time steps instead of the longest sequence's length (at least that length). */
  totalLength?: number;
}

/** Options of {@link padSequence}. */
export interface PadSequenceOptions {
  /** Return `(B, T, *)` instead of `(T, B, *)`. Default false. */
  batchFirst?: boolean;
  /** The value of every padded element. Default 0. */
  paddingValue?: number;
  /** Pad after each sequence (`'right'`, the default) or before it (`'left'`). */
  paddingSide?: 'left' | 'right';
}

function checkPaddingValue(value: unknown): asserts value is number {
  if (!isNumber(value)) throw new TypeError(`padding_value should be a number, got: ${describe(value)}`);
}

function product(shape: readonly number[]): number {
  return shape.reduce((n, s) => n * s, 1);
}

/** The body of {@link padPackedSequence}, typed for float tensors; integer tensors run the same code. */
function padPackedSequenceTyped(sequence: PackedSequence, options: PadPackedSequenceOptions = {}): [Tensor, IndexArray] {
  checkOptionNames('padPackedSequence', options, ['batchFirst', 'paddingValue', 'totalLength']);
  const { batchFirst = false, paddingValue = 0, totalLength } = options;
  checkBoolean('batch_first', batchFirst);
  checkPaddingValue(paddingValue);
  if (!(sequence instanceof PackedSequence)) {
    throw new TypeError(`padPackedSequence expects a PackedSequence, got: ${describe(sequence)}`);
  }
  // Copied once and checked: the copies are what the padding below reads.
  const { data, batchSizes, unsortedIndices } = checkedCopy(sequence);
  let steps = batchSizes.length;
  if (totalLength !== undefined) {
    if (!isInteger(totalLength)) throw new TypeError(`total_length should be of type int, got: ${describe(totalLength)}`);
    if (totalLength < steps) {
      throw new Error(
        'Expected total_length to be at least the length of the longest sequence in input, but got ' +
          `total_length=${totalLength} and max sequence length being ${steps}`,
      );
    }
    steps = totalLength;
  }
  const batch = batchSizes[0];
  const features = data.shape.slice(1);
  const inner = product(features);
  // full() converts the value to the dtype as PyTorch's fill does (an int64 tensor holds bigints).
  const padded = Tensor.full(batchFirst ? [batch, steps, ...features] : [steps, batch, ...features], paddingValue, data.dtype);
  const lengths = new Int32Array(batch);
  let row = 0;
  for (let t = 0; t < batchSizes.length; t++) {
    for (let b = 0; b < batchSizes[t]; b++, row++) {
      const to = (batchFirst ? b * steps + t : t * batch + b) * inner;
      padded.data.set(data.data.subarray(row * inner, (row + 1) * inner), to);
      lengths[b] = t + 1;
    }
  }
  if (unsortedIndices === null) return [padded, lengths];
  return [indexSelect(padded, batchFirst ? 0 : 1, unsortedIndices), Int32Array.from(unsortedIndices, (i) => lengths[i])];
}

/**
 * Pads a packed batch back to a tensor, as PyTorch's `pad_packed_sequence`: returns `[padded, lengths]`,
 * `padded` being `(T, B, *)` (or `(B, T, *)` with `batchFirst`) and `lengths` an Int32Array, both in the
 * caller's original batch order. T is the longest length, or `totalLength`; below the longest it is
 * PyTorch's error `Expected total_length to be at least the length of the longest sequence in input, ...`.
 *
 * @example
 * ```ts
 * // output, lengths = pad_packed_sequence(packed, batch_first=True)
 * const [output, lengths] = padPackedSequence(packed, { batchFirst: true });
 * ```
 */
export function padPackedSequence<D extends DType = FloatDType>(
  sequence: PackedSequence<D>,
  options: PadPackedSequenceOptions = {},
): [Tensor<D>, IndexArray] {
  return padPackedSequenceTyped(sequence as PackedSequence, options) as unknown as [Tensor<D>, IndexArray];
}

function checkSequences(sequences: unknown): asserts sequences is Tensor[] {
  if (!Array.isArray(sequences)) {
    throw new TypeError(`pad_sequence: Expected iterable for input sequences, but got arg of type: ${describe(sequences)}`);
  }
  sequences.forEach((s, i) => {
    if (!(s instanceof Tensor)) throw new TypeError(`sequences[${i}] must be a Tensor, got: ${describe(s)}`);
  });
}

/** The body of {@link padSequence}, typed for float tensors; integer tensors run the same code. */
function padSequenceTyped(sequences: readonly Tensor[], options: PadSequenceOptions = {}): Tensor {
  checkOptionNames('padSequence', options, ['batchFirst', 'paddingValue', 'paddingSide']);
  const { batchFirst = false, paddingValue = 0, paddingSide = 'right' } = options;
  checkBoolean('batch_first', batchFirst);
  checkPaddingValue(paddingValue);
  checkSequences(sequences);
  if (sequences.length === 0) throw new Error('received an empty list of sequences');
  if (paddingSide !== 'left' && paddingSide !== 'right') {
    throw new Error(`Expected padding_side to be one of left or right, but got ${String(paddingSide)}.`);
  }
  const lengths = sequences.map((s) => s.size(0));
  const features = sequences[0].shape.slice(1);
  sequences.forEach((s, i) => {
    const trailing = s.shape.slice(1);
    if (trailing.join(',') !== features.join(',')) {
      throw new Error(
        `pad_sequence: every sequence must have the trailing shape of sequences[0], [${features.join(', ')}], ` +
          `but sequences[${i}] has [${trailing.join(', ')}]`,
      );
    }
  });
  const batch = sequences.length;
  const steps = lengths.reduce((m, l) => (l > m ? l : m), 0);
  const inner = product(features);
  const dtype = sequences[0].dtype;
  const padded = Tensor.full(batchFirst ? [batch, steps, ...features] : [steps, batch, ...features], paddingValue, dtype);
  sequences.forEach((s, b) => {
    const source = s.to(dtype).data;
    const start = paddingSide === 'left' ? steps - lengths[b] : 0;
    for (let l = 0; l < lengths[b]; l++) {
      const t = start + l;
      padded.data.set(source.subarray(l * inner, (l + 1) * inner), (batchFirst ? b * steps + t : t * batch + b) * inner);
    }
  });
  return padded;
}

/**
 * Stacks variable-length sequences, each `(L, *)`, into one padded tensor, as PyTorch's `pad_sequence`:
 * `(T, B, *)`, or `(B, T, *)` with `batchFirst`, T being the longest length. The result has the dtype of
 * `sequences[0]`; every sequence must have its trailing shape.
 *
 * @example
 * ```ts
 * padSequence([Tensor.ones([25, 300]), Tensor.ones([22, 300]), Tensor.ones([15, 300])]).shape;   // [25, 3, 300]
 * ```
 */
export function padSequence<D extends DType = FloatDType>(sequences: readonly Tensor<D>[], options: PadSequenceOptions = {}): Tensor<D> {
  return padSequenceTyped(sequences as readonly Tensor[], options) as unknown as Tensor<D>;
}
