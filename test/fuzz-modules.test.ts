/**
 * Property-based fuzzing of the constructors, forward / forwardAsync of the modules and cells, packed
 * sequences, and the native addon's own contract (lib/native.ts), with fast-check.
 *
 * Every property draws arguments that are valid or broken in one or several ways (wrong ranks, sizes,
 * dtypes, NaN, negative, huge or fractional sizes, values of the wrong type) and decides independently,
 * from PyTorch's rules (/work/shared/PYTORCH-SEMANTICS.md), whether the call must succeed and with which
 * shapes. A call that must fail has to throw an Error (a forwardAsync: reject with one); one that must
 * succeed has to return exactly those shapes. A crash in the addon kills the jest worker, which fails the
 * file as well. Seeds are fixed so that a failure reproduces; fast-check prints the shrunk counterexample.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';
import { types } from 'util';
import fc from 'fast-check';
import {
  GRU,
  GRUCell,
  LSTM,
  LSTMCell,
  PackedSequence,
  RNN,
  RNNCell,
  Tensor,
  packPaddedSequence,
} from '../lib';
import { native, type NativeArray, type NativeMode, type NativeModelSpec } from '../lib/native';

const SEED = 20240611;
const RUNS = 300;

jest.setTimeout(60_000);

/** PyTorch's warning for dropout with one layer is expected here and is not the subject. */
beforeAll(() => jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined));
afterAll(() => jest.restoreAllMocks());

type ModuleKind = 'RNN' | 'LSTM' | 'GRU';
type CellKind = 'RNNCell' | 'LSTMCell' | 'GRUCell';
type DType = 'float32' | 'float64';

const GATES: Record<ModuleKind, number> = { RNN: 1, LSTM: 4, GRU: 3 };
const CELL_GATES: Record<CellKind, number> = { RNNCell: 1, LSTMCell: 4, GRUCell: 3 };

/** Values of the wrong kind for any option: none of these is a valid size, flag, dtype or probability. */
const JUNK = [NaN, -1, 1.5, -0.5, Infinity, -Infinity, 2 ** 53, '3', null, {}, [], [2], () => 1, Symbol('s'), 10n];

function isSafeNonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function zeros(shape: number[], dtype: DType): Tensor {
  return Tensor.zeros(shape, dtype);
}

/** A tensor of the given shape filled with small varied values. */
function filled(shape: number[], dtype: DType, seed = 1): Tensor {
  const t = Tensor.zeros(shape, dtype);
  for (let i = 0; i < t.data.length; i++) t.data[i] = Math.sin(seed * 7.1 + i * 1.3) * 0.9;
  return t;
}

/** The outcome of a call: its value, or the thrown value. */
function attempt<T>(f: () => T): { ok: true; value: T } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
}

async function attemptAsync<T>(f: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await f() };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * True for an Error of any realm: errors the addon throws are made in Node's main context, not in the
 * jest sandbox, so `instanceof Error` would be false for them.
 */
function isError(value: unknown): value is Error {
  return types.isNativeError(value) || value instanceof Error;
}

/** Fails with the thrown value itself when a call that must succeed threw (its message is the clue). */
function expectOutcome<T>(outcome: { ok: true; value: T } | { ok: false; error: unknown }, mustSucceed: boolean): T | undefined {
  if (!outcome.ok) {
    if (!isError(outcome.error)) throw new Error(`threw a non-Error: ${String(outcome.error)}`);
    if (mustSucceed) throw new Error(`a valid call failed: ${outcome.error.message}`);
    return undefined;
  }
  if (!mustSucceed) throw new Error('an invalid call succeeded');
  return outcome.value;
}

// ---------------------------------------------------------------- constructors

/** A size option: mostly small valid integers, sometimes junk, sometimes too large to allocate. */
const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 5 }) },
  { weight: 2, arbitrary: fc.constantFrom(...JUNK) },
  { weight: 1, arbitrary: fc.constant(2 ** 40) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const flagArb = fc.oneof({ weight: 5, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 'true', null, undefined) });
const dtypeArb = fc.oneof({ weight: 5, arbitrary: fc.constantFrom('float32', 'float64') }, { weight: 1, arbitrary: fc.constantFrom('float16', 'int32', 1, null, undefined) });
const dropoutArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 0.25, 1) }, { weight: 1, arbitrary: fc.constantFrom(-0.1, 1.5, NaN, '0.5', true, undefined) });

interface DrawnOptions {
  inputSize: unknown;
  hiddenSize: unknown;
  numLayers: unknown;
  bias: unknown;
  batchFirst: unknown;
  dropout: unknown;
  bidirectional: unknown;
  dtype: unknown;
  projSize: unknown;
  nonlinearity: unknown;
}

const optionsArb = fc.record({
  inputSize: sizeArb,
  hiddenSize: sizeArb,
  // Kept small: the oracle lists every parameter. Huge layer counts are refused before anything is
  // allocated (test/module-sizes.test.ts).
  numLayers: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 1, arbitrary: fc.constantFrom(NaN, -1, 1.5, '2', null, 2 ** 53, undefined) }),
  bias: flagArb,
  batchFirst: flagArb,
  dropout: dropoutArb,
  bidirectional: flagArb,
  dtype: dtypeArb,
  projSize: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 4 }) }, { weight: 1, arbitrary: fc.constantFrom(-1, 1.5, NaN, '1', undefined) }),
  nonlinearity: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('tanh', 'relu') }, { weight: 1, arbitrary: fc.constantFrom('sigmoid', 'TANH', 1, null, undefined) }),
});

