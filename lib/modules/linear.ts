/**
 * `nn.Linear`: `y = x · Wᵀ + b`, computed by the native engine's packed GEMM kernel.
 *
 * @packageDocumentation
 */
import { describe, isNonNegativeInteger } from '../is';
import { native, type NativePackedLinear } from '../native';
import { checkBoolean, checkOptionNames } from '../options';
import { fillUniform } from '../random';
import { Tensor, type FloatDType } from '../tensor';
import { checkCommonOptions, matrixWeight, selection } from './from_state_dict';
import { Module, buildingCopyShell, type StateDict, type StateDictOptions } from './module';
import { checkDimension, checkParameterBudget } from './parameter_budget';
import { checkDTypeOption } from './rnn_options';

/** `nn.Linear`'s options after the sizes. */
export interface LinearOptions {
  /** Whether the layer has a `bias` `(outFeatures)`. Default true. */
  bias?: boolean;
  /** Element type of parameters, inputs and outputs. Default `'float32'`. */
  dtype?: FloatDType;
}

/** Options of {@link Linear.fromStateDict}. */
export interface LinearFromStateDictOptions {
  /** Where the layer's keys sit in a larger model's state dict, e.g. `'head.'`. Default `''`. */
  prefix?: string;
  /** The layer's dtype. Default: the dtype of the state dict's `weight`. */
  dtype?: FloatDType;
}

/**
 * Linear's checks of its input, in PyTorch's order and words, shared by every module that computes a
 * Linear; returns the leading dimensions and their product (the rows of the product).
 */
export function checkLinearInput(input: unknown, inFeatures: number, outFeatures: number, dtype: FloatDType): { leading: number[]; rows: number } {
  if (!(input instanceof Tensor)) throw new TypeError(`linear(): argument 'input' must be Tensor, not ${describe(input)}`);
  if (input.dim() === 0) throw new Error('both arguments to linear need to be at least 1D, but they are 0D and 2D');
  const leading = input.shape.slice(0, -1);
  const features = input.shape[input.dim() - 1];
  const rows = leading.reduce((n, size) => n * size, 1);
  if (features !== inFeatures) {
    throw new Error(`mat1 and mat2 shapes cannot be multiplied (${rows}x${features} and ${inFeatures}x${outFeatures})`);
  }
  if (input.dtype !== dtype) throw new TypeError(`mat1 and mat2 must have the same dtype, but got ${input.dtype} and ${dtype}`);
  return { leading, rows };
}

function checkFeatures(name: string, value: unknown): asserts value is number {
  if (!isNonNegativeInteger(value)) throw new TypeError(`${name} should be a non-negative integer, got: ${describe(value)}`);
}

/**
 * A fully connected layer, as PyTorch's `nn.Linear`: `weight` `(outFeatures, inFeatures)`, `bias`
 * `(outFeatures)`, initialised from U(-1/√inFeatures, 1/√inFeatures) (PyTorch's kaiming_uniform with
 * a = √5). The weight is packed for the native kernel on the first forward and kept; after editing a
 * parameter's `.data` in place, call {@link Linear.flattenParameters}.
 *
 * @example
 * ```ts
 * const head = new Linear(128, 60);                      // nn.Linear(128, 60)
 * const logits = head.forward(Tensor.zeros([5, 3, 128])); // (5, 3, 60)
 * ```
 */
export class Linear extends Module {
  /** `(outFeatures, inFeatures)`. */
  declare weight: Tensor;
  /** `(outFeatures)`; undefined without bias. */
  declare bias: Tensor | undefined;

  /** Features of each input row. */
  readonly inFeatures: number;
  /** Features of each output row. */
  readonly outFeatures: number;

  #packed: NativePackedLinear | undefined;

