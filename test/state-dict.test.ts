import { GRU, LSTM, RNN, Tensor, manualSeed, type RNNBase } from '../lib/index';

function layout(m: RNNBase): Array<[string, readonly number[]]> {
  return m.namedParameters().map(([name, p]) => [name, p.shape]);
}

describe('names, order and shapes as PyTorch registers them', () => {
  test('LSTM(100, 15, numLayers=2, bidirectional)', () => {
    const m = new LSTM(100, 15, 2, { bidirectional: true });
    expect(layout(m)).toEqual([
      ['weight_ih_l0', [60, 100]],
      ['weight_hh_l0', [60, 15]],
      ['bias_ih_l0', [60]],
      ['bias_hh_l0', [60]],
      ['weight_ih_l0_reverse', [60, 100]],
      ['weight_hh_l0_reverse', [60, 15]],
      ['bias_ih_l0_reverse', [60]],
      ['bias_hh_l0_reverse', [60]],
      ['weight_ih_l1', [60, 30]],
      ['weight_hh_l1', [60, 15]],
      ['bias_ih_l1', [60]],
      ['bias_hh_l1', [60]],
      ['weight_ih_l1_reverse', [60, 30]],
      ['weight_hh_l1_reverse', [60, 15]],
      ['bias_ih_l1_reverse', [60]],
      ['bias_hh_l1_reverse', [60]],
    ]);
  });

  test('LSTM(4, 5, projSize=3)', () => {
    expect(layout(new LSTM(4, 5, { projSize: 3 }))).toEqual([
      ['weight_ih_l0', [20, 4]],
      ['weight_hh_l0', [20, 3]],
      ['bias_ih_l0', [20]],
      ['bias_hh_l0', [20]],
      ['weight_hr_l0', [3, 5]],
    ]);
  });

  test('LSTM with projection, 2 layers, bidirectional, no bias: layer 1 reads D * projSize', () => {
    expect(layout(new LSTM(4, 5, 2, { projSize: 3, bidirectional: true, bias: false }))).toEqual([
      ['weight_ih_l0', [20, 4]],
      ['weight_hh_l0', [20, 3]],
      ['weight_hr_l0', [3, 5]],
      ['weight_ih_l0_reverse', [20, 4]],
      ['weight_hh_l0_reverse', [20, 3]],
      ['weight_hr_l0_reverse', [3, 5]],
      ['weight_ih_l1', [20, 6]],
      ['weight_hh_l1', [20, 3]],
      ['weight_hr_l1', [3, 5]],
      ['weight_ih_l1_reverse', [20, 6]],
      ['weight_hh_l1_reverse', [20, 3]],
      ['weight_hr_l1_reverse', [3, 5]],
    ]);
  });

  test('RNN(100, 15, numLayers=2, bidirectional)', () => {
    expect(layout(new RNN(100, 15, 2, { bidirectional: true }))).toEqual([
      ['weight_ih_l0', [15, 100]],
      ['weight_hh_l0', [15, 15]],
      ['bias_ih_l0', [15]],
      ['bias_hh_l0', [15]],
      ['weight_ih_l0_reverse', [15, 100]],
      ['weight_hh_l0_reverse', [15, 15]],
      ['bias_ih_l0_reverse', [15]],
      ['bias_hh_l0_reverse', [15]],
      ['weight_ih_l1', [15, 30]],
      ['weight_hh_l1', [15, 15]],
      ['bias_ih_l1', [15]],
      ['bias_hh_l1', [15]],
      ['weight_ih_l1_reverse', [15, 30]],
      ['weight_hh_l1_reverse', [15, 15]],
      ['bias_ih_l1_reverse', [15]],
      ['bias_hh_l1_reverse', [15]],
    ]);
  });

  test('GRU(3, 4, no bias): three gates', () => {
    expect(layout(new GRU(3, 4, { bias: false }))).toEqual([
      ['weight_ih_l0', [12, 3]],
      ['weight_hh_l0', [12, 4]],
    ]);
  });

  test('stateDict() has the same keys in the same order, sharing the parameters', () => {
    const m = new GRU(3, 4, 2);
    const sd = m.stateDict();
    expect(Object.keys(sd)).toEqual(m.namedParameters().map(([name]) => name));
    expect(sd.weight_hh_l1).toBe(m.weight_hh_l1);
    expect(m.parameters()).toEqual(Object.values(sd));
  });

  test('parameters take the module dtype', () => {
    expect(new LSTM(2, 3, { dtype: 'float64' }).parameters().every((p) => p.dtype === 'float64')).toBe(true);
    expect(new LSTM(2, 3).parameters().every((p) => p.dtype === 'float32')).toBe(true);
  });
});

