/**
 * DynamicBatcher: requests of different lengths, with and without hx, batched into one packed forward,
 * each answered as its own forward answers it; errors that reject one request alone; backpressure, close
 * and a burst in which every request settles once. The expected values are the library's own forward of
 * each request alone (itself held to PyTorch by the parity suites). Nothing here asserts on time: batches
 * are made to start by filling them, by close(), or by fake timers.
 */
import {
  BatcherClosedError,
  BatcherQueueFullError,
  packPaddedSequence,
  DynamicBatcher,
  GRU,
  Linear,
  LSTM,
  PackedSequence,
  RNN,
  Tensor,
  manualSeed,
  type BatchReport,
  type Hidden,
  type PackedBatchRunner,
  type RNNBase,
} from '../lib';
import { tolerance } from './helpers/close';
import { randomTensor } from './helpers/random';
import { seededRandom } from './helpers/seeded';

/** Describes where `actual` and `expected` (a forward of the request alone) differ beyond float rounding, or null. */
function difference(actual: Tensor, expected: Tensor, what: string): string | null {
  if (actual.shape.join() !== expected.shape.join()) return `${what}: shape [${actual.shape}], alone [${expected.shape}]`;
  if (actual.dtype !== expected.dtype) return `${what}: dtype ${actual.dtype}, alone ${expected.dtype}`;
  const { atol, rtol } = tolerance(expected.dtype);
  for (let i = 0; i < expected.data.length; i++) {
    if (!(Math.abs(actual.data[i] - expected.data[i]) <= atol + rtol * Math.abs(expected.data[i]))) {
      return `${what}: element ${i} is ${actual.data[i]}, alone ${expected.data[i]}`;
    }
  }
  return null;
}

/** Every difference between a batched answer and the forward alone, output and each state. */
function differences(actual: [Tensor, Hidden], expected: [Tensor, Hidden], what: string): string[] {
  const states = (h: Hidden): Tensor[] => (Array.isArray(h) ? h : [h]);
  const found = [difference(actual[0], expected[0], `${what} output`)];
  expect(Array.isArray(actual[1])).toBe(Array.isArray(expected[1]));
  states(expected[1]).forEach((e, k) => found.push(difference(states(actual[1])[k], e, `${what} state ${k}`)));
  return found.filter((d): d is string => d !== null);
}

/** A request: its input in the module's layout (unbatched, or N sequences of one length) and maybe an hx. */
interface Request {
  input: Tensor;
  hx?: Hidden;
}

/** The hx a forward of `input` takes, random: `(S, H)` unbatched, `(S, N, H)` batched. */
function randomHx(module: RNNBase, input: Tensor, seed: number): Hidden {
  const directions = module.bidirectional ? 2 : 1;
  const layers = module.numLayers * directions;
  const batch = input.dim() === 2 ? undefined : module.batchFirst ? input.shape[0] : input.shape[1];
  const shape = (size: number): number[] => (batch === undefined ? [layers, size] : [layers, batch, size]);
  const h = randomTensor(shape(module.projSize || module.hiddenSize), seed, 1, module.dtype);
  return module.mode === 'LSTM' ? [h, randomTensor(shape(module.hiddenSize), seed + 1, 1, module.dtype)] : h;
}

/** Requests of random lengths 1..maxLength; every third batched (2 or 3 sequences), every other one with hx. */
function randomRequests(module: RNNBase, count: number, seed: number, maxLength = 9): Request[] {
  const next = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const length = 1 + Math.floor(next() * maxLength);
    const n = i % 3 === 2 ? 2 + (i % 2) : 0;
    const shape = n === 0 ? [length, module.inputSize] : module.batchFirst ? [n, length, module.inputSize] : [length, n, module.inputSize];
    const input = randomTensor(shape, seed * 1000 + i, 1, module.dtype);
    return i % 2 === 0 ? { input, hx: randomHx(module, input, seed * 1000 + 500 + i) } : { input };
  });
}

function sequencesOf(module: RNNBase, request: Request): number {
  const { input } = request;
  return input.dim() === 2 ? 1 : module.batchFirst ? input.shape[0] : input.shape[1];
}

/** The message `fn` throws. */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a throw');
}

const modules: [string, () => RNNBase][] = [
  ['LSTM, 2 layers, bidirectional, projSize', () => new LSTM(5, 7, 2, { bidirectional: true, projSize: 3 })],
  ['LSTM, batchFirst', () => new LSTM(4, 6, { batchFirst: true })],
  ['GRU, 2 layers, bidirectional, batchFirst', () => new GRU(3, 5, 2, { bidirectional: true, batchFirst: true })],
  ['GRU', () => new GRU(6, 4)],
  ['RNN relu, 3 layers', () => new RNN(4, 5, 3, { nonlinearity: 'relu' })],
  ['RNN tanh, bidirectional, batchFirst, float64', () => new RNN(3, 4, { bidirectional: true, batchFirst: true, dtype: 'float64' })],
];

