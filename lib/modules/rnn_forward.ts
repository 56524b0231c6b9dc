/**
 * The checks PyTorch's recurrent `forward` makes, in its order and words, and the native call they lead to.
 *
 * The input is checked once here; the result is a native argument record plus the shapes its buffers
 * come back in. A PackedSequence input will add its own preparation beside {@link preparePadded}.
 *
 * @packageDocumentation
 */
import { describe } from '../is';
import type { NativeForwardArgs, NativeForwardResult, NativeMode } from '../native';
import { Tensor } from '../tensor';
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

function checkInput(spec: ForwardSpec, input: Tensor): void {
  if (input.dtype !== spec.dtype) throw new TypeError(`input must have the type ${spec.dtype}, got type ${input.dtype}`);
  if (input.size(-1) !== spec.inputSize) {
    throw new Error(`input.size(-1) must be equal to input_size. Expected ${spec.inputSize}, got ${input.size(-1)}`);
  }
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
  states.forEach((state, i) => {
    if (state.dtype !== spec.dtype) {
      const what = states.length === 1 ? 'hx' : `hx[${i}]`;
      throw new TypeError(`${what} must have the type ${spec.dtype}, got type ${state.dtype}`);
    }
  });
}

/** `[seqLen, batch]` of a padded input; an unbatched input is one sequence. */
function sequenceAndBatch(spec: ForwardSpec, input: Tensor): [number, number] {
  if (input.dim() === 2) return [input.shape[0], 1];
  return spec.batchFirst ? [input.shape[1], input.shape[0]] : [input.shape[0], input.shape[1]];
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
  const layers = spec.numLayers * numDirections(spec);
  const hout = outputHiddenSize(spec);
  const stateSizes = stateCount(spec.mode) === 1 ? [hout] : [hout, spec.hiddenSize];
  const expected = stateSizes.map((size) => [layers, batch, size]);
  if (states) checkStateSizes(spec, states, expected, batched);
  if (seqLen === 0) throw new Error('Expected sequence length to be larger than 0 in RNN');

  const features = numDirections(spec) * hout;
  const outputShape = !batched ? [seqLen, features] : spec.batchFirst ? [batch, seqLen, features] : [seqLen, batch, features];
  // An unbatched (L, In) input is the same buffer in either layout.
  const args: PreparedForward['args'] = { input: input.data, seqLen, batch, batchFirst: batched && spec.batchFirst };
  if (states) args.h0 = states[0].data;
  if (states?.[1]) args.c0 = states[1].data;
  return {
    args,
    outputShape,
    stateShapes: expected.map((shape) => (batched ? shape : [shape[0], shape[2]])),
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
