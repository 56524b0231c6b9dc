/**
 * Element types: their names (PyTorch's, without `torch.`), the typed array behind each, and conversion
 * between them.
 *
 * @packageDocumentation
 */
import { describe } from '../is';

/** Element type of a Tensor, in PyTorch's names without the `torch.` prefix. */
export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** The floating-point dtypes: the ones modules hold their parameters in. */
export type FloatDType = 'float32' | 'float64';

/**
 * The type parameter {@link Tensor} takes for a tensor of dtype `D`: both float dtypes map to
 * `FloatDType`, so that `Tensor` (the default) is any floating-point tensor, as modules produce; integer
 * and bool dtypes keep their own name (`Tensor<'int64'>`).
 */
export type TensorDType<D extends DType> = D extends FloatDType ? FloatDType : D;

/** The typed array behind each dtype; `bool` is a Uint8Array holding 0 and 1, as PyTorch stores masks. */
export interface DTypeArrays {
  float32: Float32Array;
  float64: Float64Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int16: Int16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

/**
 * The typed array behind a Tensor of dtype `D`: by default a floating-point one, as {@link Tensor}'s
 * default is; `TensorData<DType>` is any of them.
 */
export type TensorData<D extends DType = FloatDType> = DTypeArrays[D];

/** The typed array behind a Tensor of any dtype. */
export type AnyTensorData = DTypeArrays[DType];

/** The typed array behind a Tensor of any dtype but int64: its elements are JS numbers. */
export type NumberData = Exclude<AnyTensorData, BigInt64Array>;

/** The typed array behind a floating-point Tensor. */
export type FloatTensorData = Float32Array | Float64Array;

/** Every dtype, in the order messages list them. */
export const DTYPES: readonly DType[] = Object.freeze(['float32', 'float64', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool']);

/** PyTorch's scalar-type names of the dtypes (`Long` for int64), as its messages print them. */
export const TORCH_TYPE_NAMES: Readonly<Record<DType, string>> = {
  float32: 'Float',
  float64: 'Double',
  int64: 'Long',
  int32: 'Int',
  int16: 'Short',
  int8: 'Char',
  uint8: 'Byte',
  bool: 'Bool',
};

const CONSTRUCTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
} as const;

/** The natural dtype of each typed array, by its `Symbol.toStringTag`. */
const NATURAL: Readonly<Record<string, DType>> = {
  Float32Array: 'float32',
  Float64Array: 'float64',
  BigInt64Array: 'int64',
  Int32Array: 'int32',
  Int16Array: 'int16',
  Int8Array: 'int8',
  Uint8Array: 'uint8',
};

/** True for any dtype this library supports. */
export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.hasOwn(CONSTRUCTORS, value);
}

/** True for `'float32'` or `'float64'`. */
export function isFloatDType(value: unknown): value is FloatDType {
  return value === 'float32' || value === 'float64';
}

/**
 * The dtype a typed array holds without being told (Uint8Array → `'uint8'`), else undefined. Not
 * `instanceof`: arrays made in another realm (the native addon's, a vm context's) have other constructors.
 */
export function naturalDType(value: unknown): DType | undefined {
  if (!ArrayBuffer.isView(value)) return undefined;
  const tag = (value as unknown as { [Symbol.toStringTag]: unknown })[Symbol.toStringTag];
  return typeof tag === 'string' && Object.hasOwn(NATURAL, tag) ? NATURAL[tag] : undefined;
}

/** The name of the typed array class behind `dtype`, for messages. */
export function arrayName(dtype: DType): string {
  return CONSTRUCTORS[dtype].name;
}

/** Throws PyTorch-like TypeError unless `dtype` is one of {@link DTYPES}. */
export function checkDType(dtype: unknown): asserts dtype is DType {
  if (!isDType(dtype)) {
    throw new TypeError(`dtype should be one of ${DTYPES.map((d) => `'${d}'`).join(', ')}, got: ${describe(dtype)}`);
  }
}

/** The typed array of `dtype` over `length` elements of existing memory, from `byteOffset` (aligned). */
export function arrayView<D extends DType>(dtype: D, buffer: ArrayBuffer, byteOffset: number, length: number): DTypeArrays[D] {
  return new CONSTRUCTORS[dtype](buffer, byteOffset, length) as DTypeArrays[D];
}

/** A zero-filled typed array of `length` elements of `dtype`. */
export function allocate<D extends DType>(dtype: D, length: number): DTypeArrays[D] {
  return new CONSTRUCTORS[dtype](length) as DTypeArrays[D];
}

const INT64_MIN = -(2n ** 63n);
const INT64_LIMIT = 2 ** 63;

/**
 * A float as int64, truncated toward zero as PyTorch's cast does. Values int64 cannot hold (NaN,
 * infinities, |x| ≥ 2^63) give int64's minimum, which is what PyTorch's CPU cast produces for them.
 */
export function floatToInt64(value: number): bigint {
  if (!(value > -INT64_LIMIT && value < INT64_LIMIT)) return INT64_MIN;
  return BigInt(Math.trunc(value));
}

const INT_BITS: Readonly<Partial<Record<DType, number>>> = { int32: 32, int16: 16, int8: 8 };

/**
 * `source` (of dtype `from`) converted element by element into a new array of dtype `to`: float → integer
 * truncates toward zero, narrower integers wrap (two's complement), anything → bool is `x != 0` (NaN is
 * true), bool → anything is 0/1 — PyTorch's casts.
 */
export function convertData(source: AnyTensorData, from: DType, to: DType): AnyTensorData {
  const n = source.length;
  const out = allocate(to, n);
  if (to === 'bool') {
    const target = out as Uint8Array;
    if (from === 'int64') {
      const s = source as BigInt64Array;
      for (let i = 0; i < n; i++) target[i] = s[i] !== 0n ? 1 : 0;
    } else {
      const s = source as NumberData;
      // `x !== 0` is true for NaN, as bool(nan) in PyTorch.
      for (let i = 0; i < n; i++) target[i] = s[i] !== 0 ? 1 : 0;
    }
    return out;
  }
  if (to === 'int64') {
    const target = out as BigInt64Array;
    if (from === 'int64') target.set(source as BigInt64Array);
    else if (isFloatDType(from)) {
      const s = source as FloatTensorData;
      for (let i = 0; i < n; i++) target[i] = floatToInt64(s[i]);
    } else {
      const s = source as NumberData;
      for (let i = 0; i < n; i++) target[i] = BigInt(s[i]);
    }
    return out;
  }
  if (from === 'int64') {
    const s = source as BigInt64Array;
    const target = out as NumberData;
    const bits = INT_BITS[to];
    // Wrap in BigInt first: Number(s) loses low bits above 2^53 before a typed array could wrap them.
    if (bits !== undefined) for (let i = 0; i < n; i++) target[i] = Number(BigInt.asIntN(bits, s[i]));
    else if (to === 'uint8') for (let i = 0; i < n; i++) target[i] = Number(BigInt.asUintN(8, s[i]));
    else for (let i = 0; i < n; i++) target[i] = Number(s[i]);
    return out;
  }
  const s = source as NumberData;
  const target = out as NumberData;
  if (isFloatDType(from) && !isFloatDType(to)) {
    // PyTorch's CPU cast goes through int32: what int32 cannot hold (NaN, infinities, |x| ≥ 2^31) becomes
    // int32's minimum, then narrower types keep the low bits. A typed-array store truncates and wraps.
    for (let i = 0; i < n; i++) {
      const v = s[i];
      target[i] = v > -2147483649 && v < 2147483648 ? v : -2147483648;
    }
    return out;
  }
  target.set(s);
  return out;
}
