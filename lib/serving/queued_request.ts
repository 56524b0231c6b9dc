/**
 * A request as a {@link DynamicBatcher} holds it while it waits: checked, copied, and described by what
 * decides which requests can share a forward.
 *
 * @packageDocumentation
 */
import { describe } from '../is';
import type { RNNBase } from '../modules/rnn_base';
import { Tensor, type DType, type TensorData } from '../tensor';

/**
 * How a request's sequences lie in its input: one sequence `(L, *)`, or several of one length, `(L, N, *)`
 * or `(N, L, *)` with the module's batchFirst. The request's results come back laid out the same way.
 */
export type SequenceLayout = 'unbatched' | 'timeMajor' | 'batchFirst';

/** One hidden state of a request, `(S, N, H)` as data (an unbatched `(S, H)` is the same buffer with N = 1). */
export interface RequestState {
  /** A copy of the state's elements. */
  data: TensorData;
  dtype: DType;
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
  /** Steps of each of its sequences (L). */
  length: number;
  /** The shape of one step of one sequence (`*`). */
  stepShape: readonly number[];
  /** The input's dtype. */
  dtype: DType;
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
}

/** The parts of a request that the checks decide; the batcher adds the rest as it queues it. */
export type CheckedRequest = Omit<QueuedRequest, 'arrivedAt' | 'due' | 'resolve' | 'reject'>;

function copyOf(t: Tensor): TensorData {
  return t.data.slice();
}

function stateOf(t: Tensor): RequestState {
  const batched = t.dim() === 3;
  return { data: copyOf(t), dtype: t.dtype, layers: t.shape[0], features: t.shape[batched ? 2 : 1] };
}

/** Sequences pack together when their steps agree in shape and dtype, whatever layout each request used. */
function keys(stepShape: readonly number[], dtype: DType, states: RequestState[] | undefined, single: boolean) {
  const inputKey = `${dtype} [${stepShape.join(', ')}]`;
  const stateKey = states && `${single ? 'h' : 'list'} ${states.map((s) => `${s.dtype} [${s.layers}, ${s.features}]`).join(' ')}`;
  return { inputKey, stateKey };
}

/**
 * A request for a recurrent module, checked by the module itself (its own errors, in its order): unbatched
 * `(L, Hin)`, or `(L, N, Hin)` / `(N, L, Hin)` as the module's batchFirst says, with hx as its forward takes it.
 */
export function moduleRequest(module: RNNBase, input: unknown, hx: unknown): CheckedRequest {
  module.checkForwardArguments(input, hx);
  const x = input as Tensor;
  const layout: SequenceLayout = x.dim() === 2 ? 'unbatched' : module.batchFirst ? 'batchFirst' : 'timeMajor';
  const [length, count] = layout === 'unbatched' ? [x.shape[0], 1] : layout === 'batchFirst' ? [x.shape[1], x.shape[0]] : [x.shape[0], x.shape[1]];
  const given = hx === undefined || hx === null ? undefined : hx instanceof Tensor ? [hx] : (hx as Tensor[]);
  const states = given?.map(stateOf);
  const single = hx instanceof Tensor;
  const stepShape = [x.shape[x.dim() - 1]];
  return { layout, count, length, stepShape, dtype: x.dtype, input: copyOf(x), states, singleState: single, ...keys(stepShape, x.dtype, states, single) };
}

/**
 * A request for a function runner: one sequence `(L, *)` (the items `packSequence` takes), and hx as the
 * states of that one sequence, a Tensor `(S, H)` or an array of them. What else the model needs is for
 * the batcher's `validate` option to check.
 */
export function sequenceRequest(input: unknown, hx: unknown): CheckedRequest {
  if (!(input instanceof Tensor)) throw new TypeError(`DynamicBatcher: input must be a Tensor, got: ${describe(input)}`);
  if (input.dim() === 0) throw new Error('DynamicBatcher: input must be one sequence (L, *), got a 0-D tensor');
  // pack_sequence's words for an empty sequence.
  if (input.shape[0] === 0) {
    throw new Error("Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0");
  }
  let given: Tensor[] | undefined;
  if (hx instanceof Tensor) given = [hx];
  else if (Array.isArray(hx) && hx.length > 0 && hx.every((s) => s instanceof Tensor)) given = hx as Tensor[];
  else if (hx !== undefined && hx !== null) {
    throw new TypeError(`DynamicBatcher: hx must be a Tensor or an array of Tensors, got: ${describe(hx)}`);
  }
  given?.forEach((s, i) => {
    if (s.dim() !== 2) {
      const what = given?.length === 1 ? 'hx' : `hx[${i}]`;
      throw new Error(`DynamicBatcher: ${what} must be 2-D (layers, features), the state of one sequence, got ${s.dim()}-D`);
    }
  });
  const states = given?.map(stateOf);
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
