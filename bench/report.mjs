// Turns measured rows into what people read: a plain table on stdout and bench/RESULTS.md.
// Every figure is derived from the medians measured in this run; nothing is carried over from elsewhere.
//
// A row is one case at one thread count:
//   { case, threads, boundMs, designBoundMs, ms: { sync, async, ort, torch }, reps: {...}, absent: { key: why },
//     maxDiff: { async, ort, torch } (max |peer - torchrnn sync| before timing) }
// Memory is per case: { torchrnn, ort, torch }, each { baselineKiB, peakKiB } or { error }.
// boundMs is the bound from this machine's measured limits (the design's when none could be measured),
// designBoundMs the one from the design constants of shared/roofline.py; every verdict comes in both.

import { readFileSync } from 'node:fs';
import os from 'node:os';
import { gemmFlops, inputGemms } from './gemm.mjs';
import { DESIGN_LIMITS, flops, l2Fit, need, weightBytes } from './roofline.mjs';
import { agrees } from './verify.mjs';

/** Peers torchrnn is judged against, with the key need() expects. */
const JUDGED = [
  { key: 'ort', label: 'ORT' },
  { key: 'torch', label: 'torch' },
];

/** Speed-ups over each judged peer and the targets of a bound of `boundMs`. */
function judge(row, boundMs) {
  const ours = row.ms.sync;
  const judged = {};
  for (const { key } of JUDGED) {
    const peerMs = row.ms[key];
    if (peerMs === undefined || ours === undefined) continue;
    const speedup = peerMs / ours;
    const needed = need(boundMs, key, peerMs);
    judged[key] = { speedup, need: needed, met: speedup >= needed, wrong: !agrees(row.maxDiff[key]) };
  }
  return judged;
}

/** % of a bound of `boundMs` that each of torchrnn sync, ORT and torch reaches. */
function pctOf(row, boundMs) {
  const pct = (k) => (row.ms[k] ? (100 * boundMs) / row.ms[k] : undefined);
  return { ours: pct('sync'), ort: pct('ort'), torch: pct('torch') };
}

/**
 * What a row says, derived: speed-ups, targets, efficiency, judged on torchrnn's blocking forward. `judged`
 * and `pct` against this machine's roofline, `judgedDesign` and `pctDesign` against the design constants.
 */
export function derive(row) {
  const ours = row.ms.sync;
  return {
    judged: judge(row, row.boundMs),
    judgedDesign: judge(row, row.designBoundMs),
    gflops: ours ? flops(row.case) / (ours * 1e6) : undefined,
    gbps: ours ? weightBytes(row.case) / (ours * 1e6) : undefined,
    pct: pctOf(row, row.boundMs),
    pctDesign: pctOf(row, row.designBoundMs),
    ...peakShares(row),
  };
}

/**
 * How close torchrnn sync comes to the FMA peak of the row's cores (`row.peakFlops`): the whole forward,
 * and split into the input-projection GEMM (timed alone, bench/gemm.mjs) and the steps (the rest).
 */
