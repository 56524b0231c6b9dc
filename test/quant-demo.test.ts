/**
 * The demo character model (examples/demo) with its LSTM and head quantized: greedy generations from the
 * prompts PyTorch recorded stay with float32's for as long as measured (docs/PRECISION.md, with headroom),
 * and the next-character loss over its text moves by less than measured times ten.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Embedding, LSTM, Linear, Tensor, loadSafetensors, quantizeDynamic, type QuantizedDType } from '../lib';
import type { DynamicQuantizedLSTM, DynamicQuantizedLinear } from '../lib';

const demoDir = path.join(__dirname, '..', 'examples', 'demo');
const { chars } = JSON.parse(fs.readFileSync(path.join(demoDir, 'vocab.json'), 'utf8')) as { chars: string[] };
const expected = JSON.parse(fs.readFileSync(path.join(demoDir, 'expected.json'), 'utf8')) as {
  generations: Array<{ prompt: string; length: number; text: string }>;
};
const text = fs.readFileSync(path.join(demoDir, 'sonnets.txt'), 'utf8');
const encode = (s: string): Int32Array => Int32Array.from([...s].map((ch) => chars.indexOf(ch)));

/** Greedy characters (of 200 per prompt) that match PyTorch's float32 text before the first difference, measured. */
const MIN_AGREEMENT: Record<QuantizedDType, number> = { qint8: 10, float16: 100, bfloat16: 100 };
/** Measured loss changes: qint8 2e-4, float16 and bfloat16 below 1e-4; bounds ten times that. */
const MAX_LOSS_CHANGE: Record<QuantizedDType, number> = { qint8: 2e-3, float16: 1e-3, bfloat16: 1e-3 };

type Head = Linear | DynamicQuantizedLinear;
type Recurrent = LSTM | DynamicQuantizedLSTM;

let embedding: Embedding;
let lstm: LSTM;
let head: Linear;

beforeAll(async () => {
  const sd = await loadSafetensors(path.join(demoDir, 'model.safetensors'));
  embedding = Embedding.fromStateDict(sd, { prefix: 'embedding.' });
  lstm = LSTM.fromStateDict(sd, { prefix: 'lstm.', batchFirst: true }).eval();
  head = Linear.fromStateDict(sd, { prefix: 'head.' });
});

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function greedy(r: Recurrent, h: Head, prompt: string, length: number): string {
  const ids = encode(prompt);
  let [output, state] = r.forward(embedding.forward(ids, [1, ids.length]));
  let out = '';
  for (let step = 0; step < length; step++) {
    const last = new Tensor(output.data.slice(output.data.length - r.hiddenSize), [1, r.hiddenSize]);
    const next = argmax(h.forward(last).data);
    out += chars[next];
    [output, state] = r.forward(embedding.forward(Int32Array.of(next), [1, 1]), state);
  }
  return out;
}

function loss(r: Recurrent, h: Head): number {
  const ids = encode(text);
  const [output] = r.forward(embedding.forward(ids.subarray(0, ids.length - 1), [1, ids.length - 1]));
  const logits = h.forward(output).data as Float32Array;
  const V = chars.length;
  let total = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    const row = logits.subarray(t * V, (t + 1) * V);
    let top = -Infinity;
    for (const x of row) top = Math.max(top, x);
    let sum = 0;
    for (const x of row) sum += Math.exp(x - top);
    total += Math.log(sum) + top - row[ids[t + 1]];
  }
  return total / (ids.length - 1);
}

describe.each(['qint8', 'float16', 'bfloat16'] as QuantizedDType[])('the demo model at %s', (dtype) => {
  it('generates PyTorch\'s greedy text for as long as measured', () => {
    const qlstm = quantizeDynamic(lstm, { dtype });
    const qhead = quantizeDynamic(head, { dtype });
    for (const g of expected.generations) {
      const got = greedy(qlstm, qhead, g.prompt, g.length);
      let agree = 0;
      while (agree < got.length && got[agree] === g.text[agree]) agree++;
      expect(agree).toBeGreaterThanOrEqual(MIN_AGREEMENT[dtype]);
    }
  });

  it('keeps the loss over its text', () => {
    const change = Math.abs(loss(quantizeDynamic(lstm, { dtype }), quantizeDynamic(head, { dtype })) - loss(lstm, head));
    expect(change).toBeLessThanOrEqual(MAX_LOSS_CHANGE[dtype]);
  });
});
