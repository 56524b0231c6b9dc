/**
 * The addon in several worker_threads at once: each worker loads its own instance of the addon (N-API
 * per-environment state), builds a model from the same state dict, and runs forward and forwardAsync
 * concurrently with the others; the results must be exactly the main thread's. Then the process must exit
 * by itself with status 0: a worker that never terminates, a thread pool that keeps the process alive or
 * a crash at environment teardown (addon cleanup hooks) would show here.
 *
 * It all runs in a child process so that a hang or a crash is observed, not suffered by jest.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const DIST = path.join(__dirname, '..', 'dist', 'index.js');
const WORKERS = 4;

/** The child: main thread and workers run the same function over the same seeded inputs. */
const CHILD = `
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const torchrnn = require(${JSON.stringify(DIST)});
const { LSTM, GRU, GRUCell, Tensor, manualSeed, packSequence } = torchrnn;

/** A deterministic input of the given shape (no shared generator state between threads). */
function input(shape, seed) {
  const t = Tensor.zeros(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = Math.sin(seed * 13.7 + i * 0.37);
  return t;
}

/** Everything one thread computes, as plain arrays. */
async function compute(stateDicts) {
  const lstm = new LSTM(5, 8, 2, { bidirectional: true }).eval();
  lstm.loadStateDict(stateDicts.lstm);
  const gru = new GRU(5, 8).eval();
  gru.loadStateDict(stateDicts.gru);
  const cell = new GRUCell(5, 8);
  cell.loadStateDict(stateDicts.cell);
  const x = input([7, 3, 5], 1);
  const [out, [h, c]] = lstm.forward(x);
  // Several calls in flight at once on the shared libuv pool and the engine's threads.
  const asyncResults = await Promise.all([
    lstm.forwardAsync(x),
    gru.forwardAsync(x),
    gru.forwardAsync(packSequence([input([4, 5], 2), input([2, 5], 3)])),
    cell.forwardAsync(input([3, 5], 4)),
  ]);
  const [[outA, [hA, cA]], [gOut, gH], [pOut, pH], cH] = asyncResults;
  const flat = (t) => Array.from(t.data);
  return {
    lstm: [flat(out), flat(h), flat(c)],
    lstmAsync: [flat(outA), flat(hA), flat(cA)],
    gru: [flat(gOut), flat(gH), flat(gru.forward(x)[0])],
    packed: [flat(pOut.data), flat(pH)],
    cell: [flat(cH), flat(cell.forward(input([3, 5], 4)))],
  };
}

function stateDictsToPlain(sds) {
  const plain = {};
  for (const [name, sd] of Object.entries(sds)) {
    plain[name] = Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, { data: Array.from(t.data), shape: t.shape }]));
  }
  return plain;
}

function plainToStateDicts(plain) {
  const sds = {};
  for (const [name, sd] of Object.entries(plain)) {
    sds[name] = Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, new Tensor(Float32Array.from(t.data), t.shape)]));
  }
  return sds;
}

if (isMainThread) {
  (async () => {
    manualSeed(7);
    const sds = {
      lstm: new LSTM(5, 8, 2, { bidirectional: true }).stateDict(),
      gru: new GRU(5, 8).stateDict(),
      cell: new GRUCell(5, 8).stateDict(),
    };
    const plain = stateDictsToPlain(sds);
    const workers = Array.from({ length: ${WORKERS} }, () => new Worker(__filename, { workerData: plain }));
    const fromWorkers = await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
      w.once('exit', (code) => code !== 0 && reject(new Error('worker exited with ' + code)));
    })));
    const mine = await compute(plainToStateDicts(plain));
    const same = fromWorkers.map((r) => JSON.stringify(r) === JSON.stringify(mine));
    const finite = mine.lstm[0].every(Number.isFinite) && mine.lstm[0].some((v) => v !== 0);
    process.stdout.write(JSON.stringify({ workers: fromWorkers.length, same, finite, backend: torchrnn.backend() }));
    // No process.exit: the process must end on its own once the workers are done.
  })().catch((e) => { console.error(e); process.exitCode = 1; });
} else {
  compute(plainToStateDicts(workerData)).then((r) => parentPort.postMessage(r));
}
`;

describe('worker_threads', () => {
  it(`${WORKERS} workers load the addon, compute what the main thread computes, and the process exits cleanly`, () => {
    // A file rather than -e: the workers run the same script (new Worker(__filename)).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchrnn-workers-'));
    const script = path.join(dir, 'workers-child.js');
    fs.writeFileSync(script, CHILD);
    let result: ReturnType<typeof spawnSync>;
    try {
      result = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // A timeout shows as signal SIGTERM: the process did not exit on its own.
    expect({ status: result.status, signal: result.signal, stderr: result.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    const report = JSON.parse(String(result.stdout)) as { workers: number; same: boolean[]; finite: boolean };
    expect(report.workers).toBe(WORKERS);
    expect(report.same).toEqual(Array(WORKERS).fill(true));
    expect(report.finite).toBe(true);
  }, 90_000);

  it('a worker terminated while its forwardAsync calls are in flight does not take the process down', () => {
    // terminate() tears down the worker's environment with AsyncWorkers still queued or running on the
    // libuv pool: their completion must not touch the dead environment.
    const child = `
      const { Worker } = require('worker_threads');
      const code = \`
        const { LSTM, Tensor } = require(${JSON.stringify(DIST)});
        const lstm = new LSTM(16, 64, 2).eval();
        const x = Tensor.ones([200, 4, 16]);
        for (let i = 0; i < 16; i++) lstm.forwardAsync(x);
        require('worker_threads').parentPort.postMessage('started');
      \`;
      let rounds = 0;
      const round = () => {
        const w = new Worker(code, { eval: true });
        w.once('message', () => w.terminate().then(() => (++rounds < 8 ? round() : process.stdout.write('done ' + rounds))));
        w.once('error', (e) => { console.error(e); process.exitCode = 1; });
      };
      round();
    `;
    const result = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8', timeout: 60_000 });
    expect({ status: result.status, signal: result.signal, stderr: result.stderr, stdout: result.stdout }).toEqual({
      status: 0,
      signal: null,
      stderr: '',
      stdout: 'done 8',
    });
  }, 90_000);
});
