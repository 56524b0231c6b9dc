/**
 * What a {@link DynamicBatcher} tells about its work: a report per batch (for histograms) and running
 * totals (for gauges and counters), the metrics that explain a batch — its size, how long its requests
 * waited, how long it computed.
 *
 * @packageDocumentation
 */

/** One batch, as `onBatch` is told of it once its requests are settled. */
export interface BatchReport {
  /** Requests in the batch. */
  requests: number;
  /** Sequences in the batch: its batch size (`batchSizes[0]` of the packed input). */
  sequences: number;
  /** Time steps over all its sequences: the packed input's rows. */
  steps: number;
  /** Each request's wait, in milliseconds, from `forward` to the batch's start; in the order they arrived. */
  queueWaitMs: number[];
  /** Milliseconds from the runner's call to its result (or failure): the batch's compute time. */
  forwardMs: number;
  /** The runner's error when the batch failed (every request in it was rejected with it); else undefined. */
  error?: unknown;
}

/** Sum and largest of a duration over all batches, in milliseconds. */
export interface DurationTotals {
  /** Sum over every request (queue wait) or batch (forward). */
  total: number;
  /** The largest seen. */
  max: number;
}

/**
 * A snapshot of a batcher's state and running totals, from {@link DynamicBatcher.stats}. At every moment
 * `accepted = queued + running + resolved + failed + cancelled`: each accepted request is in exactly one place.
 */
export interface BatcherStats {
  /** Requests waiting for a batch now (what `maxQueue` bounds). */
  queued: number;
  /** Requests in batches computing now. */
  running: number;
  /** Batches computing now. */
  runningBatches: number;
  /** Requests accepted into the queue since the batcher was made. */
  accepted: number;
  /** Accepted requests answered with their result. */
  resolved: number;
  /** Accepted requests rejected because their batch failed. */
  failed: number;
  /** Accepted requests withdrawn by their abort signal before their batch started. */
  cancelled: number;
  /** Requests rejected at once by the module's or `validate`'s checks (never queued). */
  invalid: number;
  /** Requests rejected at once with {@link BatcherQueueFullError} (never queued). */
  rejectedQueueFull: number;
  /** Requests rejected at once with {@link BatcherClosedError} (never queued). */
  rejectedClosed: number;
  /** Batches finished (resolved or failed). */
  batches: number;
  /** Sequences over all finished batches: `sequences / batches` is the mean batch size. */
  sequences: number;
  /** Time steps over all finished batches. */
  steps: number;
  /** How many finished batches had each size (sequences per batch): `{ 1: 40, 7: 3, 32: 12 }`. */
  batchSizes: Record<number, number>;
  /** Queue wait of every request of the finished batches. */
  queueWaitMs: DurationTotals;
  /** Compute time of every finished batch. */
  forwardMs: DurationTotals;
}

/** The totals behind {@link BatcherStats}, kept as the batcher works. */
export class BatcherStatsRecorder {
  accepted = 0;
  resolved = 0;
  failed = 0;
  cancelled = 0;
  invalid = 0;
  rejectedQueueFull = 0;
  rejectedClosed = 0;
  #batches = 0;
  #sequences = 0;
  #steps = 0;
  #batchSizes = new Map<number, number>();
  #queueWait = { total: 0, max: 0 };
  #forward = { total: 0, max: 0 };

  /** Adds a finished batch; its requests' outcomes are counted by the caller as it settles them. */
  recordBatch(report: BatchReport): void {
    this.#batches++;
    this.#sequences += report.sequences;
    this.#steps += report.steps;
    this.#batchSizes.set(report.sequences, (this.#batchSizes.get(report.sequences) ?? 0) + 1);
    for (const wait of report.queueWaitMs) add(this.#queueWait, wait);
    add(this.#forward, report.forwardMs);
  }

  /** The totals with the batcher's current queue and running counts. */
  snapshot(queued: number, running: number, runningBatches: number): BatcherStats {
    const batchSizes: Record<number, number> = {};
    for (const size of [...this.#batchSizes.keys()].sort((a, b) => a - b)) batchSizes[size] = this.#batchSizes.get(size) as number;
    return {
      queued,
      running,
      runningBatches,
      accepted: this.accepted,
      resolved: this.resolved,
      failed: this.failed,
      cancelled: this.cancelled,
      invalid: this.invalid,
      rejectedQueueFull: this.rejectedQueueFull,
      rejectedClosed: this.rejectedClosed,
      batches: this.#batches,
      sequences: this.#sequences,
      steps: this.#steps,
      batchSizes,
      queueWaitMs: { ...this.#queueWait },
      forwardMs: { ...this.#forward },
    };
  }
}

function add(totals: DurationTotals, ms: number): void {
  totals.total += ms;
  if (ms > totals.max) totals.max = ms;
}
