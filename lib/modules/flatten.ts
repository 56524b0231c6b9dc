/**
 * `nn.Identity` and `nn.Flatten`: the two shape-only modules, which never copy data.
 *
 * @packageDocumentation
 */
import { describe, isInteger } from '../is';
import { Tensor } from '../tensor';
import { Module } from './module';

/**
 * Returns its input, as PyTorch's `nn.Identity`: a placeholder where a layer is optional. Any constructor
 * arguments are accepted and ignored, as in PyTorch.
 *
 * @example
 * ```ts
 * const norm = useNorm ? new LayerNorm(64) : new Identity();
 * ```
 */
export class Identity extends Module {
  /** `new Identity(...anything)`, as `nn.Identity(*args, **kwargs)`. */
  constructor(..._ignored: unknown[]) {
    super();
  }

  /** `input` itself. */
  forward(input: Tensor): Tensor {
    return input;
  }
}

/**
 * Merges dimensions `startDim` to `endDim` into one, as PyTorch's `nn.Flatten(start_dim=1, end_dim=-1)`:
 * by default everything but the batch dimension. The result shares the input's data.
 *
 * @example
 * ```ts
 * new Flatten().forward(Tensor.zeros([8, 16, 5]));   // (8, 80)
 * ```
 */
export class Flatten extends Module {
  /** First dimension merged. */
  readonly startDim: number;
  /** Last dimension merged (negative counts from the end). */
  readonly endDim: number;

  /** `new Flatten(startDim = 1, endDim = -1)`, as `nn.Flatten(start_dim=1, end_dim=-1)`. */
  constructor(startDim = 1, endDim = -1) {
    super();
    if (!isInteger(startDim)) throw new TypeError(`start_dim must be an integer, got: ${describe(startDim)}`);
    if (!isInteger(endDim)) throw new TypeError(`end_dim must be an integer, got: ${describe(endDim)}`);
    this.startDim = startDim;
    this.endDim = endDim;
  }

  /** `input.flatten(startDim, endDim)`; PyTorch's errors for dims out of range or out of order. */
  forward(input: Tensor): Tensor {
    if (!(input instanceof Tensor)) throw new TypeError(`flatten(): argument 'input' must be Tensor, not ${describe(input)}`);
    return input.flatten(this.startDim, this.endDim);
  }

  /** PyTorch's repr content with our option names: `startDim=1, endDim=-1`. */
  protected override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}
