/**
 * The relations the five seed notebooks (shared/seeds, summarised in seeds-in-brief.md) show, as tests.
 * Their printed numbers were never seeded; their configurations, shapes and relations are.
 */
import { LSTM, LSTMCell, RNN, Tensor, manualSeed } from '../lib';
import { mismatches } from './helpers/close';
import { randomTensor } from './helpers/random';

/** Element [i] along the first axis, as a plain array (output[-1] in PyTorch is slice(T - 1)). */
function slice(t: Tensor, i: number): number[] {
  const inner = t.data.length / t.shape[0];
  return Array.from(t.data.subarray(i * inner, (i + 1) * inner));
}

describe('seed 000: a two-layer bidirectional LSTM with given h0 and c0', () => {
  it('returns (20, 3, 30), (4, 3, 15), (4, 3, 15)', () => {
    const lstm = new LSTM({ inputSize: 100, hiddenSize: 15, dropout: 0.5, bias: true, batchFirst: false, numLayers: 2, bidirectional: true });
    const x = randomTensor([20, 3, 100], 1);
    const [out, [h, c]] = lstm.forward(x, [Tensor.ones([4, 3, 15]), Tensor.ones([4, 3, 15])]);
    expect(out.shape).toEqual([20, 3, 30]);
    expect(h.shape).toEqual([4, 3, 15]);
    expect(c.shape).toEqual([4, 3, 15]);
  });

  it('initialises every parameter within ±1/√hidden_size', () => {
    const lstm = new LSTM({ inputSize: 100, hiddenSize: 15, numLayers: 2, bidirectional: true });
    const bound = 1 / Math.sqrt(15);
    for (const [, p] of lstm.namedParameters()) {
      expect(Math.max(...Array.from(p.data, Math.abs))).toBeLessThanOrEqual(bound);
    }
  });
});

describe('seed 001: the forward contract of a one-layer LSTM', () => {
  it('has PyTorch defaults', () => {
    const lstm = new LSTM({ inputSize: 6, hiddenSize: 5 });
    expect([lstm.numLayers, lstm.bias, lstm.batchFirst, lstm.dropout, lstm.bidirectional]).toEqual([1, true, false, 0, false]);
  });

  it('gives output[-1] equal to h_n[0] exactly', () => {
    const lstm = new LSTM({ inputSize: 6, hiddenSize: 5 }).eval();
    const [out, [h, c]] = lstm.forward(randomTensor([4, 3, 6], 2, 2));
    expect(out.shape).toEqual([4, 3, 5]);
    expect(h.shape).toEqual([1, 3, 5]);
    expect(c.shape).toEqual([1, 3, 5]);
    expect(slice(out, 3)).toEqual(Array.from(h.data));
  });

  it('gives the same numbers batch-first as after a transpose', () => {
    manualSeed(1);
    const timeMajor = new LSTM({ inputSize: 6, hiddenSize: 5 }).eval();
    const batchMajor = new LSTM({ inputSize: 6, hiddenSize: 5, batchFirst: true }).eval();
    batchMajor.loadStateDict(timeMajor.stateDict());
    const x = randomTensor([4, 3, 6], 3, 2); // (T, N, C)
    const xt = new Float32Array(x.data.length); // (N, T, C)
    for (let t = 0; t < 4; t++) for (let n = 0; n < 3; n++) for (let k = 0; k < 6; k++) xt[(n * 4 + t) * 6 + k] = x.data[(t * 3 + n) * 6 + k];
    const [out] = timeMajor.forward(x);
    const [outT, [h]] = batchMajor.forward(new Tensor(xt, [3, 4, 6]));
    const [, [h0]] = timeMajor.forward(x);
    expect(outT.shape).toEqual([3, 4, 5]);
    for (let t = 0; t < 4; t++) for (let n = 0; n < 3; n++) for (let k = 0; k < 5; k++) {
      expect(outT.data[(n * 4 + t) * 5 + k]).toBe(out.data[(t * 3 + n) * 5 + k]);
    }
    expect(Array.from(h.data)).toEqual(Array.from(h0.data));
  });
});

