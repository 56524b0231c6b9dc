// The fixture case through `import ... from 'torchrnn'`; prints what the test compares, including every
// name the ESM entry exports, so that the test can hold it to the CommonJS entry's.
import { LSTM, GRU, RNN, Tensor, tensor, manualSeed } from 'torchrnn';
import * as namespace from 'torchrnn';
import { createRequire } from 'module';

const require = createRequire(import.meta.url);
const { runCase, loadedBinary, readCase } = require('./run_case.cjs');

// Both are part of the promised ESM surface: calling them proves they arrived as functions.
manualSeed(0);
if (tensor([1, 2]).shape[0] !== 2) throw new Error('tensor() from the ESM entry misbehaves');

const results = runCase({ LSTM, GRU, RNN, Tensor }, readCase());
// `default` is the exports object on both sides (the ESM entry's default, the CommonJS build's
// `exports.default`), not a name to import.
const names = Object.keys(namespace).filter((name) => name !== 'default');
const cjsNames = Object.keys(require('torchrnn')).filter((name) => name !== 'default');
process.stdout.write(JSON.stringify({ ...loadedBinary(), names, cjsNames, results }));
