// Measures what each reduced precision does to the outputs of every parity fixture, and prints the tables
// of docs/PRECISION.md: node scripts/precision-report.mjs (after npm run build:ts). Errors are the largest
// |quantized - reference| over output, h_n and c_n, and that over the reference's largest |value|.
import { createRequire } from 'module';
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';

const require = createRequire(import.meta.url);
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const lib = require(root);
const fixtures = path.join(root, 'test', 'fixtures');
const DTYPES = ['qint8', 'float16', 'bfloat16'];

const NON_FINITE = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const toTensor = (t) => {
  const values = t.data.map((v) => (typeof v === 'number' ? v : NON_FINITE[v]));
  return new lib.Tensor(t.dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values), t.shape);
};
const results = (output, state) =>
  Array.isArray(state) ? [output, state[0], state[1]] : [output, state];
const fixtureResults = (r) => [r.output, r.h_n, r.c_n].filter(Boolean).map(toTensor);

function worst(actual, expected) {
  let abs = 0;
  let scale = 0;
  actual.forEach((a, k) => {
    const e = expected[k];
    for (let i = 0; i < e.data.length; i++) {
      abs = Math.max(abs, Math.abs(a.data[i] - e.data[i]));
      scale = Math.max(scale, Math.abs(e.data[i]));
    }
  });
  return { abs, rel: scale > 0 ? abs / scale : 0 };
}

function build(c) {
  const Ctor = c.mode === 'LSTM' ? lib.LSTM : c.mode === 'GRU' ? lib.GRU : lib.RNN;
  const m = new Ctor(c.options);
  m.loadStateDict(Object.fromEntries(c.params.map((p) => [p.name, toTensor(p)])));
  return m.eval();
}

const quant = JSON.parse(fs.readFileSync(path.join(fixtures, 'quant.json'), 'utf8'));
const modules = new Map(JSON.parse(fs.readFileSync(path.join(fixtures, 'modules.json'), 'utf8')).cases.map((c) => [c.name, c]));

// key: dtype/mode/reference -> { abs, rel, absCase }
const table = new Map();
function record(key, name, e) {
  const w = table.get(key) ?? { abs: 0, rel: 0, absCase: '', cases: 0 };
  if (e.abs >= w.abs) Object.assign(w, { abs: e.abs, absCase: name });
  w.rel = Math.max(w.rel, e.rel);
  w.cases++;
  table.set(key, w);
}

for (const q of quant.modules) {
  const c = modules.get(q.name);
  const float = build(c);
  const hx = c.hx === null ? undefined : Array.isArray(c.hx) ? c.hx.map(toTensor) : toTensor(c.hx);
  const input = toTensor(c.input);
  const ours = results(...float.forward(input, hx));
  const torchFloat = fixtureResults(c);
  for (const dtype of DTYPES) {
    const quantized = lib.quantizeDynamic(float, { dtype });
    const got = results(...quantized.forward(input, hx));
    record(`${dtype}|${c.mode}|float32 module`, c.name, worst(got, ours));
    record(`${dtype}|${c.mode}|PyTorch float32`, c.name, worst(got, torchFloat));
    record(`${dtype}|${c.mode}|PyTorch, same weights`, c.name, worst(got, fixtureResults(q.weightOnly[dtype])));
    if (q.torchDynamic[dtype]) {
      record(`${dtype}|${c.mode}|PyTorch quantize_dynamic`, c.name, worst(got, fixtureResults(q.torchDynamic[dtype])));
      // PyTorch's own qint8 module against PyTorch float32: what its 8-bit activations add to the weights'.
      record(`${dtype}|${c.mode}|(PyTorch quantize_dynamic against PyTorch float32)`, c.name, worst(fixtureResults(q.torchDynamic[dtype]), torchFloat));
    }
  }
}

