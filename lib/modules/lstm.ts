/**
 * `nn.LSTM`.
 *
 * @packageDocumentation
 */
import type { Tensor } from '../tensor';
import { inferRecurrent, type FromStateDictOptions } from './from_state_dict';
import type { StateDict } from './module';
import { RNNBase } from './rnn_base';
import { BASE_OPTION_NAMES, collectOptions, type ConstructorArgs, type LSTMOptionsAfterSizes, type LSTMOptionsAfterLayers, type LSTMOptions } from './rnn_options';

const LSTM_OPTION_NAMES = [...BASE_OPTION_NAMES, 'projSize'];
const FROM_STATE_DICT_OPTION_NAMES = ['prefix', 'batchFirst', 'dtype'];

/**
 * A multi-layer long short-term memory RNN, as PyTorch's `nn.LSTM`: gates i, f, g, o; optional projection
 * of `h` (`projSize`); hidden state `[h, c]`.
 *
 * @example
 * ```ts
 * const lstm = new LSTM(10, 20, 2);                 // nn.LSTM(10, 20, 2)
 * const x = Tensor.zeros([5, 3, 10]);
 * const [output, [hN, cN]] = lstm.forward(x);       // output (5, 3, 20), hN and cN (2, 3, 20)
 * ```
 */
export class LSTM extends RNNBase<[hN: Tensor, cN: Tensor]> {
  /** `new LSTM(inputSize, hiddenSize, { ... })`, as `nn.LSTM(10, 20, ...)`. */
  constructor(inputSize: number, hiddenSize: number, options?: LSTMOptionsAfterSizes);
  /** `new LSTM(inputSize, hiddenSize, numLayers, { ... })`, as `nn.LSTM(10, 20, 2, ...)`. */
  constructor(inputSize: number, hiddenSize: number, numLayers: number, options?: LSTMOptionsAfterLayers);
  /** `new LSTM({ inputSize, hiddenSize, ... })`. Declared last, so that `ConstructorParameters<typeof LSTM>[0]` is the options type. */
  constructor(options: LSTMOptions);
  constructor(...args: ConstructorArgs<LSTMOptions>) {
    super('LSTM', 'LSTM', collectOptions('LSTM', args, LSTM_OPTION_NAMES));
  }

  /**
   * An LSTM configured and loaded from a state dict alone: input and hidden sizes, layers, directions,
   * bias and projection are read from its keys and shapes; the dtype is the weights' unless `dtype` says
   * otherwise. `prefix` picks the layer out of a larger model's state dict. Like every new module it
   * starts in training mode (which only matters with dropout, not in a state dict): call `eval()`.
   *
   * @throws when a key is missing, has the wrong shape or belongs to no LSTM parameter, naming the key
   * @example
   * ```ts
   * const sd = await loadTorch('model.pt');          // embedding.weight, encoder.rnn.weight_ih_l0, ...
   * const lstm = LSTM.fromStateDict(sd, { prefix: 'encoder.rnn.', batchFirst: true }).eval();
   * ```
   */
  static fromStateDict(sd: StateDict, options: FromStateDictOptions = {}): LSTM {
    const { config, parameters } = inferRecurrent('LSTM', 'LSTM', sd, options, FROM_STATE_DICT_OPTION_NAMES);
    const lstm = new LSTM({ ...config, batchFirst: options.batchFirst });
    lstm.loadStateDict(parameters);
    return lstm;
  }
}
