// The models the load test serves, and the requests it sends them: one sequence each, of a length drawn
// from [minSteps, maxSteps], as an .npy body.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// By path: bench/ is its own package (torchrnn-bench), so the name 'torchrnn' does not resolve here.
import { LSTM, Tensor, manualSeed, saveSafetensors, serializeNpy } from '../../esm/index.mjs';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** How many different bodies each run cycles through: enough to mix lengths, few enough to build at once. */
const BODIES = 64;

/** A reproducible stream of numbers in [0, 1). */
function lcg(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Request lengths in [min, max], the same for every server and run. */
function lengths(min, max) {
  const next = lcg(20);
  return Array.from({ length: BODIES }, () => min + Math.floor(next() * (max - min + 1)));
}

/**
 * The models by name: `prepare()` returns the server's arguments and a `cleanup()`; `body(steps, next)`
 * one request's .npy bytes; `batchDelayMs` the batching server's delay unless --batch-delay-ms says.
 */
export const MODELS = {
  // bench/cases.json's lstm-b1 at batch 1: LSTM(256, 512), 2 layers, bidirectional. Its weights are drawn
  // at random (seeded) and served as one layer: the time of a forward does not depend on their values.
  'lstm-b1': {
    // A tenth of one request's forward alone (about 40 ms at these lengths): docs/DEPLOY.md's rule.
    batchDelayMs: 4,
    describe: 'LSTM(256, 512, numLayers=2, bidirectional) float32, served as one layer (--model), random weights (seeded)',
    async prepare() {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'torchrnn-serving-'));
      const file = path.join(dir, 'lstm-b1.safetensors');
      manualSeed(1);
      await saveSafetensors(file, new LSTM(256, 512, { numLayers: 2, bidirectional: true }).stateDict());
      return { args: ['--model', file], cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
    body(steps, next) {
      const x = Tensor.zeros([steps, 256]);
      for (let i = 0; i < x.data.length; i++) x.data[i] = next() * 2 - 1;
      return Buffer.from(serializeNpy(x));
    },
  },
  // The demo model whole: Embedding(60, 32) → LSTM(32, 128) → Linear(128, 60) over every step.
  demo: {
    // Its forward takes about a millisecond: any delay would be most of a lone request's latency.
    batchDelayMs: 0,
    describe: 'the demo model, Embedding(60, 32) → LSTM(32, 128) → Linear(128, 60), served whole (--module examples/server/demo-model.mjs)',
    async prepare() {
      return {
        args: ['--module', path.join(REPO, 'examples/server/demo-model.mjs'), '--weights', path.join(REPO, 'examples/demo/model.safetensors')],
        cleanup: () => {},
      };
    },
    body(steps, next) {
      const ids = Tensor.zeros([steps], 'int64');
      for (let i = 0; i < steps; i++) ids.data[i] = BigInt(Math.floor(next() * 60));
      return Buffer.from(serializeNpy(ids));
    },
  },
};

/**
 * A model of your own, served as the server serves it (`args`: --model FILE --prefix P, or --module FILE
 * --weights FILE --key K). Its requests are shaped from what /health says: random features in [-1, 1) for
 * float inputs, zeros for integer ones (token ids: 0 is in every vocabulary, and the server's own first
 * run used it).
 */
export function customModel(args) {
  return {
    batchDelayMs: 2,
    describe: `served with \`${args.join(' ')}\``,
    async prepare() {
      return { args, cleanup: () => {} };
    },
    body(steps, next, health) {
      const { model } = health;
      const [dtype, stepShape] = model.input ? [model.input.dtype, model.input.stepShape] : [model.dtype, [model.inputSize]];
      const x = Tensor.zeros([steps, ...stepShape], dtype);
      if (dtype.startsWith('float')) for (let i = 0; i < x.data.length; i++) x.data[i] = next() * 2 - 1;
      return Buffer.from(serializeNpy(x));
    },
  };
}

/** The bodies of one model's requests, with their mean length; `health` is the server's /health answer. */
export function requestBodies(model, minSteps, maxSteps, health) {
  const next = lcg(7);
  const steps = lengths(minSteps, maxSteps);
  return { bodies: steps.map((l) => model.body(l, next, health)), meanSteps: steps.reduce((a, b) => a + b, 0) / steps.length };
}
