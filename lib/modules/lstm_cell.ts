/**
 * `nn.LSTMCell`.
 *
 * @packageDocumentation
 */
import type { NativeMode } from '../native';
import type { Tensor } from '../tensor';
import { CELL_OPTION_NAMES, collectCellOptions, type CellConstructorArgs, type RNNCellBaseOptionsAfterSizes, type LSTMCellOptions } from './cell_options';
import { RNNCellBase } from './rnn_cell_base';
import { inferCell, type CellFromStateDictOptions } from './from_state_dict';
import type { StateDict } from './module';

/**
 * A long short-term memory cell, as PyTorch's `nn.LSTMCell`: gates i, f, g, o; `c' = f*c + i*g`,
 * `h' = o*tanh(c')`. Its state is `[h, c]`.
 *
 * @example
 * ```ts
 * const cell = new LSTMCell(100, 20);                 // nn.LSTMCell(100, 20)
 * let h = Tensor.zeros([3, 20]);
 * let c = Tensor.zeros([3, 20]);
 * for (const x of steps) [h, c] = cell.forward(x, [h, c]);   // x: (3, 100)
 * ```
 */
export class LSTMCell extends RNNCellBase<[h1: Tensor, c1: Tensor]> {
  /** `new LSTMCell(inputSize, hiddenSize, { ... })`, as `nn.LSTMCell(100, 20, ...)`. */
  constructor(inputSize: number, hiddenSize: number, options?: RNNCellBaseOptionsAfterSizes);
  /** `new LSTMCell({ inputSize, hiddenSize, ... })`. Declared last, so that `ConstructorParameters<typeof LSTMCell>[0]` is the options type. */
  constructor(options: LSTMCellOptions);
  constructor(...args: CellConstructorArgs<LSTMCellOptions>) {
    super('LSTMCell', 4, 2, collectCellOptions('LSTMCell', args, CELL_OPTION_NAMES));
  }

  /**
   * An LSTMCell configured and loaded from a state dict alone (`weight_ih`, `weight_hh`, and `bias_ih`,
   * `bias_hh` when it has biases): sizes and bias are read from the keys and shapes; the dtype is the
   * weights' unless `dtype` says otherwise. `prefix` picks the cell out of a larger model's state dict.
   *
   * @throws when a key is missing, has the wrong shape or belongs to no LSTMCell parameter, naming the key
   * @example
   * ```ts
   * const cell = LSTMCell.fromStateDict(sd, { prefix: 'decoder.cell.' });
   * ```
   */
  static fromStateDict(sd: StateDict, options: CellFromStateDictOptions = {}): LSTMCell {
    const { config, parameters } = inferCell('LSTMCell', 'LSTM', sd, options, ['prefix', 'dtype']);
    const cell = new LSTMCell(config);
    cell.loadStateDict(parameters);
    return cell;
  }

  /** @internal the addon's contract, which may change in any release */
  protected cellMode(): NativeMode {
    return 'LSTM';
  }
}
