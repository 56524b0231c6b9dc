/**
 * What the recurrent modules and the cells share: parameters packed once into the native engine's layout,
 * and PyTorch's initialisation.
 *
 * @packageDocumentation
 */
import { native, type NativeModelSpec, type NativePackedModel } from '../native';
import { fillUniform } from '../random';
import type { FloatDType, Tensor } from '../tensor';
import { Module, type StateDictOptions } from './module';

/**
 * A module whose forward runs on the native engine. Its parameters, in PyTorch's `named_parameters()`
 * order, are exactly the engine's weights for {@link EngineModule.engineSpec}; they are packed on the first
 * forward and kept until a parameter is replaced or a state dict is loaded.
 */
export abstract class EngineModule extends Module {
  /** Features of the hidden state; sets the initialisation bound. */
  abstract readonly hiddenSize: number;

  #packed: NativePackedModel | undefined;

  /** The engine model these parameters are the weights of. */
  protected abstract engineSpec(): NativeModelSpec;

  /** Element type of parameters, inputs and outputs: the weights' (it follows `to()`, `float()`, `double()`). */
  get dtype(): FloatDType {
    return this.#ownParameters()[0].dtype;
  }

  /** The parameters by name, as {@link Module.stateDict}; all floating point, as this module holds no other. */
  override stateDict(options?: StateDictOptions): Record<string, Tensor> {
    return super.stateDict(options) as Record<string, Tensor>;
  }

  /** Redraws every parameter from U(-1/√hiddenSize, 1/√hiddenSize), in order, from the global generator. */
  resetParameters(): void {
    const stdv = this.hiddenSize > 0 ? 1 / Math.sqrt(this.hiddenSize) : 0;
    for (const param of this.#ownParameters()) fillUniform(param.data, -stdv, stdv);
    this.parametersChanged();
  }

  /**
   * Re-packs the weights from the parameters' current data. Call it after editing a parameter's `.data` in
   * place; loading a state dict or assigning a parameter needs no call. (PyTorch's name; there it serves
   * cuDNN.)
   */
  flattenParameters(): void {
    this.#packed = this.#pack();
  }

  protected override parametersChanged(): void {
    this.#packed = undefined;
  }

  /**
   * The packed weights, packing them now if they changed. A forward in flight keeps the packing it
   * started with, so replacing weights never disturbs it.
   */
  protected packedModel(): NativePackedModel {
    this.#packed ??= this.#pack();
    return this.#packed;
  }

  #pack(): NativePackedModel {
    return new native.PackedModel(this.engineSpec(), this.#ownParameters().map((p) => p.data));
  }

  /** Every own parameter in order, a tensor tied to two of them included twice: the engine wants each. */
  #ownParameters(): Tensor[] {
    return this.namedParameters({ recurse: false, removeDuplicate: false }).map(([, param]) => param);
  }
}
