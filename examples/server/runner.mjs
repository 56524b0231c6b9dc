// Forwards: one per request, or many requests per forward through DynamicBatcher.
//
// A batch-1 forward leaves most of each step's matrix product idle: the recurrent weights are read from
// memory once per step whether they advance one sequence or thirty-two. With --batch-size above 1, the
// requests that arrive within --batch-delay-ms (or until --batch-size sequences wait) run as one packed
// forward — of any lengths, each with its own hx — and each request gets its own share back, as if it had
// run alone (to float32 rounding; test/server*.test.ts hold answers to the library's forward).
//
// A whole model always runs through a batcher, over the module file's `run`: with --batch-size 1 each
// batch holds one request, and up to UV_THREADPOOL_SIZE of them compute at once, as forwards do without
// batching. A layer without batching calls forwardAsync itself: the exact numbers of `module.forward`.

import { BatcherClosedError, BatcherQueueFullError, DynamicBatcher, PackedSequence, padPackedSequence } from 'torchrnn';
import { HttpError } from './http-error.mjs';

/** libuv's pool, where forwardAsync runs: its size is fixed when the process first uses it. */
export const THREADPOOL_SIZE = Number(process.env.UV_THREADPOOL_SIZE ?? 4);

/** The hx argument of a layer's forward from a list of states: h, or [h, c] for LSTM. */
const hxOf = (states, single) => (states === undefined ? undefined : single ? states[0] : states);

/** A request's output in its own layout: a PackedSequence (from lengths) padded back to the input's L. */
function padded(request, output) {
  if (!(output instanceof PackedSequence)) return output;
  return padPackedSequence(output, { totalLength: request.input.shape[0] })[0];
}

/** The batcher's refusals are the service's 503: not the client's fault, and another replica may take it. */
function refusal(error) {
  if (error instanceof BatcherQueueFullError) {
    return new HttpError(503, `${error.message} (--batch-queue ${error.maxQueue})`, { 'Retry-After': '1' });
  }
  if (error instanceof BatcherClosedError) return new HttpError(503, 'the server is shutting down: retry on another replica');
  return error;
}

/**
 * The runner of `served` (a layer or a whole model): `forward(request, signal)` resolves to
 * `{ output, states }` in the request's layout. `onBatch(report)` is told of every forward (the
 * batcher's report; without a batcher, one of the same form).
 */
export function createRunner(served, { batchSize, batchDelayMs, batchQueue }, onBatch) {
  if (served.kind === 'layer' && batchSize === 1) return directRunner(served.module, onBatch);
  const isModel = served.kind === 'model';
  const batcher = new DynamicBatcher(isModel ? served.run : served.module, {
    maxBatchSize: batchSize,
    maxDelayMs: batchSize === 1 ? 0 : batchDelayMs,
    maxQueue: batchQueue,
    maxConcurrentBatches: batchSize === 1 ? THREADPOOL_SIZE : 1,
    // The module file's own check: its error is the client's (400), and rejects that request alone.
    validate:
      isModel && served.validate
        ? (input, hx) => {
            try {
              served.validate(input, hx);
            } catch (error) {
              throw new HttpError(400, error.message);
            }
          }
        : undefined,
    onBatch,
  });
  const single = isModel ? served.result.singleState : served.module.mode !== 'LSTM';
  return {
    batching: batchSize > 1 ? { maxBatchSize: batchSize, maxDelayMs: batchDelayMs, maxQueue: batchQueue } : false,
    async forward(request, signal) {
      let share;
      try {
        share = await batcher.forward(request.packed ?? request.input, hxOf(request.states, single), { signal });
      } catch (error) {
        throw refusal(error);
      }
      if (!isModel || served.result.form === 'stepsAndState') {
        const [output, hidden] = share;
        return { output: padded(request, output), states: Array.isArray(hidden) ? hidden : [hidden] };
      }
      return { output: padded(request, share), states: [] };
    },
    queued: () => batcher.stats().queued,
    close: () => batcher.close(),
  };
}

/** One forwardAsync per request, as many at once as libuv's pool runs. */
function directRunner(module, onBatch) {
  const single = module.mode !== 'LSTM';
  return {
    batching: false,
    async forward(request) {
      const started = performance.now();
      const [output, hidden] = await module.forwardAsync(request.packed ?? request.input, hxOf(request.states, single));
      const sequences = request.packed ? request.packed.batchSizes[0] : request.input.dim() === 3 ? request.input.shape[1] : 1;
      // No queue: a request starts its forward as it arrives.
      onBatch({ requests: 1, sequences, queueWaitMs: [], forwardMs: performance.now() - started });
      return { output: padded(request, output), states: Array.isArray(hidden) ? hidden : [hidden] };
    },
    queued: () => 0,
    close: async () => {},
  };
}
