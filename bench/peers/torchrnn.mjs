// torchrnn itself, through its public API (dist/, compiled by the project's tsc), as two peers: the
// blocking `forward` and `forwardAsync` on libuv's pool.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timeEach, timeEachAsync } from '../timing.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);

/**
 * Loads the library from dist/. Other work may be rebuilding dist/ or the addon at this moment, so a
 * failing load is retried a few times before giving up.
 */
export async function loadTorchrnn({ retries = 6, waitMs = 10_000 } = {}) {
  const entry = `${root}dist/index.js`;
  for (let attempt = 0; ; attempt++) {
    try {
      if (!existsSync(entry)) throw new Error(`${entry} is missing: build it with npx tsc -p tsconfig.build.json`);
      // A sanitizer build aborts a plain node at load, and would time nothing useful anyway.
      const addonPath = addonFile();
      const sanitizers = addonSanitized(addonPath);
      if (sanitizers.length) throw new Error(`${addonPath} is a sanitizer build (${sanitizers.join(', ')}): rebuild for release`);
      const lib = require(entry);
      return describeLibrary(lib);
    } catch (err) {
      if (attempt >= retries) throw err;
      console.error(`torchrnn did not load (${err.message.split('\n')[0]}); retrying in ${waitMs / 1000} s`);
      for (const key of Object.keys(require.cache)) if (key.startsWith(`${root}dist/`)) delete require.cache[key];
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}

/** The .node file the library loads: node-gyp-build's choice among build/Release, build/Debug, prebuilds/. */
function addonFile() {
  try {
    return require(`${root}node_modules/node-gyp-build`).resolve(root);
  } catch {
    return `${root}build/Release/torchrnn.node`;
  }
}

function describeLibrary(lib) {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
  // backend() and thread control are public only once lib/index.ts exports them; until then the backend
  // is read from the internal native module (what the addon chose at load) and threads are not settable.
  let backend = typeof lib.backend === 'function' ? lib.backend() : undefined;
  let backendSource = 'torchrnn.backend()';
  if (backend === undefined) {
    try {
      backend = require(`${root}dist/native.js`).native.backend();
      backendSource = "dist/native.js native.backend() (not exported by 'torchrnn')";
    } catch {
      backend = 'unknown';
      backendSource = 'no backend() found';
    }
  }
  const threadsSettable = typeof lib.setNumThreads === 'function';
  // Which build was timed: others may rebuild the addon while a run goes on.
  let addon = 'not found';
  try {
    const path = addonFile();
    const bytes = readFileSync(path);
    addon =
      `${relative(root, path)}, built ${statSync(path).mtime.toISOString()}, ` +
      `sha256 ${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}`;
  } catch {
    // reported as not found
  }
  return {
    lib,
    version: pkg.version,
    backend,
    backendSource,
    addon,
    threadsSettable,
    hasForwardAsync: typeof lib.RNNBase?.prototype?.forwardAsync === 'function',
    /** Sets torchrnn's thread count when it can; returns what it then reports, or undefined. */
    setThreads(n) {
      if (!threadsSettable) return undefined;
      lib.setNumThreads(n);
      return typeof lib.getNumThreads === 'function' ? lib.getNumThreads() : n;
    },
  };
}

/**
 * Whether the addon was built with a sanitizer: its timings would then say nothing about a release
 * build. Looks for the runtime's entry symbol in the binary.
 */
export function addonSanitized(addonPath) {
  try {
    const bytes = readFileSync(addonPath);
    return ['__asan_init', '__tsan_init', '__ubsan_handle'].filter((s) => bytes.includes(s));
  } catch {
    return [];
  }
}

/** torchrnn's module for case `c`, in eval mode, its parameters drawn after manualSeed(seed). */
export function makeModule(t, c, seed) {
  const { lib } = t;
  lib.manualSeed(seed);
  const common = {
    inputSize: c.input_size,
    hiddenSize: c.hidden_size,
    numLayers: c.num_layers,
    bidirectional: c.bidirectional,
  };
  switch (c.mode) {
    case 'LSTM':
      return new lib.LSTM({ ...common, projSize: c.proj_size || 0 }).eval();
    case 'GRU':
      return new lib.GRU(common).eval();
    case 'RNN_TANH':
      return new lib.RNN({ ...common, nonlinearity: 'tanh' }).eval();
    case 'RNN_RELU':
      return new lib.RNN({ ...common, nonlinearity: 'relu' }).eval();
    default:
      throw new Error(`unknown mode ${c.mode}`);
  }
}

/** The module's parameters as a Map from PyTorch's names to { data: Float32Array, shape }. */
export function parameters(module) {
  return new Map(module.namedParameters().map(([name, p]) => [name, { data: p.data, shape: [...p.shape] }]));
}

/** The two torchrnn peers of one module and one input (a torchrnn Tensor). */
export function torchrnnPeers(t, module, x) {
  const sync = {
    key: 'sync',
    label: 'torchrnn sync',
    output: async () => module.forward(x)[0].data,
    time: async (reps) => timeEach(reps, () => module.forward(x)),
  };
  if (!t.hasForwardAsync) return [sync];
  const async_ = {
    key: 'async',
    label: 'torchrnn async',
    output: async () => (await module.forwardAsync(x))[0].data,
    time: async (reps) => timeEachAsync(reps, () => module.forwardAsync(x)),
  };
  return [sync, async_];
}

/**
 * torchrnn's blocking forward on `module` converted by quantizeDynamic to each of `precisions` (qint8,
 * bfloat16, float16), one peer each, keyed by the precision; each carries `weightBytes`, what the converted
 * module's stored weights and biases take (its own weightBytes figure).
 */
export function quantizedPeers(t, module, x, precisions) {
  return precisions.map((dtype) => {
    const q = t.lib.quantizeDynamic(module, { dtype });
    return {
      key: dtype,
      label: `torchrnn ${dtype}`,
      precision: dtype,
      weightBytes: q.weightBytes,
      output: async () => q.forward(x)[0].data,
      time: async (reps) => timeEach(reps, () => q.forward(x)),
    };
  });
}

/** Bytes the float module's parameters take: what float32 weights (and biases) hold. */
export function float32WeightBytes(module) {
  return module.namedParameters().reduce((n, [, p]) => n + p.data.byteLength, 0);
}
