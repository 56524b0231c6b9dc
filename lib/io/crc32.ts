/**
 * CRC-32 (the ISO-HDLC polynomial zip uses), to tell a damaged zip entry from a good one.
 *
 * Checking every entry dominates the time a large checkpoint takes to load, so this uses zlib's own
 * CRC-32 (SIMD-accelerated C, in Node.js from 20.15 and 22.2) where the running Node.js has it, and a
 * table-driven one in JavaScript elsewhere (Node.js 18, older 20s and 22s, runtimes without it).
 *
 * @packageDocumentation
 */
import * as zlib from 'zlib';

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * The CRC-32 of `bytes`, computed in JavaScript one byte at a time from a table: what {@link crc32}
 * falls back to where zlib has no `crc32`. Exported so that both can be checked against each other.
 */
export function tableCrc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * zlib's CRC-32, or undefined where this Node.js predates it. (@types/node declares it unconditionally;
 * Node.js 18, and 20 and 22 before 20.15 and 22.2, do not have it.)
 */
export const zlibCrc32: ((data: Uint8Array) => number) | undefined = (zlib as { crc32?: (data: Uint8Array) => number })
  .crc32;

/** The CRC-32 of `bytes`, as an unsigned 32-bit number (what zip headers record). */
export const crc32: (bytes: Uint8Array) => number =
  zlibCrc32 === undefined ? tableCrc32 : (bytes) => zlibCrc32(bytes) >>> 0;
