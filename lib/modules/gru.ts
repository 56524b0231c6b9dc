/**
 * `nn.GRU`.
 *
 * @packageDocumentation
 */
import type { Tensor } from '../tensor';
import { inferRecurrent, type FromStateDictOptions } from './from_state_dict';
import type { StateDict } from './module';
import { RNNBase } from './rnn_base';
import { BASE_OPTION_NAMES, collectOptions, type ConstructorArgs, type RNNBaseOptionsAfterSizes, type RNNBaseOptionsAfterLayers, type GRUOptions } from './rnn_options';

/**
 * A multi-layer gated recurrent unit RNN, as PyTorch's `nn.GRU`: gates r, z, n, with
 * `n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`.
 *
 * @example
 * ```ts
 * const gru = new GRU(10, 20, 2);                   // nn.GRU(10, 20, 2)
 * const [output, hN] = gru.forward(Tensor.zeros([5, 3, 10]));   // (5, 3, 20), (2, 3, 20)
 * ```
 */
export class GRU extends RNNBase<Tensor> {
  /** `new GRU(inputSize, hiddenSize, { ... })`, as `nn.GRU(10, 20, ...)`. */
  constructor(inputSize: number, hiddenSize: number, options?: RNNBaseOptionsAfterSizes);
  /** `new GRU(inputSize, hiddenSize, numLayers, { ... })`, as `nn.GRU(10, 20, 2, ...)`. */
  constructor(inputSize: number, hiddenSize: number, numLayers: number, options?: RNNBaseOptionsAfterLayers);
  /** `new GRU({ inputSize, hiddenSize, ... })`. Declared last, so that `ConstructorParameters<typeof GRU>[0]` is the options type. */
  constructor(options: GRUOptions);
  constructor(...args: ConstructorArgs<GRUOptions>) {
    super('GRU', 'GRU', collectOptions('GRU', args, BASE_OPTION_NAMES));
  }

  /**
   * A GRU configured and loaded from a state dict alone: input and hidden sizes, layers, directions and
   * bias are read from its keys and shapes; the dtype is the weights' unless `dtype` says otherwise.
   * `prefix` picks the layer out of a larger model's state dict. It starts in training mode, as every new
   * module does: call `eval()`.
   *
   * @throws when a key is missing, has the wrong shape or belongs to no GRU parameter, naming the key
   * @example
   * ```ts
   * const gru = GRU.fromStateDict(await loadSafetensors('gru.safetensors')).eval();
   * ```
   */
  static fromStateDict(sd: StateDict, options: FromStateDictOptions = {}): GRU {
    const { config, parameters } = inferRecurrent('GRU', 'GRU', sd, options, ['prefix', 'batchFirst', 'dtype']);
    const gru = new GRU({ ...config, batchFirst: options.batchFirst });
    gru.loadStateDict(parameters);
    return gru;
  }
}