function cloneStateDict(m: RNNBase): Record<string, Tensor> {
  return Object.fromEntries(m.namedParameters().map(([name, p]) => [name, new Tensor(p.data.slice(), p.shape)]));
}

describe('loadStateDict', () => {
  test('copies values (not references) and reports no incompatible keys', () => {
    const a = new LSTM(3, 4);
    const b = new LSTM(3, 4);
    const result = b.loadStateDict(a.stateDict());
    expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });
    for (const [name, p] of b.namedParameters()) {
      expect([...p.data]).toEqual([...a.stateDict()[name].data]);
      expect(p.data).not.toBe(a.stateDict()[name].data);
    }
  });

  test('accepts a Map', () => {
    const a = new GRU(2, 3);
    const b = new GRU(2, 3);
    b.loadStateDict(new Map(Object.entries(a.stateDict())));
    expect([...b.weight_ih_l0.data]).toEqual([...a.weight_ih_l0.data]);
  });

  test('strict: missing and unexpected keys in PyTorch message', () => {
    const m = new LSTM(3, 4);
    const sd = cloneStateDict(m);
    delete sd.bias_ih_l0;
    delete sd.bias_hh_l0;
    sd.weight_ih_l1 = Tensor.zeros([16, 4]);
    expect(() => m.loadStateDict(sd)).toThrow(
      new Error(
        'Error(s) in loading state_dict for LSTM:\n' +
          '\tMissing key(s) in state_dict: "bias_ih_l0", "bias_hh_l0". \n' +
          '\tUnexpected key(s) in state_dict: "weight_ih_l1". ',
      ),
    );
  });

  test('strict failure changes nothing', () => {
    const m = new GRU(3, 4);
    const before = m.parameters().map((p) => [...p.data]);
    const sd: Record<string, Tensor> = { weight_ih_l0: Tensor.ones([12, 3]), extra: Tensor.ones([1]) };
    expect(() => m.loadStateDict(sd)).toThrow('Error(s) in loading state_dict for GRU:');
    expect(m.parameters().map((p) => [...p.data])).toEqual(before);
  });

  test('non-strict: loads what matches and returns the missing and unexpected keys', () => {
    const m = new RNN(3, 4);
    const sd = { weight_ih_l0: Tensor.ones([4, 3]), weight_hh_l1: Tensor.ones([4, 4]) };
    const result = m.loadStateDict(sd, { strict: false });
    expect(result).toEqual({ missingKeys: ['weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'], unexpectedKeys: ['weight_hh_l1'] });
    expect([...m.weight_ih_l0.data]).toEqual(new Array(12).fill(1));
  });

  test('a shape mismatch throws even with strict=false, in PyTorch words', () => {
    const m = new LSTM(3, 4);
    const sd = cloneStateDict(m);
    sd.weight_ih_l0 = Tensor.zeros([16, 5]);
    const expected =
      'Error(s) in loading state_dict for LSTM:\n' +
      '\tsize mismatch for weight_ih_l0: copying a param with shape torch.Size([16, 5]) from checkpoint, ' +
      'the shape in current model is torch.Size([16, 3]).';
    expect(() => m.loadStateDict(sd, { strict: false })).toThrow(new Error(expected));
    expect(() => m.loadStateDict(sd)).toThrow(new Error(expected));
  });

  test('all errors in one message: missing, unexpected, then size mismatches in parameter order', () => {
    const m = new GRU(3, 4);
    const sd: Record<string, Tensor> = {
      extra: Tensor.zeros([1]),
      weight_hh_l0: Tensor.zeros([12, 5]),
      weight_ih_l0: Tensor.zeros([12]),
      bias_ih_l0: Tensor.zeros([12]),
    };
    expect(() => m.loadStateDict(sd)).toThrow(
      new Error(
        'Error(s) in loading state_dict for GRU:\n' +
          '\tMissing key(s) in state_dict: "bias_hh_l0". \n' +
          '\tUnexpected key(s) in state_dict: "extra". \n' +
          '\tsize mismatch for weight_ih_l0: copying a param with shape torch.Size([12]) from checkpoint, the shape in current model is torch.Size([12, 3]).\n' +
          '\tsize mismatch for weight_hh_l0: copying a param with shape torch.Size([12, 5]) from checkpoint, the shape in current model is torch.Size([12, 4]).',
      ),
    );
  });

  test('a value that is not a Tensor is an error naming the parameter', () => {
    const m = new RNN(1, 2);
    const sd = { ...cloneStateDict(m), bias_hh_l0: [1, 2] } as unknown as Record<string, Tensor>;
    expect(() => m.loadStateDict(sd)).toThrow(
      'Error(s) in loading state_dict for RNN:\n\tWhile copying the parameter named "bias_hh_l0", ' +
        'expected torch.Tensor or Tensor-like object from checkpoint but received Array',
    );
  });

  test('a state dict that is not dict-like is a TypeError', () => {
    expect(() => new RNN(1, 2).loadStateDict([] as never)).toThrow(new TypeError('Expected state_dict to be dict-like, got Array.'));
    expect(() => new RNN(1, 2).loadStateDict(new RNN(1, 2) as never)).toThrow('Expected state_dict to be dict-like, got RNN.');
  });

  test('float64 values load into a float32 module, rounded to float32', () => {
    const m = new GRU(1, 1, { bias: false });
    const w = new Float64Array([0.1, 0.2, 0.3]);
    m.loadStateDict({ weight_ih_l0: new Tensor(w, [3, 1]), weight_hh_l0: new Tensor(w.slice(), [3, 1]) });
    expect(m.weight_ih_l0.dtype).toBe('float32');
    expect([...m.weight_ih_l0.data]).toEqual([Math.fround(0.1), Math.fround(0.2), Math.fround(0.3)]);
  });

  test('float32 values load into a float64 module exactly', () => {
    const a = new LSTM(2, 3);
    const b = new LSTM(2, 3, { dtype: 'float64' });
    b.loadStateDict(a.stateDict());
    expect(b.weight_hh_l0.dtype).toBe('float64');
    expect([...b.weight_hh_l0.data]).toEqual([...a.weight_hh_l0.data]);
  });
});