/** Which options each class takes; the others are left out of the options object. */
function optionRecord(kind: ModuleKind | CellKind, drawn: DrawnOptions, extraKey: string | null): Record<string, unknown> {
  const names = kind.endsWith('Cell')
    ? ['inputSize', 'hiddenSize', 'bias', 'dtype', ...(kind === 'RNNCell' ? ['nonlinearity'] : [])]
    : ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional', 'dtype', ...(kind === 'LSTM' ? ['projSize'] : []), ...(kind === 'RNN' ? ['nonlinearity'] : [])];
  const record: Record<string, unknown> = {};
  for (const name of names) record[name] = drawn[name as keyof DrawnOptions];
  if (extraKey !== null) record[extraKey] = 1;
  return record;
}

/** Parameter names and shapes by PyTorch's rules, or the reason the options are refused. */
function expectedParameters(kind: ModuleKind | CellKind, o: Record<string, unknown>, extraKey: string | null): [string, number[]][] | 'invalid' {
  if (extraKey !== null) return 'invalid';
  const or = <T>(v: unknown, d: T): unknown => (v === undefined ? d : v);
  const inputSize = o.inputSize;
  const hiddenSize = o.hiddenSize;
  const bias = or(o.bias, true);
  const dtype = or(o.dtype, 'float32');
  if (typeof bias !== 'boolean' || (dtype !== 'float32' && dtype !== 'float64')) return 'invalid';
  if (!isSafeNonNegativeInt(inputSize) || !isSafeNonNegativeInt(hiddenSize)) return 'invalid';
  if (kind.endsWith('Cell')) {
    // Cells check nothing else at construction (a bad nonlinearity fails in forward, as in PyTorch).
    const G = CELL_GATES[kind as CellKind] * hiddenSize;
    const shapes: [string, number[]][] = [['weight_ih', [G, inputSize]], ['weight_hh', [G, hiddenSize]]];
    if (bias) shapes.push(['bias_ih', [G]], ['bias_hh', [G]]);
    return shapes;
  }
  const numLayers = or(o.numLayers, 1);
  const batchFirst = or(o.batchFirst, false);
  const bidirectional = or(o.bidirectional, false);
  const dropout = or(o.dropout, 0);
  const projSize = or(o.projSize, 0);
  const nonlinearity = or(o.nonlinearity, 'tanh');
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout <= 1)) return 'invalid';
  if (hiddenSize === 0 || !isSafeNonNegativeInt(numLayers) || numLayers === 0) return 'invalid';
  if (!isSafeNonNegativeInt(projSize) || projSize >= hiddenSize) return 'invalid';
  if (typeof batchFirst !== 'boolean' || typeof bidirectional !== 'boolean') return 'invalid';
  if (kind === 'RNN' && nonlinearity !== 'tanh' && nonlinearity !== 'relu') return 'invalid';
  const G = GATES[kind as ModuleKind] * hiddenSize;
  const hout = projSize || hiddenSize;
  const D = bidirectional ? 2 : 1;
  const shapes: [string, number[]][] = [];
  for (let l = 0; l < numLayers; l++) {
    for (const suffix of D === 2 ? ['', '_reverse'] : ['']) {
      shapes.push([`weight_ih_l${l}${suffix}`, [G, l === 0 ? inputSize : D * hout]], [`weight_hh_l${l}${suffix}`, [G, hout]]);
      if (bias) shapes.push([`bias_ih_l${l}${suffix}`, [G]], [`bias_hh_l${l}${suffix}`, [G]]);
      if (projSize > 0) shapes.push([`weight_hr_l${l}${suffix}`, [projSize, hiddenSize]]);
    }
  }
  return shapes;
}

const CTORS: Record<ModuleKind | CellKind, new (...args: never[]) => RNN | LSTM | GRU | RNNCell | LSTMCell | GRUCell> = {
  RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell,
};

describe('constructors', () => {
  it('build exactly PyTorch\'s parameters for valid options and throw an Error for anything else', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<ModuleKind | CellKind>('RNN', 'LSTM', 'GRU', 'RNNCell', 'LSTMCell', 'GRUCell'),
        optionsArb,
        fc.constantFrom('object', 'positional', 'positional-layers'),
        fc.option(fc.constantFrom('hidden_size', 'input', 'layers', '__proto__x'), { freq: 8 }),
        (kind, drawn, form, extraKey) => {
          const options = optionRecord(kind, drawn, extraKey);
          const Ctor = CTORS[kind] as unknown as new (...args: unknown[]) => { namedParameters(): Iterable<[string, Tensor]> | [string, Tensor][] };
          const isCell = kind.endsWith('Cell');
          let args: unknown[] = [options];
          if (form !== 'object') {
            // PyTorch's positional forms: (inputSize, hiddenSize, options) and, for the modules,
            // (inputSize, hiddenSize, numLayers, options). Cells have no numLayers.
            const { inputSize, hiddenSize, numLayers, ...rest } = options;
            if (form === 'positional-layers' && !isCell) args = [inputSize, hiddenSize, numLayers, rest];
            else args = [inputSize, hiddenSize, isCell ? rest : { numLayers, ...rest }];
          }
          const effective = expectedParameters(kind, options, extraKey);
          // Parameters of more than 2^32 elements cannot be allocated, and sizes beyond 2^31 - 1 are more
          // than the engine takes (even where they allocate nothing, e.g. a cell with hiddenSize 0): those
          // constructions must throw too.
          const tooBig =
            effective !== 'invalid' &&
            (effective.some(([, s]) => s.reduce((a, b) => a * b, 1) > 2 ** 32) ||
              [options.inputSize, options.hiddenSize].some((size) => typeof size === 'number' && size > 2 ** 31 - 1));
          const outcome = attempt(() => new Ctor(...args));
          const module = expectOutcome(outcome, effective !== 'invalid' && !tooBig);
          if (module && effective !== 'invalid') {
            const got = [...module.namedParameters()].map(([name, t]) => [name, [...t.shape]]);
            expect(got).toEqual(effective);
          }
        },
      ),
      { seed: SEED, numRuns: 600 },
    );
  });
});