  /** `new Linear(inFeatures, outFeatures, { bias, dtype })`, as `nn.Linear(in_features, out_features, bias=True)`. */
  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    checkOptionNames('Linear', options, ['bias', 'dtype']);
    const { bias = true, dtype = 'float32' } = options;
    checkFeatures('in_features', inFeatures);
    checkFeatures('out_features', outFeatures);
    checkBoolean('bias', bias);
    checkDTypeOption(dtype);
    checkDimension('in_features', inFeatures);
    checkDimension('out_features', outFeatures);
    checkParameterBudget(`Linear(inFeatures=${inFeatures}, outFeatures=${outFeatures})`, [
      { name: 'weight', shape: [outFeatures, inFeatures], count: 1 },
      { name: 'bias', shape: [outFeatures], count: bias ? 1 : 0 },
    ], dtype);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.registerParameter('weight', Tensor.zeros([outFeatures, inFeatures], dtype));
    if (bias) this.registerParameter('bias', Tensor.zeros([outFeatures], dtype));
    if (!buildingCopyShell()) this.resetParameters(); // a copy's shell gets its weights copied
  }

  protected override get className(): string {
    return 'Linear';
  }

  /** Built by this constructor with this layer's sizes, bias and dtype. */
  protected override copyShell(): Module {
    const options: LinearOptions = { bias: this.bias !== undefined, dtype: this.dtype };
    return Reflect.construct(Linear, [this.inFeatures, this.outFeatures, options], this.constructor) as Module;
  }

  /** Element type of parameters, inputs and outputs: the weight's (it follows `to()`, `float()`, `double()`). */
  get dtype(): FloatDType {
    return this.weight.dtype;
  }

  /**
   * A Linear configured and loaded from a state dict alone: `weight` gives the sizes, a `bias` key the
   * bias; the dtype is the weight's unless `dtype` says otherwise. `prefix` picks the layer out of a
   * larger model's state dict.
   *
   * @example
   * ```ts
   * const head = Linear.fromStateDict(await loadTorch('model.pt'), { prefix: 'head.' });
   * ```
   */
  static fromStateDict(sd: StateDict, options: LinearFromStateDictOptions = {}): Linear {
    checkCommonOptions('Linear.fromStateDict', options as unknown, ['prefix', 'dtype']);
    const selected = selection('Linear', sd, options);
    const weight = matrixWeight(selected, 'a Linear', '(out_features, in_features)');
    const { prefix, entries } = selected;
    const linear = new Linear(weight.shape[1], weight.shape[0], { bias: entries.has('bias'), dtype: options.dtype ?? weight.dtype });
    linear.loadStateDict(sd, { prefix }); // PyTorch's messages for a bias of the wrong shape or a key Linear lacks
    return linear;
  }

  /** The parameters by name, as {@link Module.stateDict}; all floating point, as this module holds no other. */
  override stateDict(options?: StateDictOptions): Record<string, Tensor> {
    return super.stateDict(options) as Record<string, Tensor>;
  }

  /** Redraws `weight` and `bias` from U(-1/√inFeatures, 1/√inFeatures), in that order, from the global generator. */
  resetParameters(): void {
    const bound = this.inFeatures > 0 ? 1 / Math.sqrt(this.inFeatures) : 0;
    fillUniform(this.weight.data, -bound, bound);
    if (this.bias !== undefined) fillUniform(this.bias.data, -bound, bound);
    this.parametersChanged();
  }

  /** Re-packs the weight from the parameters' current data; needed only after an in-place edit of `.data`. */
  flattenParameters(): void {
    this.#packed = this.#pack();
  }

  /**
   * `input · weightᵀ + bias` over the last dimension: `(*, inFeatures)` in, `(*, outFeatures)` out.
   * Errors are PyTorch's, e.g. `mat1 and mat2 shapes cannot be multiplied (3x5 and 4x2)`.
   */
  forward(input: Tensor): Tensor {
    const { leading, rows } = checkLinearInput(input, this.inFeatures, this.outFeatures, this.dtype);
    this.#packed ??= this.#pack();
    return new Tensor(this.#packed.forward(input.data, rows), [...leading, this.outFeatures]);
  }

  /** PyTorch's extra repr with our option names: `inFeatures=128, outFeatures=60, bias=true`. */
  protected override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== undefined}`;
  }

  protected override parametersChanged(): void {
    this.#packed = undefined;
  }

  #pack(): NativePackedLinear {
    return new native.PackedLinear(this.inFeatures, this.outFeatures, this.weight.data, this.bias?.data ?? null);
  }
}
