/**
 * Linear and Embedding against real PyTorch (test/fixtures/layers.json, written by generate_layers.py):
 * outputs, error messages, parameter names and shapes, initialisation, state dicts; and the native
 * PackedLinear's own checks of what it is given.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Embedding, LSTM, Linear, Tensor, loadTorch, manualSeed, type NestedArray } from '../lib';
import { native } from '../lib/native';
import { mismatch, mismatches } from './helpers/close';
import { FixtureParam, FixtureTensor, toStateDict, toTensor } from './helpers/fixtures';

interface LinearCase {
  name: string;
  options: { inFeatures: number; outFeatures: number; bias: boolean };
  params: FixtureParam[];
  input: FixtureTensor;
  output: FixtureTensor;
}

interface EmbeddingCase {
  name: string;
  options: { numEmbeddings: number; embeddingDim: number; paddingIdx: number | null };
  storedPaddingIdx: number | null;
  params: FixtureParam[];
  indices: NestedArray;
  output: FixtureTensor;
}

interface LayersFixture {
  linear: LinearCase[];
  embedding: EmbeddingCase[];
  messages: Record<string, string>;
  pipeline: { file: string; indices: number[][]; logits: FixtureTensor };
}

const FIXTURES = path.join(__dirname, 'fixtures');
const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'layers.json'), 'utf8')) as LayersFixture;
const messages = fixture.messages;

describe('Linear', () => {
  test.each(fixture.linear.map((c) => [c.name, c] as const))('%s gives PyTorch output', (_name, c) => {
    const dtype = c.params[0].dtype;
    const linear = new Linear(c.options.inFeatures, c.options.outFeatures, { bias: c.options.bias, dtype });
    linear.loadStateDict(toStateDict(c.params));
    expect(mismatch(linear.forward(toTensor(c.input)), toTensor(c.output), 'output')).toBeNull();
  });

  test.each(fixture.linear.map((c) => [c.name, c] as const))('%s: fromStateDict infers the sizes and bias', (_name, c) => {
    const linear = Linear.fromStateDict(toStateDict(c.params));
    expect([linear.inFeatures, linear.outFeatures, linear.bias !== undefined]).toEqual([
      c.options.inFeatures,
      c.options.outFeatures,
      c.options.bias,
    ]);
    expect(linear.dtype).toBe(c.params[0].dtype);
    expect(mismatch(linear.forward(toTensor(c.input)), toTensor(c.output), 'output')).toBeNull();
  });

  test("PyTorch's names, order and shapes", () => {
    const linear = new Linear(5, 3);
    expect(linear.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ['weight', [3, 5]],
      ['bias', [3]],
    ]);
    expect(new Linear(5, 3, { bias: false }).namedParameters().map(([n]) => n)).toEqual(['weight']);
    expect(new Linear(5, 3, { bias: false }).bias).toBeUndefined();
    expect(String(linear)).toBe('Linear(inFeatures=5, outFeatures=3, bias=true)');
  });

  test('init: weight and bias within ±1/√inFeatures, reproducible with manualSeed', () => {
    manualSeed(3);
    const a = new Linear(16, 200);
    manualSeed(3);
    const b = new Linear(16, 200);
    expect(a.weight.data).toEqual(b.weight.data);
    for (const p of a.parameters()) {
      const values = Array.from(p.data);
      expect(Math.max(...values)).toBeLessThan(0.25);
      expect(Math.min(...values)).toBeGreaterThanOrEqual(-0.25);
      // 3200 and 200 uniform draws: both ends of the interval are reached
      expect(Math.max(...values)).toBeGreaterThan(0.2);
      expect(Math.min(...values)).toBeLessThan(-0.2);
    }
  });

  test("PyTorch's shape errors", () => {
    const linear = new Linear(4, 2);
    expect(() => linear.forward(Tensor.zeros([3, 5]))).toThrow(messages.linear_3x5_on_4x2);
    expect(() => linear.forward(Tensor.zeros([2, 3, 5]))).toThrow(messages.linear_2x3x5_on_4x2);
    expect(() => linear.forward(Tensor.zeros([5]))).toThrow(messages.linear_1d_5_on_4x2);
    expect(() => linear.forward(Tensor.zeros([3, 4], 'float64'))).toThrow(
      'mat1 and mat2 must have the same dtype, but got float64 and float32',
    );
    expect(() => new Linear(4, 2, { bias: 1 } as never)).toThrow('bias should be of type bool, got: number 1');
    expect(() => new Linear(4.5, 2)).toThrow('in_features should be a non-negative integer, got: number 4.5');
    expect(() => new Linear(4, 2, { biass: true } as never)).toThrow("Unknown option 'biass' for Linear: did you mean 'bias'?");
  });

  test('an in-place edit is seen after flattenParameters; loading a state dict needs no call', () => {
    const linear = new Linear(2, 1, { bias: false });
    linear.weight.data.set([1, 2]);
    linear.flattenParameters();
    expect(Array.from(linear.forward(new Tensor(Float32Array.of(3, 4), [2])).data)).toEqual([11]);
    linear.loadStateDict({ weight: new Tensor(Float32Array.of(-1, 1), [1, 2]) });
    expect(Array.from(linear.forward(new Tensor(Float32Array.of(3, 4), [2])).data)).toEqual([1]);
  });

  test('fromStateDict names the wrong key', () => {
    const sd = { 'head.weight': Tensor.zeros([2, 3]), 'head.bias': Tensor.zeros([3]) };
    expect(() => Linear.fromStateDict(sd, { prefix: 'head.' })).toThrow(
      'size mismatch for head.bias: copying a param with shape torch.Size([3]) from checkpoint, the shape in current model is torch.Size([2]).',
    );
    expect(() => Linear.fromStateDict({ 'head.bias': Tensor.zeros([3]) }, { prefix: 'head' })).toThrow(
      'Linear.fromStateDict: head.weight is missing',
    );
    expect(() => Linear.fromStateDict({ weight: Tensor.zeros([3]) })).toThrow('weight has shape [3] but a Linear weight is 2-D');
  });
});

describe('the native PackedLinear re-checks what it is given', () => {
  const weight = new Float32Array(6);
  test.each([
    ['a weight of the wrong length', () => new native.PackedLinear(3, 2, new Float32Array(5), null), 'Linear weight must hold 6 values, got 5'],
    ['a bias of the wrong length', () => new native.PackedLinear(3, 2, weight, new Float32Array(3)), 'Linear bias must hold 2 values, got 3'],
    ['a bias of another type', () => new native.PackedLinear(3, 2, weight, new Float64Array(2)), 'bias must be a Float32Array'],
    ['a fractional size', () => new native.PackedLinear(2.5, 2, weight, null), 'inFeatures must be an integer'],
    ['a negative size', () => new native.PackedLinear(-1, 2, weight, null), 'inFeatures must be an integer'],
    ['a size beyond int32', () => new native.PackedLinear(2 ** 40, 2 ** 40, weight, null), 'inFeatures must be an integer'],
  ])('%s', (_what, make, message) => {
    expect(make).toThrow(message);
  });

  test.each([
    ['an input of the wrong length', Float32Array.of(1, 2, 3, 4), 2, 'Linear input must hold 6 values, got 4'],
    ['an input of another type', new Float64Array(6), 2, 'input must be a Float32Array'],
    ['rows far beyond the input', new Float32Array(6), 2 ** 31 - 1, 'Linear input must hold 6442450941 values, got 6'],
  ])('forward with %s', (_what, input, rows, message) => {
    const packed = new native.PackedLinear(3, 2, weight, null);
    expect(() => packed.forward(input as Float32Array, rows)).toThrow(message);
  });
});

describe('Embedding', () => {
  test.each(fixture.embedding.map((c) => [c.name, c] as const))('%s gives PyTorch output', (_name, c) => {
    const { numEmbeddings, embeddingDim, paddingIdx } = c.options;
    const embedding = new Embedding(numEmbeddings, embeddingDim, { paddingIdx, dtype: c.params[0].dtype });
    expect(embedding.paddingIdx).toBe(c.storedPaddingIdx);
    embedding.loadStateDict(toStateDict(c.params));
    expect(mismatch(embedding.forward(c.indices), toTensor(c.output), 'output')).toBeNull();
    const fromSd = Embedding.fromStateDict(toStateDict(c.params), { paddingIdx });
    expect([fromSd.numEmbeddings, fromSd.embeddingDim, fromSd.paddingIdx, fromSd.dtype]).toEqual([
      numEmbeddings,
      embeddingDim,
      c.storedPaddingIdx,
      c.params[0].dtype,
    ]);
    expect(mismatch(fromSd.forward(c.indices), toTensor(c.output), 'output')).toBeNull();
  });

  test('indices as nested arrays, a shaped Int32Array or number[], or a Tensor of integers', () => {
    manualSeed(0);
    const embedding = new Embedding(10, 3);
    const nested = embedding.forward([
      [1, 2],
      [3, 4],
    ]);
    expect(nested.shape).toEqual([2, 2, 3]);
    expect(embedding.forward(Int32Array.of(1, 2, 3, 4), [2, 2]).data).toEqual(nested.data);
    expect(embedding.forward([1, 2, 3, 4], [2, 2]).data).toEqual(nested.data);
    expect(embedding.forward(new Tensor(Float32Array.of(1, 2, 3, 4), [2, 2])).data).toEqual(nested.data);
    expect(embedding.forward(Int32Array.of(7)).shape).toEqual([1, 3]);
    expect(Array.from(embedding.forward(Int32Array.of(7)).data)).toEqual(Array.from(embedding.weight.data.subarray(21, 24)));
  });

  test("PyTorch's errors", () => {
    const embedding = new Embedding(10, 3);
    expect(() => embedding.forward([1, 10])).toThrow(messages.embedding_index_10_of_10);
    expect(() => embedding.forward([-1])).toThrow(messages.embedding_index_minus_1);
    expect(() => new Embedding(10, 3, { paddingIdx: 10 })).toThrow(messages.embedding_padding_10_of_10);
    expect(() => new Embedding(10, 3, { paddingIdx: -11 })).toThrow(messages.embedding_padding_minus_11_of_10);
    expect(() => embedding.forward([1.5])).toThrow('Embedding indices must be integers, got 1.5 at position 0');
    expect(() => embedding.forward([[1, 2], [3]])).toThrow('expected sequence of length 2 at dim 1 (got 1)');
    expect(() => embedding.forward(Int32Array.of(1, 2, 3), [2, 2])).toThrow('Tensor data has 3 elements but shape [2, 2] needs 4');
  });

  test('init: N(0, 1), the padding row zero, reproducible with manualSeed', () => {
    manualSeed(1);
    const embedding = new Embedding(1000, 20, { paddingIdx: 3 });
    manualSeed(1);
    expect(new Embedding(1000, 20, { paddingIdx: 3 }).weight.data).toEqual(embedding.weight.data);
    expect(Array.from(embedding.weight.data.subarray(60, 80))).toEqual(new Array(20).fill(0));
    const values = Array.from(embedding.weight.data);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
    // 20000 draws: the standard error of the mean is 0.007, of the variance about 0.01
    expect(Math.abs(mean)).toBeLessThan(0.04);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    expect(String(embedding)).toBe('Embedding(1000, 20, paddingIdx=3)');
    expect(embedding.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([['weight', [1000, 20]]]);
  });
});

describe('Embedding -> LSTM -> Linear, loaded from one torch.save file', () => {
  test("gives PyTorch's logits", async () => {
    const { pipeline } = fixture;
    const sd = await loadTorch(path.join(FIXTURES, pipeline.file));
    const embedding = Embedding.fromStateDict(sd, { prefix: 'embedding.' });
    const lstm = LSTM.fromStateDict(sd, { prefix: 'encoder.rnn.', batchFirst: true }).eval();
    const head = Linear.fromStateDict(sd, { prefix: 'head.' });
    expect([lstm.inputSize, lstm.hiddenSize, lstm.numLayers]).toEqual([6, 8, 2]);
    const [output] = lstm.forward(embedding.forward(pipeline.indices));
    expect(mismatches([[head.forward(output), toTensor(pipeline.logits), 'logits']])).toEqual([]);
  });
});