// ---------------------------------------------------------------- module forward

interface ModuleConfig {
  kind: ModuleKind;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bias: boolean;
  batchFirst: boolean;
  bidirectional: boolean;
  projSize: number;
  dtype: DType;
  nonlinearity: 'tanh' | 'relu';
}

const moduleConfigArb: fc.Arbitrary<ModuleConfig> = fc
  .record({
    kind: fc.constantFrom<ModuleKind>('RNN', 'LSTM', 'GRU'),
    inputSize: fc.integer({ min: 0, max: 4 }),
    hiddenSize: fc.integer({ min: 1, max: 4 }),
    numLayers: fc.integer({ min: 1, max: 2 }),
    bias: fc.boolean(),
    batchFirst: fc.boolean(),
    bidirectional: fc.boolean(),
    projFraction: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    dtype: fc.constantFrom<DType>('float32', 'float64'),
    nonlinearity: fc.constantFrom<'tanh' | 'relu'>('tanh', 'relu'),
  })
  .map(({ projFraction, ...c }) => ({ ...c, projSize: c.kind === 'LSTM' ? Math.floor(projFraction * c.hiddenSize) : 0 }));

function buildModule(c: ModuleConfig): RNN | LSTM | GRU {
  const base = { inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, bias: c.bias, batchFirst: c.batchFirst, bidirectional: c.bidirectional, dtype: c.dtype };
  const module = c.kind === 'LSTM' ? new LSTM({ ...base, projSize: c.projSize }) : c.kind === 'GRU' ? new GRU(base) : new RNN({ ...base, nonlinearity: c.nonlinearity });
  return module.eval();
}

/** A tensor described by the property: a shape and a dtype, or something that is not a Tensor at all. */
type TensorSpec = { shape: number[]; dtype: DType } | { junk: unknown };

function makeTensor(spec: TensorSpec, seed: number): unknown {
  return 'junk' in spec ? spec.junk : filled(spec.shape, spec.dtype, seed);
}

/** A shape near `target`: itself, one size changed, a dimension added or dropped. */
function nearShape(target: number[]): fc.Arbitrary<number[]> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(target) },
    { weight: 2, arbitrary: fc.tuple(fc.nat({ max: Math.max(0, target.length - 1) }), fc.integer({ min: 0, max: 5 })).map(([i, v]) => target.map((s, j) => (j === i ? v : s))) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }).map((v) => [...target, v]) },
    { weight: 1, arbitrary: fc.constant(target.slice(1)) },
  );
}

function tensorNear(target: number[], dtype: DType): fc.Arbitrary<TensorSpec> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.tuple(nearShape(target), fc.constantFrom<DType>(dtype, dtype, dtype, dtype === 'float32' ? 'float64' : 'float32')).map(([shape, dt]) => ({ shape, dtype: dt })) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>([1, 2], new Float32Array(4), 'x', 0, { shape: target, data: [] }).map((junk) => ({ junk })) },
  );
}

interface ForwardDraw {
  config: ModuleConfig;
  input: TensorSpec;
  hx: 'none' | 'null' | TensorSpec[] | { junk: unknown };
  async: boolean;
}

const moduleForwardArb: fc.Arbitrary<ForwardDraw> = moduleConfigArb.chain((config) => {
  const hout = config.projSize || config.hiddenSize;
  const D = config.bidirectional ? 2 : 1;
  return fc
    .record({ seqLen: fc.integer({ min: 0, max: 4 }), batch: fc.integer({ min: 0, max: 3 }), unbatched: fc.boolean() })
    .chain(({ seqLen, batch, unbatched }) => {
      const inputShape = unbatched ? [seqLen, config.inputSize] : config.batchFirst ? [batch, seqLen, config.inputSize] : [seqLen, batch, config.inputSize];
      const stateShape = (width: number): number[] => (unbatched ? [config.numLayers * D, width] : [config.numLayers * D, batch, width]);
      const states = config.kind === 'LSTM' ? fc.tuple(tensorNear(stateShape(hout), config.dtype), tensorNear(stateShape(config.hiddenSize), config.dtype)) : tensorNear(stateShape(hout), config.dtype).map((s) => [s]);
      return fc.record({
        config: fc.constant(config),
        input: tensorNear(inputShape, config.dtype),
        hx: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom<'none' | 'null'>('none', 'null') },
          { weight: 6, arbitrary: states },
          { weight: 1, arbitrary: fc.constantFrom<unknown>(1, 'h', [null, null], {}).map((junk) => ({ junk })) },
        ),
        async: fc.boolean(),
      });
    });
});

interface ExpectedForward {
  output: number[];
  states: number[][];
}

