/**
 * RNNCell, LSTMCell and GRUCell: construction, parameters, state dicts, initialisation, PyTorch's forward
 * checks and messages, and their relation to a one-layer module run for one step.
 */
import { GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell, Tensor, manualSeed, type RNNCellBase } from '../lib';
import { randomTensor } from './helpers/random';

type AnyCell = RNNCellBase<Tensor> | RNNCellBase<[Tensor, Tensor]>;

const make = {
  RNNCell: (o: object) => new RNNCell(o as never),
  LSTMCell: (o: object) => new LSTMCell(o as never),
  GRUCell: (o: object) => new GRUCell(o as never),
};
const ALL = Object.entries(make);
const CHUNKS: Record<string, number> = { RNNCell: 1, LSTMCell: 4, GRUCell: 3 };

function values(t: Tensor): number[] {
  return Array.from(t.data);
}

/** Runs any cell and returns its states as a list (h, or h and c). */
function step(cell: AnyCell, input: Tensor, hx?: Tensor | [Tensor, Tensor]): Tensor[] {
  const out = (cell as RNNCellBase<Tensor | [Tensor, Tensor]>).forward(input, hx);
  return out instanceof Tensor ? [out] : out;
}

describe('construction', () => {
  test.each(ALL)('%s: PyTorch defaults', (_, create) => {
    const cell = create({ inputSize: 10, hiddenSize: 20 });
    expect([cell.inputSize, cell.hiddenSize, cell.bias, cell.dtype, cell.training]).toEqual([10, 20, true, 'float32', true]);
  });

  test('positional and options forms agree', () => {
    const a = new LSTMCell(100, 20, { bias: false, dtype: 'float64' });
    const b = new LSTMCell({ inputSize: 100, hiddenSize: 20, bias: false, dtype: 'float64' });
    expect([a.inputSize, a.hiddenSize, a.bias, a.dtype]).toEqual([b.inputSize, b.hiddenSize, b.bias, b.dtype]);
    const relu = new RNNCell(3, 4, { nonlinearity: 'relu' });
    expect(relu.nonlinearity).toBe('relu');
    expect(new RNNCell(3, 4).nonlinearity).toBe('tanh');
  });

  test.each(ALL)('%s: parameters weight_ih (G, In), weight_hh (G, H), bias_ih (G), bias_hh (G), in that order', (name, create) => {
    const G = CHUNKS[name] * 7;
    const cell = create({ inputSize: 5, hiddenSize: 7 });
    expect(cell.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ['weight_ih', [G, 5]],
      ['weight_hh', [G, 7]],
      ['bias_ih', [G]],
      ['bias_hh', [G]],
    ]);
    expect(cell.weight_ih).toBe(cell.parameters()[0]);
    expect(cell.bias_hh).toBe(cell.parameters()[3]);
    expect(Object.keys(cell.stateDict())).toEqual(['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']);
  });

  test.each(ALL)('%s: without bias, only the weights', (_, create) => {
    const cell = create({ inputSize: 5, hiddenSize: 7, bias: false });
    expect(Object.keys(cell.stateDict())).toEqual(['weight_ih', 'weight_hh']);
    expect(cell.bias_ih).toBeUndefined();
  });

  test('hidden size 0 is allowed, as in PyTorch', () => {
    const cell = new GRUCell(3, 0);
    expect(cell.weight_ih.shape).toEqual([0, 3]);
    expect(cell.forward(randomTensor([2, 3], 1)).shape).toEqual([2, 0]);
  });

  test('an unknown nonlinearity is accepted at construction and fails in forward', () => {
    const cell = new RNNCell(10, 20, { nonlinearity: 'gelu' as never });
    expect(() => cell.forward(randomTensor([3, 10], 1))).toThrow(new Error('Unknown nonlinearity: gelu'));
  });

  test('values the engine cannot take are refused with clear messages', () => {
    expect(() => new LSTMCell(2.5, 4)).toThrow('input_size should be a non-negative integer, got: number 2.5');
    expect(() => new LSTMCell(2, -1)).toThrow('hidden_size should be a non-negative integer, got: number -1');
    expect(() => new GRUCell(2, 4, { bias: 1 as never })).toThrow('bias should be of type bool, got: number 1');
    expect(() => new RNNCell(2, 4, { dtype: 'float16' as never })).toThrow("dtype should be 'float32' or 'float64', got: string 'float16'");
    expect(() => new LSTMCell({ input_size: 2, hiddenSize: 4 } as never)).toThrow("Unknown option 'input_size' for LSTMCell: did you mean 'inputSize'?");
    expect(() => new LSTMCell(2, 4, { numLayers: 2 } as never)).toThrow("Unknown option 'numLayers' for LSTMCell");
    expect(() => new GRUCell(2, 4, 1 as never)).toThrow('GRUCell options must be a plain object, got: number 1');
    expect(() => new GRUCell({ inputSize: 2 } as never)).toThrow("GRUCell() missing required argument: 'hiddenSize'");
  });

  test("PyTorch's repr", () => {
    expect(String(new LSTMCell(10, 20))).toBe('LSTMCell(10, 20)');
    expect(String(new RNNCell(10, 20, { bias: false, nonlinearity: 'relu' }))).toBe('RNNCell(10, 20, bias=false, nonlinearity=relu)');
  });
});

