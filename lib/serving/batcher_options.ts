/**
 * The knobs of a {@link DynamicBatcher} — Triton's names where it has them — their defaults, and their checks;
 * and the options of one request.
 *
 * @packageDocumentation
 */
import { describe, isInteger, isNumber } from '../is';
import { checkOptionNames } from '../options';
import type { Hidden } from '../modules/rnn_base';
import type { PackedSequence } from '../packed/packed_sequence';
import type { Tensor } from '../tensor';
import type { BatchReport } from './batcher_stats';

/** Options of a {@link DynamicBatcher}. */
export interface DynamicBatcherOptions {
  /**
   * The most sequences one forward runs: a batch starts as soon as this many are waiting. A single request
   * holding more sequences than this runs as a batch of its own. Default 32.
   */
  maxBatchSize?: number;
  /**
   * How long, in milliseconds, the oldest waiting request may wait for others to join it before its batch
   * starts anyway; 0 batches only what arrives within one turn of the event loop. Default 2.
   */
  maxDelayMs?: number;
  /**
   * The most requests that may wait (queued, not yet computing); beyond it `forward` rejects at once with
   * {@link BatcherQueueFullError}. `Infinity` never rejects. Default 1024.
   */
  maxQueue?: number;
  /**
   * How many batches may compute at once. With 1 (the default) requests gather while a batch computes and
   * go together into the next one, so batches grow with the load; more overlaps the event loop's packing
   * with the engine's work, at the cost of smaller batches.
   */
  maxConcurrentBatches?: number;
  /**
   * Checks one request before it joins a batch, by throwing: its error rejects that request alone. Called
   * after the module's own checks (for a module runner). A function runner has no other per-request check,
   * so give one here: a request that makes the whole batch fail takes the rest of that batch with it.
   */
  validate?: (input: Tensor | PackedSequence, hx: Hidden | undefined) => void;
  /**
   * Told of every batch once its requests are settled: for metrics (batch size, queue wait, forward time).
   * An error it throws is raised as an uncaught exception, as an event listener's is: the answers stand.
   */
  onBatch?: (report: BatchReport) => void;
}

/** Options of one {@link DynamicBatcher.forward} call. */
export interface BatcherForwardOptions {
  /** Withdraws the request while it still waits in the queue; its Promise then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options with their defaults filled in. */
export type ResolvedBatcherOptions = Required<Omit<DynamicBatcherOptions, 'validate' | 'onBatch'>> &
  Pick<DynamicBatcherOptions, 'validate' | 'onBatch'>;

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const OPTION_NAMES = ['maxBatchSize', 'maxDelayMs', 'maxQueue', 'maxConcurrentBatches', 'validate', 'onBatch'] as const;

function checkPositiveInteger(name: string, value: unknown): asserts value is number {
  if (!isInteger(value) || value < 1) throw new TypeError(`DynamicBatcher: ${name} must be a positive integer, got: ${describe(value)}`);
}

function checkFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`DynamicBatcher: ${name} must be a function, got: ${describe(value)}`);
  }
}

/** Checks `options` (unknown names by name, then each value) and fills in the defaults. */
export function resolveBatcherOptions(options: unknown): ResolvedBatcherOptions {
  checkOptionNames('DynamicBatcher', options, OPTION_NAMES);
  const { maxBatchSize = 32, maxDelayMs = 2, maxQueue = 1024, maxConcurrentBatches = 1, validate, onBatch } = options as DynamicBatcherOptions;
  checkPositiveInteger('maxBatchSize', maxBatchSize);
  // setTimeout's own limit: a longer delay would silently become 1 ms.
  if (!isNumber(maxDelayMs) || !(maxDelayMs >= 0 && maxDelayMs <= MAX_TIMEOUT_MS)) {
    throw new TypeError(`DynamicBatcher: maxDelayMs must be a number of milliseconds from 0 to ${MAX_TIMEOUT_MS}, got: ${describe(maxDelayMs)}`);
  }
  if (maxQueue !== Infinity) checkPositiveInteger('maxQueue', maxQueue);
  checkPositiveInteger('maxConcurrentBatches', maxConcurrentBatches);
  checkFunction('validate', validate);
  checkFunction('onBatch', onBatch);
  return { maxBatchSize, maxDelayMs, maxQueue, maxConcurrentBatches, validate, onBatch };
}

/** Checks the options of one request: known names, and a signal that is an AbortSignal. */
export function checkForwardOptions(options: unknown): asserts options is BatcherForwardOptions {
  checkOptionNames('DynamicBatcher.forward', options, ['signal']);
  const { signal } = options as BatcherForwardOptions;
  // By its shape, not instanceof: a signal from another realm (a vm context, jest's) is still a signal.
  const isSignal = typeof signal === 'object' && signal !== null && typeof signal.aborted === 'boolean' && typeof signal.addEventListener === 'function';
  if (signal !== undefined && !isSignal) {
    throw new TypeError(`DynamicBatcher.forward: signal must be an AbortSignal, got: ${describe(signal)}`);
  }
}