/**
 * The notebook's own lstm_forward, in TypeScript and float64: gates i, f, g, o from W_ih x + b_ih + W_hh h + b_hh,
 * c' = f*c + i*g, h' = o*tanh(c'), then h' = W_hr h' with a projection. Batch-first input (bs, T, In).
 */
function handWrittenLstm(
  x: Tensor, h0: Tensor, c0: Tensor,
  wIh: Tensor, wHh: Tensor, bIh: Tensor, bHh: Tensor, wHr?: Tensor,
): { output: number[][][]; h: number[][]; c: number[][] } {
  const [bs, T, inSize] = x.shape;
  const H = wIh.shape[0] / 4;
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  let prevH = h0.toArray() as number[][];
  let prevC = c0.toArray() as number[][];
  const output: number[][][] = Array.from({ length: bs }, () => []);
  for (let t = 0; t < T; t++) {
    const nextH: number[][] = [];
    const nextC: number[][] = [];
    for (let b = 0; b < bs; b++) {
      const gate = (row: number) => {
        let s = bIh.data[row] + bHh.data[row];
        for (let k = 0; k < inSize; k++) s += wIh.data[row * inSize + k] * x.data[(b * T + t) * inSize + k];
        const hw = prevH[b].length;
        for (let k = 0; k < hw; k++) s += wHh.data[row * hw + k] * prevH[b][k];
        return s;
      };
      const c: number[] = [];
      let h: number[] = [];
      for (let j = 0; j < H; j++) {
        const i = sigmoid(gate(j));
        const f = sigmoid(gate(H + j));
        const g = Math.tanh(gate(2 * H + j));
        const o = sigmoid(gate(3 * H + j));
        c.push(f * prevC[b][j] + i * g);
        h.push(o * Math.tanh(c[j]));
      }
      if (wHr) {
        const P = wHr.shape[0];
        h = Array.from({ length: P }, (_, p) => h.reduce((s, v, j) => s + wHr.data[p * H + j] * v, 0));
      }
      nextH.push(h);
      nextC.push(c);
      output[b].push(h);
    }
    prevH = nextH;
    prevC = nextC;
  }
  return { output, h: prevH, c: prevC };
}

function expectClose(actual: Tensor, expected: number[], tol: number): void {
  expect(actual.data.length).toBe(expected.length);
  const worst = Math.max(...expected.map((e, i) => Math.abs(actual.data[i] - e)));
  expect(worst).toBeLessThan(tol);
}

describe('seed 002: a hand-written LSTM loop agrees with the addon', () => {
  const [bs, T, inSize, H, P] = [2, 3, 4, 5, 3];
  const x = randomTensor([bs, T, inSize], 4, 1.5);
  const c0 = randomTensor([bs, H], 6);

  it('without projection', () => {
    const lstm = new LSTM(inSize, H, { batchFirst: true }).eval();
    const h0 = randomTensor([bs, H], 5);
    const [out, [hn, cn]] = lstm.forward(x, [new Tensor(h0.data, [1, bs, H]), new Tensor(c0.data, [1, bs, H])]);
    const ref = handWrittenLstm(x, h0, c0, lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0);
    expect([out.shape, hn.shape, cn.shape]).toEqual([[2, 3, 5], [1, 2, 5], [1, 2, 5]]);
    expectClose(out, ref.output.flat(2), 1e-6);
    expectClose(hn, ref.h.flat(), 1e-6);
    expectClose(cn, ref.c.flat(), 1e-6);
  });

  it('with proj_size = 3: h is (1, 2, 3), c is (1, 2, 5)', () => {
    const lstm = new LSTM(inSize, H, { batchFirst: true, projSize: P }).eval();
    expect(lstm.weight_hr_l0.shape).toEqual([3, 5]);
    expect(lstm.weight_hh_l0.shape).toEqual([20, 3]);
    const h0 = randomTensor([bs, P], 7);
    const [out, [hn, cn]] = lstm.forward(x, [new Tensor(h0.data, [1, bs, P]), new Tensor(c0.data, [1, bs, H])]);
    const ref = handWrittenLstm(x, h0, c0, lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0, lstm.weight_hr_l0);
    expect([out.shape, hn.shape, cn.shape]).toEqual([[2, 3, 3], [1, 2, 3], [1, 2, 5]]);
    expectClose(out, ref.output.flat(2), 1e-6);
    expectClose(hn, ref.h.flat(), 1e-6);
    expectClose(cn, ref.c.flat(), 1e-6);
  });
});

