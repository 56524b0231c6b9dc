/**
 * `nn.GRUCell`.
 *
 * @packageDocumentation
 */
import type { NativeMode } from '../native';
import type { Tensor } from '../tensor';
import { CELL_OPTION_NAMES, collectCellOptions, type CellConstructorArgs, type RNNCellBaseOptionsAfterSizes, type GRUCellOptions } from './cell_options';
import { RNNCellBase } from './rnn_cell_base';
import { inferCell, type CellFromStateDictOptions } from './from_state_dict';
import type { StateDict } from './module';

/**
 * A gated recurrent unit cell, as PyTorch's `nn.GRUCell`: gates r, z, n, with
 * `n = tanh(W_in x + b_in + r * (W_hn h + b_hn))` and `h' = (1 - z) * n + z * h`.
 *
 * @example
 * ```ts
 * const cell = new GRUCell(10, 20);                   // nn.GRUCell(10, 20)
 * let h = cell.forward(x0);                           // x0: (3, 10); h: (3, 20), from zeros
 * h = cell.forward(x1, h);
 * ```
 */
export class GRUCell extends RNNCellBase<Tensor> {
  /** `new GRUCell(inputSize, hiddenSize, { ... })`, as `nn.GRUCell(10, 20, ...)`. */
  constructor(inputSize: number, hiddenSize: number, options?: RNNCellBaseOptionsAfterSizes);
  /** `new GRUCell({ inputSize, hiddenSize, ... })`. Declared last, so that `ConstructorParameters<typeof GRUCell>[0]` is the options type. */
  constructor(options: GRUCellOptions);
  constructor(...args: CellConstructorArgs<GRUCellOptions>) {
    super('GRUCell', 3, 1, collectCellOptions('GRUCell', args, CELL_OPTION_NAMES));
  }

  /**
   * A GRUCell configured and loaded from a state dict alone (`weight_ih`, `weight_hh`, and `bias_ih`,
   * `bias_hh` when it has biases): sizes and bias are read from the keys and shapes; the dtype is the
   * weights' unless `dtype` says otherwise. `prefix` picks the cell out of a larger model's state dict.
   *
   * @throws when a key is missing, has the wrong shape or belongs to no GRUCell parameter, naming the key
   * @example
   * ```ts
   * const cell = GRUCell.fromStateDict(sd);
   * ```
   */
  static fromStateDict(sd: StateDict, options: CellFromStateDictOptions = {}): GRUCell {
    const { config, parameters } = inferCell('GRUCell', 'GRU', sd, options, ['prefix', 'dtype']);
    const cell = new GRUCell(config);
    cell.loadStateDict(parameters);
    return cell;
  }

  /** @internal the addon's contract, which may change in any release */
  protected cellMode(): NativeMode {
    return 'GRU';
  }
}
