import { GRU, LSTM, RNN, Tensor, type FloatDType, type RNNBase } from '../lib/index';

const t = (shape: number[], dtype: FloatDType = 'float32'): Tensor => Tensor.zeros(shape, dtype);

interface Case {
  name: string;
  module: () => RNNBase;
  input: unknown;
  hx?: unknown;
  message: string;
}

const cases: Case[] = [
  // Input rank: PyTorch's RNN says "tensor instead", LSTM and GRU "instead".
  { name: 'RNN 4-D input', module: () => new RNN(10, 20), input: t([1, 5, 3, 10]), message: 'RNN: Expected input to be 2D or 3D, got 4D tensor instead' },
  { name: 'RNN 1-D input', module: () => new RNN(10, 20), input: t([10]), message: 'RNN: Expected input to be 2D or 3D, got 1D tensor instead' },
  { name: 'LSTM 4-D input', module: () => new LSTM(10, 20), input: t([1, 5, 3, 10]), message: 'LSTM: Expected input to be 2D or 3D, got 4D instead' },
  { name: 'GRU 4-D input', module: () => new GRU(10, 20), input: t([1, 5, 3, 10]), message: 'GRU: Expected input to be 2D or 3D, got 4D instead' },
  { name: 'GRU 0-D input', module: () => new GRU(10, 20), input: t([]), message: 'GRU: Expected input to be 2D or 3D, got 0D instead' },
  { name: 'input not a Tensor', module: () => new LSTM(10, 20), input: [[1]], message: 'LSTM: input must be a Tensor, got: Array' },

  // Input dtype, then input size.
  { name: 'float64 input, float32 module', module: () => new LSTM(10, 20), input: t([5, 3, 10], 'float64'), message: 'input must have the type float32, got type float64' },
  { name: 'float32 input, float64 module', module: () => new GRU(10, 20, { dtype: 'float64' }), input: t([5, 3, 10]), message: 'input must have the type float64, got type float32' },
  { name: 'input size', module: () => new RNN(10, 20), input: t([5, 3, 7]), message: 'input.size(-1) must be equal to input_size. Expected 10, got 7' },
  { name: 'input size, unbatched', module: () => new LSTM(10, 20), input: t([5, 7]), message: 'input.size(-1) must be equal to input_size. Expected 10, got 7' },
  { name: 'dtype is checked before input size', module: () => new GRU(10, 20), input: t([5, 3, 7], 'float64'), message: 'input must have the type float32, got type float64' },

  // hx rank.
  { name: 'unbatched input, 3-D hx', module: () => new RNN(10, 20, 2), input: t([5, 10]), hx: t([2, 1, 20]), message: 'For unbatched 2-D input, hx should also be 2-D but got 3-D tensor' },
  { name: 'batched input, 2-D hx', module: () => new GRU(10, 20, 2), input: t([5, 3, 10]), hx: t([2, 20]), message: 'For batched 3-D input, hx should also be 3-D but got 2-D tensor' },
  { name: 'LSTM unbatched input, 3-D h and c', module: () => new LSTM(10, 20, 2), input: t([5, 10]), hx: [t([2, 1, 20]), t([2, 1, 20])], message: 'For unbatched 2-D input, hx and cx should also be 2-D but got (3-D, 3-D) tensors' },
  { name: 'LSTM batched input, 2-D h and c', module: () => new LSTM(10, 20, 2), input: t([5, 3, 10]), hx: [t([2, 20]), t([2, 20])], message: 'For batched 3-D input, hx and cx should also be 3-D but got (2-D, 2-D) tensors' },
  { name: 'LSTM batched input, 2-D c only', module: () => new LSTM(10, 20, 2), input: t([5, 3, 10]), hx: [t([2, 3, 20]), t([2, 20])], message: 'For batched 3-D input, hx and cx should also be 3-D but got (3-D, 2-D) tensors' },
  { name: 'hx rank is checked before the input dtype', module: () => new RNN(10, 20), input: t([5, 3, 10], 'float64'), hx: t([1, 20]), message: 'For batched 3-D input, hx should also be 3-D but got 2-D tensor' },

  // hx form.
  { name: 'RNN hx not a Tensor', module: () => new RNN(10, 20), input: t([5, 3, 10]), hx: [t([1, 3, 20])], message: 'RNN: hx must be a Tensor, got: Array' },
  { name: 'LSTM hx a single Tensor', module: () => new LSTM(10, 20), input: t([5, 3, 10]), hx: t([1, 3, 20]), message: 'LSTM: hx must be an array [h_0, c_0] of two Tensors, got: Tensor' },
  { name: 'LSTM hx of three Tensors', module: () => new LSTM(10, 20), input: t([5, 3, 10]), hx: [t([1, 3, 20]), t([1, 3, 20]), t([1, 3, 20])], message: 'LSTM: hx must be an array [h_0, c_0] of two Tensors, got: Array' },

  // Hidden sizes: a tuple, then a list; unbatched hx is compared as PyTorch unsqueezes it.
  { name: 'RNN hidden batch', module: () => new RNN(10, 20, 2), input: t([5, 3, 10]), hx: t([2, 4, 20]), message: 'Expected hidden size (2, 3, 20), got [2, 4, 20]' },
  { name: 'GRU hidden layers, bidirectional', module: () => new GRU(10, 20, 2, { bidirectional: true }), input: t([5, 3, 10]), hx: t([2, 3, 20]), message: 'Expected hidden size (4, 3, 20), got [2, 3, 20]' },
  { name: 'batchFirst takes the batch from dim 0; hx is never batch-first', module: () => new GRU(10, 20, { batchFirst: true }), input: t([3, 5, 10]), hx: t([1, 5, 20]), message: 'Expected hidden size (1, 3, 20), got [1, 5, 20]' },
  { name: 'unbatched hidden size', module: () => new RNN(10, 20, 2), input: t([5, 10]), hx: t([2, 21]), message: 'Expected hidden size (2, 1, 20), got [2, 1, 21]' },
  { name: 'LSTM h with projection', module: () => new LSTM(10, 20, 2, { projSize: 5 }), input: t([5, 3, 10]), hx: [t([2, 3, 20]), t([2, 3, 20])], message: 'Expected hidden[0] size (2, 3, 5), got [2, 3, 20]' },
  { name: 'LSTM c keeps hiddenSize with projection', module: () => new LSTM(10, 20, 2, { projSize: 5 }), input: t([5, 3, 10]), hx: [t([2, 3, 5]), t([2, 3, 5])], message: 'Expected hidden[1] size (2, 3, 20), got [2, 3, 5]' },
  { name: 'LSTM unbatched c', module: () => new LSTM(10, 20), input: t([5, 10]), hx: [t([1, 20]), t([2, 20])], message: 'Expected hidden[1] size (1, 1, 20), got [2, 1, 20]' },
  { name: 'input size is checked before hidden size', module: () => new RNN(10, 20), input: t([5, 3, 7]), hx: t([1, 4, 20]), message: 'input.size(-1) must be equal to input_size. Expected 10, got 7' },

  // hx dtype.
  { name: 'hx dtype', module: () => new GRU(10, 20), input: t([5, 3, 10]), hx: t([1, 3, 20], 'float64'), message: 'hx must have the type float32, got type float64' },
  { name: 'LSTM c dtype', module: () => new LSTM(10, 20), input: t([5, 3, 10]), hx: [t([1, 3, 20]), t([1, 3, 20], 'float64')], message: 'hx[1] must have the type float32, got type float64' },

  // Sequence length, after everything else.
  { name: 'sequence length 0', module: () => new LSTM(10, 20), input: t([0, 3, 10]), message: 'Expected sequence length to be larger than 0 in RNN' },
  { name: 'sequence length 0, batchFirst', module: () => new RNN(10, 20, { batchFirst: true }), input: t([3, 0, 10]), message: 'Expected sequence length to be larger than 0 in RNN' },
  { name: 'sequence length 0, unbatched', module: () => new GRU(10, 20), input: t([0, 10]), message: 'Expected sequence length to be larger than 0 in RNN' },
  { name: 'hidden size is checked before sequence length', module: () => new GRU(10, 20), input: t([0, 3, 10]), hx: t([1, 2, 20]), message: 'Expected hidden size (1, 3, 20), got [1, 2, 20]' },
];

