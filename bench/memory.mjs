// Peak resident memory per engine and case. One process cannot say which engine its peak belongs to, so
// each engine runs the case in a fresh process of its own: it loads the engine (the "baseline" peak RSS),
// builds the model and runs one forward (the "peak" RSS). The difference is what the model, its packed
// weights and its working memory cost; the peak includes the runtime itself (Node or Python, the addon or
// library). Measured at one thread, outside the timing, so it never disturbs the times.
//
// As a script, `node memory.mjs torchrnn|ort <json>` is that fresh process for the Node engines; PyTorch's
// is a fresh torch_peer.py.

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { TorchWorker } from './peers/torch.mjs';

const SELF = fileURLToPath(import.meta.url);
/**
 * This process's peak RSS in KiB. On Linux it is VmHWM of /proc/self/status, the high-water mark of this
 * program image: getrusage's maxRSS would not do, since a child starts with its parent's maxRSS (the
 * figure survives fork and exec), and the benchmark's parent holds every case's buffers.
 */
function maxRssKiB() {
  try {
    const hwm = readFileSync('/proc/self/status', 'utf8').match(/^VmHWM:\s*(\d+) kB/m);
    if (hwm) return Number(hwm[1]);
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS;
}

/** Runs the Node engine `engine` on `args` in a fresh process; { baselineKiB, peakKiB }. */
function probeNode(engine, args) {
  const out = execFileSync(process.execPath, [SELF, engine, JSON.stringify(args)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop());
}

/**
 * Peak RSS for each engine on case `c`: `torchrnn` (args for its probe), `ortModelPath` (the .onnx file,
 * or undefined), `torch` (undefined or { params, x, dir }: what TorchWorker.load takes).
 * Returns { torchrnn, ort?, torch? }, each { baselineKiB, peakKiB } or { error }.
 */
export async function peakRss(c, { seed, ortModelPath, torch }) {
  const result = {};
  const attempt = async (key, fn) => {
    try {
      result[key] = await fn();
    } catch (err) {
      result[key] = { error: err.message.split('\n')[0] };
    }
  };
  await attempt('torchrnn', () => probeNode('torchrnn', { case: c, seed }));
  if (ortModelPath) await attempt('ort', () => probeNode('ort', { case: c, modelPath: ortModelPath, seed }));
  if (torch) {
    await attempt('torch', async () => {
      const w = new TorchWorker();
      try {
        const baselineKiB = (await w.request({ cmd: 'rss' })).maxrss_kib;
        await w.request({ cmd: 'threads', n: 1 });
        await w.load(c, torch.params, torch.x, torch.dir);
        await w.request({ cmd: 'time', reps: 1 });
        return { baselineKiB, peakKiB: (await w.request({ cmd: 'rss' })).maxrss_kib };
      } finally {
        await w.close();
      }
    });
  }
  return result;
}

// ---- the fresh process ------------------------------------------------------------------------------

async function child(engine, args) {
  const { randomInput } = await import('./cases.mjs');
  const c = args.case;
  const x = randomInput(c, args.seed);
  if (engine === 'torchrnn') {
    const torchrnn = await import('./peers/torchrnn.mjs');
    const t = await torchrnn.loadTorchrnn({ retries: 0 });
    t.setThreads(1);
    const baselineKiB = maxRssKiB();
    const m = torchrnn.makeModule(t, c, args.seed);
    m.forward(new t.lib.Tensor(x, [c.T, c.N, c.input_size]));
    return { baselineKiB, peakKiB: maxRssKiB() };
  }
  if (engine === 'ort') {
    const ortPeers = await import('./peers/ort.mjs');
    const o = ortPeers.loadOrt();
    if (o.missing) throw new Error(o.missing);
    const baselineKiB = maxRssKiB();
    const session = await ortPeers.createSession(o, readFileSync(args.modelPath), 1);
    await ortPeers.ortPeer(o, session, c, x).output();
    return { baselineKiB, peakKiB: maxRssKiB() };
  }
  throw new Error(`unknown engine ${engine}`);
}

if (process.argv[1] === SELF) {
  const [engine, json] = process.argv.slice(2);
  const r = await child(engine, JSON.parse(json));
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
