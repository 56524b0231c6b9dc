// bench/SERVING.md from the runs of bench/serving/run.mjs: every number in it comes from that one run.

import os from 'node:os';

const fmt = (x, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits));

/** Throughput with --coalesce over without, for one format and concurrency; undefined when either is missing. */
function gain(runs, format, connections) {
  const find = (server) => runs.find((r) => r.server === server && r.format === format && r.connections === connections);
  const direct = find('direct');
  const coalesce = find('coalesce');
  if (!direct || !coalesce || direct.rps === 0) return undefined;
  return coalesce.rps / direct.rps;
}

/**
 * One line per format on what coalescing did, from the measured ratios. A change counts when it is 10% or
 * more either way; at a concurrency where nothing was stacked (mean batch under 1.05) a loss is the
 * window's wait, not the batching.
 */
function verdicts(runs) {
  const formats = [...new Set(runs.map((r) => r.format))];
  const lines = [];
  for (const format of formats) {
    const levels = [...new Set(runs.filter((r) => r.format === format).map((r) => r.connections))];
    const rows = levels
      .map((c) => ({ c, g: gain(runs, format, c), batch: runs.find((r) => r.server === 'coalesce' && r.format === format && r.connections === c)?.meanBatch }))
      .filter((r) => r.g !== undefined);
    if (rows.length === 0) continue;
    const text = rows.map(({ c, g }) => `${g >= 1 ? '+' : '−'}${fmt(Math.abs(g - 1) * 100, 0)}% at ${c}`).join(', ');
    const stacked = rows.filter((r) => (r.batch ?? 1) >= 1.05);
    const up = stacked.filter((r) => r.g >= 1.1).map((r) => r.c);
    const down = stacked.filter((r) => r.g <= 0.9).map((r) => r.c);
    const idle = rows.filter((r) => (r.batch ?? 1) < 1.05).map((r) => r.c);
    let conclusion;
    if (up.length > 0 && down.length > 0) {
      conclusion = `no consistent effect: more throughput at concurrency ${up.join(', ')} and less at ${down.join(', ')}, more likely the machine's drift than the batching`;
    } else if (up.length > 0) {
      conclusion = `coalescing raised throughput by 10% or more at concurrency ${up.join(', ')}`;
    } else if (down.length > 0) {
      conclusion = `coalescing lowered throughput by 10% or more at concurrency ${down.join(', ')}`;
    } else {
      conclusion = 'coalescing changed throughput by less than 10% wherever it stacked requests';
    }
    if (idle.length > 0) conclusion += `; at concurrency ${idle.join(', ')} it had nothing to stack, and each request waited out the window`;
    lines.push(`- **${format}**: throughput with \`--coalesce\` against without: ${text} — ${conclusion}.`);
  }
  return lines;
}

