/**
 * The constructor arguments of RNN, LSTM and GRU: their types, the positional forms PyTorch users write,
 * and the checks PyTorch's `RNNBase.__init__` makes, in its order and words.
 *
 * @packageDocumentation
 */
import { describe, isInteger, isNonNegativeInteger, isNumber, isPlainObject } from '../is';
import { checkBoolean, checkOptionNames } from '../options';
import { isFloatDType, type FloatDType } from '../tensor';
import { warnOnce } from '../warnings';

/** Options every recurrent module takes: PyTorch's `RNNBase` arguments, camelCased. */
export interface RNNBaseOptions {
  /** Features per input step (PyTorch's `input_size`). */
  inputSize: number;
  /** Features of the hidden state (PyTorch's `hidden_size`). */
  hiddenSize: number;
  /** Stacked layers. Default 1. */
  numLayers?: number;
  /** Whether the layers have `bias_ih` and `bias_hh`. Default true. */
  bias?: boolean;
  /** Input and output as `(batch, seq, feature)`; hidden states are never batch-first. Default false. */
  batchFirst?: boolean;
  /** Dropout probability on every layer's output but the last's, in training mode. Default 0. */
  dropout?: number;
  /** Whether each layer also runs over the reversed sequence. Default false. */
  bidirectional?: boolean;
  /** Element type of parameters, inputs and outputs. Default `'float32'`. */
  dtype?: FloatDType;
}

/** `nn.LSTM`'s options. */
export interface LSTMOptions extends RNNBaseOptions {
  /** Size of the projected hidden state `h` (0 for no projection). Default 0. */
  projSize?: number;
}

/** The activation of an Elman RNN. */
export type Nonlinearity = 'tanh' | 'relu';

/** `nn.RNN`'s options. */
export interface RNNOptions extends RNNBaseOptions {
  /** `'tanh'` (default) or `'relu'`. */
  nonlinearity?: Nonlinearity;
}

/** `nn.GRU`'s options. */
export type GRUOptions = RNNBaseOptions;

/** The options that may follow `(inputSize, hiddenSize)` given positionally. */
export type OptionsAfterSizes<O extends RNNBaseOptions> = Omit<O, 'inputSize' | 'hiddenSize'>;

/** The options that may follow `(inputSize, hiddenSize, numLayers)` given positionally. */
export type OptionsAfterLayers<O extends RNNBaseOptions> = Omit<O, 'inputSize' | 'hiddenSize' | 'numLayers'>;

/** The arguments a constructor accepts: an options object, or sizes first as PyTorch users write them. */
export type ConstructorArgs<O extends RNNBaseOptions> =
  | [options: O]
  | [inputSize: number, hiddenSize: number, options?: OptionsAfterSizes<O>]
  | [inputSize: number, hiddenSize: number, numLayers: number, options?: OptionsAfterLayers<O>];

/** Option names of each module, in PyTorch's argument order. */
export const BASE_OPTION_NAMES = [
  'inputSize',
  'hiddenSize',
  'numLayers',
  'bias',
  'batchFirst',
  'dropout',
  'bidirectional',
  'dtype',
] as const;

/** A module's configuration after every check: what PyTorch stores as attributes. */
export interface RNNConfig {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bias: boolean;
  batchFirst: boolean;
  dropout: number;
  bidirectional: boolean;
  projSize: number;
  dtype: FloatDType;
}

const POSITIONAL_NAMES = ['inputSize', 'hiddenSize', 'numLayers'] as const;

/** Constructor arguments split into the leading sizes, given positionally, and the options object. */
export interface SplitArguments {
  positional: unknown[];
  options: unknown;
}

/**
 * Splits `(inputSize, hiddenSize, ...more sizes, options?)` or `(options)`: sizes beyond the first two
 * are taken while they are not objects, up to `positionalNames`.
 */
export function splitArguments(owner: string, args: readonly unknown[], positionalNames: readonly string[]): SplitArguments {
  if (args.length === 1) return { positional: [], options: args[0] };
  if (args.length > positionalNames.length + 1) {
    throw new TypeError(
      `${owner}() takes at most ${positionalNames.length + 1} arguments (${[...positionalNames, 'options'].join(', ')}) ` +
        `but ${args.length} were given`,
    );
  }
  const positional = args.slice(0, 2);
  const rest = args.slice(2);
  while (positional.length < positionalNames.length && rest.length > 0 && !isPlainObject(rest[0])) positional.push(rest.shift());
  if (rest.length > 1) throw new TypeError(`${owner}() options must be the last argument, got: ${describe(rest[0])}`);
  return { positional, options: rest[0] ?? {} };
}