/** PyTorch's rules for a padded forward, from the drawn descriptions alone: the result shapes, or 'invalid'. */
function expectedForward(d: ForwardDraw): ExpectedForward | 'invalid' {
  const c = d.config;
  if ('junk' in d.input) return 'invalid';
  const { shape, dtype } = d.input;
  if (shape.length !== 2 && shape.length !== 3) return 'invalid';
  const batched = shape.length === 3;
  const D = c.bidirectional ? 2 : 1;
  const hout = c.projSize || c.hiddenSize;
  const [seqLen, batch] = !batched ? [shape[0], 1] : c.batchFirst ? [shape[1], shape[0]] : [shape[0], shape[1]];
  const stateShapes = (c.kind === 'LSTM' ? [hout, c.hiddenSize] : [hout]).map((w) => (batched ? [c.numLayers * D, batch, w] : [c.numLayers * D, w]));
  if (d.hx !== 'none' && d.hx !== 'null') {
    if (!Array.isArray(d.hx)) return 'invalid';
    if (d.hx.some((s) => 'junk' in s)) return 'invalid';
    const states = d.hx as { shape: number[]; dtype: DType }[];
    if (states.some((s) => s.shape.length !== shape.length)) return 'invalid';
    if (dtype !== c.dtype || shape[shape.length - 1] !== c.inputSize) return 'invalid';
    if (states.some((s, i) => s.shape.join() !== stateShapes[i].join() || s.dtype !== c.dtype)) return 'invalid';
  }
  if (dtype !== c.dtype || shape[shape.length - 1] !== c.inputSize) return 'invalid';
  if (seqLen === 0) return 'invalid';
  const features = D * hout;
  return { output: !batched ? [seqLen, features] : c.batchFirst ? [batch, seqLen, features] : [seqLen, batch, features], states: stateShapes };
}

function hxValue(d: ForwardDraw, kind: ModuleKind | CellKind): unknown {
  if (d.hx === 'none') return undefined;
  if (d.hx === 'null') return null;
  if (!Array.isArray(d.hx)) return d.hx.junk;
  const states = d.hx.map((s, i) => makeTensor(s, 10 + i));
  return kind === 'LSTM' || kind === 'LSTMCell' ? states : states[0];
}

function shapesOf(result: unknown): { output: number[]; states: number[][] } {
  const [output, state] = result as [Tensor, Tensor | Tensor[]];
  const states = Array.isArray(state) ? state : [state];
  return { output: [...output.shape], states: states.map((s) => [...s.shape]) };
}

