/**
 * quantizeDynamic and the DynamicQuantized* modules as modules: what converting returns and leaves alone,
 * trees converted into a copy or in place, what the converted modules keep (forward forms, train/eval, the batcher), their
 * state dicts and reprs, and the errors.
 */
import {
  DynamicBatcher,
  DynamicQuantizedGRU,
  DynamicQuantizedLSTM,
  DynamicQuantizedLSTMCell,
  DynamicQuantizedGRUCell,
  DynamicQuantizedRNNCell,
  DynamicQuantizedLinear,
  DynamicQuantizedRNN,
  GRU,
  GRUCell,
  LSTM,
  LSTMCell,
  Linear,
  Module,
  ModuleDict,
  ModuleList,
  RNN,
  RNNBase,
  RNNCell,
  RNNCellBase,
  Sequential,
  Tensor,
  backend,
  deepCopy,
  manualSeed,
  packSequence,
  quantizeDynamic,
  quantizedBackends,
  QuantizedWeight,
  type DType,
  type QuantizedDType,
} from '../lib';
import { expectedQuantizedBackends } from './helpers/quant_cases';
import { sineTensor } from './helpers/random';

const filled = sineTensor;

function sameData(a: Tensor<DType>, b: Tensor<DType>): boolean {
  return a.shape.join() === b.shape.join() && a.data.every((v, i) => Object.is(v, b.data[i]));
}

beforeEach(() => manualSeed(7));

