/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {key: value}}`, then the tensors'
 * bytes, little-endian and row-major. Nothing in it can run code; every header field is checked anyway.
 *
 * @packageDocumentation
 */
import { Tensor, type DType } from '../tensor';
import { STORED_ELEMENT_SIZE, decodeElements, loadedDType, type StoredElement } from './element_bytes';
import { refuseOtherFormat } from './file_format';
import { encodeLittleEndian } from './float_bytes';
import { parseSource, writeBytes, type FileSource } from './source';

/** The largest header accepted, as in the format's reference implementation: real headers are far smaller. */
const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

/** The safetensors dtypes read, with the format their elements are stored in. */
const READ_DTYPES: Readonly<Record<string, StoredElement>> = {
  F64: 'float64', F32: 'float32', F16: 'float16', BF16: 'bfloat16', I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};

/** The safetensors dtype each Tensor dtype is written as. */
const WRITE_DTYPES: Readonly<Record<DType, string>> = {
  float64: 'F64', float32: 'F32', int64: 'I64', int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};

/** Element sizes of the other dtypes the format defines, so that their byte ranges can still be checked. */
const OTHER_DTYPE_SIZES: Readonly<Record<string, number>> = {
  F8_E5M2: 1, F8_E4M3: 1, U16: 2, U32: 4, U64: 8, C64: 8,
};

/** One tensor as the header describes it. */
interface HeaderEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

interface Header {
  entries: HeaderEntry[];
  metadata: Record<string, string>;
  /** Where the byte buffer starts in the file. */
  dataStart: number;
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function elementSize(dtype: string): number | undefined {
  if (Object.hasOwn(READ_DTYPES, dtype)) return STORED_ELEMENT_SIZE[READ_DTYPES[dtype]];
  if (Object.hasOwn(OTHER_DTYPE_SIZES, dtype)) return OTHER_DTYPE_SIZES[dtype];
  return undefined;
}

/** The longest piece of a header value a message quotes. */
const MAX_QUOTED = 60;

/**
 * A header value as a short JSON-like text for a message. Bounded in depth and length: a shape nested
 * thousands of levels deep would overflow the stack of `JSON.stringify`, and a message need not show it all.
 */
function quoteJson(value: unknown, depth = 0): string {
  if (depth > 3) return '...';
  let text: string;
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (const item of value.slice(0, 8)) items.push(quoteJson(item, depth + 1));
    text = `[${items.join(',')}${value.length > 8 ? ',...' : ''}]`;
  } else if (isObject(value)) {
    text = '{...}';
  } else {
    text = JSON.stringify(value) ?? String(value);
  }
  return text.length <= MAX_QUOTED ? text : `${text.slice(0, MAX_QUOTED - 3)}...`;
}

function readEntry(name: string, info: unknown): HeaderEntry {
  if (!isObject(info)) throw new Error(`safetensors header: tensor '${name}' is not an object`);
  for (const field of Object.keys(info)) {
    if (field !== 'dtype' && field !== 'shape' && field !== 'data_offsets') {
      throw new Error(`safetensors header: tensor '${name}' has an unknown field '${field}'`);
    }
  }
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== 'string') throw new Error(`safetensors header: tensor '${name}' has no dtype string`);
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    throw new Error(`safetensors header: tensor '${name}' has shape ${quoteJson(shape)}; it should be a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger) || offsets[0] > offsets[1]) {
    throw new Error(`safetensors header: tensor '${name}' has data_offsets ${quoteJson(offsets)}; they should be [begin, end] with begin <= end`);
  }
  return { name, dtype, shape, begin: offsets[0], end: offsets[1] };
}

function readMetadata(value: unknown): Record<string, string> {
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new Error('safetensors header: __metadata__ should map strings to strings');
  }
  return Object.assign(Object.create(null), value) as Record<string, string>;
}

/** Throws unless the byte ranges tile the byte buffer exactly, in order, and each fits its dtype and shape. */
function checkByteRanges(entries: readonly HeaderEntry[], dataLength: number): void {
  for (const entry of entries) {
    const size = elementSize(entry.dtype);
    if (size === undefined) throw new Error(`safetensors: tensor '${entry.name}' has unknown dtype '${entry.dtype}'`);
    const bytes = entry.shape.reduce((n, s) => n * s, 1) * size;
    if (!Number.isSafeInteger(bytes) || bytes !== entry.end - entry.begin) {
      throw new Error(
        `safetensors: tensor '${entry.name}' (${entry.dtype}, shape [${entry.shape.join(', ')}]) needs ${bytes} bytes ` +
          `but data_offsets [${entry.begin}, ${entry.end}] give ${entry.end - entry.begin}`,
      );
    }
  }
  // The format requires the ranges to cover the buffer with no hole and no overlap (no hidden data).
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const entry of sorted) {
    if (entry.begin !== expected) {
      throw new Error(
        entry.begin < expected
          ? `safetensors: tensor '${entry.name}' overlaps the one before it (its data starts at ${entry.begin}, before ${expected})`
          : `safetensors: bytes ${expected} to ${entry.begin} of the data belong to no tensor`,
      );
    }
    expected = entry.end;
  }
  if (expected !== dataLength) {
    throw new Error(
      expected > dataLength
        ? `safetensors: the tensors need ${expected} bytes of data but the file holds ${dataLength} (truncated?)`
        : `safetensors: the last ${dataLength - expected} bytes of the file belong to no tensor`,
    );
  }
}

