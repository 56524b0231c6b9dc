/**
 * The parameters of a recurrent stack: PyTorch's names, order and shapes.
 *
 * @packageDocumentation
 */
import type { NativeMode } from '../native';
import { checkParameterBudget, type ParameterGroup } from './parameter_budget';
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
 * The parameters of a stack grouped by shape, without listing them: layer 0's, then those of every layer
 * above it, which all share one shape. What {@link checkParameterBudget} needs before anything is listed.
 */
function parameterGroups(mode: NativeMode, config: RNNConfig): ParameterGroup[] {
  const gates = gateSize(mode, config.hiddenSize);
  const hout = outputHiddenSize(config);
  const directions = numDirections(config);
  const groups: ParameterGroup[] = [];
  const layers: [number, number, number][] = [[0, config.inputSize, directions], [1, directions * hout, directions * (config.numLayers - 1)]];
  for (const [layer, layerInput, count] of layers) {
    groups.push({ name: `weight_ih_l${layer}`, shape: [gates, layerInput], count });
    groups.push({ name: `weight_hh_l${layer}`, shape: [gates, hout], count });
    if (config.bias) groups.push({ name: `bias_ih_l${layer}`, shape: [gates], count: 2 * count });
    if (config.projSize > 0) groups.push({ name: `weight_hr_l${layer}`, shape: [config.projSize, config.hiddenSize], count });
  }
  return groups;
}

/** `LSTM(inputSize=4, hiddenSize=8, numLayers=2147483647)`: the sizes that decide what a stack allocates. */
function describeSizes(mode: NativeMode, config: RNNConfig): string {
  const name = mode === 'LSTM' || mode === 'GRU' ? mode : 'RNN';
  const sizes = [`inputSize=${config.inputSize}`, `hiddenSize=${config.hiddenSize}`, `numLayers=${config.numLayers}`];
  if (config.projSize > 0) sizes.push(`projSize=${config.projSize}`);
  if (config.bidirectional) sizes.push('bidirectional=true');
  return `${name}(${sizes.join(', ')})`;
}

/**
 * Every parameter in PyTorch's registration (`named_parameters()`) order: per layer, the forward direction
 * then `_reverse`; per direction `weight_ih`, `weight_hh`, then `bias_ih`, `bias_hh` with bias, then
 * `weight_hr` with a projection.
 */
export function parameterSpecs(mode: NativeMode, config: RNNConfig): ParameterSpec[] {
  // Checked before listing: a huge numLayers would exhaust the heap in this list alone.
  checkParameterBudget(describeSizes(mode, config), parameterGroups(mode, config), config.dtype, `num_layers=${config.numLayers}`);
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
