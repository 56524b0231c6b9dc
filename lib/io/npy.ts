/**
 * numpy's `.npy` format: the magic `\x93NUMPY`, a version, a header length, a Python-literal header
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, then the array's bytes.
 *
 * @packageDocumentation
 */
import { Tensor, type DType } from '../tensor';
import { STORED_ELEMENT_SIZE, decodeElements, loadedDType, type StoredElement } from './element_bytes';
import { refuseOtherFormat } from './file_format';
import { encodeLittleEndian } from './float_bytes';
import { parsePythonLiteral, type PythonLiteral } from './python_literal';
import { parseSource, writeBytes, type FileSource } from './source';
import { gatherStrided } from './strided';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** numpy's alignment of the data start (the header is padded with spaces to reach it). */
const ARRAY_ALIGN = 64;

/** numpy's own limit on the header it reads: a float array's header is about a hundred bytes. */
const MAX_HEADER_BYTES = 10_000;

/** Spare header room numpy leaves so the first dimension can grow in place; kept for byte-identical files. */
const GROWTH_AXIS_MAX_DIGITS = 21;

/** The numpy dtypes read (kind and size, as in `'<f4'`), with the format of their elements. */
const FORMATS: Readonly<Record<string, StoredElement>> = {
  f2: 'float16', f4: 'float32', f8: 'float64', i8: 'int64', i4: 'int32', i2: 'int16', i1: 'int8', u1: 'uint8', b1: 'bool',
};

/** The descr `np.save` writes for each dtype: little-endian, or `|` where byte order does not apply. */
const DESCRS: Readonly<Record<DType, string>> = {
  float32: '<f4', float64: '<f8', int64: '<i8', int32: '<i4', int16: '<i2', int8: '|i1', uint8: '|u1', bool: '|b1',
};

const READ_NAMES = 'float16, float32, float64, int64, int32, int16, int8, uint8 and bool';

const KIND_NAMES: Readonly<Record<string, string>> = {
  b: 'bool', i: 'int', u: 'uint', f: 'float', c: 'complex', m: 'timedelta', M: 'datetime', O: 'object', S: 'bytes', U: 'str', V: 'void',
};

/** What the header says about the array. */
interface NpyHeader {
  format: StoredElement;
  littleEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
}

function describeDescr(descr: string): string {
  const match = /^[<>|=]([a-zA-Z])(\d+)$/.exec(descr);
  if (match === null || !(match[1] in KIND_NAMES)) return `'${descr}'`;
  const bits = match[1] === 'b' || 'OSUV'.includes(match[1]) ? '' : String(8 * Number(match[2]));
  return `${KIND_NAMES[match[1]]}${bits} ('${descr}')`;
}

function readDescr(descr: PythonLiteral): Pick<NpyHeader, 'format' | 'littleEndian'> {
  if (typeof descr !== 'string') {
    throw new Error(`npy: the array has a structured dtype; loadNpy reads ${READ_NAMES} arrays`);
  }
  // '|' (no byte order) is what numpy writes for one-byte types; '<' and '>' for the others.
  const match = /^([<>|])([fiub][1248])$/.exec(descr);
  const format = match === null || !Object.hasOwn(FORMATS, match[2]) ? undefined : FORMATS[match[2]];
  if (match === null || format === undefined || (match[1] === '|') !== (STORED_ELEMENT_SIZE[format] === 1)) {
    throw new Error(
      `npy: dtype ${describeDescr(descr)} is not supported; loadNpy reads ${READ_NAMES} arrays ` +
        '(convert with arr.astype(np.float32))',
    );
  }
  return { format, littleEndian: match[1] !== '>' };
}

