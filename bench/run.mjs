#!/usr/bin/env node
// torchrnn's benchmark: torchrnn (forward and forwardAsync) against onnxruntime-node and PyTorch, side
// by side in one run, on the same weights and input; writes bench/RESULTS.md. See bench/README.md.
//
//   node bench/run.mjs                                 all cases, threads 1 and 2
//   node bench/run.mjs --case lstm-b1 --threads 1 --quick
//   node bench/run.mjs --mode gru --input-size 64 --hidden-size 128 --T 50 --N 4

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { customCase, namedCases, randomInput } from './cases.mjs';
import { peakRss } from './memory.mjs';
import { buildOnnxInt8Model, buildOnnxModel, onnxCanExpress, onnxInt8CanExpress } from './onnx_model.mjs';
import { createSession, loadOrt, ortPeer } from './peers/ort.mjs';
import { TorchWorker, torchPeerEnv, torchUnavailable } from './peers/torch.mjs';
import { float32WeightBytes, loadTorchrnn, makeModule, parameters, quantizedPeers, torchrnnPeers } from './peers/torchrnn.mjs';
import { watchLoad } from './machine_load.mjs';
import { startCompetitor } from './contention.mjs';
import { gemmFlops, SQUARE_SIZES, timeGemm, timeInputGemms } from './gemm.mjs';
import { describeLimits, measureMachineLimits, readMachineLimits } from './machine_limits.mjs';
import { consoleTable, machine, markdown } from './report.mjs';
import { bound, DESIGN_LIMITS, perCoreLimits, PRECISIONS } from './roofline.mjs';
import { measure, PLANS } from './timing.mjs';
import { agrees, maxAbsDiff, TOLERANCE } from './verify.mjs';

const HELP = `usage: node bench/run.mjs [options]
  --case NAME[,NAME]     cases of bench/cases.json (repeatable, or comma-separated; default: all)
  --mode M --input-size I --hidden-size H [--num-layers L] [--bidirectional] [--proj-size P] --T T --N N
                         a custom shape instead (M: lstm, gru, rnn_tanh, rnn_relu)
  --threads 1,2          thread counts to measure (default 1,2)
  --precision LIST       also time the module converted by quantizeDynamic to each of these dtypes
                         (qint8, bfloat16, float16, comma-separated), in the same rounds as float32; with
                         qint8, onnxruntime's int8 LSTM (DynamicQuantizeLSTM) on the same int8 weights too
  --no-ort, --no-torch   leave a peer out
  --no-memory            skip the peak-RSS probes (fresh processes per engine and case)
  --contention           also time every case and thread count with a busy competitor process beside the
                         engines (one core kept spinning), and report those rows apart
  --no-gemm              skip the GEMM timings (square GEMMs and each case's input projection alone)
  --quick                few repetitions: a smoke run, not numbers to keep
  --seed S               seeds the weights and the input (default 0)
  --limits PATH          this machine's limits from a file written by \`node bench/machine_limits.mjs > PATH\`,
                         instead of measuring them at the start (a few seconds)
  --out PATH             where to write the markdown (default bench/RESULTS.md)
  --json PATH            also write the raw rows as JSON`;

/** Cores other processes may keep busy before a row is flagged as measured on a shared machine. */
const BUSY_ELSEWHERE = 0.1;

const log = (...a) => console.error(...a); // progress on stderr; stdout carries the table

