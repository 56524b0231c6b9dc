/**
 * A request as a {@link DynamicBatcher} holds it while it waits: checked, copied, and described by what
 * decides which requests can share a forward.
 *
 * @packageDocumentation
 */
import { describe } from '../is';
import type { Hidden, RNNBase } from '../modules/rnn_base';
import { checkPackedSequence, invertPermutation, PackedSequence, type IndexArray } from '../packed/packed_sequence';
import { Tensor, type FloatDType, type TensorData } from '../tensor';

/**
 * How a request's sequences lie in its input: one sequence `(L, *)`; several of one length, `(L, N, *)`
 * or `(N, L, *)` with the module's batchFirst; or a PackedSequence of several lengths. The request's
 * results come back laid out the same way.
 */
export type SequenceLayout = 'unbatched' | 'timeMajor' | 'batchFirst' | 'packed';

/** Where each step of each sequence of a PackedSequence request lies, and what its output PackedSequence keeps. */
export interface PackedLayout {
  batchSizes: IndexArray;
  sortedIndices: IndexArray | null;
  unsortedIndices: IndexArray | null;
  /** The first row of each step. */
  rowStarts: IndexArray;
  /** Each sequence's (in the caller's order) position among the sorted ones. */
  positions: IndexArray;
  /** Each sequence's length, in the caller's order. */
  lengths: IndexArray;
}

/** One hidden state of a request, `(S, N, H)` as data (an unbatched `(S, H)` is the same buffer with N = 1). */
export interface RequestState {
  /** A copy of the state's elements. */
  data: TensorData;
  dtype: FloatDType;
  /** S: layers times directions. */
  layers: number;
  /** H: the state's features. */
  features: number;
}

/** A checked request, its buffers copied so that the caller may reuse them at once, as forwardAsync allows. */
export interface QueuedRequest {
  /** How its input lies, and so how its results are laid out. */
  layout: SequenceLayout;
  /** Sequences it holds (N; 1 when unbatched). */
  count: number;
  /** Steps of each of its sequences (L); of the longest for a PackedSequence. */
  length: number;
  /** For a PackedSequence request: where its steps lie. */
  packed?: PackedLayout;
  /** The shape of one step of one sequence (`*`). */
  stepShape: readonly number[];
  /** The input's dtype. */
  dtype: FloatDType;
  /** The input's elements, in its own layout. */
  input: TensorData;
  /** Its hx as given, one entry per state (h; h and c), or undefined for zeros. */
  states: RequestState[] | undefined;
  /** Whether hx was one Tensor (true) or an array of Tensors (false). */
  singleState: boolean;
  /** Requests can share a packed input only when these are equal. */
  inputKey: string;
  /** Requests that gave hx can share a batch only when these are equal; undefined without hx. */
  stateKey: string | undefined;
  /** `performance.now()` when it arrived. */
  arrivedAt: number;
  /** Set when its delay has run out: its batch starts at the next free slot. */
  due: boolean;
  /** Settle the caller's Promise; the batcher calls exactly one of them, once. */
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Stops listening to the caller's abort signal, if it gave one. */
  detach?: () => void;
  /**
   * For a module's Tensor request: its input and hx as given (over the copies above), so that a request
   * that has a batch to itself runs exactly as it would alone, without packing.
   */
  alone?: { input: Tensor; hx: Hidden | undefined };
}

/** The parts of a request that the checks decide; the batcher adds the rest as it queues it. */
export type CheckedRequest = Omit<QueuedRequest, 'arrivedAt' | 'due' | 'resolve' | 'reject' | 'detach'>;

/** Steps of sequence n of a request. */
export function lengthOf(request: CheckedRequest, n: number): number {
  return request.packed ? request.packed.lengths[n] : request.length;
}

/** Where step t of sequence n of a request lies, counted in steps, in its own layout (its input's and its output's). */
export function stepIndex(request: CheckedRequest, n: number, t: number): number {
  switch (request.layout) {
    case 'unbatched':
      return t;
    case 'timeMajor':
      return t * request.count + n;
    case 'batchFirst':
      return n * request.length + t;
    case 'packed': {
      const { rowStarts, positions } = request.packed as PackedLayout;
      return rowStarts[t] + positions[n];
    }
  }
}

/** The layout of a (checked) PackedSequence, its arrays copied: the caller may edit its own afterwards. */
function packedLayout(seq: PackedSequence): PackedLayout {
  const batchSizes = seq.batchSizes.slice();
  const rowStarts = new Int32Array(batchSizes.length);
  for (let t = 1; t < batchSizes.length; t++) rowStarts[t] = rowStarts[t - 1] + batchSizes[t - 1];
  const count = batchSizes[0];
  const unsortedIndices = seq.unsortedIndices?.slice() ?? null;
  const positions = unsortedIndices ?? Int32Array.from({ length: count }, (_, n) => n);
  const sortedLengths = new Int32Array(count);
  for (const size of batchSizes) for (let p = 0; p < size; p++) sortedLengths[p]++;
  const lengths = Int32Array.from(positions, (p) => sortedLengths[p]);
  const sortedIndices = seq.sortedIndices?.slice() ?? (unsortedIndices && invertPermutation(unsortedIndices));
  return { batchSizes, sortedIndices, unsortedIndices, rowStarts, positions, lengths };
}

function copyOf(t: Tensor): TensorData {
  return t.data.slice();
}

function stateOf(t: Tensor): RequestState {
  const batched = t.dim() === 3;
  return { data: copyOf(t), dtype: t.dtype, layers: t.shape[0], features: t.shape[batched ? 2 : 1] };
}

