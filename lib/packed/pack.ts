/**
 * Packing: PyTorch's `pack_padded_sequence` and `pack_sequence`.
 *
 * @packageDocumentation
 */
import { describe } from '../is';
import { indexSelect } from '../index_select';
import { checkBoolean, checkOptionNames } from '../options';
import { Tensor, TORCH_TYPE_NAMES, type DType, type FloatDType } from '../tensor';
import { PackedSequence, toIndexArray, type IndexArray } from './packed_sequence';
import { padSequence } from './pad';

/** Options of {@link packPaddedSequence}. */
export interface PackPaddedSequenceOptions {
  /** `input` is `(B, T, *)` instead of `(T, B, *)`. Default false. */
  batchFirst?: boolean;
  /** Require `lengths` in decreasing order (PyTorch needs it only for ONNX export); when false, sort. Default true. */
  enforceSorted?: boolean;
}

/** Options of {@link packSequence}. */
export type PackSequenceOptions = Pick<PackPaddedSequenceOptions, 'enforceSorted'>;

const UNSORTED_MESSAGE =
  '`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass ' +
  '`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement if you ' +
  'do not need ONNX exportability.';

/** The positions of `lengths` longest first; ties keep their order, as PyTorch's CPU sort does. */
function sortDescending(lengths: IndexArray): IndexArray {
  const order = Array.from(lengths.keys()).sort((a, b) => lengths[b] - lengths[a] || a - b);
  return Int32Array.from(order);
}


/** A lengths tensor's values: PyTorch takes a 1-D tensor of any real dtype (`torch.as_tensor(lengths, dtype=torch.int64)`). */
function lengthsOfTensor(lengths: Tensor<DType>): number[] {
  if (lengths.dim() !== 1) {
    throw new Error(
      `'lengths' argument should be a 1D CPU int64 tensor, but got ${lengths.dim()}D cpu ${TORCH_TYPE_NAMES[lengths.dtype]} tensor`,
    );
  }
  return lengths.toArray() as number[];
}

/**
 * PyTorch's `_pack_padded_sequence` on sorted lengths of a non-empty input: its remaining checks in its
 * order, then the packed rows and batch sizes. `input` is time-major `(T, B, *)` or batch-first `(B, T, *)`.
 */
function packSorted(input: Tensor, lengths: IndexArray, batchFirst: boolean): [Tensor, IndexArray] {
  const [steps, batch] = batchFirst ? [input.shape[1], input.shape[0]] : [input.shape[0], input.shape[1]];
  const last = lengths[batch - 1];
  if (!(last > 0)) {
    throw new Error("Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0");
  }
  for (let i = 1; i < batch; i++) if (lengths[i] > lengths[i - 1]) throw new Error(UNSORTED_MESSAGE);
  // PyTorch reads past the input here; refuse instead.
  if (lengths[0] > steps) {
    throw new Error(`the longest sequence has length ${lengths[0]}, but the input has only ${steps} time steps`);
  }

  const batchSizes = new Int32Array(lengths[0]);
  let rows = 0;
  for (let t = 0; t < batchSizes.length; t++) {
    let running = 0;
    while (running < batch && lengths[running] > t) running++;
    batchSizes[t] = running;
    rows += running;
  }
  const inner = input.numel() / (steps * batch);
  const data = Tensor.zeros([rows, ...input.shape.slice(2)], input.dtype);
  const source = input.data;
  let row = 0;
  for (let t = 0; t < batchSizes.length; t++) {
    for (let b = 0; b < batchSizes[t]; b++, row++) {
      const from = (batchFirst ? b * steps + t : t * batch + b) * inner;
      data.data.set(source.subarray(from, from + inner), row * inner);
    }
  }
  return [data, batchSizes];
}

