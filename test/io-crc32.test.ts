/**
 * The CRC-32 that checks zip entries: zlib's where Node.js has it, the table code elsewhere. Both must
 * give the same numbers, for any length and for views into a larger buffer (entries are subarrays of the
 * whole file), and the fallback must be what a Node.js without zlib.crc32 gets.
 */
import * as zlib from 'zlib';
import { crc32, tableCrc32, zlibCrc32 } from '../lib/io/crc32';
import { seededRandom } from './helpers/seeded';

function randomBytes(length: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** Whether this Node.js is one that ships zlib.crc32 (20.15 or newer in 20, 22.2 or newer, 23 on). */
function nodeHasZlibCrc32(): boolean {
  const [major, minor] = process.versions.node.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 2) || (major === 20 && minor >= 15);
}

describe.each([
  ['the table code', tableCrc32],
  ['crc32', crc32],
])('%s', (_name, checksum) => {
  it('gives the catalogue check value of CRC-32/ISO-HDLC, and 0 for nothing', () => {
    expect(checksum(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(checksum(new Uint8Array(0))).toBe(0);
  });

  it('returns an unsigned 32-bit number', () => {
    // 0xffffffff: the CRC of four 0xff bytes has the top bit set.
    expect(checksum(new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toBe(0xffffffff);
  });
});

describe('zlib and the table code', () => {
  it('agree on every length from 0 to 300 and on a large buffer', () => {
    const bytes = randomBytes(1 << 20, 17);
    const differing: number[] = [];
    for (let length = 0; length <= 300; length++) {
      const view = bytes.subarray(0, length);
      if (crc32(view) !== tableCrc32(view)) differing.push(length);
    }
    expect(differing).toEqual([]);
    expect(crc32(bytes)).toBe(tableCrc32(bytes));
  });

  it('agree on views that start inside a larger buffer', () => {
    const bytes = randomBytes(4096, 5);
    for (const [start, end] of [[1, 4096], [3, 70], [4095, 4096], [1000, 1000], [7, 4093]]) {
      const view = bytes.subarray(start, end);
      expect(crc32(view)).toBe(tableCrc32(view));
      expect(crc32(view)).toBe(tableCrc32(Uint8Array.from(view)));
    }
  });
});

describe('the choice of implementation', () => {
  it("is zlib's where this Node.js has it, and the table code otherwise", () => {
    expect(zlibCrc32 !== undefined).toBe(nodeHasZlibCrc32());
    expect(crc32 === tableCrc32).toBe(zlibCrc32 === undefined);
  });

  it('falls back to the table code where zlib has no crc32', () => {
    jest.isolateModules(() => {
      jest.doMock('zlib', () => ({ ...zlib, crc32: undefined }));
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fallback = require('../lib/io/crc32') as typeof import('../lib/io/crc32');
      expect(fallback.zlibCrc32).toBeUndefined();
      expect(fallback.crc32).toBe(fallback.tableCrc32);
      expect(fallback.crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    });
    jest.dontMock('zlib');
  });
});