/** Sequences pack together when their steps agree in shape and dtype, whatever layout each request used. */
function keys(stepShape: readonly number[], dtype: FloatDType, states: RequestState[] | undefined, single: boolean) {
  const inputKey = `${dtype} [${stepShape.join(', ')}]`;
  const stateKey = states && `${single ? 'h' : 'list'} ${states.map((s) => `${s.dtype} [${s.layers}, ${s.features}]`).join(' ')}`;
  return { inputKey, stateKey };
}

/** hx as its list of states, or undefined; the caller has checked its form. */
function statesOf(hx: unknown): RequestState[] | undefined {
  if (hx === undefined || hx === null) return undefined;
  return (hx instanceof Tensor ? [hx] : (hx as Tensor[])).map(stateOf);
}

/** A request of several sequences given as a PackedSequence: their steps and lengths as it packs them. */
function packedRequest(input: PackedSequence, hx: unknown): CheckedRequest {
  const packed = packedLayout(input);
  const { data } = input;
  const stepShape = data.shape.slice(1);
  const states = statesOf(hx);
  const single = hx instanceof Tensor;
  return {
    layout: 'packed',
    count: packed.batchSizes[0],
    length: packed.batchSizes.length,
    packed,
    stepShape,
    dtype: data.dtype,
    input: copyOf(data),
    states,
    singleState: single,
    ...keys(stepShape, data.dtype, states, single),
  };
}

/**
 * A request for a recurrent module, checked by the module itself (its own errors, in its order): unbatched
 * `(L, Hin)`; `(L, N, Hin)` / `(N, L, Hin)` as the module's batchFirst says; or a PackedSequence; with hx
 * as its forward takes it.
 */
export function moduleRequest(module: RNNBase, input: unknown, hx: unknown): CheckedRequest {
  module.checkForwardArguments(input, hx);
  if (input instanceof PackedSequence) return packedRequest(input, hx);
  const x = input as Tensor;
  const layout: SequenceLayout = x.dim() === 2 ? 'unbatched' : module.batchFirst ? 'batchFirst' : 'timeMajor';
  const [length, count] = layout === 'unbatched' ? [x.shape[0], 1] : layout === 'batchFirst' ? [x.shape[1], x.shape[0]] : [x.shape[0], x.shape[1]];
  const states = statesOf(hx);
  const single = hx instanceof Tensor;
  const stepShape = [x.shape[x.dim() - 1]];
  const data = copyOf(x);
  const given = hx === undefined || hx === null ? undefined : hx instanceof Tensor ? [hx] : (hx as Tensor[]);
  const copies = given?.map((t, i) => new Tensor((states as RequestState[])[i].data, t.shape, t.dtype));
  const alone = { input: new Tensor(data, x.shape, x.dtype), hx: (single ? copies?.[0] : copies) as Hidden | undefined };
  return { layout, count, length, stepShape, dtype: x.dtype, input: data, states, singleState: single, alone, ...keys(stepShape, x.dtype, states, single) };
}

/** The states a function runner's request gives: each `(S, H)` for one sequence, `(S, N, H)` for a PackedSequence of N. */
function functionStates(hx: unknown, sequences: number | undefined): Tensor[] | undefined {
  if (hx === undefined || hx === null) return undefined;
  let given: Tensor[];
  if (hx instanceof Tensor) given = [hx];
  else if (Array.isArray(hx) && hx.length > 0 && hx.every((s) => s instanceof Tensor)) given = hx as Tensor[];
  else throw new TypeError(`DynamicBatcher: hx must be a Tensor or an array of Tensors, got: ${describe(hx)}`);
  given.forEach((s, i) => {
    const what = given.length === 1 ? 'hx' : `hx[${i}]`;
    if (sequences === undefined && s.dim() !== 2) {
      throw new Error(`DynamicBatcher: ${what} must be 2-D (layers, features), the state of one sequence, got ${s.dim()}-D`);
    }
    if (sequences !== undefined && (s.dim() !== 3 || s.shape[1] !== sequences)) {
      throw new Error(`DynamicBatcher: ${what} must be (layers, ${sequences}, features), one column per sequence, got [${s.shape.join(', ')}]`);
    }
  });
  return given;
}

/**
 * A request for a function runner: one sequence `(L, *)` (the items `packSequence` takes) with hx the
 * states of that one sequence, each `(S, H)`; or a PackedSequence of N sequences with hx each `(S, N, H)`.
 * What else the model needs is for the batcher's `validate` option to check.
 */
export function sequenceRequest(input: unknown, hx: unknown): CheckedRequest {
  if (input instanceof PackedSequence) {
    checkPackedSequence(input);
    functionStates(hx, input.batchSizes[0]);
    return packedRequest(input, hx);
  }
  if (!(input instanceof Tensor)) throw new TypeError(`DynamicBatcher: input must be a Tensor or a PackedSequence, got: ${describe(input)}`);
  if (input.dim() === 0) throw new Error('DynamicBatcher: input must be one sequence (L, *), got a 0-D tensor');
  // pack_sequence's words for an empty sequence.
  if (input.shape[0] === 0) {
    throw new Error("Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0");
  }
  functionStates(hx, undefined);
  const states = statesOf(hx);
  const single = hx instanceof Tensor;
  const stepShape = input.shape.slice(1);
  return {
    layout: 'unbatched',
    count: 1,
    length: input.shape[0],
    stepShape,
    dtype: input.dtype,
    input: copyOf(input),
    states,
    singleState: single,
    ...keys(stepShape, input.dtype, states, single),
  };
}
