/**
 * `nn.RNN`, the Elman RNN.
 *
 * @packageDocumentation
 */
import type { NativeMode } from '../native';
import type { Tensor } from '../tensor';
import { RNNBase } from './rnn_base';
import {
  BASE_OPTION_NAMES,
  collectOptions,
  type ConstructorArgs,
  type Nonlinearity,
  type OptionsAfterLayers,
  type OptionsAfterSizes,
  type RNNOptions,
} from './rnn_options';

const RNN_OPTION_NAMES = [...BASE_OPTION_NAMES, 'nonlinearity'];

/** PyTorch's mode for a nonlinearity; checked before everything else but `projSize`, as in PyTorch. */
function rnnMode(nonlinearity: unknown): NativeMode {
  if (nonlinearity === 'tanh') return 'RNN_TANH';
  if (nonlinearity === 'relu') return 'RNN_RELU';
  throw new Error(`Unknown nonlinearity '${String(nonlinearity)}'. Select from 'tanh' or 'relu'.`);
}

/**
 * A multi-layer Elman RNN with tanh or ReLU, as PyTorch's `nn.RNN`: `h' = act(W_ih x + b_ih + W_hh h + b_hh)`.
 *
 * @example
 * ```ts
 * const rnn = new RNN(10, 20, 2, { nonlinearity: 'relu' });   // nn.RNN(10, 20, 2, nonlinearity='relu')
 * const [output, hN] = rnn.forward(Tensor.zeros([5, 3, 10]));  // (5, 3, 20), (2, 3, 20)
 * ```
 */
export class RNN extends RNNBase<Tensor> {
  /** `'tanh'` or `'relu'`. */
  readonly nonlinearity: Nonlinearity;

  /** `new RNN(inputSize, hiddenSize, { ... })`, as `nn.RNN(10, 20, ...)`. */
  constructor(inputSize: number, hiddenSize: number, options?: OptionsAfterSizes<RNNOptions>);
  /** `new RNN(inputSize, hiddenSize, numLayers, { ... })`, as `nn.RNN(10, 20, 2, ...)`. */
  constructor(inputSize: number, hiddenSize: number, numLayers: number, options?: OptionsAfterLayers<RNNOptions>);
  /** `new RNN({ inputSize, hiddenSize, ... })`. Declared last, so that `ConstructorParameters<typeof RNN>[0]` is the options type. */
  constructor(options: RNNOptions);
  constructor(...args: ConstructorArgs<RNNOptions>) {
    const options = collectOptions('RNN', args, RNN_OPTION_NAMES);
    const { nonlinearity = 'tanh', ...rest } = options;
    super('RNN', rnnMode(nonlinearity), rest);
    this.nonlinearity = nonlinearity as Nonlinearity;
  }
}
