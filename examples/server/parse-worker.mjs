// A worker thread of parse-pool.mjs: parses one JSON body at a time and converts its arrays to Tensors,
// with the very code the main thread would run (validate.mjs), so a client gets the same answer and the
// same message either way. The Tensors' memory is handed back, not copied.

import fs from 'node:fs';
import os from 'node:os';
import { parentPort } from 'node:worker_threads';
import { HttpError } from './http-error.mjs';
import { jsonTensors } from './validate.mjs';

// Parsing yields the CPU to the event loop: on a machine with fewer free cores than busy threads, the
// loop (answers, /health) is what must not wait. Linux sets a niceness per thread, and names this
// thread's id in /proc/thread-self; elsewhere the worker keeps the process's priority.
export const PARSE_NICENESS = 10;
try {
  const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isSafeInteger(tid) && tid !== process.pid) os.setPriority(tid, PARSE_NICENESS);
} catch {
  // not Linux, or not allowed: same priority as the loop
}

/** A Tensor as plain data for postMessage: its typed array travels in the transfer list. */
const wire = (t) => ({ data: t.data, shape: t.shape, dtype: t.dtype });

parentPort.on('message', ({ id, served, body }) => {
  try {
    const { input, states, lengths } = jsonTensors(served, Buffer.from(body));
    const tensors = [input, ...(states ?? [])];
    const buffers = [...new Set(tensors.map((t) => t.data.buffer))];
    parentPort.postMessage({ id, input: wire(input), states: states?.map(wire), lengths }, buffers);
  } catch (error) {
    if (error instanceof HttpError) {
      parentPort.postMessage({ id, refused: { status: error.status, message: error.message, headers: error.headers } });
    } else {
      parentPort.postMessage({ id, failed: String(error?.stack ?? error) });
    }
  }
});
