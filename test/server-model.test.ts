/**
 * examples/server serving a whole model from a module file (--module, --weights, --key): the demo model
 * (examples/server/demo-model.mjs: Embedding → LSTM → Linear over every step, with its state) and a
 * classifier loaded from a checkpoint as PyTorch saved it (test/fixtures/server/seq2label.mjs: one row per
 * sequence). Every answer is held to the model's own forward of that request alone, built here from the
 * library's layers on the same weights: exactly the numbers, to float32 rounding, whether requests were
 * batched or not. And /metrics, read as Prometheus reads it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Embedding, LSTM, Linear, Tensor, loadSafetensors, loadTorch, parseNpy, serializeNpy, tensor, type NestedArray } from '../lib';
import { mismatch } from './helpers/close';
import { REPO, json, parsePrometheus, postJson, random, request, sampleValue, scrape, startServer, stopServer, type Answer, type Server } from './helpers/server';

jest.setTimeout(30_000);

const DEMO_MODULE = path.join(REPO, 'examples', 'server', 'demo-model.mjs');
const DEMO_WEIGHTS = path.join(REPO, 'examples', 'demo', 'model.safetensors');
const SEQ2LABEL_MODULE = path.join(REPO, 'test', 'fixtures', 'server', 'seq2label.mjs');
const CHECKPOINT = path.join(REPO, 'test', 'fixtures', 'io', 'checkpoint_adam.pt');

/** The demo model's own forward of one sequence of token ids: logits (L, 60) and [h_n, c_n]. */
interface Demo {
  embedding: Embedding;
  lstm: LSTM;
  head: Linear;
}
let demo: Demo;

function demoForward(ids: number[], hx?: [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
  const [out, state] = demo.lstm.forward(demo.embedding.forward(tensor(ids, 'int64')), hx);
  return [demo.head.forward(out), state];
}

/** The checkpoint's classifier, one sequence: logits (2). */
let seq2label: (ids: number[]) => Tensor;

beforeAll(async () => {
  const sd = await loadSafetensors(DEMO_WEIGHTS);
  demo = {
    embedding: Embedding.fromStateDict(sd, { prefix: 'embedding.' }),
    lstm: LSTM.fromStateDict(sd, { prefix: 'lstm.' }).eval(),
    head: Linear.fromStateDict(sd, { prefix: 'head.' }),
  };
  const checkpoint = (await loadTorch(CHECKPOINT)) as { model: Record<string, Tensor> };
  const embedding = Embedding.fromStateDict(checkpoint.model, { prefix: 'embedding.' });
  const rnn = LSTM.fromStateDict(checkpoint.model, { prefix: 'encoder.rnn.' }).eval();
  const head = Linear.fromStateDict(checkpoint.model, { prefix: 'head.' });
  seq2label = (ids) => head.forward(rnn.forward(embedding.forward(tensor(ids, 'int64')))[1][0].select(0, -1));
});

/** Token ids in [0, 60), reproducible. */
function ids(length: number, seed: number, vocabulary = 60): number[] {
  let state = seed >>> 0;
  return Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % vocabulary;
  });
}

/** A JSON answer's field as a Tensor of the shape it reports. */
function field(answer: Answer, name: string): Tensor {
  const body = json(answer);
  return tensor(body[name] as NestedArray).reshape((body.shapes as Record<string, number[]>)[name]);
}

/** A padded batch (L, N) of int64 ids, each column its sequence, zeros past its length. */
function paddedIds(sequences: number[][]): Tensor<'int64'> {
  const steps = Math.max(...sequences.map((s) => s.length));
  const t = Tensor.zeros([steps, sequences.length], 'int64');
  sequences.forEach((s, n) => s.forEach((id, i) => (t.data[i * sequences.length + n] = BigInt(id))));
  return t;
}

/** Rows [0, length) of column n of a padded (L, N, F) output, and whether every row past length is zero. */
function column(output: Tensor, n: number, length: number): [Tensor, boolean] {
  const [steps, batch, features] = output.shape;
  const rows = new Float32Array(length * features);
  let zerosAfter = true;
  for (let t = 0; t < steps; t++) {
    const row = output.data.subarray((t * batch + n) * features, (t * batch + n + 1) * features) as Float32Array;
    if (t < length) rows.set(row, t * features);
    else zerosAfter &&= row.every((v) => v === 0);
  }
  return [new Tensor(rows, [length, features]), zerosAfter];
}