function readHeader(text: string): NpyHeader {
  let literal: PythonLiteral;
  try {
    literal = parsePythonLiteral(text);
  } catch (error) {
    throw new Error(`npy: the header is not a Python literal: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof literal !== 'object' || literal === null || literal.kind !== 'dict') throw new Error('npy: the header is not a dict');
  const keys = [...literal.entries.keys()].sort();
  if (keys.join() !== 'descr,fortran_order,shape') {
    throw new Error(`npy: the header should have the keys descr, fortran_order and shape, not ${keys.join(', ')}`);
  }
  const fortranOrder = literal.entries.get('fortran_order');
  if (typeof fortranOrder !== 'boolean') throw new Error('npy: fortran_order should be True or False');
  const shape = literal.entries.get('shape');
  if (
    typeof shape !== 'object' ||
    shape === null ||
    shape.kind !== 'tuple' ||
    !shape.items.every((s) => typeof s === 'number' && s >= 0)
  ) {
    throw new Error('npy: shape should be a tuple of non-negative integers');
  }
  return { ...readDescr(literal.entries.get('descr') as PythonLiteral), fortranOrder, shape: shape.items as number[] };
}

/** The strides, in elements, of an array stored column-major (Fortran order). */
function fortranStrides(shape: readonly number[]): number[] {
  const strides: number[] = [];
  let stride = 1;
  for (const size of shape) {
    strides.push(stride);
    stride *= size;
  }
  return strides;
}

/**
 * The array in the bytes of a `.npy` file, as a Tensor. See {@link loadNpy}.
 *
 * @throws Error naming the problem for a malformed file or a dtype it does not read (wider unsigned
 * integers, complex, strings, objects, structured arrays).
 */
export function parseNpy(bytes: Uint8Array): Tensor<any> {
  refuseOtherFormat(bytes, 'npy');
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) throw new Error('npy: not a .npy file (no \\x93NUMPY magic)');
  const major = bytes[6];
  const minor = bytes[7];
  if (![1, 2, 3].includes(major) || minor !== 0) throw new Error(`npy: format version ${major}.${minor} is not 1.0, 2.0 or 3.0`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthSize = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthSize) throw new Error('npy: the file ends inside its header length');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES) throw new Error(`npy: the header length ${headerLength} exceeds the limit of ${MAX_HEADER_BYTES}`);
  const headerStart = 8 + lengthSize;
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) throw new Error(`npy: the header length ${headerLength} exceeds the ${bytes.length - headerStart} bytes after it`);
  const headerBytes = bytes.subarray(headerStart, dataStart);
  // Versions 1 and 2 write the header in latin-1, version 3 in UTF-8.
  const text = major === 3 ? decodeUtf8Header(headerBytes) : String.fromCharCode(...headerBytes);
  const header = readHeader(text);
  const numel = header.shape.reduce((n, s) => n * s, 1);
  const expected = numel * STORED_ELEMENT_SIZE[header.format];
  if (!Number.isSafeInteger(expected) || bytes.length - dataStart !== expected) {
    throw new Error(
      `npy: shape (${header.shape.join(', ')}) of ${header.format} needs ${expected} bytes of data but the file holds ${bytes.length - dataStart}`,
    );
  }
  const stored = decodeElements(bytes.subarray(dataStart), header.format, header.littleEndian);
  const data = header.fortranOrder ? gatherStrided(stored, header.shape, fortranStrides(header.shape), 0) : stored;
  return new Tensor<DType>(data, header.shape, loadedDType(header.format));
}

/** A format 3.0 header as text; bytes that are not UTF-8 are a malformed file, not the decoder's TypeError. */
function decodeUtf8Header(headerBytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new Error('npy: the format 3.0 header is not valid UTF-8');
  }
}

/**
 * Reads a numpy `.npy` file (from a path or its bytes; format versions 1.0, 2.0 and 3.0) into a Tensor.
 * `f4`, `f8`, `i8`, `i4`, `i2`, `i1`, `u1` and `b1` load as the Tensor dtype of that kind (float32 ...
 * bool), `f2` becomes float32 exactly, big-endian arrays are byte-swapped, and Fortran-order arrays are
 * reordered to row-major. Other dtypes are an Error. The result is typed loosely (`Tensor<any>`): the
 * file decides the dtype.
 * The header is parsed as data, never evaluated.
 *
 * @example
 * ```ts
 * const x = await loadNpy('input.npy');    // np.save('input.npy', x.numpy())
 * ```
 */
export async function loadNpy(source: FileSource): Promise<Tensor<any>> {
  return parseSource(source, parseNpy);
}

function pythonTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** The bytes of a `.npy` file holding `tensor` (`<f4`, `<f8`, `<i8`, ..., `|b1`), identical to what `np.save` writes. */
export function serializeNpy(tensor: Tensor<DType>): Uint8Array {
  if (!(tensor instanceof Tensor)) throw new TypeError('serializeNpy: expected a Tensor');
  const descr = DESCRS[tensor.dtype as DType];
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${pythonTuple(tensor.shape)}, }`;
  if (tensor.shape.length > 0) header += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(tensor.shape[0]).length));
  // As numpy: pad with spaces, then a newline, so the data starts on a 64-byte boundary (a full 64 when already aligned).
  const padding = ARRAY_ALIGN - ((10 + header.length + 1) % ARRAY_ALIGN);
  header += `${' '.repeat(padding)}\n`;
  // Format 1.0 (a 16-bit header length) holds the header of any tensor of fewer than a few thousand dimensions.
  if (header.length > 0xffff) throw new Error(`serializeNpy: a tensor of ${tensor.dim()} dimensions is beyond the .npy 1.0 header`);
  const data = encodeLittleEndian(tensor.data);
  const out = new Uint8Array(10 + header.length + data.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(data, 10 + header.length);
  return out;
}

/** Writes `tensor` to a `.npy` file at `path`, as `np.save` would; see {@link serializeNpy}. */
export async function saveNpy(path: string, tensor: Tensor<DType>): Promise<void> {
  await writeBytes(path, serializeNpy(tensor));
}
