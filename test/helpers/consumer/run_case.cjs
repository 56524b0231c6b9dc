// Shared by forward.cjs and forward.mjs, which run inside a fresh project that installed the torchrnn
// tarball: one PyTorch fixture case through whichever module classes the caller imported.
'use strict';
const fs = require('fs');
const path = require('path');

function toTensor(Tensor, t) {
  // The generator writes non-finite values as 'NaN', 'Infinity' and '-Infinity', which Number() reads.
  const values = t.data.map(Number);
  return new Tensor(t.dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values), t.shape);
}

function plain(t) {
  return { shape: t.shape, dtype: t.dtype, data: Array.from(t.data) };
}

/** Builds the case's module with PyTorch's weights, runs it in eval mode and returns its results. */
function runCase(api, c) {
  const { LSTM, GRU, RNN, Tensor } = api;
  const Module = c.mode === 'LSTM' ? LSTM : c.mode === 'GRU' ? GRU : RNN;
  const module = new Module(c.options);
  const stateDict = {};
  for (const p of c.params) stateDict[p.name] = toTensor(Tensor, p);
  module.loadStateDict(stateDict);
  module.eval();
  const input = toTensor(Tensor, c.input);
  if (c.mode === 'LSTM') {
    const hx = c.hx === null ? undefined : c.hx.map((t) => toTensor(Tensor, t));
    const [output, [hN, cN]] = module.forward(input, hx);
    return { output: plain(output), h_n: plain(hN), c_n: plain(cN) };
  }
  const hx = c.hx === null ? undefined : toTensor(Tensor, c.hx);
  const [output, hN] = module.forward(input, hx);
  return { output: plain(output), h_n: plain(hN) };
}

/** Which binary node-gyp-build picks for the installed package, and the kernels it chose. */
function loadedBinary() {
  const gypBuild = require('node-gyp-build');
  const binary = gypBuild.path(path.dirname(require.resolve('torchrnn/package.json')));
  return { binary, backend: require(binary).backend() };
}

function readCase() {
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'case.json'), 'utf8'));
}

module.exports = { runCase, loadedBinary, readCase };
