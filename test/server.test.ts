/**
 * examples/server, run as a user runs it: a child process on an ephemeral port of 127.0.0.1, serving the
 * demo model's LSTM (examples/demo/model.safetensors, prefix `lstm.`: LSTM(32, 128)). Every answer is held
 * to the library's own forward on the same input, exactly, and every refusal to the library's message.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { LSTM, Tensor, backend, loadSafetensors, loadTorch, packPaddedSequence, padPackedSequence, parseNpy, serializeNpy, tensor, type NestedArray } from '../lib';
import { mismatch } from './helpers/close';
import {
  REPO,
  json,
  postJson,
  random,
  request,
  sampleValue,
  scrape,
  startServer,
  stopServer as stop,
  values,
  type Answer,
  type Server,
} from './helpers/server';

const MODEL = path.join(REPO, 'examples', 'demo', 'model.safetensors');
const MAX_BODY = 100_000;

jest.setTimeout(30_000);

/** Serves the demo model's LSTM with `extra` options. */
function start(...extra: string[]): Promise<Server> {
  return startServer(['--model', MODEL, '--prefix', 'lstm.', '--max-body', String(MAX_BODY), ...extra]);
}

/** The message the library throws for `f`, which must throw. */
function libraryError(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the library to throw');
}

let lstm: LSTM;
let server: Server;

beforeAll(async () => {
  const sd = await loadSafetensors(MODEL);
  lstm = LSTM.fromStateDict(sd, { prefix: 'lstm.' }).eval();
  server = await start();
});

afterAll(async () => {
  await stop(server);
});

describe('GET /health', () => {
  test('reports the model, the backend, the threads and the uptime', async () => {
    const answer = await request(server.port, 'GET', '/health');
    expect(answer.status).toBe(200);
    const health = json(answer);
    expect(health).toMatchObject({
      status: 'ok',
      model: { class: 'LSTM', inputSize: 32, hiddenSize: 128, numLayers: 1, bidirectional: false, projSize: 0, dtype: 'float32', prefix: 'lstm.' },
      backend: backend(),
      threads: 1,
      maxBody: MAX_BODY,
      batching: false,
    });
    expect(typeof health.uptimeSeconds).toBe('number');
    expect(health.uptimeSeconds as number).toBeGreaterThanOrEqual(0);
  });
});

describe('POST /predict, JSON', () => {
  test('batched (L, N, In) with no hx: output, h_n and c_n are the library forward, exactly', async () => {
    const x = random([5, 3, 32], 1);
    const [output, [hN, cN]] = lstm.forward(x);
    const answer = await postJson(server.port, { input: x.toArray() });
    expect(answer.status).toBe(200);
    expect(json(answer)).toEqual({
      output: output.toArray(),
      h_n: hN.toArray(),
      c_n: cN.toArray(),
      shapes: { output: [5, 3, 128], h_n: [1, 3, 128], c_n: [1, 3, 128] },
    });
  });

  test('unbatched (L, In) with hx: the library forward, exactly', async () => {
    const x = random([4, 32], 2);
    const h0 = random([1, 128], 3);
    const c0 = random([1, 128], 4);
    const [output, [hN, cN]] = lstm.forward(x, [h0, c0]);
    const answer = await postJson(server.port, { input: x.toArray(), hx: [h0.toArray(), c0.toArray()] });
    expect(answer.status).toBe(200);
    const body = json(answer);
    expect(body.output).toEqual(output.toArray());
    expect(body.h_n).toEqual(hN.toArray());
    expect(body.c_n).toEqual(cN.toArray());
    expect(body.shapes).toEqual({ output: [4, 128], h_n: [1, 128], c_n: [1, 128] });
  });
});

