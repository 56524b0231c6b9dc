// Turns measured rows into what people read: a plain table on stdout and bench/RESULTS.md.
// Every figure is derived from the medians measured in this run; nothing is carried over from elsewhere.
//
// A row is one case at one thread count:
//   { case, threads, boundMs, ms: { sync, async, ort, torch }, reps: {...}, absent: { key: why },
//     maxDiff: { async, ort, torch } (max |peer - torchrnn sync| before timing) }
// Memory is per case: { torchrnn, ort, torch }, each { baselineKiB, peakKiB } or { error }.

import { readFileSync } from 'node:fs';
import os from 'node:os';
import { flops, need, weightBytes } from './roofline.mjs';
import { agrees } from './verify.mjs';

/** Peers torchrnn is judged against, with the key need() expects. */
const JUDGED = [
  { key: 'ort', label: 'ORT' },
  { key: 'torch', label: 'torch' },
];

/** What a row says, derived: speed-ups, targets, efficiency. Judged on torchrnn's blocking forward. */
export function derive(row) {
  const ours = row.ms.sync;
  const judged = {};
  for (const { key } of JUDGED) {
    const peerMs = row.ms[key];
    if (peerMs === undefined || ours === undefined) continue;
    const speedup = peerMs / ours;
    const needed = need(row.boundMs, key, peerMs);
    judged[key] = { speedup, need: needed, met: speedup >= needed, wrong: !agrees(row.maxDiff[key]) };
  }
  return {
    judged,
    gflops: ours ? flops(row.case) / (ours * 1e6) : undefined,
    gbps: ours ? weightBytes(row.case) / (ours * 1e6) : undefined,
    pctBound: ours ? (100 * row.boundMs) / ours : undefined,
    peerPctBound: Object.fromEntries(
      ['ort', 'torch'].filter((k) => row.ms[k]).map((k) => [k, (100 * row.boundMs) / row.ms[k]]),
    ),
  };
}

// ---- formatting -----------------------------------------------------------------------------------

