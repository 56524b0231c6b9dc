import { Tensor, tensor, type DType } from '../lib/tensor';

describe('Tensor', () => {
  test('wraps data with a shape, without copying', () => {
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const t = new Tensor(data, [2, 3]);
    expect(t.data).toBe(data);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.dim()).toBe(2);
    expect(t.numel()).toBe(6);
  });

  test('dtype follows the typed array', () => {
    expect(new Tensor(new Float64Array(2), [2]).dtype).toBe('float64');
  });

  test('shape is a frozen copy', () => {
    const shape = [2, 3];
    const t = new Tensor(new Float32Array(6), shape);
    shape[0] = 5;
    expect(t.shape).toEqual([2, 3]);
    expect(Object.isFrozen(t.shape)).toBe(true);
  });

  test('rejects a length that does not match the shape', () => {
    expect(() => new Tensor(new Float32Array(5), [2, 3])).toThrow('Tensor data has 5 elements but shape [2, 3] needs 6');
  });

  test('rejects negative, fractional and non-numeric sizes', () => {
    const msg = 'Tensor shape must be an array of non-negative integers';
    expect(() => new Tensor(new Float32Array(0), [2, -1])).toThrow(`${msg}, got [2, -1]`);
    expect(() => new Tensor(new Float32Array(3), [1.5, 2])).toThrow(`${msg}, got [1.5, 2]`);
    expect(() => new Tensor(new Float32Array(3), ['3'] as unknown as number[])).toThrow(`${msg}, got ['3']`);
    expect(() => new Tensor(new Float32Array(3), 3 as unknown as number[])).toThrow(`${msg}, got number 3`);
  });

  test('rejects data that is not one of the typed arrays behind a dtype', () => {
    const msg = 'Tensor data must be a Float32Array, Float64Array, BigInt64Array, Int32Array, Int16Array, Int8Array or Uint8Array';
    expect(() => new Tensor(new Uint16Array(2) as unknown as Float32Array, [2])).toThrow(`${msg}, got: Uint16Array`);
    expect(() => new Tensor([1, 2] as unknown as Float32Array, [2])).toThrow(`${msg}, got: Array`);
  });

  test('a dtype given to the constructor must match the array; bool takes a Uint8Array', () => {
    expect(new Tensor(Uint8Array.of(1, 0), [2], 'bool').dtype).toBe('bool');
    expect(new Tensor<DType>(Uint8Array.of(1, 0), [2]).dtype).toBe('uint8');
    expect(() => new Tensor<DType>(new Float32Array(2), [2], 'float64')).toThrow("Tensor data for dtype 'float64' must be a Float64Array, got: Float32Array");
    expect(() => new Tensor<DType>(new Int32Array(2), [2], 'bool')).toThrow("Tensor data for dtype 'bool' must be a Uint8Array, got: Int32Array");
  });

  test('a 0-d tensor has one element', () => {
    const t = new Tensor(new Float32Array([7]), []);
    expect(t.dim()).toBe(0);
    expect(t.numel()).toBe(1);
    expect(t.toArray()).toBe(7);
  });

  test('size() with and without a dim; negative dims count from the end', () => {
    const t = Tensor.zeros([2, 3, 4]);
    expect(t.size()).toEqual([2, 3, 4]);
    expect(t.size(0)).toBe(2);
    expect(t.size(-1)).toBe(4);
    expect(t.size(-3)).toBe(2);
  });

  test('size() out of range uses PyTorch message', () => {
    const t = Tensor.zeros([2, 3, 4]);
    expect(() => t.size(3)).toThrow('Dimension out of range (expected to be in range of [-3, 2], but got 3)');
    expect(() => t.size(-4)).toThrow('Dimension out of range (expected to be in range of [-3, 2], but got -4)');
    expect(() => new Tensor(new Float32Array([1]), []).size(0)).toThrow(
      'Dimension specified as 0 but tensor has no dimensions',
    );
  });

  test('zeros and ones in either dtype', () => {
    const z = Tensor.zeros([2, 2]);
    expect(z.dtype).toBe('float32');
    expect([...z.data]).toEqual([0, 0, 0, 0]);
    const o = Tensor.ones([3], 'float64');
    expect(o.dtype).toBe('float64');
    expect([...o.data]).toEqual([1, 1, 1]);
    expect(Tensor.zeros([0, 3]).numel()).toBe(0);
    expect(() => Tensor.zeros([2], 'float16' as 'float32')).toThrow(
      "dtype should be one of 'float32', 'float64', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool', got: string 'float16'",
    );
  });

  test('toArray() gives nested arrays in row-major order', () => {
    const t = new Tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 1, 3]);
    expect(t.toArray()).toEqual([[[1, 2, 3]], [[4, 5, 6]]]);
    expect(Tensor.zeros([2, 0]).toArray()).toEqual([[], []]);
  });

  test('to() returns the same tensor for the same dtype and a converted copy otherwise', () => {
    const t = new Tensor(new Float64Array([0.1, 2]), [2]);
    expect(t.to('float64')).toBe(t);
    const f = t.to('float32');
    expect(f.dtype).toBe('float32');
    expect(f.shape).toEqual([2]);
    expect(f.data[0]).toBe(Math.fround(0.1));
    expect(f.data).not.toBe(t.data);
  });
});

describe('tensor()', () => {
  test('infers the shape from nested arrays', () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect([...t.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('a number gives a 0-d tensor; an empty array gives shape [0]', () => {
    expect(tensor(3).shape).toEqual([]);
    expect(tensor(3).toArray()).toBe(3);
    expect(tensor([]).shape).toEqual([0]);
  });

  test('takes a dtype', () => {
    const t = tensor([0.1], 'float64');
    expect(t.dtype).toBe('float64');
    expect(t.data[0]).toBe(0.1);
  });

  test('accepts typed arrays as rows', () => {
    expect(tensor([new Float32Array([1, 2]), new Float32Array([3, 4])]).toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  test('rejects ragged arrays in PyTorch words', () => {
    expect(() =>
      tensor([
        [1, 2, 3],
        [4, 5],
      ]),
    ).toThrow('expected sequence of length 3 at dim 1 (got 2)');
    expect(() => tensor([[1], 2] as unknown as number[][])).toThrow('expected sequence of length 1 at dim 1 (got number 2)');
    expect(() => tensor([1, [2]] as unknown as number[])).toThrow('expected a number at dim 1 (got a sequence of length 1)');
  });

  test('rejects non-numbers', () => {
    expect(() => tensor(['a'] as unknown as number[])).toThrow("tensor(): invalid data type: expected a number, bigint or boolean, got: string 'a'");
  });
});
