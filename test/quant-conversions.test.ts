/**
 * The reduced-precision conversions against real PyTorch (fixtures/quant.json, written by
 * fixtures/generate_quant.py): bfloat16 and float16 bits as tensor.to() gives them, and int8 values and
 * per-row scales as PyTorch's per-channel symmetric observer and torch.quantize_per_channel give them.
 */
import { QuantizedWeight, Tensor } from '../lib';
import { native } from '../lib/native';
import { toTensor } from './helpers/fixtures';
import { loadQuantFixture, roundsActivations } from './helpers/quant_cases';

const fixture = loadQuantFixture();
const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const values = Float32Array.from(fixture.conversions.values.map((v) => (typeof v === 'number' ? v : NON_FINITE[v])));

/** The first index where two bit arrays differ, with both values, or null. */
function firstDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} but PyTorch gave ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) return `value ${values[i]}: ${actual[i]} but PyTorch gave ${expected[i]}`;
  }
  return null;
}

describe('bfloat16 and float16 conversions match PyTorch bit for bit', () => {
  it('has the special values the generator promises', () => {
    expect(values.length).toBeGreaterThan(300);
    expect(values.some(Number.isNaN)).toBe(true);
  });

  it.each(['bfloat16', 'float16'] as const)('%s', (dtype) => {
    const { values: bits, scales } = native.quantizeWeight(dtype, values, 1, values.length);
    expect(scales).toBeNull();
    expect(Object.prototype.toString.call(bits)).toBe('[object Uint16Array]'); // the addon's realm, not jest's
    expect(firstDifference(bits, fixture.conversions[dtype])).toBeNull();
  });

  it('truncating instead of rounding to nearest even is caught', () => {
    const bits = new Uint32Array(values.buffer.slice(0));
    const truncated = Array.from(bits, (b) => b >>> 16);
    expect(firstDifference(truncated, fixture.conversions.bfloat16)).not.toBeNull();
  });

  it.each(['bfloat16', 'float16'] as const)('%s widens back exactly', (dtype) => {
    const weight = QuantizedWeight.quantize(new Tensor(values.slice(), [1, values.length]), dtype);
    const back = weight.dequantize();
    const again = QuantizedWeight.quantize(back, dtype);
    expect(firstDifference(again.values, weight.values)).toBeNull(); // a representable value converts to itself
  });
});

describe('int8 weights match torch.quantize_per_channel with the per-channel observer', () => {
  it.each(fixture.int8.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const weight = QuantizedWeight.quantize(toTensor(c.weight), 'qint8');
    expect(Object.prototype.toString.call(weight.values)).toBe('[object Int8Array]');
    expect(Array.from(weight.scales as Float32Array)).toEqual(c.scales.map(Math.fround));
    expect(Array.from(weight.values)).toEqual(c.values);
  });

  it('dequantizes to value * scale in float32', () => {
    const c = fixture.int8.find((x) => x.name === 'normal')!;
    const weight = QuantizedWeight.quantize(toTensor(c.weight), 'qint8');
    const cols = c.weight.shape[1];
    const expected = c.values.map((v, i) => Math.fround(v * Math.fround(c.scales[Math.floor(i / cols)])));
    expect(Array.from(weight.dequantize().data)).toEqual(expected);
  });

  it('a scale of max/127 instead of max/127.5 is caught', () => {
    const c = fixture.int8.find((x) => x.name === 'normal')!;
    const w = toTensor(c.weight);
    const cols = w.shape[1];
    const broken: number[] = [];
    for (let r = 0; r < w.shape[0]; r++) {
      let bound = 0;
      for (let k = 0; k < cols; k++) bound = Math.max(bound, Math.abs(w.data[r * cols + k]));
      broken.push(Math.fround(bound / 127));
    }
    expect(broken).not.toEqual(c.scales.map(Math.fround));
  });

  it('refuses a non-finite weight, naming where it is', () => {
    expect(() => QuantizedWeight.quantize(new Tensor(Float32Array.from([1, NaN]), [1, 2]), 'qint8')).toThrow(
      /qint8 weights must be finite, got nan at row 0, column 1/,
    );
  });

  it('refuses anything but a float32 matrix', () => {
    expect(() => QuantizedWeight.quantize(Tensor.zeros([2, 2], 'float64'), 'qint8')).toThrow(/only float32 matrices/);
    expect(() => QuantizedWeight.quantize(Tensor.zeros([4]), 'qint8')).toThrow(/only float32 matrices/);
  });
});

describe('the engine widens stored weights exactly', () => {
  // A Linear with one input feature and an input of 1 gives each stored weight back as computed with:
  // 1 * w is exact for every w, infinities and NaN included (the sum starts at +0, so -0 comes back +0).
  it.each(['bfloat16', 'float16'] as const)('%s, subnormals and non-finite values included', (dtype) => {
    const { values: stored } = native.quantizeWeight(dtype, values, values.length, 1);
    const linear = new native.PackedLinear(1, values.length, stored, null, { format: dtype, scales: null });
    const computed = linear.forward(Float32Array.of(1), 1);
    const expected = QuantizedWeight.quantize(new Tensor(values.slice(), [values.length, 1]), dtype).dequantize();
    const unsignedZero = (v: number): number => (v === 0 ? 0 : v);
    // The AVX-512 BF16 dot product treats subnormal inputs as zero (its DAZ semantics): so do those kernels.
    const smallestNormal = 1.1754943508222875e-38;
    const asComputed = (v: number): number => (roundsActivations(dtype) && Math.abs(v) < smallestNormal ? 0 : unsignedZero(v));
    expect(Array.from(computed, unsignedZero)).toEqual(Array.from(expected.data, asComputed));
  });
});
