#!/usr/bin/env node
// The load test of examples/server: autocannon against 127.0.0.1, a fixed time per run, for each model at
// each concurrency, with batching (DynamicBatcher) and without. Requests are one sequence each, of 20 to
// 200 steps, sent as .npy. Writes bench/SERVING.md.
//
//   npm run bench:serving                                  # the full matrix: about 4 minutes
//   npm run bench:serving -- --duration 1 --warmup 0 --connections 1,8 --models demo --out /tmp/s.md   # a smoke test
//   node bench/serving/run.mjs --help
//
// Client and server share the machine: autocannon's own CPU time is part of what is measured, as it is
// for any load test run on the serving host. Only 127.0.0.1 is ever targeted.

import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { watchLoad } from '../machine_load.mjs';
import { MODELS, customModel, requestBodies } from './models.mjs';
import { buckets, mean, samples } from './prometheus.mjs';
import { markdown } from './report.mjs';
import { call, startServer } from './server-process.mjs';

const HELP = `Usage: node bench/serving/run.mjs [options]

  --models LIST         ${Object.keys(MODELS).join(', ')} (default both)
  --serve="ARGS"        instead, your own model, as the server's options: --serve="--model m.pt --prefix rnn."
                        or "--module m.mjs --weights m.pt --key model" (requests shaped from /health)
  --connections LIST    concurrencies (default 1,8,64,256)
  --duration S          seconds per run (default 5)
  --warmup S            seconds of load before each server's first run (default 1)
  --min-steps L         shortest request (default 20)
  --max-steps L         longest request (default 200)
  --batch-size N        the batching server's --batch-size (default 32)
  --batch-delay-ms MS   the batching server's --batch-delay-ms (default: lstm-b1 4, demo 0, yours 2;
                        about a tenth of one request's forward, as docs/DEPLOY.md advises)
  --threads N           the server without batching: its --threads (default 1; its requests run side by
                        side on libuv's pool, so each core already has one)
  --batched-threads N   the batching server's --threads (default: the server's own, every physical core:
                        it runs one packed forward at a time, which the engine splits across the cores)
  --out FILE            where to write the report (default bench/SERVING.md)`;

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: Object.keys(MODELS).join(',') },
    serve: { type: 'string' },
    connections: { type: 'string', default: '1,8,64,256' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    'min-steps': { type: 'string', default: '20' },
    'max-steps': { type: 'string', default: '200' },
    'batch-size': { type: 'string', default: '32' },
    'batch-delay-ms': { type: 'string' },
    threads: { type: 'string', default: '1' },
    'batched-threads': { type: 'string' },
    out: { type: 'string', default: fileURLToPath(new URL('../SERVING.md', import.meta.url)) },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

const list = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);
const positive = (name, text) => {
  const n = Number(text);
  if (!(n >= 0) || !Number.isFinite(n)) throw new Error(`--${name} must be a number, got '${text}'`);
  return n;
};
if (values.serve !== undefined) MODELS.yours = customModel(values.serve.split(/\s+/).filter(Boolean));
const models = values.serve !== undefined ? ['yours'] : list(values.models);
for (const name of models) if (!(name in MODELS)) throw new Error(`--models: no model '${name}'; there are ${Object.keys(MODELS).join(', ')}`);
const connections = list(values.connections).map((c) => positive('connections', c));
const duration = positive('duration', values.duration);
const warmup = positive('warmup', values.warmup);
const minSteps = positive('min-steps', values['min-steps']);
const maxSteps = positive('max-steps', values['max-steps']);
const batchSize = positive('batch-size', values['batch-size']);
const delayOption = values['batch-delay-ms'] === undefined ? undefined : positive('batch-delay-ms', values['batch-delay-ms']);

// Without batching and with it. Answers in flight may hold up to 1 GiB: at 256 connections the lstm-b1
// model's answers (up to 200 × 1024 float32 each) pass the default 128 MiB, and a 503 is not what is measured.
const serverArgs = (delayMs) => ({
  alone: ['--batch-size', '1', '--threads', values.threads],
  batched: [
    '--batch-size',
    String(batchSize),
    '--batch-delay-ms',
    String(delayMs),
    ...(values['batched-threads'] === undefined ? [] : ['--threads', values['batched-threads']]),
  ],
});
const SERVERS = serverArgs(0);
const COMMON = ['--metrics-reset', '--max-in-flight', String(2 ** 30)];

const runCount = models.length * connections.length * Object.keys(SERVERS).length;
console.log(
  `${runCount} runs of ${duration} s, plus ${warmup} s of warm-up per server: about ` +
    `${Math.ceil((runCount * duration + models.length * Object.keys(SERVERS).length * warmup) / 60)} min`,
);