describe('DynamicBatcher over a recurrent module', () => {
  beforeEach(() => manualSeed(7));

  it.each(modules)('%s: one batch of mixed lengths, layouts and hx answers each request as its own forward', async (_, make) => {
    const module = make().eval();
    const requests = randomRequests(module, 11, 3);
    const total = requests.reduce((n, r) => n + sequencesOf(module, r), 0);
    const reports: BatchReport[] = [];
    // Full at the last request: the batch starts then, whatever the clock says.
    const batcher = new DynamicBatcher(module, { maxBatchSize: total, maxDelayMs: 60_000, onBatch: (r) => reports.push(r) });
    const answers = await Promise.all(requests.map((r) => batcher.forward(r.input, r.hx)));
    expect(reports.map((r) => [r.requests, r.sequences])).toEqual([[requests.length, total]]);
    const found = answers.flatMap((answer, i) => differences(answer, module.forward(requests[i].input, requests[i].hx), `request ${i}`));
    expect(found).toEqual([]);
    await batcher.close();
  });

  it.each(modules)('%s: batches of at most maxBatchSize sequences, in arrival order', async (_, make) => {
    const module = make().eval();
    const requests = randomRequests(module, 20, 5);
    const reports: BatchReport[] = [];
    const batcher = new DynamicBatcher(module, { maxBatchSize: 4, maxDelayMs: 60_000, onBatch: (r) => reports.push(r) });
    const pending = requests.map((r) => batcher.forward(r.input, r.hx));
    await batcher.close();
    const answers = await Promise.all(pending);
    expect(answers.flatMap((answer, i) => differences(answer, module.forward(requests[i].input, requests[i].hx), `request ${i}`))).toEqual([]);
    expect(reports.length).toBeGreaterThan(1);
    expect(reports.every((r) => r.sequences <= 4)).toBe(true);
    expect(reports.reduce((n, r) => n + r.requests, 0)).toBe(requests.length);
  });

  it.each(modules)('%s: PackedSequence requests (sorted or not, with hx or not) among single sequences', async (_, make) => {
    const module = make().eval();
    const padded = (lengths: number[], seed: number): Tensor => {
      const steps = Math.max(...lengths);
      const shape = module.batchFirst ? [lengths.length, steps, module.inputSize] : [steps, lengths.length, module.inputSize];
      return randomTensor(shape, seed, 1, module.dtype);
    };
    const options = { batchFirst: module.batchFirst };
    const unsorted = packPaddedSequence(padded([2, 6, 3, 6], 31), [2, 6, 3, 6], { ...options, enforceSorted: false });
    const sorted = packPaddedSequence(padded([5, 4, 1], 32), [5, 4, 1], options);
    const requests: { input: Tensor | PackedSequence; hx?: Hidden }[] = [
      { input: randomTensor([4, module.inputSize], 33, 1, module.dtype) },
      { input: unsorted, hx: randomHx(module, padded([1, 1, 1, 1], 0), 34) },
      { input: randomTensor([7, module.inputSize], 35, 1, module.dtype), hx: randomHx(module, Tensor.zeros([7, module.inputSize], module.dtype), 36) },
      { input: sorted },
    ];
    const reports: BatchReport[] = [];
    const batcher = new DynamicBatcher(module, { maxBatchSize: 9, maxDelayMs: 60_000, onBatch: (r) => reports.push(r) });
    const answers = await Promise.all(requests.map((r) => batcher.forward(r.input, r.hx)));
    expect(reports.map((r) => r.sequences)).toEqual([9]);
    const found = answers.flatMap(([output, hidden], i) => {
      const [expectedOutput, expectedHidden] = module.forward(requests[i].input, requests[i].hx);
      if (!(output instanceof PackedSequence && expectedOutput instanceof PackedSequence)) {
        return differences([output as Tensor, hidden], [expectedOutput as Tensor, expectedHidden], `request ${i}`);
      }
      expect([output.batchSizes, output.sortedIndices, output.unsortedIndices]).toEqual([
        expectedOutput.batchSizes,
        expectedOutput.sortedIndices,
        expectedOutput.unsortedIndices,
      ]);
      return differences([output.data, hidden], [expectedOutput.data, expectedHidden], `request ${i}`);
    });
    expect(found).toEqual([]);
  });

  it('gives the module shapes: unbatched (L, Hout) and (S, Hout); batched keeps its batch axis', async () => {
    const lstm = new LSTM(3, 4, 2, { projSize: 2 }).eval();
    const batcher = new DynamicBatcher(lstm, { maxBatchSize: 3, maxDelayMs: 60_000 });
    const [one, two] = await Promise.all([batcher.forward(Tensor.zeros([5, 3])), batcher.forward(Tensor.zeros([2, 2, 3]))]);
    expect([one[0].shape, one[1][0].shape, one[1][1].shape]).toEqual([[5, 2], [2, 2], [2, 4]]);
    expect([two[0].shape, two[1][0].shape, two[1][1].shape]).toEqual([[2, 2, 2], [2, 2, 2], [2, 2, 4]]);
  });

  it('copies input and hx at forward: overwriting them before the batch starts changes nothing', async () => {
    const gru = new GRU(3, 4).eval();
    const x = randomTensor([6, 3], 1);
    const h = randomTensor([1, 4], 2);
    const expected = gru.forward(x, h);
    const batcher = new DynamicBatcher(gru, { maxDelayMs: 60_000 });
    const answer = batcher.forward(x, h);
    x.data.fill(100);
    h.data.fill(-100);
    await batcher.close();
    expect(differences(await answer, expected, 'request')).toEqual([]);
  });

  it('answers a request of no sequences as the module does', async () => {
    const lstm = new LSTM(3, 4).eval();
    const batcher = new DynamicBatcher(lstm);
    const [output, [h, c]] = await batcher.forward(Tensor.zeros([5, 0, 3]));
    expect([output.shape, h.shape, c.shape]).toEqual([[5, 0, 4], [1, 0, 4], [1, 0, 4]]);
    await batcher.close();
    expect(batcher.stats()).toMatchObject({ accepted: 1, resolved: 1, queued: 0, running: 0 });
  });
});

