/**
 * A reader for the zip archives `torch.save` writes: the central directory is read from the end of the
 * file, every offset and size is checked against the bytes before use, and entries are stored or deflated.
 *
 * @packageDocumentation
 */
import { inflateRawSync } from 'node:zlib';
import { crc32 } from './crc32';

/** Deflate cannot shrink data by more than about 1032:1, so a larger declared ratio is a lie (a zip bomb). */
const MAX_DEFLATE_RATIO = 1032;

/** The most bytes one deflated entry may inflate to: beyond any recurrent model, well short of memory limits. */
export const MAX_INFLATED_ENTRY_BYTES = 2 ** 30;

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_END_OF_CENTRAL_DIRECTORY = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL_DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;
const ZIP64_EXTRA_FIELD = 0x0001;

const STORED = 0;
const DEFLATED = 8;

/** One file in a zip archive, as its central directory describes it. */
export interface ZipEntry {
  /** The entry's path inside the archive (`archive/data/0`). */
  readonly name: string;
  /** 0 for stored, 8 for deflated. */
  readonly method: number;
  /** Bytes the entry occupies in the archive. */
  readonly compressedSize: number;
  /** Bytes of the entry once inflated. */
  readonly uncompressedSize: number;
  /** CRC-32 of the uncompressed bytes. */
  readonly crc32: number;
  /** Where the entry's (compressed) bytes start in the archive. */
  readonly dataOffset: number;
}

/** A zip archive held in memory: its entries by name, each read (and checked) on demand. */
export interface ZipArchive {
  /** The entries, in central directory order. */
  readonly entries: ReadonlyMap<string, ZipEntry>;
  /**
   * The uncompressed bytes of entry `name`, CRC-checked. A stored entry is a view of the archive's bytes
   * (no copy); a deflated one is a new buffer of exactly its declared size, which the caller owns.
   */
  read(name: string): Uint8Array;
}

/** A bounds-checked little-endian reader over the archive bytes. */
class ByteReader {
  readonly #view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Throws unless `[offset, offset + length)` lies within the bytes. */
  need(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > this.bytes.length) {
      throw new Error(
        `truncated or corrupt zip: ${what} at byte ${offset} (${length} bytes) lies outside the ${this.bytes.length}-byte file`,
      );
    }
  }

  u16(offset: number): number {
    return this.#view.getUint16(offset, true);
  }

  u32(offset: number): number {
    return this.#view.getUint32(offset, true);
  }

  /** An unsigned 64-bit field, which must fit in a safe integer (any real offset or size does). */
  u64(offset: number, what: string): number {
    const value = this.#view.getUint32(offset, true) + this.#view.getUint32(offset + 4, true) * 2 ** 32;
    if (!Number.isSafeInteger(value)) throw new Error(`corrupt zip: ${what} ${value} is too large`);
    return value;
  }
}

/** Where the central directory is and how many entries it holds. */
interface CentralDirectory {
  offset: number;
  size: number;
  count: number;
  /** Where the end-of-central-directory records begin: entries and the directory must end before it. */
  end: number;
}

function findEndOfCentralDirectory(reader: ByteReader): number {
  const { bytes } = reader;
  // The record is 22 bytes plus a comment of at most 65535 bytes, so it starts within that distance of the end.
  const lowest = Math.max(0, bytes.length - 22 - 0xffff);
  for (let at = bytes.length - 22; at >= lowest; at--) {
    if (reader.u32(at) === END_OF_CENTRAL_DIRECTORY && at + 22 + reader.u16(at + 20) === bytes.length) return at;
  }
  throw new Error('not a zip file, or a truncated one: no end-of-central-directory record at its end');
}

