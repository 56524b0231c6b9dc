// onnxruntime-node as a peer: it runs the ONNX model that onnx_model.mjs builds from torchrnn's own
// parameters. It lives in bench/node_modules (see bench/package.json), never in the library's install.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { timeEachAsync } from '../timing.mjs';

const require = createRequire(import.meta.url);

/** onnxruntime-node and its version, or { missing: why } when it is not installed. */
export function loadOrt() {
  try {
    const ort = require('onnxruntime-node');
    const pkg = JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8'));
    return { ort, version: pkg.version };
  } catch (err) {
    return {
      missing: `onnxruntime-node is not installed in bench/ (npm --prefix bench install --ignore-scripts): ${err.message.split('\n')[0]}`,
    };
  }
}

/**
 * A session on `threads` intra-op threads, as the comparison demands: one inter-op thread, sequential
 * execution (the graph is a chain anyway), every graph optimisation on.
 */
export async function createSession({ ort }, modelBytes, threads) {
  return ort.InferenceSession.create(modelBytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    logSeverityLevel: 3, // errors only
  });
}

/**
 * The ORT peer of one session and one input x (Float32Array laid out (T, N, input_size)); `key` and
 * `label` name another model of the same case (the int8 one).
 */
export function ortPeer({ ort }, session, c, x, { key = 'ort', label = 'onnxruntime', precision } = {}) {
  const feeds = { X: new ort.Tensor('float32', x, [c.T, c.N, c.input_size]) };
  return {
    key,
    label,
    precision,
    output: async () => (await session.run(feeds)).Y.data,
    time: async (reps) => timeEachAsync(reps, () => session.run(feeds)),
  };
}
