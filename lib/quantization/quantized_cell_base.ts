/**
 * What the dynamically quantized cells share: an {@link RNNCellBase} whose weight matrices are held at
 * reduced precision, so forward and forwardAsync work unchanged.
 *
 * @packageDocumentation
 */
import type { NativePackedModel } from '../native';
import type { Module } from '../modules/module';
import { RNNCellBase } from '../modules/rnn_cell_base';
import type { DType, FloatDType, Tensor } from '../tensor';
import type { QuantizedDType } from './dtype';
import { QuantizedEngineWeights } from './quantized_engine_weights';

/**
 * Base of {@link DynamicQuantizedRNNCell}, {@link DynamicQuantizedLSTMCell} and
 * {@link DynamicQuantizedGRUCell}: the float cell's sizes, its `weight_ih` and `weight_hh` converted once
 * to `weightDtype`, its biases in float32. No parameters; `stateDict()` gives the weights dequantized.
 */
export abstract class DynamicQuantizedRNNCellBase<H extends Tensor | [Tensor, Tensor]> extends RNNCellBase<H> {
  readonly #weights: QuantizedEngineWeights;

  /**
   * Copies `float`'s sizes and training flag and holds `weights` (converted from it, or copied); `float`
   * (float32) is left unchanged.
   *
   * @internal the subclasses are made by `fromFloat` or `quantizeDynamic`
   */
  protected constructor(className: string, numChunks: number, stateCount: 1 | 2, float: RNNCellBase<H>, weights: QuantizedEngineWeights) {
    super(className, numChunks, stateCount, { inputSize: float.inputSize, hiddenSize: float.hiddenSize, bias: float.bias });
    this.training = float.training;
    QuantizedEngineWeights.dropFloatParameters(this);
    this.#weights = weights;
  }

  /** Built by this constructor with this cell's sizes and a copy of its stored weights. */
  protected override copyShell(): Module {
    return Reflect.construct(DynamicQuantizedRNNCellBase, [...this.cellKind(), this, this.#weights.clone()], this.constructor) as Module;
  }

  /** The precision the weight matrices are stored in. (`dtype` stays the float32 of inputs and outputs.) */
  get weightDtype(): QuantizedDType {
    return this.#weights.dtype;
  }

  /** float32: the element type of inputs, outputs and states. */
  override get dtype(): FloatDType {
    return 'float32';
  }

  /** Bytes the stored weights and biases take. */
  get weightBytes(): number {
    return this.#weights.bytes;
  }

  /** Does nothing: the weights are fixed when the cell is converted. */
  override resetParameters(): void {}

  /** Packs again on the next forward; the stored weights do not change. */
  override flattenParameters(): void {
    this.#weights.repack();
  }

  protected override packedModel(): NativePackedModel {
    return this.#weights.packed(this.engineSpec());
  }

  /**
   * A state dict's weight is converted to the stored precision as on conversion; a bias is copied. (A
   * qint8 module's own dequantized state dict converts to new scales, moving weights by up to a step: load
   * float weights.)
   */
  protected override loadOwnStateEntry(name: string, target: Tensor<DType>, value: Tensor<DType>): void {
    super.loadOwnStateEntry(name, target, value); // into `target`, as float32
    this.#weights.load(name, target as Tensor);
  }

  /** `weight_ih` and `weight_hh` dequantized to float32 (new tensors), and the biases. */
  protected override ownStateDict(): Map<string, Tensor<DType>> {
    return this.#weights.stateDict();
  }

  /** The float cell's repr with the stored precision: `10, 20, dtype=qint8`. */
  protected override extraRepr(): string {
    return `${super.extraRepr()}, dtype=${this.weightDtype}`;
  }
}
