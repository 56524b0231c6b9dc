// The routes: which path and method does what, and how results and errors become responses.

import { backend, getNumThreads, serializeNpy } from 'torchrnn';
import { answerBytes, byteChunks, jsonAnswer } from './answer.mjs';
import { bodyShare } from './body-budget.mjs';
import { readBody, refuseDeclaredOver } from './body.mjs';
import { HttpError } from './http-error.mjs';
import { INLINE_JSON_BYTES, createParsePool } from './parse-pool.mjs';
import { inTurn } from './turns.mjs';
import { fromJson, fromNpy, jsonRequest } from './validate.mjs';

const NPY = 'application/x-npy';

// Where large JSON bodies are parsed, so that none holds the event loop (parse-pool.mjs).
const parsePool = createParsePool();

/**
 * The request a body holds. A large JSON body is parsed and converted in a worker; the rest (a small
 * JSON body, whose parse takes a few milliseconds, and .npy, read without a parse) here, one per turn.
 */
async function requestOf(served, format, body, lengths) {
  if (format === 'json' && body.length > INLINE_JSON_BYTES) return jsonRequest(served, await parsePool.parse(served, body), lengths);
  return inTurn(() => (format === 'npy' ? fromNpy(served, body, lengths) : fromJson(served, body, lengths)));
}

function send(res, status, body, type, headers = {}) {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': bytes.length, ...headers });
  res.end(bytes);
}

function sendJson(res, status, value, headers) {
  send(res, status, `${JSON.stringify(value)}\n`, 'application/json', headers);
}

/** 'json' or 'npy' from Content-Type; a request without one is taken as JSON. */
function bodyFormat(req) {
  const type = (req.headers['content-type'] ?? 'application/json').split(';')[0].trim().toLowerCase();
  if (type === 'application/json') return 'json';
  if (type === NPY) return 'npy';
  throw new HttpError(415, `Content-Type must be application/json or ${NPY}, got '${type}'`);
}

/** How many sequences a request holds: N of a padded batch, 1 for one sequence. */
function sequencesOf(served, request) {
  if (request.packed) return request.packed.batchSizes[0];
  const stepRank = served.kind === 'layer' ? 1 : served.input.stepShape.length;
  return request.input.dim() === stepRank + 2 ? request.input.shape[1] : 1;
}

/** Aborts when the client goes away before its answer: a request still waiting for a batch then leaves the queue. */
function clientGone(res) {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new HttpError(499, 'the client closed the connection before its answer'));
  });
  return controller.signal;
}

async function predict(req, res, ctx, url) {
  const format = bodyFormat(req);
  const lengths = url.searchParams.get('lengths') ?? undefined;
  refuseDeclaredOver(req, ctx.options.maxBody);
  // The body's share of memory is taken before it is read and given back once it is tensors (body-budget.mjs).
  const release = await ctx.bodies.take(req, bodyShare(req, ctx.options.maxBody));
  let request;
  try {
    request = await requestOf(ctx.model, format, await readBody(req, ctx.options.maxBody), lengths);
  } finally {
    release();
  }
  // The answer's share of memory is taken before the forward that makes it: 413 or 503 if it cannot be.
  ctx.answers.reserve(res, answerBytes(ctx.model.sizes, request.input.shape[0], sequencesOf(ctx.model, request), format));
  const result = await ctx.runner.forward(request, clientGone(res));
  // Answered in the request's format: .npy carries the output alone (a client sending arrays as bytes
  // wants them back as bytes); JSON carries output, h_n (and c_n) and their shapes. Either is written
  // as fast as the client reads it, never queued whole.
  if (format === 'npy') {
    await ctx.answers.send(res, 200, NPY, byteChunks(serializeNpy(result.output)));
    return;
  }
  await ctx.answers.send(res, 200, 'application/json', jsonAnswer(result));
}