describe('converting one layer', () => {
  it.each([
    ['LSTM', () => new LSTM(6, 5, 2, { bidirectional: true }), DynamicQuantizedLSTM],
    ['GRU', () => new GRU(6, 5), DynamicQuantizedGRU],
    ['RNN', () => new RNN(6, 5, { nonlinearity: 'relu' }), DynamicQuantizedRNN],
  ] as const)('%s becomes a quantized RNNBase and the float layer is left as it was', (_name, make, Quantized) => {
    const float = make();
    const before = float.stateDict();
    const copies = Object.fromEntries(Object.entries(before).map(([k, v]) => [k, v.clone()]));
    const x = filled([4, 3, 6], 1);
    const [y] = float.forward(x);
    const q = quantizeDynamic(float as RNNBase);
    expect(q).toBeInstanceOf(Quantized);
    expect(q).toBeInstanceOf(RNNBase);
    expect((q as unknown as { weightDtype: string }).weightDtype).toBe('qint8'); // PyTorch's default
    for (const [k, v] of Object.entries(float.stateDict())) {
      expect(v).toBe(before[k]);
      expect(sameData(v, copies[k])).toBe(true);
    }
    expect(sameData(float.forward(x)[0], y)).toBe(true);
    expect(q.mode).toBe(float.mode);
  });

  it('holds no parameters; its state dict is the float layer\'s names with the weights dequantized', () => {
    const float = new LSTM(4, 3, { projSize: 2 });
    const q = quantizeDynamic(float, { dtype: 'qint8' });
    expect(q.parameters()).toEqual([]);
    const sd = q.stateDict();
    expect(Object.keys(sd)).toEqual(Object.keys(float.stateDict()));
    for (const [name, value] of Object.entries(float.stateDict())) {
      expect(sd[name].dtype).toBe('float32');
      const expected = value.dim() === 2 ? QuantizedWeight.quantize(value, 'qint8').dequantize() : value;
      expect(sameData(sd[name], expected)).toBe(true);
    }
  });

  it('stores int8 at about a quarter of float32 and the 16-bit formats at about half', () => {
    const float = new LSTM(64, 64);
    const floatBytes = float.parameters().reduce((n, p) => n + p.data.byteLength, 0);
    const biasBytes = 2 * 4 * 64 * 4;
    const weightBytes = floatBytes - biasBytes;
    const scaleBytes = 2 * 4 * 64 * 4;
    expect(quantizeDynamic(float, { dtype: 'qint8' }).weightBytes).toBe(weightBytes / 4 + scaleBytes + biasBytes);
    expect(quantizeDynamic(float, { dtype: 'float16' }).weightBytes).toBe(weightBytes / 2 + biasBytes);
    expect(quantizeDynamic(float, { dtype: 'bfloat16' }).weightBytes).toBe(weightBytes / 2 + biasBytes);
  });

  it.each(['qint8', 'float16', 'bfloat16'] as QuantizedDType[])('%s: says its precision in its repr', (dtype) => {
    expect(String(quantizeDynamic(new LSTM(10, 20, 2), { dtype }))).toBe(`DynamicQuantizedLSTM(10, 20, numLayers=2, dtype=${dtype})`);
    expect(String(quantizeDynamic(new Linear(4, 3, { bias: false }), { dtype }))).toBe(
      `DynamicQuantizedLinear(inFeatures=4, outFeatures=3, bias=false, dtype=${dtype})`,
    );
  });

  it('keeps the training flag, and train()/eval() work', () => {
    const float = new GRU(3, 4, 2, { dropout: 0.5 });
    expect(quantizeDynamic(float).training).toBe(true);
    float.eval();
    const q = quantizeDynamic(float);
    expect(q.training).toBe(false);
    expect(q.train().training).toBe(true);
    expect(q.dropout).toBe(0.5);
  });

  it('runs padded, batch-first, unbatched, packed and async input as forward does', async () => {
    const float = new LSTM(3, 4, { batchFirst: true }).eval();
    const q = quantizeDynamic(float, { dtype: 'bfloat16' });
    const x = filled([2, 5, 3], 2);
    const [y, [h, c]] = q.forward(x);
    expect(y.shape).toEqual([2, 5, 4]);
    expect(h.shape).toEqual([1, 2, 4]);
    const [ya, [ha, ca]] = await q.forwardAsync(x);
    expect(sameData(ya, y) && sameData(ha, h) && sameData(ca, c)).toBe(true);
    const [yu] = q.forward(x.select(0, 1));
    expect(sameData(yu, y.select(0, 1))).toBe(true);
    const packed = packSequence([x.select(0, 0), x.select(0, 1).narrow(0, 0, 3)], { enforceSorted: true });
    const [yp, [hp]] = q.forward(packed);
    expect(sameData(yp.data.narrow(0, 0, 1).squeeze(0), y.select(0, 0).select(0, 0))).toBe(true);
    expect(sameData(hp.select(1, 0), h.select(1, 0))).toBe(true);
  });

  it('takes the forward checks of the float layer', () => {
    const q = quantizeDynamic(new GRU(3, 4));
    expect(() => q.forward(filled([2, 1, 5], 0))).toThrow(/input.size\(-1\) must be equal to input_size. Expected 3, got 5/);
    expect(() => q.forward(Tensor.zeros([2, 1, 3], 'float64'))).toThrow();
  });

  it('serves through DynamicBatcher', async () => {
    const q = quantizeDynamic(new LSTM(3, 4).eval(), { dtype: 'float16' });
    const batcher = new DynamicBatcher(q, { maxDelayMs: 1 });
    const x = filled([5, 3], 3);
    const [y] = await batcher.forward(x);
    await batcher.close();
    expect(sameData(y, q.forward(x)[0])).toBe(true);
  });

  it('Linear: forward with Linear\'s checks, state dict dequantized', () => {
    const float = new Linear(6, 4);
    const q = quantizeDynamic(float, { dtype: 'float16' });
    expect(q).toBeInstanceOf(DynamicQuantizedLinear);
    expect(q.forward(filled([2, 3, 6], 4)).shape).toEqual([2, 3, 4]);
    expect(() => q.forward(filled([2, 5], 0))).toThrow('mat1 and mat2 shapes cannot be multiplied (2x5 and 6x4)');
    expect(() => q.forward(Tensor.zeros([2, 6], 'float64'))).toThrow('mat1 and mat2 must have the same dtype, but got float64 and float32');
    const sd = q.stateDict();
    expect(Object.keys(sd)).toEqual(['weight', 'bias']);
    expect(sameData(sd.weight, QuantizedWeight.quantize(float.weight, 'float16').dequantize())).toBe(true);
    expect(sameData(sd.bias, float.bias!)).toBe(true);
    expect(q.parameters()).toEqual([]);
  });

  it('does not draw from the random generator', () => {
    const float = new LSTM(3, 4);
    manualSeed(3);
    quantizeDynamic(float);
    const after = new Linear(2, 2).weight;
    manualSeed(3);
    expect(sameData(new Linear(2, 2).weight, after)).toBe(true);
  });
});