describe('POST /predict, application/x-npy', () => {
  test('an .npy body answers the output as .npy bytes, equal to the library forward', async () => {
    const x = random([6, 2, 32], 5);
    const [output] = lstm.forward(x);
    const answer = await request(server.port, 'POST', '/predict', Buffer.from(serializeNpy(x)), { 'Content-Type': 'application/x-npy' });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/x-npy');
    const returned = parseNpy(answer.body);
    expect(returned.shape).toEqual([6, 2, 128]);
    expect(returned.dtype).toBe('float32');
    expect(Array.from(returned.data)).toEqual(Array.from(output.data));
  });

  test('a float64 array is refused with the library forward message', async () => {
    const x64 = random([3, 1, 32], 6).to('float64');
    const expected = libraryError(() => lstm.forward(x64));
    const answer = await request(server.port, 'POST', '/predict', Buffer.from(serializeNpy(x64)), { 'Content-Type': 'application/x-npy' });
    expect(answer.status).toBe(400);
    expect(json(answer).error).toContain(expected);
  });

  test('an integer array loads, and is refused with the library forward message', async () => {
    const ints = Tensor.zeros([3, 2, 32], 'int32');
    const answer = await request(server.port, 'POST', '/predict', Buffer.from(serializeNpy(ints)), { 'Content-Type': 'application/x-npy' });
    expect(answer.status).toBe(400);
    // The forward's words, then the server's hint for a .npy body.
    expect(json(answer).error).toBe(`${libraryError(() => lstm.forward(ints as unknown as Tensor))} (save the array with .astype(np.float32))`);
  });

  test('an empty sequence (0, N, In), which only .npy can carry: the library forward message', async () => {
    const empty = Tensor.zeros([0, 2, 32]);
    const answer = await request(server.port, 'POST', '/predict', Buffer.from(serializeNpy(empty)), { 'Content-Type': 'application/x-npy' });
    expect(answer.status).toBe(400);
    expect(json(answer).error).toBe(libraryError(() => lstm.forward(empty)));
  });

  test('bytes that are not .npy: 400 with the loader message', async () => {
    const answer = await request(server.port, 'POST', '/predict', 'not an array', { 'Content-Type': 'application/x-npy' });
    expect(answer.status).toBe(400);
    expect(json(answer).error).toBe(libraryError(() => parseNpy(Buffer.from('not an array'))));
  });
});

describe('refused requests: 400 with the library message', () => {
  test.each<[string, NestedArray]>([
    ['wrong rank (1-D input)', values(32, 7)],
    ['wrong rank (4-D input)', [[[values(32, 8)]]]],
    ['wrong rank (an empty array)', []],
    ['wrong feature size', random([3, 2, 7], 9).toArray()],
    ['wrong feature size, unbatched', random([3, 33], 9).toArray()],
  ])('%s', async (_name, input) => {
    const answer = await postJson(server.port, { input });
    expect(answer.status).toBe(400);
    expect(json(answer).error).toBe(libraryError(() => lstm.forward(tensor(input))));
  });

  test('hx of the wrong batch size', async () => {
    const x = random([2, 3, 32], 10);
    const h0 = random([1, 4, 128], 11);
    const c0 = random([1, 4, 128], 12);
    const answer = await postJson(server.port, { input: x.toArray(), hx: [h0.toArray(), c0.toArray()] });
    expect(answer.status).toBe(400);
    expect(json(answer).error).toBe(libraryError(() => lstm.forward(x, [h0, c0])));
  });

  test('hx of the wrong rank', async () => {
    const x = random([2, 3, 32], 13);
    const h0 = random([3, 128], 14);
    const c0 = random([1, 3, 128], 15);
    const answer = await postJson(server.port, { input: x.toArray(), hx: [h0.toArray(), c0.toArray()] });
    expect(answer.status).toBe(400);
    expect(json(answer).error).toBe(libraryError(() => lstm.forward(x, [h0, c0])));
  });

  test('a ragged array: tensor()’s message', async () => {
    const ragged = [[values(32, 1), values(31, 2)]];
    const answer = await postJson(server.port, { input: ragged });
    expect(answer.status).toBe(400);
    expect(json(answer).error).toBe(`input: ${libraryError(() => tensor(ragged))}`);
  });

  test('a string among the numbers: tensor()’s message', async () => {
    const input = [[[...values(31, 3), '0.5']]];
    const answer = await postJson(server.port, { input });
    expect(answer.status).toBe(400);
    expect(json(answer).error).toBe(`input: ${libraryError(() => tensor(input as unknown as NestedArray))}`);
  });

  test('a value beyond float32 (Infinity once converted) is named by its position', async () => {
    const row = values(32, 4);
    row[5] = 1e39;
    const answer = await postJson(server.port, { input: [[values(32, 5)], [row]] });
    expect(answer.status).toBe(400);
    expect(json(answer).error).toBe("input[1][0][5] is Infinity as float32: values must be finite numbers within float32's range");
  });

  test('a value beyond float64 in the JSON text', async () => {
    const text = `{"input": [[${[...values(31, 6), '1e999'].join(',')}]]}`;
    const answer = await request(server.port, 'POST', '/predict', text, { 'Content-Type': 'application/json' });
    expect(answer.status).toBe(400);
    expect(json(answer).error).toMatch(/^input\[0\]\[31\] is Infinity/);
  });

  test.each([
    ['truncated JSON', '{"input": [[1, 2', /^the body is not valid JSON: /],
    ['not JSON at all', 'input=1,2,3', /^the body is not valid JSON: /],
    ['an array instead of an object', '[[1, 2]]', /^the body must be a JSON object/],
    ['no input', '{"hx": null}', /^the body has no "input"$/],
    ['a misspelt field', '{"input": [[0]], "h0": []}', /^unknown field\(s\) "h0"/],
  ])('%s', async (_name, text, message) => {
    const answer = await request(server.port, 'POST', '/predict', text, { 'Content-Type': 'application/json' });
    expect(answer.status).toBe(400);
    expect(json(answer).error).toMatch(message);
  });

  test('an LSTM hx that is not a pair', async () => {
    const answer = await postJson(server.port, { input: random([2, 32], 16).toArray(), hx: random([1, 128], 17).toArray() });
    expect(answer.status).toBe(400);
    expect(json(answer).error).toBe('LSTM: hx must be [h_0, c_0], a pair of nested arrays');
  });
});