describe('DynamicBatcher rejects a bad request alone, with the module forward error', () => {
  const lstm = new LSTM(4, 5, 2);
  const good = (seed: number): Tensor => randomTensor([3 + seed, 4], seed);
  const bad: [string, unknown, unknown][] = [
    ['a wrong feature size', Tensor.zeros([3, 6]), undefined],
    ['a wrong hx shape', Tensor.zeros([3, 4]), [Tensor.zeros([2, 3]), Tensor.zeros([2, 5])]],
    ['a hx batch that does not match', Tensor.zeros([3, 2, 4]), [Tensor.zeros([2, 3, 5]), Tensor.zeros([2, 3, 5])]],
    ['a wrong dtype', Tensor.zeros([3, 4], 'float64'), undefined],
    ['a wrong hx dtype', Tensor.zeros([3, 4]), [Tensor.zeros([2, 5], 'float64'), Tensor.zeros([2, 5], 'float64')]],
    ['a wrong hx form', Tensor.zeros([3, 4]), Tensor.zeros([2, 5])],
    ['a 4-D input', Tensor.zeros([1, 3, 1, 4]), undefined],
    ['no tensor', [[1, 2, 3, 4]], undefined],
    ['an empty sequence', Tensor.zeros([0, 4]), undefined],
  ];

  it.each(bad)('%s', async (_, input, hx) => {
    lstm.eval();
    const message = thrown(() => lstm.forward(input as Tensor, hx as [Tensor, Tensor]));
    const batcher = new DynamicBatcher(lstm, { maxBatchSize: 2, maxDelayMs: 60_000 });
    const before = batcher.forward(good(1));
    const wrong = batcher.forward(input as Tensor, hx as [Tensor, Tensor]);
    const after = batcher.forward(good(2));
    await expect(wrong).rejects.toThrow(message);
    const answers = await Promise.all([before, after]);
    expect(differences(answers[0], lstm.forward(good(1)), 'before')).toEqual([]);
    expect(differences(answers[1], lstm.forward(good(2)), 'after')).toEqual([]);
    expect(batcher.stats()).toMatchObject({ accepted: 2, invalid: 1, resolved: 2, batches: 1 });
    await batcher.close();
  });

  it('and `validate` rejects a request alone with its own error', async () => {
    const batcher = new DynamicBatcher(lstm.eval(), {
      maxBatchSize: 2,
      maxDelayMs: 60_000,
      validate: (input) => {
        const steps = input instanceof Tensor ? input.shape[0] : input.batchSizes.length;
        if (steps > 5) throw new RangeError(`at most 5 steps, got ${steps}`);
      },
    });
    const results = await Promise.allSettled([batcher.forward(good(1)), batcher.forward(good(4)), batcher.forward(good(2))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new RangeError('at most 5 steps, got 7'));
  });
});

describe('DynamicBatcher over a function of a PackedSequence', () => {
  beforeEach(() => manualSeed(11));

  it('a tagger (a head over packed.data) and its hN split per request', async () => {
    const lstm = new LSTM(3, 6, { bidirectional: true }).eval();
    const head = new Linear(12, 5);
    const tagger: PackedBatchRunner<[PackedSequence, [Tensor, Tensor]]> = async (packed, hx) => {
      const [out, hN] = await lstm.forwardAsync(packed, hx as [Tensor, Tensor] | undefined);
      return [new PackedSequence(head.forward(out.data), out.batchSizes, out.sortedIndices, out.unsortedIndices), hN];
    };
    const lengths = [4, 1, 7, 7, 2, 5];
    const inputs = lengths.map((l, i) => randomTensor([l, 3], 40 + i));
    const hxs = lengths.map((_, i): [Tensor, Tensor] | undefined => (i % 2 === 0 ? [randomTensor([2, 6], 60 + i), randomTensor([2, 6], 70 + i)] : undefined));
    const batcher = new DynamicBatcher(tagger, { maxBatchSize: lengths.length, maxDelayMs: 60_000 });
    const answers = await Promise.all(inputs.map((x, i) => batcher.forward(x, hxs[i])));
    const found = answers.flatMap(([tags, state], i) => {
      const [out, alone] = lstm.forward(inputs[i], hxs[i]);
      return differences([tags, state], [head.forward(out), alone], `request ${i}`);
    });
    expect(found).toEqual([]);
  });

  it('a classifier (one row per sequence, from h_n) gives each request its row', async () => {
    const gru = new GRU(3, 4, 2).eval();
    const head = new Linear(4, 2);
    const lastLayer = (h: Tensor, batch: number): Tensor => new Tensor(h.data.slice(h.data.length - batch * 4), [batch, 4]);
    const classify: PackedBatchRunner<Tensor> = async (packed, hx) => {
      const [, hN] = await gru.forwardAsync(packed, hx as Tensor | undefined);
      return head.forward(lastLayer(hN, packed.batchSizes[0]));
    };
    const inputs = [5, 2, 8, 1].map((l, i) => randomTensor([l, 3], 80 + i));
    const batcher = new DynamicBatcher(classify, { maxBatchSize: 4, maxDelayMs: 60_000 });
    const answers: Tensor[] = await Promise.all(inputs.map((x) => batcher.forward(x)));
    const found = answers.map((logits, i) => {
      const [, hN] = gru.forward(inputs[i]);                  // (2, 4): the last layer is its second row
      const alone = head.forward(new Tensor(hN.data.slice(4), [1, 4]));
      return difference(logits, new Tensor(alone.data, [2]), `request ${i}`);
    });
    expect(found).toEqual([null, null, null, null]);
  });

  it('a PackedSequence alone splits into each request (L, *)', async () => {
    const double: PackedBatchRunner<PackedSequence> = async (packed) => {
      const data = packed.data.data.map((v) => 2 * v);
      return new PackedSequence(new Tensor(data, packed.data.shape), packed.batchSizes, packed.sortedIndices);
    };
    const inputs = [3, 1, 4].map((l, i) => randomTensor([l, 2, 2], 90 + i));
    const batcher = new DynamicBatcher(double, { maxBatchSize: 3, maxDelayMs: 60_000 });
    const answers: Tensor[] = await Promise.all(inputs.map((x) => batcher.forward(x)));
    answers.forEach((a, i) => expect(a).toEqual(new Tensor(inputs[i].data.map((v) => 2 * v), inputs[i].shape)));
  });

  it('a PackedSequence request gets a PackedSequence, its rows of a Tensor, and its columns of hidden', async () => {
    const gru = new GRU(2, 3).eval();
    const both: PackedBatchRunner<[PackedSequence, Tensor]> = async (packed, hx) => gru.forwardAsync(packed, hx as Tensor | undefined);
    const perSequence: PackedBatchRunner<Tensor> = async (packed, hx) => {
      const [, hN] = await gru.forwardAsync(packed, hx as Tensor | undefined);
      return new Tensor(hN.data, [packed.batchSizes[0], 3]);
    };
    const packed = packPaddedSequence(randomTensor([4, 3, 2], 100), [2, 4, 1], { enforceSorted: false });
    const single = randomTensor([3, 2], 101);
    const hx = randomTensor([1, 3, 3], 102);
    const [expectedOutput, expectedHidden] = gru.forward(packed, hx);

    const stepsAndState = new DynamicBatcher(both, { maxBatchSize: 4, maxDelayMs: 60_000 });
    const [[output, hidden]] = await Promise.all([stepsAndState.forward(packed, hx), stepsAndState.forward(single)]);
    expect(output.batchSizes).toEqual(expectedOutput.batchSizes);
    expect(differences([output.data, hidden], [expectedOutput.data, expectedHidden], 'packed request')).toEqual([]);

    const rows = new DynamicBatcher(perSequence, { maxBatchSize: 4, maxDelayMs: 60_000 });
    const [lastStates] = await Promise.all([rows.forward(packed, hx), rows.forward(single)]);
    expect(difference(lastStates, new Tensor(expectedHidden.data, [3, 3]), 'packed request')).toBeNull();
  });

  it('checks a PackedSequence request and its hx', async () => {
    const batcher = new DynamicBatcher(async (p: PackedSequence) => p);
    const packed = packPaddedSequence(Tensor.zeros([3, 2, 1]), [3, 1]);
    await expect(batcher.forward(packed, Tensor.zeros([1, 3, 4]))).rejects.toThrow(
      'DynamicBatcher: hx must be (layers, 2, features), one column per sequence, got [1, 3, 4]',
    );
    (packed.batchSizes as Int32Array)[1] = 2;
    await expect(batcher.forward(packed)).rejects.toThrow('PackedSequence data has 4 rows but batchSizes add up to 5');
  });

  it('a runner that fails rejects its batch with its error; the next batch runs', async () => {
    let calls = 0;
    const flaky: PackedBatchRunner<PackedSequence> = async (packed) => {
      calls++;
      if (calls === 1) throw new Error('model failed');
      return packed;
    };
    const reports: BatchReport[] = [];
    const batcher = new DynamicBatcher(flaky, { maxBatchSize: 2, maxDelayMs: 60_000, onBatch: (r) => reports.push(r) });
    const results = await Promise.allSettled([1, 2, 3, 4].map((l) => batcher.forward(Tensor.zeros([l, 2]))));
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok'))).toEqual(['model failed', 'model failed', 'ok', 'ok']);
    expect(reports.map((r) => (r.error as Error | undefined)?.message)).toEqual(['model failed', undefined]);
    expect(batcher.stats()).toMatchObject({ accepted: 4, failed: 2, resolved: 2, batches: 2 });
  });

  it('a result of the wrong form or batch rejects the batch, naming what is wrong', async () => {
    const cases: [PackedBatchRunner, string][] = [
      [async () => 'logits' as unknown as Tensor, "the runner must resolve to a PackedSequence, a Tensor with one row per sequence, or [PackedSequence, hidden], got: string 'logits'"],
      [async () => Tensor.zeros([3, 2]), 'a Tensor result must have one row per sequence (2), in the batch'],
      [async (p) => new PackedSequence(p.data, [2, 2]), "the runner's PackedSequence must have its input's batchSizes [2, 1, 1], got [2, 2]"],
      [async (p) => [p, Tensor.zeros([1, 3, 2])], "the runner's hidden state must be a Tensor (S, 2, H), one column per sequence, got shape [1, 3, 2]"],
    ];
    for (const [runner, message] of cases) {
      const batcher = new DynamicBatcher(runner, { maxBatchSize: 2, maxDelayMs: 60_000 });
      const results = await Promise.allSettled([batcher.forward(Tensor.zeros([3, 1])), batcher.forward(Tensor.zeros([1, 1]))]);
      const messages = results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'resolved'));
      expect(messages).toEqual([expect.stringContaining(`DynamicBatcher: ${message}`), expect.stringContaining(`DynamicBatcher: ${message}`)]);
    }
  });

  it('checks each request is one sequence with states of one sequence', async () => {
    const batcher = new DynamicBatcher(async (p: PackedSequence) => p);
    await expect(batcher.forward(3 as unknown as Tensor)).rejects.toThrow('DynamicBatcher: input must be a Tensor or a PackedSequence, got: number 3');
    await expect(batcher.forward(new Tensor(new Float32Array(1), []))).rejects.toThrow('DynamicBatcher: input must be one sequence (L, *), got a 0-D tensor');
    await expect(batcher.forward(Tensor.zeros([0, 2]))).rejects.toThrow("Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0");
    await expect(batcher.forward(Tensor.zeros([2, 2]), Tensor.zeros([1, 1, 3]))).rejects.toThrow('DynamicBatcher: hx must be 2-D (layers, features), the state of one sequence, got 3-D');
    await expect(batcher.forward(Tensor.zeros([2, 2]), 'h' as unknown as Tensor)).rejects.toThrow("DynamicBatcher: hx must be a Tensor or an array of Tensors, got: string 'h'");
    expect(batcher.stats()).toMatchObject({ invalid: 5, accepted: 0 });
  });

  it('requests whose steps or states differ in shape run in separate batches, in arrival order', async () => {
    const sizes: number[][] = [];
    const identity: PackedBatchRunner<PackedSequence> = async (p) => {
      sizes.push([...p.data.shape]);
      return p;
    };
    const batcher = new DynamicBatcher(identity, { maxBatchSize: 8, maxDelayMs: 60_000 });
    const inputs = [Tensor.zeros([2, 3]), Tensor.zeros([1, 3]), Tensor.zeros([2, 4]), Tensor.zeros([3, 3])];
    const pending = inputs.map((x) => batcher.forward(x));
    await batcher.close();
    const answers = await Promise.all(pending);
    expect(answers.map((a) => a.shape)).toEqual(inputs.map((x) => x.shape));
    expect(sizes).toEqual([[3, 3], [2, 4], [3, 3]]);
  });
});

