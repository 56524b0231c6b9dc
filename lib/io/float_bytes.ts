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
 * The elements of `bytes`, stored as `format` in the given byte order, as a new Float32Array (float16,
 * bfloat16, float32) or Float64Array (float64). `bytes.length` must be a multiple of the element size.
 */
export function decodeFloats(bytes: Uint8Array, format: StoredFloat, littleEndian: boolean): TensorData {
  const size = STORED_FLOAT_SIZE[format];
  if (bytes.length % size !== 0) {
    throw new Error(`${bytes.length} bytes are not a whole number of ${format} elements (${size} bytes each)`);
  }
  const count = bytes.length / size;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === 'float32' || format === 'float64') {
    if (littleEndian === HOST_LITTLE_ENDIAN) {
      // Copy into a fresh, aligned buffer: the source may sit at any offset in a larger file. (Not
      // `bytes.slice()`: on a Node Buffer that is a view, not a copy.)
      const copy = new Uint8Array(bytes);
      return format === 'float32' ? new Float32Array(copy.buffer, 0, count) : new Float64Array(copy.buffer, 0, count);
    }
    if (format === 'float32') {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, littleEndian);
      return out;
    }
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, littleEndian);
    return out;
  }
  const widen = format === 'float16' ? halfBitsToFloatBits : bfloat16BitsToFloatBits;
  const out = new Float32Array(count);
  // Written as bits so that NaN payloads survive, as they do in PyTorch's conversion.
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) bits[i] = widen(view.getUint16(2 * i, littleEndian));
  return out;
}

/** The elements of `data` as little-endian bytes (a new array), as safetensors and `<f4`/`<f8` npy store them. */
export function encodeFloatsLittleEndian(data: TensorData): Uint8Array {
  if (HOST_LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  const size = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < data.length; i++) {
    if (size === 4) view.setFloat32(4 * i, data[i], true);
    else view.setFloat64(8 * i, data[i], true);
  }
  return out;
}