describe.each([
  ['batching on', ['--batch-size', '4', '--batch-delay-ms', '60000']],
  ['batching off', ['--batch-size', '1']],
])('the demo model, %s', (_name, batchOptions) => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer(['--module', DEMO_MODULE, '--weights', DEMO_WEIGHTS, ...batchOptions]);
  });
  afterAll(async () => {
    await stopServer(server);
  });

  test('JSON, JSON with hx, and .npy with lengths: each answer is the model forward of its own request', async () => {
    const a = ids(5, 1);
    const b = ids(3, 2);
    const bh: [Tensor, Tensor] = [random([1, 128], 3), random([1, 128], 4)];
    const c = [ids(6, 5), ids(2, 6)];
    // With --batch-size 4 these are 1 + 1 + 2 sequences: one batch, whatever the order they arrive in.
    const [ja, jb, nc] = await Promise.all([
      postJson(server.port, { input: a }),
      postJson(server.port, { input: b, hx: bh.map((t) => t.toArray()) }),
      request(server.port, 'POST', '/predict?lengths=6,2', Buffer.from(serializeNpy(paddedIds(c))), { 'Content-Type': 'application/x-npy' }),
    ]);
    expect([ja.status, jb.status, nc.status]).toEqual([200, 200, 200]);
    const [la, [ha, ca]] = demoForward(a);
    const [lb, [hb, cb]] = demoForward(b, bh);
    const output = parseNpy(nc.body);
    expect(output.shape).toEqual([6, 2, 60]);
    const [c0, zeros0] = column(output, 0, 6);
    const [c1, zeros1] = column(output, 1, 2);
    expect([
      mismatch(field(ja, 'output'), la, 'a logits'),
      mismatch(field(ja, 'h_n'), ha, 'a h_n'),
      mismatch(field(ja, 'c_n'), ca, 'a c_n'),
      mismatch(field(jb, 'output'), lb, 'b logits'),
      mismatch(field(jb, 'h_n'), hb, 'b h_n'),
      mismatch(field(jb, 'c_n'), cb, 'b c_n'),
      mismatch(c0, demoForward(c[0])[0], 'c[0] logits'),
      mismatch(c1, demoForward(c[1])[0], 'c[1] logits'),
    ]).toEqual([null, null, null, null, null, null, null, null]);
    expect([zeros0, zeros1]).toEqual([true, true]);
    expect(json(ja).shapes).toEqual({ output: [5, 60], h_n: [1, 128], c_n: [1, 128] });

    const metrics = await scrape(server.port);
    const batches = sampleValue(metrics, 'torchrnn_batch_size_count');
    expect(sampleValue(metrics, 'torchrnn_batch_size_sum')).toBe(4);
    expect(batches).toBe(batchOptions[1] === '4' ? 1 : 3);
  });

  test('a padded batch in JSON with lengths; and without lengths, every sequence of length L', async () => {
    const sequences = [ids(2, 7), ids(4, 8)];
    const full = [ids(3, 9), ids(3, 10)];
    // With batching on, the two requests make 4 sequences: a batch.
    const [withLengths, withoutLengths] = await Promise.all([
      postJson(server.port, { input: paddedIds(sequences).toArray(), lengths: [2, 4] }),
      postJson(server.port, { input: paddedIds(full).toArray() }),
    ]);
    expect([withLengths.status, withoutLengths.status]).toEqual([200, 200]);
    const out = field(withLengths, 'output');
    const h = field(withLengths, 'h_n');
    expect(out.shape).toEqual([4, 2, 60]);
    expect(h.shape).toEqual([1, 2, 128]);
    const found = sequences.flatMap((s, n) => {
      const [logits, [hN]] = demoForward(s);
      return [mismatch(column(out, n, s.length)[0], logits, `sequence ${n}`), mismatch(h.select(1, n), hN, `h_n ${n}`)];
    });
    const fullOut = field(withoutLengths, 'output');
    full.forEach((s, n) => found.push(mismatch(column(fullOut, n, 3)[0], demoForward(s)[0], `full ${n}`)));
    expect(found).toEqual([null, null, null, null, null, null]);
  });

  test.each<[string, unknown, string]>([
    ['a token id beyond the vocabulary (the embedding’s own message)', { input: [1, 60] }, 'index out of range in self'],
    ['a fractional id', { input: [1, 2.5] }, 'input[1] is 2.5: the model takes int64 values, which must be integers'],
    ['a 3-D input', { input: [[[1]]] }, 'input must be one sequence (L) or a padded batch (L, N) of int64, got shape [1, 1, 1]'],
    ['hx of the wrong size', { input: [1, 2], hx: [[[0]], [[0]]] }, 'Expected hidden[0] size (1, 128), got [1, 1]'],
    ['hx that is not a pair', { input: [1, 2], hx: [[0]] }, 'hx must be a list of 2 states, one per state the model returns'],
  ])('%s: 400, and only that request fails', async (_name, body, message) => {
    // Four good requests beside it: with batching on, they fill a batch that the bad one never joins.
    const good = [ids(4, 11), ids(2, 12), ids(3, 13), ids(5, 14)];
    const [bad, ...fine] = await Promise.all([postJson(server.port, body), ...good.map((input) => postJson(server.port, { input }))]);
    expect(bad.status).toBe(400);
    expect(json(bad).error).toBe(message);
    expect(fine.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(fine.map((answer, i) => mismatch(field(answer, 'output'), demoForward(good[i])[0], `good request ${i}`))).toEqual([null, null, null, null]);
  });

  test('an .npy of float32 ids: 400, the model takes int64', async () => {
    const answer = await request(server.port, 'POST', '/predict', Buffer.from(serializeNpy(random([3], 12))), { 'Content-Type': 'application/x-npy' });
    expect(answer.status).toBe(400);
    expect(json(answer).error).toBe('input must have the type int64, got type float32 (save the array with .astype(np.int64))');
  });
});