describe('DynamicBatcher queue and close', () => {
  const gru = new GRU(2, 3).eval();

  it('rejects beyond maxQueue at once, with a code a service maps to 503', async () => {
    const batcher = new DynamicBatcher(gru, { maxBatchSize: 100, maxDelayMs: 60_000, maxQueue: 3 });
    const queued = [1, 2, 3].map((l) => batcher.forward(Tensor.zeros([l, 2])));
    const refused = batcher.forward(Tensor.zeros([4, 2]));
    await expect(refused).rejects.toBeInstanceOf(BatcherQueueFullError);
    await expect(refused).rejects.toMatchObject({
      code: 'ERR_BATCHER_QUEUE_FULL',
      message: 'DynamicBatcher: the queue is full (maxQueue = 3 requests waiting); try again later',
    });
    expect(batcher.stats()).toMatchObject({ queued: 3, rejectedQueueFull: 1 });
    await batcher.close();
    expect((await Promise.all(queued)).map(([output]) => output.shape)).toEqual([[1, 3], [2, 3], [3, 3]]);
  });

  it('close() drains what is queued, then refuses new requests', async () => {
    const batcher = new DynamicBatcher(gru, { maxDelayMs: 60_000 });
    let settled = 0;
    const pending = [3, 1, 2].map((l) => batcher.forward(Tensor.zeros([l, 2])).finally(() => settled++));
    const closing = batcher.close();
    expect(batcher.close()).toBe(closing);
    expect(batcher.closed).toBe(true);
    await closing;
    expect(settled).toBe(3);
    await Promise.all(pending);
    const late = batcher.forward(Tensor.zeros([1, 2]));
    await expect(late).rejects.toBeInstanceOf(BatcherClosedError);
    await expect(late).rejects.toMatchObject({ code: 'ERR_BATCHER_CLOSED' });
    expect(batcher.stats()).toMatchObject({ accepted: 3, resolved: 3, rejectedClosed: 1, queued: 0, running: 0 });
  });

  it('an abort signal withdraws a waiting request; once its batch has started it is answered', async () => {
    const batcher = new DynamicBatcher(gru, { maxBatchSize: 3, maxDelayMs: 60_000 });
    const early = new AbortController();
    const late = new AbortController();
    const gone = batcher.forward(Tensor.zeros([5, 2]), undefined, { signal: early.signal });
    const stays = batcher.forward(Tensor.zeros([2, 2]), undefined, { signal: late.signal });
    early.abort(new Error('client went away'));
    await expect(gone).rejects.toThrow('client went away');
    expect(batcher.stats()).toMatchObject({ queued: 1, cancelled: 1 });
    const others = [batcher.forward(Tensor.zeros([1, 2])), batcher.forward(Tensor.zeros([3, 2]))];   // the batch is full: it starts
    late.abort(new Error('too late'));
    const answers = await Promise.all([stays, ...others]);
    expect(answers.map(([output]) => output.shape)).toEqual([[2, 3], [1, 3], [3, 3]]);
    expect(batcher.stats()).toMatchObject({ accepted: 4, resolved: 3, cancelled: 1, batches: 1, sequences: 3 });
  });

  it('a request whose signal is already aborted is rejected at once', async () => {
    const batcher = new DynamicBatcher(gru);
    await expect(batcher.forward(Tensor.zeros([1, 2]), undefined, { signal: AbortSignal.abort(new Error('deadline')) })).rejects.toThrow('deadline');
    await expect(batcher.forward(Tensor.zeros([1, 2]), undefined, { signal: 'x' as never })).rejects.toThrow(
      "DynamicBatcher.forward: signal must be an AbortSignal, got: string 'x'",
    );
    await expect(batcher.forward(Tensor.zeros([1, 2]), undefined, { timeout: 5 } as never)).rejects.toThrow(
      "Unknown option 'timeout' for DynamicBatcher.forward. Known options: signal",
    );
    expect(batcher.stats()).toMatchObject({ accepted: 1, cancelled: 1, invalid: 2, queued: 0 });
  });

  it('close() with nothing queued resolves', async () => {
    await expect(new DynamicBatcher(gru).close()).resolves.toBeUndefined();
  });

  it('a burst of thousands of requests: every one settles once, none is lost, stats add up', async () => {
    const module = new GRU(3, 4, { batchFirst: true }).eval();
    const next = seededRandom(21);
    const reports: BatchReport[] = [];
    const batcher = new DynamicBatcher(module, { maxBatchSize: 32, maxDelayMs: 1, maxQueue: 800, onBatch: (r) => reports.push(r) });
    const count = 3000;
    const settles = new Int32Array(count);
    const outcomes: string[] = new Array(count);
    const requests = Array.from({ length: count }, (_, i) => {
      const length = 1 + Math.floor(next() * 20);
      // One in fifty has the wrong feature size.
      const input = randomTensor([length, i % 50 === 49 ? 5 : 3], 7000 + i);
      return { input, hx: i % 3 === 0 ? randomTensor([1, 4], 9000 + i) : undefined };
    });
    const expected = requests.map((r) => (r.input.shape[1] === 3 ? module.forward(r.input, r.hx) : undefined));
    const found: string[] = [];
    // One in seven is withdrawn a turn of the event loop after it is sent: in the queue or already running.
    const withdrawals: AbortController[] = [];
    const sendWave = (from: number, to: number): Promise<unknown>[] =>
      requests.slice(from, to).map((r, k) => {
        const i = from + k;
        const controller = i % 7 === 3 ? new AbortController() : undefined;
        if (controller) withdrawals.push(controller);
        return batcher.forward(r.input, r.hx, { signal: controller?.signal }).then(
          (answer) => {
            settles[i]++;
            outcomes[i] = 'resolved';
            const alone = expected[i];
            if (alone === undefined) found.push(`request ${i} resolved but is invalid`);
            else found.push(...differences(answer, alone, `request ${i}`));
          },
          (error: Error) => {
            settles[i]++;
            outcomes[i] =
              error instanceof BatcherQueueFullError
                ? 'queue full'
                : error.message.startsWith('input.size(-1)')
                  ? 'invalid'
                  : error.message === 'withdrawn'
                    ? 'cancelled'
                    : error.message;
          },
        );
      });
    // Half at once (more than maxQueue), the rest in waves while batches run.
    const pending = sendWave(0, 1500);
    const withdrawAll = (): void => withdrawals.splice(0).forEach((c) => c.abort(new Error('withdrawn')));
    for (let from = 1500; from < count; from += 250) {
      await new Promise((resolve) => setImmediate(resolve));
      withdrawAll();
      pending.push(...sendWave(from, from + 250));
    }
    withdrawAll();
    await batcher.close();
    await Promise.all(pending);

    expect(found).toEqual([]);
    expect(Array.from(settles).every((n) => n === 1)).toBe(true);
    const tally = (what: string): number => outcomes.filter((o) => o === what).length;
    expect(tally('resolved') + tally('queue full') + tally('invalid') + tally('cancelled')).toBe(count);
    // A full queue turns a request away before it is looked at, so an invalid one may meet either refusal.
    const wrongOutcome = outcomes.findIndex((o, i) => (expected[i] === undefined ? o === 'resolved' : o === 'invalid'));
    expect(wrongOutcome).toBe(-1);
    expect(tally('invalid')).toBeGreaterThan(0);
    expect(tally('queue full')).toBeGreaterThan(0);
    expect(tally('cancelled')).toBeGreaterThan(0);
    const stats = batcher.stats();
    expect(stats).toMatchObject({
      accepted: tally('resolved') + tally('cancelled'),
      resolved: tally('resolved'),
      failed: 0,
      cancelled: tally('cancelled'),
      invalid: tally('invalid'),
      rejectedQueueFull: tally('queue full'),
      queued: 0,
      running: 0,
      runningBatches: 0,
      batches: reports.length,
    });
    expect(reports.reduce((n, r) => n + r.requests, 0)).toBe(tally('resolved'));
    expect(reports.every((r) => r.sequences >= 1 && r.sequences <= 32 && r.queueWaitMs.length === r.requests)).toBe(true);
    expect(Object.entries(stats.batchSizes).reduce((n, [size, batches]) => n + Number(size) * batches, 0)).toBe(stats.sequences);
    expect(stats.sequences).toBe(tally('resolved'));
    expect(stats.steps).toBe(reports.reduce((n, r) => n + r.steps, 0));
  });
});

