/**
 * Dynamic batching: concurrent requests of different lengths, packed into one recurrent forward.
 *
 * @packageDocumentation
 */
import { describe } from '../is';
import { RNNBase, type Hidden } from '../modules/rnn_base';
import type { PackedSequence } from '../packed/packed_sequence';
import type { Tensor } from '../tensor';
import { BatcherClosedError, BatcherQueueFullError } from './batcher_errors';
import { checkForwardOptions, resolveBatcherOptions, type BatcherForwardOptions, type DynamicBatcherOptions, type ResolvedBatcherOptions } from './batcher_options';
import { BatcherStatsRecorder, type BatcherStats, type BatchReport } from './batcher_stats';
import type { BatcherHidden, BatcherResult, BatchRunner, PackedBatchResult, PackedBatchRunner } from './batch_runner';
import { packRequests, splitResult } from './packed_batch';
import { moduleRequest, sequenceRequest, type CheckedRequest, type QueuedRequest } from './queued_request';

/**
 * Gathers requests that arrive close together and runs them as one packed forward, so a service answering
 * many small requests runs each time step once for all of them (a recurrent step costs nearly the same for
 * one sequence as for thirty-two: the weights are read either way).
 *
 * `run` is a recurrent module (RNN, LSTM, GRU), or a {@link PackedBatchRunner} — a function over a
 * PackedSequence — for a whole model. Each `forward(input, hx?)` resolves to that request's own result, as
 * if it had run alone (to float32 rounding): sequences of different lengths pack without padding, and each
 * keeps its own final state. A request is usually one sequence; it may hold several (a batched Tensor or a
 * PackedSequence), and `maxBatchSize` counts sequences.
 *
 * A batch starts when `maxBatchSize` sequences wait, or when the oldest waiting request has waited
 * `maxDelayMs`, and a runner slot is free (`maxConcurrentBatches`). Requests are taken in arrival order.
 * At low load — no batch running, and the last batch a single request (before the first batch, the load
 * is taken as unknown) — a request does not wait
 * `maxDelayMs` for company that is not coming: it starts after the requests of the same event-loop turn
 * join it. A batch of one request from a module runs that request's own forward, unpacked.
 * Each request is checked as it arrives — by the module's own checks, with its own errors, and by
 * `validate` — so a bad request is rejected alone and never joins a batch. If the runner itself fails,
 * every request of that batch is rejected with its error.
 *
 * Beyond `maxQueue` waiting requests `forward` rejects at once with {@link BatcherQueueFullError}; after
 * `close()` with {@link BatcherClosedError}. `close()` drains: queued requests run without waiting for their
 * delay, and it resolves once every accepted request is settled. Each accepted request settles exactly once.
 * An abort signal given to `forward` withdraws its request while it waits.
 *
 * The input and hx are copied when `forward` is called, so the caller may reuse their buffers at once.
 * Use a module in eval mode: in training mode, dropout masks are drawn per batch, not per request.
 *
 * @example
 * ```ts
 * const lstm = new LSTM(64, 128, { numLayers: 2 }).eval();
 * const batcher = new DynamicBatcher(lstm, { maxBatchSize: 32, maxDelayMs: 2, maxQueue: 1024 });
 * // in a request handler: one sequence (L, 64), its own length
 * const [output, [hN, cN]] = await batcher.forward(x);   // (L, 128), (2, 128), (2, 128)
 * // at shutdown
 * await batcher.close();
 * ```
 */
export class DynamicBatcher<R extends BatchRunner = BatchRunner> {
  readonly #module: RNNBase | undefined;
  readonly #run: (packed: PackedSequence, hx: Hidden | undefined) => Promise<unknown>;
  readonly #options: ResolvedBatcherOptions;
  readonly #stats = new BatcherStatsRecorder();
  /** Waiting requests, oldest first. */
  #queue: QueuedRequest[] = [];
  #queuedSequences = 0;
  #runningBatches = 0;
  #runningRequests = 0;
  /** Whether the last batch held a single request: the load is low, and nobody is coming to join the next. */
  #lastBatchAlone = false;
  /** Cancels the pending delay timer. */
  #cancelTimer: (() => void) | undefined;
  /** The request the pending timer will mark due. */
  #timerFor: QueuedRequest | undefined;
  #closing: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  /** A batcher over `run` (a recurrent module or a function over a PackedSequence); see the class. */
  constructor(run: R, options: DynamicBatcherOptions = {}) {
    if (run instanceof RNNBase) {
      const module = run;
      this.#module = module;
      this.#run = (packed, hx) => module.forwardAsync(packed, hx);
    } else if (typeof run === 'function') {
      this.#module = undefined;
      const fn = run as PackedBatchRunner;
      // A function that throws rather than rejects fails its batch the same way.
      this.#run = async (packed, hx) => fn(packed, hx);
    } else {
      throw new TypeError(
        `DynamicBatcher: run must be a recurrent module (RNN, LSTM, GRU) or a function (packed, hx) => Promise, got: ${describe(run)}`,
      );
    }
    this.#options = resolveBatcherOptions(options);
  }