describe('forward throws PyTorch errors in PyTorch order', () => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const m = c.module();
    expect(() => (m.forward as (i: unknown, h?: unknown) => unknown)(c.input, c.hx)).toThrow(c.message);
  });
});

describe('forwardAsync rejects with the same errors', () => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const m = c.module();
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = (m.forwardAsync as (i: unknown, h?: unknown) => Promise<unknown>)(c.input, c.hx);
    }).not.toThrow();
    await expect(promise).rejects.toThrow(c.message);
  });
});

describe('output shapes', () => {
  const shapes = (r: [Tensor, Tensor | [Tensor, Tensor]]): unknown => {
    const [out, hidden] = r;
    return [out.shape, Array.isArray(hidden) ? hidden.map((h) => h.shape) : hidden.shape];
  };

  test('batched, time-major', () => {
    expect(shapes(new RNN(10, 20, 2).forward(t([5, 3, 10])))).toEqual([[5, 3, 20], [2, 3, 20]]);
    expect(shapes(new LSTM(10, 20, 2, { bidirectional: true }).forward(t([5, 3, 10])))).toEqual([
      [5, 3, 40],
      [
        [4, 3, 20],
        [4, 3, 20],
      ],
    ]);
  });

  test('batchFirst applies to input and output, not to hidden states', () => {
    expect(shapes(new GRU(10, 20, 2, { batchFirst: true }).forward(t([3, 5, 10]), t([2, 3, 20])))).toEqual([
      [3, 5, 20],
      [2, 3, 20],
    ]);
  });

  test('LSTM with projection: output and h in projSize, c in hiddenSize', () => {
    expect(shapes(new LSTM(10, 20, 2, { projSize: 5, bidirectional: true }).forward(t([5, 3, 10])))).toEqual([
      [5, 3, 10],
      [
        [4, 3, 5],
        [4, 3, 20],
      ],
    ]);
  });

  test('unbatched input gives squeezed outputs, batchFirst or not', () => {
    for (const batchFirst of [false, true]) {
      expect(shapes(new RNN(10, 20, 2, { batchFirst }).forward(t([5, 10]), t([2, 20])))).toEqual([[5, 20], [2, 20]]);
      expect(shapes(new LSTM(10, 20, { batchFirst, projSize: 4 }).forward(t([5, 10]), [t([1, 4]), t([1, 20])]))).toEqual([
        [5, 4],
        [
          [1, 4],
          [1, 20],
        ],
      ]);
    }
  });

  test('batch 0 works and gives empty outputs', () => {
    expect(shapes(new RNN(10, 20, 2).forward(t([5, 0, 10])))).toEqual([[5, 0, 20], [2, 0, 20]]);
    expect(shapes(new GRU(10, 20, { batchFirst: true, bidirectional: true }).forward(t([0, 5, 10])))).toEqual([
      [0, 5, 40],
      [2, 0, 20],
    ]);
    expect(shapes(new LSTM(10, 20, 2, { projSize: 3 }).forward(t([5, 0, 10]), [t([2, 0, 3]), t([2, 0, 20])]))).toEqual([
      [5, 0, 3],
      [
        [2, 0, 3],
        [2, 0, 20],
      ],
    ]);
  });

  test('forwardAsync resolves to the same structure and values as forward', async () => {
    const m = new LSTM(3, 4, 2);
    const x = t([5, 2, 3]);
    x.data.forEach((_, i) => (x.data[i] = Math.cos(i)));
    const [out, [h, c]] = m.forward(x);
    const [outA, [hA, cA]] = await m.forwardAsync(x);
    expect(outA.shape).toEqual(out.shape);
    expect([...outA.data]).toEqual([...out.data]);
    expect([...hA.data]).toEqual([...h.data]);
    expect([...cA.data]).toEqual([...c.data]);
  });

  test('outputs take the module dtype', () => {
    const [out, h] = new GRU(3, 4, { dtype: 'float64' }).forward(t([2, 1, 3], 'float64'));
    expect(out.dtype).toBe('float64');
    expect(h.dtype).toBe('float64');
  });

  test('null hx means zeros, as None does', () => {
    const m = new RNN(3, 4);
    const x = Tensor.ones([2, 1, 3]);
    expect([...m.forward(x, null)[0].data]).toEqual([...m.forward(x, t([1, 1, 4]))[0].data]);
  });
});
