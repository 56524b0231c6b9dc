/**
 * The addon's `step` (lib/native.ts), the cells' one-step entry: the same bits as `forward` with seqLen 1,
 * results written into the caller's arrays, and every malformed argument refused with an Error.
 */
import type { NativeMode, NativeModelSpec, NativePackedModel } from '../lib/native';
import { nativeArray, nativeModel } from './helpers/native_models';

function spec(mode: NativeMode, inputSize: number, hiddenSize: number, dtype: 'float32' | 'float64' = 'float32', numLayers = 1, bidirectional = false): NativeModelSpec {
  return { mode, inputSize, hiddenSize, projSize: 0, numLayers, bidirectional, bias: true, dtype };
}

/** step's untyped form, to pass what the types forbid. */
const stepUntyped = (m: NativePackedModel, ...args: unknown[]): void => (m.step as (...a: unknown[]) => void)(...args);

describe.each([
  ['LSTM', 'float32'],
  ['GRU', 'float64'],
  ['RNN_TANH', 'float32'],
  ['RNN_RELU', 'float64'],
] as const)('%s, %s', (mode, dtype) => {
  const s = spec(mode, 5, 6, dtype);
  const m = nativeModel(s);
  const lstm = mode === 'LSTM';
  const batch = 3;

  it.each([
    ['with h0 (and c0)', true],
    ['from zeros', false],
  ])('writes the bits forward gives for one step, %s', (_, withState) => {
    const input = nativeArray(dtype, batch * 5, 10);
    const h0 = withState ? nativeArray(dtype, batch * 6, 11) : undefined;
    const c0 = withState && lstm ? nativeArray(dtype, batch * 6, 12) : undefined;
    const reference = m.forward({ input, seqLen: 1, batch, batchFirst: false, h0, c0, dropout: 0, dropoutSeed: 0 });
    const hOut = nativeArray(dtype, batch * 6);
    const cOut = lstm ? nativeArray(dtype, batch * 6) : undefined;
    expect(m.step(batch, input, h0, c0, hOut, cOut)).toBeUndefined();
    expect(Array.from(hOut)).toEqual(Array.from(reference.hN));
    expect(Array.from(hOut)).toEqual(Array.from(reference.output));
    if (lstm) expect(Array.from(cOut!)).toEqual(Array.from(reference.cN!));
  });

  it('may write over its own inputs', () => {
    const input = nativeArray(dtype, batch * 5, 20);
    const h0 = nativeArray(dtype, batch * 6, 21);
    const c0 = lstm ? nativeArray(dtype, batch * 6, 22) : undefined;
    const reference = m.forward({ input, seqLen: 1, batch, batchFirst: false, h0, c0, dropout: 0, dropoutSeed: 0 });
    m.step(batch, input, h0, c0, h0, c0);
    expect(Array.from(h0)).toEqual(Array.from(reference.hN));
    if (lstm) expect(Array.from(c0!)).toEqual(Array.from(reference.cN!));
  });

  it('refuses malformed arguments', () => {
    const other = dtype === 'float32' ? 'float64' : 'float32';
    const input = nativeArray(dtype, batch * 5);
    const hOut = nativeArray(dtype, batch * 6);
    const cOut = lstm ? nativeArray(dtype, batch * 6) : undefined;
    const call = (...args: unknown[]): void => stepUntyped(m, ...args);
    expect(() => call(batch, input, undefined, undefined, hOut)).toThrow(/takes 6 arguments/);
    for (const bad of [-1, 1.5, NaN, 2 ** 31, '3', undefined]) {
      expect(() => call(bad, input, undefined, undefined, hOut, cOut)).toThrow(/batch must be an integer/);
    }
    expect(() => call(batch, nativeArray(other, batch * 5), undefined, undefined, hOut, cOut)).toThrow(/step: input must be a Float/);
    expect(() => call(batch, [0, 1], undefined, undefined, hOut, cOut)).toThrow(/step: input must be a Float/);
    expect(() => call(batch, input, null, undefined, hOut, cOut)).toThrow(/step: h0 must be a Float/);
    expect(() => call(batch, input, undefined, undefined, nativeArray(other, batch * 6), cOut)).toThrow(/step: hOut must be a Float/);
    expect(() => call(batch, nativeArray(dtype, batch * 5 + 1), undefined, undefined, hOut, cOut)).toThrow(/input must have 15 elements, got 16/);
    expect(() => call(batch, input, nativeArray(dtype, 17), undefined, hOut, cOut)).toThrow(/h0 must have 18 elements, got 17/);
    expect(() => call(batch, input, undefined, undefined, nativeArray(dtype, 17), cOut)).toThrow(/step: hOut must have 18 elements, got 17/);
    if (lstm) {
      expect(() => call(batch, input, undefined, undefined, hOut, undefined)).toThrow(/step: cOut must be a Float/);
      expect(() => call(batch, input, undefined, nativeArray(dtype, 17), hOut, cOut)).toThrow(/c0 must have 18 elements, got 17/);
      expect(() => call(batch, input, undefined, undefined, hOut, nativeArray(dtype, 19))).toThrow(/step: cOut must have 18 elements, got 19/);
      expect(() => call(batch, input, undefined, undefined, hOut, hOut)).toThrow(/hOut and cOut must not share memory/);
    } else {
      expect(() => call(batch, input, undefined, undefined, hOut, nativeArray(dtype, batch * 6))).toThrow(/cOut is only for LSTM/);
      expect(() => call(batch, input, undefined, nativeArray(dtype, batch * 6), hOut, undefined)).toThrow(/c0 is only for LSTM/);
    }
    const detached = nativeArray(dtype, batch * 6);
    structuredClone(detached.buffer, { transfer: [detached.buffer as ArrayBuffer] });
    expect(() => call(batch, input, undefined, undefined, detached, cOut)).toThrow(/step: hOut must have 18 elements, got 0/);
  });
});

it('refuses a model of more than one layer or direction', () => {
  for (const s of [spec('GRU', 2, 3, 'float32', 2), spec('GRU', 2, 3, 'float32', 1, true)]) {
    expect(() => nativeModel(s).step(1, new Float32Array(2), undefined, undefined, new Float32Array(3 * s.numLayers * 2), undefined)).toThrow(
      'step: only for a one-layer, one-direction model',
    );
  }
});

it('batch 0 writes nothing and succeeds', () => {
  const m = nativeModel(spec('LSTM', 2, 3));
  expect(() => m.step(0, new Float32Array(0), undefined, undefined, new Float32Array(0), new Float32Array(0))).not.toThrow();
});
