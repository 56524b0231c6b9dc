/**
 * The checks PyTorch's recurrent `forward` makes, in its order and words, and the native call they lead to.
 *
 * The input is checked once here; the result is a native argument record plus the shapes its buffers
 * come back in. A padded tensor is prepared by {@link preparePadded}, a PackedSequence by
 * {@link preparePacked}; both check hx the same way.
 *
 * @packageDocumentation
 */
import { describe } from '../is';
import { indexSelect } from '../index_select';
import type { NativeForwardArgs, NativeForwardResult, NativeMode } from '../native';
import { checkedCopy, PackedSequence, type IndexArray } from '../packed/packed_sequence';
import { Tensor, type FloatDType } from '../tensor';
import { numDirections, outputHiddenSize } from './rnn_parameters';
import type { RNNConfig } from './rnn_options';

/** What forward needs to know of a module. */
export interface ForwardSpec extends Omit<RNNConfig, 'dropout' | 'bias'> {
  mode: NativeMode;
  className: string;
}

/** A checked forward call: the native arguments but dropout, and the shapes of the results. */
export interface PreparedForward {
  args: Omit<NativeForwardArgs, 'dropout' | 'dropoutSeed'>;
  outputShape: number[];
  /** h_n's shape, then c_n's for LSTM. */
  stateShapes: number[][];
  /** For a PackedSequence input: what the output PackedSequence keeps, and how to restore h_n's order. */
  packed?: { batchSizes: IndexArray; sortedIndices: IndexArray | null; unsortedIndices: IndexArray | null };
}

/** LSTM carries two states (h, c); RNN and GRU one (h). */
function stateCount(mode: NativeMode): 1 | 2 {
  return mode === 'LSTM' ? 2 : 1;
}

function tuple(shape: readonly number[]): string {
  return `(${shape.join(', ')})`;
}

