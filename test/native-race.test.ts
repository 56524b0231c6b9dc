/**
 * Batch sizes in a SharedArrayBuffer, rewritten by a worker thread in a tight loop while forwards run:
 * every call must either succeed with an answer consistent with one non-increasing sequence of batch
 * sizes, or throw the library's Error. The native layer and the facade each read such an array once,
 * check the copy and use only it; checking the shared memory and reading it again let an increasing
 * sequence through, which the engine then ran.
 *
 * The model makes every answer checkable: a ReLU RNN with no input features, W_hh = 1, b_ih = 1 and
 * b_hh = 0 computes h_t = t + 1 for every sequence, so each output row says which step it belongs to,
 * the row counts per step spell out the batch sizes the call used, and h_n[n] is the step count of
 * sequence n.
 */
import { types } from 'util';
import { Worker } from 'worker_threads';
import { PackedSequence, RNN, Tensor, padPackedSequence } from '../lib';
import { native } from '../lib/native';

/** Steps and calls of the native test: long sequences give each call many chances to read a mixture. */
const STEPS = 16384;
const CALLS = 1500;

// A few seconds here; more on a loaded machine or under the sanitizers (npm run test:asan).
jest.setTimeout(120_000);

/** Batch sizes in shared memory, and a worker that writes `patterns` into them in turn until told to stop. */
async function rewriter(patterns: Int32Array[]): Promise<{ sizes: Int32Array; passes: () => number; stop: () => Promise<void> }> {
  const sizes = new Int32Array(new SharedArrayBuffer(4 * patterns[0].length));
  sizes.set(patterns[0]);
  const control = new Int32Array(new SharedArrayBuffer(8)); // [stop flag, passes done]
  const worker = new Worker(
    `const { workerData, parentPort } = require('worker_threads');
     const sizes = new Int32Array(workerData.sizes);
     const control = new Int32Array(workerData.control);
     parentPort.postMessage('running');
     while (Atomics.load(control, 0) === 0) {
       for (const pattern of workerData.patterns) sizes.set(pattern);
       Atomics.add(control, 1, 1);
     }`,
    { eval: true, workerData: { sizes: sizes.buffer, control: control.buffer, patterns } },
  );
  await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
  return {
    sizes,
    passes: () => Atomics.load(control, 1),
    stop: async () => {
      Atomics.store(control, 0, 1);
      await new Promise((resolve) => worker.once('exit', resolve));
    },
  };
}

/**
 * Why `output` (rows time-major, one feature) and `hN` are not the answer for any valid batch sizes of
 * `steps` steps starting at `batch`, or null when they are. `declared`, when given, must be those sizes.
 */
function inconsistency(output: ArrayLike<number>, hN: ArrayLike<number>, steps: number, batch: number, declared?: ArrayLike<number>): string | null {
  const counts: number[] = [];
  for (let row = 0; row < output.length; ) {
    const step = counts.length;
    if (output[row] !== step + 1) return `output row ${row} holds ${output[row]}, but step ${step} holds ${step + 1}`;
    let n = 0;
    while (row < output.length && output[row] === step + 1) (row++, n++);
    counts.push(n);
  }
  if (counts.length !== steps) return `${counts.length} steps, expected ${steps}`;
  if (counts[0] !== batch) return `${counts[0]} rows at step 0, expected ${batch}`;
  for (let t = 1; t < steps; t++) if (counts[t] > counts[t - 1]) return `batch sizes increase at step ${t}: ${counts[t - 1]} then ${counts[t]}`;
  if (declared && Array.from(declared).join() !== counts.join()) return 'the returned batchSizes are not those the output was computed with';
  for (let n = 0; n < batch; n++) {
    const ran = counts.filter((c) => c > n).length;
    if (hN[n] !== ran) return `h_n[${n}] is ${hN[n]}, but sequence ${n} ran ${ran} steps`;
  }
  return null;
}

/** The outcome of one call: null when it was consistent or refused by the library, else what went wrong. */
async function outcome(run: () => unknown): Promise<string | null> {
  try {
    return (await run()) as string | null;
  } catch (e) {
    // The addon's errors are made in Node's main context, not jest's: instanceof Error is false for them.
    if ((types.isNativeError(e) || e instanceof Error) && /batchSizes/.test(e.message)) return null;
    return `not the library's error: ${String(e)}`;
  }
}

function pattern(steps: number, fill: (t: number) => number): Int32Array {
  return Int32Array.from({ length: steps }, (_, t) => fill(t));
}