function readCentralDirectoryLocation(reader: ByteReader): CentralDirectory {
  if (reader.bytes.length < 22) throw new Error(`not a zip file: ${reader.bytes.length} bytes is too short`);
  const eocd = findEndOfCentralDirectory(reader);
  if (reader.u16(eocd + 4) !== 0 || reader.u16(eocd + 6) !== 0) throw new Error('multi-part (spanned) zips are not supported');
  let count = reader.u16(eocd + 10);
  let size = reader.u32(eocd + 12);
  let offset = reader.u32(eocd + 16);
  let end = eocd;
  // PyTorch writes the ZIP64 records whether or not sizes need them; when present they are authoritative.
  const locator = eocd - 20;
  if (locator >= 0 && reader.u32(locator) === ZIP64_LOCATOR) {
    const record = reader.u64(locator + 8, 'ZIP64 end-of-central-directory offset');
    reader.need(record, 56, 'ZIP64 end-of-central-directory record');
    if (record + 56 > locator || reader.u32(record) !== ZIP64_END_OF_CENTRAL_DIRECTORY) {
      throw new Error(`corrupt zip: no ZIP64 end-of-central-directory record at byte ${record}`);
    }
    count = reader.u64(record + 32, 'ZIP64 entry count');
    size = reader.u64(record + 40, 'ZIP64 central directory size');
    offset = reader.u64(record + 48, 'ZIP64 central directory offset');
    end = record;
  } else if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    throw new Error('corrupt zip: the end-of-central-directory record defers to a ZIP64 record that is missing');
  }
  if (offset + size > end) {
    throw new Error(
      `truncated or corrupt zip: the central directory (${size} bytes at byte ${offset}) runs past byte ${end}, where the directory should end`,
    );
  }
  // Each directory entry takes at least 46 bytes: a count beyond that is corrupt (and would loop for nothing).
  if (count * 46 > size) throw new Error(`corrupt zip: ${count} entries cannot fit in a ${size}-byte central directory`);
  return { offset, size, count, end };
}

