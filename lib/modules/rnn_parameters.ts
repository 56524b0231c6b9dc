/**
 * The parameters of a recurrent stack: PyTorch's names, order and shapes.
 *
 * @packageDocumentation
 */
import type { NativeMode } from '../native';
import type { RNNConfig } from './rnn_options';

/** One parameter's name and shape. */
export interface ParameterSpec {
  name: string;
  shape: number[];
}

/** Rows of `weight_ih`/`weight_hh`: one block of hiddenSize per gate (LSTM i,f,g,o; GRU r,z,n; RNN one). */
export function gateSize(mode: NativeMode, hiddenSize: number): number {
  const gates = mode === 'LSTM' ? 4 : mode === 'GRU' ? 3 : 1;
  return gates * hiddenSize;
}

/** Features of `h`: the projection size when there is one, otherwise the hidden size. */
export function outputHiddenSize(config: Pick<RNNConfig, 'hiddenSize' | 'projSize'>): number {
  return config.projSize > 0 ? config.projSize : config.hiddenSize;
}

/** 2 when bidirectional, else 1. */
export function numDirections(config: Pick<RNNConfig, 'bidirectional'>): number {
  return config.bidirectional ? 2 : 1;
}

/**
 * Every parameter in PyTorch's registration (`named_parameters()`) order: per layer, the forward direction
 * then `_reverse`; per direction `weight_ih`, `weight_hh`, then `bias_ih`, `bias_hh` with bias, then
 * `weight_hr` with a projection.
 */
export function parameterSpecs(mode: NativeMode, config: RNNConfig): ParameterSpec[] {
  const gates = gateSize(mode, config.hiddenSize);
  const hout = outputHiddenSize(config);
  const directions = numDirections(config);
  const specs: ParameterSpec[] = [];
  for (let layer = 0; layer < config.numLayers; layer++) {
    const layerInput = layer === 0 ? config.inputSize : directions * hout;
    for (let direction = 0; direction < directions; direction++) {
      const suffix = `_l${layer}${direction === 1 ? '_reverse' : ''}`;
      specs.push({ name: `weight_ih${suffix}`, shape: [gates, layerInput] });
      specs.push({ name: `weight_hh${suffix}`, shape: [gates, hout] });
      if (config.bias) {
        specs.push({ name: `bias_ih${suffix}`, shape: [gates] });
        specs.push({ name: `bias_hh${suffix}`, shape: [gates] });
      }
      if (config.projSize > 0) specs.push({ name: `weight_hr${suffix}`, shape: [config.projSize, config.hiddenSize] });
    }
  }
  return specs;
}