describe('initialisation, manualSeed, state dicts and training mode work as for the modules', () => {
  test.each(ALL)('%s: every parameter within ±1/√hiddenSize', (_, create) => {
    manualSeed(1);
    const cell = create({ inputSize: 30, hiddenSize: 16 });
    for (const p of cell.parameters()) {
      const largest = values(p).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(largest).toBeLessThan(1 / 4);
      expect(largest).toBeGreaterThan(1 / 8);
    }
  });

  test.each(ALL)('%s: the same seed gives the same parameters; resetParameters redraws', (_, create) => {
    manualSeed(7);
    const a = create({ inputSize: 3, hiddenSize: 4 });
    manualSeed(7);
    const b = create({ inputSize: 3, hiddenSize: 4 });
    expect(b.parameters().map(values)).toEqual(a.parameters().map(values));
    b.resetParameters();
    expect(b.parameters().map(values)).not.toEqual(a.parameters().map(values));
  });

  test('loadStateDict changes the next forward; errors name the cell', () => {
    const x = randomTensor([2, 3], 2);
    const a = new GRUCell(3, 4);
    const b = new GRUCell(3, 4);
    expect(values(b.forward(x))).not.toEqual(values(a.forward(x)));
    b.loadStateDict(a.stateDict());
    expect(values(b.forward(x))).toEqual(values(a.forward(x)));
    expect(() => b.loadStateDict({ weight_ih: a.weight_ih })).toThrow(
      'Error(s) in loading state_dict for GRUCell:\n\tMissing key(s) in state_dict: "weight_hh", "bias_ih", "bias_hh". ',
    );
    expect(() => b.loadStateDict({ ...a.stateDict(), weight_hh: Tensor.zeros([12, 5]) })).toThrow(
      'size mismatch for weight_hh: copying a param with shape torch.Size([12, 5]) from checkpoint, the shape in current model is torch.Size([12, 4]).',
    );
  });

  test('assigning a parameter changes the next forward; in-place edits need flattenParameters()', () => {
    const x = randomTensor([2, 3], 3);
    const cell = new RNNCell(3, 4);
    const before = values(cell.forward(x));
    cell.weight_hh = new Tensor(cell.weight_hh.data.map((v) => -v), cell.weight_hh.shape);
    // hx defaults to zeros, so weight_hh does not matter yet; weight_ih does.
    expect(values(cell.forward(x))).toEqual(before);
    cell.weight_ih = new Tensor(cell.weight_ih.data.map((v) => -v), cell.weight_ih.shape);
    const negated = values(cell.forward(x));
    expect(negated).not.toEqual(before);
    cell.weight_ih.data.fill(0);
    expect(values(cell.forward(x))).toEqual(negated);
    cell.flattenParameters();
    expect(values(cell.forward(x))).not.toEqual(negated);
  });

  test('train() and eval() set the flag and return the cell; a cell has no dropout, so the result is the same', () => {
    const cell = new LSTMCell(3, 4);
    const x = randomTensor([2, 3], 4);
    const [hTrain] = cell.forward(x);
    expect(cell.eval()).toBe(cell);
    expect(cell.training).toBe(false);
    const [hEval] = cell.forward(x);
    expect(values(hEval)).toEqual(values(hTrain));
    expect(cell.train().training).toBe(true);
  });
});

