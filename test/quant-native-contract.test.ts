/**
 * The addon's reduced-precision entry points re-check everything JS hands them: quantizeWeight, and
 * PackedModel / PackedLinear given stored weights. Every bad argument is a JS error naming it, never a crash.
 */
import { native, type NativeModelSpec } from '../lib/native';

const spec: NativeModelSpec = { mode: 'GRU', inputSize: 3, hiddenSize: 2, projSize: 0, numLayers: 1, bidirectional: false, bias: true, dtype: 'float32' };
// weight_ih (6, 3), weight_hh (6, 2), bias_ih (6), bias_hh (6)
const floats = [new Float32Array(18).fill(0.5), new Float32Array(12).fill(-0.25), new Float32Array(6), new Float32Array(6)];
const q8 = [native.quantizeWeight('qint8', floats[0], 6, 3), native.quantizeWeight('qint8', floats[1], 6, 2)];
const half = [native.quantizeWeight('float16', floats[0], 6, 3), native.quantizeWeight('float16', floats[1], 6, 2)];

describe('quantizeWeight', () => {
  it('checks its format, weight and sizes', () => {
    expect(() => native.quantizeWeight('int4' as never, floats[0], 6, 3)).toThrow("quantizeWeight: format must be 'bfloat16', 'float16' or 'qint8'");
    expect(() => native.quantizeWeight('qint8', new Float64Array(18) as never, 6, 3)).toThrow(/quantizeWeight: weight must be a Float32Array/);
    expect(() => native.quantizeWeight('qint8', floats[0], 6, 4)).toThrow('quantizeWeight: weight must hold 24 values (6 x 4), got 18');
    expect(() => native.quantizeWeight('qint8', floats[0], 1.5, 3)).toThrow(/quantizeWeight: rows must be an integer/);
    expect(() => native.quantizeWeight('qint8', floats[0], -1, 3)).toThrow(/quantizeWeight: rows must be an integer/);
    expect(() => (native.quantizeWeight as (...a: unknown[]) => unknown)('qint8', floats[0])).toThrow('quantizeWeight(format, weight, rows, cols) takes 4 arguments');
  });
});

describe('PackedModel with stored weights', () => {
  const make = (weights: unknown[], precision: unknown, s: NativeModelSpec = spec) =>
    new native.PackedModel(s, weights as Float32Array[], precision as never);

  it('packs and runs when everything fits', () => {
    const model = make([q8[0].values, q8[1].values, floats[2], floats[3]], { format: 'qint8', scales: [q8[0].scales, q8[1].scales, null, null] });
    const r = model.forward({ input: new Float32Array(3), seqLen: 1, batch: 1, batchFirst: false, dropout: 0, dropoutSeed: 0 });
    expect(r.hN.length).toBe(2);
  });

  it('names what does not fit', () => {
    const scales = [q8[0].scales, q8[1].scales, null, null];
    expect(() => make([q8[0].values, q8[1].values, floats[2], floats[3]], { format: 'qint4', scales })).toThrow(
      "precision.format must be 'bfloat16', 'float16' or 'qint8'",
    );
    expect(() => make([q8[0].values, q8[1].values, floats[2], floats[3]], { format: 'qint8', scales: null })).toThrow('precision.scales must be an Array');
    expect(() => make([q8[0].values, q8[1].values, floats[2], floats[3]], 'qint8')).toThrow('precision must be an object { format, scales }');
    expect(() => make([q8[0].values, q8[1].values, floats[2]], { format: 'qint8', scales })).toThrow(
      'weights and precision.scales must hold 4 entries for this spec, got 3 and 4',
    );
    expect(() => make([floats[0], q8[1].values, floats[2], floats[3]], { format: 'qint8', scales })).toThrow(
      'weights[0] (weight_ih_l0) must be an Int8Array for qint8 weights',
    );
    expect(() => make([half[0].values, half[1].values, floats[2], floats[3]], { format: 'qint8', scales })).toThrow(
      'weights[0] (weight_ih_l0) must be an Int8Array for qint8 weights',
    );
    expect(() => make([q8[0].values, q8[1].values, half[0].values, floats[3]], { format: 'qint8', scales })).toThrow(
      /weights\[2\] \(bias_ih_l0\) must be a Float32Array/,
    );
    expect(() => make([q8[0].values, q8[1].values, floats[2], floats[3]], { format: 'qint8', scales: [null, q8[1].scales, null, null] })).toThrow(
      /weights\[0\] \(weight_ih_l0\) scales must be a Float32Array/,
    );
    expect(() => make([q8[0].values, q8[1].values, floats[2], floats[3]], { format: 'qint8', scales: [q8[1].scales!.subarray(1), q8[1].scales, null, null] })).toThrow(
      'weights[0] (weight_ih_l0) must have 6 scales, got 5',
    );
    expect(() => make([q8[0].values.subarray(1), q8[1].values, floats[2], floats[3]], { format: 'qint8', scales })).toThrow(
      'weights[0] (weight_ih_l0) must have 18 elements (6 x 3), got 17',
    );
    expect(() => make([half[0].values, half[1].values, floats[2], floats[3]], { format: 'float16', scales }, { ...spec, dtype: 'float64' })).toThrow(
      "reduced-precision weights need spec.dtype 'float32'",
    );
  });

  it('a detached weight reads as empty and is refused', () => {
    const values = Uint16Array.from(half[0].values);
    structuredClone(values.buffer, { transfer: [values.buffer] });
    expect(() => make([values, half[1].values, floats[2], floats[3]], { format: 'float16', scales: [null, null, null, null] })).toThrow(
      'weights[0] (weight_ih_l0) must have 18 elements (6 x 3), got 0',
    );
  });
});

describe('PackedLinear with a stored weight', () => {
  it('names what does not fit', () => {
    const linear = (weight: unknown, bias: unknown, precision: unknown) =>
      new native.PackedLinear(3, 6, weight as Float32Array, bias as Float32Array, precision as never);
    expect(linear(q8[0].values, null, { format: 'qint8', scales: q8[0].scales }).forward(new Float32Array(3), 1).length).toBe(6);
    expect(() => linear(q8[0].values, null, { format: 'qint8', scales: null })).toThrow(/PackedLinear: weight scales must be a Float32Array/);
    expect(() => linear(q8[0].values, null, { format: 'qint8', scales: q8[0].scales!.subarray(2) })).toThrow('Linear weight scales must hold 6 values, got 4');
    expect(() => linear(half[0].values, null, { format: 'qint8', scales: q8[0].scales })).toThrow('PackedLinear: weight must be an Int8Array for qint8 weights');
    expect(() => linear(half[0].values.subarray(3), null, { format: 'bfloat16', scales: null })).toThrow('Linear weight must hold 18 values, got 15');
    expect(() => linear(half[0].values, new Float64Array(6), { format: 'float16', scales: null })).toThrow(/PackedLinear: bias must be a Float32Array/);
    expect(() => linear(half[0].values, null, 'float16')).toThrow('PackedLinear: precision must be an object { format, scales }');
  });
});