describe('DynamicBatcher delay (fake timers)', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['performance', 'nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it('a lone request waits for maxDelayMs, then runs alone', async () => {
    const gru = new GRU(2, 3).eval();
    const batcher = new DynamicBatcher(gru, { maxBatchSize: 8, maxDelayMs: 50 });
    const answer = batcher.forward(Tensor.zeros([4, 2]));
    jest.advanceTimersByTime(49);
    expect(batcher.stats()).toMatchObject({ queued: 1, running: 0 });
    jest.advanceTimersByTime(1);
    expect(batcher.stats()).toMatchObject({ queued: 0, running: 1 });
    const [output] = await answer;
    expect(output.shape).toEqual([4, 3]);
    expect(batcher.stats().batchSizes).toEqual({ 1: 1 });
  });

  it('at low load (the last batch a single request) a request starts without waiting maxDelayMs', async () => {
    const gru = new GRU(2, 3).eval();
    const batcher = new DynamicBatcher(gru, { maxBatchSize: 8, maxDelayMs: 50 });
    const first = batcher.forward(Tensor.zeros([4, 2]));
    jest.advanceTimersByTime(50);
    await first;
    const x = Tensor.zeros([3, 2]);
    const second = batcher.forward(x);
    // One turn of the event loop (setImmediate is real here), no timer advanced.
    await new Promise((resolve) => setImmediate(resolve));
    expect(batcher.stats()).toMatchObject({ queued: 0, running: 1 });
    const [output] = await second;
    expect(Array.from(output.data)).toEqual(Array.from(gru.forward(x)[0].data));
  });

  it('after a batch of several requests, a lone request waits maxDelayMs for company again', async () => {
    const gru = new GRU(2, 3).eval();
    const batcher = new DynamicBatcher(gru, { maxBatchSize: 8, maxDelayMs: 50 });
    const pair = [batcher.forward(Tensor.zeros([4, 2])), batcher.forward(Tensor.zeros([2, 2]))];
    jest.advanceTimersByTime(50);
    await Promise.all(pair);
    const third = batcher.forward(Tensor.zeros([3, 2]));
    await new Promise((resolve) => setImmediate(resolve));
    jest.advanceTimersByTime(49);
    expect(batcher.stats()).toMatchObject({ queued: 1, running: 0 });
    jest.advanceTimersByTime(1);
    expect(batcher.stats()).toMatchObject({ queued: 0, running: 1 });
    await third;
    expect(batcher.stats().batchSizes).toEqual({ 1: 1, 2: 1 });
  });

  it.each([
    ['unbatched, no hx', [5, 2], undefined],
    ['batched, with hx', [5, 3, 2], [1, 3, 3]],
  ] as [string, number[], number[] | undefined][])('a batch of one request is that request\'s own forward, exactly (%s)', async (_name, shape, hShape) => {
    manualSeed(7);
    const lstm = new LSTM(2, 3).eval();
    const batcher = new DynamicBatcher(lstm, { maxBatchSize: 8, maxDelayMs: 0 });
    const x = randomTensor(shape, 71);
    const hx = hShape && ([randomTensor(hShape, 72), randomTensor(hShape, 73)] as [Tensor, Tensor]);
    const answer = batcher.forward(x, hx);
    await new Promise((resolve) => setImmediate(resolve));
    const [output, [hN, cN]] = await answer;
    const [expected, [eh, ec]] = lstm.forward(x, hx);
    expect([output.shape, hN.shape, cN.shape]).toEqual([expected.shape, eh.shape, ec.shape]);
    expect([Array.from(output.data), Array.from(hN.data), Array.from(cN.data)]).toEqual([Array.from(expected.data), Array.from(eh.data), Array.from(ec.data)]);
  });

  it('requests within one delay share a batch; later ones wait for the next', async () => {
    const gru = new GRU(2, 3).eval();
    const reports: BatchReport[] = [];
    const batcher = new DynamicBatcher(gru, { maxBatchSize: 8, maxDelayMs: 10, onBatch: (r) => reports.push(r) });
    const first = [batcher.forward(Tensor.zeros([2, 2])), batcher.forward(Tensor.zeros([5, 2]))];
    jest.advanceTimersByTime(5);
    first.push(batcher.forward(Tensor.zeros([1, 2])));
    jest.advanceTimersByTime(5);
    await Promise.all(first);
    const second = [batcher.forward(Tensor.zeros([3, 2]))];
    jest.advanceTimersByTime(10);
    await Promise.all(second);
    expect(reports.map((r) => r.requests)).toEqual([3, 1]);
  });

  it('maxDelayMs 0 batches what arrives in one turn of the event loop', async () => {
    const gru = new GRU(2, 3).eval();
    const reports: BatchReport[] = [];
    const batcher = new DynamicBatcher(gru, { maxBatchSize: 8, maxDelayMs: 0, onBatch: (r) => reports.push(r) });
    const pending = [1, 2, 3].map((l) => batcher.forward(Tensor.zeros([l, 2])));
    expect(batcher.stats().queued).toBe(3);
    await Promise.all(pending);
    expect(reports.map((r) => r.requests)).toEqual([3]);
  });

  it('a second batch waits for the first while maxConcurrentBatches is 1, gathering what arrives', async () => {
    let release: () => void = () => undefined;
    const seen: number[] = [];
    const slow: PackedBatchRunner<PackedSequence> = async (p) => {
      seen.push(p.batchSizes[0]);
      if (seen.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return p;
    };
    const batcher = new DynamicBatcher(slow, { maxBatchSize: 2, maxDelayMs: 5 });
    const pending = [1, 2, 3, 4, 5].map((l) => batcher.forward(Tensor.zeros([l, 1])));
    await Promise.resolve();
    expect(batcher.stats()).toMatchObject({ runningBatches: 1, running: 2, queued: 3 });
    release();
    jest.advanceTimersByTime(5);
    await batcher.close();
    await Promise.all(pending);
    expect(seen).toEqual([2, 2, 1]);
  });
});

