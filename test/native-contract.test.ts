/**
 * The addon against its contract (lib/native.ts): the numbers agree with a plain float64 re-statement of
 * PyTorch's recurrences written here, packed sequences agree with running each sequence alone, dropout
 * behaves, forwardAsync matches forward and owns its inputs, and every malformed spec or argument is
 * refused with an Error instead of a crash.
 */
import {
  native,
  NativeArray,
  NativeForwardArgs,
  NativeForwardResult,
  NativeMode,
  NativeModelSpec,
  NativePackedModel,
} from '../lib/native';
import { seededRandom as makeRandom } from './helpers/seeded';

type DType = NativeModelSpec['dtype'];

// ---------------------------------------------------------------------------------------------------
// Deterministic data


function makeArray(dtype: DType, length: number): NativeArray {
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

function randomArray(dtype: DType, length: number, scale: number, random: () => number): NativeArray {
  const out = makeArray(dtype, length);
  for (let i = 0; i < length; i++) out[i] = (random() * 2 - 1) * scale;
  return out;
}

function gatesPerUnit(mode: NativeMode): number {
  return mode === 'LSTM' ? 4 : mode === 'GRU' ? 3 : 1;
}

function directions(spec: NativeModelSpec): number {
  return spec.bidirectional ? 2 : 1;
}

function stateSize(spec: NativeModelSpec): number {
  return spec.projSize > 0 ? spec.projSize : spec.hiddenSize;
}

/** [rows, cols] of every parameter, in PyTorch's named_parameters() order. */
function parameterShapes(spec: NativeModelSpec): Array<[number, number]> {
  const G = gatesPerUnit(spec.mode) * spec.hiddenSize;
  const shapes: Array<[number, number]> = [];
  for (let layer = 0; layer < spec.numLayers; layer++) {
    const inputSize = layer === 0 ? spec.inputSize : directions(spec) * stateSize(spec);
    for (let d = 0; d < directions(spec); d++) {
      shapes.push([G, inputSize], [G, stateSize(spec)]);
      if (spec.bias) shapes.push([G, 1], [G, 1]);
      if (spec.projSize > 0) shapes.push([spec.projSize, spec.hiddenSize]);
    }
  }
  return shapes;
}

function randomWeights(spec: NativeModelSpec, random: () => number): NativeArray[] {
  const scale = spec.hiddenSize > 0 ? 1 / Math.sqrt(spec.hiddenSize) : 0;
  return parameterShapes(spec).map(([rows, cols]) => randomArray(spec.dtype, rows * cols, scale, random));
}

function makeSpec(partial: Partial<NativeModelSpec> & Pick<NativeModelSpec, 'mode'>): NativeModelSpec {
  return {
    inputSize: 3,
    hiddenSize: 4,
    projSize: 0,
    numLayers: 1,
    bidirectional: false,
    bias: true,
    dtype: 'float32',
    ...partial,
  };
}

function padArgs(input: NativeArray, seqLen: number, batch: number, extra: Partial<NativeForwardArgs> = {}): NativeForwardArgs {
  return { input, seqLen, batch, batchFirst: false, dropout: 0, dropoutSeed: 0, ...extra };
}

// ---------------------------------------------------------------------------------------------------
// The reference: PyTorch's recurrences in plain float64 loops, padded time-major input only

interface Reference {
  output: number[];
  hN: number[];
  cN: number[];
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** x·Wᵀ for one row: W is [rows, cols] row-major starting at element 0. */
function matVec(w: ArrayLike<number>, rows: number, cols: number, x: ArrayLike<number>): number[] {
  const out = new Array<number>(rows).fill(0);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += w[r * cols + c] * x[c];
    out[r] = sum;
  }
  return out;
}

/**
 * `layerInputs` replaces what a layer > 0 reads (used only to check dropout: a layer fed all zeros).
 */
function referenceForward(
  spec: NativeModelSpec,
  weights: NativeArray[],
  input: ArrayLike<number>,
  seqLen: number,
  batch: number,
  h0?: ArrayLike<number>,
  c0?: ArrayLike<number>,
): Reference {
  const D = directions(spec);
  const H = spec.hiddenSize;
  const Hout = stateSize(spec);
  const G = gatesPerUnit(spec.mode) * H;
  const hN: number[] = [];
  const cN: number[] = [];
  let x: number[] = Array.from(input);
  let inputSize = spec.inputSize;
  let next = 0;
  for (let layer = 0; layer < spec.numLayers; layer++) {
    const out = new Array<number>(seqLen * batch * D * Hout).fill(0);
    for (let d = 0; d < D; d++) {
      const wih = weights[next++];
      const whh = weights[next++];
      const bih = spec.bias ? weights[next++] : new Float64Array(G);
      const bhh = spec.bias ? weights[next++] : new Float64Array(G);
      const whr = spec.projSize > 0 ? weights[next++] : undefined;
      const stack = layer * D + d;
      for (let n = 0; n < batch; n++) {
        let h = Array.from({ length: Hout }, (_, j) => (h0 ? h0[(stack * batch + n) * Hout + j] : 0));
        let c = Array.from({ length: H }, (_, j) => (c0 ? c0[(stack * batch + n) * H + j] : 0));
        for (let s = 0; s < seqLen; s++) {
          const t = d === 0 ? s : seqLen - 1 - s;
          const xt = x.slice((t * batch + n) * inputSize, (t * batch + n + 1) * inputSize);
          const gi = matVec(wih, G, inputSize, xt).map((v, r) => v + bih[r]);
          const gh = matVec(whh, G, Hout, h).map((v, r) => v + bhh[r]);
          if (spec.mode === 'LSTM') {
            const cell = new Array<number>(H);
            const hidden = new Array<number>(H);
            for (let u = 0; u < H; u++) {
              const i = sigmoid(gi[u] + gh[u]);
              const f = sigmoid(gi[H + u] + gh[H + u]);
              const g = Math.tanh(gi[2 * H + u] + gh[2 * H + u]);
              const o = sigmoid(gi[3 * H + u] + gh[3 * H + u]);
              cell[u] = f * c[u] + i * g;
              hidden[u] = o * Math.tanh(cell[u]);
            }
            c = cell;
            h = whr ? matVec(whr, spec.projSize, H, hidden) : hidden;
          } else if (spec.mode === 'GRU') {
            h = h.map((hu, u) => {
              const r = sigmoid(gi[u] + gh[u]);
              const z = sigmoid(gi[H + u] + gh[H + u]);
              const nGate = Math.tanh(gi[2 * H + u] + r * gh[2 * H + u]);
              return (1 - z) * nGate + z * hu;
            });
          } else {
            const act = spec.mode === 'RNN_TANH' ? Math.tanh : (v: number) => Math.max(0, v);
            h = gi.map((v, u) => act(v + gh[u]));
          }
          for (let j = 0; j < Hout; j++) out[(t * batch + n) * D * Hout + d * Hout + j] = h[j];
        }
        for (let j = 0; j < Hout; j++) hN[(stack * batch + n) * Hout + j] = h[j];
        if (spec.mode === 'LSTM') for (let j = 0; j < H; j++) cN[(stack * batch + n) * H + j] = c[j];
      }
    }
    x = out;
    inputSize = D * Hout;
  }
  return { output: x, hN, cN };
}

// ---------------------------------------------------------------------------------------------------
// Comparisons

function tolerance(dtype: DType): { abs: number; rel: number } {
  return dtype === 'float32' ? { abs: 1e-5, rel: 1e-4 } : { abs: 1e-10, rel: 0 };
}

/** Fails with the first offending index, so a mismatch says where it is. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, dtype: DType, what: string): void {
  expect({ what, length: actual.length }).toEqual({ what, length: expected.length });
  const { abs, rel } = tolerance(dtype);
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff <= abs + rel * Math.abs(expected[i]))) {
      throw new Error(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (difference ${diff})`);
    }
  }
}

function expectSameResult(a: NativeForwardResult, b: NativeForwardResult): void {
  expect(a.output).toEqual(b.output);
  expect(a.hN).toEqual(b.hN);
  expect(a.cN).toEqual(b.cN);
}

/**
 * The class name of a value. Jest runs tests in their own realm while the addon builds its arrays and
 * errors in Node's main one, so `instanceof` cannot be used on them here.
 */
function kindOf(value: unknown): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}