function readHeader(bytes: Uint8Array): Header {
  refuseOtherFormat(bytes, 'safetensors');
  if (bytes.length < 8) throw new Error(`safetensors: the file has ${bytes.length} bytes, fewer than the 8 of its header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLength > bytes.length - 8) {
    throw new Error(`safetensors: the header length ${headerLength} exceeds the ${bytes.length - 8} bytes after it (truncated or not safetensors)`);
  }
  if (headerLength > MAX_HEADER_BYTES) throw new Error(`safetensors: the header length ${headerLength} exceeds the limit of ${MAX_HEADER_BYTES}`);
  const headerBytes = bytes.subarray(8, 8 + headerLength);
  if (headerBytes[0] !== 0x7b) throw new Error("safetensors: the header does not start with '{'");
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    // V8's parser recurses: a header nested deeply enough exhausts the stack rather than being invalid.
    if (error instanceof RangeError) throw new Error('safetensors: the header nests too deeply to be a safetensors header');
    throw new Error(`safetensors: the header is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isObject(parsed)) throw new Error('safetensors: the header is not a JSON object');
  const entries: HeaderEntry[] = [];
  let metadata: Record<string, string> = Object.create(null);
  for (const [name, info] of Object.entries(parsed)) {
    if (name === METADATA_KEY) metadata = readMetadata(info);
    else entries.push(readEntry(name, info));
  }
  const dataStart = 8 + headerLength;
  checkByteRanges(entries, bytes.length - dataStart);
  return { entries, metadata, dataStart };
}

/**
 * The tensors in the bytes of a safetensors file, in header order. See {@link loadSafetensors}.
 *
 * @throws Error naming the problem for a malformed file or a tensor of a dtype it does not read (U16, U32,
 * U64, F8, C64).
 */
export function parseSafetensors(bytes: Uint8Array): Record<string, Tensor<any>> {
  const { entries, dataStart } = readHeader(bytes);
  const result: Record<string, Tensor<any>> = Object.create(null);
  for (const entry of entries) {
    if (!Object.hasOwn(READ_DTYPES, entry.dtype)) {
      throw new Error(
        `safetensors: tensor '${entry.name}' has dtype ${entry.dtype}; only F64, F32, F16, BF16, I64, I32, I16, I8, U8 and BOOL tensors can be loaded`,
      );
    }
    const raw = bytes.subarray(dataStart + entry.begin, dataStart + entry.end);
    const format = READ_DTYPES[entry.dtype];
    result[entry.name] = new Tensor<DType>(decodeElements(raw, format, true), entry.shape, loadedDType(format));
  }
  return result;
}

/** The `__metadata__` of a safetensors file's bytes (an empty object when it has none), after checking the whole header. */
export function readSafetensorsMetadata(bytes: Uint8Array): Record<string, string> {
  return readHeader(bytes).metadata;
}

/**
 * Reads a safetensors file (from a path or its bytes) into Tensors, in header order. F64, F32, I64, I32,
 * I16, I8, U8 and BOOL load as float64 ... bool; F16 and BF16 become float32 exactly. The header is checked strictly: its length against the
 * file, its JSON, each shape, and the byte ranges, which must tile the data exactly.
 *
 * @example
 * ```ts
 * const lstm = new LSTM(10, 20);
 * lstm.loadStateDict(await loadSafetensors('lstm.safetensors'));
 * ```
 */
export async function loadSafetensors(source: FileSource): Promise<Record<string, Tensor<any>>> {
  return parseSource(source, parseSafetensors);
}

function entriesOf(tensors: Record<string, Tensor<DType>> | Map<string, Tensor<DType>>): [string, Tensor<DType>][] {
  return tensors instanceof Map ? [...tensors] : Object.entries(tensors);
}

/**
 * The bytes of a safetensors file holding `tensors` (float32 as F32, float64 as F64, int64 as I64, ...,
 * bool as BOOL), in the given order,
 * with optional string-to-string `metadata`.
 */
export function serializeSafetensors(
  tensors: Record<string, Tensor<DType>> | Map<string, Tensor<DType>>,
  metadata?: Record<string, string>,
): Uint8Array {
  // No prototype: a tensor named '__proto__' is an entry like any other.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata !== undefined) header[METADATA_KEY] = readMetadata(metadata);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of entriesOf(tensors)) {
    if (!(tensor instanceof Tensor)) throw new TypeError(`serializeSafetensors: '${name}' is not a Tensor`);
    if (name === METADATA_KEY) throw new Error(`serializeSafetensors: '${METADATA_KEY}' is reserved for metadata`);
    const data = encodeLittleEndian(tensor.data);
    header[name] = { dtype: WRITE_DTYPES[tensor.dtype as DType], shape: tensor.shape, data_offsets: [offset, offset + data.length] };
    chunks.push(data);
    offset += data.length;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so that the data starts 8-byte aligned, as the reference writer does.
  const jsonBytes = (): Uint8Array => new TextEncoder().encode(json);
  json += ' '.repeat((8 - (jsonBytes().length % 8)) % 8);
  const headerBytes = jsonBytes();
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setUint32(0, headerBytes.length, true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Writes `tensors` (and optional `metadata`) to a safetensors file at `path`; see {@link serializeSafetensors}. */
export async function saveSafetensors(
  path: string,
  tensors: Record<string, Tensor<DType>> | Map<string, Tensor<DType>>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeBytes(path, serializeSafetensors(tensors, metadata));
}