function peakShares(row) {
  const ours = row.ms.sync;
  if (!ours || !row.peakFlops) return {};
  const share = (f, msv) => (msv > 0 ? (100 * f) / (msv * 1e-3 * row.peakFlops) : undefined);
  const all = flops(row.case);
  const out = { pctPeak: share(all, ours) };
  if (row.inputGemmMs !== undefined) {
    const gemmF = inputGemms(row.case).reduce((s, g) => s + gemmFlops(g.m, g.n, g.k), 0);
    out.gemmMs = row.inputGemmMs;
    out.gemmPctPeak = share(gemmF, row.inputGemmMs);
    out.stepsMs = ours - row.inputGemmMs;
    out.stepsPctPeak = share(all - gemmF, out.stepsMs);
  }
  return out;
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

const verdict = (j) => (j.wrong ? 'WRONG OUTPUT' : j.met ? 'met' : 'NOT met');

function speedCell(j, absentWhy) {
  if (!j) return absentWhy ? `— (${absentWhy})` : '—';
  return `${x(j.speedup)} (need ${x(j.need)}: ${verdict(j)})`;
}

/** The same speed-up judged on another bound: only the target and the verdict differ. */
function needCell(j, absentWhy) {
  if (!j) return absentWhy ? `— (${absentWhy})` : '—';
  return `need ${x(j.need)}: ${verdict(j)}`;
}

// ---- stdout ---------------------------------------------------------------------------------------

/** A fixed-width table for the terminal. */
export function consoleTable(rows) {
  const head = ['case', 'thr', 'sync ms', 'async ms', 'ORT ms', 'torch ms', 'vs ORT', 'vs torch', 'design', 'GFLOP/s', 'GB/s', '%bound', '%design', '%FMA', 'others'];
  const lines = rows.map((r) => {
    const d = derive(r);
    const mark = (j) => (j.wrong ? ' WRONG' : j.met ? ' ok' : ' NO');
    const short = (k) => {
      const j = d.judged[k];
      return j ? `${x(j.speedup)}/${x(j.need)}${mark(j)}` : '—';
    };
    const design = JUDGED.filter(({ key }) => d.judgedDesign[key])
      .map(({ key }) => `${x(d.judgedDesign[key].need)}${mark(d.judgedDesign[key])}`)
      .join(', ');
    return [
      r.case.name,
      String(r.threads),
      ms(r.ms.sync),
      ms(r.ms.async),
      ms(r.ms.ort),
      ms(r.ms.torch),
      short('ort'),
      short('torch'),
      design || '—',
      num(d.gflops),
      num(d.gbps),
      pct(d.pct.ours),
      pct(d.pctDesign.ours),
      pct(d.pctPeak),
      busy(r),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const reduced = rows.flatMap((r) => [
    ...(r.ms.ortQint8 !== undefined && r.ms.qint8 !== undefined
      ? [`${r.case.name} ${r.threads} thr ORT qint8: ${ms(r.ms.ortQint8)} ms, torchrnn qint8 ${x(r.ms.ortQint8 / r.ms.qint8)} faster, ORT max |Δ| ${r.maxDiff.ortQint8?.toExponential(1) ?? '—'}`]
      : []),
    ...Object.entries(r.precisions ?? {}).map(
      ([k, p]) =>
        `${r.case.name} ${r.threads} thr ${k}: ${ms(r.ms[k])} ms, ${r.ms[k] ? x(r.ms.sync / r.ms[k]) : '—'} float32, ` +
        `bound ${ms(p.boundMs)} ms (${r.ms[k] ? pct((100 * p.boundMs) / r.ms[k]) : '—'}), max |Δ| ${r.maxDiff[k]?.toExponential(1) ?? '—'}, ` +
        `weights ${(p.weightBytes / 2 ** 20).toFixed(2)} of ${(r.float32WeightBytes / 2 ** 20).toFixed(2)} MiB`,
    ),
  ]);
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt), ...(reduced.length ? ['', ...reduced] : [])].join('\n') +
    '\n(vs X: speed-up / needed on this machine\'s roofline; ok = target met. design: needed over ORT, torch on the' +
    ' design constants\' roofline. %bound, %design: torchrnn sync against each bound. %FMA: its FLOPs against the FMA peak of its cores. Speed-up = peer median /' +
    ' torchrnn sync median. others: cores other processes kept busy meanwhile.)';
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
      `rounds that give each peer its share in turn; between shares the process idles at least ${info.plan.settleMs} ms ` +
      `and on until the whole machine keeps under a quarter of a core busy (at most ${info.plan.maxSettleMs} ms), so ` +
      'that one peer\'s spinning thread pool (onnxruntime\'s spins for tens of ms) does not run into the next. ' +
      'Figures are medians of single forwards, in ms; ' +
      'the last column of the correctness table gives the repetitions behind each.',
  );
  for (const n of new Set(info.notes)) out.push(`- ${n}`);
  out.push('');

  out.push(...limitsSection(info.limits));

  out.push('## Times and targets', '');
  const ownRoofline = info.limits.measured ? "this machine's roofline" : "this machine's roofline (= design: limits not measured)";
  out.push(
    'torchrnn sync = `forward` (blocks); async = `forwardAsync` (libuv pool, awaited). ORT = onnxruntime-node ' +
      'on an ONNX model built from torchrnn\'s parameters; torch = PyTorch in a Python worker, timed there. ' +
      'Speed-up = peer median / torchrnn sync median; "need" is the target of `need()` in shared/roofline.py ' +
      '(3× over PyTorch; over ORT 2× where ORT reaches under half of the bound, else 1.2×; capped at 90% of the bound). ' +
      `The verdicts that count, "vs ORT" and "vs torch", use **${ownRoofline}**: the bound from the limits above. ` +
      'The two "design roofline" columns judge the same speed-ups on the bound from the design constants of ' +
      'shared/roofline.py, for comparison. ' +
      '"others busy" = cores that other processes kept busy while the row was timed (bench/machine_load.mjs): ' +
      'anything well above 0 means the engines shared the machine.',
    '',
  );
  out.push(
    table(
      [
        'case',
        'threads',
        'torchrnn sync ms',
        'async ms',
        'ORT ms',
        'torch ms',
        "vs ORT (this machine's roofline)",
        "vs torch (this machine's roofline)",
        'vs ORT (design roofline)',
        'vs torch (design roofline)',
        'others busy',
      ],
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
          needCell(d.judgedDesign.ort, r.absent.ort && 'no peer'),
          needCell(d.judgedDesign.torch, r.absent.torch && 'no peer'),
          busy(r),
        ];
      }),
    ),
    '',
  );

  out.push('## Against the roofline', '');
  out.push(
    'Bound = the lower bound on the time by the formula of shared/roofline.py (ported in bench/roofline.mjs): ' +
      'FLOP-bound input GEMM plus T steps each bound by max(FLOPs, W_hh bytes) of one core\'s share. ' +
      `"this machine" = that formula on the limits above${info.limits.measured ? '' : ' (not measured: the design constants)'}, ` +
      'refined so that it stays a lower bound there: a share of W_hh larger than L2 keeps what fits in L2 and ' +
      'streams only the rest, and a bidirectional layer takes the better of its directions together or one after ' +
      'the other with units split over the cores (bench/roofline.mjs); ' +
      '"design" = on the design constants of shared/roofline.py. % of bound = bound / median: 100% would be the ' +
      'limit itself. GFLOP/s counts 2·T·N·G·(In + Hout) per layer and direction plus the projection; GB/s counts ' +
      'the recurrent weights (W_hh, W_hr) streamed once per step. Both for torchrnn sync.',
    '',
  );
  out.push(
    table(
      [
        'case',
        'threads',
        'bound ms, this machine',
        'bound ms, design',
        'torchrnn GFLOP/s',
        'torchrnn GB/s',
        'torchrnn % of bound, this machine',
        'torchrnn % of bound, design',
        'ORT % of bound, this machine',
        'ORT % of bound, design',
        'torch % of bound, this machine',
        'torch % of bound, design',
      ],
      rows.map((r) => {
        const d = derive(r);
        return [
          r.case.name,
          r.threads,
          ms(r.boundMs),
          ms(r.designBoundMs),
          num(d.gflops),
          num(d.gbps),
          pct(d.pct.ours),
          pct(d.pctDesign.ours),
          pct(d.pct.ort),
          pct(d.pctDesign.ort),
          pct(d.pct.torch),
          pct(d.pctDesign.torch),
        ];
      }),
    ),
    '',
  );

  const over = rows.flatMap((r) => {
    const d = derive(r);
    return [['torchrnn', d.pct.ours], ['ORT', d.pct.ort], ['torch', d.pct.torch]]
      .filter(([, p]) => p > 100)
      .map(([who, p]) => `${r.case.name} at ${r.threads} thread${r.threads > 1 ? 's' : ''} (${who} ${pct(p)})`);
  });
  if (over.length) {
    out.push(
      `**Faster than this machine's bound: ${over.join(', ')}.** There the bound is no lower bound: the ` +
        'formula charges a core\'s whole share of W_hh at L3 bandwidth once it exceeds "fits L2", though part of ' +
        'it can stay in L2, and it adds the input GEMM to the recurrence rather than overlapping them. need() ' +
        'caps each target at what 90% of the bound allows: below 1× over a peer already past 90% of it.',
      '',
    );
  }

  out.push(...peakSection(rows, info));
  out.push(...precisionSection(rows, info));
  out.push(...contentionSection(rows));

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

