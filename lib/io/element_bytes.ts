/**
 * Elements as model files store them (float16 to float64, the integers, bool), decoded from raw bytes of
 * either byte order into the typed arrays Tensors hold.
 *
 * @packageDocumentation
 */
import { endianness } from 'node:os';
import type { DType } from '../tensor';
import { arrayView } from '../tensor/dtype';
import { STORED_FLOAT_SIZE, decodeFloats, swapBytes, type StoredFloat } from './float_bytes';

/** The element formats model files store and this library reads. */
export type StoredElement = StoredFloat | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** Bytes per element of each stored format. */
export const STORED_ELEMENT_SIZE: Readonly<Record<StoredElement, number>> = {
  ...STORED_FLOAT_SIZE,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** The dtype a stored format loads as: the 16-bit floats widen to float32, as `tensor.float()` does. */
export function loadedDType(stored: StoredElement): DType {
  return stored === 'float16' || stored === 'bfloat16' ? 'float32' : (stored as DType);
}

/** The typed array each stored format decodes into. */
export type StorageArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

const HOST_LITTLE_ENDIAN = endianness() === 'LE';

/** The stored formats that load as the dtype of the same name, element for element. */
type StoredInteger = Exclude<StoredElement, StoredFloat>;

function isStoredInteger(stored: StoredElement): stored is StoredInteger {
  return !Object.hasOwn(STORED_FLOAT_SIZE, stored);
}

/** The elements of `bytes` stored as an integer or bool format, as an aligned array of the host's byte order. */
function decodeIntegers(bytes: Uint8Array, stored: StoredInteger, littleEndian: boolean, owned: boolean): StorageArray {
  const size = STORED_ELEMENT_SIZE[stored];
  // A copy unless the caller gave up an aligned buffer: the source may sit at any offset of a larger file,
  // and the result must not alias bytes the caller still holds.
  const copy = owned && bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
  if (littleEndian !== HOST_LITTLE_ENDIAN && size > 1) swapBytes(copy, size);
  if (stored === 'bool') {
    // PyTorch writes 0 and 1; any other byte is still true, and is kept as 1 so that a bool tensor holds 0/1.
    for (let i = 0; i < copy.length; i++) copy[i] = copy[i] === 0 ? 0 : 1;
  }
  return arrayView(stored, copy.buffer as ArrayBuffer, copy.byteOffset, copy.length / size);
}

/**
 * The elements of `bytes`, decoded (and widened, for the 16-bit floats) from the given byte order. With
 * `owned` (a buffer the caller gives up, such as a freshly inflated entry) the bytes are decoded in place
 * where the format allows; otherwise into new memory, never aliasing `bytes`.
 */
export function decodeElements(bytes: Uint8Array, stored: StoredElement, littleEndian: boolean, owned = false): StorageArray {
  if (isStoredInteger(stored)) return decodeIntegers(bytes, stored, littleEndian, owned);
  return decodeFloats(bytes, stored as StoredFloat, littleEndian, owned);
}

/** Whether `stored` decodes in place from an owned buffer: all formats but the 16-bit floats, which widen. */
export function decodesInPlace(stored: StoredElement): boolean {
  return stored !== 'float16' && stored !== 'bfloat16';
}

