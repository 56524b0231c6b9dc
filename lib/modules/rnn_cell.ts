/**
 * `nn.RNNCell`.
 *
 * @packageDocumentation
 */
import type { NativeMode } from '../native';
import type { Tensor } from '../tensor';
import { CELL_OPTION_NAMES, collectCellOptions, type CellConstructorArgs, type RNNCellOptionsAfterSizes, type RNNCellOptions } from './cell_options';
import { RNNCellBase } from './rnn_cell_base';
import type { Nonlinearity } from './rnn_options';
import { inferCell, type RNNCellFromStateDictOptions } from './from_state_dict';
import type { StateDict } from './module';

/**
 * The engine's mode for an Elman cell's nonlinearity; an unknown one (never checked at construction, as in
 * PyTorch) fails here, in forward, in PyTorch's words. Shared with the quantized cell.
 *
 * @internal
 */
export function rnnCellMode(nonlinearity: Nonlinearity): NativeMode {
  if (nonlinearity === 'tanh') return 'RNN_TANH';
  if (nonlinearity === 'relu') return 'RNN_RELU';
  throw new Error(`Unknown nonlinearity: ${String(nonlinearity)}`);
}

const RNN_CELL_OPTION_NAMES = [...CELL_OPTION_NAMES, 'nonlinearity'];

/**
 * An Elman RNN cell with tanh or ReLU, as PyTorch's `nn.RNNCell`: `h' = act(W_ih x + b_ih + W_hh h + b_hh)`.
 *
 * As in PyTorch, the nonlinearity is not checked at construction: an unknown one fails in forward with
 * `Unknown nonlinearity: ...`.
 *
 * @example
 * ```ts
 * const cell = new RNNCell(10, 20, { nonlinearity: 'relu' });   // nn.RNNCell(10, 20, nonlinearity='relu')
 * let h = Tensor.zeros([3, 20]);
 * for (const x of steps) h = cell.forward(x, h);                // x: (3, 10)
 * ```
 */
export class RNNCell extends RNNCellBase<Tensor> {
  /** `'tanh'` or `'relu'`, as given. */
  readonly nonlinearity: Nonlinearity;

  /** `new RNNCell(inputSize, hiddenSize, { ... })`, as `nn.RNNCell(10, 20, ...)`. */
  constructor(inputSize: number, hiddenSize: number, options?: RNNCellOptionsAfterSizes);
  /** `new RNNCell({ inputSize, hiddenSize, ... })`. Declared last, so that `ConstructorParameters<typeof RNNCell>[0]` is the options type. */
  constructor(options: RNNCellOptions);
  constructor(...args: CellConstructorArgs<RNNCellOptions>) {
    const { nonlinearity = 'tanh', ...rest } = collectCellOptions('RNNCell', args, RNN_CELL_OPTION_NAMES);
    super('RNNCell', 1, 1, rest);
    this.nonlinearity = nonlinearity as Nonlinearity;
  }

  /**
   * An RNNCell configured and loaded from a state dict alone (`weight_ih`, `weight_hh`, and `bias_ih`,
   * `bias_hh` when it has biases): sizes and bias are read from the keys and shapes; the dtype is the
   * weights' unless `dtype` says otherwise. `prefix` picks the cell out of a larger model's state dict.
   * The nonlinearity is not in the weights: give it as `nonlinearity` (default `'tanh'`).
   *
   * @throws when a key is missing, has the wrong shape or belongs to no RNNCell parameter, naming the key
   * @example
   * ```ts
   * const cell = RNNCell.fromStateDict(sd, { nonlinearity: 'relu' });
   * ```
   */
  static fromStateDict(sd: StateDict, options: RNNCellFromStateDictOptions = {}): RNNCell {
    const known = ['prefix', 'dtype', 'nonlinearity'];
    const { config, parameters } = inferCell('RNNCell', 'RNN_TANH', sd, options, known);
    const cell = new RNNCell({ ...config, nonlinearity: options.nonlinearity });
    cell.loadStateDict(parameters);
    return cell;
  }

  /** @internal the addon's contract, which may change in any release */
  protected cellMode(): NativeMode {
    return rnnCellMode(this.nonlinearity);
  }

  protected override reprOptions(): string[] {
    return this.nonlinearity === 'tanh' ? super.reprOptions() : [...super.reprOptions(), `nonlinearity=${String(this.nonlinearity)}`];
  }
}
