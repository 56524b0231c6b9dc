/**
 * Single values going into and out of typed arrays: a JS number, bigint or boolean, checked and
 * converted as PyTorch converts a Python scalar for a dtype.
 *
 * @packageDocumentation
 */
import { describe } from '../is';
import { isFloatDType, type DType, type NumberData, type AnyTensorData } from './dtype';

/** One value given to {@link tensor} or {@link Tensor.full}: a number, a bigint (int64) or a boolean. */
export type Scalar = number | bigint | boolean;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** `data[i]` as a number; an int64 a number cannot hold exactly is a RangeError. */
export function readNumber(data: AnyTensorData, i: number): number {
  const v = data[i];
  if (typeof v === 'number') return v;
  if (v > MAX_SAFE || v < -MAX_SAFE) {
    throw new RangeError(`int64 value ${v} is beyond ±2^53 and cannot be represented exactly as a number; read it from .data as a bigint`);
  }
  return Number(v);
}

/** The range each integer dtype accepts from a scalar; uint8 takes -255..255 (negatives wrap), as c10's overflow check. */
const LIMITS: Readonly<Partial<Record<DType, readonly [bigint, bigint]>>> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  int8: [-128n, 127n],
  uint8: [-255n, 255n],
};

/**
 * `value` converted for a tensor of `dtype` as `torch.tensor` converts a Python scalar: floats keep it
 * (rounded to the dtype), integer dtypes truncate toward zero and refuse what they cannot hold, bool is
 * `value != 0`. Returns a bigint for int64, else a number.
 */
export function convertScalar(value: unknown, dtype: DType): number | bigint {
  if (typeof value === 'boolean') return dtype === 'int64' ? BigInt(Number(value)) : Number(value);
  if (typeof value !== 'number' && typeof value !== 'bigint') {
    throw new TypeError(`tensor(): invalid data type: expected a number, bigint or boolean, got: ${describe(value)}`);
  }
  if (isFloatDType(dtype)) return Number(value);
  if (dtype === 'bool') return value != 0 ? 1 : 0; // loose: 0n == 0
  const [min, max] = LIMITS[dtype]!;
  let whole: bigint | undefined;
  if (typeof value === 'bigint') whole = value;
  else if (Number.isFinite(value)) whole = BigInt(Math.trunc(value));
  if (whole === undefined || whole < min || whole > max) throw new RangeError(`value cannot be converted to type ${dtype} without overflow`);
  return dtype === 'int64' ? whole : Number(whole);
}

/** Fills `data` (of `dtype`) with `value`, converted as {@link convertScalar}. */
export function fillValue(data: AnyTensorData, dtype: DType, value: unknown): void {
  const v = convertScalar(value, dtype);
  if (typeof v === 'bigint') (data as BigInt64Array).fill(v);
  else (data as NumberData).fill(v);
}
