import { GRUCell, LSTM, Linear, Tensor, isDType, isFloatDType, tensor } from '../lib';

describe('dtypes', () => {
  test('isDType knows every dtype; isFloatDType only the floating ones', () => {
    for (const d of ['float32', 'float64', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool']) expect(isDType(d)).toBe(true);
    expect(isDType('float16')).toBe(false);
    expect(isDType('toString')).toBe(false);
    expect(isFloatDType('float64')).toBe(true);
    expect(isFloatDType('int64')).toBe(false);
  });

  test('each dtype has its typed array, stored with the tensor', () => {
    const arrays = {
      float32: Float32Array,
      float64: Float64Array,
      int64: BigInt64Array,
      int32: Int32Array,
      int16: Int16Array,
      int8: Int8Array,
      uint8: Uint8Array,
      bool: Uint8Array,
    } as const;
    for (const [dtype, array] of Object.entries(arrays)) {
      const t = Tensor.zeros([2, 3], dtype as keyof typeof arrays);
      expect(t.dtype).toBe(dtype);
      expect(t.data).toBeInstanceOf(array);
      expect(t.data.length).toBe(6);
    }
  });

  test('tensor() infers bool from booleans and int64 from bigints', () => {
    const mask = tensor([true, false, true]);
    expect(mask.dtype).toBe('bool');
    expect([...mask.data]).toEqual([1, 0, 1]);
    const ids = tensor([[1n, 2n], [3n, 4n]]);
    expect(ids.dtype).toBe('int64');
    expect(ids.data).toEqual(BigInt64Array.of(1n, 2n, 3n, 4n));
    expect(tensor([1, 2]).dtype).toBe('float32');
  });

  test('ones and full fill every dtype; full infers its dtype from the value', () => {
    expect(Tensor.ones([2], 'int64').data).toEqual(BigInt64Array.of(1n, 1n));
    expect(Tensor.ones([2], 'bool').toArray()).toEqual([1, 1]);
    expect(Tensor.full([2], 7, 'int32').toArray()).toEqual([7, 7]);
    expect(Tensor.full([1], 2.5).dtype).toBe('float32');
    expect(Tensor.full([1], 5n).dtype).toBe('int64');
    expect(Tensor.full([1], true).dtype).toBe('bool');
  });

  test('item() and toArray() give numbers; int64 beyond 2^53 is a RangeError', () => {
    expect(tensor([5n]).item()).toBe(5);
    expect(tensor([true]).item()).toBe(1);
    expect(tensor([[1n], [-2n]]).toArray()).toEqual([[1], [-2]]);
    const big = tensor([2n ** 60n]);
    expect(() => big.item()).toThrow(RangeError);
    expect(() => big.toArray()).toThrow('int64 value 1152921504606846976 is beyond ±2^53');
    expect(() => tensor([1, 2]).item()).toThrow('only one element tensors can be converted to Python scalars');
  });
});

describe('modules refuse integer tensors', () => {
  test('a recurrent layer, a cell and Linear name the dtype they need', () => {
    const ids = Tensor.zeros([2, 1, 3], 'int64');
    expect(() => new LSTM(3, 4).forward(ids as unknown as Tensor)).toThrow('input must have the type float32, got type int64');
    expect(() => new GRUCell(3, 4).forward(Tensor.zeros([1, 3], 'int32') as unknown as Tensor)).toThrow(
      'input must have the type float32, got type int32',
    );
    expect(() => new Linear(3, 4).forward(Tensor.zeros([2, 3], 'bool') as unknown as Tensor)).toThrow(
      'mat1 and mat2 must have the same dtype, but got bool and float32',
    );
  });

  test('module dtype options still take only float32 and float64', () => {
    expect(() => new LSTM(3, 4, { dtype: 'int64' as 'float32' })).toThrow("dtype should be 'float32' or 'float64', got: string 'int64'");
  });
});

describe('views share data where the result is a contiguous run of the input', () => {
  test('reshape, view, squeeze, unsqueeze, flatten and contiguous share; select and narrow share on dim 0 only', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    for (const v of [x.reshape(3, 2), x.view([-1]), x.unsqueeze(0).squeeze(0), x.flatten(), x.contiguous()]) expect(v.data.buffer).toBe(x.data.buffer);
    const row = x.select(0, 1);
    row.data[0] = 40;
    expect(x.toArray()).toEqual([[1, 2, 3], [40, 5, 6]]);
    const column = x.select(1, 0);
    column.data[0] = 10;
    expect(x.toArray()).toEqual([[1, 2, 3], [40, 5, 6]]);
    expect(x.narrow(0, 1, 1).data.buffer).toBe(x.data.buffer);
    expect(x.narrow(1, 1, 1).data.buffer).not.toBe(x.data.buffer);
    expect(x.clone().data.buffer).not.toBe(x.data.buffer);
  });
});

describe('TypeScript types follow the dtype', () => {
  test('float results are Tensor, indices Tensor<int64>, and an int64 tensor is not a Tensor', () => {
    const probs: Tensor = tensor([1, 2, 3]).add(1).mul(tensor([1, 1, 2])).div(2).softmax(-1); // softmax([1, 1.5, 4])
    const best: Tensor<'int64'> = probs.argmax();
    const [values, indices]: [Tensor, Tensor<'int64'>] = probs.unsqueeze(0).max(1);
    const total: Tensor<'int64'> = tensor([1n, 2n]).sum();
    const first: number = probs.data[0];
    // @ts-expect-error an int64 tensor's data holds bigints, so it is not a (float) Tensor
    const wrong: Tensor = tensor([1n]);
    expect(best.item()).toBe(2);
    expect(indices.toArray()).toEqual([2]);
    expect(values.item()).toBeCloseTo(first * Math.exp(3), 5);
    expect(total.item()).toBe(3);
    expect(wrong.dtype).toBe('int64');
  });
});