describe('batch sizes rewritten by another thread during forward calls', () => {
  test('native PackedModel: each call uses one copy, checked (sync and async)', async () => {
    // No input features, so any batch sizes fit the (empty) input: the copy's checks alone stand between
    // a mixed read and the engine.
    const spec = { mode: 'RNN_RELU', inputSize: 0, hiddenSize: 1, projSize: 0, numLayers: 1, bidirectional: false, bias: true, dtype: 'float32' } as const;
    const model = new native.PackedModel(spec, [new Float32Array(0), Float32Array.of(1), Float32Array.of(1), Float32Array.of(0)]);
    // Two valid sequences whose mixtures are mostly increasing: [2, 1, 1, ...] and [2, 2, 2, ...].
    const race = await rewriter([pattern(STEPS, (t) => (t === 0 ? 2 : 1)), pattern(STEPS, () => 2)]);
    const failures: string[] = [];
    try {
      for (let i = 0; i < CALLS; i++) {
        const args = { input: new Float32Array(0), seqLen: STEPS, batch: 2, batchFirst: false, batchSizes: race.sizes, dropout: 0, dropoutSeed: 0 };
        const failure = await outcome(async () => {
          const r = i % 4 === 3 ? await model.forwardAsync(args) : model.forward(args);
          return inconsistency(r.output, r.hN, STEPS, 2);
        });
        if (failure !== null) failures.push(failure);
      }
    } finally {
      await race.stop();
    }
    expect(race.passes()).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  });

  test('RNN.forward on a PackedSequence whose batchSizes are shared: checked and used as one copy', async () => {
    const rnn = new RNN({ inputSize: 0, hiddenSize: 1, nonlinearity: 'relu' });
    rnn.weight_hh_l0.data.fill(1);
    rnn.bias_ih_l0.data.fill(1);
    rnn.bias_hh_l0.data.fill(0);
    rnn.flattenParameters();
    // Two valid sequences of 64 steps with the same total (so both fit the data's rows) that differ only
    // at steps 1 and 2: [3, 2, 2, 1, ...] and [3, 3, 1, 1, ...]. Their mixtures have other totals. Short,
    // so that the worker flips between them many times during one call.
    const steps = 64;
    const first = pattern(steps, (t) => (t === 0 ? 3 : t < 3 ? 2 : 1));
    const race = await rewriter([first, pattern(steps, (t) => (t < 2 ? 3 : 1))]);
    const seq = new PackedSequence(Tensor.zeros([steps + 4, 0]), first);
    Object.defineProperty(seq, 'batchSizes', { value: race.sizes }); // what plain JS can do to the readonly field
    const failures: string[] = [];
    try {
      for (let i = 0; i < 2 * CALLS; i++) {
        const failure = await outcome(async () => {
          const [out, hN] = i % 4 === 3 ? await rnn.forwardAsync(seq) : rnn.forward(seq);
          return inconsistency(out.data.data, hN.data, steps, 3, out.batchSizes);
        });
        if (failure !== null) failures.push(failure);
      }
    } finally {
      await race.stop();
    }
    expect(race.passes()).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  });

  test('padPackedSequence on a PackedSequence whose batchSizes are shared: one copy, checked and used', async () => {
    // Data row r holds r + 1, so every padded entry says which row it came from.
    const steps = 64;
    const first = pattern(steps, (t) => (t === 0 ? 3 : t < 3 ? 2 : 1));
    const race = await rewriter([first, pattern(steps, (t) => (t < 2 ? 3 : 1))]);
    const rows = steps + 4;
    const seq = new PackedSequence(new Tensor(Float32Array.from({ length: rows }, (_, r) => r + 1), [rows]), first);
    Object.defineProperty(seq, 'batchSizes', { value: race.sizes });
    const failures: string[] = [];
    try {
      for (let i = 0; i < 2 * CALLS; i++) {
        const failure = await outcome(() => {
          const [padded, lengths] = padPackedSequence(seq, { paddingValue: -1 });
          // The batch sizes the lengths imply, and the rows they put at each (t, b).
          const counts = Array.from({ length: steps }, (_, t) => Array.from(lengths).filter((l) => l > t).length);
          if (counts[0] !== 3 || counts.reduce((a, b) => a + b, 0) !== rows) return `lengths [${Array.from(lengths).join(', ')}] do not fit the data`;
          for (let b = 1; b < 3; b++) if (lengths[b] > lengths[b - 1]) return `lengths increase: [${Array.from(lengths).join(', ')}]`;
          let row = 0;
          for (let t = 0; t < steps; t++) {
            for (let b = 0; b < 3; b++) {
              const want = b < counts[t] ? ++row : -1;
              if (padded.data[t * 3 + b] !== want) return `padded[${t}][${b}] is ${padded.data[t * 3 + b]}, expected ${want}`;
            }
          }
          return null;
        });
        if (failure !== null) failures.push(failure);
      }
    } finally {
      await race.stop();
    }
    expect(race.passes()).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  });
});
