// Forwards, one per request or several requests per forward.
//
// A batch-1 forward leaves most of each step's matrix product idle: the recurrent weights are read from
// memory once per step whether they multiply one sequence or sixteen. Coalescing stacks concurrent
// requests of the same sequence length along the batch axis, runs one forward, and hands each request
// its own rows back. Rows of a batch do not interact, and the engine's kernels compute a row the same
// way whatever the batch around it, so a client gets the numbers a forward of its own request gives, bit
// for bit (test/server.test.ts holds coalesced answers to the library's forward exactly).

import { Tensor } from 'torchrnn';

/** One forward per request; `onForward(sequences)` is told of each. */
export function directRunner(module, onForward) {
  return {
    async forward(input, states) {
      onForward(input.dim() === 3 ? input.shape[1] : 1);
      const [output, hidden] = await module.forwardAsync(input, states === undefined ? undefined : hx(states));
      return { output, states: Array.isArray(hidden) ? hidden : [hidden] };
    },
  };
}

/** The hx argument of the module's forward from a list of states: h, or [h, c] for LSTM. */
function hx(states) {
  return states.length === 1 ? states[0] : states;
}

/** A (L, In) input or (S, H) state as batch 1: the same buffer with a batch axis of size 1. */
function withBatch(t, axis) {
  const shape = [...t.shape];
  shape.splice(axis, 0, 1);
  return new Tensor(t.data, shape);
}

function withoutBatch(t, axis) {
  return new Tensor(t.data, t.shape.filter((_, i) => i !== axis));
}

/**
 * Stacks `parts` (each (A, n_i, F)) along axis 1 into (A, sum n_i, F); `undefined` parts are zeros of
 * `rows[i]` rows (a request without hx starts from zero state, as a forward without hx does).
 */
function stack(parts, rows, outer, features, dtype) {
  const total = rows.reduce((a, b) => a + b, 0);
  const out = Tensor.zeros([outer, total, features], dtype);
  let offset = 0;
  parts.forEach((part, i) => {
    const n = rows[i];
    if (part !== undefined) {
      for (let a = 0; a < outer; a++) {
        out.data.set(part.data.subarray(a * n * features, (a + 1) * n * features), (a * total + offset) * features);
      }
    }
    offset += n;
  });
  return out;
}

/** The rows [offset, offset + n) of a (A, total, F) tensor, as (A, n, F). */
function rowsOf(t, offset, n) {
  const [outer, total, features] = t.shape;
  const out = Tensor.zeros([outer, n, features], t.dtype);
  for (let a = 0; a < outer; a++) {
    out.data.set(t.data.subarray((a * total + offset) * features, (a * total + offset + n) * features), a * n * features);
  }
  return out;
}

/**
 * Requests queue per sequence length; a queue runs as one forward when it holds `maxRows` sequences or
 * `windowMs` after its first request arrived, whichever comes first. The window bounds the latency a
 * lone request pays for the chance of company. `onForward(sequences)` is told of each forward.
 */
export function coalescingRunner(module, { windowMs, maxRows }, onForward) {
  const queues = new Map();

  async function run(batch) {
    const counts = batch.map((r) => r.input.shape[1]);
    onForward(counts.reduce((a, b) => a + b, 0));
    if (batch.length === 1) {
      const [only] = batch;
      const [output, hidden] = await module.forwardAsync(only.input, only.states && hx(only.states));
      return [{ output, states: Array.isArray(hidden) ? hidden : [hidden] }];
    }
    const [L, , F] = batch[0].input.shape;
    const input = stack(batch.map((r) => r.input), counts, L, F, module.dtype);
    let states;
    const template = batch.find((r) => r.states !== undefined)?.states;
    if (template !== undefined) {
      states = template.map((s, k) => stack(batch.map((r) => r.states?.[k]), counts, s.shape[0], s.shape[2], module.dtype));
    }
    const [output, hidden] = await module.forwardAsync(input, states && hx(states));
    const outStates = Array.isArray(hidden) ? hidden : [hidden];
    let offset = 0;
    return batch.map((_, i) => {
      const part = { output: rowsOf(output, offset, counts[i]), states: outStates.map((s) => rowsOf(s, offset, counts[i])) };
      offset += counts[i];
      return part;
    });
  }

  function flush(length) {
    const queue = queues.get(length);
    if (queue === undefined) return;
    queues.delete(length);
    clearTimeout(queue.timer);
    run(queue.requests).then(
      (results) => queue.requests.forEach((r, i) => r.resolve(results[i])),
      (error) => queue.requests.forEach((r) => r.reject(error)),
    );
  }

  return {
    /** The same result as a forward of this request alone; `input` is (L, N, In) or (L, In). */
    forward(input, states) {
      const unbatched = input.dim() === 2;
      const request = {
        input: unbatched ? withBatch(input, 1) : input,
        states: unbatched && states !== undefined ? states.map((s) => withBatch(s, 1)) : states,
      };
      const length = request.input.shape[0];
      const done = new Promise((resolve, reject) => Object.assign(request, { resolve, reject }));
      let queue = queues.get(length);
      if (queue === undefined) {
        queue = { requests: [], rows: 0, timer: setTimeout(() => flush(length), windowMs) };
        queues.set(length, queue);
      }
      queue.requests.push(request);
      queue.rows += request.input.shape[1];
      if (queue.rows >= maxRows) flush(length);
      if (!unbatched) return done;
      return done.then(({ output, states: out }) => ({ output: withoutBatch(output, 1), states: out.map((s) => withoutBatch(s, 1)) }));
    },
  };
}
