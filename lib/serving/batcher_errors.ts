/**
 * The two ways a {@link DynamicBatcher} turns a request away without looking at it: its queue is full, or
 * it is closed. Both mean "not now, try elsewhere or later" — a service answers 503 — so each carries a
 * stable `code` a service can switch on.
 *
 * @packageDocumentation
 */

/**
 * `forward` found `maxQueue` requests already waiting: the request was not queued. A service answers 503
 * (with `Retry-After`), and the client retries or another replica takes it.
 *
 * @example
 * ```ts
 * try {
 *   await batcher.forward(x);
 * } catch (e) {
 *   if (e instanceof BatcherQueueFullError) reply(503, e.message);   // or: e.code === 'ERR_BATCHER_QUEUE_FULL'
 * }
 * ```
 */
export class BatcherQueueFullError extends Error {
  /** `'ERR_BATCHER_QUEUE_FULL'`. */
  readonly code = 'ERR_BATCHER_QUEUE_FULL';
  /** The `maxQueue` that was reached. */
  readonly maxQueue: number;

  /** An error for a queue holding `maxQueue` requests. */
  constructor(maxQueue: number) {
    super(`DynamicBatcher: the queue is full (maxQueue = ${maxQueue} requests waiting); try again later`);
    this.name = 'BatcherQueueFullError';
    this.maxQueue = maxQueue;
  }
}

/**
 * `forward` was called after `close()`: the request was not queued. A draining service answers 503.
 *
 * @example
 * ```ts
 * await batcher.close();
 * await batcher.forward(x);   // rejects: BatcherClosedError, code 'ERR_BATCHER_CLOSED'
 * ```
 */
export class BatcherClosedError extends Error {
  /** `'ERR_BATCHER_CLOSED'`. */
  readonly code = 'ERR_BATCHER_CLOSED';

  /** An error for a request that arrived after `close()`. */
  constructor() {
    super('DynamicBatcher: closed; it accepts no new requests');
    this.name = 'BatcherClosedError';
  }
}
