/**
 * Requests into one PackedSequence, and a runner's result back into each request's share.
 *
 * Sequences keep the order their requests arrived in as the batch's original order; the packed input is
 * sorted longest first (ties in arrival order, as PyTorch's `pack_sequence(..., enforce_sorted=False)`
 * sorts) with `sortedIndices` recording how, so a recurrent module hands h_n back in arrival order.
 *
 * @packageDocumentation
 */
import { describe } from '../is';
import { invertPermutation, PackedSequence } from '../packed/packed_sequence';
import { Tensor } from '../tensor';
import { lengthOf, stepIndex, type CheckedRequest, type PackedLayout } from './queued_request';

/** One packed batch and what it takes to split a result of it. */
export interface PackedBatch {
  packed: PackedSequence;
  /** The requests' states stacked to `(S, B, H)` (zeros for requests without), or undefined when none gave any. */
  hx: Tensor | Tensor[] | undefined;
  /** Sequences in the batch (B). */
  sequences: number;
  /** The batch index of each request's first sequence. */
  offsets: number[];
  /** The first packed row of each time step. */
  rowStarts: Int32Array;
  /** Each sequence's position in the sorted order: its row at step t is `rowStarts[t] + positions[i]`. */
  positions: Int32Array;
}

function product(shape: readonly number[]): number {
  return shape.reduce((n, s) => n * s, 1);
}

function list(values: ArrayLike<number>): string {
  return `[${Array.from(values).join(', ')}]`;
}

/** A request's output in its own layout, from the shape of one step: `(L, *)`, `(L, N, *)`, `(N, L, *)` or `(rows, *)`. */
function outputShape(request: CheckedRequest, stepShape: readonly number[]): number[] {
  const { layout, count, length } = request;
  switch (layout) {
    case 'unbatched':
      return [length, ...stepShape];
    case 'timeMajor':
      return [length, count, ...stepShape];
    case 'batchFirst':
      return [count, length, ...stepShape];
    case 'packed': {
      const { batchSizes } = request.packed as PackedLayout;
      return [batchSizes.reduce((rows, size) => rows + size, 0), ...stepShape];
    }
  }
}

/** The requests' states as `(S, B, H)` tensors, zeros for requests without; requests must agree on their shapes. */
function stackStates(requests: readonly CheckedRequest[], offsets: number[], sequences: number): Tensor | Tensor[] | undefined {
  const template = requests.find((r) => r.states !== undefined);
  if (template?.states === undefined) return undefined;
  const stacked = template.states.map((state, k) => {
    const { layers, features } = state;
    const out = Tensor.zeros([layers, sequences, features], state.dtype);
    requests.forEach((r, i) => {
      const given = r.states?.[k];
      if (given === undefined) return;
      const width = r.count * features;
      for (let s = 0; s < layers; s++) out.data.set(given.data.subarray(s * width, (s + 1) * width), (s * sequences + offsets[i]) * features);
    });
    return out;
  });
  return template.singleState ? stacked[0] : stacked;
}

/** Packs the requests' sequences, in arrival order, into one PackedSequence; all share a step shape and dtype. */
export function packRequests(requests: readonly CheckedRequest[]): PackedBatch {
  const offsets: number[] = [];
  let sequences = 0;
  for (const r of requests) {
    offsets.push(sequences);
    sequences += r.count;
  }
  const lengths = new Int32Array(sequences);
  const owner = new Int32Array(sequences);
  requests.forEach((r, i) => {
    for (let n = 0; n < r.count; n++) lengths[offsets[i] + n] = lengthOf(r, n);
    owner.fill(i, offsets[i], offsets[i] + r.count);
  });
  const order = Int32Array.from(lengths.keys()).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const positions = invertPermutation(order);

  const steps = lengths[order[0]];
  const batchSizes = new Int32Array(steps);
  const rowStarts = new Int32Array(steps);
  let running = sequences;
  let rows = 0;
  for (let t = 0; t < steps; t++) {
    while (lengths[order[running - 1]] <= t) running--;
    batchSizes[t] = running;
    rowStarts[t] = rows;
    rows += running;
  }

  const { stepShape, dtype } = requests[0];
  const inner = product(stepShape);
  const data = Tensor.zeros([rows, ...stepShape], dtype);
  for (let t = 0; t < steps; t++) {
    for (let p = 0; p < batchSizes[t]; p++) {
      const sequence = order[p];
      const r = requests[owner[sequence]];
      const from = stepIndex(r, sequence - offsets[owner[sequence]], t) * inner;
      data.data.set(r.input.subarray(from, from + inner), (rowStarts[t] + p) * inner);
    }
  }
  const sorted = order.some((v, i) => v !== i);
  return {
    packed: new PackedSequence(data, batchSizes, sorted ? order : null),
    hx: stackStates(requests, offsets, sequences),
    sequences,
    offsets,
    rowStarts,
    positions,
  };
}

