/**
 * Modules too large to build are refused before anything is allocated, with a RangeError naming the size:
 * never V8's `Invalid typed array length`, never heap exhaustion. Each case would otherwise allocate
 * until the process dies (numLayers) or fail with V8's message (huge sizes). Also: an Embedding whose
 * weight data was replaced by a shorter array refuses to run instead of returning zeros.
 */
import { totalmem } from 'os';
import { getHeapStatistics } from 'v8';
import { Embedding, GRU, GRUCell, LSTM, LSTMCell, Linear, RNN, RNNCell, Tensor } from '../lib';
import { HEAP_BYTES_PER_PARAMETER, MAX_TENSOR_ELEMENTS } from '../lib/modules/parameter_budget';

/** Runs `build`, expects a RangeError matching every pattern, and that it came at once. */
function expectRefused(build: () => unknown, ...patterns: RegExp[]): void {
  const started = Date.now();
  let error: unknown;
  try {
    build();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(RangeError);
  const message = (error as Error).message;
  expect(message).not.toMatch(/Invalid typed array length|Array buffer allocation failed/);
  for (const pattern of patterns) expect(message).toMatch(pattern);
  // Refused from the sizes alone: no allocation happened (a generous bound; the check takes microseconds).
  expect(Date.now() - started).toBeLessThan(1000);
}

describe('module sizes are checked before anything is allocated', () => {
  test('the limits used below hold on this machine', () => {
    // 2^31 - 1 layers of a 4-parameter stack need far more heap than any Node has; 1e6 layers (4e6
    // tensors) more than half of it (Node's default heap limit is about 4 GiB).
    expect(4e6 * HEAP_BYTES_PER_PARAMETER).toBeGreaterThan(getHeapStatistics().heap_size_limit / 2);
    expect(MAX_TENSOR_ELEMENTS).toBeLessThan(2 ** 40);
    expect(totalmem()).toBeLessThan(2 ** 50);
  });

  test.each([
    ['LSTM', () => new LSTM(4, 8, { numLayers: 2 ** 31 - 1 })],
    ['GRU', () => new GRU(4, 8, { numLayers: 2 ** 31 - 1 })],
    ['RNN', () => new RNN(4, 8, 2 ** 31 - 1)],
    ['LSTM, 1e6 layers', () => new LSTM(4, 8, { numLayers: 1e6 })],
    ['GRU, 1e6 layers, bidirectional', () => new GRU({ inputSize: 4, hiddenSize: 8, numLayers: 1e6, bidirectional: true })],
  ])('%s: a layer count whose parameter tensors cannot fit the heap', (_, build) => {
    expectRefused(build, /^num_layers=(2147483647|1000000) is too large: /, /parameter tensors/, /heap/);
  });

  test('sizes beyond the engine are refused by name', () => {
    expectRefused(() => new LSTM(4, 2 ** 31), /^hidden_size must be at most 2147483647 \(the engine's limit\), got 2147483648$/);
    expectRefused(() => new GRU(2 ** 40, 8), /^input_size must be at most 2147483647/, /got 1099511627776/);
    expectRefused(() => new RNN(4, 8, 2 ** 31), /^num_layers must be at most 2147483647/);
    expectRefused(() => new LSTMCell(2 ** 40, 0), /^input_size must be at most 2147483647/);
    expectRefused(() => new GRUCell(4, 2 ** 32), /^hidden_size must be at most 2147483647/);
    expectRefused(() => new Linear(2 ** 31, 1), /^in_features must be at most 2147483647/);
    expectRefused(() => new Linear(1, 2 ** 53 - 1), /^out_features must be at most 2147483647/);
  });

  test('a parameter larger than a typed array is refused, naming it and its size', () => {
    expectRefused(() => new LSTM(4, 2 ** 31 - 1), /LSTM\(inputSize=4, hiddenSize=2147483647, numLayers=1\)/, /weight_ih_l0 of shape \(8589934588, 4\)/, /more than a typed array/);
    expectRefused(() => new GRU(2 ** 31 - 1, 8), /weight_ih_l0 of shape \(24, 2147483647\) would hold 51539607528 elements/);
    expectRefused(() => new LSTM(8, 2 ** 20, { projSize: 2 ** 20 - 1 }), /projSize=1048575/, /weight_hh_l0 of shape \(4194304, 1048575\)/);
    expectRefused(() => new RNNCell(2 ** 31 - 1, 2 ** 31 - 1), /RNNCell\(inputSize=2147483647, hiddenSize=2147483647\)/, /weight_ih/);
    expectRefused(() => new LSTMCell(4, 2 ** 30), /LSTMCell/, /weight_ih of shape \(4294967296, 4\)/);
    expectRefused(() => new Linear(2 ** 31 - 1, 2 ** 31 - 1), /Linear\(inFeatures=2147483647, outFeatures=2147483647\): weight/);
    expectRefused(() => new Embedding(2 ** 40, 4), /Embedding\(numEmbeddings=1099511627776, embeddingDim=4\): weight/);
    expectRefused(() => new Embedding(2 ** 31, 2 ** 31, { dtype: 'float64' }), /would hold 4611686018427388000 elements/);
  });

  test('parameters that each fit a typed array but together need terabytes: the library message', () => {
    // weight_ih_l0 (65536 x 32768) has 2^31 elements; 4096 layers of float64 make about 32 TiB.
    expectRefused(
      () => new LSTM(2 ** 15, 2 ** 14, { numLayers: 2 ** 12, dtype: 'float64' }),
      /LSTM\(inputSize=32768, hiddenSize=16384, numLayers=4096\) would allocate \d+ bytes \([\d.]+ GiB\) of float64 parameters/,
      /more than the memory this process may use/,
    );
  });

  test('sizes within the limits still build', () => {
    expect(new LSTM(4, 8, { numLayers: 1000 }).parameters()).toHaveLength(4000);
    expect(new LSTMCell(2 ** 31 - 1, 0).weight_ih.shape).toEqual([0, 2 ** 31 - 1]);
    expect(new Linear(0, 2 ** 31 - 1, { bias: false }).weight.shape).toEqual([2 ** 31 - 1, 0]);
    expect(new Embedding(2 ** 16, 1).weight.shape).toEqual([2 ** 16, 1]);
  });
});

/** What plain JS can do: `data` is readonly to TypeScript only. */
function writable(t: Tensor): { data: Float32Array } {
  return t as unknown as { data: Float32Array };
}

describe('Embedding checks its weight against its sizes, as Linear does', () => {
  test('weight.data replaced by a shorter array: forward throws instead of returning zeros', () => {
    const embedding = new Embedding(10, 3);
    writable(embedding.weight).data = new Float32Array(2);
    expect(() => embedding.forward([5])).toThrow(new RangeError('Embedding weight must hold 30 values, got 2'));
    expect(() => embedding.forward(Tensor.zeros([0]))).toThrow(RangeError);
  });

  test('a longer array is refused too; the right length runs', () => {
    const embedding = new Embedding(4, 2);
    writable(embedding.weight).data = new Float32Array(9);
    expect(() => embedding.forward([0])).toThrow('Embedding weight must hold 8 values, got 9');
    writable(embedding.weight).data = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(embedding.forward([3, 1]).data)).toEqual([6, 7, 2, 3]);
  });
});