describe('a checkpoint as saved, --key model, and a model that answers one row per sequence', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer(['--module', SEQ2LABEL_MODULE, '--weights', CHECKPOINT, '--key', 'model', '--batch-size', '3', '--batch-delay-ms', '60000']);
  });
  afterAll(async () => {
    await stopServer(server);
  });

  test('one sequence gets its logits (2); a padded batch with lengths gets (N, 2); no state', async () => {
    const one = ids(4, 20, 10);
    const batch = [ids(3, 21, 10), ids(5, 22, 10)];
    const [single, padded] = await Promise.all([
      postJson(server.port, { input: one }),
      postJson(server.port, { input: paddedIds(batch).toArray(), lengths: [3, 5] }),
    ]);
    expect([single.status, padded.status]).toEqual([200, 200]);
    expect(Object.keys(json(single))).toEqual(['output', 'shapes']);
    expect(json(single).shapes).toEqual({ output: [2] });
    expect(json(padded).shapes).toEqual({ output: [2, 2] });
    const rows = field(padded, 'output');
    expect([
      mismatch(field(single, 'output'), seq2label(one), 'one'),
      mismatch(rows.select(0, 0), seq2label(batch[0]), 'batch[0]'),
      mismatch(rows.select(0, 1), seq2label(batch[1]), 'batch[1]'),
    ]).toEqual([null, null, null]);
  });

  test('hx to a model that returns no state: 400', async () => {
    const answer = await postJson(server.port, { input: [1, 2], hx: [[0, 0, 0, 0]] });
    expect(answer.status).toBe(400);
    expect(json(answer).error).toBe('this model returns no state, so it takes no hx');
  });

  test('/health describes the model', async () => {
    const health = json(await request(server.port, 'GET', '/health'));
    expect(health.model).toEqual({
      module: 'seq2label.mjs',
      weights: 'checkpoint_adam.pt',
      key: 'model',
      class: 'Seq2Label',
      repr: expect.stringContaining('(encoder): Encoder(') as unknown,
      input: { dtype: 'int64', stepShape: [] },
      output: 'rows',
      dtype: 'float32',
    });
    expect(health.batching).toEqual({ maxBatchSize: 3, maxDelayMs: 60000, maxQueue: 1024 });
  });
});

