#!/usr/bin/env node
// This machine's limits for the roofline: compiles bench/machine_limits.cpp with the system C++ compiler
// (once per source and compiler; the binary lives under bench/node_modules/.cache/, which git ignores),
// runs it, and checks what it printed. Without a compiler, or when compiling or running fails, there are
// no limits and the benchmark falls back on the design constants, saying why.
//
//   node bench/machine_limits.mjs               the limits as JSON on stdout, beside the design's on stderr
//   node bench/machine_limits.mjs > limits.json the same, kept for `node bench/run.mjs --limits limits.json`

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DESIGN_LIMITS, l2Fit } from './roofline.mjs';

const SOURCE = fileURLToPath(new URL('machine_limits.cpp', import.meta.url));
const CACHE = fileURLToPath(new URL('node_modules/.cache/torchrnn-bench/', import.meta.url));
const FLAGS = ['-O3', '-std=c++17', '-pthread'];

/** The fields bench/roofline.mjs needs, each a positive number. */
const NUMBERS = [
  'peakFlops',
  'peakFlopsAllCores',
  'l2Bytes',
  'l2Bandwidth',
  'l2BandwidthAllCores',
  'l3Bandwidth',
  'l3BandwidthAllCores',
  'cores',
];

/** The first C++ compiler that answers `--version`: $CXX, then c++, g++, clang++. */
function findCompiler() {
  for (const cxx of [process.env.CXX, 'c++', 'g++', 'clang++'].filter(Boolean)) {
    try {
      const version = execFileSync(cxx, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      return { cxx, version: version.split('\n')[0].trim() };
    } catch {
      // not there or not working: try the next
    }
  }
  return undefined;
}

/** The binary for this source and compiler, compiled when missing. Throws with the compiler's message. */
function binary(compiler) {
  const source = readFileSync(SOURCE);
  const key = createHash('sha256').update(source).update(compiler.version).update(FLAGS.join(' ')).digest('hex').slice(0, 16);
  const bin = join(CACHE, `machine_limits-${key}`);
  if (existsSync(bin)) return bin;
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`; // renamed into place, so that a concurrent run never sees half a file
  try {
    execFileSync(compiler.cxx, [...FLAGS, SOURCE, '-o', tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(tmp, bin);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`${compiler.cxx} failed on bench/machine_limits.cpp: ${String(e.stderr ?? e.message).trim().split('\n').slice(0, 3).join(' ')}`);
  }
  for (const f of readdirSync(CACHE)) {
    // builds of older sources or other compilers: no longer needed
    if (f.startsWith('machine_limits-') && !f.endsWith('.tmp') && join(CACHE, f) !== bin) rmSync(join(CACHE, f), { force: true });
  }
  return bin;
}

/**
 * Checks that `limits` has every figure bench/roofline.mjs needs, as positive numbers.
 * @param {unknown} limits
 * @returns {string | undefined} what is wrong, or undefined when nothing is
 */
export function limitsProblem(limits) {
  if (!limits || typeof limits !== 'object') return 'not a JSON object';
  const bad = NUMBERS.filter((k) => !(Number.isFinite(limits[k]) && limits[k] > 0));
  return bad.length ? `missing or not positive: ${bad.join(', ')}` : undefined;
}

/**
 * Measures this machine's limits (a few seconds; nothing else should run meanwhile).
 * @returns {{ limits: import('./roofline.mjs').MachineLimits | null, how: string }} the limits, or null
 *   with `how` saying why there are none; with limits, `how` names the compiler
 */
export function measureMachineLimits() {
  const compiler = findCompiler();
  if (!compiler) return { limits: null, how: 'no C++ compiler found ($CXX, c++, g++, clang++) to build bench/machine_limits.cpp' };
  let out;
  try {
    out = execFileSync(binary(compiler), { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return { limits: null, how: e.message.split('\n')[0] };
  }
  let limits;
  try {
    limits = JSON.parse(out);
  } catch {
    return { limits: null, how: `bench/machine_limits.cpp printed no JSON: ${out.slice(0, 200)}` };
  }
  const problem = limitsProblem(limits);
  if (problem) return { limits: null, how: `bench/machine_limits.cpp printed unusable limits (${problem})` };
  return { limits, how: `measured by bench/machine_limits.cpp, built with ${compiler.version} (${FLAGS.join(' ')})` };
}

/**
 * Limits kept in a file by `node bench/machine_limits.mjs > FILE`. Throws when the file is unusable.
 * @param {string} path
 * @returns {{ limits: import('./roofline.mjs').MachineLimits, how: string }}
 */
export function readMachineLimits(path) {
  const limits = JSON.parse(readFileSync(path, 'utf8'));
  const problem = limitsProblem(limits);
  if (problem) throw new Error(`${path}: ${problem}`);
  return { limits, how: `read from ${path} (measured earlier by bench/machine_limits.cpp), not measured in this run` };
}

/** One line per limit, this machine's beside the design's, for the terminal. */
export function describeLimits(limits) {
  const g = (v) => `${(v / 1e9).toFixed(0).padStart(4)} G`;
  const k = (v) => `${(v / 1024).toFixed(0).padStart(6)} KiB`;
  const d = DESIGN_LIMITS;
  const rows = [
    ['fp32 FMA peak per core, FLOP/s, one core', g(limits.peakFlops), g(d.peakFlops)],
    ['                             , all cores', g(limits.peakFlopsAllCores), g(d.peakFlopsAllCores)],
    ['L2 per core', k(limits.l2Bytes), k(d.l2Bytes)],
    ['fits L2 (3/4 of it)', k(l2Fit(limits)), k(l2Fit(d))],
    ['L2 read bandwidth per core, B/s, one core', g(limits.l2Bandwidth), g(d.l2Bandwidth)],
    ['                              , all cores', g(limits.l2BandwidthAllCores), g(d.l2BandwidthAllCores)],
    ['L3 read bandwidth per core, B/s, one core', g(limits.l3Bandwidth), g(d.l3Bandwidth)],
    ['                              , all cores', g(limits.l3BandwidthAllCores), g(d.l3BandwidthAllCores)],
    ...(limits.peakInt8Ops ? [['int8 dot (VNNI) peak per core, op/s, one core', g(limits.peakInt8Ops), '—']] : []),
    ...(limits.peakBf16Flops ? [['bf16 dot peak per core, FLOP/s, one core', g(limits.peakBf16Flops), '—']] : []),
  ];
  return [
    `${''.padEnd(42)} ${'this machine'.padStart(12)} ${'design'.padStart(12)}`,
    ...rows.map(([name, ours, design]) => `${name.padEnd(42)} ${ours.padStart(12)} ${design.padStart(12)}`),
    `(${limits.isa}, ${limits.cores} cores measured; design: shared/roofline.py)`,
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { limits, how } = measureMachineLimits();
  if (!limits) {
    console.error(`no limits: ${how}`);
    process.exit(1);
  }
  console.log(JSON.stringify(limits, null, 2));
  console.error(`${describeLimits(limits)}\n${how}`);
}
