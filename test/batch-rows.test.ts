/**
 * A sequence's results do not depend on the batch it runs in: each row of a batch gets the bits that
 * sequence gets alone at batch 1. The input projection computes every row alike, and every recurrent path
 * (the one-row streaming step, tiny steps whose rows are updated side by side, the few-row and wide tiles)
 * sums each unit over k in the same order and updates it with the same per-lane arithmetic. Covers the
 * batch sizes and widths where those paths differ. Run under each TORCHRNN_ISA.
 */
import { GRU, LSTM, RNN, Tensor, getNumThreads, manualSeed, setNumThreads } from '../lib';
import { randomTensor } from './helpers/random';

const initial = getNumThreads();
afterAll(() => setNumThreads(initial));

/** Row `row` of a time-major (T, N, F) tensor as a (T, 1, F) tensor. */
function rowOf(x: Tensor, row: number): Tensor {
  const [T, N, F] = x.shape;
  const out = new Float32Array(T * F);
  for (let t = 0; t < T; t++) out.set(x.data.subarray((t * N + row) * F, (t * N + row + 1) * F), t * F);
  return new Tensor(out, [T, 1, F]);
}

/** Elements of `a` whose bits differ from `b`'s, the first few, as text. */
function differences(a: Tensor, b: Tensor): string[] {
  const found: string[] = [];
  for (let i = 0; i < a.data.length && found.length < 5; i++)
    if (!Object.is(a.data[i], b.data[i])) found.push(`[${i}]: ${a.data[i]} in the batch, ${b.data[i]} alone`);
  return found;
}

type Recurrent = LSTM | GRU | RNN;

describe.each([1, 2])('with %i thread(s)', (threads) => {
  beforeAll(() => setNumThreads(threads));

  // Tiny steps (one panel of units: seed-lstm's shape among them), a few panels, and a bidirectional stack.
  const models: [string, number, () => Recurrent][] = [
    ['LSTM(12, 15)', 2, () => new LSTM({ inputSize: 12, hiddenSize: 15 })],
    ['LSTM(12, 15)', 3, () => new LSTM({ inputSize: 12, hiddenSize: 15 })],
    ['LSTM(12, 16)', 4, () => new LSTM({ inputSize: 12, hiddenSize: 16 })],
    ['LSTM(12, 7)', 5, () => new LSTM({ inputSize: 12, hiddenSize: 7 })],
    ['2-layer bidirectional LSTM(20, 15)', 3, () => new LSTM({ inputSize: 20, hiddenSize: 15, numLayers: 2, bidirectional: true })],
    ['LSTM(12, 40)', 3, () => new LSTM({ inputSize: 12, hiddenSize: 40 })],
    ['GRU(12, 15)', 3, () => new GRU({ inputSize: 12, hiddenSize: 15 })],
    ['RNN(12, 9)', 2, () => new RNN({ inputSize: 12, hiddenSize: 9 })],
  ];

  it.each(models)('%s at batch %i: each row has the bits of its sequence alone', (_name, batch, make) => {
    manualSeed(3);
    const module = make().eval();
    const x = randomTensor([11, batch, module.inputSize], 5);
    const [batched, hN] = module.forward(x) as [Tensor, Tensor | [Tensor, Tensor]];
    const [h, c] = Array.isArray(hN) ? hN : [hN];
    for (let row = 0; row < batch; row++) {
      const [alone, hAlone] = module.forward(rowOf(x, row)) as [Tensor, Tensor | [Tensor, Tensor]];
      const [h1, c1] = Array.isArray(hAlone) ? hAlone : [hAlone];
      expect(differences(rowOf(batched, row), alone)).toEqual([]);
      // h_n and c_n are (layers * directions, N, H), laid out as a time-major tensor is.
      expect(differences(rowOf(h, row), h1)).toEqual([]);
      if (c && c1) expect(differences(rowOf(c, row), c1)).toEqual([]);
    }
  });
});