describe('forward', () => {
  test.each(ALL)('%s: hx defaults to zeros', (name, create) => {
    const cell = create({ inputSize: 3, hiddenSize: 4 });
    const x = randomTensor([2, 3], 5);
    const zeros = Tensor.zeros([2, 4]);
    const explicit = step(cell, x, name === 'LSTMCell' ? [zeros, zeros] : zeros);
    expect(step(cell, x).map(values)).toEqual(explicit.map(values));
  });

  test.each(ALL)('%s: an unbatched (Hin) input is a batch of one, squeezed', (name, create) => {
    const cell = create({ inputSize: 3, hiddenSize: 4 });
    const x = randomTensor([3], 6);
    const h = randomTensor([4], 7);
    const hx = name === 'LSTMCell' ? ([h, randomTensor([4], 8)] as [Tensor, Tensor]) : h;
    const asBatch = (t: Tensor): Tensor => new Tensor(t.data, [1, ...t.shape]);
    const single = step(cell, x, hx);
    const batched = step(cell, asBatch(x), Array.isArray(hx) ? [asBatch(hx[0]), asBatch(hx[1])] : asBatch(hx));
    expect(single.map((s) => s.shape)).toEqual(single.map(() => [4]));
    expect(single.map(values)).toEqual(batched.map(values));
  });

  const modules: Array<[string, () => AnyCell, () => RNN | LSTM | GRU]> = [
    ['RNNCell(relu)', () => new RNNCell(3, 5, { nonlinearity: 'relu' }), () => new RNN(3, 5, { nonlinearity: 'relu' })],
    ['LSTMCell', () => new LSTMCell(3, 5), () => new LSTM(3, 5)],
    ['GRUCell(no bias)', () => new GRUCell(3, 5, { bias: false }), () => new GRU(3, 5, { bias: false })],
  ];
  test.each(modules)('%s is a one-layer module run for one step, with its weights as weight_*_l0', (_, createCell, createModule) => {
    const cell = createCell();
    const module = createModule();
    module.loadStateDict(Object.fromEntries(cell.namedParameters().map(([n, p]) => [`${n}_l0`, p])));
    const x = randomTensor([4, 3], 9);
    const h = randomTensor([4, 5], 10);
    const c = randomTensor([4, 5], 11);
    const fromCell = step(cell, x, cell instanceof LSTMCell ? [h, c] : h);
    const as3d = (t: Tensor): Tensor => new Tensor(t.data, [1, ...t.shape]);
    const [, state] = (module as RNN).forward(as3d(x), (module instanceof LSTM ? [as3d(h), as3d(c)] : as3d(h)) as never);
    const fromModule = state instanceof Tensor ? [state] : (state as Tensor[]);
    expect(fromCell.map(values)).toEqual(fromModule.map(values));
  });

  test('float64 cells compute in float64', () => {
    const cell = new LSTMCell(3, 4, { dtype: 'float64' });
    const [h, c] = cell.forward(randomTensor([2, 3], 12, 1, 'float64'));
    expect([h.dtype, c.dtype]).toEqual(['float64', 'float64']);
  });
});