/** The body of {@link packPaddedSequence}, typed for float tensors; integer tensors run the same code. */
function packPaddedSequenceTyped(
  input: Tensor,
  lengths: ArrayLike<number> | Tensor<DType>,
  options: PackPaddedSequenceOptions = {},
): PackedSequence {
  checkOptionNames('packPaddedSequence', options, ['batchFirst', 'enforceSorted']);
  const { batchFirst = false, enforceSorted = true } = options;
  checkBoolean('batch_first', batchFirst);
  checkBoolean('enforce_sorted', enforceSorted);
  if (!(input instanceof Tensor)) throw new TypeError(`packPaddedSequence: input must be a Tensor, got: ${describe(input)}`);
  let sortedLengths = toIndexArray('lengths', lengths instanceof Tensor ? lengthsOfTensor(lengths) : lengths);
  const batchDim = batchFirst ? 0 : 1;
  // input.size(1) is PyTorch's first failure for a 1-D input, in either layout.
  input.size(1);
  const batch = input.size(batchDim);
  if (input.numel() === 0) throw new Error('Cannot pack empty tensors.');
  // PyTorch checks this after sorting; before it, so that a short `lengths` cannot drop sequences.
  if (sortedLengths.length !== batch) {
    throw new Error(`Expected \`len(lengths)\` to be equal to batch_size, but got ${sortedLengths.length} (batch_size=${batch})`);
  }
  let sortedIndices: IndexArray | null = null;
  let sortedInput = input;
  if (!enforceSorted) {
    sortedIndices = sortDescending(sortedLengths);
    sortedLengths = Int32Array.from(sortedIndices, (i) => sortedLengths[i]);
    sortedInput = indexSelect(input, batchDim, sortedIndices);
  }
  const [data, batchSizes] = packSorted(sortedInput, sortedLengths, batchFirst);
  return new PackedSequence(data, batchSizes, sortedIndices);
}

/**
 * Packs a padded batch of variable-length sequences, as PyTorch's `pack_padded_sequence`.
 *
 * `input` is `(T, B, *)`, or `(B, T, *)` with `batchFirst`; `lengths` (a `number[]`, an Int32Array or a 1-D
 * integer Tensor such as an int64 one loaded from a file) holds each
 * sequence's length. With `enforceSorted` (the default) lengths must be decreasing and the result has no
 * indices; otherwise the batch is sorted longest first and `sortedIndices` records how. Errors are
 * PyTorch's: `Cannot pack empty tensors.`, `` Expected `len(lengths)` to be equal to batch_size, ... ``,
 * `Length of all samples has to be greater than 0, ...`, `` `lengths` array must be sorted in decreasing order ... ``.
 *
 * @example
 * ```ts
 * // pack_padded_sequence(x, [1, 3], enforce_sorted=False)
 * const packed = packPaddedSequence(x, [1, 3], { enforceSorted: false });   // x: (3, 2, features)
 * Array.from(packed.batchSizes);     // [2, 1, 1]
 * Array.from(packed.sortedIndices!); // [1, 0]
 * ```
 */
export function packPaddedSequence<D extends DType = FloatDType>(
  input: Tensor<D>,
  lengths: ArrayLike<number> | Tensor<DType>,
  options: PackPaddedSequenceOptions = {},
): PackedSequence<D> {
  return packPaddedSequenceTyped(input as unknown as Tensor, lengths, options) as unknown as PackedSequence<D>;
}

/** The body of {@link packSequence}, typed for float tensors; integer tensors run the same code. */
function packSequenceTyped(sequences: readonly Tensor[], options: PackSequenceOptions = {}): PackedSequence {
  checkOptionNames('packSequence', options, ['enforceSorted']);
  const padded = padSequence(sequences);
  return packPaddedSequence(padded, sequences.map((s) => s.size(0)), options);
}

/**
 * Packs a list of variable-length sequences, each `(L, *)`, as PyTorch's `pack_sequence`: the same as
 * `packPaddedSequence(padSequence(sequences), lengths, { enforceSorted })`.
 *
 * @example
 * ```ts
 * const packed = packSequence([tensor([1, 2, 3]), tensor([4, 5]), tensor([6])]);
 * packed.data.toArray();   // [1, 4, 6, 2, 5, 3]
 * ```
 */
export function packSequence<D extends DType = FloatDType>(sequences: readonly Tensor<D>[], options: PackSequenceOptions = {}): PackedSequence<D> {
  return packSequenceTyped(sequences as readonly Tensor[], options) as unknown as PackedSequence<D>;
}