describe('module forward', () => {
  it('returns PyTorch\'s shapes for valid calls and throws (or rejects with) an Error otherwise', async () => {
    await fc.assert(
      fc.asyncProperty(moduleForwardArb, async (d) => {
        const module = buildModule(d.config) as unknown as { forward(...a: unknown[]): unknown; forwardAsync(...a: unknown[]): Promise<unknown> };
        const expected = expectedForward(d);
        const input = makeTensor(d.input, 3);
        const hx = hxValue(d, d.config.kind);
        const outcome = d.async ? await attemptAsync(() => module.forwardAsync(input, hx)) : attempt(() => module.forward(input, hx));
        const result = expectOutcome(outcome, expected !== 'invalid');
        if (result !== undefined && expected !== 'invalid') {
          expect(shapesOf(result)).toEqual(expected);
          const [output] = result as [Tensor];
          expect(output.dtype).toBe(d.config.dtype);
        }
      }),
      { seed: SEED + 1, numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------- cells

interface CellDraw {
  kind: CellKind;
  inputSize: number;
  hiddenSize: number;
  bias: boolean;
  dtype: DType;
  nonlinearity: unknown;
  input: TensorSpec;
  hx: 'none' | 'null' | TensorSpec[] | { junk: unknown };
  async: boolean;
}

const cellArb: fc.Arbitrary<CellDraw> = fc
  .record({
    kind: fc.constantFrom<CellKind>('RNNCell', 'LSTMCell', 'GRUCell'),
    inputSize: fc.integer({ min: 0, max: 4 }),
    // hidden_size 0 is allowed for cells, as in PyTorch.
    hiddenSize: fc.integer({ min: 0, max: 4 }),
    bias: fc.boolean(),
    dtype: fc.constantFrom<DType>('float32', 'float64'),
    nonlinearity: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('tanh', 'relu') }, { weight: 1, arbitrary: fc.constantFrom('gelu', 3) }),
    batch: fc.integer({ min: 0, max: 3 }),
    unbatched: fc.boolean(),
    async: fc.boolean(),
  })
  .chain((c) => {
    const lead = c.unbatched ? [] : [c.batch];
    const state = tensorNear([...lead, c.hiddenSize], c.dtype);
    return fc.record({
      kind: fc.constant(c.kind),
      inputSize: fc.constant(c.inputSize),
      hiddenSize: fc.constant(c.hiddenSize),
      bias: fc.constant(c.bias),
      dtype: fc.constant(c.dtype),
      nonlinearity: fc.constant(c.nonlinearity),
      input: tensorNear([...lead, c.inputSize], c.dtype),
      hx: fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom<'none' | 'null'>('none', 'null') },
        { weight: 6, arbitrary: c.kind === 'LSTMCell' ? fc.tuple(state, state) : state.map((s) => [s]) },
        { weight: 1, arbitrary: fc.constantFrom<unknown>(2, [null], 'h').map((junk) => ({ junk })) },
      ),
      async: fc.constant(c.async),
    });
  });

/** PyTorch's rules for a cell's forward (ATen's check_rnn_cell_forward_*): the state shape, or 'invalid'. */
function expectedCell(d: CellDraw): number[] | 'invalid' {
  if ('junk' in d.input) return 'invalid';
  const { shape, dtype } = d.input;
  if (shape.length !== 1 && shape.length !== 2) return 'invalid';
  let states: { shape: number[]; dtype: DType }[] = [];
  if (d.hx !== 'none' && d.hx !== 'null') {
    if (!Array.isArray(d.hx) || d.hx.some((s) => 'junk' in s)) return 'invalid';
    states = d.hx as { shape: number[]; dtype: DType }[];
    if (states.some((s) => s.shape.length !== 1 && s.shape.length !== 2)) return 'invalid';
  }
  if (d.kind === 'RNNCell' && d.nonlinearity !== 'tanh' && d.nonlinearity !== 'relu') return 'invalid';
  if (shape[shape.length - 1] !== d.inputSize) return 'invalid';
  const batched = shape.length === 2;
  const expected = batched ? [shape[0], d.hiddenSize] : [d.hiddenSize];
  // A state must have exactly the result's shape (PyTorch would broadcast some mismatches into an odd
  // result; this library refuses them, which the contract allows: an Error).
  if (states.some((s) => s.shape.join() !== expected.join())) return 'invalid';
  if (dtype !== d.dtype || states.some((s) => s.dtype !== d.dtype)) return 'invalid';
  return expected;
}

describe('cell forward', () => {
  it('returns PyTorch\'s shapes for valid calls and throws (or rejects with) an Error otherwise', async () => {
    await fc.assert(
      fc.asyncProperty(cellArb, async (d) => {
        const options = { inputSize: d.inputSize, hiddenSize: d.hiddenSize, bias: d.bias, dtype: d.dtype };
        const cell = (d.kind === 'LSTMCell' ? new LSTMCell(options) : d.kind === 'GRUCell' ? new GRUCell(options) : new RNNCell({ ...options, nonlinearity: d.nonlinearity as 'tanh' })) as unknown as {
          forward(...a: unknown[]): unknown;
          forwardAsync(...a: unknown[]): Promise<unknown>;
        };
        const expected = expectedCell(d);
        const input = makeTensor(d.input, 4);
        const hx = hxValue(d as unknown as ForwardDraw, d.kind);
        const outcome = d.async ? await attemptAsync(() => cell.forwardAsync(input, hx)) : attempt(() => cell.forward(input, hx));
        const result = expectOutcome(outcome, expected !== 'invalid');
        if (result !== undefined && expected !== 'invalid') {
          const states = Array.isArray(result) ? (result as Tensor[]) : [result as Tensor];
          expect(states.map((s) => [...s.shape])).toEqual(Array(d.kind === 'LSTMCell' ? 2 : 1).fill(expected));
          expect(states.every((s) => s.dtype === d.dtype)).toBe(true);
        }
      }),
      { seed: SEED + 2, numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------- packed sequences

/** batch_sizes of sequences of these lengths: at step t, how many are longer than t. */
function batchSizesOf(lengths: number[]): number[] {
  const steps = Math.max(...lengths);
  return Array.from({ length: steps }, (_, t) => lengths.filter((l) => l > t).length);
}

function closeTo(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])))) return false;
  return true;
}

describe('packed sequences', () => {
  it('random lengths: shapes and batch sizes as PyTorch, and each sequence\'s h_n is that of the sequence run alone', async () => {
    await fc.assert(
      fc.asyncProperty(
        moduleConfigArb.filter((c) => c.inputSize > 0),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        async (config, lengths, enforceSorted, withHx, useAsync) => {
          const module = buildModule(config);
          const B = lengths.length;
          const T = Math.max(...lengths);
          const padded = filled(config.batchFirst ? [B, T, config.inputSize] : [T, B, config.inputSize], config.dtype, 5);
          const sorted = lengths.every((l, i) => i === 0 || l <= lengths[i - 1]);
          const packing = attempt(() => packPaddedSequence(padded, lengths, { batchFirst: config.batchFirst, enforceSorted }));
          const packed = expectOutcome(packing, sorted || !enforceSorted);
          if (packed === undefined) return;
          const D = config.bidirectional ? 2 : 1;
          const hout = config.projSize || config.hiddenSize;
          const widths = config.kind === 'LSTM' ? [hout, config.hiddenSize] : [hout];
          const hx = withHx ? widths.map((w, i) => filled([config.numLayers * D, B, w], config.dtype, 20 + i)) : undefined;
          const hxArg = hx === undefined ? undefined : config.kind === 'LSTM' ? hx : hx[0];
          const m = module as unknown as { forward(...a: unknown[]): [PackedSequence, Tensor | Tensor[]]; forwardAsync(...a: unknown[]): Promise<[PackedSequence, Tensor | Tensor[]]> };
          const [out, state] = useAsync ? await m.forwardAsync(packed, hxArg) : m.forward(packed, hxArg);
          const total = lengths.reduce((a, b) => a + b, 0);
          expect([...out.data.shape]).toEqual([total, D * hout]);
          expect(Array.from(out.batchSizes)).toEqual(batchSizesOf([...lengths].sort((a, b) => b - a)));
          const states = Array.isArray(state) ? state : [state];
          expect(states.map((s) => [...s.shape])).toEqual(widths.map((w) => [config.numLayers * D, B, w]));
          // PyTorch's test_variable_sequence: sequence b alone, unbatched, ends in the state h_n[:, b].
          const tol = config.dtype === 'float64' ? 1e-12 : 1e-5;
          for (let b = 0; b < B; b++) {
            const alone = Tensor.zeros([lengths[b], config.inputSize], config.dtype);
            for (let t = 0; t < lengths[b]; t++) {
              const row = config.batchFirst ? (b * T + t) * config.inputSize : (t * B + b) * config.inputSize;
              alone.data.set(padded.data.subarray(row, row + config.inputSize), t * config.inputSize);
            }
            const hxAlone = hx?.map((h) => {
              const [layers, , w] = h.shape;
              const s = Tensor.zeros([layers, w], config.dtype);
              for (let l = 0; l < layers; l++) s.data.set(h.data.subarray((l * B + b) * w, (l * B + b + 1) * w), l * w);
              return s;
            });
            const [, stateAlone] = m.forward(alone, hxAlone === undefined ? undefined : config.kind === 'LSTM' ? hxAlone : hxAlone[0]);
            const aloneStates = Array.isArray(stateAlone) ? stateAlone : [stateAlone];
            aloneStates.forEach((s, i) => {
              const [layers, , w] = states[i].shape;
              const column = new Float64Array(layers * w);
              for (let l = 0; l < layers; l++) for (let k = 0; k < w; k++) column[l * w + k] = states[i].data[(l * B + b) * w + k];
              expect(closeTo(column, s.data, tol)).toBe(true);
            });
          }
        },
      ),
      { seed: SEED + 3, numRuns: 150 },
    );
  });

  it('hand-built and later-edited PackedSequences: an Error or a consistent result, never a crash', async () => {
    // The Int32Arrays of a PackedSequence are mutable: a caller can break what the constructor checked.
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -2, max: 5 }), { minLength: 0, maxLength: 5 }),
        fc.integer({ min: 0, max: 12 }),
        fc.option(fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 5 })),
        fc.option(fc.tuple(fc.nat({ max: 6 }), fc.integer({ min: -3, max: 2 ** 31 - 1 }))),
        fc.boolean(),
        async (batchSizes, rows, sortedIndices, edit, useAsync) => {
          const gru = new GRU(2, 3).eval();
          const data = filled([rows, 2], 'float32');
          const built = attempt(() => new PackedSequence(data, batchSizes, sortedIndices));
          if (!built.ok) {
            expect(isError(built.error)).toBe(true);
            return;
          }
          const seq = built.value;
          if (edit !== null) {
            const [at, value] = edit;
            const target = at < 3 ? seq.batchSizes : seq.sortedIndices ?? seq.batchSizes;
            if (target.length > 0) target[at % target.length] = value;
          }
          // Valid iff the (possibly edited) arrays still describe `rows` rows, non-increasing, positive,
          // with mutually inverse permutations; the forward re-checks, so an edit cannot reach the engine.
          const bs = Array.from(seq.batchSizes);
          let valid = bs.length > 0 && bs.every((s, t) => s >= 1 && (t === 0 || s <= bs[t - 1])) && bs.reduce((a, b) => a + b, 0) === rows;
          if (valid && seq.sortedIndices !== null && seq.unsortedIndices !== null) {
            const s = Array.from(seq.sortedIndices);
            const u = Array.from(seq.unsortedIndices);
            valid = s.length === bs[0] && u.length === bs[0] && s.every((v, i) => v >= 0 && v < bs[0] && u[v] === i) && new Set(s).size === s.length;
          }
          const outcome = useAsync ? await attemptAsync(() => gru.forwardAsync(seq)) : attempt(() => gru.forward(seq));
          const result = expectOutcome(outcome, valid);
          if (result !== undefined) {
            const [out, h] = result;
            expect([...out.data.shape]).toEqual([rows, 3]);
            expect([...h.shape]).toEqual([1, bs[0], 3]);
          }
        },
      ),
      { seed: SEED + 4, numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------- the native contract

const MODES: NativeMode[] = ['LSTM', 'GRU', 'RNN_TANH', 'RNN_RELU'];

/** Weight lengths of a spec in named_parameters() order (lib/native.ts). */
function weightLengths(s: NativeModelSpec): number[] {
  const G = (s.mode === 'LSTM' ? 4 : s.mode === 'GRU' ? 3 : 1) * s.hiddenSize;
  const hout = s.projSize || s.hiddenSize;
  const D = s.bidirectional ? 2 : 1;
  const lengths: number[] = [];
  for (let l = 0; l < s.numLayers; l++) {
    for (let d = 0; d < D; d++) {
      lengths.push(G * (l === 0 ? s.inputSize : D * hout), G * hout);
      if (s.bias) lengths.push(G, G);
      if (s.projSize > 0) lengths.push(s.projSize * s.hiddenSize);
    }
  }
  return lengths;
}

function arrayOf(dtype: DType, length: number): NativeArray {
  const a = dtype === 'float64' ? new Float64Array(length) : new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = Math.cos(i * 0.7) * 0.5;
  return a;
}

/** A number field: the right value most of the time, otherwise junk or a near miss. */
function numberField(right: number): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant(right) },
    { weight: 1, arbitrary: fc.constantFrom(right + 1, Math.max(0, right - 1), 0) },
    { weight: 1, arbitrary: fc.constantFrom(NaN, -1, 0.5, Infinity, 2 ** 31, 2 ** 32 + right, 2 ** 53, -0, '1', undefined, null) },
  );
}

