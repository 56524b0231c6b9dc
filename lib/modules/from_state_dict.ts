/**
 * Reading a recurrent module's or a cell's configuration from its state dict alone — sizes, layers,
 * directions, bias and projection from the keys and shapes — so that `LSTM.fromStateDict(sd)` needs no
 * constructor arguments. Every inconsistency is reported by the key that is wrong.
 *
 * @packageDocumentation
 */
import { describe } from '../is';
import type { NativeMode } from '../native';
import { checkOptionNames } from '../options';
import { Tensor, type FloatDType } from '../tensor';
import { stateDictEntries, type StateDict } from './module';
import { checkDTypeOption, type Nonlinearity } from './rnn_options';
import { gateSize, parameterSpecs, type ParameterSpec } from './rnn_parameters';
import { entriesUnderPrefix, normalisePrefix, topLevelPrefixes } from './state_dict_prefix';

/** Options of `LSTM.fromStateDict` and `GRU.fromStateDict`: what the weights cannot say. */
export interface FromStateDictOptions {
  /** Where the layer's keys sit in a larger model's state dict, e.g. `'encoder.rnn.'`. Default `''`. */
  prefix?: string;
  /** Input and output as `(batch, seq, feature)`. Default false. */
  batchFirst?: boolean;
  /** The module's dtype. Default: the dtype of the state dict's `weight_ih_l0`. */
  dtype?: FloatDType;
}

/** Options of `RNN.fromStateDict`: the nonlinearity is not in the weights either. */
export interface RNNFromStateDictOptions extends FromStateDictOptions {
  /** `'tanh'` (default) or `'relu'`. */
  nonlinearity?: Nonlinearity;
}

/** Options of `LSTMCell.fromStateDict` and `GRUCell.fromStateDict`. */
export interface CellFromStateDictOptions {
  /** Where the cell's keys sit in a larger model's state dict, e.g. `'decoder.cell.'`. Default `''`. */
  prefix?: string;
  /** The cell's dtype. Default: the dtype of the state dict's `weight_ih`. */
  dtype?: FloatDType;
}

/** Options of `RNNCell.fromStateDict`. */
export interface RNNCellFromStateDictOptions extends CellFromStateDictOptions {
  /** `'tanh'` (default) or `'relu'`. */
  nonlinearity?: Nonlinearity;
}

/** The constructor options a recurrent module's state dict implies. */
export interface InferredRecurrentOptions {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bias: boolean;
  bidirectional: boolean;
  /** LSTM only (0 without projection); absent for RNN and GRU, whose constructors refuse the option. */
  projSize?: number;
  dtype: FloatDType;
}

/** The constructor options a cell's state dict implies. */
export interface InferredCellOptions {
  inputSize: number;
  hiddenSize: number;
  bias: boolean;
  dtype: FloatDType;
}

/** What inference gives: the configuration, and the entries under the prefix keyed by parameter name. */
export interface Inferred<C> {
  config: C;
  parameters: Map<string, Tensor>;
}

const RECURRENT_KEY = /^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?$/;
const CELL_KEYS = ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'];

const GATE_NAMES: Record<NativeMode, string> = { LSTM: 'i, f, g, o', GRU: 'r, z, n', RNN_TANH: 'h', RNN_RELU: 'h' };
const MODE_BY_GATES: Record<number, string> = { 1: 'RNN', 3: 'GRU', 4: 'LSTM' };

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function quoted(keys: Iterable<string>): string {
  return [...keys].map((k) => `"${k}"`).join(', ');
}

function gateCount(mode: NativeMode): number {
  return gateSize(mode, 1);
}

function gatesText(count: number): string {
  return count === 1 ? '1 gate' : `${count} gates`;
}

/**
 * The entries under the prefix, every value a Tensor; throws when there are none, naming what the state
 * dict does hold, or when a value is not a Tensor.
 */
export function selectEntries(owner: string, sd: StateDict, prefix: string): Map<string, Tensor> {
  const all = stateDictEntries(sd);
  const selected = entriesUnderPrefix(all, prefix);
  if (selected.size === 0) {
    if (all.size === 0) throw new Error(`${owner}: the state dict is empty`);
    throw new Error(
      `${owner}: no key starts with '${prefix}'; the state dict's keys start with ${topLevelPrefixes(all.keys())
        .map((p) => `'${p}'`)
        .join(', ')}`,
    );
  }
  for (const [name, value] of selected) {
    if (!(value instanceof Tensor)) throw new TypeError(`${owner}: ${prefix}${name} is ${describe(value)}, not a Tensor`);
  }
  return selected as Map<string, Tensor>;
}