/** A request's own steps of a packed output `(rows, *)`, laid out as its input was (a PackedSequence for a PackedSequence). */
function stepsOf(batch: PackedBatch, output: Tensor, request: CheckedRequest, offset: number): Tensor | PackedSequence {
  const stepShape = output.shape.slice(1);
  const inner = product(stepShape);
  const out = Tensor.zeros(outputShape(request, stepShape), output.dtype);
  for (let n = 0; n < request.count; n++) {
    const position = batch.positions[offset + n];
    const length = lengthOf(request, n);
    for (let t = 0; t < length; t++) {
      const from = (batch.rowStarts[t] + position) * inner;
      out.data.set(output.data.subarray(from, from + inner), stepIndex(request, n, t) * inner);
    }
  }
  if (request.packed === undefined) return out;
  const { batchSizes, sortedIndices, unsortedIndices } = request.packed;
  return new PackedSequence(out, batchSizes, sortedIndices, unsortedIndices);
}

/** A request's columns of a state `(S, B, H)`: `(S, N, H)`, or `(S, H)` for an unbatched request. */
function stateOf(batch: PackedBatch, state: Tensor, request: CheckedRequest, offset: number): Tensor {
  const [layers, , features] = state.shape;
  const { count } = request;
  const out = Tensor.zeros(request.layout === 'unbatched' ? [layers, features] : [layers, count, features], state.dtype);
  const width = count * features;
  for (let s = 0; s < layers; s++) {
    const from = (s * batch.sequences + offset) * features;
    out.data.set(state.data.subarray(from, from + width), s * width);
  }
  return out;
}

/** A request's rows of a per-sequence result `(B, *)`: `(N, *)`, or `(*)` for an unbatched request. */
function rowsOf(batch: PackedBatch, result: Tensor, request: CheckedRequest, offset: number): Tensor {
  const rowShape = result.shape.slice(1);
  const inner = product(rowShape);
  const out = Tensor.zeros(request.layout === 'unbatched' ? rowShape : [request.count, ...rowShape], result.dtype);
  out.data.set(result.data.subarray(offset * inner, (offset + request.count) * inner));
  return out;
}

function checkPackedOutput(batch: PackedBatch, output: PackedSequence): void {
  const expected = batch.packed.batchSizes;
  const actual = output.batchSizes;
  if (actual.length !== expected.length || actual.some((v, t) => v !== expected[t])) {
    throw new Error(`DynamicBatcher: the runner's PackedSequence must have its input's batchSizes ${list(expected)}, got ${list(actual)}`);
  }
  const rows = batch.packed.data.shape[0];
  if (output.data.dim() < 1 || output.data.shape[0] !== rows) {
    throw new Error(`DynamicBatcher: the runner's PackedSequence must have one data row per input row (${rows}), got shape ${list(output.data.shape)}`);
  }
}

function checkState(batch: PackedBatch, state: unknown): asserts state is Tensor {
  if (!(state instanceof Tensor) || state.dim() !== 3 || state.shape[1] !== batch.sequences) {
    const got = state instanceof Tensor ? `shape ${list(state.shape)}` : describe(state);
    throw new Error(`DynamicBatcher: the runner's hidden state must be a Tensor (S, ${batch.sequences}, H), one column per sequence, got ${got}`);
  }
}

/**
 * Each request's share of a runner's result (see PackedBatchResult): its steps of a PackedSequence, its rows
 * of a per-sequence Tensor, or `[steps, states]` of a module's `[output, hidden]`. Throws, naming what is
 * wrong, for a result of another form or of the wrong batch.
 */
export function splitResult(batch: PackedBatch, requests: readonly CheckedRequest[], result: unknown): unknown[] {
  const each = <T>(share: (request: CheckedRequest, offset: number) => T): T[] => requests.map((r, i) => share(r, batch.offsets[i]));
  if (result instanceof PackedSequence) {
    checkPackedOutput(batch, result);
    return each((r, offset) => stepsOf(batch, result.data, r, offset));
  }
  if (result instanceof Tensor) {
    if (result.dim() < 1 || result.shape[0] !== batch.sequences) {
      throw new Error(
        `DynamicBatcher: a Tensor result must have one row per sequence (${batch.sequences}), in the batch's original order, got shape ${list(result.shape)}`,
      );
    }
    return each((r, offset) => rowsOf(batch, result, r, offset));
  }
  if (Array.isArray(result) && result.length === 2 && result[0] instanceof PackedSequence) {
    const [output, hidden] = result as [PackedSequence, unknown];
    checkPackedOutput(batch, output);
    const states = Array.isArray(hidden) && hidden.length > 0 ? (hidden as unknown[]) : [hidden];
    states.forEach((s) => checkState(batch, s));
    return each((r, offset) => {
      const own = (states as Tensor[]).map((s) => stateOf(batch, s, r, offset));
      return [stepsOf(batch, output.data, r, offset), Array.isArray(hidden) ? own : own[0]];
    });
  }
  throw new TypeError(
    `DynamicBatcher: the runner must resolve to a PackedSequence, a Tensor with one row per sequence, or [PackedSequence, hidden], got: ${describe(result)}`,
  );
}
