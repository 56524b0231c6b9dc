/**
 * What the dynamically quantized recurrent layers share: an {@link RNNBase} whose weight matrices are held
 * at reduced precision, so forward, forwardAsync, packed input, train/eval and the batcher work unchanged.
 *
 * @packageDocumentation
 */
import type { NativePackedModel } from '../native';
import type { Module } from '../modules/module';
import type { Hidden, RNNBase } from '../modules/rnn_base';
import { RNNBase as RNNBaseClass } from '../modules/rnn_base';
import type { DType, FloatDType, Tensor } from '../tensor';
import type { QuantizedDType } from './dtype';
import { QuantizedEngineWeights } from './quantized_engine_weights';

/**
 * Base of {@link DynamicQuantizedRNN}, {@link DynamicQuantizedLSTM} and {@link DynamicQuantizedGRU}: the
 * configuration of the float layer it came from, its weight matrices converted once to `weightDtype`
 * (PyTorch's conversions) and its biases kept in float32. It has no parameters (as PyTorch's quantized
 * modules); `stateDict()` gives the weights dequantized to float32 under the float layer's names.
 * Inputs, outputs and states are float32; the engine accumulates in float32.
 */
export abstract class DynamicQuantizedRNNBase<H extends Hidden = Hidden> extends RNNBaseClass<H> {
  readonly #weights: QuantizedEngineWeights;

  /**
   * Copies `float`'s configuration and training flag and holds `weights` (converted from it, or copied);
   * `float` (float32, checked by the caller) is left unchanged.
   *
   * @internal the subclasses are made by `fromFloat` or `quantizeDynamic`
   */
  protected constructor(className: string, float: RNNBase, weights: QuantizedEngineWeights) {
    super(className, float.mode, {
      inputSize: float.inputSize,
      hiddenSize: float.hiddenSize,
      numLayers: float.numLayers,
      bias: float.bias,
      batchFirst: float.batchFirst,
      dropout: float.dropout,
      bidirectional: float.bidirectional,
      projSize: float.projSize,
      dtype: 'float32',
    });
    this.training = float.training;
    QuantizedEngineWeights.dropFloatParameters(this);
    this.#weights = weights;
  }

  /** Built by this constructor with this layer's configuration and a copy of its stored weights. */
  protected override copyShell(): Module {
    return Reflect.construct(DynamicQuantizedRNNBase, [this.className, this, this.#weights.clone()], this.constructor) as Module;
  }

  /** The precision the weight matrices are stored in. (`dtype` stays the float32 of inputs and outputs.) */
  get weightDtype(): QuantizedDType {
    return this.#weights.dtype;
  }

  /** float32: the element type of inputs, outputs and states. */
  override get dtype(): FloatDType {
    return 'float32';
  }

  /** Bytes the stored weights and biases take (int8 about a quarter of float32, plus one scale per row). */
  get weightBytes(): number {
    return this.#weights.bytes;
  }

  /** Does nothing: the weights are fixed when the module is converted (PyTorch's quantized layers have no reset). */
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

  /** The weights dequantized to float32 (new tensors) and the biases, under the float layer's names. */
  protected override ownStateDict(): Map<string, Tensor<DType>> {
    return this.#weights.stateDict();
  }

  /** The float layer's repr with the stored precision: `10, 20, numLayers=2, dtype=qint8`. */
  protected override extraRepr(): string {
    return `${super.extraRepr()}, dtype=${this.weightDtype}`;
  }
}
