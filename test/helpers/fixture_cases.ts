/** The module and cell cases of fixtures/modules.json and cells.json: their shape, and how a test rebuilds
 * one with PyTorch's weights and compares its results with PyTorch's. */
import { GRU, GRUCell, LSTM, LSTMCell, RNN, RNNBase, RNNCell, RNNCellBase, Tensor } from '../../lib';
import { mismatches } from './close';
import { FixtureParam, FixtureTensor, toStateDict, toTensor } from './fixtures';

/** A case of modules.json: nn.RNN, nn.LSTM or nn.GRU with PyTorch's weights, input and results. */
export interface ModuleCase {
  name: string;
  mode: 'RNN' | 'LSTM' | 'GRU';
  options: Record<string, unknown>;
  params: FixtureParam[];
  input: FixtureTensor;
  hx: null | FixtureTensor | [FixtureTensor, FixtureTensor];
  output: FixtureTensor;
  h_n: FixtureTensor;
  c_n?: FixtureTensor;
}

/** A case of cells.json: one step of nn.RNNCell, nn.LSTMCell or nn.GRUCell. */
export interface CellCase {
  name: string;
  mode: 'RNNCell' | 'LSTMCell' | 'GRUCell';
  options: Record<string, unknown>;
  params: FixtureParam[];
  input: FixtureTensor;
  hx: null | FixtureTensor | [FixtureTensor, FixtureTensor];
  h: FixtureTensor;
  c?: FixtureTensor;
}

/** A recorded hx as forward takes it: undefined when absent, `[h, c]` for LSTMs, else one Tensor. */
export function toHidden(hx: ModuleCase['hx']): Tensor | [Tensor, Tensor] | undefined {
  if (hx === null) return undefined;
  return Array.isArray(hx) ? [toTensor(hx[0]), toTensor(hx[1])] : toTensor(hx);
}

/** The case's module with PyTorch's weights, in eval mode (PyTorch recorded it so). Typed as the base, whose
 * forward takes either form of hx. */
export function buildModule(c: ModuleCase): RNNBase {
  const options = c.options as unknown as ConstructorParameters<typeof LSTM>[0];
  const module = c.mode === 'LSTM' ? new LSTM(options) : c.mode === 'GRU' ? new GRU(options) : new RNN(options);
  module.loadStateDict(toStateDict(c.params));
  return module.eval();
}

/** The case's cell with PyTorch's weights, in eval mode; typed as the base, as {@link buildModule}. */
export function buildCell(c: CellCase): RNNCellBase<Tensor | [Tensor, Tensor]> {
  const options = c.options as unknown as ConstructorParameters<typeof RNNCell>[0];
  const cell = c.mode === 'LSTMCell' ? new LSTMCell(options) : c.mode === 'GRUCell' ? new GRUCell(options) : new RNNCell(options);
  cell.loadStateDict(toStateDict(c.params));
  return cell.eval();
}

/** Where a module's output, h_n (and c_n) differ from PyTorch's; empty when they agree. */
export function moduleMismatches(c: ModuleCase, output: Tensor, state: Tensor | [Tensor, Tensor]): string[] {
  const [h, cState] = Array.isArray(state) ? state : [state, undefined];
  const pairs: [Tensor, Tensor, string][] = [
    [output, toTensor(c.output), 'output'],
    [h, toTensor(c.h_n), 'h_n'],
  ];
  if (c.c_n) pairs.push([cState as Tensor, toTensor(c.c_n), 'c_n']);
  return mismatches(pairs);
}

/** Where a cell's h (and c) differ from PyTorch's; empty when they agree. */
export function cellMismatches(c: CellCase, state: Tensor | [Tensor, Tensor]): string[] {
  const [h, cState] = Array.isArray(state) ? state : [state, undefined];
  const pairs: [Tensor, Tensor, string][] = [[h, toTensor(c.h), 'h']];
  if (c.c) pairs.push([cState as Tensor, toTensor(c.c), 'c']);
  return mismatches(pairs);
}