describe('cells', () => {
  it.each([
    ['LSTMCell', () => new LSTMCell(3, 4), DynamicQuantizedLSTMCell, 'DynamicQuantizedLSTMCell(3, 4, dtype=float16)'],
    ['GRUCell', () => new GRUCell(3, 4, { bias: false }), DynamicQuantizedGRUCell, 'DynamicQuantizedGRUCell(3, 4, bias=false, dtype=float16)'],
    ['RNNCell', () => new RNNCell(3, 4, { nonlinearity: 'relu' }), DynamicQuantizedRNNCell, 'DynamicQuantizedRNNCell(3, 4, nonlinearity=relu, dtype=float16)'],
  ] as const)('%s: converted, no parameters, state dict dequantized, forward and forwardAsync', async (_name, make, Quantized, repr) => {
    const float = make();
    const q = quantizeDynamic(float as RNNCellBase<Tensor | [Tensor, Tensor]>, { dtype: 'float16' });
    expect(q).toBeInstanceOf(Quantized);
    expect(String(q)).toBe(repr);
    expect(q.parameters()).toEqual([]);
    expect(Object.keys(q.stateDict())).toEqual(Object.keys(float.stateDict()));
    expect(sameData(q.stateDict().weight_hh, QuantizedWeight.quantize(float.weight_hh, 'float16').dequantize())).toBe(true);
    const x = filled([2, 3], 5);
    const h = q.forward(x);
    const ha = await q.forwardAsync(x);
    const [a, b] = Array.isArray(h) ? [h[0], (ha as [Tensor, Tensor])[0]] : [h, ha as Tensor];
    expect(a.shape).toEqual([2, 4]);
    expect(sameData(a, b)).toBe(true);
  });

  it('an unknown nonlinearity fails in forward, as RNNCell', () => {
    const float = new RNNCell(2, 2, { nonlinearity: 'gelu' as never });
    const q = quantizeDynamic(float);
    expect(() => q.forward(filled([1, 2], 0))).toThrow('Unknown nonlinearity: gelu');
  });
});

