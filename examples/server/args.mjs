// The command line: every option, its default, and the checks that make a typo fail at start rather
// than at the first request.

import { parseArgs } from 'node:util';

export const USAGE = `Usage: node examples/server/server.mjs --model FILE [options]
       node examples/server/server.mjs --module FILE.mjs --weights FILE [options]

Serves one recurrent layer of a PyTorch state dict, or a whole model, over HTTP: POST /predict,
GET /health, GET /metrics (Prometheus' text format).

  --model FILE          one recurrent layer: .pt (a state dict, or a checkpoint with --key) or .safetensors
  --prefix P            the layer's key prefix in the file, e.g. lstm. (needed when the file holds more)
  --module FILE         a whole model: an ES module exporting createModel, run and input (README)
  --weights FILE        the whole model's weights: .pt (a state dict or a checkpoint) or .safetensors
  --key K               the entry of a checkpoint that holds the state dict, e.g. model
  --mode M              lstm, gru or rnn; default: the one class the weights fit
  --nonlinearity N      tanh (default) or relu, for an RNN: the weights cannot tell them apart
  --host H              address to listen on (default 127.0.0.1: put a proxy or load balancer in front)
  --port N              port (default 8080; 0 picks a free one and prints it)
  --max-body BYTES      largest request body accepted, else 413 (default 1048576)
  --max-response BYTES  largest answer one request may ask for, bounded before its forward, else 413
                        (default 16777216)
  --max-in-flight BYTES most that all answers being computed or sent may take together, else 503 with
                        Retry-After (default 134217728)
  --max-receiving BYTES most that request bodies being received and parsed may take together; a request
                        beyond it waits, unread, for its turn (default 8 × --max-body; at least --max-body)
  --send-timeout MS     a client that reads nothing of its answer for this long is disconnected (default 30000)
  --metrics-reset       accept POST /metrics/reset, from loopback only (for load tests; off by default)
  --threads N           engine threads per forward, setNumThreads(N) (default: physical cores)
  --batch-size N        most sequences one packed forward runs (DynamicBatcher's maxBatchSize); 1 (the
                        default) turns batching off: each request runs alone
  --batch-delay-ms MS   longest a request waits for others to join its batch (default 2)
  --batch-queue N       most requests waiting for a batch; beyond it, 503 with Retry-After (default 1024)
  --keep-alive MS       how long an idle keep-alive connection stays open (default 5000, Node's; behind a
                        load balancer, make it longer than the balancer's own idle timeout)
  --shutdown-timeout MS after SIGTERM/SIGINT, how long in-flight requests may take before exit 1 (default 10000)
  -h, --help            this text`;

const SPEC = {
  model: { type: 'string' },
  prefix: { type: 'string' },
  mode: { type: 'string' },
  nonlinearity: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '8080' },
  'max-body': { type: 'string', default: String(1 << 20) },
  'max-response': { type: 'string', default: String(16 << 20) },
  'max-in-flight': { type: 'string', default: String(128 << 20) },
  'max-receiving': { type: 'string' },
  'send-timeout': { type: 'string', default: '30000' },
  'metrics-reset': { type: 'boolean', default: false },
  threads: { type: 'string' },
  module: { type: 'string' },
  weights: { type: 'string' },
  key: { type: 'string' },
  'batch-size': { type: 'string', default: '1' },
  'batch-delay-ms': { type: 'string', default: '2' },
  'batch-queue': { type: 'string', default: '1024' },
  'keep-alive': { type: 'string', default: '5000' },
  'shutdown-timeout': { type: 'string', default: '10000' },
  help: { type: 'boolean', short: 'h', default: false },
};

/** An integer option within [min, max]; `parseArgs` gives strings, and `Number('')` would be 0. */
function integer(name, text, min, max) {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`--${name} must be an integer from ${min} to ${max}, got '${text}'`);
  }
  return value;
}

function oneOf(name, text, allowed) {
  if (text === undefined) return undefined;
  const value = text.toLowerCase();
  if (!allowed.includes(value)) throw new Error(`--${name} must be ${allowed.join(', ')}, got '${text}'`);
  return value;
}

/**
 * The server's settings from argv (without node and the script). Throws an Error naming the bad option;
 * returns `{ help: true }` for --help.
 */
export function parseOptions(argv) {
  // --coalesce stacked only requests of one length; the batcher packs any lengths, and took its place.
  const coalesce = argv.find((a) => /^--coalesce(-ms|-max)?(=|$)/.test(a));
  if (coalesce !== undefined) {
    throw new Error(`${coalesce.split('=')[0]} was replaced by --batch-size N and --batch-delay-ms MS, which batch requests of any length`);
  }
  const { values, positionals } = parseArgs({ args: argv, options: SPEC, strict: true, allowPositionals: true });
  if (values.help) return { help: true };
  if (positionals.length > 0) throw new Error(`unexpected argument '${positionals[0]}'`);
  if ((values.model === undefined) === (values.module === undefined)) {
    throw new Error('give either --model FILE (one recurrent layer) or --module FILE.mjs with --weights FILE (a whole model)');
  }
  if (values.module !== undefined) {
    if (values.weights === undefined) throw new Error('--module needs --weights FILE: the model is served with trained weights only');
    const layerOnly = ['prefix', 'mode', 'nonlinearity'].find((name) => values[name] !== undefined);
    if (layerOnly !== undefined) throw new Error(`--${layerOnly} is for --model (one layer); a --module file builds its own layers`);
  } else if (values.weights !== undefined) {
    throw new Error('--weights is for --module; a layer is read from --model FILE');
  }
  const maxBody = integer('max-body', values['max-body'], 1, 2 ** 31 - 1);
  const maxReceiving = values['max-receiving'] === undefined ? 8 * maxBody : integer('max-receiving', values['max-receiving'], 1, 2 ** 40);
  // A body the budget could never hold would wait forever.
  if (maxReceiving < maxBody) throw new Error(`--max-receiving (${maxReceiving}) must be at least --max-body (${maxBody})`);
  return {
    help: false,
    model: values.model,
    module: values.module,
    weights: values.weights,
    key: values.key,
    prefix: values.prefix,
    mode: oneOf('mode', values.mode, ['lstm', 'gru', 'rnn']),
    nonlinearity: oneOf('nonlinearity', values.nonlinearity, ['tanh', 'relu']),
    host: values.host,
    port: integer('port', values.port, 0, 65535),
    maxBody,
    maxReceiving,
    maxResponse: integer('max-response', values['max-response'], 1, 2 ** 40),
    maxInFlight: integer('max-in-flight', values['max-in-flight'], 1, 2 ** 40),
    sendTimeoutMs: integer('send-timeout', values['send-timeout'], 1, 3_600_000),
    metricsReset: values['metrics-reset'],
    threads: values.threads === undefined ? undefined : integer('threads', values.threads, 1, 1024),
    batchSize: integer('batch-size', values['batch-size'], 1, 4096),
    batchDelayMs: integer('batch-delay-ms', values['batch-delay-ms'], 0, 60_000),
    batchQueue: integer('batch-queue', values['batch-queue'], 1, 1_000_000),
    keepAliveMs: integer('keep-alive', values['keep-alive'], 0, 3_600_000),
    shutdownTimeoutMs: integer('shutdown-timeout', values['shutdown-timeout'], 0, 3_600_000),
  };
}
