/**
 * torchrnn: PyTorch's recurrent layers (`nn.RNN`, `nn.LSTM`, `nn.GRU`), their cells and packed sequences
 * for Node.js, with PyTorch's names, shapes, defaults, semantics and error messages.
 *
 * @example
 * ```ts
 * import { LSTM, tensor } from 'torchrnn';
 * const lstm = new LSTM(10, 20, 2);
 * const [output, [hN, cN]] = lstm.forward(x);
 * ```
 *
 * @packageDocumentation
 */
// Tensors: dtypes, creation and operations.
export {
  Tensor,
  tensor,
  isDType,
  isFloatDType,
  cat,
  stack,
  split,
  chunk,
  matmul,
  sigmoid,
  tanh,
  relu,
  gelu,
  softmax,
  logSoftmax,
  type GeluApproximate,
  type Dims,
  type SumDType,
  type DType,
  type FloatDType,
  type TensorDType,
  type DTypeArrays,
  type TensorData,
  type AnyTensorData,
  type NestedArray,
  type NestedNumbers,
  type NestedOf,
  type NestedValues,
  type Scalar,
} from './tensor';
export { manualSeed } from './random';
export { backend, setNumThreads, getNumThreads } from './engine';
export {
  Module,
  type StateDict,
  type IncompatibleKeys,
  type LoadStateDictOptions,
  type NamedModulesOptions,
  type NamedMembersOptions,
  type RegisterBufferOptions,
  type StateDictOptions,
  type DeepCopy,
} from './modules/module';
export { deepCopy } from './modules/deep_copy';
export { Sequential, ModuleList, ModuleDict } from './modules/container';
// Public as the base that declares what every recurrent module and cell shares (dtype, resetParameters,
// flattenParameters) and for `instanceof`; not meant to be subclassed outside the library, its protected
// members speak the addon's contract.
export { EngineModule } from './modules/engine_module';
export { RNNBase, type Hidden, type HiddenInput, type ForwardResult, type ParameterName } from './modules/rnn_base';
export { RNN } from './modules/rnn';
export { LSTM } from './modules/lstm';
export { GRU } from './modules/gru';
export { RNNCellBase } from './modules/rnn_cell_base';
export { RNNCell } from './modules/rnn_cell';
export { LSTMCell } from './modules/lstm_cell';
export { GRUCell } from './modules/gru_cell';
export { Linear, type LinearOptions, type LinearFromStateDictOptions } from './modules/linear';
export { Embedding, type EmbeddingOptions, type EmbeddingFromStateDictOptions, type EmbeddingIndices } from './modules/embedding';
export type {
  FromStateDictOptions,
  RNNFromStateDictOptions,
  CellFromStateDictOptions,
  RNNCellFromStateDictOptions,
} from './modules/from_state_dict';
export type {
  RNNCellBaseOptions,
  RNNCellBaseOptionsAfterSizes,
  RNNCellOptions,
  RNNCellOptionsAfterSizes,
  LSTMCellOptions,
  GRUCellOptions,
  CellOptionsAfterSizes,
} from './modules/cell_options';
// The layers around recurrent ones.
export { Conv1d, type Conv1dOptions, type PaddingMode } from './modules/conv';
export { LayerNorm, type LayerNormOptions } from './modules/normalization';
export { BatchNorm1d, type BatchNorm1dOptions } from './modules/batchnorm';
export { Dropout } from './modules/dropout';
export { ReLU, Tanh, Sigmoid, GELU, Softmax, LogSoftmax, type GELUOptions } from './modules/activation';
export { Identity, Flatten } from './modules/flatten';
export { PackedSequence, invertPermutation, type IndexArray } from './packed/packed_sequence';
export { packPaddedSequence, packSequence, type PackPaddedSequenceOptions, type PackSequenceOptions } from './packed/pack';
export { padPackedSequence, padSequence, type PadPackedSequenceOptions, type PadSequenceOptions } from './packed/pad';
export { unpadSequence, unpackSequence, type UnpadSequenceOptions } from './packed/unpad';
export { indexSelect } from './index_select';
export { loadTorch, parseTorch, type TorchLoadOptions } from './io/torch_load';
export { loadSafetensors, parseSafetensors, readSafetensorsMetadata, saveSafetensors, serializeSafetensors } from './io/safetensors';
export { loadNpy, parseNpy, saveNpy, serializeNpy } from './io/npy';
export type { FileSource } from './io/source';
export { DynamicBatcher } from './serving/dynamic_batcher';
export { BatcherQueueFullError, BatcherClosedError } from './serving/batcher_errors';
export type { DynamicBatcherOptions, BatcherForwardOptions } from './serving/batcher_options';
export type { BatchReport, BatcherStats, DurationTotals } from './serving/batcher_stats';
export type { BatchRunner, PackedBatchRunner, PackedBatchResult, BatcherHidden, BatcherResult } from './serving/batch_runner';
export type {
  RNNBaseOptions,
  RNNBaseOptionsAfterSizes,
  RNNBaseOptionsAfterLayers,
  RNNOptions,
  RNNOptionsAfterSizes,
  RNNOptionsAfterLayers,
  LSTMOptions,
  LSTMOptionsAfterSizes,
  LSTMOptionsAfterLayers,
  GRUOptions,
  Nonlinearity,
  RNNMode,
  OptionsAfterSizes,
  OptionsAfterLayers,
} from './modules/rnn_options';
// Reduced-precision weights: quantizeDynamic and the modules it makes.
export {
  quantizeDynamic,
  DynamicQuantizedRNNBase,
  DynamicQuantizedRNN,
  DynamicQuantizedLSTM,
  DynamicQuantizedGRU,
  DynamicQuantizedRNNCellBase,
  DynamicQuantizedRNNCell,
  DynamicQuantizedLSTMCell,
  DynamicQuantizedGRUCell,
  DynamicQuantizedLinear,
  QuantizedWeight,
  quantizedBackends,
  QUANTIZED_DTYPES,
  type QuantizeDynamicOptions,
  type QuantizedDType,
  type FromFloatOptions,
} from './quantization';

// The default export is the namespace itself, as the ESM entry's default is (Node gives `module.exports`
// there): `import torchrnn from 'torchrnn'` then means the same in ESM, in CommonJS compiled with
// esModuleInterop (which reads `exports.default`) and through bundlers.
export * as default from './index';
