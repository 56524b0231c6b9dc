/**
 * `DynamicQuantizedLinear`: a {@link Linear} whose weight is stored at reduced precision.
 *
 * @packageDocumentation
 */
import { Linear, checkLinearInput } from '../modules/linear';
import { Module } from '../modules/module';
import { native, type NativePackedLinear } from '../native';
import { Tensor, type DType } from '../tensor';
import type { FromFloatOptions, QuantizedDType } from './dtype';
import { checkFromFloat } from './from_float';
import { QuantizedWeight } from './quantized_weight';

/**
 * `y = x · Wᵀ + b` with `W` stored as `weightDtype` and `b` in float32, computed in float32 by the engine's
 * GEMM (PyTorch's `torch.ao.nn.quantized.dynamic.Linear`). No parameters; `stateDict()` gives `weight`
 * dequantized to float32, and `bias`.
 *
 * @example
 * ```ts
 * const q = DynamicQuantizedLinear.fromFloat(new Linear(128, 60), { dtype: 'qint8' });
 * q.forward(Tensor.zeros([5, 128])); // (5, 60)
 * ```
 */
export class DynamicQuantizedLinear extends Module {
  /** Features of each input row. */
  readonly inFeatures: number;
  /** Features of each output row. */
  readonly outFeatures: number;
  /** The precision the weight is stored in. */
  readonly weightDtype: QuantizedDType;
  #weight: QuantizedWeight;
  readonly #bias: Tensor | undefined;
  #packed: NativePackedLinear | undefined;

  /** `float`'s sizes and training flag, with `weight` (converted from it, or copied) and `bias`, its own. */
  private constructor(float: Linear | DynamicQuantizedLinear, weight: QuantizedWeight, bias: Tensor | undefined) {
    super();
    this.inFeatures = float.inFeatures;
    this.outFeatures = float.outFeatures;
    this.weightDtype = weight.dtype;
    this.training = float.training;
    this.#weight = weight;
    this.#bias = bias;
  }

  /** `float`'s sizes with its weight converted to `dtype` (default `'qint8'`); `float` is left unchanged. */
  static fromFloat(float: Linear, options: FromFloatOptions = {}): DynamicQuantizedLinear {
    const dtype = checkFromFloat('DynamicQuantizedLinear', float, Linear, options);
    return new DynamicQuantizedLinear(float, QuantizedWeight.quantize(float.weight, dtype), float.bias?.clone());
  }

  /** Built by this constructor with this layer's sizes and copies of its stored weight and bias. */
  protected override copyShell(): Module {
    return Reflect.construct(DynamicQuantizedLinear, [this, this.#weight.clone(), this.#bias?.clone()], this.constructor) as Module;
  }

  /** float32: the element type of inputs and outputs. */
  get dtype(): 'float32' {
    return 'float32';
  }

  /** Bytes the stored weight and bias take. */
  get weightBytes(): number {
    return this.#weight.nbytes + (this.#bias?.data.byteLength ?? 0);
  }

  /**
   * `input · weightᵀ + bias` over the last dimension: `(*, inFeatures)` float32 in, `(*, outFeatures)` out,
   * with Linear's checks and messages.
   */
  forward(input: Tensor): Tensor {
    const { leading, rows } = checkLinearInput(input, this.inFeatures, this.outFeatures, 'float32');
    this.#packed ??= new native.PackedLinear(
      this.inFeatures,
      this.outFeatures,
      this.#weight.values,
      (this.#bias?.data as Float32Array | undefined) ?? null,
      { format: this.weightDtype, scales: this.#weight.scales },
    );
    return new Tensor(this.#packed.forward(input.data as Float32Array, rows), [...leading, this.outFeatures]);
  }

  /** `weight` dequantized to float32 (a new tensor), then `bias`. */
  protected override ownStateDict(): Map<string, Tensor<DType>> {
    const sd = new Map<string, Tensor<DType>>([['weight', this.#weight.dequantize()]]);
    if (this.#bias !== undefined) sd.set('bias', this.#bias);
    return sd;
  }

  /**
   * A state dict's `weight` is converted to the stored precision as on conversion; `bias` is copied. (A
   * qint8 layer's own dequantized state dict converts to new scales, moving weights by up to a step: load
   * float weights.)
   */
  protected override loadOwnStateEntry(name: string, target: Tensor<DType>, value: Tensor<DType>): void {
    super.loadOwnStateEntry(name, target, value); // into `target` (the stored bias itself), as float32
    if (name === 'weight') this.#weight = QuantizedWeight.quantize(target as Tensor, this.weightDtype);
    this.#packed = undefined;
  }

  /** `inFeatures=128, outFeatures=60, bias=true, dtype=qint8`. */
  protected override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.#bias !== undefined}, dtype=${this.weightDtype}`;
  }
}
