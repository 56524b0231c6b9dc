/**
 * The addon's `forwardInto` (lib/native.ts), the padded forward's lean entry: the same bits as `forward`,
 * results written into the caller's arrays, and every malformed argument refused with an Error.
 */
import type { NativeMode, NativeModelSpec, NativePackedModel } from '../lib/native';
import { nativeArray, nativeModel } from './helpers/native_models';

function spec(mode: NativeMode, dtype: 'float32' | 'float64', numLayers: number, bidirectional: boolean): NativeModelSpec {
  return { mode, inputSize: 5, hiddenSize: 6, projSize: 0, numLayers, bidirectional, bias: true, dtype };
}

/** forwardInto's untyped form, to pass what the types forbid. */
const intoUntyped = (m: NativePackedModel, ...args: unknown[]): void => (m.forwardInto as (...a: unknown[]) => void)(...args);

describe.each([
  ['LSTM', 'float32', 2, true],
  ['GRU', 'float64', 1, true],
  ['RNN_TANH', 'float32', 2, false],
  ['RNN_RELU', 'float64', 1, false],
] as const)('%s, %s, %d layers, bidirectional %s', (mode, dtype, numLayers, bidirectional) => {
  const s = spec(mode, dtype, numLayers, bidirectional);
  const m = nativeModel(s);
  const lstm = mode === 'LSTM';
  const [seqLen, batch] = [4, 3];
  const stacks = numLayers * (bidirectional ? 2 : 1);
  const sizes = { input: seqLen * batch * 5, output: seqLen * batch * (bidirectional ? 12 : 6), state: stacks * batch * 6 };
  const results = () => ({ output: nativeArray(dtype, sizes.output), hN: nativeArray(dtype, sizes.state), cN: lstm ? nativeArray(dtype, sizes.state) : undefined });

  it.each([
    ['time-major, with h0 (and c0)', false, true, 0],
    ['batch-first, from zeros', true, false, 0],
    ['with dropout between layers', false, true, 0.5],
  ])('writes the bits forward gives, %s', (_, batchFirst, withState, dropout) => {
    const input = nativeArray(dtype, sizes.input, 10);
    const h0 = withState ? nativeArray(dtype, sizes.state, 11) : undefined;
    const c0 = withState && lstm ? nativeArray(dtype, sizes.state, 12) : undefined;
    const reference = m.forward({ input, seqLen, batch, batchFirst, h0, c0, dropout, dropoutSeed: 7 });
    const r = results();
    expect(m.forwardInto(seqLen, batch, batchFirst, input, h0, c0, r.output, r.hN, r.cN, dropout, 7)).toBeUndefined();
    expect(Array.from(r.output)).toEqual(Array.from(reference.output));
    expect(Array.from(r.hN)).toEqual(Array.from(reference.hN));
    if (lstm) expect(Array.from(r.cN!)).toEqual(Array.from(reference.cN!));
  });

  it('may write over its own inputs', () => {
    const h0 = nativeArray(dtype, sizes.state, 21);
    const c0 = lstm ? nativeArray(dtype, sizes.state, 22) : undefined;
    // The input is the first elements of the output array (every layer reads it while the last one writes).
    const output = nativeArray(dtype, sizes.output, 20);
    const input = output.subarray(0, sizes.input);
    const reference = m.forward({ input: input.slice(), seqLen, batch, batchFirst: false, h0: h0.slice(), c0: c0?.slice(), dropout: 0, dropoutSeed: 0 });
    m.forwardInto(seqLen, batch, false, input, h0, c0, output, h0, c0, 0, 0);
    expect(Array.from(output)).toEqual(Array.from(reference.output));
    expect(Array.from(h0)).toEqual(Array.from(reference.hN));
    if (lstm) expect(Array.from(c0!)).toEqual(Array.from(reference.cN!));
  });

  it('refuses malformed arguments', () => {
    const other = dtype === 'float32' ? 'float64' : 'float32';
    const input = nativeArray(dtype, sizes.input);
    const { output, hN, cN } = results();
    const call = (...args: unknown[]): void => intoUntyped(m, ...args);
    const ok = [seqLen, batch, false, input, undefined, undefined, output, hN, cN, 0, 0];
    const with_ = (i: number, v: unknown): unknown[] => ok.map((a, j) => (j === i ? v : a));
    expect(() => call(...ok.slice(0, 10))).toThrow(/takes 11 arguments/);
    for (const bad of [-1, 1.5, NaN, 2 ** 31, '3', undefined]) {
      expect(() => call(...with_(0, bad))).toThrow(/forwardInto: seqLen must be an integer/);
      expect(() => call(...with_(1, bad))).toThrow(/forwardInto: batch must be an integer/);
    }
    expect(() => call(...with_(2, 0))).toThrow(/batchFirst must be a boolean/);
    for (const bad of [-0.5, 1.5, NaN, '0', undefined]) expect(() => call(...with_(9, bad))).toThrow(/dropout must be a number in \[0, 1\]/);
    for (const bad of [-1, 0.5, 2 ** 32, '0']) expect(() => call(...with_(10, bad))).toThrow(/dropoutSeed must be an integer/);
    expect(() => call(...with_(3, nativeArray(other, sizes.input)))).toThrow(/forwardInto: input must be a Float/);
    expect(() => call(...with_(3, [0, 1]))).toThrow(/forwardInto: input must be a Float/);
    expect(() => call(...with_(4, null))).toThrow(/forwardInto: h0 must be a Float/);
    expect(() => call(...with_(6, nativeArray(other, sizes.output)))).toThrow(/forwardInto: output must be a Float/);
    expect(() => call(...with_(7, undefined))).toThrow(/forwardInto: hN must be a Float/);
    expect(() => call(...with_(3, nativeArray(dtype, sizes.input + 1)))).toThrow(`input must have ${sizes.input} elements, got ${sizes.input + 1}`);
    expect(() => call(...with_(4, nativeArray(dtype, sizes.state - 1)))).toThrow(`h0 must have ${sizes.state} elements, got ${sizes.state - 1}`);
    expect(() => call(...with_(6, nativeArray(dtype, sizes.output + 1)))).toThrow(`forwardInto: output must have ${sizes.output} elements, got ${sizes.output + 1}`);
    expect(() => call(...with_(7, nativeArray(dtype, sizes.state + 1)))).toThrow(`forwardInto: hN must have ${sizes.state} elements, got ${sizes.state + 1}`);
    expect(() => call(...with_(7, output.subarray(0, sizes.state)))).toThrow(/output, hN and cN must not share memory/);
    if (lstm) {
      expect(() => call(...with_(8, undefined))).toThrow(/forwardInto: cN must be a Float/);
      expect(() => call(...with_(5, nativeArray(dtype, sizes.state - 1)))).toThrow(`c0 must have ${sizes.state} elements, got ${sizes.state - 1}`);
      expect(() => call(...with_(8, nativeArray(dtype, sizes.state + 1)))).toThrow(`forwardInto: cN must have ${sizes.state} elements, got ${sizes.state + 1}`);
      expect(() => call(...with_(8, hN))).toThrow(/output, hN and cN must not share memory/);
    } else {
      expect(() => call(...with_(8, nativeArray(dtype, sizes.state)))).toThrow(/cN is only for LSTM/);
      expect(() => call(...with_(5, nativeArray(dtype, sizes.state)))).toThrow(/c0 is only for LSTM/);
    }
    const detached = nativeArray(dtype, sizes.output);
    structuredClone(detached.buffer, { transfer: [detached.buffer as ArrayBuffer] });
    expect(() => call(...with_(6, detached))).toThrow(`forwardInto: output must have ${sizes.output} elements, got 0`);
  });
});

it('batch 0 writes nothing and succeeds', () => {
  const m = nativeModel(spec('LSTM', 'float32', 1, false));
  const empty = new Float32Array(0);
  expect(() => m.forwardInto(2, 0, false, empty, undefined, undefined, empty, empty, empty.subarray(0), 0, 0)).not.toThrow();
});
