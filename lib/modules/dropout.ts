/**
 * `nn.Dropout`: in training, zeroes each element with probability `p` and scales the rest by 1/(1-p);
 * in evaluation, the identity.
 *
 * @packageDocumentation
 */
import { describe, isNumber } from '../is';
import { random } from '../random';
import { Tensor, isFloatDType, type FloatTensorData } from '../tensor';
import { Module } from './module';

/**
 * Writes `x` into `y` with each element multiplied by 0 with probability `p` and the others by 1/(1-p)
 * (inverted dropout), drawing one uniform from the global generator per element, in order.
 */
function dropoutInto(x: FloatTensorData, y: FloatTensorData, p: number): void {
  // A dropped element is multiplied by 0, as PyTorch does: NaN and ±Infinity give NaN, -1 gives -0.
  const scale = p < 1 ? 1 / (1 - p) : 0;
  for (let i = 0; i < x.length; i++) y[i] = x[i] * (random() < p ? 0 : scale);
}

/**
 * Dropout, as PyTorch's `nn.Dropout(p)`: in training mode each element of the input is zeroed with
 * probability `p` and the kept ones are multiplied by 1/(1-p), so that expectations are unchanged; in
 * evaluation mode the input is returned as it is. Masks come from the global generator, so
 * {@link manualSeed} reproduces them.
 *
 * @example
 * ```ts
 * const drop = new Dropout(0.1);            // nn.Dropout(0.1)
 * const y = drop.forward(x);                // training: about 10% zeros, the rest · 1/0.9
 * drop.eval().forward(x) === x;             // true
 * ```
 */
export class Dropout extends Module {
  /** Probability of zeroing each element. */
  readonly p: number;

  /** `new Dropout(p = 0.5)`, as `nn.Dropout(p=0.5)`; `p` outside [0, 1] is PyTorch's error. */
  constructor(p = 0.5) {
    super();
    if (!isNumber(p)) throw new TypeError(`dropout probability should be a number, got: ${describe(p)}`);
    if (!(p >= 0 && p <= 1)) throw new Error(`dropout probability has to be between 0 and 1, but got ${p}`);
    this.p = p;
  }

  /** In training, a new tensor with the input's shape and dtype; in evaluation, `input` itself. */
  forward(input: Tensor): Tensor {
    if (!(input instanceof Tensor)) throw new TypeError(`dropout(): argument 'input' must be Tensor, not ${describe(input)}`);
    if (!this.training) return input;
    if (!isFloatDType(input.dtype)) {
      throw new TypeError(`dropout: expected a floating-point input, got ${input.dtype}`);
    }
    const output = Tensor.zeros(input.shape, input.dtype);
    dropoutInto(input.data as FloatTensorData, output.data as FloatTensorData, this.p);
    return output;
  }

  /** PyTorch's repr content: `p=0.5`. */
  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
