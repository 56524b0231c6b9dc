// Parsing large JSON bodies off the event loop.
//
// JSON.parse of a 1 MB body and its conversion to Tensors take one uninterruptible 40-200 ms (more on a
// loaded machine), during which the server answers nothing, /health included; a hundred such bodies at
// once took /health to 1.9 s even parsed one per turn of the loop. So a body over INLINE_JSON_BYTES is
// parsed in a small pool of worker threads (parse-worker.mjs) running the same code as the main thread
// (validate.mjs's jsonTensors: same results, same messages), and its Tensors come back as transferred
// memory, not copies. Smaller bodies, a few milliseconds of work at most, are parsed on the main thread,
// one per turn (turns.mjs), where they do not wait behind large ones.

import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { Tensor } from 'torchrnn';
import { HttpError } from './http-error.mjs';

/** Bodies up to this many bytes are parsed on the main thread: at most a few ms of work. */
export const INLINE_JSON_BYTES = 32 * 1024;

const WORKER = new URL('./parse-worker.mjs', import.meta.url);

/** What jsonTensors reads of the served layer or model: plain data that a worker can be sent. */
function plainServed(served) {
  return {
    kind: served.kind,
    config: served.kind === 'layer' ? { class: served.config.class, dtype: served.config.dtype } : undefined,
    input: served.input,
    result: served.result && { states: served.result.states, stateDtype: served.result.stateDtype },
  };
}

const tensorOf = ({ data, shape, dtype }) => new Tensor(data, shape, dtype);

/**
 * A pool of `size` workers (by default one per core but one, left to the event loop), started when first
 * needed. `parse(served, body)` resolves to what jsonTensors(served, body) returns, or rejects with the
 * HttpError it throws. Idle workers do not keep the process alive; one that dies fails its body with a
 * 500 and is replaced by the next body that needs it.
 */
export function createParsePool(size = Math.max(1, Math.min(4, os.availableParallelism() - 1))) {
  const idle = [];
  const queue = [];
  const jobs = new Map();
  let started = 0;
  let nextId = 0;

  function spawn() {
    const worker = new Worker(WORKER);
    started += 1;
    worker.on('message', (message) => {
      const job = jobs.get(message.id);
      jobs.delete(message.id);
      worker.job = undefined;
      if (message.refused) {
        const { status, message: text, headers } = message.refused;
        job.reject(new HttpError(status, text, headers));
      } else if (message.failed) {
        job.reject(new Error(`parsing a JSON body in a worker failed: ${message.failed}`));
      } else {
        job.resolve({ input: tensorOf(message.input), states: message.states?.map(tensorOf), lengths: message.lengths });
      }
      worker.unref();
      idle.push(worker);
      dispatch();
    });
    let gone = false;
    const lost = (error) => {
      if (gone) return; // 'error' is followed by 'exit'
      gone = true;
      started -= 1;
      const at = idle.indexOf(worker);
      if (at >= 0) idle.splice(at, 1);
      if (worker.job !== undefined) {
        const job = jobs.get(worker.job);
        jobs.delete(worker.job);
        job?.reject(new Error(`the worker parsing a JSON body stopped: ${error?.message ?? 'exited'}`));
      }
      dispatch();
    };
    worker.once('error', lost);
    worker.once('exit', () => lost());
    // An idle worker does not keep the process alive (a 'message' listener refs it: unref after).
    worker.unref();
    idle.push(worker);
  }

  function dispatch() {
    while (queue.length > 0) {
      if (idle.length === 0 && started < size) spawn();
      const worker = idle.pop();
      if (worker === undefined) return;
      const { id, served, body } = queue.shift();
      worker.job = id;
      worker.ref();
      // The body's memory moves to the worker when it is a whole ArrayBuffer of its own (Buffer.concat of
      // a large body is); a view into a shared pool slab is copied first.
      const whole = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
      const bytes = whole ? body.buffer : body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength);
      worker.postMessage({ id, served, body: bytes }, [bytes]);
    }
  }

  return {
    parse(served, body) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        jobs.set(id, { resolve, reject });
        queue.push({ id, served: plainServed(served), body });
        dispatch();
      });
    },
  };
}
