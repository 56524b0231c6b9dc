/**
 * What the dynamically quantized recurrent layers share: an {@link RNNBase} whose weight matrices are held
 * at reduced precision, so forward, forwardAsync, packed input, train/eval and the batcher work unchanged.
 *
 * @packageDocumentation
 */
import { native, type NativePackedModel } from '../native';
import type { Hidden, RNNBase } from '../modules/rnn_base';
import { RNNBase as RNNBaseClass } from '../modules/rnn_base';
import type { DType, FloatDType, Tensor } from '../tensor';
import { QuantizedWeight } from './quantized_weight';
import type { QuantizedDType } from './dtype';

/** A recurrent layer's parameters in PyTorch's order: weight matrices stored reduced, biases float32. */
type StoredParameter = [name: string, value: QuantizedWeight | Tensor];

/**
 * Base of {@link DynamicQuantizedRNN}, {@link DynamicQuantizedLSTM} and {@link DynamicQuantizedGRU}: the
 * configuration of the float layer it came from, its weight matrices converted once to `weightDtype`
 * (PyTorch's conversions) and its biases kept in float32. It has no parameters (as PyTorch's quantized
 * modules); `stateDict()` gives the weights dequantized to float32 under the float layer's names.
 * Inputs, outputs and states are float32; the engine accumulates in float32.
 */
export abstract class DynamicQuantizedRNNBase<H extends Hidden = Hidden> extends RNNBaseClass<H> {
  /** The precision the weight matrices are stored in. (`dtype` stays the float32 of inputs and outputs.) */
  readonly weightDtype: QuantizedDType;
  readonly #stored: StoredParameter[];
  #packed: NativePackedModel | undefined;

  /**
   * Copies `float`'s configuration and training flag and converts its weights; `float` (float32, checked by
   * the caller) is left unchanged.
   */
  protected constructor(className: string, float: RNNBase, dtype: QuantizedDType) {
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
    this.weightDtype = dtype;
    this.training = float.training;
    // RNNBase registered float32 parameters: the stored weights take their place, so none is kept.
    const names = this.namedParameters({ recurse: false }).map(([name]) => name);
    for (const name of names) this.registerParameter(name, null);
    this.#stored = float.namedParameters({ recurse: false, removeDuplicate: false }).map(([name, p]) => [
      name,
      p.dim() === 2 ? QuantizedWeight.quantize(p, dtype) : p.clone(),
    ]);
  }

  /** float32: the element type of inputs, outputs and states. */
  override get dtype(): FloatDType {
    return 'float32';
  }

  /** Bytes the stored weights and biases take (int8 about a quarter of float32, plus one scale per row). */
  get weightBytes(): number {
    return this.#stored.reduce((n, [, v]) => n + (v instanceof QuantizedWeight ? v.nbytes : v.data.byteLength), 0);
  }

  /** Does nothing: the weights are fixed when the module is converted (PyTorch's quantized layers have no reset). */
  override resetParameters(): void {}

  /** Packs again on the next forward; the stored weights do not change. */
  override flattenParameters(): void {
    this.#packed = undefined;
  }

  protected override packedModel(): NativePackedModel {
    this.#packed ??= new native.PackedModel(
      this.engineSpec(),
      this.#stored.map(([, v]) => (v instanceof QuantizedWeight ? v.values : (v.data as Float32Array))),
      { format: this.weightDtype, scales: this.#stored.map(([, v]) => (v instanceof QuantizedWeight ? v.scales : null)) },
    );
    return this.#packed;
  }

  /** The weights dequantized to float32 (new tensors) and the biases, under the float layer's names. */
  protected override ownStateDict(): Map<string, Tensor<DType>> {
    return new Map(this.#stored.map(([name, v]) => [name, v instanceof QuantizedWeight ? v.dequantize() : v]));
  }

  /** The float layer's repr with the stored precision: `10, 20, numLayers=2, dtype=qint8`. */
  protected override extraRepr(): string {
    return `${super.extraRepr()}, dtype=${this.weightDtype}`;
  }
}
