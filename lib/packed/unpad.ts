/**
 * Back to a list of sequences: PyTorch's `unpad_sequence` and `unpack_sequence`.
 *
 * @packageDocumentation
 */
import { describe } from '../is';
import { checkBoolean, checkOptionNames } from '../options';
import { Tensor, type DType, type FloatDType } from '../tensor';
import { toIndexArray, type PackedSequence } from './packed_sequence';
import { padPackedSequence } from './pad';

/** Options of {@link unpadSequence}. */
export interface UnpadSequenceOptions {
  /** `padded` is `(B, T, *)` instead of `(T, B, *)`. Default false. */
  batchFirst?: boolean;
}

/** The body of {@link unpadSequence}, typed for float tensors; integer tensors run the same code. */
function unpadSequenceTyped(padded: Tensor, lengths: ArrayLike<number>, options: UnpadSequenceOptions = {}): Tensor[] {
  checkOptionNames('unpadSequence', options, ['batchFirst']);
  const { batchFirst = false } = options;
  checkBoolean('batch_first', batchFirst);
  if (!(padded instanceof Tensor)) throw new TypeError(`unpadSequence: padded must be a Tensor, got: ${describe(padded)}`);
  const lengthList = toIndexArray('lengths', lengths);
  // size(1) fails first for a 1-D tensor, as PyTorch's transpose(0, 1) does.
  padded.size(1);
  const [steps, batch] = batchFirst ? [padded.shape[1], padded.shape[0]] : [padded.shape[0], padded.shape[1]];
  if (lengthList.length !== batch) {
    throw new Error(`Expected one length per sequence: got ${lengthList.length} lengths for a batch of ${batch}`);
  }
  const features = padded.shape.slice(2);
  const inner = features.reduce((n, s) => n * s, 1);
  return Array.from(lengthList, (length, b) => {
    if (length < 0 || length > steps) {
      throw new RangeError(`lengths[${b}] is ${length}, outside the padded length 0..${steps}`);
    }
    const out = Tensor.zeros([length, ...features], padded.dtype);
    for (let t = 0; t < length; t++) {
      const from = (batchFirst ? b * steps + t : t * batch + b) * inner;
      out.data.set(padded.data.subarray(from, from + inner), t * inner);
    }
    return out;
  });
}

/**
 * Splits a padded batch into its sequences, as PyTorch's `unpad_sequence`: sequence b is the first
 * `lengths[b]` steps of column b, a new `(lengths[b], *)` tensor (a copy).
 *
 * @example
 * ```ts
 * const [a, b] = unpadSequence(padSequence([x, y]), [x.size(0), y.size(0)]);   // a equals x, b equals y
 * ```
 */
export function unpadSequence<D extends DType = FloatDType>(
  padded: Tensor<D>,
  lengths: ArrayLike<number>,
  options: UnpadSequenceOptions = {},
): Tensor<D>[] {
  return unpadSequenceTyped(padded as unknown as Tensor, lengths, options) as unknown as Tensor<D>[];
}

/** The body of {@link unpackSequence}, typed for float tensors; integer tensors run the same code. */
function unpackSequenceTyped(packedSequences: PackedSequence): Tensor[] {
  const [padded, lengths] = padPackedSequence(packedSequences, { batchFirst: true });
  return unpadSequence(padded, lengths, { batchFirst: true });
}

/**
 * Unpacks a PackedSequence into its sequences in the caller's original order, as PyTorch's `unpack_sequence`.
 *
 * @example
 * ```ts
 * unpackSequence(packSequence([a, b, c]));   // tensors equal to a, b, c
 * ```
 */
export function unpackSequence<D extends DType = FloatDType>(packedSequences: PackedSequence<D>): Tensor<D>[] {
  return unpackSequenceTyped(packedSequences as unknown as PackedSequence) as unknown as Tensor<D>[];
}