function ms(v) {
  if (v === undefined) return '—';
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  if (v >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

const x = (v) => `${v >= 10 ? v.toFixed(0) : v.toFixed(2)}×`;
const pct = (v) => (v === undefined ? '—' : `${v < 1 ? v.toFixed(2) : v.toFixed(0)}%`);
const num = (v, digits = 1) => (v === undefined ? '—' : v.toFixed(digits));
const mib = (kib) => (kib / 1024).toFixed(0);
const busy = (r) => (r.busy ? r.busy.otherCores.toFixed(2) : '—');

function speedCell(j, absentWhy) {
  if (!j) return absentWhy ? `— (${absentWhy})` : '—';
  const verdict = j.wrong ? 'WRONG OUTPUT' : j.met ? 'met' : 'NOT met';
  return `${x(j.speedup)} (need ${x(j.need)}: ${verdict})`;
}

// ---- stdout ---------------------------------------------------------------------------------------

/** A fixed-width table for the terminal. */
export function consoleTable(rows) {
  const head = ['case', 'thr', 'sync ms', 'async ms', 'ORT ms', 'torch ms', 'vs ORT', 'vs torch', 'GFLOP/s', 'GB/s', '%bound', 'others'];
  const lines = rows.map((r) => {
    const d = derive(r);
    const short = (k) => {
      const j = d.judged[k];
      if (!j) return '—';
      return `${x(j.speedup)}/${x(j.need)}${j.wrong ? ' WRONG' : j.met ? ' ok' : ' NO'}`;
    };
    return [
      r.case.name,
      String(r.threads),
      ms(r.ms.sync),
      ms(r.ms.async),
      ms(r.ms.ort),
      ms(r.ms.torch),
      short('ort'),
      short('torch'),
      num(d.gflops),
      num(d.gbps),
      pct(d.pctBound),
      busy(r),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n') +
    '\n(vs X: speed-up / needed; ok = target met. Speed-up = peer median / torchrnn sync median.' +
    ' others: cores other processes kept busy meanwhile.)';
}

// ---- RESULTS.md -----------------------------------------------------------------------------------

function cpuModel() {
  try {
    const m = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m);
    if (m) return m[1].trim();
  } catch {
    // not Linux: fall through
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

function cpuFlags() {
  try {
    const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:\s*(.*)$/m)?.[1].split(/\s+/) ?? [];
    return ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_bf16', 'amx_tile'].filter((f) => flags.includes(f));
  } catch {
    return [];
  }
}

/** The machine, as this run saw it. */
export function machine() {
  return {
    cpu: cpuModel(),
    cores: os.cpus().length,
    flags: cpuFlags(),
    memGiB: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

function table(head, body) {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The whole RESULTS.md. `info` has what the run knew: versions, command, plan, notes. */
export function markdown(rows, memory, info) {
  const m = info.machine;
  const out = [];
  out.push('# torchrnn benchmark results', '');
  out.push(
    `Written by \`bench/run.mjs\` on ${info.date}. Every number below was measured in that one run; ` +
      'peers ran side by side, interleaved round-robin, on the same weights and input.',
    '',
  );
  out.push('## Setup', '');
  out.push(`- Machine: ${m.cpu}, ${m.cores} cores (${m.flags.join(', ') || 'no AVX flags seen'}), ${m.memGiB.toFixed(0)} GiB, ${m.os}`);
  out.push(`- Node ${process.version}; torchrnn ${info.torchrnn.version}, backend \`${info.torchrnn.backend}\` (from ${info.torchrnn.backendSource})`);
  out.push(`- torchrnn addon: ${info.torchrnn.addon}`);
  out.push(`- torchrnn threads: ${info.torchrnn.threadsNote}`);
  out.push(`- onnxruntime-node: ${info.ort}`);
  out.push(`- PyTorch: ${info.torch}`);
  out.push(`- Reproduce: \`${info.command}\``);
  out.push(
    `- Repetitions: warm-up ≥ ${info.plan.warmupMs} ms per peer (the verification run counts), then enough ` +
      `repetitions for ~${info.plan.budgetMs} ms per peer (at least ${info.plan.minReps}; a peer slower than that ` +
      `stops at ~${info.plan.capMs / 1000} s, with never fewer than ${info.plan.floorReps}), cut into ≤ ${info.plan.maxRounds} ` +
      `rounds that give each peer its share in turn, ${info.plan.settleMs} ms idle between shares so that one ` +
      'peer\'s spinning thread pool does not run into the next. Figures are medians of single forwards, in ms; ' +
      'the last column of the correctness table gives the repetitions behind each.',
  );
  for (const n of new Set(info.notes)) out.push(`- ${n}`);
  out.push('');

  out.push('## Times and targets', '');
  out.push(
    'torchrnn sync = `forward` (blocks); async = `forwardAsync` (libuv pool, awaited). ORT = onnxruntime-node ' +
      'on an ONNX model built from torchrnn\'s parameters; torch = PyTorch in a Python worker, timed there. ' +
      'Speed-up = peer median / torchrnn sync median; "need" is the target of `need()` in shared/roofline.py ' +
      '(3× over PyTorch; over ORT 2× where ORT reaches under half of the bound, else 1.2×; capped at 90% of the bound). ' +
      '"others busy" = cores that other processes kept busy while the row was timed (bench/machine_load.mjs): ' +
      'anything well above 0 means the engines shared the machine.',
    '',
  );
  out.push(
    table(
      ['case', 'threads', 'torchrnn sync ms', 'async ms', 'ORT ms', 'torch ms', 'vs ORT', 'vs torch', 'others busy'],
      rows.map((r) => {
        const d = derive(r);
        return [
          r.case.name,
          r.threads,
          ms(r.ms.sync),
          r.absent.async ? `— (${r.absent.async})` : ms(r.ms.async),
          r.absent.ort ? `— (${r.absent.ort})` : ms(r.ms.ort),
          r.absent.torch ? `— (${r.absent.torch})` : ms(r.ms.torch),
          speedCell(d.judged.ort, r.absent.ort && 'no peer'),
          speedCell(d.judged.torch, r.absent.torch && 'no peer'),
          busy(r),
        ];
      }),
    ),
    '',
  );

  out.push('## Against the roofline', '');
  out.push(
    'Bound = the lower bound on the time from shared/roofline.py (ported in bench/roofline.mjs): ' +
      'FLOP-bound input GEMM plus T steps each bound by max(FLOPs, W_hh bytes) of one core\'s share. ' +
      'GFLOP/s counts 2·T·N·G·(In + Hout) per layer and direction plus the projection; GB/s counts the ' +
      'recurrent weights (W_hh, W_hr) streamed once per step. Both for torchrnn sync.',
    '',
  );
  out.push(
    table(
      ['case', 'threads', 'bound ms', 'torchrnn GFLOP/s', 'torchrnn GB/s', 'torchrnn % of bound', 'ORT % of bound', 'torch % of bound'],
      rows.map((r) => {
        const d = derive(r);
        return [
          r.case.name,
          r.threads,
          ms(r.boundMs),
          num(d.gflops),
          num(d.gbps),
          pct(d.pctBound),
          pct(d.peerPctBound.ort),
          pct(d.peerPctBound.torch),
        ];
      }),
    ),
    '',
  );

  out.push('## Correctness check before timing', '');
  out.push(
    'Each peer\'s output sequence against torchrnn sync\'s on the same input, max |Δ| (must be ≤ 1e-4, or ' +
      'the comparison means nothing).',
    '',
  );
  const diff = (r, k) => (r.maxDiff[k] === undefined ? '—' : `${r.maxDiff[k].toExponential(1)}${agrees(r.maxDiff[k]) ? '' : ' **FAIL**'}`);
  out.push(
    table(
      ['case', 'threads', 'async', 'ORT', 'torch', 'repetitions timed (sync / async / ORT / torch)'],
      rows.map((r) => [
        r.case.name,
        r.threads,
        diff(r, 'async'),
        diff(r, 'ort'),
        diff(r, 'torch'),
        ['sync', 'async', 'ort', 'torch'].map((k) => r.reps[k] ?? '—').join(' / '),
      ]),
    ),
    '',
  );

  if (memory.size) {
    out.push('## Peak memory', '');
    out.push(
      'Each engine runs each case once, at one thread, in a fresh process of its own (bench/memory.mjs): ' +
        'peak RSS of that whole process in MiB, and in brackets how much it rose over the peak after ' +
        'loading the engine (the model, its weights as the engine keeps them, the input and output, the ' +
        'working memory). Node processes for torchrnn and ORT, a Python process for PyTorch.',
      '',
    );
    const cell = (e) => (!e ? '—' : e.error ? `error: ${e.error}` : `${mib(e.peakKiB)} (+${mib(e.peakKiB - e.baselineKiB)})`);
    out.push(
      table(
        ['case', 'torchrnn MiB', 'ORT MiB', 'torch MiB'],
        [...memory].map(([name, e]) => [name, cell(e.torchrnn), cell(e.ort), cell(e.torch)]),
      ),
      '',
    );
  }

  out.push('## Shapes', '');
  out.push(
    table(
      ['case', 'mode', 'input', 'hidden', 'proj', 'layers', 'bidirectional', 'T', 'N', 'GFLOP', 'MB of W_hh+W_hr streamed'],
      uniqueCases(rows).map((c) => [
        c.name,
        c.mode,
        c.input_size,
        c.hidden_size,
        c.proj_size || '—',
        c.num_layers,
        c.bidirectional ? 'yes' : 'no',
        c.T,
        c.N,
        (flops(c) / 1e9).toFixed(3),
        (weightBytes(c) / 1e6).toFixed(1),
      ]),
    ),
    '',
  );
  return out.join('\n');
}

function uniqueCases(rows) {
  const seen = new Map();
  for (const r of rows) seen.set(r.case.name, r.case);
  return [...seen.values()];
}
