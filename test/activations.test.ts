/**
 * The chosen kernel family's vectorised sigmoid and tanh (the ones inside every recurrent step) against
 * float64 references: about 1e-7 absolute for float32 on a dense grid, NaN propagating, exact limits at
 * ±inf and for huge inputs. Read through the addon's test-only activationDiagnostic.
 */
import { native } from '../lib/native';

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

function grid(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let x = from; x <= to; x += step) values.push(x);
  return values;
}

// Dense where the functions bend, sparse out to where they saturate, plus tiny values around 0.
const dense = [...grid(-20, 20, 1 / 512), ...grid(-100, 100, 0.37), 1e-3, -1e-3, 1e-8, -1e-8, 1e-30, 0, -0];

const cases = [
  ['sigmoid', sigmoid],
  ['tanh', Math.tanh],
] as const;

describe.each(cases)('%s', (name, reference) => {
  it('is within 2e-7 absolute of float64 for float32 inputs', () => {
    const x = Float32Array.from(dense);
    const y = native.activationDiagnostic(name, x);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(y[i] - reference(x[i])));
    expect(worst).toBeLessThan(2e-7);
  });

  it('is within 1e-14 absolute of float64 for float64 inputs', () => {
    const x = Float64Array.from(dense);
    const y = native.activationDiagnostic(name, x);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(y[i] - reference(x[i])));
    expect(worst).toBeLessThan(1e-14);
  });

  it('keeps relative accuracy near 0 (tanh) and the value 0.5 at 0 (sigmoid)', () => {
    const x = Float32Array.from([1e-3, -1e-3, 1e-8, 1e-30, 0]);
    const y = native.activationDiagnostic(name, x);
    for (let i = 0; i < x.length; i++) {
      const expected = reference(x[i]);
      expect(Math.abs(y[i] - expected)).toBeLessThanOrEqual(Math.abs(expected) * 1e-6);
    }
  });

  it.each([Float32Array, Float64Array])('propagates NaN and gives the limits at ±inf and ±1e30 (%p)', (Type) => {
    const x = Type.from([NaN, Infinity, -Infinity, 1e30, -1e30, 100, -100]);
    const y = native.activationDiagnostic(name, x);
    const low = name === 'sigmoid' ? 0 : -1;
    expect(Number.isNaN(y[0])).toBe(true);
    expect(y[1]).toBe(1);
    expect(y[2]).toBe(low);
    expect(y[3]).toBe(1);
    expect(Math.abs(y[4] - low)).toBeLessThan(1e-30);
    expect(y[5]).toBeCloseTo(1, 15);
    expect(Math.abs(y[6] - low)).toBeLessThan(1e-30 + (name === 'sigmoid' ? 4e-44 : 0));
  });

  it('handles every length, including a partial last vector', () => {
    for (let n = 0; n <= 40; n++) {
      const x = Float32Array.from({ length: n }, (_, i) => i / 7 - 2);
      const y = native.activationDiagnostic(name, x);
      expect(y.length).toBe(n);
      for (let i = 0; i < n; i++) expect(Math.abs(y[i] - reference(x[i]))).toBeLessThan(2e-7);
    }
  });
});

describe('activationDiagnostic', () => {
  it('rejects unknown names and non-float arrays', () => {
    expect(() => native.activationDiagnostic('relu' as 'tanh', new Float32Array(1))).toThrow(
      "activationDiagnostic: name must be 'sigmoid' or 'tanh'",
    );
    expect(() => native.activationDiagnostic('tanh', [1] as unknown as Float32Array)).toThrow(
      'activationDiagnostic: values must be a Float32Array or Float64Array',
    );
  });
});