/** Runs `body` and returns what it threw; fails when it returns normally. */
function thrownBy(body: () => unknown): Error {
  try {
    body();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw, but the call returned');
}

/** (seqLen, batch, F) <-> (batch, seqLen, F) */
function swapLeadingAxes<A extends NativeArray>(data: A, first: number, second: number, features: number): A {
  const out = data.slice() as A;
  for (let i = 0; i < first; i++)
    for (let j = 0; j < second; j++)
      for (let f = 0; f < features; f++) out[(j * first + i) * features + f] = data[(i * second + j) * features + f];
  return out;
}

// ---------------------------------------------------------------------------------------------------

describe('backend()', () => {
  it('names a known kernel family', () => {
    expect(['scalar', 'avx2', 'avx512', 'neon']).toContain(native.backend());
  });
});

interface ParityCase {
  name: string;
  spec: NativeModelSpec;
  seqLen: number;
  batch: number;
  batchFirst: boolean;
  withState: boolean;
}

function parityCases(): ParityCase[] {
  const cases: ParityCase[] = [];
  const modes: NativeMode[] = ['LSTM', 'GRU', 'RNN_TANH', 'RNN_RELU'];
  const dtypes: DType[] = ['float32', 'float64'];
  for (const mode of modes) {
    for (const dtype of dtypes) {
      const add = (name: string, spec: Partial<NativeModelSpec>, seqLen: number, batch: number, batchFirst: boolean, withState: boolean) =>
        cases.push({ name: `${mode} ${dtype} ${name}`, spec: makeSpec({ mode, dtype, ...spec }), seqLen, batch, batchFirst, withState });
      add('1 layer', { inputSize: 5, hiddenSize: 11 }, 4, 3, false, false);
      add('2 layers bidirectional batchFirst with h0', { inputSize: 3, hiddenSize: 9, numLayers: 2, bidirectional: true }, 5, 5, true, true);
      add('2 layers without bias', { inputSize: 4, hiddenSize: 6, numLayers: 2, bias: false }, 3, 2, false, true);
      add('bidirectional without bias, batch 1', { inputSize: 2, hiddenSize: 17, bidirectional: true, bias: false }, 6, 1, false, false);
      add('inputSize 0', { inputSize: 0, hiddenSize: 5 }, 3, 2, false, true);
      add('wide input, many rows', { inputSize: 300, hiddenSize: 3 }, 9, 8, false, false);
      if (mode === 'LSTM') {
        add('projSize, 2 layers bidirectional', { inputSize: 4, hiddenSize: 10, projSize: 3, numLayers: 2, bidirectional: true }, 4, 3, false, true);
        add('projSize without bias, batchFirst', { inputSize: 3, hiddenSize: 7, projSize: 6, bias: false }, 3, 4, true, true);
      }
    }
  }
  return cases;
}

describe('forward agrees with a float64 reference of PyTorch\'s math', () => {
  it.each(parityCases().map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const random = makeRandom(c.name.length * 7919 + c.seqLen);
    const { spec, seqLen, batch } = c;
    const D = directions(spec);
    const Hout = stateSize(spec);
    const sourceWeights = randomWeights(spec, random);
    const model = new native.PackedModel(spec, sourceWeights);
    const input = randomArray(spec.dtype, seqLen * batch * spec.inputSize, 2, random);
    const h0 = c.withState ? randomArray(spec.dtype, spec.numLayers * D * batch * Hout, 1, random) : undefined;
    const c0 = c.withState && spec.mode === 'LSTM' ? randomArray(spec.dtype, spec.numLayers * D * batch * spec.hiddenSize, 1, random) : undefined;

    const expected = referenceForward(spec, sourceWeights, input, seqLen, batch, h0, c0);
    const given = c.batchFirst ? swapLeadingAxes(input, seqLen, batch, spec.inputSize) : input;
    const result = model.forward({ input: given, seqLen, batch, batchFirst: c.batchFirst, h0, c0, dropout: 0, dropoutSeed: 0 });

    expect(kindOf(result.output)).toBe(spec.dtype === 'float32' ? 'Float32Array' : 'Float64Array');
    expect(kindOf(result.hN)).toBe(kindOf(result.output));
    const output = c.batchFirst ? swapLeadingAxes(result.output, batch, seqLen, D * Hout) : result.output;
    expectClose(output, expected.output, spec.dtype, 'output');
    expectClose(result.hN, expected.hN, spec.dtype, 'hN');
    if (spec.mode === 'LSTM') {
      expect(result.cN).toBeDefined();
      expectClose(result.cN as NativeArray, expected.cN, spec.dtype, 'cN');
    } else {
      expect(result.cN).toBeUndefined();
    }
  });

  it('propagates NaN and saturates at ±inf like PyTorch', () => {
    const spec = makeSpec({ mode: 'LSTM', inputSize: 1, hiddenSize: 1, bias: false });
    // Every gate reads the input alone (W_hh = 0): i, f, o = σ(x), g = tanh(x).
    const model = new native.PackedModel(spec, [Float32Array.of(1, 1, 1, 1), new Float32Array(4)]);
    const run = (x: number) => model.forward(padArgs(Float32Array.of(x), 1, 1)).output[0];
    expect(run(Infinity)).toBeCloseTo(Math.tanh(1), 6); // i = f = o = 1, g = 1, so c = 1
    expect(Math.abs(run(-Infinity))).toBe(0); // i = o = 0
    expect(run(NaN)).toBeNaN();
    expect(run(1e30)).toBeCloseTo(Math.tanh(1), 6);
    expect(Math.abs(run(-1e30))).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------

interface PackedCase {
  name: string;
  spec: NativeModelSpec;
  lengths: number[];
}

/** Sequences of the given (non-increasing) lengths as a PackedSequence's data and batch sizes. */
function packSequences(sequences: NativeArray[], lengths: number[], features: number, dtype: DType): { data: NativeArray; batchSizes: Int32Array } {
  const seqLen = lengths[0];
  const batchSizes = new Int32Array(seqLen);
  for (let t = 0; t < seqLen; t++) batchSizes[t] = lengths.filter((l) => l > t).length;
  const data = makeArray(dtype, lengths.reduce((a, b) => a + b, 0) * features);
  let row = 0;
  for (let t = 0; t < seqLen; t++)
    for (let n = 0; n < batchSizes[t]; n++, row++)
      data.set(sequences[n].subarray(t * features, (t + 1) * features), row * features);
  return { data, batchSizes };
}

describe('packed sequences', () => {
  const cases: PackedCase[] = [
    { name: 'LSTM 2 layers bidirectional with projection', spec: makeSpec({ mode: 'LSTM', inputSize: 3, hiddenSize: 6, projSize: 4, numLayers: 2, bidirectional: true, dtype: 'float64' }), lengths: [5, 4, 2, 1] },
    { name: 'LSTM float32 bidirectional', spec: makeSpec({ mode: 'LSTM', inputSize: 2, hiddenSize: 9, bidirectional: true }), lengths: [4, 3, 3] },
    { name: 'GRU 2 layers bidirectional', spec: makeSpec({ mode: 'GRU', inputSize: 4, hiddenSize: 5, numLayers: 2, bidirectional: true, dtype: 'float64' }), lengths: [6, 5, 2, 2, 1] },
    { name: 'RNN_TANH bidirectional', spec: makeSpec({ mode: 'RNN_TANH', inputSize: 2, hiddenSize: 3, bidirectional: true, dtype: 'float64' }), lengths: [3, 2] },
    { name: 'RNN_RELU 2 layers', spec: makeSpec({ mode: 'RNN_RELU', inputSize: 3, hiddenSize: 4, numLayers: 2, bias: false }), lengths: [3, 2, 1] },
  ];

  it.each(cases.map((c) => [c.name, c] as const))('%s equals running each sequence alone', (_name, c) => {
    const { spec, lengths } = c;
    const random = makeRandom(lengths.length * 31 + spec.hiddenSize);
    const model = new native.PackedModel(spec, randomWeights(spec, random));
    const D = directions(spec);
    const Hout = stateSize(spec);
    const H = spec.hiddenSize;
    const stacks = spec.numLayers * D;
    const batch = lengths.length;
    const sequences = lengths.map((l) => randomArray(spec.dtype, l * spec.inputSize, 1.5, random));
    const h0 = randomArray(spec.dtype, stacks * batch * Hout, 1, random);
    const c0 = spec.mode === 'LSTM' ? randomArray(spec.dtype, stacks * batch * H, 1, random) : undefined;
    const { data, batchSizes } = packSequences(sequences, lengths, spec.inputSize, spec.dtype);

    const packed = model.forward({ input: data, seqLen: lengths[0], batch, batchFirst: false, batchSizes, h0, c0, dropout: 0, dropoutSeed: 0 });
    const totalRows = lengths.reduce((a, b) => a + b, 0);
    expect(packed.output.length).toBe(totalRows * D * Hout);

    // Row offset of step t in the packed output: prefix sums of batchSizes.
    const offsets = Array.from(batchSizes, (_, t) => batchSizes.subarray(0, t).reduce((a, b) => a + b, 0));
    lengths.forEach((length, n) => {
      const slice = (state: NativeArray, width: number): NativeArray => {
        const out = makeArray(spec.dtype, stacks * width);
        for (let s = 0; s < stacks; s++) out.set(state.subarray((s * batch + n) * width, (s * batch + n + 1) * width), s * width);
        return out;
      };
      const alone = model.forward({ input: sequences[n], seqLen: length, batch: 1, batchFirst: false, h0: slice(h0, Hout), c0: c0 && slice(c0, H), dropout: 0, dropoutSeed: 0 });
      const rows = makeArray(spec.dtype, length * D * Hout);
      for (let t = 0; t < length; t++) rows.set(packed.output.subarray((offsets[t] + n) * D * Hout, (offsets[t] + n + 1) * D * Hout), t * D * Hout);
      expectClose(rows, alone.output, spec.dtype, `sequence ${n} output`);
      expectClose(slice(packed.hN, Hout), alone.hN, spec.dtype, `sequence ${n} hN`);
      if (c0) expectClose(slice(packed.cN as NativeArray, H), alone.cN as NativeArray, spec.dtype, `sequence ${n} cN`);
    });
  });

  it('with every sequence full length equals the padded time-major call', () => {
    const spec = makeSpec({ mode: 'GRU', numLayers: 2, bidirectional: true, dtype: 'float64' });
    const random = makeRandom(5);
    const model = new native.PackedModel(spec, randomWeights(spec, random));
    const input = randomArray('float64', 4 * 3 * spec.inputSize, 1, random);
    const padded = model.forward(padArgs(input, 4, 3));
    const packed = model.forward(padArgs(input, 4, 3, { batchSizes: Int32Array.of(3, 3, 3, 3) }));
    expectSameResult(packed, padded);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('edge sizes', () => {
  it.each(['LSTM', 'GRU', 'RNN_TANH'] as const)('%s: batch 0 gives empty results, sync and async', async (mode) => {
    const spec = makeSpec({ mode, numLayers: 2, bidirectional: true });
    const model = new native.PackedModel(spec, randomWeights(spec, makeRandom(2)));
    const args = padArgs(new Float32Array(0), 3, 0, { h0: new Float32Array(0) });
    for (const result of [model.forward(args), await model.forwardAsync(args)]) {
      expect(kindOf(result.output)).toBe('Float32Array');
      expect(result.output.length).toBe(0);
      expect(result.hN.length).toBe(0);
      expect(result.cN === undefined ? undefined : result.cN.length).toBe(mode === 'LSTM' ? 0 : undefined);
    }
  });

  it('seqLen 0 throws', async () => {
    const model = new native.PackedModel(makeSpec({ mode: 'LSTM' }), randomWeights(makeSpec({ mode: 'LSTM' }), makeRandom(3)));
    expect(() => model.forward(padArgs(new Float32Array(0), 0, 2))).toThrow(/sequence length/);
    await expect(model.forwardAsync(padArgs(new Float32Array(0), 0, 2))).rejects.toThrow(/sequence length/);
  });

  it.each(['LSTM', 'GRU', 'RNN_RELU'] as const)('%s: hiddenSize 0 returns empty states without crashing', (mode) => {
    const spec = makeSpec({ mode, hiddenSize: 0, numLayers: 2 });
    const model = new native.PackedModel(spec, parameterShapes(spec).map(() => new Float32Array(0)));
    const result = model.forward(padArgs(new Float32Array(2 * 3 * 3), 2, 3));
    expect(result.output.length).toBe(0);
    expect(result.hN.length).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('dropout', () => {
  const spec = makeSpec({ mode: 'LSTM', inputSize: 4, hiddenSize: 8, numLayers: 2, bidirectional: true });
  const weights = randomWeights(spec, makeRandom(11));
  const model = new native.PackedModel(spec, weights);
  const random = makeRandom(12);
  const seqLen = 5;
  const batch = 3;
  const input = randomArray('float32', seqLen * batch * spec.inputSize, 1, random);
  const h0 = randomArray('float32', 4 * batch * 8, 1, random);
  const c0 = randomArray('float32', 4 * batch * 8, 1, random);

  it('p = 0 is the eval-mode result, whatever the seed', () => {
    const expected = referenceForward(spec, weights, input, seqLen, batch, h0, c0);
    const a = model.forward(padArgs(input, seqLen, batch, { h0, c0, dropoutSeed: 1 }));
    const b = model.forward(padArgs(input, seqLen, batch, { h0, c0, dropoutSeed: 99 }));
    expectSameResult(a, b);
    expectClose(a.output, expected.output, 'float32', 'output');
  });

  it('p = 1 feeds zeros to layer 2 and leaves layer 1 untouched', () => {
    const perDirection = 4; // weight_ih, weight_hh, bias_ih, bias_hh
    const layer1Spec = { ...spec, numLayers: 1 };
    const layer2Spec = { ...spec, numLayers: 1, inputSize: 2 * 8 };
    const layer1 = new native.PackedModel(layer1Spec, weights.slice(0, 2 * perDirection));
    const layer2 = new native.PackedModel(layer2Spec, weights.slice(2 * perDirection));
    const stateOf = (state: NativeArray, layer: number): NativeArray => state.slice(layer * 2 * batch * 8, (layer + 1) * 2 * batch * 8);

    const dropped = model.forward(padArgs(input, seqLen, batch, { h0, c0, dropout: 1, dropoutSeed: 7 }));
    const first = layer1.forward(padArgs(input, seqLen, batch, { h0: stateOf(h0, 0), c0: stateOf(c0, 0) }));
    const second = layer2.forward(padArgs(new Float32Array(seqLen * batch * 16), seqLen, batch, { h0: stateOf(h0, 1), c0: stateOf(c0, 1) }));

    expectClose(dropped.output, second.output, 'float32', 'output');
    expectClose(stateOf(dropped.hN, 0), first.hN, 'float32', 'layer 1 hN');
    expectClose(stateOf(dropped.cN as NativeArray, 0), first.cN as NativeArray, 'float32', 'layer 1 cN');
    expectClose(stateOf(dropped.hN, 1), second.hN, 'float32', 'layer 2 hN');
    expectClose(stateOf(dropped.cN as NativeArray, 1), second.cN as NativeArray, 'float32', 'layer 2 cN');
  });

  it('the same seed gives the same masks; another seed gives others', async () => {
    const args = (seed: number) => padArgs(input, seqLen, batch, { h0, c0, dropout: 0.5, dropoutSeed: seed });
    const a = model.forward(args(42));
    const b = model.forward(args(42));
    const c = model.forward(args(43));
    expectSameResult(a, b);
    expectSameResult(a, await model.forwardAsync(args(42)));
    expect(Array.from(c.output)).not.toEqual(Array.from(a.output));
    const noDropout = model.forward(padArgs(input, seqLen, batch, { h0, c0 }));
    expect(Array.from(a.output)).not.toEqual(Array.from(noDropout.output));
  });

  it('drops about p of the elements and scales the rest by 1 / (1 - p)', () => {
    // An identity-like first layer: RNN_RELU, one unit per input, W_ih = I, no recurrence, no bias.
    const n = 4000;
    const rnnSpec = makeSpec({ mode: 'RNN_RELU', inputSize: 1, hiddenSize: 1, numLayers: 2, bias: false, dtype: 'float64' });
    const identity = new native.PackedModel(rnnSpec, [Float64Array.of(1), Float64Array.of(0), Float64Array.of(1), Float64Array.of(0)]);
    const result = identity.forward(padArgs(new Float64Array(n).fill(1), 1, n, { dropout: 0.25, dropoutSeed: 3 }));
    const values = Array.from(result.output);
    const kept = values.filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-12)).toBe(true);
    expect(kept.length / n).toBeGreaterThan(0.7);
    expect(kept.length / n).toBeLessThan(0.8);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('forwardAsync', () => {
  const spec = makeSpec({ mode: 'GRU', inputSize: 5, hiddenSize: 7, numLayers: 2, bidirectional: true, dtype: 'float64' });
  const model = new native.PackedModel(spec, randomWeights(spec, makeRandom(21)));
  const random = makeRandom(22);
  const input = randomArray('float64', 6 * 4 * 5, 1, random);
  const h0 = randomArray('float64', 4 * 4 * 7, 1, random);

  it('gives exactly forward\'s results, also for concurrent calls', async () => {
    const expected = model.forward(padArgs(input, 6, 4, { h0 }));
    const results = await Promise.all([0, 1, 2].map(() => model.forwardAsync(padArgs(input, 6, 4, { h0 }))));
    for (const result of results) expectSameResult(result, expected);
  });

  it('owns its inputs: overwriting them after the call changes nothing', async () => {
    const expected = model.forward(padArgs(input, 6, 4, { h0 }));
    const x = input.slice();
    const h = h0.slice();
    const pending = model.forwardAsync(padArgs(x, 6, 4, { h0: h }));
    x.fill(123);
    h.fill(-5);
    expectSameResult(await pending, expected);
  });

  it('owns its inputs: transferring their buffers after the call changes nothing', async () => {
    const expected = model.forward(padArgs(input, 6, 4, { h0 }));
    const x = input.slice();
    const h = h0.slice();
    const pending = model.forwardAsync(padArgs(x, 6, 4, { h0: h }));
    const moved = structuredClone(x.buffer, { transfer: [x.buffer] });
    structuredClone(h.buffer, { transfer: [h.buffer] });
    expect(x.length).toBe(0); // detached
    new Float64Array(moved).fill(7);
    expectSameResult(await pending, expected);
  });

  it('needs no reference to its model object from the caller', async () => {
    const pending = new native.PackedModel(spec, randomWeights(spec, makeRandom(21))).forwardAsync(padArgs(input, 6, 4, { h0 }));
    expectSameResult(await pending, model.forward(padArgs(input, 6, 4, { h0 })));
  });
});

// ---------------------------------------------------------------------------------------------------
// Refusals: every malformed value is an Error, never a crash and never a silent answer

const HUGE_VALUES: Array<[string, unknown]> = [
  ['2**40', 2 ** 40],
  ['2**53', 2 ** 53],
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['a string', '3'],
  ['undefined', undefined],
];

/** The constructor and forward as untyped calls: these tests hand them what TypeScript would refuse. */
const PackedModelCtor = native.PackedModel as unknown as new (spec: unknown, weights: unknown) => NativePackedModel;
function forwardUntyped(model: NativePackedModel, args: unknown): NativeForwardResult {
  return model.forward(args as NativeForwardArgs);
}
function forwardAsyncUntyped(model: NativePackedModel, args: unknown): Promise<NativeForwardResult> {
  return model.forwardAsync(args as NativeForwardArgs);
}

describe('PackedModel refuses a malformed spec or weights', () => {
  const spec = makeSpec({ mode: 'LSTM', inputSize: 3, hiddenSize: 4 });
  const weights = randomWeights(spec, makeRandom(31));

  const sizeFields = ['inputSize', 'hiddenSize', 'projSize', 'numLayers'] as const;
  for (const field of sizeFields) {
    it.each(HUGE_VALUES)(`spec.${field} = %s`, (_label, value) => {
      expect(() => new PackedModelCtor({ ...spec, [field]: value }, weights)).toThrow(new RegExp(`spec\\.${field}`));
    });
  }

  it.each([
    ['mode', 'LSTM2', /spec\.mode/],
    ['mode', 3, /spec\.mode/],
    ['dtype', 'float16', /spec\.dtype/],
    ['bidirectional', 1, /spec\.bidirectional/],
    ['bias', 'yes', /spec\.bias/],
    ['numLayers', 0, /numLayers/],
    ['projSize', 4, /projSize/],
    ['projSize', 5, /projSize/],
  ] as const)('spec.%s = %p', (field, value, message) => {
    expect(() => new PackedModelCtor({ ...spec, [field]: value }, weights)).toThrow(message);
  });

  it('projSize on a GRU', () => {
    const gru = makeSpec({ mode: 'GRU', hiddenSize: 4, projSize: 2 });
    expect(() => new PackedModelCtor(gru, randomWeights(gru, makeRandom(1)))).toThrow(/projSize/);
  });

  it('spec or weights of the wrong kind, or missing', () => {
    const error = thrownBy(() => new PackedModelCtor(null, weights));
    expect([error.name, error.message]).toEqual(['TypeError', 'spec must be an object']);
    expect(() => new PackedModelCtor(spec, undefined)).toThrow(/weights/);
    expect(() => new PackedModelCtor(spec, { length: 4 })).toThrow(/weights/);
    expect(() => new (native.PackedModel as unknown as new () => unknown)()).toThrow(/2 arguments/);
  });

  it('a weight count other than the spec\'s', () => {
    expect(() => new PackedModelCtor(spec, weights.slice(0, 3))).toThrow(/4 arrays.*got 3/);
    expect(() => new PackedModelCtor(spec, [...weights, weights[0]])).toThrow(/4 arrays.*got 5/);
    expect(() => new PackedModelCtor({ ...spec, bias: false }, weights)).toThrow(/2 arrays.*got 4/);
  });

  it('a weight of the wrong element type or length', () => {
    const withWeight = (i: number, value: unknown) => weights.map((w, j) => (j === i ? value : w));
    expect(() => new PackedModelCtor(spec, withWeight(1, new Float64Array(64)))).toThrow(/weights\[1\].*Float32Array/);
    expect(() => new PackedModelCtor(spec, withWeight(1, Array.from(weights[1])))).toThrow(/weights\[1\]/);
    expect(() => new PackedModelCtor(spec, withWeight(0, new Float32Array(11)))).toThrow(/weight_ih_l0.*48.*got 11/);
    expect(() => new PackedModelCtor(spec, withWeight(3, new Float32Array(17)))).toThrow(/bias_hh_l0.*16.*got 17/);
    expect(() => new PackedModelCtor(spec, withWeight(2, null))).toThrow(/weights\[2\]/);
    const detached = new Float32Array(16);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    expect(() => new PackedModelCtor(spec, withWeight(2, detached))).toThrow(/bias_ih_l0.*16.*got 0/);
  });

  it('weights whose combined size cannot be represented', () => {
    const wide = { ...spec, inputSize: 2 ** 31 - 1, hiddenSize: 2 ** 31 - 1, projSize: 0, numLayers: 2 ** 31 - 1, bidirectional: true };
    const error = thrownBy(() => new PackedModelCtor(wide, []));
    expect(error.name).toBe('RangeError');
    expect(error.message).toMatch(/too large/);
  });
});

describe('forward refuses malformed arguments', () => {
  const spec = makeSpec({ mode: 'LSTM', inputSize: 3, hiddenSize: 4, numLayers: 2 });
  const model = new native.PackedModel(spec, randomWeights(spec, makeRandom(41)));
  const good = (): NativeForwardArgs => padArgs(new Float32Array(2 * 3 * 3), 2, 3);

  /** Both entry points refuse: forward throws, forwardAsync rejects. */
  async function expectRefused(args: unknown, message: RegExp): Promise<void> {
    expect(() => forwardUntyped(model, args)).toThrow(message);
    await expect(forwardAsyncUntyped(model, args)).rejects.toThrow(message);
  }

  it('accepts the well-formed call these tests start from', () => {
    expect(model.forward(good()).output.length).toBe(2 * 3 * 4);
  });

  for (const field of ['seqLen', 'batch', 'dropoutSeed'] as const) {
    it.each(HUGE_VALUES)(`args.${field} = %s`, async (_label, value) => {
      await expectRefused({ ...good(), [field]: value }, field === 'dropoutSeed' ? /dropoutSeed/ : /seqLen|batch|input/);
    });
  }

  it('args that are not an object', async () => {
    await expectRefused(undefined, /args/);
    await expectRefused(7, /args/);
  });

  it('input of the wrong length or element type, or detached', async () => {
    await expectRefused({ ...good(), input: new Float32Array(17) }, /input.*18.*got 17/);
    await expectRefused({ ...good(), input: new Float32Array(19) }, /input.*18.*got 19/);
    await expectRefused({ ...good(), input: new Float64Array(18) }, /args\.input.*Float32Array/);
    await expectRefused({ ...good(), input: Array.from({ length: 18 }, () => 0) }, /args\.input/);
    const detached = new Float32Array(18);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    await expectRefused({ ...good(), input: detached }, /input.*18.*got 0/);
  });

  it('seqLen / batch that disagree with the input, or whose product overflows', async () => {
    await expectRefused({ ...good(), seqLen: 3 }, /input/);
    await expectRefused({ ...good(), batch: 2 }, /input/);
    await expectRefused({ ...good(), seqLen: 0 }, /sequence length/);
    await expectRefused({ ...good(), batchFirst: 'no' }, /batchFirst/);
  });

  it('sizes whose results cannot be allocated or represented', async () => {
    // With no input features the input is empty whatever seqLen and batch say; the results are not.
    const emptyInput = makeSpec({ mode: 'GRU', inputSize: 0, hiddenSize: 4 });
    const m = new native.PackedModel(emptyInput, randomWeights(emptyInput, makeRandom(1)));
    const big = 2 ** 31 - 1;
    // seqLen * batch * 4 output elements, in bytes, overflow size_t.
    const overflow = thrownBy(() => m.forward(padArgs(new Float32Array(0), big, big)));
    expect([overflow.name, overflow.message]).toEqual(['RangeError', expect.stringMatching(/too large/)]);
    // About 2**55 bytes of output: representable, but no allocator can provide them.
    expect(() => m.forward(padArgs(new Float32Array(0), big, 2 ** 20))).toThrow(/not enough memory/);
    await expect(m.forwardAsync(padArgs(new Float32Array(0), big, 2 ** 20))).rejects.toThrow(/not enough memory/);
    await expect(m.forwardAsync(padArgs(new Float32Array(0), big, big))).rejects.toThrow(/too large/);
  });

  it('h0 / c0 of the wrong length or element type', async () => {
    const h = (n: number) => new Float32Array(n);
    await expectRefused({ ...good(), h0: h(23) }, /h0.*24.*got 23/);
    await expectRefused({ ...good(), h0: new Float64Array(24) }, /h0.*Float32Array/);
    await expectRefused({ ...good(), h0: null }, /h0/);
    await expectRefused({ ...good(), c0: h(25) }, /c0.*24.*got 25/);
    await expectRefused({ ...good(), c0: [0] }, /c0/);
  });

  it('c0 for a model without cell state', async () => {
    const gruSpec = makeSpec({ mode: 'GRU' });
    const gru = new native.PackedModel(gruSpec, randomWeights(gruSpec, makeRandom(1)));
    expect(() => gru.forward({ ...good(), c0: new Float32Array(2 * 3 * 4 / 2) })).toThrow(/c0/);
  });

  it('dropout outside [0, 1] or not a number', async () => {
    for (const dropout of [-0.1, 1.5, NaN, Infinity, '0.5', undefined]) await expectRefused({ ...good(), dropout }, /dropout/);
  });

  it('malformed batchSizes', async () => {
    const packed = (batchSizes: unknown, extra: object = {}) => ({ ...good(), input: new Float32Array(6 * 3), batchSizes, ...extra });
    await expectRefused(packed(Int32Array.of(3)), /batchSizes.*2.*got 1/);
    await expectRefused(packed(Int32Array.of(3, 3, 3)), /batchSizes.*2.*got 3/);
    await expectRefused(packed(Int32Array.of(2, 3)), /batchSizes/);
    await expectRefused(packed(Int32Array.of(3, 0)), /batchSizes\[1\].*at least 1/);
    await expectRefused(packed(Int32Array.of(3, -1)), /batchSizes\[1\]/);
    await expectRefused(packed(Int32Array.of(2, 2)), /batchSizes\[0\].*batch/);
    await expectRefused(packed(Float32Array.of(3, 3)), /batchSizes.*Int32Array/);
    await expectRefused(packed([3, 3]), /batchSizes.*Int32Array/);
    await expectRefused(packed(Int32Array.of(3, 3), { batchFirst: true }), /batchFirst/);
    // Rows are sum(batchSizes), not seqLen * batch.
    await expectRefused(packed(Int32Array.of(3, 2)), /input.*15.*got 18/);
  });
});