describe('converting a tree in place', () => {
  class Tagger extends Module {
    embed = new Linear(5, 6);
    encoder = new Sequential(new LSTM(6, 8), new ModuleList([new GRU(8, 8)]));
    heads = new ModuleDict({ tag: new Linear(8, 3), keep: new LSTM(8, 2), step: new GRUCell(8, 2) });
    act = new Sequential();
  }

  it('replaces every layer in its slot and returns the model', () => {
    const model = new Tagger();
    const keys = Object.keys(model.stateDict());
    const result = quantizeDynamic(model, { dtype: 'bfloat16', inplace: true });
    expect(result).toBe(model);
    expect(model.embed).toBeInstanceOf(DynamicQuantizedLinear);
    expect(model.encoder.at(0)).toBeInstanceOf(DynamicQuantizedLSTM);
    expect((model.encoder.at(1) as ModuleList).at(0)).toBeInstanceOf(DynamicQuantizedGRU);
    expect(model.heads.get('tag')).toBeInstanceOf(DynamicQuantizedLinear);
    expect(model.heads.get('keep')).toBeInstanceOf(DynamicQuantizedLSTM);
    expect(model.heads.get('step')).toBeInstanceOf(DynamicQuantizedGRUCell);
    expect(model.parameters()).toEqual([]);
    // The state dict keeps every key, in order, with float32 values.
    const sd = model.stateDict();
    expect(Object.keys(sd)).toEqual(keys);
    expect(Object.values(sd).every((t) => t.dtype === 'float32')).toBe(true);
    expect(String(model)).toContain('(0): DynamicQuantizedLSTM(6, 8, dtype=bfloat16)');
  });

  it('without inplace, returns a converted copy and leaves the model float32, with its results', () => {
    const model = new Tagger().eval();
    const x = filled([2, 5], 3);
    const floatResults = (m: Tagger): unknown[] => {
      const [out] = (m.encoder.at(0) as RNNBase).forward(m.embed.forward(x));
      const outputs: Tensor[] = [m.embed.forward(x), out as Tensor, (m.heads.get('tag') as Linear).forward(out as Tensor)];
      return outputs.map((t) => Array.from(t.data));
    };
    const before = floatResults(model);
    const sd = Object.entries(model.stateDict()).map(([k, v]): [string, unknown[]] => [k, Array.from(v.data as ArrayLike<unknown>)]);
    const result = quantizeDynamic(model, { dtype: 'qint8' });
    expect(result).not.toBe(model);
    expect(result).toBeInstanceOf(Tagger);
    expect(result.training).toBe(false);
    expect(result.embed).toBeInstanceOf(DynamicQuantizedLinear);
    expect(result.encoder.at(0)).toBeInstanceOf(DynamicQuantizedLSTM);
    expect((result.encoder.at(1) as ModuleList).at(0)).toBeInstanceOf(DynamicQuantizedGRU);
    expect(result.heads.get('step')).toBeInstanceOf(DynamicQuantizedGRUCell);
    expect(result.parameters()).toEqual([]);
    // The original keeps its float32 layers, weights and results.
    expect(model.embed).toBeInstanceOf(Linear);
    expect(model.encoder.at(0)).toBeInstanceOf(LSTM);
    expect((model.encoder.at(1) as ModuleList).at(0)).toBeInstanceOf(GRU);
    expect(model.heads.get('step')).toBeInstanceOf(GRUCell);
    expect(Object.entries(model.stateDict()).map(([k, v]) => [k, Array.from(v.data as ArrayLike<unknown>)])).toEqual(sd);
    expect(floatResults(model)).toEqual(before);
    // The copy computes what the model converted in place computes.
    const inPlace = quantizeDynamic(deepCopy(model), { dtype: 'qint8', inplace: true });
    const quantizedResults = (m: Tagger): unknown[] => {
      const [out] = (m.encoder.at(0) as unknown as DynamicQuantizedLSTM).forward(m.embed.forward(x));
      const outputs: Tensor[] = [out, (m.heads.get('tag') as unknown as DynamicQuantizedLinear).forward(out)];
      return outputs.map((t) => Array.from(t.data));
    };
    expect(quantizedResults(result)).toEqual(quantizedResults(inPlace));
  });

  it('without inplace, converts a layer held in two places once in the copy', () => {
    const shared = new GRU(2, 2);
    const model = new Sequential(shared, new ModuleList([shared]));
    const result = quantizeDynamic(model, { dtype: 'float16' });
    expect(result.at(0)).toBeInstanceOf(DynamicQuantizedGRU);
    expect((result.at(1) as ModuleList).at(0)).toBe(result.at(0));
    expect(model.at(0)).toBe(shared);
    expect((model.at(1) as ModuleList).at(0)).toBe(shared);
  });

  it('without inplace, copies a tree with nothing to convert, as PyTorch', () => {
    const model = new Sequential(new Sequential());
    const result = quantizeDynamic(model);
    expect(result).not.toBe(model);
    expect(result.at(0)).not.toBe(model.at(0));
    expect(String(result)).toBe(String(model));
  });

  it('converts a layer held in two places once, and puts the same module in both', () => {
    const shared = new GRU(2, 2);
    const model = new Sequential(shared, new ModuleList([shared]));
    quantizeDynamic(model, { inplace: true });
    expect(model.at(0)).toBeInstanceOf(DynamicQuantizedGRU);
    expect((model.at(1) as ModuleList).at(0)).toBe(model.at(0));
  });

  it('leaves already quantized layers as they are', () => {
    const q = quantizeDynamic(new LSTM(2, 2));
    const model = new Sequential(q);
    quantizeDynamic(model, { dtype: 'float16', inplace: true });
    expect(model.at(0)).toBe(q);
  });
});