/**
 * "Reduced precision" (--precision): each converted module's median beside float32's from the same rounds,
 * the speed-up, its bound on this machine (bytes per stored weight, the peak of its unit), how far its
 * output strays from float32's, and the bytes its weights hold.
 */
function precisionSection(rows, info) {
  const with_ = rows.filter((r) => r.precisions && Object.keys(r.precisions).length);
  if (!with_.length) return [];
  const out = ['## Reduced precision', ''];
  const m = info.limits.measured;
  const unit = (field, name) => (m?.[field] ? `${name} (${(m[field] / 1e9).toFixed(0)} G/s per core, measured)` : 'none measured: the fp32 FMA peak');
  out.push(
    'torchrnn sync on the module converted by `quantizeDynamic(module, { dtype })`, timed in the same ' +
      "interleaved rounds as float32 (the `torchrnn sync` column above). Bound: this machine's roofline with " +
      'W_hh (and W_hr) at the stored bytes per weight (qint8 1, bfloat16 and float16 2) and every FLOP at the ' +
      `peak of the unit that computes on the format: qint8 ${unit('peakInt8Ops', 'VNNI vpdpbusd')}; bfloat16 ` +
      `${unit('peakBf16Flops', 'vdpbf16ps')}; float16 the fp32 FMA peak. Max |Δ|: the output sequence against ` +
      "float32's on the same input.",
    '',
  );
  const body = [];
  for (const r of with_) {
    for (const [key, p] of Object.entries(r.precisions)) {
      const ours = r.ms[key];
      body.push([
        r.case.name,
        r.threads,
        key,
        ms(r.ms.sync),
        ms(ours),
        ours ? x(r.ms.sync / ours) : '—',
        ms(p.boundMs),
        ours ? pct((100 * p.boundMs) / ours) : '—',
        r.maxDiff[key] === undefined ? '—' : r.maxDiff[key].toExponential(1),
        busy(r),
      ]);
    }
  }
  out.push(
    table(['case', 'threads', 'precision', 'float32 ms', 'ms', '× float32', 'bound ms', '% of bound', 'max abs Δ vs float32', 'others busy'], body),
    '',
  );
  const ortRows = with_.filter((r) => r.ms.ortQint8 !== undefined && r.ms.qint8 !== undefined);
  if (ortRows.length) {
    out.push(
      'Against onnxruntime\'s int8 LSTM: a com.microsoft `DynamicQuantizeLSTM` per layer (onnx_model.mjs) holding ' +
        'torchrnn\'s own qint8 weights and per-row scales, which quantizes activations per call itself, timed in the ' +
        'same rounds. Speed-up = its median / torchrnn qint8\'s; max abs Δ of each against torchrnn float32.',
      '',
      table(
        ['case', 'threads', 'ORT qint8 ms', 'torchrnn qint8 ms', 'speed-up', 'ORT qint8 max abs Δ', 'torchrnn qint8 max abs Δ'],
        ortRows.map((r) => [
          r.case.name,
          r.threads,
          ms(r.ms.ortQint8),
          ms(r.ms.qint8),
          x(r.ms.ortQint8 / r.ms.qint8),
          r.maxDiff.ortQint8?.toExponential(1) ?? '—',
          r.maxDiff.qint8?.toExponential(1) ?? '—',
        ]),
      ),
      '',
    );
  }
  const mb = (b) => (b / 2 ** 20).toFixed(2);
  const byCase = new Map();
  for (const r of with_) byCase.set(r.case.name, r);
  const keys = [...new Set(with_.flatMap((r) => Object.keys(r.precisions)))];
  out.push(
    'Resident weight memory: the bytes the weights and biases hold, in MiB, as the module reports them ' +
      '(float32: its parameters; a converted module: `weightBytes`, its stored values, int8 scales and float32 ' +
      'biases), and the share of float32\'s. The engine computes from a packed copy of the same values (panel ' +
      'order, depth padded to 4 or 2 for the dot-product kernels), float32\'s as a converted module\'s, so the ' +
      'shares hold for what the process keeps resident too (the growth of RSS on conversion would not measure ' +
      'it: the allocator reuses pages freed earlier).',
    '',
  );
  out.push(
    table(
      ['case', 'float32 MiB', ...keys.map((k) => `${k} MiB (share)`)],
      [...byCase.values()].map((r) => [
        r.case.name,
        mb(r.float32WeightBytes),
        ...keys.map((k) => (r.precisions[k] ? `${mb(r.precisions[k].weightBytes)} (${pct((100 * r.precisions[k].weightBytes) / r.float32WeightBytes)})` : '—')),
      ]),
    ),
    '',
  );
  return out;
}