function options() {
  const { values } = parseArgs({
    options: {
      case: { type: 'string', multiple: true },
      mode: { type: 'string' },
      'input-size': { type: 'string' },
      'hidden-size': { type: 'string' },
      'num-layers': { type: 'string' },
      bidirectional: { type: 'boolean' },
      'proj-size': { type: 'string' },
      T: { type: 'string' },
      N: { type: 'string' },
      threads: { type: 'string', default: '1,2' },
      precision: { type: 'string', default: '' },
      'no-ort': { type: 'boolean' },
      'no-torch': { type: 'boolean' },
      'no-memory': { type: 'boolean' },
      contention: { type: 'boolean' },
      'no-gemm': { type: 'boolean' },
      quick: { type: 'boolean' },
      seed: { type: 'string', default: '0' },
      limits: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const int = (flag) => (values[flag] === undefined ? undefined : Number(values[flag]));
  let cases;
  if (values.mode) {
    cases = [
      customCase({
        mode: values.mode,
        inputSize: int('input-size'),
        hiddenSize: int('hidden-size'),
        numLayers: int('num-layers') ?? 1,
        bidirectional: !!values.bidirectional,
        projSize: int('proj-size') ?? 0,
        T: int('T'),
        N: int('N'),
      }),
    ];
  } else {
    const all = namedCases();
    cases = values.case ? values.case.flatMap((n) => n.split(',')).map((n) => all.find((c) => c.name === n) ?? fail(`no case ${n}: ${all.map((c) => c.name).join(', ')}`)) : all;
  }
  const threads = values.threads.split(',').map(Number);
  if (!threads.every((n) => Number.isInteger(n) && n > 0)) fail(`--threads wants positive integers, got ${values.threads}`);
  const precisions = values.precision.split(',').filter(Boolean);
  const unknown = precisions.filter((p) => !(p in PRECISIONS) || p === 'float32');
  if (unknown.length) fail(`--precision wants qint8, bfloat16, float16; got ${unknown.join(', ')}`);
  return {
    cases,
    threads,
    precisions,
    ort: !values['no-ort'],
    torch: !values['no-torch'],
    memory: !values['no-memory'],
    contention: !!values.contention,
    gemm: !values['no-gemm'],
    plan: values.quick ? PLANS.quick : PLANS.full,
    quick: !!values.quick,
    seed: Number(values.seed),
    limits: values.limits && resolve(values.limits),
    out: values.out ? resolve(values.out) : fileURLToPath(new URL('RESULTS.md', import.meta.url)),
    json: values.json && resolve(values.json),
  };
}

function fail(message) {
  console.error(message);
  process.exit(2);
}

async function main() {
  const opt = options();
  const notes = []; // said once each in RESULTS.md (deduplicated there)

  // ---- this machine's limits: first, so that nothing else runs meanwhile and they disturb no timing ----
  let thisMachine; // { limits: MachineLimits | null, how }
  if (opt.limits) {
    try {
      thisMachine = readMachineLimits(opt.limits);
    } catch (e) {
      fail(`--limits: ${e.message}`);
    }
  } else {
    log('measuring this machine\'s limits (a few seconds)...');
    thisMachine = measureMachineLimits();
    if (thisMachine.limits) thisMachine.how += ', at the start of this run, before any engine was loaded';
  }
  if (thisMachine.limits) log(`${describeLimits(thisMachine.limits)}\n${thisMachine.how}`);
  else {
    log(`this machine's limits: none (${thisMachine.how}); the bound uses the design constants`);
    notes.push(`**This machine's limits could not be measured (${thisMachine.how}): every bound and target below is the design constants'.**`);
  }

  // ---- the engines --------------------------------------------------------------------------------
  const t = await loadTorchrnn();
  const threadsNote = t.threadsSettable
    ? 'set with setNumThreads(n) to each measured thread count'
    : 'not settable (torchrnn exports no setNumThreads): torchrnn runs with its own default at every ' +
      'thread count below; only the peers\' thread counts change';
  if (!t.hasForwardAsync) notes.push('torchrnn has no forwardAsync: the async column is empty.');

  const o = opt.ort ? loadOrt() : { missing: 'left out (--no-ort)' };
  if (o.missing) log(`onnxruntime-node: ${o.missing}`);

  let worker;
  const droppedBlasSettings = torchPeerEnv().dropped;
  let torchInfo;
  const torchWhy = opt.torch ? torchUnavailable() : 'left out (--no-torch)';
  if (torchWhy) log(`PyTorch: ${torchWhy}`);
  else {
    worker = new TorchWorker();
    torchInfo = await worker.request({ cmd: 'info' });
  }

  const info = {
    date: new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'),
    machine: machine(),
    torchrnn: { version: t.version, backend: t.backend, backendSource: t.backendSource, addon: t.addon, threadsNote },
    ort: o.missing ? `not measured: ${o.missing}` : `${o.version} (CPU execution provider; intraOpNumThreads = the thread count, interOpNumThreads 1, graphOptimizationLevel 'all', sequential)`,
    torch: torchWhy
      ? `not measured: ${torchWhy}`
      : `${torchInfo.torch} (Python ${torchInfo.python}, numpy ${torchInfo.numpy}; BLAS ${torchInfo.blas.join(', ') || 'not found'}; torch.set_num_threads(n) and OpenBLAS's own thread count, no_grad, eval; ` +
        `BLAS environment of the worker: ${Object.entries(torchInfo.env).map(([k, v]) => `${k}=${v}`).join(' ') || 'none set'}` +
        `${droppedBlasSettings.length ? `; taken out of ours so that OpenBLAS picks its kernels by CPU model: ${droppedBlasSettings.join(' ')}` : ''})`,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    plan: opt.plan,
    limits: { measured: thisMachine.limits, how: thisMachine.how },
    notes,
  };
  if (torchInfo && !torchInfo.blas.some((b) => /openblas|blis|mkl/i.test(b))) {
    notes.push(
      `**PyTorch here runs on the reference BLAS (${torchInfo.blas.join(', ') || 'none found'}), not OpenBLAS as ` +
        'for the peer numbers of DESIGN.md §6: its times are far slower than a usual PyTorch install, and the ' +
        'targets against it are easy. Installing Debian\'s libopenblas0-pthread switches it to OpenBLAS.**',
    );
  }
  notes.push(`Load average when the run started (1, 5, 15 min): ${loadavg().map((l) => l.toFixed(2)).join(', ')}.`);
  if (opt.quick) notes.push('**--quick run: few repetitions, a smoke test, not numbers to rely on.**');
  if (!/EPYC/.test(info.machine.cpu)) {
    notes.push(
      'The design constants of shared/roofline.py were measured on the design machine of DESIGN.md §6 ' +
        `(AMD EPYC Zen 5); this run's CPU is "${info.machine.cpu}". The verdicts that count use this machine's ` +
        'roofline; the "design" columns show those constants\' verdicts beside them.',
    );
  }
  log(`torchrnn ${t.version}, backend ${t.backend}; threads: ${t.threadsSettable ? 'settable' : 'not settable'}`);

  // FMA peak of P cores together, on this machine's limits (the design's when unmeasured).
  const peakOf = (P) => P * perCoreLimits(thisMachine.limits ?? DESIGN_LIMITS, P).peak;

  // ---- the GEMM alone, against the peak: square shapes (one thread: Linear runs on the calling thread) ----
  const gemms = [];
  if (opt.gemm) {
    t.setThreads(1);
    for (const s of SQUARE_SIZES) {
      const gemmMs = timeGemm(t.lib, s, s, s, opt.quick ? 30 : 500);
      gemms.push({ m: s, n: s, k: s, ms: gemmMs, peakFlops: peakOf(1) });
      log(`GEMM ${s}×${s}×${s}: ${gemmMs.toFixed(3)} ms, ${(gemmFlops(s, s, s) / (gemmMs * 1e6)).toFixed(1)} GFLOP/s`);
    }
  }

  // ---- the cases ----------------------------------------------------------------------------------
  const dir = mkdtempSync(join(tmpdir(), 'torchrnn-bench-'));
  const rows = [];
  const memory = new Map();
  try {
    for (const c of opt.cases) {
      log(`\n== ${c.name}`);
      const module = makeModule(t, c, opt.seed);
      const x = randomInput(c, opt.seed + 1);
      const xTensor = new t.lib.Tensor(x, [c.T, c.N, c.input_size]);
      const params = parameters(module);

      const absent = {};
      if (!t.hasForwardAsync) absent.async = 'no forwardAsync';
      let onnxBytes;
      if (o.missing) absent.ort = 'not measured';
      else if (!onnxCanExpress(c)) absent.ort = 'ONNX LSTM has no projection';
      else onnxBytes = buildOnnxModel(c, params);
      // onnxruntime's int8 LSTM on torchrnn's own qint8 weights and scales, beside torchrnn's qint8.
      let onnxInt8Bytes;
      if (onnxBytes && opt.precisions.includes('qint8') && onnxInt8CanExpress(c)) {
        const quantize = (data, rows, cols) => {
          const q = t.lib.QuantizedWeight.quantize(new t.lib.Tensor(Float32Array.from(data), [rows, cols]), 'qint8');
          return { values: q.values, scales: q.scales };
        };
        onnxInt8Bytes = buildOnnxInt8Model(c, params, quantize);
      }
      if (worker) await worker.load(c, params, x, dir);
      else absent.torch = 'not measured';
      let inputGemm1Ms;
      if (opt.gemm) {
        t.setThreads(1);
        inputGemm1Ms = timeInputGemms(t.lib, c, opt.quick ? 30 : 300);
      }

      for (const n of opt.threads) {
        const torchrnnThreads = t.setThreads(n);
        const peers = [...torchrnnPeers(t, module, xTensor)];
        const reduced = quantizedPeers(t, module, xTensor, opt.precisions);
        peers.push(...reduced);
        let session;
        let sessionInt8;
        if (onnxBytes) {
          session = await createSession(o, onnxBytes, n);
          peers.push(ortPeer(o, session, c, x));
        }
        if (onnxInt8Bytes) {
          sessionInt8 = await createSession(o, onnxInt8Bytes, n);
          peers.push(ortPeer(o, sessionInt8, c, x, { key: 'ortQint8', label: 'onnxruntime qint8', precision: 'qint8' }));
        }
        if (worker) {
          const got = (await worker.request({ cmd: 'threads', n })).threads;
          if (got !== n) notes.push(`PyTorch reported ${got} threads when asked for ${n} on ${c.name}.`);
          peers.push(worker.peer(dir));
        }
        if (torchrnnThreads !== undefined && torchrnnThreads !== n) {
          notes.push(`torchrnn reported ${torchrnnThreads} threads when asked for ${n} on ${c.name}.`);
        }

        // Verification: one forward each, compared with torchrnn sync's; it is also the first warm-up.
        const spent = {};
        const maxDiff = {};
        let reference;
        for (const p of peers) {
          const t0 = performance.now();
          const y = await p.output();
          spent[p.key] = performance.now() - t0;
          if (p.key === 'sync') reference = Float32Array.from(y);
          else if (p.precision) {
            // A reduced precision differs from float32 by its rounding: reported, not judged against 1e-4.
            maxDiff[p.key] = maxAbsDiff(y, reference);
            log(`  ${n} thr  ${p.label}: max |Δ| vs float32 = ${maxDiff[p.key].toExponential(2)}`);
          } else {
            maxDiff[p.key] = maxAbsDiff(y, reference);
            const ok = agrees(maxDiff[p.key]);
            log(`  ${n} thr  verify ${p.label}: max |Δ| = ${maxDiff[p.key].toExponential(2)} ${ok ? 'ok' : `FAILED (> ${TOLERANCE}): its times below compare a different computation`}`);
          }
        }

        const load = watchLoad(worker ? [worker.pid] : []);
        const result = await measure(peers, opt.plan, spent);
        const busy = load.stop();
        const row = {
          case: c,
          threads: n,
          boundMs: bound(c, n, thisMachine.limits ?? undefined), // this machine's; the design's when unmeasured
          designBoundMs: bound(c, n),
          ms: Object.fromEntries(Object.entries(result).map(([k, r]) => [k, r.medianMs])),
          reps: Object.fromEntries(Object.entries(result).map(([k, r]) => [k, r.reps])),
          absent,
          maxDiff,
          busy,
          peakFlops: peakOf(n),
          inputGemmMs: inputGemm1Ms === undefined ? undefined : inputGemm1Ms / n,
          // Per reduced precision: its bound on this machine, and the bytes its weights hold beside float32's.
          precisions: Object.fromEntries(
            reduced.map((p) => [
              p.key,
              { boundMs: bound(c, n, thisMachine.limits ?? undefined, p.key), designBoundMs: bound(c, n, undefined, p.key), weightBytes: p.weightBytes },
            ]),
          ),
          float32WeightBytes: float32WeightBytes(module),
        };
        rows.push(row);
        log(
          `  ${n} thr  ` +
            peers.map((p) => `${p.label} ${result[p.key].medianMs.toFixed(3)} ms (${result[p.key].reps} reps)`).join(', ') +
            (busy ? `; other processes ${busy.otherCores.toFixed(2)} cores busy` : ''),
        );
        if (busy && busy.otherCores > BUSY_ELSEWHERE) {
          notes.push(
            `**Other processes kept more than ${BUSY_ELSEWHERE} of a core busy while some cases were timed ` +
              '(column "others busy"): those rows compare engines on a shared machine and are not clean.**',
          );
        }
        if (opt.contention) {
          // The same peers again, with one core kept busy by a competitor; settling now waits for the
          // machine to be quiet but for the competitor.
          const competitor = await startCompetitor();
          const loadC = watchLoad([...(worker ? [worker.pid] : []), competitor.pid]);
          let contended;
          try {
            contended = await measure(peers, { ...opt.plan, quietCores: 1.25 }, {});
          } finally {
            row.contended = { busy: loadC.stop(), competitor: await competitor.stop() };
          }
          row.contended.ms = Object.fromEntries(Object.entries(contended).map(([k, r]) => [k, r.medianMs]));
          log(
            `  ${n} thr  with a competitor (${row.contended.competitor.cores.toFixed(2)} cores): ` +
              peers.map((p) => `${p.label} ${contended[p.key].medianMs.toFixed(3)} ms`).join(', '),
          );
        }
        await session?.release?.();
        await sessionInt8?.release?.();
      }

      if (opt.memory) {
        log('  peak RSS probes (fresh processes)...');
        let ortModelPath;
        if (onnxBytes) {
          ortModelPath = join(dir, `${c.name}.onnx`);
          writeFileSync(ortModelPath, onnxBytes);
        }
        memory.set(c.name, await peakRss(c, { seed: opt.seed, ortModelPath, torch: worker && { params, x, dir } }));
      }
    }
  } finally {
    await worker?.close();
    rmSync(dir, { recursive: true, force: true });
  }

  // ---- the report ---------------------------------------------------------------------------------
  console.log(consoleTable(rows));
  info.gemms = gemms;
  writeFileSync(opt.out, `${markdown(rows, memory, info)}\n`);
  log(`\nwrote ${opt.out}`);
  if (opt.json) {
    writeFileSync(opt.json, `${JSON.stringify({ info, rows, memory: Object.fromEntries(memory) }, null, 2)}\n`);
    log(`wrote ${opt.json}`);
  }
  const wrong = rows.filter((r) => Object.entries(r.maxDiff).some(([k, d]) => !(k in r.precisions) && k !== 'ortQint8' && !agrees(d)));
  if (wrong.length) {
    log(`\nFAILED verification on: ${[...new Set(wrong.map((r) => r.case.name))].join(', ')}`);
    process.exitCode = 1;
  }
}

await main();
