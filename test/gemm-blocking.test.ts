/**
 * The packed GEMM's loop orders. A product deep and wide enough (several K chunks, several column blocks)
 * runs its K chunks innermost, so that its C stays in cache between chunks; a narrow one runs them outside
 * the column blocks. Both must sum every element over the same chunks in the same order: a wide layer's
 * columns are the very bits of a narrow layer made of those columns alone. An output of 8 MiB or more is
 * stored around the caches where its lines are aligned (a recurrent layer's input projection): the same
 * bits as a plain store. Run under each TORCHRNN_ISA.
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