describe('packing follows the parameters', () => {
  const x = (): Tensor => {
    const t = Tensor.zeros([4, 2, 3]);
    t.data.forEach((_, i) => (t.data[i] = Math.sin(i)));
    return t;
  };

  test('loading a state dict after a forward changes the next forward', () => {
    manualSeed(10);
    const a = new LSTM(3, 5, 2);
    const b = new LSTM(3, 5, 2);
    const [outA, [hA, cA]] = a.forward(x());
    const [outB] = b.forward(x());
    expect([...outB.data]).not.toEqual([...outA.data]);
    b.loadStateDict(a.stateDict());
    const [outB2, [hB2, cB2]] = b.forward(x());
    expect([...outB2.data]).toEqual([...outA.data]);
    expect([...hB2.data]).toEqual([...hA.data]);
    expect([...cB2.data]).toEqual([...cA.data]);
  });

  test('assigning a parameter changes the next forward', () => {
    const a = new GRU(3, 5);
    const b = new GRU(3, 5);
    b.loadStateDict(a.stateDict());
    const [before] = b.forward(x());
    b.weight_hh_l0 = new Tensor(a.weight_hh_l0.data.map((v) => -v), a.weight_hh_l0.shape);
    const [after] = b.forward(x());
    expect([...after.data]).not.toEqual([...before.data]);
  });

  test('in-place edits are seen only after flattenParameters()', () => {
    const m = new RNN(3, 5);
    const [before, hBefore] = m.forward(x());
    m.weight_ih_l0.data.fill(0.25);
    const [stale, hStale] = m.forward(x());
    expect([...stale.data]).toEqual([...before.data]);
    expect([...hStale.data]).toEqual([...hBefore.data]);

    m.flattenParameters();
    const [fresh] = m.forward(x());
    const reference = new RNN(3, 5);
    reference.loadStateDict(m.stateDict());
    const [expected] = reference.forward(x());
    expect([...fresh.data]).not.toEqual([...before.data]);
    expect([...fresh.data]).toEqual([...expected.data]);
  });
});