/** Where a recurrent layer's keys are in a whole model's state dict: the prefixes of its `weight_ih_l0`s. */
function recurrentPrefixes(keys: Iterable<string>, prefix: string): string[] {
  return [...keys].filter((k) => k.endsWith('weight_ih_l0')).map((k) => prefix + k.slice(0, -'weight_ih_l0'.length));
}

/** Throws for keys no parameter of this kind of module has, suggesting a prefix when they look like a whole model's. */
function checkKnownKeys(owner: string, entries: Map<string, Tensor>, prefix: string, known: (name: string) => boolean): void {
  const strange = [...entries.keys()].filter((k) => !known(k));
  if (strange.length === 0) return;
  const candidates = recurrentPrefixes(entries.keys(), prefix).filter((p) => p !== prefix);
  const hint =
    candidates.length > 0
      ? `; pick the recurrent layer with the prefix option, e.g. { prefix: '${candidates[0]}' }`
      : '';
  throw new Error(`${owner}: unexpected key(s) under prefix '${prefix}': ${quoted(strange.map((k) => prefix + k))}${hint}`);
}

/**
 * Checks `entries` against the parameters the inferred configuration has, in registration order: the
 * first missing key or wrong shape throws, with `explainMissing` and `implication` saying why that key or
 * shape was expected; then any key the configuration has no parameter for throws.
 */
function checkAgainstSpecs(
  owner: string,
  prefix: string,
  entries: Map<string, Tensor>,
  specs: ParameterSpec[],
  explainMissing: (name: string) => string,
  implication: (name: string) => string,
  explainUnexpected: (name: string) => string,
): void {
  for (const { name, shape } of specs) {
    const value = entries.get(name);
    if (value === undefined) throw new Error(`${owner}: ${prefix}${name} is missing, but ${explainMissing(name)}`);
    if (shapeText(value.shape) !== shapeText(shape)) {
      throw new Error(
        `${owner}: ${prefix}${name} has shape ${shapeText(value.shape)} but ${implication(name)}: expected ${shapeText(shape)}`,
      );
    }
  }
  const expected = new Set(specs.map((s) => s.name));
  const leftover = [...entries.keys()].filter((k) => !expected.has(k));
  if (leftover.length > 0) {
    throw new Error(`${owner}: unexpected key(s) ${quoted(leftover.map((k) => prefix + k))}: ${explainUnexpected(leftover[0])}`);
  }
}

/** The hidden size `weight_ih`'s rows imply, or a message saying the gates do not divide them. */
function hiddenSizeFromRows(owner: string, className: string, mode: NativeMode, key: string, weightIh: Tensor): number {
  if (weightIh.dim() !== 2) {
    throw new Error(
      `${owner}: ${key} has shape ${shapeText(weightIh.shape)} but a weight_ih is 2-D: (gates * hidden_size, input_size)`,
    );
  }
  const gates = gateCount(mode);
  const rows = weightIh.shape[0];
  if (rows % gates !== 0) {
    throw new Error(
      `${owner}: ${key} has ${rows} rows, not a multiple of the ${gatesText(gates)} of ${className} (${GATE_NAMES[mode]}): ` +
        'are these the weights of another kind of module? (RNN has 1 gate, GRU 3, LSTM 4)',
    );
  }
  return rows / gates;
}

/** ` (the shape of GRU weights: use GRU.fromStateDict)` when a square-ish weight_hh fits another mode better. */
function modeHint(mode: NativeMode, weightHh: Tensor | undefined, suffix: string): string {
  if (weightHh === undefined || weightHh.dim() !== 2 || weightHh.shape[1] === 0) return '';
  const ratio = weightHh.shape[0] / weightHh.shape[1];
  const other = MODE_BY_GATES[ratio];
  if (other === undefined || ratio === gateCount(mode)) return '';
  return ` (the shape of ${other} weights: use ${other}${suffix}.fromStateDict)`;
}