function health(req, res, ctx) {
  // 503 while draining: a load balancer's readiness probe takes the replica out of rotation before it
  // stops accepting connections.
  sendJson(res, ctx.state.draining ? 503 : 200, {
    status: ctx.state.draining ? 'draining' : 'ok',
    model: ctx.model.config,
    backend: backend(),
    threads: ctx.threads,
    // libuv's pool, where forwardAsync runs: its size is fixed when the process first uses it.
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    batching: ctx.runner.batching,
    maxBody: ctx.options.maxBody,
    maxResponse: ctx.options.maxResponse,
    maxInFlight: ctx.options.maxInFlight,
    maxReceiving: ctx.options.maxReceiving,
    uptimeSeconds: Math.round((Date.now() - ctx.state.startedAt) / 100) / 10,
    pid: process.pid,
  });
}

async function metrics(req, res, ctx) {
  send(res, 200, await ctx.metrics.text(), ctx.metrics.contentType);
}

/** True for a connection from this machine: 127.0.0.0/8 or ::1, also as an IPv4-mapped IPv6 address. */
function fromLoopback(req) {
  const address = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  return address === '::1' || /^127\./.test(address);
}

async function resetMetrics(req, res, ctx) {
  // Resetting erases what an operator's dashboard reads: only for a load test on this machine.
  if (!fromLoopback(req)) throw new HttpError(403, 'POST /metrics/reset is accepted only from this machine (loopback)');
  await ctx.metrics.reset();
  sendJson(res, 200, { reset: true });
}

const ROUTES = {
  '/predict': { POST: predict },
  '/health': { GET: health },
  '/metrics': { GET: metrics },
};

/** POST /metrics/reset exists only with --metrics-reset. */
const RESET_ROUTES = { ...ROUTES, '/metrics/reset': { POST: resetMetrics } };

/** The request target as a URL, or a 400 for one that is not a URL (`GET http://[ HTTP/1.1`). */
function urlOf(req) {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    throw new HttpError(400, 'the request target is not a valid URL or path');
  }
}

/**
 * The handler of every request: route, count, answer errors. `ctx` holds the model, the runner, the
 * metrics, the options, the server's state and the answers' memory budget (answer.mjs).
 */
export function createHandler(ctx) {
  // Read once, before any forward: the engine's getNumThreads() waits for a running forward to finish
  // (its thread pool's lease lock), which would hold /health, and the loop, for a whole forward. The
  // server never changes the count after it starts.
  ctx.threads = getNumThreads();
  return async (req, res) => {
    const started = performance.now();
    // The route's name in the metrics: a path no route has counts as 'other'.
    let route = 'other';
    ctx.state.inFlight += 1;
    // While draining, each answer closes its connection, so keep-alive clients reconnect elsewhere.
    if (ctx.state.draining) res.setHeader('Connection', 'close');
    try {
      const url = urlOf(req);
      const path = url.pathname;
      const methods = (ctx.options.metricsReset ? RESET_ROUTES : ROUTES)[path];
      if (methods === undefined) throw new HttpError(404, `no route ${path}: try POST /predict, GET /health, GET /metrics`);
      // HEAD is answered as GET without the body (Node's http drops the body of a HEAD answer).
      route = path;
      const handle = methods[req.method === 'HEAD' ? 'GET' : req.method];
      if (handle === undefined) {
        const allowed = Object.keys(methods).join(', ');
        throw new HttpError(405, `${req.method} is not allowed on ${path}: use ${allowed}`, { Allow: allowed });
      }
      await handle(req, res, ctx, url);
    } catch (error) {
      if (res.headersSent) {
        res.destroy(error);
      } else if (error instanceof HttpError) {
        // A 413 leaves the body unread: close the connection rather than read the rest of it.
        const close = error.status === 413 ? { Connection: 'close' } : {};
        sendJson(res, error.status, { error: error.message }, { ...error.headers, ...close });
      } else {
        console.error(`${req.method} ${req.url}:`, error);
        sendJson(res, 500, { error: 'internal error' });
      }
    } finally {
      ctx.metrics.answered(route, String(res.statusCode), (performance.now() - started) / 1000);
      ctx.state.inFlight -= 1;
    }
  };
}