/** Resident memory of a process, in bytes (Linux /proc; undefined elsewhere). */
function rss(pid) {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** Samples the server's RSS every 200 ms until stopped; the largest seen. */
function watchRss(pid) {
  let peak = rss(pid);
  const timer = setInterval(() => {
    const now = rss(pid);
    if (now !== undefined && (peak === undefined || now > peak)) peak = now;
  }, 200);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

/** autocannon cycling through `bodies`, one request per connection at a time. */
function load(url, bodies, connections, seconds) {
  let next = 0;
  return autocannon({
    url: `${url}/predict`,
    method: 'POST',
    headers: { 'content-type': 'application/x-npy' },
    connections,
    duration: seconds,
    // A request that takes longer than this counts as a timeout, not a latency.
    timeout: 30,
    requests: [
      {
        setupRequest(request) {
          request.body = bodies[next++ % bodies.length];
          return request;
        },
      },
    ],
  });
}

const command = `npm run bench:serving${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const loadBefore = os.loadavg();
const started = new Date();
const runs = [];
const described = {};
let health;
let batchedThreads;

for (const name of models) {
  const model = MODELS[name];
  const prepared = await model.prepare();
  const batchDelayMs = delayOption ?? model.batchDelayMs;
  // Both servers run from the start, idle while the other is measured, and the runs alternate between them
  // at each concurrency: on a shared machine the load drifts, and alternating makes the drift hit the
  // compared rows alike instead of all of one server's.
  const instances = {};
  try {
    for (const [server, args] of Object.entries(serverArgs(batchDelayMs))) instances[server] = await startServer([...prepared.args, ...COMMON, ...args]);
    const modelHealth = JSON.parse(await call(instances.alone.url, '/health'));
    health ??= modelHealth;
    batchedThreads ??= JSON.parse(await call(instances.batched.url, '/health')).threads;
    const { bodies, meanSteps } = requestBodies(model, minSteps, maxSteps, modelHealth);
    described[name] = { text: model.describe, meanSteps, batchDelayMs };
    described[name].idleRss = Object.fromEntries(Object.entries(instances).map(([server, instance]) => [server, rss(instance.pid)]));
    if (warmup > 0) for (const instance of Object.values(instances)) await load(instance.url, bodies, 8, warmup);
    for (const c of connections) {
      for (const server of Object.keys(SERVERS)) {
        const instance = instances[server];
        await call(instance.url, '/metrics/reset', 'POST');
        const watch = watchLoad([instance.pid]);
        const stopRss = watchRss(instance.pid);
        const result = await load(instance.url, bodies, c, duration);
        const peakRss = stopRss();
        const busy = watch.stop();
        const metrics = samples(await call(instance.url, '/metrics'));
        // prom-client's figure covers the time since the reset and includes the monitor's 1 ms period.
        const loopP99 = metrics.get('nodejs_eventloop_lag_p99_seconds');
        const run = {
          model: name,
          server,
          connections: c,
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          loopP99: Number.isFinite(loopP99) ? Math.max(0, loopP99 * 1000 - 1) : null,
          batchSizes: buckets(metrics, 'torchrnn_batch_size'),
          meanBatch: mean(metrics, 'torchrnn_batch_size'),
          queueWaitMs: (mean(metrics, 'torchrnn_batch_queue_wait_seconds') ?? NaN) * 1000,
          forwardMs: (mean(metrics, 'torchrnn_forward_seconds') ?? NaN) * 1000,
          peakRss,
          otherCores: busy?.otherCores,
        };
        runs.push(run);
        const failed = run.errors + run.non2xx + run.timeouts;
        console.log(
          `${name.padEnd(8)} ${server.padEnd(7)} c=${String(c).padEnd(3)} ${run.rps.toFixed(1).padStart(7)} req/s  ` +
            `p50 ${run.p50} ms  p99 ${run.p99} ms  loop p99 ${run.loopP99?.toFixed(2)} ms  batch ${run.meanBatch?.toFixed(2)}  ` +
            `forward ${run.forwardMs.toFixed(1)} ms  rss ${((peakRss ?? 0) / 2 ** 20).toFixed(0)} MB  ` +
            `others busy ${busy ? busy.otherCores.toFixed(2) : '?'}${failed > 0 ? `  FAILURES ${run.errors}/${run.non2xx}/${run.timeouts}` : ''}`,
        );
      }
    }
  } finally {
    for (const instance of Object.values(instances)) await instance.stop();
    prepared.cleanup();
  }
}

const info = {
  command,
  date: started.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'),
  loadBefore,
  loadAfter: os.loadavg(),
  duration,
  warmup,
  minSteps,
  maxSteps,
  batchSize,
  threads: Number(values.threads),
  batchedThreads,
  health,
  models: described,
  autocannon: createRequire(import.meta.url)('autocannon/package.json').version,
};
writeFileSync(values.out, markdown(runs, info));
console.log(`wrote ${values.out}`);
if (runs.some((r) => r.errors + r.non2xx + r.timeouts > 0)) process.exitCode = 1;
