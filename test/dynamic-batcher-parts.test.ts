/**
 * DynamicBatcher's batchParts: one batch cut into parts of about equal work that compute at once. Each
 * request is still answered as its own forward answers it (the library's forward alone, itself held to
 * PyTorch by the parity suites); a failing part rejects its own requests only; the batch keeps its slot
 * until every part is done. Nothing here asserts on time.
 */
import { DynamicBatcher, LSTM, PackedSequence, Tensor, manualSeed, type BatchReport, type PackedBatchRunner } from '../lib';
import { splitIntoParts } from '../lib/serving/batch_parts';
import type { QueuedRequest } from '../lib/serving/queued_request';
import { tolerance } from './helpers/close';
import { randomTensor } from './helpers/random';

/** The largest |a - b| beyond float32 tolerance, 0 when within it. */
function excess(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const { atol, rtol } = tolerance('float32');
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]) - (atol + rtol * Math.abs(b.data[i])));
  return worst;
}

/** A queued request of `count` sequences of `length` steps, as the partition sees it. */
function queued(length: number, count = 1): QueuedRequest {
  return { count, length } as QueuedRequest;
}

/** Settles once every callback of this turn has run. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('splitIntoParts', () => {
  it('balances steps, longest first to the lightest part, each part in arrival order', () => {
    const requests = [1, 10, 1, 9, 8, 1].map((l) => queued(l));
    const parts = splitIntoParts(requests, 2);
    // 10 and 9 open the parts; 8 joins the 9; the three 1s join the 10.
    expect(parts.map((p) => p.map((r) => requests.indexOf(r)))).toEqual([
      [0, 1, 2, 5],
      [3, 4],
    ]);
  });

  it('counts every sequence of a request, and every length of a packed one', () => {
    const packed = { count: 3, length: 9, packed: { lengths: Int32Array.from([9, 2, 1]) } } as unknown as QueuedRequest;
    const parts = splitIntoParts([queued(5, 4), packed, queued(12)], 2);
    // Steps: 20, 12, 12: the 20 alone, the two twelves together.
    expect(parts.map((p) => p.length)).toEqual([1, 2]);
    expect(parts[0][0].count).toBe(4);
  });

  it('never makes more parts than requests, and one part when asked for one', () => {
    const requests = [3, 4].map((l) => queued(l));
    expect(splitIntoParts(requests, 4)).toEqual([[requests[1]], [requests[0]]]);
    expect(splitIntoParts(requests, 1)).toEqual([requests]);
    expect(splitIntoParts([requests[0]], 2)).toEqual([[requests[0]]]);
  });
});

describe('DynamicBatcher batchParts', () => {
  it('answers each request of a batch cut in two as its own forward does, with and without hx', async () => {
    manualSeed(3);
    const lstm = new LSTM(4, 5, { numLayers: 2, bidirectional: true }).eval();
    const lengths = [7, 2, 5, 9, 1, 6];
    const inputs = lengths.map((l, i) => randomTensor([l, 4], 10 + i));
    const hxs = lengths.map((_, i) => (i % 2 === 0 ? undefined : ([randomTensor([4, 5], 30 + i), randomTensor([4, 5], 40 + i)] as [Tensor, Tensor])));
    const reports: BatchReport[] = [];
    const batcher = new DynamicBatcher(lstm, { maxBatchSize: lengths.length, maxDelayMs: 60_000, batchParts: 2, onBatch: (r) => reports.push(r) });
    const answers = await Promise.all(inputs.map((x, i) => batcher.forward(x, hxs[i])));
    answers.forEach(([out, [h, c]], i) => {
      const [eOut, [eH, eC]] = lstm.forward(inputs[i], hxs[i]);
      expect([excess(out, eOut), excess(h, eH), excess(c, eC)]).toEqual([0, 0, 0]);
    });
    // Two forwards, 15 steps each: [9, 5, 1] and [7, 6, 2].
    expect(reports.map((r) => r.steps).sort()).toEqual([15, 15]);
    expect(reports.map((r) => r.sequences).sort()).toEqual([3, 3]);
    expect(batcher.stats()).toMatchObject({ batches: 2, sequences: 6, resolved: 6 });
  });

  it('runs the parts at once, answers each as it ends, and keeps the slot until the last is done', async () => {
    const releases: (() => void)[] = [];
    const held: PackedBatchRunner<PackedSequence> = (p) => new Promise((resolve) => releases.push(() => resolve(p)));
    const batcher = new DynamicBatcher(held, { maxBatchSize: 4, maxDelayMs: 60_000, batchParts: 2 });
    const settled: number[] = [];
    const lengths = [4, 3, 2, 1, 5];
    const pending = lengths.map((l, i) => batcher.forward(Tensor.zeros([l, 1])).then((out) => (settled.push(i), out)));
    await turn();
    expect(releases).toHaveLength(2);
    expect(batcher.stats()).toMatchObject({ runningBatches: 1, running: 4, queued: 1 });
    // Parts: [4, 1] and [3, 2]; the second ends first.
    releases[1]();
    await turn();
    expect(settled.sort()).toEqual([1, 2]);
    expect(batcher.stats()).toMatchObject({ runningBatches: 1, running: 2, queued: 1 });
    expect(releases).toHaveLength(2);
    releases[0]();
    await turn();
    // The slot is free; the last request waits for its delay, until close() starts it.
    expect(batcher.stats()).toMatchObject({ runningBatches: 0, running: 0, queued: 1 });
    const closing = batcher.close();
    await turn();
    expect(releases).toHaveLength(3);
    releases[2]();
    await closing;
    expect((await Promise.all(pending)).map((out) => out.shape[0])).toEqual(lengths);
  });

  it('a failing part rejects its own requests only', async () => {
    const failing: PackedBatchRunner<PackedSequence> = async (p) => {
      if (p.batchSizes.length === 7) throw new Error('part with the 7-step request failed');
      return p;
    };
    const batcher = new DynamicBatcher(failing, { maxBatchSize: 4, maxDelayMs: 60_000, batchParts: 2 });
    const outcomes = await Promise.allSettled([7, 6, 1, 2].map((l) => batcher.forward(Tensor.zeros([l, 1]))));
    // Parts: [7] with the 1 (8 steps) and [6, 2].
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[0] as PromiseRejectedResult).reason.message).toBe('part with the 7-step request failed');
    expect(batcher.stats()).toMatchObject({ failed: 2, resolved: 2, batches: 2 });
  });

  it.each([0, 1.5, '2'])('batchParts %j is refused', (batchParts) => {
    expect(() => new DynamicBatcher(new LSTM(2, 3), { batchParts } as object)).toThrow(
      `DynamicBatcher: batchParts must be a positive integer, got: ${typeof batchParts === 'string' ? `string '${batchParts}'` : `number ${batchParts}`}`,
    );
  });
});
