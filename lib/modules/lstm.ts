/**
 * `nn.LSTM`.
 *
 * @packageDocumentation
 */
import type { Tensor } from '../tensor';
import { RNNBase } from './rnn_base';
import { BASE_OPTION_NAMES, collectOptions, type ConstructorArgs, type LSTMOptions, type OptionsAfterLayers, type OptionsAfterSizes } from './rnn_options';

const LSTM_OPTION_NAMES = [...BASE_OPTION_NAMES, 'projSize'];

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
export class LSTM extends RNNBase<[Tensor, Tensor]> {
  /** `new LSTM(inputSize, hiddenSize, { ... })`, as `nn.LSTM(10, 20, ...)`. */
  constructor(inputSize: number, hiddenSize: number, options?: OptionsAfterSizes<LSTMOptions>);
  /** `new LSTM(inputSize, hiddenSize, numLayers, { ... })`, as `nn.LSTM(10, 20, 2, ...)`. */
  constructor(inputSize: number, hiddenSize: number, numLayers: number, options?: OptionsAfterLayers<LSTMOptions>);
  /** `new LSTM({ inputSize, hiddenSize, ... })`. Declared last, so that `ConstructorParameters<typeof LSTM>[0]` is the options type. */
  constructor(options: LSTMOptions);
  constructor(...args: ConstructorArgs<LSTMOptions>) {
    super('LSTM', 'LSTM', collectOptions('LSTM', args, LSTM_OPTION_NAMES));
  }
}
