/**
 * The packed GEMM's loop orders. A product deep and wide enough (several K chunks, several column blocks)
 * runs its K chunks innermost, so that its C stays in cache between chunks; a narrow one runs them outside
 * the column blocks. Both must sum every element over the same chunks in the same order: a wide layer's
 * columns are the very bits of a narrow layer made of those columns alone. An output of 8 MiB or more is
 * stored around the caches where its lines are aligned (a recurrent layer's input projection): the same
 * bits as a plain store. A small product (A within 32 KB, K one chunk) reads A's rows unpacked: the
 * bits of the same rows in a product big enough to be packed. Run under each TORCHRNN_ISA.
 */
import { LSTM, Linear, Tensor, getNumThreads, setNumThreads } from '../lib';
import { seededRandom } from './helpers/seeded';

function filled(length: number, seed: number): Float32Array {
  const next = seededRandom(seed);
  return Float32Array.from({ length }, () => next() * 2 - 1);
}

describe.each([
  ['K over two chunks', 41, 700],
  ['K over four chunks, rows over a row block', 250, 2060],
])('%s', (_, rows, k) => {
  const wide = 600;
  const narrow = 100; // under every family's column block
  const x = new Tensor(filled(rows * k, 1), [rows, k]);
  const weight = filled(wide * k, 2);
  const bias = filled(wide, 3);

  const linearOf = (cols: number): Linear => {
    const layer = new Linear(k, cols);
    layer.loadStateDict({ weight: new Tensor(weight.slice(0, cols * k), [cols, k]), bias: new Tensor(bias.slice(0, cols), [cols]) });
    return layer;
  };

  it("a wide layer's first columns are the bits of a narrow layer of those columns", () => {
    const all = linearOf(wide).forward(x).data;
    const some = linearOf(narrow).forward(x).data;
    const mismatches: string[] = [];
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < narrow; j++)
        if (!Object.is(all[r * wide + j], some[r * narrow + j])) mismatches.push(`[${r}, ${j}]: ${all[r * wide + j]} vs ${some[r * narrow + j]}`);
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it('agrees with a float64 sum', () => {
    const y = linearOf(wide).forward(x).data;
    let worst = 0;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < wide; j += 7) {
        let sum = bias[j];
        for (let i = 0; i < k; i++) sum += x.data[r * k + i] * weight[j * k + i];
        worst = Math.max(worst, Math.abs(y[r * wide + j] - sum));
      }
    }
    expect(worst).toBeLessThan(2e-4);
  });
});

describe('an input projection past 8 MiB, stored around the caches', () => {
  const initial = getNumThreads();
  afterAll(() => setNumThreads(initial));

  // Steps x batch 8 x 4 * 512 gates: 8.5 MB in one GEMM on one thread (K = 32, one chunk); on two, each
  // thread's half is under 8 MiB and stored as before.
  it.each([
    ['float32', 130],
    ['float64', 65],
  ] as const)('%s: the bits of the plain stores', (dtype, steps) => {
    const [batch, input] = [8, 32];
    const lstm = new LSTM({ inputSize: input, hiddenSize: 512, dtype }).eval();
    const values = filled(steps * batch * input, 4);
    const x = new Tensor(dtype === 'float32' ? values : Float64Array.from(values), [steps, batch, input]);
    setNumThreads(1);
    const [streamed] = lstm.forward(x) as [Tensor, [Tensor, Tensor]];
    setNumThreads(2);
    const [plain] = lstm.forward(x) as [Tensor, [Tensor, Tensor]];
    expect(streamed.data.length).toBe(steps * batch * 512);
    let mismatches = 0;
    for (let i = 0; i < plain.data.length; i++) if (!Object.is(streamed.data[i], plain.data[i])) mismatches++;
    expect(mismatches).toBe(0);
  });
});

// Rows of a product whose A is past 32 KB (packed, row-blocked) against the same rows alone (A read as
// it is): tile remainders of every size, K under and over a vector, columns that end mid-panel.
describe('a small product reads A unpacked, with the bits of a packed one', () => {
  it.each([
    [1, 7],
    [3, 30],
    [13, 100],
    [14, 15],
    [15, 100],
    [29, 33],
    [60, 100],
    [60, 30],
  ])('%i rows, K = %i', (rows, k) => {
    const n = 120;
    const big = Math.ceil((48 << 10) / (4 * k)) + rows; // rows enough for an A past 32 KB
    const layer = new Linear(k, n);
    layer.loadStateDict({ weight: new Tensor(filled(n * k, 5), [n, k]), bias: new Tensor(filled(n, 6), [n]) });
    const all = filled(big * k, 7);
    const packed = layer.forward(new Tensor(all, [big, k])).data;
    const first = (big - rows) >> 1; // rows from the middle of the big product
    const small = layer.forward(new Tensor(all.slice(first * k, (first + rows) * k), [rows, k])).data;
    const mismatches: string[] = [];
    let worst = 0;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < n; j++) {
        const got = small[r * n + j];
        if (!Object.is(got, packed[(first + r) * n + j])) mismatches.push(`[${r}, ${j}]: ${got} vs ${packed[(first + r) * n + j]}`);
        let sum = layer.bias!.data[j];
        for (let i = 0; i < k; i++) sum += all[(first + r) * k + i] * layer.weight.data[j * k + i];
        worst = Math.max(worst, Math.abs(got - sum));
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(worst).toBeLessThan(1e-4);
  });
});