/** "Against the FMA peak": the GEMM alone and each case split into its input GEMM and its steps. */
function peakSection(rows, info) {
  const out = ['## Against the FMA peak', ''];
  const peakWhat = info.limits.measured ? "this machine's measured fp32 FMA peak" : 'the design constants\' FMA peak (this machine\'s was not measured)';
  const gemms = info.gemms ?? [];
  if (gemms.length) {
    out.push(
      `The engine's packed GEMM kernel alone (through \`Linear\`, on one thread: it runs on the calling thread), ` +
        `float32, C = A·B + bias with A (M × K) row-major, less the same call with K = 1 (its output's allocation, ` +
        `which the engine's own input projection never pays), against ${peakWhat} of one core.`,
      '',
    );
    out.push(
      table(
        ['M × N × K', 'ms', 'GFLOP/s', '% of FMA peak'],
        gemms.map((g) => {
          const gf = gemmFlops(g.m, g.n, g.k) / (g.ms * 1e6);
          return [`${g.m} × ${g.n} × ${g.k}`, ms(g.ms), num(gf), pct((100 * gf * 1e9) / g.peakFlops)];
        }),
      ),
      '',
    );
  }
  out.push(
    `torchrnn sync's FLOPs against ${peakWhat} of the row's cores (threads × the per-core figure the bound uses). ` +
      'Input GEMM = the case\'s input projections (per layer, T·N rows × In → D·G) timed alone on the same ' +
      'kernel at one thread (less the same call with K = 1, as above); with 2 threads charged that time / 2, the best the pool could do. Steps = the rest ' +
      'of the forward (sync median − input GEMM): the recurrent GEMVs/GEMMs, the gate epilogues, the ' +
      'synchronisation. Cases whose input GEMM is under 2·10⁷ FLOPs are not split (— ): a call\'s own cost would ' +
      'be most of the GEMM\'s time. A steps share far below the GEMM\'s on a small-batch case is the bandwidth bound, not the FMA.',
    '',
  );
  out.push(
    table(
      ['case', 'threads', 'torchrnn sync ms', 'whole: % of FMA peak', 'input GEMM ms', 'input GEMM: % of FMA peak', 'steps ms', 'steps: % of FMA peak'],
      rows.map((r) => {
        const d = derive(r);
        return [r.case.name, r.threads, ms(r.ms.sync), pct(d.pctPeak), ms(d.gemmMs), pct(d.gemmPctPeak), ms(d.stepsMs), pct(d.stepsPctPeak)];
      }),
    ),
    '',
  );
  return out;
}