const cells = new Map(JSON.parse(fs.readFileSync(path.join(fixtures, 'cells.json'), 'utf8')).cases.map((c) => [c.name, c]));
for (const q of quant.cells) {
  const c = cells.get(q.name);
  const Ctor = c.mode === 'LSTMCell' ? lib.LSTMCell : c.mode === 'GRUCell' ? lib.GRUCell : lib.RNNCell;
  const float = new Ctor(c.options);
  float.loadStateDict(Object.fromEntries(c.params.map((p) => [p.name, toTensor(p)])));
  float.eval();
  const hx = c.hx === null ? undefined : Array.isArray(c.hx) ? c.hx.map(toTensor) : toTensor(c.hx);
  const states = (s) => (Array.isArray(s) ? s : [s]);
  const ours = states(float.forward(toTensor(c.input), hx));
  const torchFloat = [c.h, c.c].filter(Boolean).map(toTensor);
  for (const dtype of DTYPES) {
    const got = states(lib.quantizeDynamic(float, { dtype }).forward(toTensor(c.input), hx));
    record(`${dtype}|${c.mode}|float32 module`, c.name, worst(got, ours));
    record(`${dtype}|${c.mode}|PyTorch float32`, c.name, worst(got, torchFloat));
    record(`${dtype}|${c.mode}|PyTorch, same weights`, c.name, worst(got, [q.weightOnly[dtype].h, q.weightOnly[dtype].c].filter(Boolean).map(toTensor)));
  }
}

for (const l of quant.linear) {
  const float = new lib.Linear(l.inFeatures, l.outFeatures, { bias: l.bias });
  float.loadStateDict(Object.fromEntries(l.params.map((p) => [p.name, toTensor(p)])));
  const input = toTensor(l.input);
  const ours = [float.forward(input)];
  for (const dtype of DTYPES) {
    const got = [lib.quantizeDynamic(float, { dtype }).forward(input)];
    record(`${dtype}|Linear|float32 module`, l.name, worst(got, ours));
    record(`${dtype}|Linear|PyTorch float32`, l.name, worst(got, [toTensor(l.output)]));
    record(`${dtype}|Linear|PyTorch, same weights`, l.name, worst(got, [toTensor(l.weightOnly[dtype])]));
    if (l.torchDynamic[dtype]) {
      record(`${dtype}|Linear|PyTorch quantize_dynamic`, l.name, worst(got, [toTensor(l.torchDynamic[dtype])]));
      record(`${dtype}|Linear|(PyTorch quantize_dynamic against PyTorch float32)`, l.name, worst([toTensor(l.torchDynamic[dtype])], [toTensor(l.output)]));
    }
  }
}

// The large fixtures: realistic sizes, every fast path of the engine; PyTorch's float32 results only.
const largeDir = path.join(fixtures, 'large');
for (const file of fs.readdirSync(largeDir).filter((f) => f.endsWith('.safetensors')).sort()) {
  const bytes = fs.readFileSync(path.join(largeDir, file));
  const meta = lib.readSafetensorsMetadata(bytes);
  const tensors = lib.parseSafetensors(bytes);
  if (tensors.input.dtype !== 'float32') continue;
  const options = JSON.parse(meta.options);
  const Ctor = meta.mode === 'LSTM' ? lib.LSTM : meta.mode === 'GRU' ? lib.GRU : lib.RNN;
  const float = new Ctor(options);
  float.loadStateDict(Object.fromEntries(Object.entries(tensors).filter(([n]) => /^(weight|bias)_/.test(n))));
  float.eval();
  const lstm = meta.mode === 'LSTM';
  const hx = tensors.h0 === undefined ? undefined : lstm ? [tensors.h0, tensors.c0] : tensors.h0;
  const run = (m) => {
    if (meta.lengths === undefined) return results(...m.forward(tensors.input, hx));
    const packed = lib.packPaddedSequence(tensors.input, JSON.parse(meta.lengths), { batchFirst: options.batchFirst, enforceSorted: meta.enforceSorted === 'true' });
    const [out, state] = m.forward(packed, hx);
    return results(lib.padPackedSequence(out, { batchFirst: options.batchFirst })[0], state);
  };
  const torchFloat = ['output', 'h_n', 'c_n'].filter((n) => tensors[n]).map((n) => tensors[n]);
  for (const dtype of DTYPES) {
    const got = run(lib.quantizeDynamic(float, { dtype }));
    record(`${dtype}|large|PyTorch float32`, meta.name, worst(got, torchFloat));
  }
}