describe('native PackedModel (the addon contract)', () => {
  it('a malformed spec or weights throw an Error; a well-formed one packs', () => {
    fc.assert(
      fc.property(
        fc.record({
          mode: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...MODES) }, { weight: 1, arbitrary: fc.constantFrom<unknown>('lstm', '', 3, undefined) }),
          inputSize: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 4 }) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(-1, 1.5, NaN, 2 ** 31, 2 ** 40, '2') }),
          hiddenSize: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 4 }) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(-1, 1.5, NaN, 2 ** 31, 2 ** 40, '2') }),
          projSize: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(-1, NaN, 2 ** 31) }),
          numLayers: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(-1, 2 ** 31 - 1, 2 ** 40, NaN) }),
          bidirectional: fc.oneof({ weight: 6, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom<unknown>(1, 'true') }),
          bias: fc.oneof({ weight: 6, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom<unknown>(0, null) }),
          dtype: fc.oneof({ weight: 6, arbitrary: fc.constantFrom<DType>('float32', 'float64') }, { weight: 1, arbitrary: fc.constantFrom<unknown>('float16', undefined) }),
        }),
        fc.constantFrom('exact', 'one-short', 'one-more', 'wrong-type', 'wrong-length', 'not-array'),
        (spec, weightsForm) => {
          const s = spec as unknown as NativeModelSpec;
          const wellFormed =
            MODES.includes(s.mode) &&
            (s.dtype === 'float32' || s.dtype === 'float64') &&
            [s.inputSize, s.hiddenSize, s.projSize, s.numLayers].every((v) => isSafeNonNegativeInt(v) && v <= 4) &&
            typeof s.bidirectional === 'boolean' &&
            typeof s.bias === 'boolean' &&
            s.hiddenSize > 0 &&
            s.numLayers > 0 &&
            (s.projSize === 0 || (s.mode === 'LSTM' && s.projSize < s.hiddenSize));
          let weights: unknown = [];
          if (wellFormed) {
            const lengths = weightLengths(s);
            const other: DType = s.dtype === 'float32' ? 'float64' : 'float32';
            const arrays = lengths.map((n) => arrayOf(s.dtype, n));
            if (weightsForm === 'one-short') arrays.pop();
            if (weightsForm === 'one-more') arrays.push(arrayOf(s.dtype, 1));
            if (weightsForm === 'wrong-type' && arrays.length > 0) arrays[arrays.length - 1] = arrayOf(other, lengths[lengths.length - 1]);
            if (weightsForm === 'wrong-length' && arrays.length > 0) arrays[0] = arrayOf(s.dtype, lengths[0] + 1);
            weights = weightsForm === 'not-array' ? { 0: arrays[0], length: arrays.length } : arrays;
          }
          const outcome = attempt(() => new native.PackedModel(s, weights as NativeArray[]));
          // A spec beyond the small valid range may still be refused or not: only "Error or model" holds.
          const mustSucceed = wellFormed && weightsForm === 'exact';
          if (!wellFormed) {
            if (!outcome.ok) expect(isError(outcome.error)).toBe(true);
            return;
          }
          expectOutcome(outcome, mustSucceed);
        },
      ),
      { seed: SEED + 5, numRuns: RUNS },
    );
  });

  it('forward / forwardAsync: wrong lengths, sizes, types and batchSizes throw (reject) with an Error; valid calls return the right lengths', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .record({
            mode: fc.constantFrom(...MODES),
            inputSize: fc.integer({ min: 0, max: 3 }),
            hiddenSize: fc.integer({ min: 1, max: 3 }),
            numLayers: fc.integer({ min: 1, max: 2 }),
            bidirectional: fc.boolean(),
            bias: fc.boolean(),
            dtype: fc.constantFrom<DType>('float32', 'float64'),
            seqLen: fc.integer({ min: 1, max: 4 }),
            batch: fc.integer({ min: 0, max: 3 }),
            packedLengths: fc.option(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 })),
          })
          .chain((b) => {
            const spec: NativeModelSpec = { mode: b.mode, inputSize: b.inputSize, hiddenSize: b.hiddenSize, projSize: 0, numLayers: b.numLayers, bidirectional: b.bidirectional, bias: b.bias, dtype: b.dtype };
            const D = b.bidirectional ? 2 : 1;
            const lengths = b.packedLengths === null ? null : [...b.packedLengths].sort((x, y) => y - x);
            const seqLen = lengths ? lengths[0] : b.seqLen;
            const batch = lengths ? lengths.length : b.batch;
            const rows = lengths ? lengths.reduce((x, y) => x + y, 0) : seqLen * batch;
            const stateLength = b.numLayers * D * batch * b.hiddenSize;
            return fc.record({
              spec: fc.constant(spec),
              seqLen: numberField(seqLen),
              batch: numberField(batch),
              batchFirst: fc.oneof({ weight: 8, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom<unknown>(0, 'no', undefined) }),
              inputLength: numberField(rows * b.inputSize),
              inputType: fc.oneof({ weight: 8, arbitrary: fc.constant(b.dtype) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(b.dtype === 'float32' ? 'float64' : 'float32', 'int32', 'array', 'none') }),
              h0: fc.option(numberField(stateLength)),
              c0: fc.option(numberField(stateLength)),
              batchSizes: lengths === null ? fc.option(fc.array(fc.integer({ min: -1, max: 5 }), { maxLength: 5 }), { freq: 6 }) : fc.oneof({ weight: 6, arbitrary: fc.constant(batchSizesOf(lengths)) }, { weight: 1, arbitrary: fc.array(fc.integer({ min: -1, max: 2 ** 31 - 1 }), { maxLength: 5 }) }),
              dropout: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(0, 0.5, 1) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(-0.5, 1.5, NaN, '0', undefined) }),
              dropoutSeed: fc.oneof({ weight: 8, arbitrary: fc.nat() }, { weight: 1, arbitrary: fc.constantFrom<unknown>(-1, 2 ** 32, 0.5, NaN, undefined) }),
              async: fc.boolean(),
            });
          }),
        async (d) => {
          const spec = d.spec;
          const model = new native.PackedModel(spec, weightLengths(spec).map((n) => arrayOf(spec.dtype, n)));
          const makeArray = (length: unknown, type: unknown): unknown => {
            if (type === 'none') return undefined;
            if (type === 'array') return [];
            const n = isSafeNonNegativeInt(length) && length <= 4096 ? length : 3;
            return type === 'int32' ? new Int32Array(n) : arrayOf(type as DType, n);
          };
          const args: Record<string, unknown> = {
            input: makeArray(d.inputLength, d.inputType),
            seqLen: d.seqLen,
            batch: d.batch,
            batchFirst: d.batchFirst,
            dropout: d.dropout,
            dropoutSeed: d.dropoutSeed,
          };
          if (d.h0 !== null) args.h0 = makeArray(d.h0, spec.dtype);
          if (d.c0 !== null) args.c0 = makeArray(d.c0, spec.dtype);
          if (d.batchSizes !== null) args.batchSizes = Int32Array.from(d.batchSizes);

          // The contract of lib/native.ts, evaluated here on the values actually passed.
          const D = spec.bidirectional ? 2 : 1;
          const seqLen = d.seqLen as number;
          const batch = d.batch as number;
          const input = args.input as NativeArray | undefined;
          const stateLength = spec.numLayers * D * batch * spec.hiddenSize;
          const bs = d.batchSizes;
          const rows = bs === null ? seqLen * batch : bs.reduce((x, y) => x + y, 0);
          const sizeOk = (v: unknown): boolean => isSafeNonNegativeInt(v) && v <= 2 ** 31 - 1;
          const valid =
            sizeOk(d.seqLen) &&
            sizeOk(d.batch) &&
            typeof d.batchFirst === 'boolean' &&
            typeof d.dropout === 'number' && d.dropout >= 0 && d.dropout <= 1 &&
            isSafeNonNegativeInt(d.dropoutSeed) && (d.dropoutSeed as number) <= 2 ** 32 - 1 &&
            seqLen > 0 &&
            input !== undefined && input.constructor === (spec.dtype === 'float64' ? Float64Array : Float32Array) &&
            input.length === rows * spec.inputSize &&
            (args.h0 === undefined || (args.h0 as NativeArray).length === stateLength) &&
            (args.c0 === undefined || (spec.mode === 'LSTM' && (args.c0 as NativeArray).length === stateLength)) &&
            (bs === null ||
              (d.batchFirst === false && bs.length === seqLen && bs.length > 0 && bs[0] === batch && bs.every((s, t) => s >= 1 && (t === 0 || s <= bs[t - 1]))));
          const call = (): unknown => model.forward(args as never);
          const outcome = d.async ? await attemptAsync(() => model.forwardAsync(args as never)) : attempt(call);
          const result = expectOutcome(outcome, valid) as { output: NativeArray; hN: NativeArray; cN?: NativeArray } | undefined;
          if (result !== undefined) {
            expect(result.output.length).toBe(rows * D * spec.hiddenSize);
            expect(result.hN.length).toBe(stateLength);
            expect(result.cN?.length).toBe(spec.mode === 'LSTM' ? stateLength : undefined);
          }
        },
      ),
      { seed: SEED + 6, numRuns: 400 },
    );
  });

  it('JS run by argument getters cannot change buffers the addon already holds', () => {
    // The descriptor is an ordinary JS object: reading `dropout` may run a getter, which can detach a
    // typed array read before it (structuredClone with transfer) or shrink its resizable ArrayBuffer, and
    // an element getter of the weights array can do the same to an earlier weight. The addon must then
    // refuse the call (the buffer it would read is gone), not read stale or unmapped memory. Each case
    // runs in its own child process: the failure this guards against is a segfault.
    const prelude = `
      const { native } = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'native'))});
      const spec = { mode: 'GRU', inputSize: 2, hiddenSize: 3, projSize: 0, numLayers: 1, bidirectional: false, bias: true, dtype: 'float32' };
      const model = new native.PackedModel(spec, [18, 27, 9, 9].map((n) => new Float32Array(n).fill(0.1)));
      const report = (f) => { try { f(); process.stdout.write('accepted'); } catch (e) { process.stdout.write(e instanceof Error ? 'Error' : 'non-Error'); } };
    `;
    const cases: Record<string, string> = {
      'h0 detached after it was read': `
        const h0 = new Float32Array(6).fill(0.5);
        report(() => model.forward({ input: new Float32Array(16), seqLen: 4, batch: 2, batchFirst: false, h0,
          get dropout() { structuredClone(h0.buffer, { transfer: [h0.buffer] }); return 0; }, dropoutSeed: 0 }));`,
      'resizable input shrunk after it was read': `
        const buffer = new ArrayBuffer(64, { maxByteLength: 1 << 26 });
        report(() => model.forward({ input: new Float32Array(buffer), seqLen: 4, batch: 2, batchFirst: false,
          get dropout() { buffer.resize(0); return 0; }, dropoutSeed: 0 }));`,
      'resizable batchSizes shrunk after they were read': `
        const buffer = new ArrayBuffer(16, { maxByteLength: 1 << 26 });
        const batchSizes = new Int32Array(buffer); batchSizes.set([2, 2, 2, 2]);
        report(() => model.forward({ input: new Float32Array(16), seqLen: 4, batch: 2, batchFirst: false, batchSizes,
          get dropout() { buffer.resize(0); return 0; }, dropoutSeed: 0 }));`,
      'forwardAsync: resizable input shrunk after it was read': `
        const buffer = new ArrayBuffer(64, { maxByteLength: 1 << 26 });
        let outcome;
        try { model.forwardAsync({ input: new Float32Array(buffer), seqLen: 4, batch: 2, batchFirst: false,
          get dropout() { buffer.resize(0); return 0; }, dropoutSeed: 0 }).then(() => process.stdout.write('accepted'), (e) => process.stdout.write(e instanceof Error ? 'Error' : 'non-Error')); }
        catch (e) { process.stdout.write('threw'); }`,
      'a weight shrunk by a later element getter': `
        const buffer = new ArrayBuffer(18 * 4, { maxByteLength: 1 << 26 });
        const weights = [new Float32Array(buffer).fill(0.1), new Float32Array(27), new Float32Array(9)];
        Object.defineProperty(weights, 3, { get() { buffer.resize(0); return new Float32Array(9); }, enumerable: true });
        report(() => new native.PackedModel(spec, weights));`,
    };
    const outcomes: Record<string, string> = {};
    for (const [name, body] of Object.entries(cases)) {
      try {
        outcomes[name] = execFileSync(process.execPath, ['-e', prelude + body], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (error) {
        const e = error as { status: number | null; signal: string | null };
        outcomes[name] = `the process died (status ${e.status}, signal ${e.signal})`;
      }
    }
    expect(outcomes).toEqual(Object.fromEntries(Object.keys(cases).map((name) => [name, 'Error'])));
  });
});
