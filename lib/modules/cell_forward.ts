/**
 * The checks PyTorch's cells make in `forward` — the module's rank checks, then ATen's
 * `check_rnn_cell_forward_input` and `check_rnn_cell_forward_hidden` — in their order and words, and the
 * one-step native call they lead to.
 *
 * @packageDocumentation
 */
import { describe } from '../is';
import type { NativeMode } from '../native';
import { Tensor, type FloatDType } from '../tensor';
import { checkInputDType, checkStateDTypes, type PreparedForward } from './rnn_forward';

/** What a cell's forward needs to know of the cell. */
export interface CellSpec {
  className: string;
  /** 1 for RNNCell and GRUCell (h), 2 for LSTMCell (h, c). */
  stateCount: 1 | 2;
  inputSize: number;
  hiddenSize: number;
  dtype: FloatDType;
  /** The engine's mode; RNNCell's throws PyTorch's `Unknown nonlinearity: ...`. */
  mode(): NativeMode;
}

/** hx as its list of state tensors, or undefined when absent; throws when it has the wrong form. */
function statesOf(spec: CellSpec, hx: unknown): Tensor[] | undefined {
  if (hx === undefined || hx === null) return undefined;
  if (spec.stateCount === 1) {
    if (!(hx instanceof Tensor)) throw new TypeError(`${spec.className}: hx must be a Tensor, got: ${describe(hx)}`);
    return [hx];
  }
  if (!Array.isArray(hx) || hx.length !== 2 || !hx.every((t) => t instanceof Tensor)) {
    throw new TypeError(`${spec.className}: hx must be an array [h_0, c_0] of two Tensors, got: ${describe(hx)}`);
  }
  return hx as Tensor[];
}

function checkStateRanks(spec: CellSpec, states: Tensor[]): void {
  states.forEach((state, i) => {
    const rank = state.dim();
    if (rank === 1 || rank === 2) return;
    const what = spec.stateCount === 1 ? 'hidden' : `hx[${i}]`;
    throw new Error(`${spec.className}: Expected ${what} to be 1D or 2D, got ${rank}D instead`);
  });
}

/**
 * ATen's hidden check for state `label`. PyTorch unsqueezes hx only when the input is unbatched, whatever
 * hx's own rank, so a 1-D hx beside a 2-D input, or a 2-D hx beside a 1-D input, is compared as it ends up.
 */
function checkHidden(spec: CellSpec, state: Tensor, batched: boolean, batch: number, label: number): void {
  const stateBatch = batched ? state.shape[0] : 1;
  if (stateBatch !== batch) throw new Error(`Input batch size ${batch} doesn't match hidden${label} batch size ${stateBatch}`);
  // state.size(1) of a 1-D hx fails as PyTorch's does: Dimension out of range.
  const stateSize = batched ? state.size(1) : state.shape[0];
  if (stateSize !== spec.hiddenSize) {
    throw new Error(`hidden${label} has inconsistent hidden_size: got ${stateSize}, expected ${spec.hiddenSize}`);
  }
  // What is left passes PyTorch's checks only to be broadcast into a result of another shape: refuse it.
  if (!batched && state.dim() !== 1) {
    throw new Error(`${spec.className}: for unbatched 1-D input, the hidden state must be 1-D too, got ${state.dim()}-D`);
  }
}

/**
 * The batch of a call that plainly passes every check below — input `(N, inputSize)` or `(inputSize)` of
 * the cell's dtype, absent states or states of the matching shape and dtype — read with a handful of
 * comparisons; -1 for anything else, which then goes through {@link prepareCell}'s checks in PyTorch's
 * order. A decoder loop calls a cell once per token with unchanged shapes: this is its path.
 */
export function quickCellBatch(spec: CellSpec, input: unknown, hx: unknown): number {
  if (!(input instanceof Tensor) || input.dtype !== spec.dtype) return -1;
  const shape = input.shape;
  const rank = shape.length;
  if ((rank !== 1 && rank !== 2) || shape[rank - 1] !== spec.inputSize) return -1;
  const batch = rank === 2 ? shape[0] : 1;
  if (hx === undefined || hx === null) return batch;
  if (spec.stateCount === 1) return quickState(spec, hx, rank, batch) ? batch : -1;
  if (!Array.isArray(hx) || hx.length !== 2) return -1;
  return quickState(spec, hx[0], rank, batch) && quickState(spec, hx[1], rank, batch) ? batch : -1;
}

