/**
 * examples/server, run as a user runs it: a child process on an ephemeral port of 127.0.0.1, serving the
 * demo model's LSTM (examples/demo/model.safetensors, prefix `lstm.`: LSTM(32, 128)). Every answer is held
 * to the library's own forward on the same input, exactly, and every refusal to the library's message.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { LSTM, Tensor, backend, loadSafetensors, parseNpy, serializeNpy, tensor, type NestedArray } from '../lib';

const REPO = path.join(__dirname, '..');
const SERVER = path.join(REPO, 'examples', 'server', 'server.mjs');
const MODEL = path.join(REPO, 'examples', 'demo', 'model.safetensors');
const MAX_BODY = 100_000;

jest.setTimeout(30_000);

interface Server {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts the server and resolves once it prints the address it listens on. */
function start(...extra: string[]): Promise<Server> {
  const child = spawn(
    process.execPath,
    [SERVER, '--model', MODEL, '--prefix', 'lstm.', '--host', '127.0.0.1', '--port', '0', '--threads', '1', '--max-body', String(MAX_BODY), ...extra],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(text);
      if (match) resolve({ child, port: Number(match[1]), output: () => text, exited });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`the server exited (${code}) before listening:\n${text}`)));
  });
}

async function stop(server: Server | undefined): Promise<void> {
  if (server === undefined || server.child.exitCode !== null) return;
  server.child.kill('SIGTERM');
  await server.exited;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request on its own connection (no keep-alive, so nothing outlives the test). */
function request(port: number, method: string, route: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: route, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    // The server may close the connection while a refused body is still being sent: the answer counts.
    req.on('error', reject);
    req.end(body);
  });
}

const json = (a: Answer): Record<string, unknown> => JSON.parse(a.body.toString()) as Record<string, unknown>;
const postJson = (port: number, value: unknown): Promise<Answer> =>
  request(port, 'POST', '/predict', JSON.stringify(value), { 'Content-Type': 'application/json' });

/** Reproducible inputs: a small LCG, values in [-1, 1). */
function values(count: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.fround(state / 2 ** 31 - 1);
  });
}

function random(shape: number[], seed: number): Tensor {
  return new Tensor(Float32Array.from(values(shape.reduce((a, b) => a * b, 1), seed)), shape);
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
      coalesce: false,
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
  return json(await request(port, 'GET', '/metrics')).answers as AnswerMetrics;
}

/** Polls /metrics until `done` holds (bounded by the test's timeout). */
async function until(port: number, done: (m: AnswerMetrics) => boolean): Promise<AnswerMetrics> {
  for (;;) {
    const metrics = await answerMetrics(port);
    if (done(metrics)) return metrics;
    await new Promise((r) => setTimeout(r, 25));
  }
}

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
    expect(json(await request(bounded.port, 'GET', '/metrics')).forwards).toBe(0);
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
        metrics: { count() {}, reset() { resets.push(1); } },
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

describe('--coalesce', () => {
  let coalescing: Server | undefined;
  afterAll(async () => {
    await stop(coalescing);
  });

  test('requests stacked into one forward each get the library forward of their own input, exactly', async () => {
    // A batch flushes when it holds 4 sequences; a window longer than the test's timeout makes that the
    // only way here, so the three requests below (1 + 2 + 1 sequences) run as one forward whatever the timing.
    coalescing = await start('--coalesce', '--coalesce-max', '4', '--coalesce-ms', '60000', '--metrics-reset');
    const { port } = coalescing;
    expect(json(await request(port, 'GET', '/health')).coalesce).toEqual({ windowMs: 60000, maxRows: 4 });
    await request(port, 'POST', '/metrics/reset');

    const a = random([6, 1, 32], 20);
    const b = random([6, 2, 32], 21);
    const bh = [random([1, 2, 128], 22), random([1, 2, 128], 23)] as [Tensor, Tensor];
    const c = random([6, 32], 24);
    const answers = await Promise.all([
      postJson(port, { input: a.toArray() }),
      postJson(port, { input: b.toArray(), hx: bh.map((t) => t.toArray()) }),
      postJson(port, { input: c.toArray() }),
    ]);
    const expected = [lstm.forward(a), lstm.forward(b, bh), lstm.forward(c)];
    answers.forEach((answer, i) => {
      expect(answer.status).toBe(200);
      const [output, [hN, cN]] = expected[i];
      expect(json(answer)).toEqual({
        output: output.toArray(),
        h_n: hN.toArray(),
        c_n: cN.toArray(),
        shapes: { output: output.shape, h_n: hN.shape, c_n: cN.shape },
      });
    });
    const metrics = json(await request(port, 'GET', '/metrics'));
    // 200 × 4: the three answers and the reset's own.
    expect(metrics).toMatchObject({ forwards: 1, rows: 4, responses: { 200: 4 } });
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
    while ((json(await request(draining.port, 'GET', '/metrics')).inFlight as number) < 1) {
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
