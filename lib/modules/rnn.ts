/**
 * `nn.RNN`, the Elman RNN.
 *
 * @packageDocumentation
 */
import type { Tensor } from '../tensor';
import { inferRecurrent, type RNNFromStateDictOptions } from './from_state_dict';
import type { StateDict } from './module';
import { RNNBase } from './rnn_base';
import {
  BASE_OPTION_NAMES,
  collectOptions,
  type ConstructorArgs,
  type Nonlinearity,
  type RNNMode,
  type RNNOptions,
  type RNNOptionsAfterLayers,
  type RNNOptionsAfterSizes,
} from './rnn_options';

const RNN_OPTION_NAMES = [...BASE_OPTION_NAMES, 'nonlinearity'];

/** PyTorch's mode for a nonlinearity; checked before everything else but `projSize`, as in PyTorch. */
function rnnMode(nonlinearity: unknown): RNNMode {
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
  constructor(inputSize: number, hiddenSize: number, options?: RNNOptionsAfterSizes);
  /** `new RNN(inputSize, hiddenSize, numLayers, { ... })`, as `nn.RNN(10, 20, 2, ...)`. */
  constructor(inputSize: number, hiddenSize: number, numLayers: number, options?: RNNOptionsAfterLayers);
  /** `new RNN({ inputSize, hiddenSize, ... })`. Declared last, so that `ConstructorParameters<typeof RNN>[0]` is the options type. */
  constructor(options: RNNOptions);
  constructor(...args: ConstructorArgs<RNNOptions>) {
    const options = collectOptions('RNN', args, RNN_OPTION_NAMES);
    const { nonlinearity = 'tanh', ...rest } = options;
    super('RNN', rnnMode(nonlinearity), rest);
    this.nonlinearity = nonlinearity as Nonlinearity;
  }

  /**
   * An RNN configured and loaded from a state dict alone: input and hidden sizes, layers, directions and
   * bias are read from its keys and shapes. The nonlinearity is not in the weights: give it as
   * `nonlinearity` (default `'tanh'`). The dtype is the weights' unless `dtype` says otherwise; `prefix`
   * picks the layer out of a larger model's state dict. It starts in training mode: call `eval()`.
   *
   * @throws when a key is missing, has the wrong shape or belongs to no RNN parameter, naming the key
   * @example
   * ```ts
   * const rnn = RNN.fromStateDict(sd, { nonlinearity: 'relu' }).eval();
   * ```
   */
  static fromStateDict(sd: StateDict, options: RNNFromStateDictOptions = {}): RNN {
    const mode = rnnMode(options.nonlinearity ?? 'tanh');
    const known = ['prefix', 'batchFirst', 'dtype', 'nonlinearity'];
    const { config, parameters } = inferRecurrent('RNN', mode, sd, options, known);
    const rnn = new RNN({ ...config, batchFirst: options.batchFirst, nonlinearity: options.nonlinearity });
    rnn.loadStateDict(parameters);
    return rnn;
  }
}