/** Checks a `fromStateDict`'s option names and its `dtype`, if given. */
export function checkCommonOptions(
  owner: string,
  options: unknown,
  known: readonly string[],
): asserts options is Record<string, unknown> {
  checkOptionNames(owner, options, known);
  if (options.dtype !== undefined) checkDTypeOption(options.dtype);
}

/** Where a `fromStateDict` reads from: the state dict's entries under its prefix, keyed without it. */
export interface StateDictSelection {
  /** `'LSTM.fromStateDict'` and the like, to begin error messages with. */
  owner: string;
  /** The prefix, with its trailing dot. */
  prefix: string;
  entries: Map<string, Tensor>;
}

/** The entries a `fromStateDict` reads, once {@link checkCommonOptions} has checked its options. */
export function selection(className: string, sd: StateDict, options: { prefix?: unknown }): StateDictSelection {
  const owner = `${className}.fromStateDict`;
  const prefix = normalisePrefix(options.prefix);
  return { owner, prefix, entries: selectEntries(owner, sd, prefix) };
}

/** The 2-D `weight` of a Linear or Embedding, or an error naming the key and the shape it must have. */
export function matrixWeight({ owner, prefix, entries }: StateDictSelection, article: string, layout: string): Tensor {
  const weight = entries.get('weight');
  if (weight === undefined) throw new Error(`${owner}: ${prefix}weight is missing, so the sizes cannot be inferred`);
  if (weight.dim() !== 2) {
    throw new Error(`${owner}: ${prefix}weight has shape [${weight.shape.join(', ')}] but ${article} weight is 2-D: ${layout}`);
  }
  return weight;
}

/**
 * Infers RNN, LSTM or GRU constructor options from a state dict (under `options.prefix`): `inputSize` and
 * `hiddenSize` from `weight_ih_l0` (gates × hidden, input), `numLayers` from the layer indices,
 * `bidirectional` from `_reverse` keys, `bias` from `bias_*` keys, `projSize` from `weight_hr_l0`; then
 * checks that every key the configuration implies is there with its shape, and nothing else.
 *
 * @param known the option names the caller accepts, for the unknown-option check
 */
export function inferRecurrent(
  className: string,
  mode: NativeMode,
  sd: StateDict,
  options: unknown,
  known: readonly string[],
): Inferred<InferredRecurrentOptions> {
  checkCommonOptions(`${className}.fromStateDict`, options, known);
  const { owner, prefix, entries } = selection(className, sd, options);
  checkKnownKeys(owner, entries, prefix, (k) => RECURRENT_KEY.test(k));

  const key = (name: string): string => prefix + name;
  const weightIh = entries.get('weight_ih_l0');
  if (weightIh === undefined) {
    throw new Error(`${owner}: ${key('weight_ih_l0')} is missing, so the sizes of the first layer cannot be inferred`);
  }
  const hiddenSize = hiddenSizeFromRows(owner, className, mode, key('weight_ih_l0'), weightIh);
  const projection = mode === 'LSTM' ? entries.get('weight_hr_l0') : undefined;
  const projSize = projection !== undefined && projection.dim() >= 1 ? projection.shape[0] : 0;
  const bidirectional = entries.has('weight_ih_l0_reverse');
  const firstBias = ['bias_ih_l0', 'bias_hh_l0'].find((k) => entries.has(k));
  const bias = firstBias !== undefined;

  // Layers are numbered from 0 without gaps; the highest index any key names sets their number.
  const layerOf = (k: string): number => Number(RECURRENT_KEY.exec(k)?.[2]);
  const layerKeys = [...entries.keys()];
  const top = layerKeys.reduce((m, k) => (layerOf(k) > layerOf(m) ? k : m), layerKeys[0]);
  const numLayers = layerOf(top) + 1;
  for (let layer = 1; layer < numLayers; layer++) {
    if (!entries.has(`weight_ih_l${layer}`)) {
      throw new Error(
        `${owner}: ${key(`weight_ih_l${layer}`)} is missing but ${key(top)} exists: layer ${layer} is a gap in layers 0 to ${numLayers - 1}`,
      );
    }
  }

  const dtype = (options.dtype as FloatDType | undefined) ?? weightIh.dtype;
  const sizes = { inputSize: weightIh.shape[1], hiddenSize, numLayers, bias, bidirectional, dtype };
  const config: InferredRecurrentOptions = mode === 'LSTM' ? { ...sizes, projSize } : sizes;
  const gates = gateCount(mode);
  const why = `${key('weight_ih_l0')} implies hidden_size ${hiddenSize} with ${gatesText(gates)}`;
  checkAgainstSpecs(
    owner,
    prefix,
    entries,
    parameterSpecs(mode, { ...sizes, projSize, batchFirst: false, dropout: 0 }),
    (name) => {
      if (name.endsWith('_reverse')) return `${key('weight_ih_l0_reverse')} exists, so the ${className} is bidirectional`;
      if (name.startsWith('bias_')) return `${key(firstBias as string)} exists, so the ${className} has biases`;
      if (name.startsWith('weight_hr')) return `${key('weight_hr_l0')} exists, so the LSTM has a projection`;
      return `every layer of ${className} has weight_ih and weight_hh`;
    },
    (name) => {
      const parts = [why];
      if (projSize > 0) parts.push(`${key('weight_hr_l0')} proj_size ${projSize}`);
      if (bidirectional && /^weight_ih_l[1-9]/.test(name)) parts.push('2 directions');
      const hint = name === 'weight_hh_l0' && projSize === 0 ? modeHint(mode, entries.get(name), '') : '';
      return parts.join(', ') + hint;
    },
    (name) => {
      if (name.startsWith('weight_hr')) {
        return mode === 'LSTM'
          ? `${key('weight_hr_l0')} is missing, so the LSTM has no projection`
          : `projections (weight_hr) exist only in LSTM, not ${className}`;
      }
      if (name.endsWith('_reverse') && !bidirectional) return `${key('weight_ih_l0_reverse')} is missing, so the ${className} is not bidirectional`;
      if (name.startsWith('bias_') && !bias) return `${key('bias_ih_l0')} and ${key('bias_hh_l0')} are missing, so the ${className} has no biases`;
      return `${className} with this configuration has no such parameter`;
    },
  );
  return { config, parameters: entries };
}

