/**
 * `nn.LayerNorm`: each sample normalised over its trailing dimensions, then scaled and shifted per element.
 *
 * @packageDocumentation
 */
import { describe, isNonNegativeInteger, isNumber } from '../is';
import { checkBoolean, checkOptionNames } from '../options';
import { Tensor, isFloatDType, type FloatDType, type FloatTensorData } from '../tensor';
import { checkInputDType } from './dtype_check';
import { Module } from './module';
import { checkDTypeOption } from './rnn_options';

/** `nn.LayerNorm`'s options after the shape (PyTorch 1.13's, camelCased). */
export interface LayerNormOptions {
  /** Added to the variance before its square root. Default 1e-5. */
  eps?: number;
  /** Whether the layer has a `weight` (ones) and `bias` (zeros) of the normalised shape. Default true. */
  elementwiseAffine?: boolean;
  /** Element type of parameters, inputs and outputs. Default `'float32'`. */
  dtype?: FloatDType;
}

/**
 * Normalises each of the `rows` runs of `size` elements of `x` into `y`: `(x - mean) / √(var + eps)`, with
 * the biased variance, then `· weight + bias` element-wise when given. Sums are taken in double precision.
 */
function layerNormRows(
  x: FloatTensorData,
  y: FloatTensorData,
  rows: number,
  size: number,
  eps: number,
  weight: FloatTensorData | null,
  bias: FloatTensorData | null,
): void {
  for (let r = 0; r < rows; r++) {
    const start = r * size;
    let sum = 0;
    for (let i = 0; i < size; i++) sum += x[start + i];
    const mean = sum / size;
    let squares = 0;
    for (let i = 0; i < size; i++) {
      const d = x[start + i] - mean;
      squares += d * d;
    }
    const rstd = 1 / Math.sqrt(squares / size + eps);
    if (weight !== null && bias !== null) {
      for (let i = 0; i < size; i++) y[start + i] = (x[start + i] - mean) * rstd * weight[i] + bias[i];
    } else {
      for (let i = 0; i < size; i++) y[start + i] = (x[start + i] - mean) * rstd;
    }
  }
}

/**
 * Layer normalisation, as PyTorch's `nn.LayerNorm`: over the last `normalizedShape.length` dimensions of
 * the input, which must equal `normalizedShape`, each sample is shifted to mean 0 and scaled by
 * 1/√(biased variance + eps); then multiplied by `weight` and shifted by `bias` (both of shape
 * `normalizedShape`, ones and zeros at first) unless `elementwiseAffine` is false.
 *
 * @example
 * ```ts
 * const norm = new LayerNorm(64);                          // nn.LayerNorm(64)
 * const y = norm.forward(Tensor.zeros([8, 20, 64]));      // (8, 20, 64)
 * ```
 */
export class LayerNorm extends Module {
  /** `normalizedShape`, ones at first; undefined without elementwise affine. */
  declare weight: Tensor | undefined;
  /** `normalizedShape`, zeros at first; undefined without elementwise affine. */
  declare bias: Tensor | undefined;

  /** The trailing dimensions normalised over. */
  readonly normalizedShape: readonly number[];
  /** Added to the variance before its square root. */
  readonly eps: number;
  /** Whether `weight` and `bias` apply. */
  readonly elementwiseAffine: boolean;
  readonly #dtype: FloatDType;

  /** Element type of the parameters, which inputs must share: the weight's, so it follows `double()`. */
  get dtype(): FloatDType {
    return (this.weight?.dtype ?? this.#dtype) as FloatDType;
  }

  /**
   * `new LayerNorm(normalizedShape, { eps, elementwiseAffine, dtype })`, as
   * `nn.LayerNorm(normalized_shape, eps=1e-05, elementwise_affine=True)`; a number is a one-dimension shape.
   */
  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    checkOptionNames('LayerNorm', options, ['eps', 'elementwiseAffine', 'dtype']);
    const { eps = 1e-5, elementwiseAffine = true, dtype = 'float32' } = options;
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
      throw new TypeError(`normalized_shape should be a non-negative integer or an array of them, got: ${describe(normalizedShape)}`);
    }
    if (!isNumber(eps) || !(eps >= 0)) throw new TypeError(`eps should be a non-negative number, got: ${describe(eps)}`);
    checkBoolean('elementwise_affine', elementwiseAffine);
    checkDTypeOption(dtype);
    this.normalizedShape = Object.freeze([...shape]);
    this.eps = eps;
    this.elementwiseAffine = elementwiseAffine;
    this.#dtype = dtype;
    this.registerParameter('weight', elementwiseAffine ? Tensor.ones(shape, dtype) : null);
    this.registerParameter('bias', elementwiseAffine ? Tensor.zeros(shape, dtype) : null);
  }

  /** Built by this constructor with this layer's configuration and the dtype it was made with. */
  protected override copyShell(): Module {
    const options: LayerNormOptions = { eps: this.eps, elementwiseAffine: this.elementwiseAffine, dtype: this.#dtype };
    return Reflect.construct(LayerNorm, [this.normalizedShape, options], this.constructor) as Module;
  }

  /** Sets `weight` to ones and `bias` to zeros, as PyTorch's `reset_parameters`. */
  resetParameters(): void {
    (this.weight?.data as FloatTensorData | undefined)?.fill(1);
    (this.bias?.data as FloatTensorData | undefined)?.fill(0);
  }

  /**
   * Normalises `input` `(*, ...normalizedShape)`; the output has its shape. Errors are PyTorch's, e.g.
   * `Given normalized_shape=[4], expected input with shape [*, 4], but got input of size[2, 3]`.
   */
  forward(input: Tensor): Tensor {
    if (!(input instanceof Tensor)) throw new TypeError(`layer_norm(): argument 'input' must be Tensor, not ${describe(input)}`);
    const shape = this.normalizedShape;
    const offset = input.dim() - shape.length;
    if (offset < 0 || shape.some((size, i) => input.shape[offset + i] !== size)) {
      const wanted = shape.join(', ');
      throw new Error(
        `Given normalized_shape=[${wanted}], expected input with shape [*${shape.length > 0 ? ', ' : ''}${wanted}], ` +
          `but got input of size[${input.shape.join(', ')}]`,
      );
    }
    // Without weights, PyTorch normalises in the input's own floating type.
    if (this.elementwiseAffine) checkInputDType(input, this.dtype);
    else if (!isFloatDType(input.dtype)) checkInputDType(input, this.dtype);
    const size = shape.reduce((n, s) => n * s, 1);
    const output = Tensor.zeros(input.shape, input.dtype);
    const rows = size === 0 ? 0 : input.numel() / size;
    layerNormRows(
      input.data as FloatTensorData,
      output.data as FloatTensorData,
      rows,
      size,
      this.eps,
      (this.weight?.data ?? null) as FloatTensorData | null,
      (this.bias?.data ?? null) as FloatTensorData | null,
    );
    return output;
  }

  /** PyTorch's repr content with our option names: `LayerNorm([64], eps=0.00001, elementwiseAffine=true)`. */
  protected override extraRepr(): string {
    return `[${this.normalizedShape.join(', ')}], eps=${this.eps}, elementwiseAffine=${this.elementwiseAffine}`;
  }
}