describe('limits, routes and methods', () => {
  const oversized = JSON.stringify({ input: [[values(MAX_BODY / 8, 18)]] });

  test('a body over --max-body with Content-Length: 413 before it is read', async () => {
    expect(oversized.length).toBeGreaterThan(MAX_BODY);
    const answer = await request(server.port, 'POST', '/predict', oversized, { 'Content-Type': 'application/json' });
    expect(answer.status).toBe(413);
    expect(json(answer).error).toBe(`the request body is ${oversized.length} bytes, over the limit of ${MAX_BODY} bytes (--max-body)`);
    expect(answer.headers.connection).toBe('close');
  });

  test('a chunked body over --max-body: 413 once it passes the limit', async () => {
    const answer = await request(server.port, 'POST', '/predict', oversized, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    expect(answer.status).toBe(413);
    expect(json(answer).error).toBe(`the request body is more than ${MAX_BODY} bytes, over the limit of ${MAX_BODY} bytes (--max-body)`);
  });

  test('an unknown route: 404', async () => {
    const answer = await request(server.port, 'GET', '/predictions');
    expect(answer.status).toBe(404);
    expect(json(answer).error).toMatch(/^no route \/predictions/);
  });

  test.each([
    ['GET', '/predict', 'POST'],
    ['PUT', '/predict', 'POST'],
    ['POST', '/health', 'GET'],
    ['DELETE', '/metrics', 'GET'],
  ])('%s %s: 405, Allow: %s', async (method, route, allowed) => {
    const answer = await request(server.port, method, route);
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe(allowed);
    expect(json(answer).error).toBe(`${method} is not allowed on ${route}: use ${allowed}`);
  });

  test('another Content-Type: 415', async () => {
    const answer = await request(server.port, 'POST', '/predict', 'a,b', { 'Content-Type': 'text/csv' });
    expect(answer.status).toBe(415);
    expect(json(answer).error).toBe("Content-Type must be application/json or application/x-npy, got 'text/csv'");
  });

  test('the server keeps serving after every refusal', async () => {
    const x = random([2, 1, 32], 19);
    const answer = await postJson(server.port, { input: x.toArray() });
    expect(answer.status).toBe(200);
    expect(json(answer).output).toEqual(lstm.forward(x)[0].toArray());
  });
});

/** Sends `text` as is on a new connection and resolves with everything the server sends until it closes. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(text));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('error', reject);
  });
}

/** A client that sends a JSON /predict request and never reads a byte of the answer. */
function nonReader(port: number, body: string): net.Socket {
  const socket = net.connect(port, '127.0.0.1', () => {
    socket.write(`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
    socket.write(body);
  });
  socket.pause();
  socket.on('error', () => {}); // the server may give up on it: that is the point
  return socket;
}

interface AnswerMetrics {
  open: number;
  reservedBytes: number;
  waitingForClient: number;
  bufferedBytes: number;
}

async function answerMetrics(port: number): Promise<AnswerMetrics> {
  const metrics = await scrape(port);
  const gauge = (name: string): number => sampleValue(metrics, `torchrnn_answers_${name}`) as number;
  return { open: gauge('open'), reservedBytes: gauge('reserved_bytes'), waitingForClient: gauge('waiting_for_client'), bufferedBytes: gauge('buffered_bytes') };
}

/** Polls `read` (a reading of /metrics) until `done` holds (bounded by the test's timeout). */
async function untilRead<M>(read: () => Promise<M>, done: (m: M) => boolean): Promise<M> {
  for (;;) {
    const metrics = await read();
    if (done(metrics)) return metrics;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Polls the answers' gauges until `done` holds. */
const until = (port: number, done: (m: AnswerMetrics) => boolean): Promise<AnswerMetrics> => untilRead(() => answerMetrics(port), done);

/**
 * A 4000-step request of zeros: 256 kB of JSON whose answer (512 000 output numbers) is about 10 MB of
 * text, more than loopback's socket buffers take from a client that does not read.
 */
const BIG_STEPS = 4000;
const bigBody = JSON.stringify({ input: Array.from({ length: BIG_STEPS }, () => [new Array(32).fill(0)]) });
/** What the server bounds that answer by before its forward: 26 bytes per number (output, h_n, c_n) + 1024. */
const bigBound = (BIG_STEPS * 128 + 2 * 128) * 26 + 1024;

describe('bounded answers (--max-response, --max-in-flight, --send-timeout)', () => {
  let bounded: Server | undefined;
  afterAll(async () => {
    await stop(bounded);
  });

  test('an answer is streamed, and its text is exactly what JSON.stringify writes', async () => {
    // 100 steps: 13 056 numbers, about 250 kB of text, written in several 64 KiB chunks.
    const x = random([100, 1, 32], 30);
    const answer = await postJson(server.port, { input: x.toArray() });
    const [output, [hN, cN]] = lstm.forward(x);
    const expected = { output: output.toArray(), h_n: hN.toArray(), c_n: cN.toArray(), shapes: { output: output.shape, h_n: hN.shape, c_n: cN.shape } };
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe(`${JSON.stringify(expected)}\n`);
  });

  test('an answer over --max-response: 413 before the forward, naming the bound', async () => {
    bounded = await start('--max-body', '1000000', '--max-response', String(bigBound - 1), '--metrics-reset');
    const answer = await request(bounded.port, 'POST', '/predict', bigBody, { 'Content-Type': 'application/json' });
    expect(answer.status).toBe(413);
    expect(json(answer).error).toBe(
      `the answer to this request could take ${bigBound} bytes, over the limit of ${bigBound - 1} (--max-response): ` +
        'send fewer steps or sequences per request',
    );
    // Refused before its forward ran.
    expect(sampleValue(await scrape(bounded.port), 'torchrnn_batch_size_count')).toBe(0);
    await stop(bounded);
  });

  test('clients that never read: the server holds a chunk of each, /health answers, the next is 503 until they go', async () => {
    const readers = 3;
    bounded = await start('--max-body', '1000000', '--max-in-flight', String(Math.floor((readers + 0.5) * bigBound)), '--send-timeout', '60000');
    const { port } = bounded;
    const sockets = Array.from({ length: readers }, () => nonReader(port, bigBody));
    try {
      // Every answer computed and its sending stalled on a client that does not read.
      const stalled = await until(port, (m) => m.waitingForClient === readers);
      expect(stalled.open).toBe(readers);
      expect(stalled.reservedBytes).toBe(readers * bigBound);
      // Backpressure: what waits in the server is about a chunk (64 KiB) and a stream buffer per answer,
      // not the ~10 MB answers (which the kernel's socket buffers cannot take either).
      expect(stalled.bufferedBytes).toBeLessThan(readers * 256 * 1024);

      // /health still answers at once (the bound is generous: it only has to answer at all).
      const health = await Promise.race([
        request(port, 'GET', '/health'),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('/health did not answer within 5 s')), 5000)),
      ]);
      expect(health.status).toBe(200);

      // One more answer of that size would pass --max-in-flight: 503, and the forward is not run.
      const busy = await request(port, 'POST', '/predict', bigBody, { 'Content-Type': 'application/json' });
      expect(busy.status).toBe(503);
      expect(busy.headers['retry-after']).toBe('1');
      expect(json(busy).error).toBe(
        `answers in flight already hold ${readers * bigBound} of the ${Math.floor((readers + 0.5) * bigBound)} bytes they may (--max-in-flight): retry shortly`,
      );
      // A small request still fits.
      const x = random([2, 1, 32], 31);
      expect(json(await postJson(port, { input: x.toArray() })).output).toEqual(lstm.forward(x)[0].toArray());
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    // Their connections gone, their shares come back.
    expect(await until(port, (m) => m.open === 0)).toEqual({ open: 0, reservedBytes: 0, waitingForClient: 0, bufferedBytes: 0 });
    await stop(bounded);
  });

  test('a client that reads nothing for --send-timeout is disconnected and its share returned', async () => {
    bounded = await start('--max-body', '1000000', '--send-timeout', '200');
    const { port } = bounded;
    const socket = nonReader(port, bigBody);
    try {
      await until(port, (m) => m.open === 1);
      // Still not reading: the server gives up on it.
      expect(await until(port, (m) => m.open === 0)).toEqual({ open: 0, reservedBytes: 0, waitingForClient: 0, bufferedBytes: 0 });
    } finally {
      socket.destroy();
    }
    await stop(bounded);
  });
});

/** A client that declares a body of `declared` bytes, sends `sent` of them, and then stalls. */
function stalledUpload(port: number, declared: number, sent: number): net.Socket {
  const socket = net.connect(port, '127.0.0.1', () => {
    socket.write(`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
    socket.write(' '.repeat(sent));
  });
  socket.on('error', () => {});
  return socket;
}

async function bodyMetrics(port: number): Promise<{ held: number; waiting: number }> {
  const metrics = await scrape(port);
  return { held: sampleValue(metrics, 'torchrnn_bodies_held_bytes') as number, waiting: sampleValue(metrics, 'torchrnn_bodies_waiting') as number };
}

/** Polls the request bodies' gauges until `done` holds. */
const untilBodies = (port: number, done: (m: { held: number; waiting: number }) => boolean) => untilRead(() => bodyMetrics(port), done);

describe('bounded request bodies (--max-receiving)', () => {
  let bounded: Server | undefined;
  afterAll(async () => {
    await stop(bounded);
  });

  test('a body that does not fit waits, unread, and those after it wait their turn; all are answered once it fits', async () => {
    bounded = await start('--max-body', '60000', '--max-receiving', '100000');
    const { port } = bounded;
    // Holds 60 000 bytes of the budget while it stalls mid-body.
    const first = stalledUpload(port, 60_000, 1_000);
    try {
      await untilBodies(port, (m) => m.held === 60_000);
      // 40 000 bytes are left: a body declaring 50 000 waits; a small one after it waits its turn (arrival
      // order, so that a stream of small bodies cannot starve a large one).
      const x = random([60, 1, 32], 41);
      const y = random([2, 1, 32], 42);
      const largeBody = JSON.stringify({ input: x.toArray() });
      expect(largeBody.length).toBeLessThan(50_000);
      let answered = 0;
      const large = request(port, 'POST', '/predict', largeBody.padEnd(50_000, ' '), { 'Content-Type': 'application/json' });
      await untilBodies(port, (m) => m.waiting === 1);
      const small = postJson(port, { input: y.toArray() });
      for (const pending of [large, small]) void pending.then(() => (answered += 1));
      await untilBodies(port, (m) => m.waiting === 2);
      expect((await request(port, 'GET', '/health')).status).toBe(200);
      expect(answered).toBe(0);
      expect((await bodyMetrics(port)).held).toBe(60_000);
      // The stalled client leaves: its share comes back, and the waiting bodies are read and answered.
      first.destroy();
      const [a, b] = await Promise.all([large, small]);
      expect(a.status).toBe(200);
      expect(json(a).output).toEqual(lstm.forward(x)[0].toArray());
      expect(json(b).output).toEqual(lstm.forward(y)[0].toArray());
      expect(await bodyMetrics(port)).toEqual({ held: 0, waiting: 0 });
    } finally {
      first.destroy();
    }
    await stop(bounded);
  });

  test('a client that leaves while its body waits leaves the queue; /health answers throughout', async () => {
    bounded = await start('--max-body', '60000', '--max-receiving', '60000');
    const { port } = bounded;
    const first = stalledUpload(port, 60_000, 10);
    const second = stalledUpload(port, 60_000, 10);
    try {
      await untilBodies(port, (m) => m.waiting === 1);
      expect((await request(port, 'GET', '/health')).status).toBe(200);
      second.destroy();
      await untilBodies(port, (m) => m.waiting === 0);
      expect(await bodyMetrics(port)).toEqual({ held: 60_000, waiting: 0 });
      first.destroy();
      await untilBodies(port, (m) => m.held === 0);
    } finally {
      first.destroy();
      second.destroy();
    }
    await stop(bounded);
  });

  test('--max-receiving below --max-body is refused at start: such a body would wait forever', () => {
    const server = path.join(REPO, 'examples', 'server', 'server.mjs');
    let stderr = '';
    try {
      execFileSync(process.execPath, [server, '--model', MODEL, '--prefix', 'lstm.', '--max-body', '2000', '--max-receiving', '1000'], { stdio: 'pipe' });
    } catch (error) {
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    expect(stderr).toContain('error: --max-receiving (1000) must be at least --max-body (2000)');
  });

  test('a declared Content-Length over --max-body is refused at once, without waiting for the budget', async () => {
    bounded = await start('--max-body', '60000', '--max-receiving', '60000');
    const { port } = bounded;
    const first = stalledUpload(port, 60_000, 10);
    try {
      await untilBodies(port, (m) => m.held === 60_000);
      const answer = await request(port, 'POST', '/predict', ' '.repeat(60_001), { 'Content-Type': 'application/json' });
      expect(answer.status).toBe(413);
    } finally {
      first.destroy();
    }
    await stop(bounded);
  });
});

describe('request targets and /metrics/reset', () => {
  test('GET http://[ HTTP/1.1 (not a URL): 400, not 500', async () => {
    const reply = await raw(server.port, 'GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toContain('{"error":"the request target is not a valid URL or path"}');
    expect((await request(server.port, 'GET', '/health')).status).toBe(200);
  });

  test('with --metrics-reset, POST /metrics/reset: 200 from loopback, 403 from anywhere else', () => {
    // Another machine cannot be had here: the route's handler is called as node:http would call it, with
    // the client address a socket from elsewhere would carry.
    const code = `
      import { createHandler } from './examples/server/routes.mjs';
      const resets = [];
      const handler = createHandler({
        options: { metricsReset: true },
        state: { inFlight: 0, draining: false },
        metrics: { answered() {}, reset() { resets.push(1); } },
      });
      const results = [];
      for (const address of ['10.1.2.3', '::ffff:192.168.0.9', '2001:db8::1', '127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
        const res = { statusCode: 200, headersSent: false, body: '', setHeader() {},
          writeHead(status) { this.statusCode = status; }, end(bytes) { this.body = String(bytes); } };
        await handler({ method: 'POST', url: '/metrics/reset', headers: {}, socket: { remoteAddress: address } }, res);
        results.push([address, res.statusCode, JSON.parse(res.body)]);
      }
      console.log(JSON.stringify({ results, resets: resets.length }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: REPO }).toString()) as {
      results: [string, number, unknown][];
      resets: number;
    };
    const refused = { error: 'POST /metrics/reset is accepted only from this machine (loopback)' };
    expect(out.results).toEqual([
      ['10.1.2.3', 403, refused],
      ['::ffff:192.168.0.9', 403, refused],
      ['2001:db8::1', 403, refused],
      ['127.0.0.1', 200, { reset: true }],
      ['127.8.9.10', 200, { reset: true }],
      ['::1', 200, { reset: true }],
      ['::ffff:127.0.0.1', 200, { reset: true }],
    ]);
    expect(out.resets).toBe(4);
  });

  test('POST /metrics/reset does not exist without --metrics-reset', async () => {
    const answer = await request(server.port, 'POST', '/metrics/reset');
    expect(answer.status).toBe(404);
    expect(json(answer).error).toMatch(/^no route \/metrics\/reset/);
  });
});

/** Where a batched answer differs from the library's forward of that request alone beyond float32 rounding. */
function differences(body: Record<string, unknown>, expected: [Tensor, [Tensor, Tensor]], what: string): (string | null)[] {
  const [output, [hN, cN]] = expected;
  const shapes = body.shapes as Record<string, number[]>;
  const got = (name: string): Tensor => tensor(body[name] as NestedArray).reshape(shapes[name]);
  return [mismatch(got('output'), output, `${what} output`), mismatch(got('h_n'), hN, `${what} h_n`), mismatch(got('c_n'), cN, `${what} c_n`)];
}

/** The library's answer to a padded batch with lengths: packed, run, padded back to the input's L. */
function forwardWithLengths(x: Tensor, lengths: number[], hx?: [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
  const [packedOut, state] = lstm.forward(packPaddedSequence(x, lengths, { enforceSorted: false }), hx);
  return [padPackedSequence(packedOut, { totalLength: x.shape[0] })[0], state];
}

describe('lengths: a padded batch of sequences of several lengths', () => {
  const x = random([7, 3, 32], 40);
  const lengths = [4, 7, 2];

  test('JSON with "lengths": the library forward of the packed batch, padded back to L, exactly', async () => {
    const [output, [hN, cN]] = forwardWithLengths(x, lengths);
    const answer = await postJson(server.port, { input: x.toArray(), lengths });
    expect(answer.status).toBe(200);
    expect(json(answer)).toEqual({ output: output.toArray(), h_n: hN.toArray(), c_n: cN.toArray(), shapes: { output: [7, 3, 128], h_n: [1, 3, 128], c_n: [1, 3, 128] } });
    // Steps past a sequence's length are zeros, as pad_packed_sequence pads them.
    expect((json(answer).output as number[][][])[5][0].every((v) => v === 0)).toBe(true);
  });

  test('JSON with lengths and hx: each sequence continues from its own state', async () => {
    const hx: [Tensor, Tensor] = [random([1, 3, 128], 41), random([1, 3, 128], 42)];
    const [output, [hN, cN]] = forwardWithLengths(x, lengths, hx);
    const answer = await postJson(server.port, { input: x.toArray(), hx: hx.map((t) => t.toArray()), lengths });
    expect(answer.status).toBe(200);
    expect(json(answer)).toMatchObject({ output: output.toArray(), h_n: hN.toArray(), c_n: cN.toArray() });
  });

  test('.npy with ?lengths=: the output as .npy, exactly', async () => {
    const [output] = forwardWithLengths(x, lengths);
    const answer = await request(server.port, 'POST', `/predict?lengths=${lengths.join(',')}`, Buffer.from(serializeNpy(x)), { 'Content-Type': 'application/x-npy' });
    expect(answer.status).toBe(200);
    const returned = parseNpy(answer.body);
    expect(returned.shape).toEqual([7, 3, 128]);
    expect(Array.from(returned.data)).toEqual(Array.from(output.data));
  });

  test.each<[string, string, unknown, string]>([
    ['one length too many', '', [4, 7, 2, 1], libraryError(() => packPaddedSequence(x, [4, 7, 2, 1], { enforceSorted: false }))],
    ['a length over L', '', [4, 8, 2], libraryError(() => packPaddedSequence(x, [4, 8, 2], { enforceSorted: false }))],
    ['a length of 0', '', [4, 0, 2], libraryError(() => packPaddedSequence(x, [4, 0, 2], { enforceSorted: false }))],
    ['a fractional length', '', [4, 2.5, 2], libraryError(() => packPaddedSequence(x, [4, 2.5, 2], { enforceSorted: false }))],
    ['not an array', '', '4,7,2', 'lengths must be an array of numbers, one per sequence of the batch, e.g. [5, 3]'],
    ['given twice', '?lengths=4,7,2', lengths, 'lengths is given twice: in the body and in the query string'],
    ['not integers in the query', '?lengths=4,x,2', undefined, "lengths in the query string must be integers separated by commas, e.g. ?lengths=5,3, got '4,x,2'"],
  ])('%s: 400', async (_name, query, given, message) => {
    const answer = await postJson(server.port, { input: x.toArray(), ...(given === undefined ? {} : { lengths: given }) }, `/predict${query}`);
    expect(answer.status).toBe(400);
    expect(json(answer).error).toBe(message);
  });

  test('lengths with one unbatched sequence: 400', async () => {
    const answer = await postJson(server.port, { input: random([5, 32], 43).toArray(), lengths: [5] });
    expect(answer.status).toBe(400);
    expect(json(answer).error).toBe('lengths is for a padded batch (L, N, ...), one length per sequence; this input is one sequence of 5 steps');
  });
});

describe('--batch-size: requests batched into one packed forward', () => {
  let batching: Server | undefined;
  afterEach(async () => {
    await stop(batching);
  });

  test('requests of different lengths and layouts, with and without hx, .npy and JSON: each its own forward', async () => {
    // A batch starts when it holds 5 sequences; a delay longer than the test's timeout makes that the only
    // way here, so the four requests below (1 + 2 + 1 + 1 sequences) run as one forward whatever the timing.
    batching = await start('--batch-size', '5', '--batch-delay-ms', '60000');
    const { port } = batching;
    expect(json(await request(port, 'GET', '/health')).batching).toEqual({ maxBatchSize: 5, maxDelayMs: 60000, maxQueue: 1024 });

    const a = random([6, 1, 32], 20);
    const b = random([3, 2, 32], 21);
    const bh: [Tensor, Tensor] = [random([1, 2, 128], 22), random([1, 2, 128], 23)];
    const c = random([9, 32], 24);
    const d = random([5, 1, 32], 25);
    const [ja, jb, jc, nd] = await Promise.all([
      postJson(port, { input: a.toArray() }),
      postJson(port, { input: b.toArray(), hx: bh.map((t) => t.toArray()) }),
      postJson(port, { input: c.toArray() }),
      request(port, 'POST', '/predict', Buffer.from(serializeNpy(d)), { 'Content-Type': 'application/x-npy' }),
    ]);
    for (const answer of [ja, jb, jc, nd]) expect(answer.status).toBe(200);
    expect([
      ...differences(json(ja), lstm.forward(a), 'a'),
      ...differences(json(jb), lstm.forward(b, bh), 'b'),
      ...differences(json(jc), lstm.forward(c), 'c'),
      mismatch(parseNpy(nd.body), lstm.forward(d)[0], 'd output'),
    ]).toEqual([null, null, null, null, null, null, null, null, null, null]);

    const metrics = await scrape(port);
    // One forward of 5 sequences.
    expect(sampleValue(metrics, 'torchrnn_batch_size_count')).toBe(1);
    expect(sampleValue(metrics, 'torchrnn_batch_size_sum')).toBe(5);
    expect(sampleValue(metrics, 'torchrnn_batch_size_bucket', { le: '4' })).toBe(0);
    expect(sampleValue(metrics, 'torchrnn_batch_size_bucket', { le: '8' })).toBe(1);
    expect(sampleValue(metrics, 'torchrnn_batch_queue_wait_seconds_count')).toBe(4);
    expect(sampleValue(metrics, 'torchrnn_forward_seconds_count')).toBe(1);
    expect(sampleValue(metrics, 'torchrnn_http_requests_total', { route: '/predict', status: '200' })).toBe(4);
  });

  test('a padded batch with lengths joins a batch too', async () => {
    batching = await start('--batch-size', '4', '--batch-delay-ms', '60000');
    const x = random([6, 3, 32], 44);
    const y = random([2, 32], 45);
    const [jx, jy] = await Promise.all([postJson(batching.port, { input: x.toArray(), lengths: [2, 6, 5] }), postJson(batching.port, { input: y.toArray() })]);
    expect([jx.status, jy.status]).toEqual([200, 200]);
    expect([...differences(json(jx), forwardWithLengths(x, [2, 6, 5]), 'x'), ...differences(json(jy), lstm.forward(y), 'y')]).toEqual([null, null, null, null, null, null]);
  });

  test('beyond --batch-queue: 503 with Retry-After; a client that leaves withdraws its waiting request', async () => {
    batching = await start('--batch-size', '64', '--batch-delay-ms', '60000', '--batch-queue', '2');
    const { port } = batching;
    const body = JSON.stringify({ input: random([3, 32], 46).toArray() });
    // Two requests wait for a batch that only 64 sequences or 60 s would start.
    const waiting = [0, 1].map(() => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/predict', agent: false, headers: { 'Content-Type': 'application/json' } });
      req.on('error', () => {}); // destroyed below: that is the point
      req.end(body);
      return req;
    });
    while (sampleValue(await scrape(port), 'torchrnn_batch_queue_depth') !== 2) await new Promise((r) => setTimeout(r, 20));

    const refused = await request(port, 'POST', '/predict', body, { 'Content-Type': 'application/json' });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(json(refused).error).toBe('DynamicBatcher: the queue is full (maxQueue = 2 requests waiting); try again later (--batch-queue 2)');

    for (const req of waiting) req.destroy();
    while (sampleValue(await scrape(port), 'torchrnn_batch_queue_depth') !== 0) await new Promise((r) => setTimeout(r, 20));
    // Withdrawn, never run: no forward, and the server answers the next request.
    const metrics = await scrape(port);
    expect(sampleValue(metrics, 'torchrnn_batch_size_count')).toBe(0);
    expect(sampleValue(metrics, 'torchrnn_http_requests_total', { route: '/predict', status: '503' })).toBe(1);
  });
});

describe('--model with a checkpoint and --key', () => {
  test('serves the layer inside the checkpoint entry, exactly as the library runs it', async () => {
    const file = path.join(REPO, 'test', 'fixtures', 'io', 'checkpoint_adam.pt');
    const checkpoint = (await loadTorch(file)) as { model: Record<string, Tensor> };
    const rnn = LSTM.fromStateDict(checkpoint.model, { prefix: 'encoder.rnn.' }).eval();
    const keyed = await startServer(['--model', file, '--key', 'model', '--prefix', 'encoder.rnn.']);
    try {
      const x = random([5, 3], 50);
      const [output, [hN, cN]] = rnn.forward(x);
      const answer = await postJson(keyed.port, { input: x.toArray() });
      expect(answer.status).toBe(200);
      expect(json(answer)).toEqual({ output: output.toArray(), h_n: hN.toArray(), c_n: cN.toArray(), shapes: { output: [5, 4], h_n: [1, 4], c_n: [1, 4] } });
    } finally {
      await stop(keyed);
    }
  });
});

describe('SIGTERM', () => {
  test('stops accepting, finishes the request in flight, exits 0', async () => {
    const draining = await start();
    const x = random([3, 1, 32], 25);
    const body = Buffer.from(JSON.stringify({ input: x.toArray() }));

    // A request whose body is half sent is in flight: the server has it and cannot answer yet.
    let req!: http.ClientRequest;
    const inFlight = new Promise<Answer>((resolve, reject) => {
      req = http.request(
        { host: '127.0.0.1', port: draining.port, method: 'POST', path: '/predict', agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': body.length } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        },
      );
      req.on('error', reject);
    });
    req.write(body.subarray(0, 10));

    // Wait (bounded by the test's timeout) until the server counts it.
    while ((sampleValue(await scrape(draining.port), 'torchrnn_http_requests_in_flight') as number) < 1) {
      await new Promise((r) => setTimeout(r, 20));
    }
    draining.child.kill('SIGTERM');
    // Once the signal is handled, new connections are refused.
    for (;;) {
      const refused = await request(draining.port, 'GET', '/health').then(
        () => false,
        (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
      );
      if (refused) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(draining.child.exitCode).toBeNull();

    req.end(body.subarray(10));
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(json(answer).output).toEqual(lstm.forward(x)[0].toArray());
    expect(await draining.exited).toBe(0);
    expect(draining.output()).toContain('SIGTERM: stopped accepting connections; finishing 1 request(s)');
    expect(draining.output()).toContain('all requests answered: exiting');
  });
});
