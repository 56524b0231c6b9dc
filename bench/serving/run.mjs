#!/usr/bin/env node
// The load test of examples/server: autocannon against 127.0.0.1, a fixed time per run, at several
// concurrencies, with and without --coalesce, for JSON and .npy bodies. Writes bench/SERVING.md.
//
//   npm run bench:serving                       # the full matrix: ~2.5 minutes
//   npm run bench:serving -- --duration 3       # a quicker, noisier pass
//   node bench/serving/run.mjs --help
//
// Client and server share the machine: autocannon's own CPU time is part of what is measured, as it is
// for any load test run on the serving host. Only 127.0.0.1 is ever targeted.

import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
// By path: bench/ is its own package (torchrnn-bench), so the name 'torchrnn' does not resolve here.
import { Tensor, serializeNpy } from '../../esm/index.mjs';
import { watchLoad } from '../machine_load.mjs';
import { requestCosts } from './costs.mjs';
import { markdown } from './report.mjs';
import { call, startServer } from './server-process.mjs';

const HELP = `Usage: node bench/serving/run.mjs [options]

  --model FILE        model file (default examples/demo/model.safetensors)
  --prefix P          its layer prefix (default lstm.)
  --seq L             sequence length of each request (default 128)
  --batch N           sequences per request (default 1)
  --duration S        seconds per run (default 10)
  --warmup S          seconds of load before each server's first run (default 2)
  --connections LIST  concurrencies (default 1,8,64)
  --formats LIST      json, npy (default both)
  --servers LIST      direct, coalesce (default both)
  --threads N         the server's --threads (default 1)
  --out FILE          where to write the report (default bench/SERVING.md)`;

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'examples/demo/model.safetensors' },
    prefix: { type: 'string', default: 'lstm.' },
    seq: { type: 'string', default: '128' },
    batch: { type: 'string', default: '1' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '1,8,64' },
    formats: { type: 'string', default: 'json,npy' },
    servers: { type: 'string', default: 'direct,coalesce' },
    threads: { type: 'string', default: '1' },
    out: { type: 'string', default: fileURLToPath(new URL('../SERVING.md', import.meta.url)) },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

const list = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);
const seq = Number(values.seq);
const batch = Number(values.batch);
const duration = Number(values.duration);
const warmup = Number(values.warmup);
const connections = list(values.connections).map(Number);
const formats = list(values.formats);
const servers = list(values.servers);

const SERVER_ARGS = {
  direct: [],
  coalesce: ['--coalesce'],
};

/** The request bodies: one fixed input (seq, batch, inputSize), reproducible from its seed. */
function bodies(inputSize) {
  const x = Tensor.zeros([seq, batch, inputSize]);
  let state = 12345;
  for (let i = 0; i < x.data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    x.data[i] = state / 2 ** 31 - 1;
  }
  return {
    json: { body: JSON.stringify({ input: x.toArray() }), type: 'application/json' },
    npy: { body: Buffer.from(serializeNpy(x)), type: 'application/x-npy' },
  };
}

function load(url, body, connections, seconds) {
  return autocannon({
    url: `${url}/predict`,
    method: 'POST',
    headers: { 'content-type': body.type },
    body: body.body,
    connections,
    duration: seconds,
    // A request that takes longer than this counts as a timeout, not a latency.
    timeout: 30,
  });
}

const command = `npm run bench:serving${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const loadBefore = os.loadavg();
const started = new Date();
const runs = [];
let health;
let costs;

// Every server runs from the start, idle while another is measured, and the runs alternate between them
// at each format and concurrency: on a shared machine the load drifts, and alternating makes the drift
// hit the compared rows alike instead of all of one server's.
const instances = {};
try {
  for (const server of servers) {
    const args = ['--model', values.model, '--prefix', values.prefix, '--threads', values.threads, '--metrics-reset', ...SERVER_ARGS[server]];
    instances[server] = await startServer(args);
  }
  health = await call(instances[servers[0]].url, '/health');
  const requests = bodies(health.model.inputSize);
  costs = await requestCosts({
    model: values.model,
    prefix: values.prefix,
    threads: Number(values.threads),
    className: health.model.class,
    bodies: requests,
  });
  console.log('one request, ms:', JSON.stringify(costs));
  for (const format of formats) {
    if (warmup > 0) for (const server of servers) await load(instances[server].url, requests[format], 8, warmup);
    for (const c of connections) {
      for (const server of servers) {
        const instance = instances[server];
        await call(instance.url, '/metrics/reset', 'POST');
        const watch = watchLoad([instance.pid]);
        const result = await load(instance.url, requests[format], c, duration);
        const busy = watch.stop();
        const metrics = await call(instance.url, '/metrics');
        const run = {
          server,
          format,
          connections: c,
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          loopP99: metrics.eventLoopDelayMs.p99,
          loopMax: metrics.eventLoopDelayMs.max,
          meanBatch: metrics.forwards > 0 ? metrics.rows / metrics.forwards : null,
          otherCores: busy?.otherCores,
        };
        runs.push(run);
        console.log(
          `${server.padEnd(8)} ${format.padEnd(4)} c=${String(c).padEnd(3)} ${run.rps.toFixed(0).padStart(6)} req/s  ` +
            `p50 ${run.p50} ms  p99 ${run.p99} ms  loop p99 ${run.loopP99} ms  batch ${run.meanBatch?.toFixed(2)}  ` +
            `others busy ${busy ? busy.otherCores.toFixed(2) : '?'}${run.errors + run.non2xx + run.timeouts > 0 ? `  FAILURES ${run.errors}/${run.non2xx}/${run.timeouts}` : ''}`,
        );
      }
    }
  }
} finally {
  for (const instance of Object.values(instances)) await instance.stop();
}

const info = {
  command,
  date: started.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'),
  loadBefore,
  loadAfter: os.loadavg(),
  seq,
  batch,
  duration,
  warmup,
  threads: Number(values.threads),
  model: values.model,
  prefix: values.prefix,
  health,
  costs,
  autocannon: createRequire(import.meta.url)('autocannon/package.json').version,
};
writeFileSync(values.out, markdown(runs, info));
console.log(`wrote ${values.out}`);
if (runs.some((r) => r.errors + r.non2xx + r.timeouts > 0)) process.exitCode = 1;