  /**
   * Queues one request and resolves to its own result. For a module, `[output, h_n]` (LSTM:
   * `[output, [h_n, c_n]]`) exactly as `module.forward(input, hx)` shapes it: `input` is unbatched
   * `(L, inputSize)` (the usual request: one sequence), `(L, N, inputSize)` / `(N, L, inputSize)` as the
   * module's batchFirst says for N sequences of one length, or a PackedSequence for N of several lengths
   * (a padded batch with its lengths, through `packPaddedSequence`); hx as forward takes it, zeros when
   * absent. For a function runner, `input` is one sequence `(L, *)` with hx its states `(S, H)`, or a
   * PackedSequence with hx `(S, N, H)`; the result is the request's share of what the function returns
   * (see {@link PackedBatchResult}).
   *
   * `options.signal` withdraws the request while it waits (a client gone, a deadline passed): it leaves the
   * queue and its Promise rejects with the signal's reason. Once its batch has started it is answered.
   *
   * Never throws: a bad request, a full queue or a closed batcher reject the Promise.
   */
  forward<I extends Tensor | PackedSequence>(
    input: I,
    hx?: BatcherHidden<R> | null,
    options: BatcherForwardOptions = {},
  ): Promise<BatcherResult<R, I>> {
    if (this.#closing !== undefined) {
      this.#stats.rejectedClosed++;
      return Promise.reject(new BatcherClosedError());
    }
    if (this.#queue.length >= this.#options.maxQueue) {
      this.#stats.rejectedQueueFull++;
      return Promise.reject(new BatcherQueueFullError(this.#options.maxQueue));
    }
    let checked: CheckedRequest;
    try {
      checkForwardOptions(options);
      checked = this.#module ? moduleRequest(this.#module, input, hx) : sequenceRequest(input, hx);
      this.#options.validate?.(input, hx ?? undefined);
    } catch (error) {
      this.#stats.invalid++;
      return Promise.reject(error);
    }
    this.#stats.accepted++;
    const { signal } = options;
    if (signal?.aborted) {
      this.#stats.cancelled++;
      return Promise.reject(signal.reason);
    }
    if (checked.count === 0) return this.#runEmpty(input as Tensor, hx) as Promise<BatcherResult<R, I>>;
    return new Promise<unknown>((resolve, reject) => {
      const request: QueuedRequest = { ...checked, arrivedAt: performance.now(), due: false, resolve, reject };
      if (signal) {
        const withdraw = (): void => this.#withdraw(request, signal.reason);
        signal.addEventListener('abort', withdraw, { once: true });
        request.detach = () => signal.removeEventListener('abort', withdraw);
      }
      this.#queue.push(request);
      this.#queuedSequences += checked.count;
      this.#schedule();
    }) as Promise<BatcherResult<R, I>>;
  }

  /**
   * Stops accepting requests (`forward` rejects with {@link BatcherClosedError}), starts what is queued
   * without waiting for its delay, and resolves once every accepted request is settled. Calling it again
   * returns the same Promise.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closing = new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
      this.#schedule();
    }
    return this.#closing;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** The queue, what is computing, and running totals (batch sizes, queue wait, forward time). */
  stats(): BatcherStats {
    return this.#stats.snapshot(this.#queue.length, this.#runningRequests, this.#runningBatches);
  }

  /** Starts every batch that is ready and has a slot; arms the delay of the oldest request that is not. */
  #schedule(): void {
    const { maxBatchSize, maxConcurrentBatches } = this.#options;
    while (this.#queue.length > 0 && this.#runningBatches < maxConcurrentBatches) {
      const ready = this.#closing !== undefined || this.#queue[0].due || this.#queuedSequences >= maxBatchSize;
      if (!ready) break;
      this.#start(this.#takeBatch());
    }
    this.#armTimer();
    if (this.#closing !== undefined && this.#queue.length === 0 && this.#runningRequests === 0) this.#drained?.();
  }

  /** Keeps one timer, for the oldest waiting request, which marks it due when its delay runs out. */
  #armTimer(): void {
    const oldest = this.#queue[0];
    if (this.#timerFor === oldest) return;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#timerFor = undefined;
    if (oldest === undefined || oldest.due || this.#closing !== undefined) return;
    const fire = (): void => {
      this.#cancelTimer = undefined;
      this.#timerFor = undefined;
      oldest.due = true;
      this.#schedule();
    };
    this.#timerFor = oldest;
    // At low load (the batcher idle, its last batch a single request) nobody is coming to join: waiting
    // would only add maxDelayMs to the request's latency, so it starts after this turn's arrivals.
    const waitMs = this.#runningBatches === 0 && this.#lastBatchAlone ? 0 : this.#options.maxDelayMs;
    // Rounded up: timers count whole milliseconds, and a request must not start before its delay is out.
    const delay = Math.max(0, Math.ceil(oldest.arrivedAt + waitMs - performance.now()));
    if (delay === 0) {
      // After the I/O callbacks of this turn (setTimeout(0) would wait a whole millisecond): what arrives
      // in this turn joins the batch.
      const immediate = setImmediate(fire);
      this.#cancelTimer = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(fire, delay);
      this.#cancelTimer = () => clearTimeout(timer);
    }
  }

  /**
   * The oldest requests, in order, up to `maxBatchSize` sequences (a larger request alone), stopping at the
   * first that cannot share the batch's packed input or hx shapes: requests never overtake each other.
   */
  #takeBatch(): QueuedRequest[] {
    const [first] = this.#queue;
    let sequences = first.count;
    let stateKey = first.stateKey;
    let taken = 1;
    for (; taken < this.#queue.length; taken++) {
      const next = this.#queue[taken];
      if (sequences + next.count > this.#options.maxBatchSize || next.inputKey !== first.inputKey) break;
      if (next.stateKey !== undefined && stateKey !== undefined && next.stateKey !== stateKey) break;
      sequences += next.count;
      stateKey ??= next.stateKey;
    }
    this.#queuedSequences -= sequences;
    const batch = this.#queue.splice(0, taken);
    // Past this point a signal no longer withdraws them; a long-lived signal must not keep them alive.
    for (const r of batch) r.detach?.();
    return batch;
  }

  /** Takes a request that is still waiting out of the queue and rejects it with `reason`. */
  #withdraw(request: QueuedRequest, reason: unknown): void {
    const index = this.#queue.indexOf(request);
    if (index < 0) return;
    this.#queue.splice(index, 1);
    this.#queuedSequences -= request.count;
    this.#stats.cancelled++;
    request.reject(reason);
    this.#schedule();
  }

  /** Runs one batch and settles each of its requests exactly once, with its share or with the batch's error. */
  #start(requests: QueuedRequest[]): void {
    this.#lastBatchAlone = requests.length === 1;
    this.#runningBatches++;
    this.#runningRequests += requests.length;
    const startedAt = performance.now();
    const queueWaitMs = requests.map((r) => startedAt - r.arrivedAt);
    let forwardMs = 0;
    let sequences = 0;
    let steps = 0;
    const alone = requests.length === 1 && this.#module !== undefined ? requests[0].alone : undefined;
    const compute = async (): Promise<unknown[]> => {
      if (alone !== undefined) {
        // A batch of one request: its own forward, exactly as alone, with no packing to do or undo.
        sequences = requests[0].count;
        steps = requests[0].count * requests[0].length;
        const before = performance.now();
        try {
          return [await (this.#module as RNNBase).forwardAsync(alone.input, alone.hx)];
        } finally {
          forwardMs = performance.now() - before;
        }
      }
      const batch = packRequests(requests);
      sequences = batch.sequences;
      steps = batch.packed.data.shape[0];
      const before = performance.now();
      try {
        return splitResult(batch, requests, await this.#run(batch.packed, batch.hx as Hidden | undefined));
      } finally {
        forwardMs = performance.now() - before;
      }
    };
    void compute().then(
      (shares) => this.#finish(requests, { requests: requests.length, sequences, steps, queueWaitMs, forwardMs }, shares),
      (error: unknown) => this.#finish(requests, { requests: requests.length, sequences, steps, queueWaitMs, forwardMs, error }),
    );
  }

  #finish(requests: QueuedRequest[], report: BatchReport, shares?: unknown[]): void {
    this.#runningBatches--;
    this.#runningRequests -= requests.length;
    requests.forEach((r, i) => (shares ? r.resolve(shares[i]) : r.reject(report.error)));
    if (shares) this.#stats.resolved += requests.length;
    else this.#stats.failed += requests.length;
    this.#stats.recordBatch(report);
    this.#report(report);
    this.#schedule();
  }

  /** A request holding no sequences has nothing to pack: the module answers it alone (empty results). */
  async #runEmpty(input: Tensor, hx: unknown): Promise<unknown> {
    this.#runningRequests++;
    try {
      const result = await (this.#module as RNNBase).forwardAsync(input, hx as Hidden | undefined);
      this.#stats.resolved++;
      return result;
    } catch (error) {
      this.#stats.failed++;
      throw error;
    } finally {
      this.#runningRequests--;
      this.#schedule();
    }
  }

  /** Tells `onBatch`; an error it throws is the caller's bug, raised where it cannot undo a settled request. */
  #report(report: BatchReport): void {
    const { onBatch } = this.#options;
    if (onBatch === undefined) return;
    try {
      onBatch(report);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
