// Memory-leak check: runs `count` forward and `count` forwardAsync calls on a tiny model, plus as many
// cell steps and packed-sequence calls, and reports how much the resident set grew after a warm-up.
// A leak of even a few bytes per call (an unreleased result buffer, a worker never deleted, a persistent
// handle) shows as megabytes over 100 000 calls.
//
//   npx tsc -p tsconfig.build.json && node --expose-gc scripts/leak-check.mjs 100000
//
// Prints one JSON line; exits 1 when the growth reaches the limit (default 10 MB, --limit-mb=N).
import { createRequire } from 'module';
import * as path from 'path';
import { fileURLToPath } from 'url';

const require = createRequire(import.meta.url);
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { GRU, LSTMCell, Tensor, packSequence } = require(path.join(root, 'dist', 'index.js'));

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc: the check collects garbage before each measurement');
  process.exit(2);
}

const count = Number(process.argv[2] ?? 100_000);
const limitArg = process.argv.find((a) => a.startsWith('--limit-mb='));
// --only=forward,forwardAsync,... narrows the run to some kinds of call, to find which one leaks.
const onlyArg = process.argv.find((a) => a.startsWith('--only='));
const KINDS = ['forward', 'forwardAsync', 'cellForward', 'cellForwardAsync', 'packedForward', 'packedForwardAsync'];
const kinds = new Set(onlyArg ? onlyArg.slice('--only='.length).split(',') : KINDS);
for (const k of kinds) if (!KINDS.includes(k)) { console.error(`unknown kind ${k}; kinds: ${KINDS.join(', ')}`); process.exit(2); }
const limitMB = limitArg ? Number(limitArg.slice('--limit-mb='.length)) : 10;
if (!Number.isInteger(count) || count < 1) {
  console.error(`usage: node --expose-gc scripts/leak-check.mjs <count> [--limit-mb=N]; got ${process.argv[2]}`);
  process.exit(2);
}

// Tiny weights, but results of a few kilobytes: a leaked result buffer then shows within a few thousand calls.
const gru = new GRU(4, 8, 2).eval();
const cell = new LSTMCell(4, 8);
const x = Tensor.ones([50, 2, 4]);
const h0 = Tensor.zeros([2, 2, 8]);
const step = Tensor.ones([16, 4]);
const packed = packSequence([Tensor.ones([50, 4]), Tensor.ones([30, 4])]);

/** `n` rounds of every kind of call; async calls run 32 at a time, as a server would issue them. */
async function run(n) {
  for (let i = 0; i < n; i++) {
    if (kinds.has('forward')) gru.forward(x, h0);
    if (kinds.has('cellForward')) cell.forward(step);
    if (kinds.has('packedForward')) gru.forward(packed);
  }
  for (let done = 0; done < n; ) {
    const batch = Math.min(32, n - done);
    const calls = [];
    for (let j = 0; j < batch; j++) {
      if (kinds.has('forwardAsync')) calls.push(gru.forwardAsync(x, h0));
      if (kinds.has('cellForwardAsync')) calls.push(cell.forwardAsync(step));
      if (kinds.has('packedForwardAsync')) calls.push(gru.forwardAsync(packed));
    }
    await Promise.all(calls);
    done += batch;
  }
}

async function settledRss() {
  // Several passes: the first may only schedule finalizers of native-backed buffers.
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().rss;
}

const started = Date.now();
// Warm-up as long as the measured run: JIT, the thread pool, allocator arenas, and V8 growing its young
// generation to its working size, which is a one-off step, not a leak.
await run(Math.max(2_000, count));
const before = await settledRss();
await run(count);
const after = await settledRss();
const growthMB = (after - before) / 2 ** 20;
const report = {
  count,
  callsPerKind: Object.fromEntries([...kinds].map((k) => [k, count])),
  rssBeforeMB: +(before / 2 ** 20).toFixed(1),
  rssAfterMB: +(after / 2 ** 20).toFixed(1),
  growthMB: +growthMB.toFixed(2),
  heapUsedMB: +(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1),
  externalMB: +(process.memoryUsage().external / 2 ** 20).toFixed(1),
  limitMB,
  seconds: +((Date.now() - started) / 1000).toFixed(1),
};
console.log(JSON.stringify(report));
process.exit(growthMB < limitMB ? 0 : 1);