/** Replaces 32-bit sizes and offsets marked 0xFFFFFFFF with their values from the ZIP64 extra field. */
function applyZip64Extra(
  reader: ByteReader,
  extraStart: number,
  extraLength: number,
  fields: { uncompressedSize: number; compressedSize: number; localOffset: number },
  name: string,
): void {
  let at = extraStart;
  const extraEnd = extraStart + extraLength;
  while (at + 4 <= extraEnd) {
    const id = reader.u16(at);
    const length = reader.u16(at + 2);
    const body = at + 4;
    if (body + length > extraEnd) break;
    if (id === ZIP64_EXTRA_FIELD) {
      let next = body;
      const take = (what: string): number => {
        if (next + 8 > body + length) throw new Error(`corrupt zip: entry '${name}' has a short ZIP64 field for its ${what}`);
        const value = reader.u64(next, `entry '${name}' ${what}`);
        next += 8;
        return value;
      };
      // The field lists, in this order, only the values whose 32-bit slots hold 0xFFFFFFFF.
      if (fields.uncompressedSize === 0xffffffff) fields.uncompressedSize = take('uncompressed size');
      if (fields.compressedSize === 0xffffffff) fields.compressedSize = take('compressed size');
      if (fields.localOffset === 0xffffffff) fields.localOffset = take('local header offset');
      return;
    }
    at = body + length;
  }
  if (fields.uncompressedSize === 0xffffffff || fields.compressedSize === 0xffffffff || fields.localOffset === 0xffffffff) {
    throw new Error(`corrupt zip: entry '${name}' defers its sizes to a ZIP64 field that is missing`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function readEntry(reader: ByteReader, at: number, directory: CentralDirectory): [ZipEntry, number] {
  const directoryEnd = directory.offset + directory.size;
  if (at + 46 > directoryEnd || reader.u32(at) !== CENTRAL_DIRECTORY_ENTRY) {
    throw new Error(`corrupt zip: no central directory entry at byte ${at}`);
  }
  const flags = reader.u16(at + 8);
  const method = reader.u16(at + 10);
  const crc = reader.u32(at + 16);
  const nameLength = reader.u16(at + 28);
  const extraLength = reader.u16(at + 30);
  const commentLength = reader.u16(at + 32);
  const next = at + 46 + nameLength + extraLength + commentLength;
  if (next > directoryEnd) throw new Error(`corrupt zip: the central directory entry at byte ${at} runs past the directory`);
  const nameBytes = reader.bytes.subarray(at + 46, at + 46 + nameLength);
  const name = utf8.decode(nameBytes);
  const fields = { compressedSize: reader.u32(at + 20), uncompressedSize: reader.u32(at + 24), localOffset: reader.u32(at + 42) };
  applyZip64Extra(reader, at + 46 + nameLength, extraLength, fields, name);

  if (flags & 0x1) throw new Error(`entry '${name}' is encrypted; encrypted zips are not supported`);
  if (method !== STORED && method !== DEFLATED) {
    throw new Error(`entry '${name}' uses compression method ${method}; only stored (0) and deflate (8) are supported`);
  }

  const local = fields.localOffset;
  reader.need(local, 30, `the local header of '${name}'`);
  if (reader.u32(local) !== LOCAL_FILE_HEADER) throw new Error(`corrupt zip: no local header for '${name}' at byte ${local}`);
  const localNameLength = reader.u16(local + 26);
  const localExtraLength = reader.u16(local + 28);
  reader.need(local + 30, localNameLength, `the local name of '${name}'`);
  const localName = reader.bytes.subarray(local + 30, local + 30 + localNameLength);
  if (localName.length !== nameBytes.length || !localName.every((b, i) => b === nameBytes[i])) {
    throw new Error(`corrupt zip: the local header at byte ${local} does not name '${name}'`);
  }
  // PyTorch pads the local extra field so that data starts aligned; the data starts after it whatever its size.
  const dataOffset = local + 30 + localNameLength + localExtraLength;
  if (dataOffset + fields.compressedSize > directory.offset) {
    throw new Error(
      `truncated or corrupt zip: entry '${name}' (${fields.compressedSize} bytes at byte ${dataOffset}) runs into the central directory at byte ${directory.offset}`,
    );
  }
  if (method === STORED && fields.compressedSize !== fields.uncompressedSize) {
    throw new Error(
      `corrupt zip: stored entry '${name}' declares ${fields.uncompressedSize} bytes uncompressed but occupies ${fields.compressedSize}`,
    );
  }
  return [
    {
      name,
      method,
      compressedSize: fields.compressedSize,
      uncompressedSize: fields.uncompressedSize,
      crc32: crc,
      dataOffset,
    },
    next,
  ];
}

function checkInflatable(entry: ZipEntry): void {
  if (entry.uncompressedSize > MAX_INFLATED_ENTRY_BYTES) {
    throw new Error(
      `refusing to inflate entry '${entry.name}': it declares ${entry.uncompressedSize} bytes, more than the limit of ${MAX_INFLATED_ENTRY_BYTES}`,
    );
  }
  if (entry.uncompressedSize > entry.compressedSize * MAX_DEFLATE_RATIO + 1024) {
    throw new Error(
      `refusing to inflate entry '${entry.name}': it declares ${entry.uncompressedSize} bytes from ${entry.compressedSize} compressed, ` +
        'beyond what deflate can achieve (a zip bomb or a corrupt size)',
    );
  }
}

function inflateEntry(compressed: Uint8Array, entry: ZipEntry): Uint8Array {
  checkInflatable(entry);
  let inflated: Uint8Array;
  try {
    // The declared size bounds the output: inflating stops there, and data that would inflate to more is
    // reported below. One chunk of exactly that size: zlib then returns it as is, where smaller chunks
    // would be joined into a second buffer of the same size (twice the memory at the peak).
    const size = Math.max(64, entry.uncompressedSize);
    inflated = inflateRawSync(compressed, { maxOutputLength: size, chunkSize: size });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`corrupt zip: entry '${entry.name}' does not inflate to its declared ${entry.uncompressedSize} bytes (${reason})`);
  }
  if (inflated.length !== entry.uncompressedSize) {
    throw new Error(`corrupt zip: entry '${entry.name}' inflates to ${inflated.length} bytes, not its declared ${entry.uncompressedSize}`);
  }
  return inflated;
}

/**
 * Reads the central directory of the zip archive in `bytes`. Sizes and offsets are checked against the
 * file here; entry contents are read, inflated and CRC-checked by {@link ZipArchive.read}.
 *
 * @throws Error naming the problem for a file that is not a zip, is truncated, or is inconsistent.
 */
export function readZip(bytes: Uint8Array): ZipArchive {
  const reader = new ByteReader(bytes);
  const directory = readCentralDirectoryLocation(reader);
  const entries = new Map<string, ZipEntry>();
  let at = directory.offset;
  for (let i = 0; i < directory.count; i++) {
    const [entry, next] = readEntry(reader, at, directory);
    if (entries.has(entry.name)) throw new Error(`corrupt zip: entry '${entry.name}' appears twice`);
    entries.set(entry.name, entry);
    at = next;
  }
  return {
    entries,
    read(name: string): Uint8Array {
      const entry = entries.get(name);
      if (entry === undefined) throw new Error(`the zip has no entry '${name}'`);
      const compressed = bytes.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize);
      const data = entry.method === STORED ? compressed : inflateEntry(compressed, entry);
      const actual = crc32(data);
      if (actual !== entry.crc32) {
        throw new Error(
          `corrupt zip: entry '${name}' fails its CRC-32 check (recorded ${entry.crc32.toString(16)}, computed ${actual.toString(16)})`,
        );
      }
      return data;
    },
  };
}