/** "Under contention": the rows timed again with a busy competitor beside the engines (--contention). */
function contentionSection(rows) {
  const contended = rows.filter((r) => r.contended);
  if (!contended.length) return [];
  const out = ['## Under contention', ''];
  out.push(
    'Each case again, with a competitor beside the engines: a process spinning on one core for as long as ' +
      'the case is timed, the same for every peer (bench/contention.mjs). "competitor cores" = the CPU it got ' +
      'meanwhile; "others busy" = what other processes kept busy besides it. "2 thr / 1 thr" = torchrnn sync\'s ' +
      'contended median at 2 threads over its contended median at 1 (above 1: two threads were slower).',
    '',
  );
  const oneThread = new Map(contended.filter((r) => r.threads === 1).map((r) => [r.case.name, r.contended.ms.sync]));
  out.push(
    table(
      ['case', 'threads', 'torchrnn sync ms, quiet', 'torchrnn sync ms, contended', 'async ms, contended', 'ORT ms, contended', 'torch ms, contended', 'vs ORT, contended', 'vs torch, contended', '2 thr / 1 thr', 'competitor cores', 'others busy'],
      contended.map((r) => {
        const c = r.contended.ms;
        const vs = (k) => (c[k] && c.sync ? x(c[k] / c.sync) : '—');
        const one = oneThread.get(r.case.name);
        return [
          r.case.name,
          r.threads,
          ms(r.ms.sync),
          ms(c.sync),
          ms(c.async),
          ms(c.ort),
          ms(c.torch),
          vs('ort'),
          vs('torch'),
          r.threads > 1 && one ? (c.sync / one).toFixed(2) : '—',
          r.contended.competitor.cores.toFixed(2),
          r.contended.busy ? r.contended.busy.otherCores.toFixed(2) : '—',
        ];
      }),
    ),
    '',
  );
  return out;
}