const fmt = (x) => (x === 0 ? '0' : x.toExponential(1));
console.log('| dtype | layers | against | cases | max abs error (case) | max relative error |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [key, w] of table) {
  const [dtype, mode, against] = key.split('|');
  console.log(`| ${dtype} | ${mode} | ${against} | ${w.cases} | ${fmt(w.abs)} (${w.absCase}) | ${fmt(w.rel)} |`);
}

// The demo character model (examples/demo): greedy generations from the recorded prompts, and the mean
// cross-entropy of next-character prediction over sonnets.txt (its training text: the demo has no held-out
// split), with the LSTM and the head converted.
const demoDir = path.join(root, 'examples', 'demo');
const demo = await lib.loadSafetensors(path.join(demoDir, 'model.safetensors'));
const { chars } = JSON.parse(fs.readFileSync(path.join(demoDir, 'vocab.json'), 'utf8'));
const expected = JSON.parse(fs.readFileSync(path.join(demoDir, 'expected.json'), 'utf8'));
const embedding = lib.Embedding.fromStateDict(demo, { prefix: 'embedding.' });
const floatLstm = lib.LSTM.fromStateDict(demo, { prefix: 'lstm.', batchFirst: true }).eval();
const floatHead = lib.Linear.fromStateDict(demo, { prefix: 'head.' });
const encode = (text) => Int32Array.from([...text].map((ch) => chars.indexOf(ch)));
const argmax = (v) => v.reduce((best, x, i) => (x > v[best] ? i : best), 0);

function greedy(lstm, head, prompt, length) {
  const ids = encode(prompt);
  let [output, state] = lstm.forward(embedding.forward(ids, [1, ids.length]));
  let text = '';
  for (let step = 0; step < length; step++) {
    const last = new lib.Tensor(output.data.slice(output.data.length - lstm.hiddenSize), [1, lstm.hiddenSize]);
    const next = argmax(Array.from(head.forward(last).data));
    text += chars[next];
    [output, state] = lstm.forward(embedding.forward(Int32Array.of(next), [1, 1]), state);
  }
  return text;
}

function loss(lstm, head) {
  const ids = encode(fs.readFileSync(path.join(demoDir, 'sonnets.txt'), 'utf8'));
  const [output] = lstm.forward(embedding.forward(ids.subarray(0, ids.length - 1), [1, ids.length - 1]));
  const logits = head.forward(output).data;
  const V = chars.length;
  let total = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    const row = logits.subarray(t * V, (t + 1) * V);
    const top = Math.max(...row);
    const logSum = Math.log(row.reduce((s, x) => s + Math.exp(x - top), 0)) + top;
    total += logSum - row[ids[t + 1]];
  }
  return total / (ids.length - 1);
}

console.log('');
console.log('| dtype | greedy characters equal to float32, before the first difference (of 200 per prompt) | loss over sonnets.txt (float32: ' + loss(floatLstm, floatHead).toFixed(5) + ') |');
console.log('| --- | --- | --- |');
const floatTexts = expected.generations.map((g) => greedy(floatLstm, floatHead, g.prompt, g.length));
for (const [i, g] of expected.generations.entries()) if (floatTexts[i] !== g.text) throw new Error(`float32 generation ${i} differs from PyTorch's`);
for (const dtype of DTYPES) {
  const lstm = lib.quantizeDynamic(floatLstm, { dtype });
  const head = lib.quantizeDynamic(floatHead, { dtype });
  const agree = expected.generations.map((g, i) => {
    const text = greedy(lstm, head, g.prompt, g.length);
    let n = 0;
    while (n < text.length && text[n] === floatTexts[i][n]) n++;
    return n;
  });
  console.log(`| ${dtype} | ${agree.join(', ')} | ${loss(lstm, head).toFixed(5)} |`);
}
