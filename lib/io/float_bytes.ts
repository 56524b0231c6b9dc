/**
 * Float elements to and from the raw bytes model files hold, in either byte order.
 *
 * @packageDocumentation
 */
import { endianness } from 'node:os';
import type { TensorData } from '../tensor';
import { bfloat16BitsToFloatBits, halfBitsToFloatBits } from './half';

/** The float formats a model file may store; the 16-bit ones are widened to float32 when read. */
export type StoredFloat = 'float16' | 'bfloat16' | 'float32' | 'float64';

/** Bytes per element of each stored format. */
export const STORED_FLOAT_SIZE: Readonly<Record<StoredFloat, number>> = Object.freeze({
  float16: 2,
  bfloat16: 2,
  float32: 4,
  float64: 8,
});

const HOST_LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Reverses the bytes of each `size`-byte element of `bytes`, in place: the other byte order. Moving bytes
 * rather than reading numbers keeps every bit, the payload of a signalling NaN included (a float read
 * through a JS number may come back quieted).
 */
export function swapBytes(bytes: Uint8Array, size: number): void {
  for (let at = 0; at + size <= bytes.length; at += size) {
    for (let i = 0, j = at + size - 1, k = at; k < j; i++, j--, k++) {
      const b = bytes[k];
      bytes[k] = bytes[j];
      bytes[j] = b;
    }
  }
}

/**
 * The elements of `bytes`, stored as `format` in the given byte order, as a Float32Array (float16,
 * bfloat16, float32) or Float64Array (float64), bit for bit. `bytes.length` must be a multiple of the
 * element size. With `owned`, `bytes` is a buffer the caller gives up (a freshly inflated entry): float32
 * and float64 are then decoded in place when aligned, without a copy; otherwise the result is new memory.
 */
export function decodeFloats(bytes: Uint8Array, format: StoredFloat, littleEndian: boolean, owned = false): TensorData {
  const size = STORED_FLOAT_SIZE[format];
  if (bytes.length % size !== 0) {
    throw new Error(`${bytes.length} bytes are not a whole number of ${format} elements (${size} bytes each)`);
  }
  const count = bytes.length / size;
  if (format === 'float32' || format === 'float64') {
    // A fresh, aligned buffer unless the caller gave up an aligned one: the source may sit at any offset
    // in a larger file. (Not `bytes.slice()`: on a Node Buffer that is a view, not a copy.)
    const target = owned && bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
    if (littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(target, size);
    return format === 'float32'
      ? new Float32Array(target.buffer, target.byteOffset, count)
      : new Float64Array(target.buffer, target.byteOffset, count);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const widen = format === 'float16' ? halfBitsToFloatBits : bfloat16BitsToFloatBits;
  const out = new Float32Array(count);
  // Written as bits so that NaN payloads survive, as they do in PyTorch's conversion.
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) bits[i] = widen(view.getUint16(2 * i, littleEndian));
  return out;
}

/** The elements of `data` as little-endian bytes (a new array), as safetensors and `.npy` files store them. */
export function encodeLittleEndian(data: ArrayBufferView & { readonly BYTES_PER_ELEMENT: number }): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  if (!HOST_LITTLE_ENDIAN) swapBytes(bytes, data.BYTES_PER_ELEMENT);
  return bytes;
}
