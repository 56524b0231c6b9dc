/**
 * examples/server under a burst of large JSON bodies: they are parsed in a worker thread
 * (examples/server/parse-pool.mjs), with exactly the results and messages of the parse on the main
 * thread, while the event loop keeps turning and /health keeps answering.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';
import { LSTM, loadSafetensors } from '../lib';
import { seededRandom } from './helpers/seeded';
import { REPO, json, postJson, random, request, startServer, stopServer, type Answer, type Server } from './helpers/server';

jest.setTimeout(120_000);

const MODEL = path.join(REPO, 'examples', 'demo', 'model.safetensors');
const CHECK = path.join(REPO, 'test', 'helpers', 'parse-pool-check.mjs');

interface Served {
  kind: 'layer' | 'model';
  config?: { class: string; dtype: string };
  input?: { dtype: string; stepShape: number[] };
  result?: { states: number[][]; stateDtype?: string };
}

/** A number written as JSON in one of the ways clients write them: integers, decimals, exponents, negatives. */
function jsonNumber(next: () => number): string {
  const v = next() * 2 - 1;
  switch (Math.floor(next() * 5)) {
    case 0:
      return String(Math.round(v * 100));
    case 1:
      return v.toFixed(7);
    case 2:
      return v.toExponential(3);
    case 3:
      return String(Math.fround(v));
    default:
      return String(v * 1e-30);
  }
}

/** The JSON text of a nested array of `shape` with numbers from `next`. */
function nested(shape: number[], next: () => number): string {
  if (shape.length === 0) return jsonNumber(next);
  return `[${Array.from({ length: shape[0] }, () => nested(shape.slice(1), next)).join(',')}]`;
}

const LSTM32: Served = { kind: 'layer', config: { class: 'LSTM', dtype: 'float32' } };
const GRU64: Served = { kind: 'layer', config: { class: 'GRU', dtype: 'float64' } };
const TOKENS: Served = { kind: 'model', input: { dtype: 'int64', stepShape: [] }, result: { states: [[1, 4]], stateDtype: 'float32' } };
const TWO_STATES: Served = { kind: 'model', input: { dtype: 'float32', stepShape: [3] }, result: { states: [[1, 2], [1, 2]] } };

/** Random requests: shapes of every rank the server takes, with and without hx and lengths. */
function randomCases(): Array<{ served: Served; body: string }> {
  const next = seededRandom(13);
  const cases: Array<{ served: Served; body: string }> = [];
  for (let i = 0; i < 24; i++) {
    const steps = 1 + Math.floor(next() * 6);
    const batch = 1 + Math.floor(next() * 3);
    const features = 1 + Math.floor(next() * 5);
    const batched = next() < 0.5;
    const shape = batched ? [steps, batch, features] : [steps, features];
    const lstm = i % 2 === 0;
    const state = batched ? [1, batch, 2] : [1, 2];
    const hx = next() < 0.5 ? `,"hx":${lstm ? `[${nested(state, next)},${nested(state, next)}]` : nested(state, next)}` : '';
    const lengths = next() < 0.3 ? `,"lengths":[${Array.from({ length: batch }, () => 1 + Math.floor(next() * steps)).join(',')}]` : '';
    cases.push({ served: lstm ? LSTM32 : GRU64, body: `{"input":${nested(shape, next)}${hx}${lengths}}` });
  }
  cases.push({ served: TOKENS, body: '{"input":[3,1,4,1,5],"hx":[[0.5,-0.25,1e-3,2]]}' });
  // A boolean among numbers is 1 or 0, as torch.tensor takes it.
  cases.push({ served: LSTM32, body: '{"input":[[1,true],[false,-0]]}' });
  cases.push({ served: TWO_STATES, body: `{"input":${nested([4, 2, 3], next)},"hx":[${nested([1, 2, 2], next)},${nested([1, 2, 2], next)}]}` });
  return cases;
}

/** Every refusal jsonTensors can give: bad JSON, a bad object, bad arrays, bad numbers, a bad hx. */
const REFUSALS: Array<{ served: Served; body: string }> = [
  '{"input": [[1, 2',
  'input=1,2,3',
  '',
  '\u00ff{"input": [[1]]}',
  '[[1, 2]]',
  'null',
  '"input"',
  '{"hx": null}',
  '{"input": [[0]], "h0": []}',
  '{"input": [[1, 2], [3]]}',
  '{"input": [[1, 2], 3]}',
  '{"input": [[1, [2]]]}',
  '{"input": [[1, "a"]]}',
  '{"input": [[1, null]]}',
  '{"input": [[1, {}]]}',
  '{"input": {"0": [1]}}',
  '{"input": [[1, 1e39]]}',
  '{"input": [[1, 1e999]]}',
  '{"input": [[1]], "hx": [[1]]}',
  '{"input": [[1]], "hx": [[[1]], [[1, 2], [3]]]}',
  '{"input": [[1]], "hx": [[[1]], [["x"]]]}',
].map((body) => ({ served: LSTM32, body }));
REFUSALS.push(
  { served: TOKENS, body: '{"input": [1, 2.5]}' },
  { served: TOKENS, body: '{"input": [1, 1e300]}' },
  { served: TWO_STATES, body: '{"input": [[1, 2, 3]], "hx": [[1, 2]]}' },
  { served: GRU64, body: '{"input": [[1e309]]}' },
);

