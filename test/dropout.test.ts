import { GRU, LSTM, RNN, Tensor, manualSeed } from '../lib/index';

/** Deterministic input in [0, 1), standing in for PyTorch's torch.rand. */
function rand(shape: number[]): Tensor {
  const t = Tensor.zeros(shape);
  t.data.forEach((_, i) => {
    const v = Math.sin(i * 12.9898 + 1) * 43758.5453;
    t.data[i] = v - Math.floor(v);
  });
  return t;
}

function min(t: Tensor): number {
  return Math.min(...t.data);
}

function max(t: Tensor): number {
  return Math.max(...t.data);
}

function same(a: Tensor, b: Tensor): boolean {
  return a.data.length === b.data.length && a.data.every((v, i) => v === b.data[i]);
}

// PyTorch's test_RNN_dropout: with all-ones weights, layer 0 outputs 10 per unit, layer 1 sums 1000 of them.
describe('test_RNN_dropout', () => {
  for (const p of [0, 0.276, 0.731, 1]) {
    for (const train of [true, false]) {
      test(`p=${p}, ${train ? 'train' : 'eval'}`, () => {
        const rnn = new RNN(10, 1000, 2, { bias: false, dropout: p, nonlinearity: 'relu' });
        if (train) rnn.train();
        else rnn.eval();
        rnn.weight_ih_l0.data.fill(1);
        rnn.weight_hh_l0.data.fill(1);
        rnn.weight_ih_l1.data.fill(1);
        rnn.weight_hh_l1.data.fill(1);
        rnn.flattenParameters();
        const input = Tensor.ones([1, 1, 10]);
        const hx = Tensor.zeros([2, 1, 1000]);

        const [output, hy] = rnn.forward(input, hx);
        expect(min(output)).toBe(max(output));
        const outputVal = output.data[0];
        if (p === 0 || !train) {
          expect(outputVal).toBe(10000);
        } else if (p === 1) {
          expect(outputVal).toBe(0);
        } else {
          expect(outputVal).toBeGreaterThan(8000);
          expect(outputVal).toBeLessThan(12000);
          const denormMod = (outputVal * (1 - p)) % 10;
          expect(Math.min(denormMod, 10 - denormMod)).toBeLessThan(1e-2);
        }
        const hy0 = new Tensor(hy.data.subarray(0, 1000), [1000]);
        const hy1 = new Tensor(hy.data.subarray(1000), [1000]);
        expect(min(hy0)).toBe(max(hy0));
        expect(min(hy1)).toBe(max(hy1));
        expect(hy0.data[0]).toBe(10);
        expect(hy1.data[0]).toBe(outputVal);
      });
    }
  }
});

// PyTorch's test_RNN_change_dropout: changing `dropout` after construction takes effect.
describe('test_RNN_change_dropout', () => {
  for (const train of [true, false]) {
    test(train ? 'train' : 'eval', () => {
      const rnn = new RNN(100, 100, 2, { dropout: 0, nonlinearity: 'relu' });
      const input = rand([3, 2, 100]);
      if (train) rnn.train();
      else rnn.eval();

      let prevOutput: Tensor | undefined;
      for (const p of [0, 0.5, 0, 0.7, 0.2, 1, 0.2, 0]) {
        rnn.dropout = p;
        const [output1, hy1] = rnn.forward(input);
        const [output2, hy2] = rnn.forward(input);

        if (p === 0 || p === 1 || !train) {
          expect(same(output1, output2)).toBe(true);
          expect(same(hy1, hy2)).toBe(true);
        } else {
          expect(same(output1, output2)).toBe(false);
          expect(same(hy1, hy2)).toBe(false);
        }

        if (prevOutput !== undefined) {
          expect(same(output1, prevOutput)).toBe(!train);
          expect(same(output2, prevOutput)).toBe(!train);
        }
        prevOutput = output1;
      }
    });
  }
});

describe('reproducible masks', () => {
  test.each([
    ['RNN', () => new RNN(6, 8, 3, { dropout: 0.4 })],
    ['LSTM', () => new LSTM(6, 8, 3, { dropout: 0.4, bidirectional: true })],
    ['GRU', () => new GRU(6, 8, 3, { dropout: 0.4, batchFirst: true })],
  ])('%s: the same manualSeed gives the same training-mode output', (_, create) => {
    const m = create();
    const x = rand([4, 5, 6]);
    manualSeed(99);
    const [a] = m.forward(x);
    manualSeed(99);
    const [b] = m.forward(x);
    const [c] = m.forward(x);
    expect(same(a, b)).toBe(true);
    expect(same(a, c)).toBe(false);
  });

  test('forwardAsync draws masks from the same generator', async () => {
    const m = new LSTM(6, 8, 2, { dropout: 0.5 });
    const x = rand([4, 3, 6]);
    manualSeed(5);
    const [a] = m.forward(x);
    manualSeed(5);
    const [b] = await m.forwardAsync(x);
    expect(same(a, b)).toBe(true);
  });
});

describe('eval() means no dropout', () => {
  test('an evaluating module with dropout equals the same weights without dropout', () => {
    const withDropout = new GRU(6, 8, 3, { dropout: 0.6 });
    const without = new GRU(6, 8, 3);
    without.loadStateDict(withDropout.stateDict());
    const x = rand([5, 2, 6]);
    const [reference, hReference] = without.forward(x);

    withDropout.eval();
    const [out, h] = withDropout.forward(x);
    expect(same(out, reference)).toBe(true);
    expect(same(h, hReference)).toBe(true);

    withDropout.train();
    expect(same(withDropout.forward(x)[0], reference)).toBe(false);
  });
});
