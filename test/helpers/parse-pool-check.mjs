// Runs JSON bodies through the example server's parse pool (a worker thread) and through the same code on
// this thread (validate.mjs's jsonTensors), and prints both outcomes as JSON for test/server-burst.test.ts
// to compare. Also counts the turns this thread's event loop makes while the pool parses a large body.
//
//   node test/helpers/parse-pool-check.mjs < cases.json    cases: { cases: [{ served, body }], large: string }

import { createParsePool } from '../../examples/server/parse-pool.mjs';
import { jsonTensors } from '../../examples/server/validate.mjs';

const plain = (t) => ({ shape: t.shape, dtype: t.dtype, data: Array.from(t.data, Number) });
const outcome = (r) => ({ input: plain(r.input), states: r.states?.map(plain), lengths: r.lengths });
const refusal = (e) => ({ status: e.status, message: e.message, headers: e.headers, name: e.name });

let text = '';
for await (const chunk of process.stdin) text += chunk;
const { cases, large } = JSON.parse(text);
const pool = createParsePool(1);

const results = [];
for (const { served, body } of cases) {
  const bytes = Buffer.from(body);
  let inline;
  try {
    inline = outcome(jsonTensors(served, bytes));
  } catch (error) {
    inline = refusal(error);
  }
  let pooled;
  try {
    pooled = outcome(await pool.parse(served, Buffer.from(body)));
  } catch (error) {
    pooled = refusal(error);
  }
  results.push({ inline, pooled });
}

// The loop's turns while one large body is parsed: a parse on this thread would allow none.
const served = { kind: 'layer', config: { class: 'LSTM', dtype: 'float32' } };
let turns = 0;
let counting = true;
const tick = () => {
  turns += 1;
  if (counting) setTimeout(tick, 1);
};
setTimeout(tick, 1);
const parsed = await pool.parse(served, Buffer.from(large));
counting = false;
const syncStarted = performance.now();
jsonTensors(served, Buffer.from(large));
const syncMs = performance.now() - syncStarted;
console.log(JSON.stringify({ results, turns, largeShape: parsed.input.shape, syncMs }));