function list(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** hx as its list of state tensors, or undefined when absent; throws when it has the wrong form. */
function statesOf(spec: ForwardSpec, hx: unknown): Tensor[] | undefined {
  if (hx === undefined || hx === null) return undefined;
  if (stateCount(spec.mode) === 1) {
    if (!(hx instanceof Tensor)) throw new TypeError(`${spec.className}: hx must be a Tensor, got: ${describe(hx)}`);
    return [hx];
  }
  if (!Array.isArray(hx) || hx.length !== 2 || !hx.every((t) => t instanceof Tensor)) {
    throw new TypeError(`${spec.className}: hx must be an array [h_0, c_0] of two Tensors, got: ${describe(hx)}`);
  }
  return hx as Tensor[];
}

function checkInputRank(spec: ForwardSpec, input: Tensor): void {
  const rank = input.dim();
  if (rank === 2 || rank === 3) return;
  // PyTorch's RNN says "tensor instead"; its LSTM and GRU say "instead".
  const noun = spec.mode === 'RNN_TANH' || spec.mode === 'RNN_RELU' ? ' tensor' : '';
  throw new Error(`${spec.className}: Expected input to be 2D or 3D, got ${rank}D${noun} instead`);
}

function checkStateRanks(states: Tensor[], batched: boolean): void {
  const rank = batched ? 3 : 2;
  if (states.every((s) => s.dim() === rank)) return;
  const form = batched ? 'For batched 3-D input' : 'For unbatched 2-D input';
  throw new Error(
    states.length === 1
      ? `${form}, hx should also be ${rank}-D but got ${states[0].dim()}-D tensor`
      : `${form}, hx and cx should also be ${rank}-D but got (${states[0].dim()}-D, ${states[1].dim()}-D) tensors`,
  );
}

/** PyTorch's dtype check of the input against the weights. */
export function checkInputDType(dtype: FloatDType, input: Tensor): void {
  if (input.dtype !== dtype) throw new TypeError(`input must have the type ${dtype}, got type ${input.dtype}`);
}

/** The hidden states' dtypes against the weights', in PyTorch's words for the input. */
export function checkStateDTypes(dtype: FloatDType, states: Tensor[]): void {
  states.forEach((state, i) => {
    if (state.dtype !== dtype) {
      const what = states.length === 1 ? 'hx' : `hx[${i}]`;
      throw new TypeError(`${what} must have the type ${dtype}, got type ${state.dtype}`);
    }
  });
}

function checkInputSize(spec: ForwardSpec, input: Tensor): void {
  if (input.size(-1) !== spec.inputSize) {
    throw new Error(`input.size(-1) must be equal to input_size. Expected ${spec.inputSize}, got ${input.size(-1)}`);
  }
}

function checkInput(spec: ForwardSpec, input: Tensor): void {
  checkInputDType(spec.dtype, input);
  checkInputSize(spec, input);
}

/** Compares each state with its expected 3-D shape; unbatched states count as having batch 1, as PyTorch unsqueezes them. */
function checkStateSizes(spec: ForwardSpec, states: Tensor[], expected: number[][], batched: boolean): void {
  states.forEach((state, i) => {
    const actual = batched ? [...state.shape] : [state.shape[0], 1, state.shape[1]];
    if (list(actual) !== list(expected[i])) {
      const what = states.length === 1 ? 'hidden' : `hidden[${i}]`;
      throw new Error(`Expected ${what} size ${tuple(expected[i])}, got ${list(actual)}`);
    }
  });
  checkStateDTypes(spec.dtype, states);
}

/** The 3-D shape PyTorch expects of each state: h's `(numLayers * D, batch, Hout)`, then c's `(..., hiddenSize)`. */
function expectedStateShapes(spec: ForwardSpec, batch: number): number[][] {
  const layers = spec.numLayers * numDirections(spec);
  const hout = outputHiddenSize(spec);
  const stateSizes = stateCount(spec.mode) === 1 ? [hout] : [hout, spec.hiddenSize];
  return stateSizes.map((size) => [layers, batch, size]);
}

/** `[seqLen, batch]` of a padded input; an unbatched input is one sequence. */
function sequenceAndBatch(spec: ForwardSpec, input: Tensor): [number, number] {
  if (input.dim() === 2) return [input.shape[0], 1];
  return spec.batchFirst ? [input.shape[1], input.shape[0]] : [input.shape[0], input.shape[1]];
}

/**
 * `[seqLen, batch]` of a padded forward that plainly passes every check of {@link preparePadded} — input
 * `(L, N, In)`, `(N, L, In)` or `(L, In)` of the module's dtype with L > 0, absent states or states of the
 * expected shape and dtype — read with a handful of comparisons; undefined for anything else, which then
 * goes through preparePadded's checks in PyTorch's order.
 */
export function quickPaddedCall(spec: ForwardSpec, input: Tensor, hx: unknown): { seqLen: number; batch: number } | undefined {
  if (input.dtype !== spec.dtype) return undefined;
  const shape = input.shape;
  const rank = shape.length;
  if ((rank !== 2 && rank !== 3) || shape[rank - 1] !== spec.inputSize) return undefined;
  const seqLen = rank === 2 || !spec.batchFirst ? shape[0] : shape[1];
  const batch = rank === 2 ? 1 : spec.batchFirst ? shape[0] : shape[1];
  if (seqLen === 0) return undefined;
  if (hx === undefined || hx === null) return { seqLen, batch };
  const stacks = spec.numLayers * numDirections(spec);
  const hout = outputHiddenSize(spec);
  if (stateCount(spec.mode) === 1) return quickState(spec, hx, rank, stacks, batch, hout) ? { seqLen, batch } : undefined;
  if (!Array.isArray(hx) || hx.length !== 2) return undefined;
  const fits = quickState(spec, hx[0], rank, stacks, batch, hout) && quickState(spec, hx[1], rank, stacks, batch, spec.hiddenSize);
  return fits ? { seqLen, batch } : undefined;
}

function quickState(spec: ForwardSpec, state: unknown, rank: number, stacks: number, batch: number, size: number): boolean {
  if (!(state instanceof Tensor) || state.dtype !== spec.dtype) return false;
  const shape = state.shape;
  if (rank === 3) return shape.length === 3 && shape[0] === stacks && shape[1] === batch && shape[2] === size;
  return shape.length === 2 && shape[0] === stacks && shape[1] === size;
}

/**
 * Checks a padded (L, N, In) / (N, L, In) / unbatched (L, In) forward as PyTorch does — input rank, hx form
 * and rank, input dtype and size, hidden sizes, sequence length — and prepares the native call.
 */
export function preparePadded(spec: ForwardSpec, input: unknown, hx: unknown): PreparedForward {
  if (!(input instanceof Tensor)) throw new TypeError(`${spec.className}: input must be a Tensor, got: ${describe(input)}`);
  checkInputRank(spec, input);
  const states = statesOf(spec, hx);
  const batched = input.dim() === 3;
  if (states) checkStateRanks(states, batched);
  checkInput(spec, input);

  const [seqLen, batch] = sequenceAndBatch(spec, input);
  const expected = expectedStateShapes(spec, batch);
  if (states) checkStateSizes(spec, states, expected, batched);
  if (seqLen === 0) throw new Error('Expected sequence length to be larger than 0 in RNN');

  // An unbatched (L, In) input is the same buffer in either layout.
  const args: PreparedForward['args'] = { input: input.data, seqLen, batch, batchFirst: batched && spec.batchFirst };
  if (states) args.h0 = states[0].data;
  if (states?.[1]) args.c0 = states[1].data;
  return { args, ...paddedResultShapes(spec, seqLen, batch, batched) };
}

/**
 * The shapes of a padded forward's output and of its final states (h_n, and c_n for an LSTM): `(L, N, D *
 * Hout)` or `(N, L, D * Hout)` with batchFirst, `(L, D * Hout)` unbatched; states `(layers * D, N, size)`,
 * or `(layers * D, size)` unbatched.
 */
export function paddedResultShapes(spec: ForwardSpec, seqLen: number, batch: number, batched: boolean): { outputShape: number[]; stateShapes: number[][] } {
  const features = numDirections(spec) * outputHiddenSize(spec);
  const outputShape = !batched ? [seqLen, features] : spec.batchFirst ? [batch, seqLen, features] : [seqLen, batch, features];
  const stateShapes = expectedStateShapes(spec, batch).map((shape) => (batched ? shape : [shape[0], shape[2]]));
  return { outputShape, stateShapes };
}

/**
 * Checks a forward over a PackedSequence as PyTorch does — hx form, data dtype, rank and size, hidden sizes
 * against the largest batch (`batchSizes[0]`) — and prepares one native call over all sequences, the batch
 * shrinking as sequences end. A given hx is in the caller's order: it is put in sorted order here
 * (`hx.index_select(1, sorted_indices)`), and {@link forwardResult} restores the caller's order.
 */
export function preparePacked(spec: ForwardSpec, input: PackedSequence, hx: unknown): PreparedForward {
  // Copied once and checked; the copies serve everything below, the native call included.
  const seq = checkedCopy(input);
  const states = statesOf(spec, hx);
  const { data, batchSizes, sortedIndices, unsortedIndices } = seq;
  checkInputDType(spec.dtype, data);
  if (data.dim() !== 2) throw new Error(`input must have 2 dimensions, got ${data.dim()}`);
  checkInputSize(spec, data);
  const batch = batchSizes[0];
  const expected = expectedStateShapes(spec, batch);
  if (states) checkStateSizes(spec, states, expected, true);
  const sortedStates = states && sortedIndices ? states.map((s) => indexSelect(s, 1, sortedIndices)) : states;

  const args: PreparedForward['args'] = { input: data.data, seqLen: batchSizes.length, batch, batchFirst: false, batchSizes };
  if (sortedStates) args.h0 = sortedStates[0].data;
  if (sortedStates?.[1]) args.c0 = sortedStates[1].data;
  return {
    args,
    outputShape: [data.shape[0], numDirections(spec) * outputHiddenSize(spec)],
    stateShapes: expected,
    // The copies above: the caller may edit its PackedSequence's arrays while a forwardAsync runs.
    packed: { batchSizes, sortedIndices, unsortedIndices },
  };
}

/** The native results as Tensors: the output, then h_n (and c_n for LSTM). */
export function resultTensors(prepared: PreparedForward, result: NativeForwardResult): [Tensor, Tensor[]] {
  const output = new Tensor(result.output, prepared.outputShape);
  const buffers = [result.hN, result.cN];
  const states = prepared.stateShapes.map((shape, i) => {
    const data = buffers[i];
    if (data === undefined) throw new Error('the native addon returned no c_n for an LSTM');
    return new Tensor(data, shape);
  });
  return [output, states];
}

/**
 * A module's results: the output (a PackedSequence with the input's batch sizes and indices when the input
 * was one), then h_n (and c_n), in the caller's batch order.
 */
export function forwardResult(prepared: PreparedForward, result: NativeForwardResult): [Tensor | PackedSequence, Tensor[]] {
  const [output, states] = resultTensors(prepared, result);
  const packed = prepared.packed;
  if (packed === undefined) return [output, states];
  const { batchSizes, sortedIndices, unsortedIndices } = packed;
  const restored = unsortedIndices ? states.map((s) => indexSelect(s, 1, unsortedIndices)) : states;
  return [new PackedSequence(output, batchSizes, sortedIndices, unsortedIndices), restored];
}
