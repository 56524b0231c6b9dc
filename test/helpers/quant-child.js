// Runs every module case of fixtures/quant.json at each reduced precision through a built torchrnn and
// prints, as JSON, where the results differ from PyTorch's with the same rounded weights. A plain script,
// spawned by quant-isa.test.ts once per kernel family (TORCHRNN_ISA is read at load) and thread count:
// node quant-child.js <package dir> <threads>
'use strict';
const fs = require('fs');
const path = require('path');

const [packageDir, threadsArg] = process.argv.slice(2);
const torchrnn = require(path.resolve(packageDir));
torchrnn.setNumThreads(Number(threadsArg || 1));

const NON_FINITE = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const toTensor = (t) => new torchrnn.Tensor(Float32Array.from(t.data.map((v) => (typeof v === 'number' ? v : NON_FINITE[v]))), t.shape);

function firstMismatch(actual, expected, what) {
  if (actual.shape.join(',') !== expected.shape.join(',')) return `${what}: shape [${actual.shape}] vs [${expected.shape}]`;
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i];
    const e = expected.data[i];
    if (Number.isNaN(a) || Number.isNaN(e)) {
      if (Number.isNaN(a) && Number.isNaN(e)) continue;
    } else if (Math.abs(a - e) <= 1e-5 + 1e-4 * Math.abs(e)) {
      continue;
    }
    return `${what}: element ${i} is ${a} but PyTorch gave ${e}`;
  }
  return null;
}

const fixtures = path.join(__dirname, '..', 'fixtures');
const quant = JSON.parse(fs.readFileSync(path.join(fixtures, 'quant.json'), 'utf8'));
const modules = new Map(JSON.parse(fs.readFileSync(path.join(fixtures, 'modules.json'), 'utf8')).cases.map((c) => [c.name, c]));
const mismatches = [];
let runs = 0;
for (const q of quant.modules) {
  const c = modules.get(q.name);
  const Ctor = c.mode === 'LSTM' ? torchrnn.LSTM : c.mode === 'GRU' ? torchrnn.GRU : torchrnn.RNN;
  const float = new Ctor(c.options);
  float.loadStateDict(Object.fromEntries(c.params.map((p) => [p.name, toTensor(p)])));
  float.eval();
  const hx = c.hx === null ? undefined : Array.isArray(c.hx) ? c.hx.map(toTensor) : toTensor(c.hx);
  for (const dtype of ['qint8', 'float16', 'bfloat16']) {
    const [output, state] = torchrnn.quantizeDynamic(float, { dtype }).forward(toTensor(c.input), hx);
    const expected = q.weightOnly[dtype];
    const pairs = [[output, expected.output, 'output']];
    if (c.mode === 'LSTM') pairs.push([state[0], expected.h_n, 'h_n'], [state[1], expected.c_n, 'c_n']);
    else pairs.push([state, expected.h_n, 'h_n']);
    for (const [actual, e, what] of pairs) {
      const m = firstMismatch(actual, toTensor(e), what);
      if (m) mismatches.push(`${c.name} ${dtype}: ${m}`);
    }
    runs++;
  }
}
process.stdout.write(
  JSON.stringify({ backend: torchrnn.backend(), quantized: torchrnn.quantizedBackends(), threads: torchrnn.getNumThreads(), runs, mismatches }),
);