describe("PyTorch's checks, in its order and words", () => {
  const x3 = randomTensor([3, 10], 20);
  const h = (rows: number[]) => randomTensor(rows, 21);

  test('input rank', () => {
    for (const [name, create] of ALL) {
      const cell = create({ inputSize: 10, hiddenSize: 20 });
      expect(() => step(cell, randomTensor([1, 3, 10], 1))).toThrow(new Error(`${name}: Expected input to be 1D or 2D, got 3D instead`));
      expect(() => step(cell, new Tensor(new Float32Array(1), []))).toThrow(`${name}: Expected input to be 1D or 2D, got 0D instead`);
    }
  });

  test('hidden rank: RNNCell and GRUCell say hidden, LSTMCell says hx[i]', () => {
    expect(() => new RNNCell(10, 20).forward(x3, h([1, 3, 20]))).toThrow(new Error('RNNCell: Expected hidden to be 1D or 2D, got 3D instead'));
    expect(() => new GRUCell(10, 20).forward(x3, h([1, 3, 20]))).toThrow(new Error('GRUCell: Expected hidden to be 1D or 2D, got 3D instead'));
    const lstm = new LSTMCell(10, 20);
    expect(() => lstm.forward(x3, [h([1, 3, 20]), h([3, 20])])).toThrow(new Error('LSTMCell: Expected hx[0] to be 1D or 2D, got 3D instead'));
    expect(() => lstm.forward(x3, [h([3, 20]), h([1, 3, 20])])).toThrow(new Error('LSTMCell: Expected hx[1] to be 1D or 2D, got 3D instead'));
  });

  test('input size, batch size and hidden size, as ATen words them', () => {
    for (const [, create] of ALL) {
      const cell = create({ inputSize: 10, hiddenSize: 20 });
      const lstm = cell instanceof LSTMCell;
      const hx = (t: Tensor) => (lstm ? ([t, h([t.shape[0], 20])] as [Tensor, Tensor]) : t);
      expect(() => step(cell, randomTensor([3, 7], 1))).toThrow(new Error('input has inconsistent input_size: got 7 expected 10'));
      expect(() => step(cell, x3, hx(h([4, 20])))).toThrow(new Error("Input batch size 3 doesn't match hidden0 batch size 4"));
      expect(() => step(cell, x3, hx(h([3, 21])))).toThrow(new Error('hidden0 has inconsistent hidden_size: got 21, expected 20'));
      // The input size is checked before the hidden state.
      expect(() => step(cell, randomTensor([3, 7], 1), hx(h([4, 21])))).toThrow('input has inconsistent input_size: got 7 expected 10');
    }
  });

  test("LSTMCell checks c as hidden1, after h", () => {
    const lstm = new LSTMCell(10, 20);
    expect(() => lstm.forward(x3, [h([3, 20]), h([4, 20])])).toThrow(new Error("Input batch size 3 doesn't match hidden1 batch size 4"));
    expect(() => lstm.forward(x3, [h([3, 20]), h([3, 21])])).toThrow(new Error('hidden1 has inconsistent hidden_size: got 21, expected 20'));
    expect(() => lstm.forward(x3, [h([3, 19]), h([3, 21])])).toThrow('hidden0 has inconsistent hidden_size: got 19, expected 20');
  });

  test('a hidden state of the other rank is compared as PyTorch ends up seeing it', () => {
    // Batched input, 1-D hx: hx.size(0) is the hidden size, not a batch.
    expect(() => new GRUCell(10, 20).forward(x3, h([20]))).toThrow("Input batch size 3 doesn't match hidden0 batch size 20");
    expect(() => new GRUCell(10, 3).forward(x3, h([3]))).toThrow(
      new RangeError('Dimension out of range (expected to be in range of [-1, 0], but got 1)'),
    );
    // Unbatched input, 2-D hx: PyTorch unsqueezes it to (1, B, H) and compares B with the hidden size.
    expect(() => new RNNCell(10, 20).forward(randomTensor([10], 1), h([3, 20]))).toThrow(
      'hidden0 has inconsistent hidden_size: got 3, expected 20',
    );
  });

  test('the nonlinearity is checked after the ranks and before the sizes', () => {
    const cell = new RNNCell(10, 20, { nonlinearity: 'sigmoid' as never });
    expect(() => cell.forward(randomTensor([1, 3, 10], 1))).toThrow('RNNCell: Expected input to be 1D or 2D, got 3D instead');
    expect(() => cell.forward(randomTensor([3, 7], 1))).toThrow('Unknown nonlinearity: sigmoid');
  });

  test('dtypes must match the cell', () => {
    const cell = new LSTMCell(10, 20);
    expect(() => cell.forward(randomTensor([3, 10], 1, 1, 'float64'))).toThrow(new TypeError('input must have the type float32, got type float64'));
    expect(() => cell.forward(x3, [h([3, 20]), randomTensor([3, 20], 1, 1, 'float64')])).toThrow(
      new TypeError('hx[1] must have the type float32, got type float64'),
    );
  });

  test('hx of the wrong form is a TypeError naming the cell', () => {
    expect(() => new LSTMCell(10, 20).forward(x3, h([3, 20]) as never)).toThrow(
      'LSTMCell: hx must be an array [h_0, c_0] of two Tensors, got: Tensor',
    );
    expect(() => new GRUCell(10, 20).forward(x3, [h([3, 20])] as never)).toThrow('GRUCell: hx must be a Tensor, got: Array');
  });

  // PyTorch's test_RNN_cell_no_broadcasting: a batch, hidden or input size that would broadcast is an error.
  test('no broadcasting (test_RNN_cell_no_broadcasting)', () => {
    const hiddenSize = 20;
    const inputSize = 10;
    const input = randomTensor([3, inputSize], 30);
    const goodHx = randomTensor([3, hiddenSize], 31);
    const testAll = (badHx: Tensor, good: Tensor, x: Tensor): void => {
      expect(() => new RNNCell(inputSize, hiddenSize).forward(x, badHx)).toThrow();
      expect(() => new GRUCell(inputSize, hiddenSize).forward(x, badHx)).toThrow();
      expect(() => new LSTMCell(inputSize, hiddenSize).forward(x, [badHx, good])).toThrow();
      expect(() => new LSTMCell(inputSize, hiddenSize).forward(x, [good, badHx])).toThrow();
    };
    testAll(randomTensor([1, hiddenSize], 32), goodHx, input);
    testAll(randomTensor([3, 1], 33), goodHx, input);
    const badInput = randomTensor([3, 1], 34);
    expect(() => new RNNCell(inputSize, hiddenSize).forward(badInput, goodHx)).toThrow();
    expect(() => new GRUCell(inputSize, hiddenSize).forward(badInput, goodHx)).toThrow();
    expect(() => new LSTMCell(inputSize, hiddenSize).forward(badInput, [goodHx, goodHx])).toThrow();
  });

  test('forwardAsync rejects with the same message', async () => {
    await expect(new GRUCell(10, 20).forwardAsync(randomTensor([3, 7], 1))).rejects.toThrow(
      'input has inconsistent input_size: got 7 expected 10',
    );
  });
});