describe('seed 003: Elman RNNs', () => {
  it('out equals h exactly for a one-layer RNN on a length-1 sequence', () => {
    const rnn = new RNN({ inputSize: 100, hiddenSize: 30 });
    const [out, h] = rnn.forward(randomTensor([1, 1, 100], 8));
    expect(out.shape).toEqual([1, 1, 30]);
    expect(Array.from(out.data)).toEqual(Array.from(h.data));
  });

  it('a two-layer tanh RNN with h0 = ones gives (20, 3, 10) and (2, 3, 10)', () => {
    const rnn = new RNN({ inputSize: 100, hiddenSize: 10, numLayers: 2, nonlinearity: 'tanh', bias: true, batchFirst: false, dropout: 0.5 });
    const [out, h] = rnn.forward(randomTensor([20, 3, 100], 9), Tensor.ones([2, 3, 10]));
    expect(out.shape).toEqual([20, 3, 10]);
    expect(h.shape).toEqual([2, 3, 10]);
  });

  it('a bidirectional RNN ends its forward half at output[-1] and its reverse half at output[0]', () => {
    const rnn = new RNN({ inputSize: 100, hiddenSize: 15, numLayers: 2, bidirectional: true }).eval();
    const [out, h] = rnn.forward(randomTensor([20, 3, 100], 10), Tensor.ones([4, 3, 15]));
    expect(out.shape).toEqual([20, 3, 30]);
    expect(h.shape).toEqual([4, 3, 15]);
    expect(rnn.weight_ih_l1.shape).toEqual([15, 30]);
    const last = slice(out, 19);
    const first = slice(out, 0);
    const hn = Array.from(h.data);
    for (let n = 0; n < 3; n++) {
      // h_n[2] is layer 1 forward, h_n[3] layer 1 reverse
      expect(last.slice(n * 30, n * 30 + 15)).toEqual(hn.slice((2 * 3 + n) * 15, (2 * 3 + n + 1) * 15));
      expect(first.slice(n * 30 + 15, n * 30 + 30)).toEqual(hn.slice((3 * 3 + n) * 15, (3 * 3 + n + 1) * 15));
    }
  });
});

describe('seed 004: a four-layer LSTM called without state', () => {
  it('gives (10, 3, 20) and h, c of (4, 3, 20)', () => {
    const lstm = new LSTM(100, 20, 4);
    const [out, [h, c]] = lstm.forward(randomTensor([10, 3, 100], 11));
    expect(out.shape).toEqual([10, 3, 20]);
    expect(h.shape).toEqual([4, 3, 20]);
    expect(c.shape).toEqual([4, 3, 20]);
  });
});

