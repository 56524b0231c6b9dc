import { GRU, LSTM, RNN, manualSeed, type RNNBase } from '../lib/index';

const configs: Array<[string, () => RNNBase]> = [
  ['LSTM(100, 15, numLayers=2, bidirectional)', () => new LSTM(100, 15, 2, { bidirectional: true })],
  ['LSTM(4, 5, projSize=3, 2 layers, bidirectional)', () => new LSTM(4, 5, 2, { projSize: 3, bidirectional: true })],
  ['GRU(7, 9, float64)', () => new GRU(7, 9, { dtype: 'float64' })],
  ['RNN(3, 1, relu, no bias)', () => new RNN(3, 1, { nonlinearity: 'relu', bias: false })],
];

function values(m: RNNBase): number[][] {
  return m.parameters().map((p) => [...p.data]);
}

describe('every parameter is drawn from U(-1/sqrt(hiddenSize), 1/sqrt(hiddenSize))', () => {
  test.each(configs)('%s', (_, create) => {
    const m = create();
    const bound = 1 / Math.sqrt(m.hiddenSize);
    for (const [name, p] of m.namedParameters()) {
      let min = Infinity;
      let max = -Infinity;
      for (const v of p.data) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      expect({ name, inBounds: min >= -bound && max < bound }).toEqual({ name, inBounds: true });
    }
  });

  test('the projection weights use hiddenSize for the bound, not projSize', () => {
    const m = new LSTM(4, 100, { projSize: 1 });
    const bound = 1 / Math.sqrt(100);
    const largest = Math.max(...[...m.weight_hr_l0.data].map(Math.abs));
    expect(largest).toBeLessThan(bound);
    // 100 draws of U(-0.1, 0.1) all below 0.05 in magnitude has probability 2^-100.
    expect(largest).toBeGreaterThan(bound / 2);
  });

  test('draws spread over the interval rather than piling up', () => {
    const m = new LSTM(50, 25);
    const data = [...m.weight_ih_l0.data];
    const bound = 1 / Math.sqrt(25);
    const mean = data.reduce((a, b) => a + b, 0) / data.length;
    const variance = data.reduce((a, b) => a + (b - mean) ** 2, 0) / data.length;
    // U(-b, b) has mean 0 and variance b^2/3; 5000 draws put both well within these margins.
    expect(Math.abs(mean)).toBeLessThan(0.05 * bound);
    expect(variance).toBeGreaterThan(0.9 * (bound * bound) / 3);
    expect(variance).toBeLessThan(1.1 * (bound * bound) / 3);
  });
});

describe('manualSeed makes construction reproducible', () => {
  test.each(configs)('%s: the same seed gives identical parameters', (_, create) => {
    manualSeed(1234);
    const a = values(create());
    manualSeed(1234);
    const b = values(create());
    expect(b).toEqual(a);
  });

  test('different seeds give different parameters', () => {
    manualSeed(1);
    const a = values(new LSTM(10, 20));
    manualSeed(2);
    const b = values(new LSTM(10, 20));
    expect(b).not.toEqual(a);
  });

  test('consecutive constructions after one seed differ', () => {
    manualSeed(7);
    const a = values(new GRU(3, 4));
    const b = values(new GRU(3, 4));
    expect(b).not.toEqual(a);
  });

  test('negative and bigint seeds are accepted', () => {
    manualSeed(-5);
    const a = values(new RNN(2, 3));
    manualSeed(-5n);
    expect(values(new RNN(2, 3))).toEqual(a);
    manualSeed(2n ** 70n);
    const c = values(new RNN(2, 3));
    manualSeed(2n ** 70n);
    expect(values(new RNN(2, 3))).toEqual(c);
  });

  test('a non-integer seed is refused', () => {
    expect(() => manualSeed(1.5)).toThrow('manualSeed expected an integer, got: number 1.5');
    expect(() => manualSeed('1' as never)).toThrow(TypeError);
  });

  test('resetParameters redraws from the generator', () => {
    manualSeed(3);
    const m = new LSTM(3, 4);
    const first = values(m);
    manualSeed(3);
    m.resetParameters();
    expect(values(m)).toEqual(first);
    m.resetParameters();
    expect(values(m)).not.toEqual(first);
  });
});