/**
 * Merges split arguments into one options record (the positional values under `positionalNames`), and
 * rejects unknown, repeated and missing names. Options given as `undefined` count as not given.
 */
export function mergeArguments(
  owner: string,
  { positional, options }: SplitArguments,
  known: readonly string[],
  positionalNames: readonly string[],
): Record<string, unknown> {
  checkOptionNames(owner, options, known);
  const merged: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) if (value !== undefined) merged[name] = value;
  positional.forEach((value, i) => {
    const name = positionalNames[i];
    if (merged[name] !== undefined) throw new TypeError(`${owner}() got multiple values for argument '${name}'`);
    if (value !== undefined) merged[name] = value;
  });
  for (const name of ['inputSize', 'hiddenSize']) {
    if (merged[name] === undefined) throw new TypeError(`${owner}() missing required argument: '${name}'`);
  }
  return merged;
}

/**
 * Merges the positional and object forms into one options record, and rejects unknown or repeated names.
 * For RNN and GRU, a `projSize` (or `proj_size`) is PyTorch's first error.
 */
export function collectOptions(owner: string, args: readonly unknown[], known: readonly string[]): Record<string, unknown> {
  const split = splitArguments(owner, args, POSITIONAL_NAMES);
  const { options } = split;
  if (!known.includes('projSize') && isPlainObject(options) && ('projSize' in options || 'proj_size' in options)) {
    throw new Error('proj_size argument is only supported for LSTM, not RNN or GRU');
  }
  return mergeArguments(owner, split, known, POSITIONAL_NAMES);
}

const DROPOUT_MESSAGE =
  'dropout should be a number in range [0, 1] representing the probability of an element being zeroed';

/** Throws PyTorch's error unless `dropout` is a number in [0, 1]. */
export function checkDropout(dropout: unknown): asserts dropout is number {
  if (!isNumber(dropout) || !(dropout >= 0 && dropout <= 1)) throw new Error(DROPOUT_MESSAGE);
}

/** Throws unless `dtype` is one this library supports. */
export function checkDTypeOption(dtype: unknown): asserts dtype is FloatDType {
  if (!isFloatDType(dtype)) throw new TypeError(`dtype should be 'float32' or 'float64', got: ${describe(dtype)}`);
}

/**
 * Applies the defaults and checks every option in PyTorch's order and words (its ValueErrors are Errors,
 * its TypeErrors TypeErrors); then the checks PyTorch leaves to later failures: input_size, the booleans,
 * dtype. Warns, as PyTorch does, when dropout cannot apply because there is one layer.
 */
export function resolveConfig(options: Record<string, unknown>): RNNConfig {
  const {
    inputSize,
    hiddenSize,
    numLayers = 1,
    bias = true,
    batchFirst = false,
    dropout = 0,
    bidirectional = false,
    projSize = 0,
    dtype = 'float32',
  } = options;
  checkDropout(dropout);
  if (dropout > 0 && numLayers === 1) {
    warnOnce(
      'dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects ' +
        `num_layers greater than 1, but got dropout=${dropout} and num_layers=${numLayers}`,
    );
  }
  if (!isInteger(hiddenSize)) throw new TypeError(`hidden_size should be of type int, got: ${describe(hiddenSize)}`);
  if (hiddenSize <= 0) throw new Error('hidden_size must be greater than zero');
  if (!isInteger(numLayers)) throw new TypeError(`num_layers should be of type int, got: ${describe(numLayers)}`);
  if (numLayers <= 0) throw new Error('num_layers must be greater than zero');
  if (!isNonNegativeInteger(projSize)) {
    throw new Error('proj_size should be a positive integer or zero to disable projections');
  }
  if (projSize >= hiddenSize) throw new Error('proj_size has to be smaller than hidden_size');
  if (!isNonNegativeInteger(inputSize)) {
    throw new TypeError(`input_size should be a non-negative integer, got: ${describe(inputSize)}`);
  }
  checkBoolean('bias', bias);
  checkBoolean('batch_first', batchFirst);
  checkBoolean('bidirectional', bidirectional);
  checkDTypeOption(dtype);
  return { inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, projSize, dtype };
}