/**
 * Infers RNNCell, LSTMCell or GRUCell constructor options from a state dict (under `options.prefix`):
 * `inputSize` and `hiddenSize` from `weight_ih` (gates × hidden, input), `bias` from `bias_*`; then checks
 * every key and shape.
 */
export function inferCell(
  className: string,
  mode: NativeMode,
  sd: StateDict,
  options: unknown,
  known: readonly string[],
): Inferred<InferredCellOptions> {
  checkCommonOptions(`${className}.fromStateDict`, options, known);
  const { owner, prefix, entries } = selection(className, sd, options);
  checkKnownKeys(owner, entries, prefix, (k) => CELL_KEYS.includes(k));

  const key = (name: string): string => prefix + name;
  const weightIh = entries.get('weight_ih');
  if (weightIh === undefined) throw new Error(`${owner}: ${key('weight_ih')} is missing, so the cell's sizes cannot be inferred`);
  const hiddenSize = hiddenSizeFromRows(owner, className, mode, key('weight_ih'), weightIh);
  const firstBias = ['bias_ih', 'bias_hh'].find((k) => entries.has(k));
  const bias = firstBias !== undefined;
  const dtype = (options.dtype as FloatDType | undefined) ?? weightIh.dtype;
  const gates = gateSize(mode, hiddenSize);
  const specs: ParameterSpec[] = [
    { name: 'weight_ih', shape: [gates, weightIh.shape[1]] },
    { name: 'weight_hh', shape: [gates, hiddenSize] },
  ];
  if (bias) specs.push({ name: 'bias_ih', shape: [gates] }, { name: 'bias_hh', shape: [gates] });
  checkAgainstSpecs(
    owner,
    prefix,
    entries,
    specs,
    (name) => (name.startsWith('bias_') ? `${key(firstBias as string)} exists, so the ${className} has biases` : `every ${className} has one`),
    (name) =>
      `${key('weight_ih')} implies hidden_size ${hiddenSize} with ${gatesText(gateCount(mode))}` +
      (name === 'weight_hh' ? modeHint(mode, entries.get(name), 'Cell') : ''),
    () => `${className} has no such parameter`,
  );
  return { config: { inputSize: weightIh.shape[1], hiddenSize, bias, dtype }, parameters: entries };
}