describe('DynamicBatcher maxConcurrentBatches', () => {
  it('runs up to that many batches at once', async () => {
    const releases: (() => void)[] = [];
    const held: PackedBatchRunner<PackedSequence> = (p) => new Promise((resolve) => releases.push(() => resolve(p)));
    const batcher = new DynamicBatcher(held, { maxBatchSize: 1, maxDelayMs: 60_000, maxConcurrentBatches: 2 });
    const pending = [1, 2, 3].map((l) => batcher.forward(Tensor.zeros([l, 1])));
    await new Promise((resolve) => setImmediate(resolve));
    expect(batcher.stats()).toMatchObject({ runningBatches: 2, queued: 1 });
    releases[0]();
    await pending[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(batcher.stats()).toMatchObject({ runningBatches: 2, queued: 0, resolved: 1 });
    releases.slice(1).forEach((release) => release());
    expect((await Promise.all(pending)).map((a) => a.shape)).toEqual([[1, 1], [2, 1], [3, 1]]);
  });
});

describe('DynamicBatcher options', () => {
  const gru = new GRU(2, 3);
  it.each([
    [{ maxBatchSize: 0 }, 'DynamicBatcher: maxBatchSize must be a positive integer, got: number 0'],
    [{ maxBatchSize: 2.5 }, 'DynamicBatcher: maxBatchSize must be a positive integer, got: number 2.5'],
    [{ maxDelayMs: -1 }, 'DynamicBatcher: maxDelayMs must be a number of milliseconds from 0 to 2147483647, got: number -1'],
    [{ maxDelayMs: NaN }, 'DynamicBatcher: maxDelayMs must be a number of milliseconds from 0 to 2147483647, got: number NaN'],
    [{ maxQueue: 0 }, 'DynamicBatcher: maxQueue must be a positive integer, got: number 0'],
    [{ maxConcurrentBatches: '2' }, "DynamicBatcher: maxConcurrentBatches must be a positive integer, got: string '2'"],
    [{ onBatch: 1 }, 'DynamicBatcher: onBatch must be a function, got: number 1'],
    [{ max_batch_size: 4 }, "Unknown option 'max_batch_size' for DynamicBatcher: did you mean 'maxBatchSize'?"],
  ])('%j', (options, message) => {
    expect(() => new DynamicBatcher(gru, options as object)).toThrow(message);
  });

  it('maxQueue may be Infinity', () => {
    expect(() => new DynamicBatcher(gru, { maxQueue: Infinity })).not.toThrow();
  });

  it('run must be a recurrent module or a function', () => {
    expect(() => new DynamicBatcher(new Linear(2, 3) as never)).toThrow(
      'DynamicBatcher: run must be a recurrent module (RNN, LSTM, GRU) or a function (packed, hx) => Promise, got: Linear',
    );
  });
});
