// Types of the ESM entry: those of the CommonJS build it re-exports.
import * as torchrnn from '../dist/index.js';

export * from '../dist/index.js';
// The namespace, as the CommonJS build's declared default (lib/index.ts: `export * as default`).
export default torchrnn;