function quickState(spec: CellSpec, state: unknown, rank: number, batch: number): boolean {
  if (!(state instanceof Tensor) || state.dtype !== spec.dtype) return false;
  const shape = state.shape;
  return rank === 2 ? shape.length === 2 && shape[0] === batch && shape[1] === spec.hiddenSize : shape.length === 1 && shape[0] === spec.hiddenSize;
}

/**
 * Checks `out`, the caller's tensors for a cell's results: a Tensor (LSTMCell: an array of two) of the
 * result's exact shape and the cell's dtype, the two of an LSTMCell not sharing memory. Returns them.
 */
export function checkCellOut(spec: CellSpec, out: unknown, shape: readonly number[]): Tensor[] {
  const outs = spec.stateCount === 1 ? [out] : Array.isArray(out) && out.length === 2 ? [out[0], out[1]] : undefined;
  if (outs === undefined || !(outs[0] instanceof Tensor) || (outs.length === 2 && !(outs[1] instanceof Tensor))) {
    const form = spec.stateCount === 1 ? 'a Tensor' : 'an array [h_1, c_1] of two Tensors';
    throw new TypeError(`${spec.className}: out must be ${form}, got: ${describe(out)}`);
  }
  const tensors = outs as Tensor[];
  // Plain loops: this runs once per step of a decoder loop.
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    let same = t.shape.length === shape.length;
    for (let d = 0; same && d < shape.length; d++) same = t.shape[d] === shape[d];
    const what = spec.stateCount === 1 ? 'out' : `out[${i}]`;
    if (!same) throw new Error(`${spec.className}: ${what} must have the result's shape [${shape.join(', ')}], got [${t.shape.join(', ')}]`);
    if (t.dtype !== spec.dtype) throw new TypeError(`${spec.className}: ${what} must have the type ${spec.dtype}, got type ${t.dtype}`);
  }
  if (tensors.length === 2 && sharesMemory(tensors[0].data, tensors[1].data)) {
    throw new Error(`${spec.className}: out[0] and out[1] must not share memory`);
  }
  return tensors;
}

function sharesMemory(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteLength > 0 && b.byteLength > 0 && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/**
 * Checks a cell's forward as PyTorch does — input rank, hx ranks, the nonlinearity, input size, then each
 * state's batch and hidden sizes, then dtypes — and prepares the engine's one-layer, one-step call.
 * `input` is `(N, inputSize)` or unbatched `(inputSize)`; each state `(N, hiddenSize)` or `(hiddenSize)`.
 */
export function prepareCell(spec: CellSpec, input: unknown, hx: unknown): PreparedForward {
  if (!(input instanceof Tensor)) throw new TypeError(`${spec.className}: input must be a Tensor, got: ${describe(input)}`);
  const rank = input.dim();
  if (rank !== 1 && rank !== 2) throw new Error(`${spec.className}: Expected input to be 1D or 2D, got ${rank}D instead`);
  const states = statesOf(spec, hx);
  if (states) checkStateRanks(spec, states);
  spec.mode();

  const batched = rank === 2;
  const batch = batched ? input.shape[0] : 1;
  const features = input.shape[rank - 1];
  if (features !== spec.inputSize) {
    throw new Error(`input has inconsistent input_size: got ${features} expected ${spec.inputSize}`);
  }
  states?.forEach((state, i) => checkHidden(spec, state, batched, batch, i));
  checkInputDType(spec.dtype, input);
  if (states) checkStateDTypes(spec.dtype, states);

  // (N, In) is the engine's (seqLen 1, N, In), and (N, H) its (numLayers 1, N, H): the same buffers.
  const args: PreparedForward['args'] = { input: input.data, seqLen: 1, batch, batchFirst: false };
  if (states) args.h0 = states[0].data;
  if (states?.[1]) args.c0 = states[1].data;
  const shape = batched ? [batch, spec.hiddenSize] : [spec.hiddenSize];
  return { args, outputShape: shape, stateShapes: Array.from({ length: spec.stateCount }, () => shape) };
}
