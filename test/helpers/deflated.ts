/**
 * Deflate streams of data too large to hold: a prefix, then a unit repeated, so that a test can build a
 * small file that inflates to hundreds of megabytes (the memory bombs) in milliseconds.
 *
 * A deflate stream is a sequence of blocks. Deflating a piece with a full flush ends its blocks on a byte
 * boundary and forgets the history, so the blocks of a piece are the same wherever it stands: a megabyte
 * of the repeated unit is deflated once and its blocks written as many times as needed, then a final
 * empty block ends the stream.
 */
import * as zlib from 'zlib';
import type { DeflatedBody } from './zip_writer';

function flushed(piece: Uint8Array): Buffer {
  return zlib.deflateRawSync(piece, { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });
}

/** `prefix` followed by `unit` repeated `count` times, deflated; `unit` should be small. */
export function deflatedRepeat(prefix: Uint8Array, unit: Uint8Array, count: number): DeflatedBody {
  const perChunk = Math.max(1, Math.floor(2 ** 20 / unit.length));
  const chunk = Buffer.alloc(perChunk * unit.length);
  for (let i = 0; i < perChunk; i++) chunk.set(unit, i * unit.length);
  const chunkBlocks = flushed(chunk);
  const parts: Buffer[] = [flushed(prefix)];
  let crc = zlib.crc32(prefix);
  for (let left = count; left > 0; left -= perChunk) {
    const piece = left >= perChunk ? chunk : chunk.subarray(0, left * unit.length);
    crc = zlib.crc32(piece, crc);
    parts.push(piece === chunk ? chunkBlocks : flushed(piece));
  }
  parts.push(zlib.deflateRawSync(Buffer.alloc(0))); // the final, empty block
  return { body: Buffer.concat(parts), size: prefix.length + unit.length * count, crc };
}
