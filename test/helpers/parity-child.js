// Runs every case of fixtures/modules.json through a built torchrnn and prints the mismatches as JSON.
// A plain script, spawned by kernels-isa.test.ts once per kernel family (TORCHRNN_ISA is read at load)
// and thread count: node parity-child.js <package dir> <threads>
'use strict';
const fs = require('fs');
const path = require('path');

const [packageDir, threadsArg] = process.argv.slice(2);
const torchrnn = require(path.resolve(packageDir));
const threads = Number(threadsArg || 1);
if (torchrnn.setNumThreads) torchrnn.setNumThreads(threads);

const NON_FINITE = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const toTensor = (t) => {
  const values = t.data.map((v) => (typeof v === 'number' ? v : NON_FINITE[v]));
  const data = t.dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values);
  return new torchrnn.Tensor(data, t.shape);
};

function firstMismatch(actual, expected, what) {
  if (actual.shape.join(',') !== expected.shape.join(',')) return `${what}: shape [${actual.shape}] vs [${expected.shape}]`;
  const [atol, rtol] = expected.dtype === 'float64' ? [1e-10, 1e-10] : [1e-5, 1e-4];
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i];
    const e = expected.data[i];
    if (Number.isNaN(a) || Number.isNaN(e)) {
      if (Number.isNaN(a) && Number.isNaN(e)) continue;
    } else if (!Number.isFinite(a) || !Number.isFinite(e)) {
      if (a === e) continue;
    } else if (Math.abs(a - e) <= atol + rtol * Math.abs(e)) {
      continue;
    }
    return `${what}: element ${i} is ${a} but PyTorch gave ${e}`;
  }
  return null;
}

const fixtures = path.join(__dirname, '..', 'fixtures', 'modules.json');
const { cases } = JSON.parse(fs.readFileSync(fixtures, 'utf8'));
const mismatches = [];
for (const c of cases) {
  const Ctor = c.mode === 'LSTM' ? torchrnn.LSTM : c.mode === 'GRU' ? torchrnn.GRU : torchrnn.RNN;
  const module = new Ctor(c.options);
  const stateDict = {};
  for (const p of c.params) stateDict[p.name] = toTensor(p);
  module.loadStateDict(stateDict);
  module.eval();
  const hx = c.hx === null ? undefined : Array.isArray(c.hx) ? c.hx.map(toTensor) : toTensor(c.hx);
  const [output, state] = module.forward(toTensor(c.input), hx);
  const pairs = [[output, c.output, 'output']];
  if (c.mode === 'LSTM') pairs.push([state[0], c.h_n, 'h_n'], [state[1], c.c_n, 'c_n']);
  else pairs.push([state, c.h_n, 'h_n']);
  for (const [actual, expected, what] of pairs) {
    const m = firstMismatch(actual, toTensor(expected), what);
    if (m) mismatches.push(`${c.name}: ${m}`);
  }
}
process.stdout.write(JSON.stringify({ backend: torchrnn.backend(), threads: torchrnn.getNumThreads ? torchrnn.getNumThreads() : 1, cases: cases.length, mismatches }));
