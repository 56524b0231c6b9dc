// Sending an answer without letting one request, or a crowd of them, make the server hold gigabytes.
//
// A JSON answer can be forty times its request (a step of 32 input values written as "0," becomes 128
// output numbers of up to 20 characters), and a client that never reads would leave the whole text in
// the server's memory. So: the answer's size is bounded before the forward runs (413 over
// --max-response), all answers in flight share a budget (503 over --max-in-flight, until some finish),
// and the text is produced in chunks written only as fast as the client reads them, yielding to the
// event loop between chunks so that /health keeps answering. A client that stops reading for
// --send-timeout loses its connection, and its share of the budget with it.

import { HttpError } from './http-error.mjs';
import { inTurn } from './turns.mjs';

// The longest JSON text of a float32 or float64 number as JavaScript writes it (sign, 17 significant
// digits, point, exponent: "-1.2345678901234567e-308"), plus its comma.
const JSON_NUMBER_BYTES = 26;
// Brackets, keys and the shapes: far less than this for any shape the server accepts.
const JSON_OVERHEAD_BYTES = 1024;
// Text produced, and bytes written, per chunk.
const CHUNK_BYTES = 1 << 16;

/**
 * The most bytes the answer to a request can take, from the served model's sizes alone (`sizes`: numbers
 * of output per step and per sequence, of state per sequence, and bytes per number in .npy): known before
 * the forward runs, so that a request asking for too much is refused before any of the work or memory is
 * spent. `steps` and `sequences` are the request's padded L and its N (1 for one sequence).
 */
export function answerBytes(sizes, steps, sequences, format) {
  const output = steps * sequences * sizes.stepOutput + sequences * sizes.sequenceOutput;
  if (format === 'npy') return output * sizes.bytesPerNumber + 128;
  return (output + sequences * sizes.sequenceStates) * JSON_NUMBER_BYTES + JSON_OVERHEAD_BYTES;
}

/**
 * The memory answers may hold: at most `perAnswer` bytes for one, `total` for all in flight. An
 * answer's share is taken before its forward and given back when its response closes (sent, or the
 * connection lost). `send` writes answers, disconnecting a client that reads nothing for `timeoutMs`.
 */
export function createAnswerBudget({ perAnswer, total, timeoutMs }) {
  let reserved = 0;
  let waiting = 0;
  const open = new Set();

  /** Resolves when `res` can take more (or is gone); destroys it when the client reads nothing for `timeoutMs`. */
  function drained(res) {
    waiting += 1;
    return new Promise((resolve) => {
      const done = () => {
        waiting -= 1;
        clearTimeout(timer);
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      const timer = setTimeout(() => {
        res.off('close', done); // destroy() below emits close later: done must run once
        res.destroy(new Error(`the client read nothing for ${timeoutMs} ms`));
        done();
      }, timeoutMs);
      res.on('drain', done);
      res.on('close', done);
    });
  }

  return {
    /** Takes `bytes` for `res` until it closes; a 413 HttpError over the per-answer limit, 503 over the total. */
    reserve(res, bytes) {
      if (bytes > perAnswer) {
        throw new HttpError(
          413,
          `the answer to this request could take ${bytes} bytes, over the limit of ${perAnswer} (--max-response): ` +
            'send fewer steps or sequences per request',
        );
      }
      if (reserved + bytes > total) {
        throw new HttpError(
          503,
          `answers in flight already hold ${reserved} of the ${total} bytes they may (--max-in-flight): retry shortly`,
          { 'Retry-After': '1' },
        );
      }
      reserved += bytes;
      open.add(res);
      res.once('close', () => {
        reserved -= bytes;
        open.delete(res);
      });
    },

    /**
     * Writes `chunks` (strings or Buffers) as the body of a `status` answer, one at a time: the next is
     * made only once the connection has taken the last, and the event loop gets a turn between chunks.
     */
    async send(res, status, type, chunks) {
      res.writeHead(status, { 'Content-Type': type });
      const iterator = chunks[Symbol.iterator]();
      for (;;) {
        if (res.destroyed) return;
        // Each chunk is made in a turn of the loop of its own, shared with every other answer being
        // written (turns.mjs): twenty answers streaming at once then cost the loop one chunk's work per
        // turn, not twenty, and /health is answered between any two.
        const { value, done } = await inTurn(() => iterator.next());
        if (done) break;
        if (!res.write(value)) await drained(res);
      }
      if (!res.destroyed) res.end();
    },

    /**
     * Answers reserved; their bytes; those waiting for a client to read; and bytes written but not yet
     * taken by the clients' connections, which backpressure keeps to about a chunk per answer.
     */
    snapshot() {
      let buffered = 0;
      for (const res of open) buffered += res.writableLength;
      return { open: open.size, reservedBytes: reserved, waitingForClient: waiting, bufferedBytes: buffered };
    },
  };
}

/** A number as JSON.stringify writes it. */
const jsonNumber = (v) => (typeof v === 'bigint' || Number.isFinite(v) ? String(v) : 'null');

/** Appends the JSON text of `data[offset ...]` shaped `shape[dim ...]` to `out.text`, yielding full chunks. */
function* nestedJson(data, shape, dim, offset, out) {
  const size = shape[dim];
  const inner = shape.slice(dim + 1).reduce((n, s) => n * s, 1);
  out.text += '[';
  for (let i = 0; i < size; i++) {
    if (i > 0) out.text += ',';
    if (dim === shape.length - 1) out.text += jsonNumber(data[offset + i]);
    else yield* nestedJson(data, shape, dim + 1, offset + i * inner, out);
    if (out.text.length >= CHUNK_BYTES) {
      yield out.text;
      out.text = '';
    }
  }
  out.text += ']';
}

/** JSON names of the states an answer carries: h_n, c_n as PyTorch's; more states are numbered. */
const stateName = (i, count) => (count <= 2 ? ['h_n', 'c_n'][i] : `state_${i}`);

/**
 * The JSON answer `{ output[, h_n[, c_n]], shapes }` as chunks of text: what JSON.stringify would write,
 * made a chunk at a time from the result tensors instead of all at once.
 */
export function* jsonAnswer(result) {
  const { states } = result;
  const parts = [['output', result.output], ...states.map((t, i) => [stateName(i, states.length), t])];
  const out = { text: '{' };
  for (const [i, [name, t]] of parts.entries()) {
    out.text += `${i > 0 ? ',' : ''}"${name}":`;
    if (t.dim() === 0) out.text += jsonNumber(t.data[0]);
    else yield* nestedJson(t.data, t.shape, 0, 0, out);
  }
  out.text += `,"shapes":${JSON.stringify(Object.fromEntries(parts.map(([name, t]) => [name, t.shape])))}}\n`;
  yield out.text;
}

/** `bytes` as chunks that share its memory. */
export function* byteChunks(bytes) {
  for (let start = 0; start < bytes.length; start += CHUNK_BYTES) {
    yield Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.min(CHUNK_BYTES, bytes.length - start));
  }
}
