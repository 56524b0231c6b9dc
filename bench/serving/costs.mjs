// Where one request's CPU time goes, measured in this process on the same model and input as the load
// test: the forward (off the event loop) against the conversions around it (on the loop). It explains
// the load test's numbers; it is not part of them.

import { GRU, LSTM, RNN, loadSafetensors, loadTorch, parseNpy, serializeNpy, setNumThreads, tensor } from '../../esm/index.mjs';

const CLASSES = { LSTM, GRU, RNN };

/** Median ms of `f` over `reps` runs after a few warm-up runs. */
async function median(f, reps) {
  for (let i = 0; i < 3; i++) await f();
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** `{ forward, jsonIn, jsonOut, npyIn, npyOut }` in ms for one request of `bodies`. */
export async function requestCosts({ model, prefix, threads, className, bodies }) {
  const sd = model.endsWith('.safetensors') ? await loadSafetensors(model) : await loadTorch(model);
  const module = CLASSES[className].fromStateDict(sd, { prefix }).eval();
  setNumThreads(threads);
  const input = parseNpy(bodies.npy.body);
  const [output, hidden] = await module.forwardAsync(input);
  const states = Array.isArray(hidden) ? hidden : [hidden];
  const jsonText = bodies.json.body;
  return {
    forward: await median(() => module.forwardAsync(input), 200),
    jsonIn: await median(() => tensor(JSON.parse(jsonText).input), 50),
    jsonOut: await median(() => JSON.stringify({ output: output.toArray(), h_n: states[0].toArray(), c_n: states[1]?.toArray() }), 50),
    npyIn: await median(() => parseNpy(bodies.npy.body), 200),
    npyOut: await median(() => serializeNpy(output), 200),
  };
}
