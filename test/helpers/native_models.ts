/**
 * Native packed models with seeded random weights, for the tests that call the addon's entries directly.
 */
import { native, type NativeArray, type NativeModelSpec, type NativePackedModel } from '../../lib/native';
import { seededRandom } from './seeded';

/** A typed array of `spec`'s dtype, zeros, or uniform in [-1, 1) from `seed`. */
export function nativeArray(dtype: NativeModelSpec['dtype'], length: number, seed?: number): NativeArray {
  const out = dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
  if (seed !== undefined) {
    const next = seededRandom(seed);
    for (let i = 0; i < length; i++) out[i] = next() * 2 - 1;
  }
  return out;
}

/** A PackedModel for `s` with every weight and bias seeded, in PyTorch's parameter order. */
export function nativeModel(s: NativeModelSpec, seed = 1): NativePackedModel {
  const G = (s.mode === 'LSTM' ? 4 : s.mode === 'GRU' ? 3 : 1) * s.hiddenSize;
  const D = s.bidirectional ? 2 : 1;
  const weights: NativeArray[] = [];
  for (let l = 0; l < s.numLayers; l++) {
    for (let d = 0; d < D; d++) {
      const inputSize = l === 0 ? s.inputSize : D * s.hiddenSize;
      weights.push(nativeArray(s.dtype, G * inputSize, seed++), nativeArray(s.dtype, G * s.hiddenSize, seed++),
        nativeArray(s.dtype, G, seed++), nativeArray(s.dtype, G, seed++));
    }
  }
  return new native.PackedModel(s, weights);
}
