/**
 * The constructor arguments of RNNCell, LSTMCell and GRUCell.
 *
 * PyTorch's cells check nothing at construction; these checks only keep values the engine cannot take
 * (fractional or negative sizes, non-boolean bias, unknown dtypes) out of it, with clear messages.
 *
 * @packageDocumentation
 */
import { describe, isNonNegativeInteger } from '../is';
import type { FloatDType } from '../tensor';
import { checkBoolean } from '../options';
import { checkDTypeOption, mergeArguments, splitArguments, type Nonlinearity } from './rnn_options';

/** Options every cell takes: PyTorch's `RNNCellBase` arguments, camelCased. */
export interface RNNCellBaseOptions {
  /** Features of the input (PyTorch's `input_size`). */
  inputSize: number;
  /** Features of the hidden state (PyTorch's `hidden_size`); 0 is allowed. */
  hiddenSize: number;
  /** Whether the cell has `bias_ih` and `bias_hh`. Default true. */
  bias?: boolean;
  /** Element type of parameters, inputs and outputs. Default `'float32'`. */
  dtype?: FloatDType;
}

/** `nn.RNNCell`'s options. */
export interface RNNCellOptions extends RNNCellBaseOptions {
  /** `'tanh'` (default) or `'relu'`; anything else fails in forward, as in PyTorch. */
  nonlinearity?: Nonlinearity;
}

/** `nn.LSTMCell`'s options. */
export type LSTMCellOptions = RNNCellBaseOptions;

/** `nn.GRUCell`'s options. */
export type GRUCellOptions = RNNCellBaseOptions;

/** The options that may follow `(inputSize, hiddenSize)` given positionally. */
export type CellOptionsAfterSizes<O extends RNNCellBaseOptions> = Omit<O, 'inputSize' | 'hiddenSize'>;

/** The arguments a cell constructor accepts: an options object, or the sizes first as PyTorch users write them. */
export type CellConstructorArgs<O extends RNNCellBaseOptions> =
  | [options: O]
  | [inputSize: number, hiddenSize: number, options?: CellOptionsAfterSizes<O>];

/** Option names of every cell, in PyTorch's argument order. */
export const CELL_OPTION_NAMES = ['inputSize', 'hiddenSize', 'bias', 'dtype'] as const;

const CELL_POSITIONAL_NAMES = ['inputSize', 'hiddenSize'] as const;

/** A cell's configuration after the checks. */
export interface CellConfig {
  inputSize: number;
  hiddenSize: number;
  bias: boolean;
  dtype: FloatDType;
}

/** Merges the positional and object forms into one options record, rejecting unknown or repeated names. */
export function collectCellOptions(owner: string, args: readonly unknown[], known: readonly string[]): Record<string, unknown> {
  return mergeArguments(owner, splitArguments(owner, args, CELL_POSITIONAL_NAMES), known, CELL_POSITIONAL_NAMES);
}

function checkSize(name: string, value: unknown): asserts value is number {
  if (!isNonNegativeInteger(value)) throw new TypeError(`${name} should be a non-negative integer, got: ${describe(value)}`);
}

/** Applies the defaults and checks what the engine needs. */
export function resolveCellConfig(options: Record<string, unknown>): CellConfig {
  const { inputSize, hiddenSize, bias = true, dtype = 'float32' } = options;
  checkSize('input_size', inputSize);
  checkSize('hidden_size', hiddenSize);
  checkBoolean('bias', bias);
  checkDTypeOption(dtype);
  return { inputSize, hiddenSize, bias, dtype };
}
