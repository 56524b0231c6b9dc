#!/usr/bin/env node
// The inference service: loads one recurrent layer or a whole model, then answers POST /predict with
// forwards on libuv's threadpool (batched by DynamicBatcher with --batch-size), so the event loop stays
// free to read, validate and answer other requests.
//
//   npm run serve -- --model examples/demo/model.safetensors --prefix lstm.
//   npm run serve -- --module examples/server/demo-model.mjs --weights examples/demo/model.safetensors --batch-size 32
//
// One process serves one model; scale it with replicas behind a load balancer (docs/DEPLOY.md).

import http from 'node:http';
import { setNumThreads } from 'torchrnn';
import { createAnswerBudget } from './answer.mjs';
import { createBodyBudget } from './body-budget.mjs';
import { USAGE, parseOptions } from './args.mjs';
import { createRunner } from './runner.mjs';
import { createMetrics } from './metrics.mjs';
import { loadModel } from './model.mjs';
import { loadModelFile } from './module-file.mjs';
import { createHandler } from './routes.mjs';

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

let options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  fail(`${error.message}\n\n${USAGE}`);
}
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
if (options.threads !== undefined) setNumThreads(options.threads);

// What is served: `model.kind` is 'layer' (--model) or 'model' (--module); both carry `config` for
// /health and `sizes` for bounding answers.
let model;
try {
  model = options.module !== undefined ? await loadModelFile(options) : await loadModel(options);
} catch (error) {
  // The library's loaders and the file system name the file they could not read; say it once.
  const named = [options.module, options.model, options.weights].some((file) => file !== undefined && error.message.includes(file));
  fail(named ? error.message : `${options.module ?? options.model}: ${error.message}`);
}

const state = { draining: false, inFlight: 0, startedAt: Date.now() };
const answers = createAnswerBudget({ perAnswer: options.maxResponse, total: options.maxInFlight, timeoutMs: options.sendTimeoutMs });
const bodies = createBodyBudget(options.maxReceiving);
let runner;
const metrics = createMetrics({
  // Read within a request handler (a scrape), which leaves itself out.
  inFlight: () => state.inFlight - 1,
  queued: () => runner.queued(),
  answers: () => answers.snapshot(),
  bodies: () => bodies.snapshot(),
});
runner = createRunner(model, options, (report) => metrics.batch(report));
const server = http.createServer(createHandler({ model, runner, metrics, options, state, answers, bodies }));
// A load balancer that reuses a connection the server has just closed gets a reset (a 502 to its client):
// the server must be the side that waits longer.
server.keepAliveTimeout = options.keepAliveMs;

server.on('clientError', (error, socket) => {
  // Unparseable HTTP (not a bad body: the request line or headers). Answer if the socket still can.
  if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  else socket.destroy(error);
});

server.listen(options.port, options.host, () => {
  const { port } = server.address();
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  // The test and the load test read the port from this line (--port 0 picks a free one).
  const from = model.kind === 'layer' ? model.config.file : `${model.config.module} with ${model.config.weights}`;
  const batching = runner.batching ? `batching up to ${runner.batching.maxBatchSize} sequences, ${runner.batching.maxDelayMs} ms` : 'no batching';
  const what = model.config.repr.includes('\n') ? model.config.class : model.config.repr;
  console.log(`torchrnn server: ${what} from ${from}, ${batching}, listening on http://${host}:${port}`);
});

/**
 * Stops accepting connections, lets requests already received finish, then exits 0 — or exits 1 when
 * they take longer than --shutdown-timeout. Idle keep-alive connections are closed at once; a
 * connection with a request in progress is closed after its answer (routes.mjs sends Connection: close).
 */
function shutdown(signal) {
  if (state.draining) return;
  state.draining = true;
  console.log(`${signal}: stopped accepting connections; finishing ${state.inFlight} request(s)`);
  // The batcher stays open until the last request is answered: a request whose body was still arriving
  // at the signal is served like the others.
  server.close(async () => {
    await runner.close();
    console.log('all requests answered: exiting');
    // An explicit exit: under the cluster module or PM2 the IPC channel to the parent would keep the
    // process alive until the timeout below, and every answer has been written by now.
    process.exit(0);
  });
  server.closeIdleConnections();
  setTimeout(() => {
    console.error(`requests still running after ${options.shutdownTimeoutMs} ms: exiting anyway`);
    process.exit(1);
  }, options.shutdownTimeoutMs).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
