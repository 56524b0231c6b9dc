// Throughput of the two CRC-32 implementations in lib/io/crc32.ts (zlib's, where Node.js has it, and the
// table code it falls back to), on one buffer the size of a mid-sized checkpoint. Needs dist/ (npm run
// build:ts). Prints MiB/s, the best of a few runs of each.
//
//   node scripts/crc32-speed.mjs [MiB]
import { createRequire } from 'module';

const require = createRequire(import.meta.url);
const { crc32, tableCrc32, zlibCrc32 } = require('../dist/io/crc32.js');

const mib = Number(process.argv[2] ?? 64);
const bytes = new Uint8Array(mib * 1024 * 1024);
for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;

function best(fn, runs) {
  let fastest = Infinity;
  let value = 0;
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint();
    value = fn(bytes);
    fastest = Math.min(fastest, Number(process.hrtime.bigint() - start) / 1e9);
  }
  return { mibPerSecond: mib / fastest, value };
}

const table = best(tableCrc32, 3);
console.log(`Node.js ${process.versions.node}, ${mib} MiB`);
console.log(`table code:   ${table.mibPerSecond.toFixed(0)} MiB/s`);
if (zlibCrc32 === undefined) {
  console.log('zlib.crc32:   absent in this Node.js (crc32 is the table code)');
} else {
  const zlib = best(crc32, 10);
  if (zlib.value !== table.value) throw new Error(`the two disagree: ${zlib.value} and ${table.value}`);
  console.log(`zlib.crc32:   ${zlib.mibPerSecond.toFixed(0)} MiB/s (${(zlib.mibPerSecond / table.mibPerSecond).toFixed(1)}x)`);
}
