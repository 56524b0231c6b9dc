// The ESM entry: the CommonJS build's exports under their own names. Listed by hand rather than left to
// Node's detection of CommonJS exports, which depends on the shape of tsc's output and which bundlers do
// not all share; test/esm-entry.test.ts fails when this list and lib/index.ts disagree. Re-exporting the
// one CommonJS instance (rather than shipping a second ESM build) keeps a single loaded addon and makes
// `instanceof` agree between code that imports and code that requires torchrnn.
import torchrnn from '../dist/index.js';

export const {
  Tensor,
  tensor,
  isDType,
  isFloatDType,
  manualSeed,
  backend,
  setNumThreads,
  getNumThreads,
  Module,
  Sequential,
  ModuleList,
  ModuleDict,
  EngineModule,
  RNNBase,
  RNN,
  LSTM,
  GRU,
  RNNCellBase,
  RNNCell,
  LSTMCell,
  GRUCell,
  Linear,
  Embedding,
  PackedSequence,
  invertPermutation,
  packPaddedSequence,
  packSequence,
  padPackedSequence,
  padSequence,
  unpadSequence,
  unpackSequence,
  indexSelect,
  loadTorch,
  parseTorch,
  loadSafetensors,
  parseSafetensors,
  readSafetensorsMetadata,
  saveSafetensors,
  serializeSafetensors,
  loadNpy,
  parseNpy,
  saveNpy,
  serializeNpy,
} = torchrnn;

export default torchrnn;
