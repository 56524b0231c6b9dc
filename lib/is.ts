/**
 * Small predicates, one per idea, and the one way values are described in error messages.
 *
 * @packageDocumentation
 */

/** True for a number that is a safe integer (no NaN, no infinities, no fractions). */
export function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/** True for an integer that is zero or more. */
export function isNonNegativeInteger(value: unknown): value is number {
  return isInteger(value) && value >= 0;
}

/** True for `true` or `false` only: `0`, `1` and strings are not booleans. */
export function isBoolean(value: unknown): value is boolean {
  return typeof value === 'boolean';
}

/** True for a finite or infinite number, NaN included (range checks reject NaN themselves). */
export function isNumber(value: unknown): value is number {
  return typeof value === 'number';
}

/** True for an object literal or `Object.create(null)`: not an array, a Map, a Tensor or a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * What a value is, for error messages: its JS type, and the value itself where it is short
 * (`number 2.5`, `string 'relu'`, `boolean true`, `null`, `Array`, `Map`).
 */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${String(value)}`;
    case 'string':
      return `string '${value}'`;
    case 'undefined':
      return 'undefined';
    case 'function':
      return 'function';
    case 'symbol':
      return 'symbol';
    default:
      if (value === null) return 'null';
      return (value as object).constructor?.name ?? 'object';
  }
}