describe('a module file or weights that cannot serve: exit 1 at start, with the reason', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchrnn-server-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a checkpoint without --key names its entries', async () => {
    await expect(startServer(['--module', SEQ2LABEL_MODULE, '--weights', CHECKPOINT])).rejects.toThrow(
      'the file is a checkpoint with the entries model, optimizer, epoch, not a state dict: pick its state dict with --key (--key model)',
    );
  });

  test('a --key the checkpoint does not have', async () => {
    await expect(startServer(['--module', SEQ2LABEL_MODULE, '--weights', CHECKPOINT, '--key', 'state_dict'])).rejects.toThrow(
      "--key state_dict: the checkpoint has no entry 'state_dict'; its entries are model, optimizer, epoch",
    );
  });

  test("weights that do not fit the model: load_state_dict's message", async () => {
    await expect(startServer(['--module', SEQ2LABEL_MODULE, '--weights', DEMO_WEIGHTS])).rejects.toThrow(/Error\(s\) in loading state_dict for Seq2Label/);
  });

  test('a module file without the exports the server needs names each', async () => {
    const file = path.join(dir, 'incomplete.mjs');
    fs.writeFileSync(file, 'export const input = { dtype: "int64" };\nexport function createModel() { return {}; }\n');
    const refusal = startServer(['--module', file, '--weights', DEMO_WEIGHTS]);
    await expect(refusal).rejects.toThrow('run must be an exported function (model, packed, hx) => Promise, got undefined');
    await expect(refusal).rejects.toThrow("input must be an exported object { dtype, stepShape }");
  });

  test("a file the loader refuses is named once, before the loader's reason", async () => {
    const file = path.join(dir, 'm.pt');
    fs.copyFileSync(path.join(REPO, 'test', 'fixtures', 'io', 'f4.npy'), file);
    for (const args of [['--model', file], ['--module', DEMO_MODULE, '--weights', file]]) {
      const refusal = startServer(args);
      await expect(refusal).rejects.toThrow(`\nerror: ${file}: this is a numpy .npy file, not a torch.save file; read it with loadNpy\n`);
      await expect(refusal).rejects.not.toThrow(`${file}: ${file}`);
    }
  });

  test('--module without --weights', async () => {
    await expect(startServer(['--module', DEMO_MODULE])).rejects.toThrow('--module needs --weights FILE: the model is served with trained weights only');
  });

  test('the options --coalesce had: replaced, and said so', async () => {
    await expect(startServer(['--module', DEMO_MODULE, '--weights', DEMO_WEIGHTS, '--coalesce'])).rejects.toThrow(
      '--coalesce was replaced by --batch-size N and --batch-delay-ms MS, which batch requests of any length',
    );
  });
});

describe('GET /metrics: Prometheus text exposition', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer(['--module', DEMO_MODULE, '--weights', DEMO_WEIGHTS, '--batch-size', '2', '--batch-delay-ms', '60000']);
  });
  afterAll(async () => {
    await stopServer(server);
  });

  test('parses as the text format and holds the named series, with the counts of what was served', async () => {
    await Promise.all([postJson(server.port, { input: ids(3, 30) }), postJson(server.port, { input: ids(7, 31) })]);
    await postJson(server.port, { input: [99] });
    await request(server.port, 'GET', '/no/such/path');
    const answer = await request(server.port, 'GET', '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const metrics = parsePrometheus(answer.body.toString());

    const types = Object.fromEntries([...metrics].map(([name, family]) => [name, family.type]));
    expect(types).toMatchObject({
      torchrnn_http_requests_total: 'counter',
      torchrnn_http_request_duration_seconds: 'histogram',
      torchrnn_http_requests_in_flight: 'gauge',
      torchrnn_batch_size: 'histogram',
      torchrnn_batch_queue_depth: 'gauge',
      torchrnn_batch_queue_wait_seconds: 'histogram',
      torchrnn_forward_seconds: 'histogram',
      torchrnn_answers_reserved_bytes: 'gauge',
      nodejs_eventloop_lag_p99_seconds: 'gauge',
      process_resident_memory_bytes: 'gauge',
    });
    for (const family of metrics.values()) expect(family.help).not.toBe('');

    const count = (route: string, status: string): number | undefined => sampleValue(metrics, 'torchrnn_http_requests_total', { route, status });
    expect([count('/predict', '200'), count('/predict', '400'), count('other', '404')]).toEqual([2, 1, 1]);
    expect(sampleValue(metrics, 'torchrnn_http_request_duration_seconds_count', { route: '/predict', status: '200' })).toBe(2);
    // The two good requests ran as one batch of 2; each waited in the queue.
    expect(sampleValue(metrics, 'torchrnn_batch_size_bucket', { le: '1' })).toBe(0);
    expect(sampleValue(metrics, 'torchrnn_batch_size_bucket', { le: '2' })).toBe(1);
    expect(sampleValue(metrics, 'torchrnn_batch_queue_wait_seconds_count')).toBe(2);
    expect(sampleValue(metrics, 'torchrnn_forward_seconds_count')).toBe(1);
    expect(sampleValue(metrics, 'torchrnn_batch_queue_depth')).toBe(0);
    // This scrape leaves itself out.
    expect(sampleValue(metrics, 'torchrnn_http_requests_in_flight')).toBe(0);
    expect(sampleValue(metrics, 'process_resident_memory_bytes')).toBeGreaterThan(1 << 20);
  });

  test('the parser refuses what is not the text format', () => {
    expect(() => parsePrometheus('no_type_declared 1\n')).toThrow('a sample of no declared family');
    expect(() => parsePrometheus('# TYPE x counter\nx{a="1" 2\n')).toThrow('not a sample line');
    expect(() => parsePrometheus('# TYPE x counter\nx one\n')).toThrow('not a sample value');
    expect(() => parsePrometheus('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n')).toThrow('not cumulative');
  });
});