/** What bench/machine_limits.cpp runs with each ISA. */
const KERNELS = {
  avx512f: { fma: '16 independent chains of 16-lane FMAs in registers (latency 4 × 2 ports needs 8)', read: '512-bit loads into 16 accumulators' },
  'avx2+fma': { fma: '12 independent chains of 8-lane FMAs in registers (latency 4 × 2 ports needs 8)', read: '256-bit loads into 16 accumulators' },
  scalar: { fma: '8 independent chains of scalar multiply-adds', read: 'scalar loads into 8 accumulators' },
};

/**
 * "This machine's limits": what the bound of this run rests on, beside the design constants. `limits` is
 * { measured: MachineLimits | null, how: string } from bench/machine_limits.mjs.
 */
function limitsSection({ measured, how }) {
  const out = ["## This machine's limits", ''];
  const d = DESIGN_LIMITS;
  const gf = (v) => `${(v / 1e9).toFixed(0)} GFLOP/s`;
  const gb = (v) => `${(v / 1e9).toFixed(0)} GB/s`;
  const size = (b) => (b >= 2 ** 20 ? `${+(b / 2 ** 20).toFixed(2)} MiB` : `${+(b / 2 ** 10).toFixed(0)} KiB`);
  if (!measured) {
    out.push(
      `**Not measured: ${how}.** The bound and the targets of every verdict below use the design constants of ` +
        'shared/roofline.py (DESIGN.md §6: AMD EPYC Zen 5), so "this machine\'s roofline" and "design roofline" ' +
        'agree; the times were measured on this machine all the same.',
      '',
    );
    out.push(
      table(
        ['limit', 'design machine (shared/roofline.py)'],
        [
          ['fp32 FMA peak per core', gf(d.peakFlops)],
          ['L2 per core; "fits L2" (3/4 of it)', `${size(d.l2Bytes)}; ${size(l2Fit(d))}`],
          ['read bandwidth per core from L2', gb(d.l2Bandwidth)],
          ['read bandwidth per core from L3', gb(d.l3Bandwidth)],
        ],
      ),
      '',
    );
    return out;
  }
  const m = measured;
  out.push(
    'The bound and the targets of the verdicts that count below come from this machine\'s limits, ' +
      `${how}. Beside them, the design constants of shared/roofline.py, measured ` +
      'on the design machine of DESIGN.md §6 (AMD EPYC Zen 5); the "design" columns below judge against those.',
    '',
  );
  const l3Test = m.l3TestBytes ? `a ${size(m.l3TestBytes)} buffer` : 'a buffer';
  const l3Why = m.l3Bytes ? `twice L2 and at most half of L3, ${size(m.l3Bytes)}` : 'twice L2';
  out.push(
    table(
      ['limit', 'this machine (measured)', 'design machine (shared/roofline.py)', 'how this machine\'s was measured'],
      [
        ['vector ISA', m.isa, d.isa, 'the widest of AVX-512F, AVX2+FMA, scalar that the CPU reports'],
        [
          'fp32 FMA peak per core, one core alone',
          gf(m.peakFlops),
          gf(d.peakFlops),
          `${KERNELS[m.isa]?.fma ?? 'independent FMA chains in registers'}, 2 FLOPs per lane and FMA`,
        ],
        ['fp32 FMA peak per core, all cores at once', gf(m.peakFlopsAllCores), `${gf(d.peakFlopsAllCores)} (one figure)`, 'the same on every physical core at once'],
        [
          'L2 per core',
          `${size(m.l2Bytes)}${m.l2BytesFromSystem === false ? ' (not reported by the system: assumed)' : ''}`,
          size(d.l2Bytes),
          '/sys/devices/system/cpu/cpu0/cache, level 2',
        ],
        ['"fits L2": 3/4 of L2 (L2FIT)', size(l2Fit(m)), size(l2Fit(d)), 'what of a core\'s share of W_hh fits in this is read at L2 bandwidth, the rest at L3 (the design bound: all or nothing)'],
        [
          'read bandwidth per core from L2, one core alone',
          gb(m.l2Bandwidth),
          gb(d.l2Bandwidth),
          `repeated sweeps over ${m.l2TestBytes ? `a ${size(m.l2TestBytes)} buffer` : 'a buffer'} (half of L2), ${KERNELS[m.isa]?.read ?? 'loads into independent accumulators'}`,
        ],
        ['read bandwidth per core from L2, all cores at once', gb(m.l2BandwidthAllCores), `${gb(d.l2BandwidthAllCores)} (one figure)`, 'the same, each core on a buffer of its own at the same time'],
        ['read bandwidth per core from L3, one core alone', gb(m.l3Bandwidth), gb(d.l3Bandwidth), `the same over ${l3Test} (${l3Why})`],
        ['read bandwidth per core from L3, all cores at once', gb(m.l3BandwidthAllCores), `${gb(d.l3BandwidthAllCores)} (one figure)`, 'the same, each core on a buffer of its own at the same time'],
        ...(m.peakInt8Ops
          ? [['int8 dot-product peak per core (one core / all cores)', `${gf(m.peakInt8Ops)} / ${gf(m.peakInt8OpsAllCores)} (ops: 2 per byte product)`, '—', '16 independent chains of vpdpbusd (AVX-512 VNNI) in registers; the qint8 bound\'s peak']]
          : []),
        ...(m.peakBf16Flops
          ? [['bfloat16 dot-product peak per core (one core / all cores)', `${gf(m.peakBf16Flops)} / ${gf(m.peakBf16FlopsAllCores)}`, '—', '16 independent chains of vdpbf16ps (AVX-512 BF16) in registers; the bfloat16 bound\'s peak']]
          : []),
        ['physical cores', m.cores, d.cores, 'one thread pinned to each, from /sys/devices/system/cpu/cpu*/topology'],
      ],
    ),
    '',
  );
  out.push(
    `Each figure is the best of ${m.repetitions ?? 'a few'} repetitions of ~${m.secondsPerRepetition ?? 0.1} s, ` +
      'timed in each thread\'s CPU time, so that time the scheduler gave other processes does not count (their ' +
      'use of the shared caches still can lower a figure). A bound with one thread uses the one-core figures; with ' +
      'more, the all-cores ones, since then every core streams its share at the same time. shared/roofline.py has ' +
      'one figure per limit; the design columns use it for both.',
    '',
  );
  return out;
}

function uniqueCases(rows) {
  const seen = new Map();
  for (const r of rows) seen.set(r.case.name, r.case);
  return [...seen.values()];
}
