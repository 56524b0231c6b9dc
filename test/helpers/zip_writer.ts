/** Zip archives built in tests, laid out as the format specifies (local headers and data, central
 * directory, end record), with the knobs the loader's tests need to make them wrong on purpose. */
import { deflateRawSync } from 'zlib';
import { crc32 } from '../../lib/io/crc32';

/** One entry of an archive. */
export interface ZipEntry {
  name: string;
  data: Uint8Array;
  /** 0 stored (the default), 8 deflated; any other number is written as is. */
  method?: number;
  /** General purpose flags of the entry (bit 0: encrypted). */
  flags?: number;
  /** Record sizes and offset as 0xFFFFFFFF in the central directory, with the values in a ZIP64 extra field. */
  zip64?: boolean;
  /** Overrides the CRC-32 recorded in the central directory. */
  crc?: number;
  /** What the central directory claims the entry's sizes are, when it lies (implies `zip64`). */
  declaredSize?: number;
  declaredCompressedSize?: number;
  /** An entry deflated elsewhere (too large to hold inflated): written as is, `data` ignored. */
  deflated?: DeflatedBody;
}

/** A deflate stream with the size and CRC-32 of what it inflates to. */
export interface DeflatedBody {
  body: Uint8Array;
  size: number;
  crc: number;
}

/** The bytes of an archive holding `entries`, in order. */
export function buildZip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const method = entry.deflated !== undefined ? 8 : (entry.method ?? 0);
    const body = entry.deflated !== undefined ? Buffer.from(entry.deflated.body.buffer, entry.deflated.body.byteOffset, entry.deflated.body.byteLength) : (method === 8 ? deflateRawSync(entry.data) : Buffer.from(entry.data));
    const actualSize = entry.deflated?.size ?? entry.data.length;
    const crc = entry.crc ?? entry.deflated?.crc ?? crc32(entry.data);
    const size = entry.declaredSize ?? actualSize;
    const compressed = entry.declaredCompressedSize ?? body.length;
    const zip64 = entry.zip64 || entry.declaredSize !== undefined || entry.declaredCompressedSize !== undefined;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(entry.flags ?? 0, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(actualSize, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);

    const extra = Buffer.alloc(zip64 ? 28 : 0);
    if (zip64) {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(size), 4);
      extra.writeBigUInt64LE(BigInt(compressed), 12);
      extra.writeBigUInt64LE(BigInt(offset), 20);
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(45, 4);
    central.writeUInt16LE(45, 6);
    central.writeUInt16LE(entry.flags ?? 0, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(zip64 ? 0xffffffff : compressed, 20);
    central.writeUInt32LE(zip64 ? 0xffffffff : size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(extra.length, 30);
    central.writeUInt32LE(zip64 ? 0xffffffff : offset, 42);
    centrals.push(central, name, extra);
    offset += local.length + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