describe('errors', () => {
  it('names a bad option, dtype or inplace', () => {
    expect(() => quantizeDynamic(new LSTM(2, 2), { dtpye: 'qint8' } as never)).toThrow(
      "Unknown option 'dtpye' for quantizeDynamic. Known options: dtype, inplace",
    );
    expect(() => quantizeDynamic(new LSTM(2, 2), { dtype: 'int4' as never })).toThrow(
      "quantizeDynamic: dtype must be 'qint8', 'float16' or 'bfloat16', got: string 'int4'",
    );
    expect(() => quantizeDynamic(new Sequential(), { inplace: 1 as never })).toThrow('quantizeDynamic: inplace must be a boolean, got: number 1');
    expect(() => quantizeDynamic({} as never)).toThrow(/^quantizeDynamic: model must be a Module, got: /);
  });

  it('refuses float64 layers', () => {
    expect(() => quantizeDynamic(new LSTM(2, 2, { dtype: 'float64' }))).toThrow(
      'DynamicQuantizedLSTM.fromFloat: only float32 modules are quantized, got a float64 LSTM: call float() first',
    );
    expect(() => quantizeDynamic(new Linear(2, 2, { dtype: 'float64' }))).toThrow(/only float32 modules are quantized/);
  });

  it('fromFloat takes only its own float class', () => {
    expect(() => DynamicQuantizedLSTM.fromFloat(new GRU(2, 2) as never)).toThrow('DynamicQuantizedLSTM.fromFloat only works for LSTM');
    expect(() => DynamicQuantizedGRU.fromFloat(quantizeDynamic(new GRU(2, 2)) as never)).toThrow('DynamicQuantizedGRU.fromFloat only works for GRU');
  });
});

describe('quantizedBackends', () => {
  it('reports the reduced table of the chosen family for every precision', () => {
    expect(quantizedBackends()).toEqual(expectedQuantizedBackends(backend(), process.env.TORCHRNN_ISA));
  });
});

describe('loading a state dict into converted modules', () => {
  it('converts loaded weights as on conversion, and copies biases', () => {
    const source = new LSTM(3, 4, { projSize: 2 });
    const q = quantizeDynamic(new LSTM(3, 4, { projSize: 2 }), { dtype: 'qint8' });
    q.loadStateDict(source.stateDict());
    const expected = quantizeDynamic(source, { dtype: 'qint8' });
    for (const [name, value] of Object.entries(expected.stateDict())) expect(sameData(q.stateDict()[name], value)).toBe(true);
    const x = filled([2, 1, 3], 6);
    expect(sameData(q.forward(x)[0], expected.forward(x)[0])).toBe(true);
  });

  it('reaches quantized layers and cells inside a tree, with PyTorch\'s checks', () => {
    const make = () => new Sequential(new Linear(3, 4), new GRUCell(4, 2), new GRU(2, 2));
    const source = make();
    const model = quantizeDynamic(make(), { dtype: 'bfloat16', inplace: true });
    model.loadStateDict(source.stateDict());
    const expected = quantizeDynamic(source, { dtype: 'bfloat16', inplace: true });
    for (const [name, value] of Object.entries(expected.stateDict())) expect(sameData(model.stateDict()[name], value)).toBe(true);
    const x = filled([2, 3], 7);
    const step = (m: Sequential): Tensor => (m.at(1) as DynamicQuantizedGRUCell).forward((m.at(0) as DynamicQuantizedLinear).forward(x));
    expect(sameData(step(model), step(expected))).toBe(true);
    const wrong = { ...source.stateDict(), '0.weight': Tensor.zeros([4, 5]) };
    expect(() => model.loadStateDict(wrong)).toThrow(
      'size mismatch for 0.weight: copying a param with shape torch.Size([4, 5]) from checkpoint, the shape in current model is torch.Size([4, 3]).',
    );
  });

  it('round-trips its own state dict', () => {
    const q = quantizeDynamic(new GRU(3, 4, 2), { dtype: 'float16' });
    const before = q.stateDict();
    q.loadStateDict(before);
    for (const [name, value] of Object.entries(q.stateDict())) expect(sameData(value, before[name])).toBe(true);
  });
});
