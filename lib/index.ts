/**
 * torchrnn: PyTorch's recurrent layers (`nn.RNN`, `nn.LSTM`, `nn.GRU`) for Node.js, with PyTorch's names,
 * shapes, defaults, semantics and error messages.
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
export { Tensor, tensor, isDType, type DType, type TensorData, type NestedArray } from './tensor';
export { manualSeed } from './random';
export { Module, type StateDict, type IncompatibleKeys, type LoadStateDictOptions } from './modules/module';
export { RNNBase, type Hidden, type ParameterName } from './modules/rnn_base';
export { RNN } from './modules/rnn';
export { LSTM } from './modules/lstm';
export { GRU } from './modules/gru';
export type {
  RNNBaseOptions,
  RNNOptions,
  LSTMOptions,
  GRUOptions,
  Nonlinearity,
  OptionsAfterSizes,
  OptionsAfterLayers,
} from './modules/rnn_options';