interface Outcome {
  inline: Record<string, unknown>;
  pooled: Record<string, unknown>;
}

/** A ~1 MB body of random numbers: long enough to parse that a parse on the loop would stop it for a while. */
const LARGE_STEPS = 2800;
const large = `{"input":${nested([LARGE_STEPS, 1, 32], seededRandom(7))}}`;

describe('parse pool (examples/server/parse-pool.mjs)', () => {
  let results: Outcome[];
  let cases: Array<{ served: Served; body: string }>;
  let turns: number;
  let largeShape: number[];

  beforeAll(() => {
    cases = [...randomCases(), ...REFUSALS];
    const out = JSON.parse(execFileSync(process.execPath, [CHECK], { input: JSON.stringify({ cases, large }), cwd: REPO, maxBuffer: 1 << 26 }).toString()) as {
      results: Outcome[];
      turns: number;
      largeShape: number[];
    };
    ({ results, turns, largeShape } = out);
  });

  test('random nested arrays: the same tensors, states and lengths as the parse on the main thread', () => {
    const accepted = results.slice(0, randomCases().length);
    for (const [i, { inline, pooled }] of accepted.entries()) {
      expect({ case: i, refused: inline.message }).toEqual({ case: i }); // a valid request: compared as parsed, not as refused
      expect({ case: i, ...pooled }).toEqual({ case: i, ...inline });
    }
  });

  test('every refusal: the same status, message and headers', () => {
    const refused = results.slice(randomCases().length);
    expect(refused).toHaveLength(REFUSALS.length);
    for (const [i, { inline, pooled }] of refused.entries()) {
      expect({ body: REFUSALS[i].body, status: inline.status }).toEqual({ body: REFUSALS[i].body, status: 400 });
      expect({ body: REFUSALS[i].body, ...pooled }).toEqual({ body: REFUSALS[i].body, ...inline });
    }
    // The messages are the server's own (a few, spelled out: the rest are held equal above).
    const message = (body: string): unknown => refused[REFUSALS.findIndex((c) => c.body === body)].pooled.message;
    expect(message('{"input": [[1, 2')).toMatch(/^the body is not valid JSON: /);
    expect(message('{"input": [[1, 2], [3]]}')).toBe('input: expected sequence of length 2 at dim 1 (got 1)');
    expect(message('{"input": [[1, 1e39]]}')).toBe("input[0][1] is Infinity as float32: values must be finite numbers within float32's range");
    expect(message('{"input": [1, 2.5]}')).toBe('input[1] is 2.5: the model takes int64 values, which must be integers');
  });

  test('a large body is parsed while the event loop keeps turning', () => {
    expect(largeShape).toEqual([LARGE_STEPS, 1, 32]);
    // A parse on the loop's own thread lets no timer run until it is done.
    expect(turns).toBeGreaterThanOrEqual(3);
  });
});

describe('GET /health during a burst of large JSON requests', () => {
  let server: Server | undefined;
  afterAll(async () => {
    await stopServer(server);
  });

  test('answers while the burst is in flight; every request is answered, exactly as the library runs it', async () => {
    server = await startServer(['--model', MODEL, '--prefix', 'lstm.']);
    const port = server.port;
    const x = random([400, 1, 32], 51);
    const body = { input: x.toArray() };
    const finished: number[] = [];
    const burst = Array.from({ length: 12 }, (_, i) =>
      postJson(port, body).then((answer: Answer) => {
        finished.push(i);
        return answer;
      }),
    );
    // Polled until it has answered once while a request of the burst was still unanswered.
    let healthDuringBurst = 0;
    while (finished.length < burst.length) {
      const health = await request(port, 'GET', '/health');
      expect(health.status).toBe(200);
      if (finished.length < burst.length) healthDuringBurst += 1;
      await new Promise((r) => setTimeout(r, 10));
    }
    const answers = await Promise.all(burst);
    expect(healthDuringBurst).toBeGreaterThan(0);
    const sd = await loadSafetensors(MODEL);
    const lstm = LSTM.fromStateDict(sd, { prefix: 'lstm.' }).eval();
    const [output, [hN, cN]] = lstm.forward(x);
    const expected = `${JSON.stringify({ output: output.toArray(), h_n: hN.toArray(), c_n: cN.toArray(), shapes: { output: output.shape, h_n: hN.shape, c_n: cN.shape } })}\n`;
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body.toString()).toBe(expected);
    }
    expect(json(await request(port, 'GET', '/health')).status).toBe('ok');
  });
});
