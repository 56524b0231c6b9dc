// The shapes the benchmark runs: the named cases of cases.json (the project's shared/bench-cases.json, so
// that a clone carries them, plus lstm-long-b1), or one custom shape from the command line.
// A case keeps bench-cases.json's field names, which are PyTorch's constructor arguments.

import { readFileSync } from 'node:fs';

const here = new URL('.', import.meta.url);

/** The named cases, in file order. */
export function namedCases() {
  return JSON.parse(readFileSync(new URL('cases.json', here), 'utf8'));
}

const MODES = { lstm: 'LSTM', gru: 'GRU', rnn_tanh: 'RNN_TANH', rnn_relu: 'RNN_RELU' };

/** A case from --mode/--input-size/... flags (already parsed to numbers), named after its shape. */
export function customCase({ mode, inputSize, hiddenSize, numLayers = 1, bidirectional = false, projSize = 0, T, N }) {
  const m = MODES[String(mode).toLowerCase()];
  if (!m) throw new Error(`--mode must be one of ${Object.keys(MODES).join(', ')}, got ${mode}`);
  for (const [flag, v] of Object.entries({ '--input-size': inputSize, '--hidden-size': hiddenSize, '--T': T, '--N': N })) {
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`a custom shape needs ${flag} (a positive integer)`);
  }
  if (projSize && m !== 'LSTM') throw new Error('--proj-size is for LSTM only');
  const name =
    `custom-${m.toLowerCase().replace('_', '-')}-i${inputSize}-h${hiddenSize}` +
    `${projSize ? `-p${projSize}` : ''}-l${numLayers}${bidirectional ? '-bi' : ''}-T${T}-N${N}`;
  return {
    name,
    mode: m,
    input_size: inputSize,
    hidden_size: hiddenSize,
    ...(projSize ? { proj_size: projSize } : {}),
    num_layers: numLayers,
    bidirectional,
    T,
    N,
  };
}

/** Output features per time step: D · Hout. */
export function outputSize(c) {
  return (c.bidirectional ? 2 : 1) * (c.proj_size || c.hidden_size);
}

/**
 * A deterministic input in [-1, 1): the same numbers on every run, so that every engine gets the same x.
 * A 32-bit xorshift, seeded; its statistical quality does not matter here.
 */
export function randomInput(c, seed) {
  const x = new Float32Array(c.T * c.N * c.input_size);
  let s = (seed ^ 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < x.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    x[i] = (s / 2 ** 32) * 2 - 1;
  }
  return x;
}