export function markdown(runs, info) {
  const h = info.health;
  const cpu = os.cpus();
  const load = (l) => l.map((x) => x.toFixed(2)).join(', ');
  const busiest = Math.max(...runs.map((r) => r.otherCores ?? 0));
  const out = [];
  out.push('# Serving: examples/server under load', '');
  out.push(
    `Written by \`bench/serving/run.mjs\` on ${info.date}; every number below comes from that one run. ` +
      'Reproduce with:',
    '',
    '```sh',
    info.command,
    '```',
    '',
  );
  out.push('## Setup', '');
  out.push(
    `- Model: \`${info.model}\`, layer \`${info.prefix}\`: ${h.model.repr} ${h.model.dtype} (the demo model's recurrent layer). ` +
      `Each request is one input of shape (${info.seq}, ${info.batch}, ${h.model.inputSize}): ${info.seq} steps, batch ${info.batch}; ` +
      `the answer is the output (${info.seq}, ${info.batch}, ${h.model.hiddenSize}${h.model.bidirectional ? ' × 2' : ''}) — with h_n and c_n for JSON.`,
    `- Server: one process, \`--threads ${info.threads}\` (setNumThreads), UV_THREADPOOL_SIZE ${h.uvThreadpoolSize}, backend \`${h.backend}\`. ` +
      '"coalesce" adds `--coalesce` (window 1 ms, up to 16 sequences per forward).',
    `- Client: autocannon ${info.autocannon}, in another process on the same machine, against 127.0.0.1; ` +
      `${info.duration} s per run after ${info.warmup} s of warm-up per server and format; one request per connection at a time.`,
    `- Machine: ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, Node ${process.version}, ${os.type()} ${os.release()}. ` +
      'Client and server share its cores.',
    `- Load average (1, 5, 15 min) before the run: ${load(info.loadBefore)}; after: ${load(info.loadAfter)}.`,
  );
  if (busiest > 0.1) {
    out.push(
      `- **The machine was shared: other processes kept up to ${fmt(busiest, 2)} of its ${cpu.length} cores busy during a run ` +
        '(column "others busy", from /proc/stat as bench/machine_load.mjs measures it). Compare rows of this run with each ' +
        'other, not with another machine.**',
    );
  }
  out.push('');
  out.push('## Results', '');
  out.push(
    'req/s = mean of autocannon\'s per-second counts; p50 and p99 = request latency seen by the client, in ms; ' +
      'loop p99 = the server\'s event-loop delay, 99th percentile, in ms (`monitorEventLoopDelay`, reset before each run, ' +
      'read from `GET /metrics`); batch = sequences per forward (1 without coalescing); others busy = cores other ' +
      'processes used meanwhile.',
    '',
  );
  for (const format of [...new Set(runs.map((r) => r.format))]) {
    out.push(`### ${format === 'npy' ? '`application/x-npy` in, .npy out' : 'JSON in, JSON out'}`, '');
    out.push('| connections | server | req/s | p50 ms | p99 ms | loop p99 ms | batch | failed | others busy |');
    out.push('|---|---|---|---|---|---|---|---|---|');
    for (const r of runs.filter((x) => x.format === format)) {
      const failed = r.errors + r.non2xx + r.timeouts;
      out.push(
        `| ${r.connections} | ${r.server} | ${fmt(r.rps, 0)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.loopP99, 2)} | ` +
          `${fmt(r.meanBatch, 2)} | ${failed} | ${fmt(r.otherCores, 2)} |`,
      );
    }
    out.push('');
  }
  if (info.costs) {
    const c = info.costs;
    const fmt2 = (x) => fmt(x, 2);
    out.push('## Where a request\'s time goes', '');
    out.push(
      'Measured in the load-test process on the same model and input (medians, ms), apart from the load: the forward ' +
        `runs on libuv's threadpool (\`forwardAsync\`, ${info.threads} engine thread${info.threads === 1 ? '' : 's'}); ` +
        'everything else runs on the event loop.',
      '',
      '| forward | JSON in (parse + tensor()) | JSON out (toArray + stringify) | .npy in (parseNpy) | .npy out (serializeNpy) |',
      '|---|---|---|---|---|',
      `| ${fmt2(c.forward)} | ${fmt2(c.jsonIn)} | ${fmt2(c.jsonOut)} | ${fmt2(c.npyIn)} | ${fmt2(c.npyOut)} |`,
      '',
      `A JSON request costs the event loop about ${fmt2(c.jsonIn + c.jsonOut)} ms of conversions, ` +
        `${fmt(((c.jsonIn + c.jsonOut) / c.forward), 1)}× its forward, before HTTP parsing and writing; an .npy request ` +
        `${fmt2(c.npyIn + c.npyOut)} ms. One event loop can therefore answer at most about ${fmt(1000 / (c.jsonIn + c.jsonOut), 0)} JSON ` +
        'requests per second, whatever the engine does, and coalescing, which only makes forwards cheaper, cannot move that ' +
        'limit. Beyond it, requests queue for the loop, which is what the event-loop delay and the p99 latency at high ' +
        'concurrency show.',
      '',
    );
  }
  const lines = verdicts(runs);
  if (lines.length > 0) {
    out.push(
      '## Coalescing',
      '',
      'Coalescing pays when forwards are the bottleneck and requests of one length arrive together; the batch column ' +
        'shows how many sequences it actually stacked per forward, and a request that finds no company waits out the ' +
        'window (a 1 ms timer, which fires after at least 1 ms). Differences within 10% are not told apart from the machine\'s drift.',
      '',
      ...lines,
      '',
    );
  }
  return `${out.join('\n')}\n`;
}
