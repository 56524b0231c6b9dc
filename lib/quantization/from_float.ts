/**
 * The checks every `fromFloat` converter makes, in one place.
 *
 * @packageDocumentation
 */
import { checkOptionNames } from '../options';
import type { FloatDType } from '../tensor';
import { checkQuantizedDType, type FromFloatOptions, type QuantizedDType } from './dtype';

/**
 * Checks that `float` is an `expected` (and not already quantized: `quantized` lists the classes that are),
 * float32, and that `options` are known; returns the dtype asked for (default `'qint8'`).
 */
export function checkFromFloat(
  owner: string,
  float: unknown,
  expected: abstract new (...args: never[]) => { readonly dtype: FloatDType },
  options: FromFloatOptions,
): QuantizedDType {
  // A quantized module is a subclass of its float family's base, never of the float class itself.
  if (!(float instanceof expected)) throw new TypeError(`${owner}.fromFloat only works for ${expected.name}`);
  if (float.dtype !== 'float32') {
    throw new TypeError(`${owner}.fromFloat: only float32 modules are quantized, got a float64 ${expected.name}: call float() first`);
  }
  checkOptionNames(`${owner}.fromFloat`, options, ['dtype']);
  const { dtype = 'qint8' } = options;
  checkQuantizedDType(`${owner}.fromFloat`, dtype);
  return dtype;
}
