// bench/SERVING.md from the runs of bench/serving/run.mjs: every number in it comes from that one run.

import os from 'node:os';

const fmt = (x, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits));
const mb = (bytes) => (bytes === undefined || bytes === null ? '—' : (bytes / 2 ** 20).toFixed(0));

/** `1: 40, 2: 3, 17–32: 12` (batches of each size range) from non-cumulative histogram buckets; empty ones left out. */
function distribution(batchSizes) {
  const parts = [];
  let previous = 0;
  for (const [le, n] of Object.entries(batchSizes)) {
    const range = le === '+Inf' ? `>${previous}` : Number(le) === previous + 1 ? le : `${previous + 1}–${le}`;
    if (n > 0) parts.push(`${range}: ${n}`);
    previous = Number(le);
  }
  return parts.length > 0 ? parts.join(', ') : '—';
}

const find = (runs, model, server, connections) => runs.find((r) => r.model === model && r.server === server && r.connections === connections);

/** The three targets, checked against this run where it measured them. */
function verdicts(runs, info) {
  const lines = [];
  const delay = info.models['lstm-b1']?.batchDelayMs;
  const at = (model, c) => [find(runs, model, 'alone', c), find(runs, model, 'batched', c)];
  const [alone64, batched64] = at('lstm-b1', 64);
  if (alone64 && batched64 && alone64.rps > 0) {
    const gain = batched64.rps / alone64.rps;
    lines.push(`- **Throughput at concurrency 64, lstm-b1**: ${fmt(batched64.rps, 1)} req/s batched against ${fmt(alone64.rps, 1)} alone, ${fmt(gain, 2)}× (target ≥ 4×: ${gain >= 4 ? 'met' : 'not met'}).`);
    const bound = delay + 2 * batched64.forwardMs;
    lines.push(
      `- **p99 at concurrency 64, lstm-b1, batched**: ${fmt(batched64.p99, 0)} ms against maxDelayMs + 2 × the mean forward of a batch at that load ` +
        `(${delay} + 2 × ${fmt(batched64.forwardMs, 0)} = ${fmt(bound, 0)} ms; target: at most that: ${batched64.p99 <= bound ? 'met' : 'not met'}).`,
    );
  }
  for (const model of [...new Set(runs.map((r) => r.model))]) {
    const [alone1, batched1] = at(model, 1);
    if (!alone1 || !batched1 || !(alone1.p50 > 0)) continue;
    const cost = batched1.p50 / alone1.p50 - 1;
    lines.push(
      `- **Latency at concurrency 1, ${model}**: p50 ${fmt(batched1.p50, 2)} ms batched against ${fmt(alone1.p50, 2)} ms alone, ` +
        `${cost >= 0 ? '+' : '−'}${fmt(Math.abs(cost) * 100, 0)}% (target: batching costs ≤ 10%: ${cost <= 0.1 ? 'met' : 'not met'}).`,
    );
  }
  return lines;
}

export function markdown(runs, info) {
  const h = info.health;
  const cpu = os.cpus();
  const load = (l) => l.map((x) => x.toFixed(2)).join(', ');
  const busiest = Math.max(0, ...runs.map((r) => r.otherCores ?? 0));
  const out = [];
  out.push('# Serving: examples/server under load, with and without batching', '');
  out.push(`Written by \`bench/serving/run.mjs\` on ${info.date}; every number below comes from that one run. Reproduce with:`, '', '```sh', info.command, '```', '');
  out.push('## Setup', '');
  for (const [name, model] of Object.entries(info.models)) {
    out.push(`- **${name}**: ${model.text}. Batched with \`--batch-delay-ms ${model.batchDelayMs}\`. Idle RSS after start: ${mb(model.idleRss?.alone)} MB.`);
  }
  out.push(
    `- Requests: one sequence each, ${info.minSteps} to ${info.maxSteps} steps (64 bodies cycled, mean ` +
      `${Object.values(info.models).map((m) => fmt(m.meanSteps, 0)).join(' / ')} steps), sent as \`.npy\`; answered as \`.npy\` (the output alone).`,
    `- Servers: one process each, UV_THREADPOOL_SIZE ${h?.uvThreadpoolSize ?? '?'}, backend \`${h?.backend ?? '?'}\`. ` +
      `"alone": \`--batch-size 1 --threads ${info.threads}\`, every request its own forward (up to UV_THREADPOOL_SIZE at once, side by side on the cores). ` +
      `"batched": \`--batch-size ${info.batchSize}\` and the delay above, \`--threads ${info.batchedThreads ?? '?'}\`: requests packed by DynamicBatcher into one forward at a time, which the engine splits across the cores.`,
    `- Client: autocannon ${info.autocannon}, in another process on the same machine, against 127.0.0.1; ` +
      `${info.duration} s per run after ${info.warmup} s of warm-up per server; one request per connection at a time.`,
    `- Machine: ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, Node ${process.version}, ${os.type()} ${os.release()}. Client and server share its cores.`,
    `- Load average (1, 5, 15 min) before the run: ${load(info.loadBefore)}; after: ${load(info.loadAfter)}.`,
  );
  if (busiest > 0.1) {
    out.push(
      `- **The machine was shared: other processes kept up to ${fmt(busiest, 2)} of its ${cpu.length} cores busy during a run ` +
        '(column "others busy", from /proc/stat as bench/machine_load.mjs measures it). Compare rows of this run with each other, not with another machine.**',
    );
  }
  out.push('', '## Results', '');
  out.push(
    'req/s = mean of autocannon\'s per-second counts; p50 and p99 = latency seen by the client, ms; loop p99 = the ' +
      "server's event-loop delay, 99th percentile over the run, ms (prom-client's `nodejs_eventloop_lag_p99_seconds` less its 1 ms " +
      'sampling period); batch = mean sequences per forward, and their distribution from `torchrnn_batch_size`; ' +
      'forward = mean ms per forward (`torchrnn_forward_seconds`); wait = mean ms a request waited for its batch; ' +
      'RSS = the server\'s largest resident memory during the run, MB; others busy = cores other processes used meanwhile.',
    '',
  );
  for (const model of [...new Set(runs.map((r) => r.model))]) {
    out.push(`### ${model}`, '');
    out.push('| connections | server | req/s | p50 ms | p99 ms | loop p99 ms | batch | batch sizes | forward ms | wait ms | RSS MB | failed | others busy |');
    out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of runs.filter((x) => x.model === model)) {
      out.push(
        `| ${r.connections} | ${r.server} | ${fmt(r.rps, 1)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.loopP99, 2)} | ${fmt(r.meanBatch, 2)} | ` +
          `${distribution(r.batchSizes)} | ${fmt(r.forwardMs, 1)} | ${r.server === 'alone' ? '—' : fmt(r.queueWaitMs, 1)} | ${mb(r.peakRss)} | ` +
          `${r.errors + r.non2xx + r.timeouts} | ${fmt(r.otherCores, 2)} |`,
      );
    }
    out.push('');
  }
  const lines = verdicts(runs, info);
  if (lines.length > 0) out.push('## Against the targets', '', ...lines, '');
  return `${out.join('\n')}\n`;
}
