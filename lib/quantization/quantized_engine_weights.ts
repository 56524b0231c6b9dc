/**
 * What every quantized engine module holds in place of its float parameters: the float module's
 * parameters in the engine's order, weight matrices stored reduced and biases in float32, and the packed
 * model made from them.
 *
 * @packageDocumentation
 */
import type { EngineModule } from '../modules/engine_module';
import { native, type NativeModelSpec, type NativePackedModel } from '../native';
import type { DType, Tensor } from '../tensor';
import type { QuantizedDType } from './dtype';
import { QuantizedWeight } from './quantized_weight';

/** One parameter under its PyTorch name: a weight matrix stored reduced, or a float32 bias. */
type StoredParameter = [name: string, value: QuantizedWeight | Tensor];

/**
 * The weights of a quantized RNN, LSTM, GRU or cell: converted once from a float32 engine module, then
 * read by the engine (packed on first use) and by the state dict (dequantized).
 */
export class QuantizedEngineWeights {
  /** The stored precision of the weight matrices. */
  readonly dtype: QuantizedDType;
  readonly #stored: StoredParameter[];
  #packed: NativePackedModel | undefined;

  /** `float`'s own parameters, in order (a tensor tied to two names twice, as the engine wants each). */
  static fromFloat(float: EngineModule, dtype: QuantizedDType): QuantizedEngineWeights {
    const stored = float.namedParameters({ recurse: false, removeDuplicate: false }).map(([name, p]): StoredParameter => [
      name,
      p.dim() === 2 ? QuantizedWeight.quantize(p, dtype) : p.clone(),
    ]);
    return new QuantizedEngineWeights(dtype, stored);
  }

  private constructor(dtype: QuantizedDType, stored: StoredParameter[]) {
    this.dtype = dtype;
    this.#stored = stored;
  }

  /** The same weights in new arrays, packed again on first use: for a copy of the module. */
  clone(): QuantizedEngineWeights {
    return new QuantizedEngineWeights(this.dtype, this.#stored.map(([name, v]) => [name, v.clone()]));
  }

  /** Empties `module`'s own parameter slots: its engine base registered float32 ones that these replace. */
  static dropFloatParameters(module: EngineModule): void {
    for (const [name] of module.namedParameters({ recurse: false })) module.registerParameter(name, null);
  }

  /** The engine model for `spec`, packed on first use and kept. */
  packed(spec: NativeModelSpec): NativePackedModel {
    this.#packed ??= new native.PackedModel(
      spec,
      this.#stored.map(([, v]) => (v instanceof QuantizedWeight ? v.values : (v.data as Float32Array))),
      { format: this.dtype, scales: this.#stored.map(([, v]) => (v instanceof QuantizedWeight ? v.scales : null)) },
    );
    return this.#packed;
  }

  /**
   * Takes `value` (float32, the shape of the parameter) as the new value of the parameter `name`: a weight
   * matrix is converted again, a bias copied; packs again on next use.
   */
  load(name: string, value: Tensor): void {
    const entry = this.#stored.find(([n]) => n === name);
    if (entry === undefined) throw new Error(`no parameter named ${name}`);
    if (entry[1] instanceof QuantizedWeight) entry[1] = QuantizedWeight.quantize(value, this.dtype);
    else if (entry[1] !== value) (entry[1].data as Float32Array).set(value.data as Float32Array);
    this.#packed = undefined;
  }

  /** Packs again on next use. */
  repack(): void {
    this.#packed = undefined;
  }

  /** Bytes the stored weights and biases take. */
  get bytes(): number {
    return this.#stored.reduce((n, [, v]) => n + (v instanceof QuantizedWeight ? v.nbytes : v.data.byteLength), 0);
  }

  /** The weights dequantized to float32 (new tensors) and the biases, under the float module's names. */
  stateDict(): Map<string, Tensor<DType>> {
    return new Map(this.#stored.map(([name, v]) => [name, v instanceof QuantizedWeight ? v.dequantize() : v]));
  }
}
