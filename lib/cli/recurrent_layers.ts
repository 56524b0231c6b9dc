/**
 * Finding the recurrent layers in a whole model's state dict: every key prefix holding a `weight_ih_l0`
 * (a module) or a `weight_ih` (a cell), with the class and configuration its weights imply.
 *
 * @packageDocumentation
 */
import { inferCell, inferRecurrent, type InferredCellOptions, type InferredRecurrentOptions } from '../modules/from_state_dict';
import type { NativeMode } from '../native';
import type { Tensor } from '../tensor';

/** The classes a recurrent layer may be, with the engine mode each infers with. */
export const MODULE_CLASSES: ReadonlyArray<{ className: 'LSTM' | 'GRU' | 'RNN'; mode: NativeMode }> = [
  { className: 'LSTM', mode: 'LSTM' },
  { className: 'GRU', mode: 'GRU' },
  { className: 'RNN', mode: 'RNN_TANH' },
];

const CELL_CLASSES: ReadonlyArray<{ className: 'LSTMCell' | 'GRUCell' | 'RNNCell'; mode: NativeMode }> = [
  { className: 'LSTMCell', mode: 'LSTM' },
  { className: 'GRUCell', mode: 'GRU' },
  { className: 'RNNCell', mode: 'RNN_TANH' },
];

/** One prefix that holds a recurrent layer's keys, and what its weights are consistent with. */
export interface RecurrentLayer {
  prefix: string;
  kind: 'module' | 'cell';
  /** Each class whose shapes the weights fit, with the configuration inferred; usually exactly one. */
  fits: Array<{ className: string; config: InferredRecurrentOptions | InferredCellOptions }>;
  /** When nothing fits: why not, per class. */
  errors: string[];
}

/** The keys directly under `prefix` (not in a submodule below it), so that a prefix's layer is read alone. */
function directEntries(sd: Record<string, Tensor>, prefix: string): Record<string, Tensor> {
  const direct: Record<string, Tensor> = {};
  for (const [key, value] of Object.entries(sd)) {
    if (key.startsWith(prefix) && !key.slice(prefix.length).includes('.')) direct[key] = value;
  }
  return direct;
}

/**
 * The recurrent layers in `sd` under `within`, in key order. `classNames` limits the classes tried
 * (e.g. only `LSTM` when the user said so).
 */
export function findRecurrentLayers(sd: Record<string, Tensor>, within = '', classNames?: readonly string[]): RecurrentLayer[] {
  const layers: RecurrentLayer[] = [];
  for (const key of Object.keys(sd)) {
    if (!key.startsWith(within)) continue;
    const kind = key.endsWith('weight_ih_l0') ? 'module' : key.endsWith('weight_ih') ? 'cell' : undefined;
    if (kind === undefined) continue;
    const prefix = key.slice(0, key.lastIndexOf('weight_ih'));
    if (prefix !== '' && !prefix.endsWith('.')) continue; // e.g. "my_weight_ih": not a parameter name
    const direct = directEntries(sd, prefix);
    const layer: RecurrentLayer = { prefix, kind, fits: [], errors: [] };
    const candidates = kind === 'module' ? MODULE_CLASSES : CELL_CLASSES;
    for (const { className, mode } of candidates) {
      const allowed = classNames === undefined || classNames.includes(className) || classNames.includes(className.replace('Cell', ''));
      if (!allowed) continue;
      try {
        const infer = kind === 'module' ? inferRecurrent : inferCell;
        const { config } = infer(className, mode, direct, { prefix }, ['prefix']);
        layer.fits.push({ className, config });
      } catch (error) {
        layer.errors.push((error as Error).message);
      }
    }
    layers.push(layer);
  }
  return layers;
}

/** `LSTM(inputSize=6, hiddenSize=8, numLayers=2, ...)`: a configuration as the constructor options that give it. */
export function describeConfig(className: string, config: InferredRecurrentOptions | InferredCellOptions): string {
  const options = Object.entries(config)
    .filter(([name]) => name !== 'dtype')
    .map(([name, value]) => `${name}=${String(value)}`);
  return `${className}(${options.join(', ')}) ${config.dtype}`;
}

/** A constructor option the weights cannot tell, with the value a line must give it unless told otherwise. */
export interface UnreadOption {
  name: string;
  /** The default, as TypeScript source (`false`, `'tanh'`). */
  defaultValue: string;
  /** Whether `fromStateDict` takes it (dropout is set on the module afterwards). */
  fromStateDict: boolean;
  /** Why it matters, in a few words, or '' when the name says it. */
  note: string;
}

/**
 * The options of `className` that no weight shape reveals: how the model was built decides them, so a
 * report must say so rather than assume the defaults.
 */
export function optionsNotInWeights(className: string): UnreadOption[] {
  const options: UnreadOption[] = [];
  const isCell = className.endsWith('Cell');
  if (!isCell) {
    options.push({ name: 'batchFirst', defaultValue: 'false', fromStateDict: true, note: '' });
  }
  if (className === 'RNN' || className === 'RNNCell') {
    options.push({ name: 'nonlinearity', defaultValue: "'tanh'", fromStateDict: true, note: "'relu' fits the same weights" });
  }
  if (!isCell) {
    options.push({ name: 'dropout', defaultValue: '0', fromStateDict: false, note: 'training only; set .dropout' });
  }
  return options;
}