describe('seed 004: LSTMCells stepped by hand equal nn.LSTM', () => {
  const [T, N, In, H] = [10, 3, 100, 20];
  /** xs[t] is (N, In): the notebook's list of per-step inputs. */
  const xs = Array.from({ length: T }, (_, t) => randomTensor([N, In], 40 + t));
  /** The same steps as one (T, N, In) sequence. */
  const sequence = new Tensor(Float32Array.from(xs.flatMap((x) => Array.from(x.data))), [T, N, In]);

  /** Row t of a (T, N, H) output, i.e. output[t], as an (N, H) tensor. */
  function at(output: Tensor, t: number): Tensor {
    return new Tensor(output.data.slice(t * N * H, (t + 1) * N * H), [N, H]);
  }

  /** Layer l's slice of a (numLayers, N, H) state. */
  function layer(state: Tensor, l: number): Tensor {
    return at(state, l);
  }

  /** The cell holding layer l's weights of `lstm`: cell l0 = weight_*_l0, cell l1 = weight_*_l1. */
  function cellOf(lstm: LSTM, l: number): LSTMCell {
    const cell = new LSTMCell(l === 0 ? In : H, H);
    cell.loadStateDict({
      weight_ih: lstm[`weight_ih_l${l}`],
      weight_hh: lstm[`weight_hh_l${l}`],
      bias_ih: lstm[`bias_ih_l${l}`],
      bias_hh: lstm[`bias_hh_l${l}`],
    });
    return cell;
  }

  it('a one-layer LSTMCell loop equals LSTM(100, 20)', () => {
    const lstm = new LSTM(In, H);
    const cell = cellOf(lstm, 0);
    let h = Tensor.zeros([N, H]);
    let c = Tensor.zeros([N, H]);
    const [output, [hN, cN]] = lstm.forward(sequence);
    const problems: string[] = [];
    xs.forEach((xt, t) => {
      [h, c] = cell.forward(xt, [h, c]);
      problems.push(...mismatches([[h, at(output, t), `h at step ${t}`]]));
    });
    problems.push(...mismatches([[h, layer(hN, 0), 'h_n'], [c, layer(cN, 0), 'c_n']]));
    expect(problems).toEqual([]);
  });

  it('a two-layer stack of LSTMCells stepped over 10 steps equals LSTM(100, 20, numLayers=2)', () => {
    const lstm = new LSTM({ inputSize: In, hiddenSize: H, numLayers: 2 });
    const cellL0 = cellOf(lstm, 0);
    const cellL1 = cellOf(lstm, 1);
    let [hL0, cL0, hL1, cL1] = [0, 1, 2, 3].map(() => Tensor.zeros([N, H]));
    const [output, [hN, cN]] = lstm.forward(sequence);
    const problems: string[] = [];
    xs.forEach((xt, t) => {
      [hL0, cL0] = cellL0.forward(xt, [hL0, cL0]); // layer 0 reads x_t
      [hL1, cL1] = cellL1.forward(hL0, [hL1, cL1]); // layer 1 reads layer 0's h
      problems.push(...mismatches([[hL1, at(output, t), `output at step ${t}`]]));
    });
    problems.push(
      ...mismatches([
        [hL0, layer(hN, 0), 'h_n[0]'],
        [cL0, layer(cN, 0), 'c_n[0]'],
        [hL1, layer(hN, 1), 'h_n[1]'],
        [cL1, layer(cN, 1), 'c_n[1]'],
      ]),
    );
    expect(problems).toEqual([]);
  });

  it("the notebook's own stack, LSTMCell(100, 30) then LSTMCell(30, 20), gives h and C of (3, 30) and (3, 20)", () => {
    const cellL0 = new LSTMCell({ inputSize: 100, hiddenSize: 30 });
    const cellL1 = new LSTMCell({ inputSize: 30, hiddenSize: 20 });
    let [hL0, cL0] = [Tensor.zeros([3, 30]), Tensor.zeros([3, 30])];
    let [hL1, cL1] = [Tensor.zeros([3, 20]), Tensor.zeros([3, 20])];
    for (const xt of xs) {
      [hL0, cL0] = cellL0.forward(xt, [hL0, cL0]);
      [hL1, cL1] = cellL1.forward(hL0, [hL1, cL1]);
    }
    expect([hL0.shape, cL0.shape, hL1.shape, cL1.shape]).toEqual([[3, 30], [3, 30], [3, 20], [3, 20]]);
  });
});
