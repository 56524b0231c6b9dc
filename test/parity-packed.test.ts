/**
 * Packed sequences against real PyTorch: for every case in fixtures/packed.json, packPaddedSequence must
 * give PyTorch's packed data, batch sizes and indices; the module run on it PyTorch's packed output, h_n and
 * c_n (in the caller's order); and padPackedSequence PyTorch's padded output and lengths.
 */
import { GRU, LSTM, PackedSequence, RNN, Tensor, packPaddedSequence, padPackedSequence } from '../lib';
import { mismatches } from './helpers/close';
import { FixtureParam, FixtureTensor, loadCases, toStateDict, toTensor } from './helpers/fixtures';

interface FixturePacked {
  data: FixtureTensor;
  batchSizes: number[];
  sortedIndices: number[] | null;
  unsortedIndices: number[] | null;
}

interface PackedCase {
  name: string;
  mode: 'RNN' | 'LSTM' | 'GRU';
  options: Record<string, unknown>;
  params: FixtureParam[];
  padded: FixtureTensor;
  lengths: number[];
  enforceSorted: boolean;
  hx: null | FixtureTensor | [FixtureTensor, FixtureTensor];
  packed: FixturePacked;
  outputPacked: FixturePacked;
  outputPadded: FixtureTensor;
  outputLengths: number[];
  h_n: FixtureTensor;
  c_n?: FixtureTensor;
}

const cases = loadCases<PackedCase>('packed.json');

function build(c: PackedCase): RNN | LSTM | GRU {
  const options = c.options as unknown as ConstructorParameters<typeof LSTM>[0];
  const module = c.mode === 'LSTM' ? new LSTM(options) : c.mode === 'GRU' ? new GRU(options) : new RNN(options);
  module.loadStateDict(toStateDict(c.params));
  return module.eval();
}

function listOrNull(indices: Int32Array | null): number[] | null {
  return indices === null ? null : Array.from(indices);
}

/** The integer parts of a PackedSequence exactly, and its data within tolerance. */
function comparePacked(actual: PackedSequence, expected: FixturePacked, what: string): string[] {
  const problems = mismatches([[actual.data, toTensor(expected.data), `${what}.data`]]);
  const ints: [string, unknown, unknown][] = [
    ['batchSizes', Array.from(actual.batchSizes), expected.batchSizes],
    ['sortedIndices', listOrNull(actual.sortedIndices), expected.sortedIndices],
    ['unsortedIndices', listOrNull(actual.unsortedIndices), expected.unsortedIndices],
  ];
  for (const [name, a, e] of ints) {
    if (JSON.stringify(a) !== JSON.stringify(e)) problems.push(`${what}.${name}: ${JSON.stringify(a)} but PyTorch gave ${JSON.stringify(e)}`);
  }
  return problems;
}

describe('packed sequences match PyTorch', () => {
  it('has the cases the generator promises', () => {
    expect(cases.length).toBe(84);
    for (const mode of ['RNN', 'LSTM', 'GRU']) expect(cases.some((c) => c.mode === mode)).toBe(true);
    expect(cases.some((c) => c.enforceSorted)).toBe(true);
    expect(cases.some((c) => !c.enforceSorted && c.lengths.length > 1)).toBe(true);
    expect(cases.some((c) => c.hx !== null && !c.enforceSorted && c.lengths.length > 1)).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const batchFirst = c.options.batchFirst as boolean;
    const packed = packPaddedSequence(toTensor(c.padded), c.lengths, { batchFirst, enforceSorted: c.enforceSorted });
    const problems = comparePacked(packed, c.packed, 'packed');

    const module = build(c);
    let output: PackedSequence;
    const states: [Tensor, Tensor, string][] = [];
    if (module instanceof LSTM) {
      const hx = c.hx === null ? undefined : ((c.hx as FixtureTensor[]).map(toTensor) as [Tensor, Tensor]);
      const [out, [h, cState]] = module.forward(packed, hx);
      output = out;
      states.push([h, toTensor(c.h_n), 'h_n'], [cState, toTensor(c.c_n as FixtureTensor), 'c_n']);
    } else {
      const hx = c.hx === null ? undefined : toTensor(c.hx as FixtureTensor);
      const [out, h] = module.forward(packed, hx);
      output = out;
      states.push([h, toTensor(c.h_n), 'h_n']);
    }
    expect(output).toBeInstanceOf(PackedSequence);
    problems.push(...comparePacked(output, c.outputPacked, 'outputPacked'), ...mismatches(states));

    const [padded, lengths] = padPackedSequence(output, { batchFirst });
    problems.push(...mismatches([[padded, toTensor(c.outputPadded), 'outputPadded']]));
    if (JSON.stringify(Array.from(lengths)) !== JSON.stringify(c.outputLengths)) {
      problems.push(`outputLengths: ${JSON.stringify(Array.from(lengths))} but PyTorch gave ${JSON.stringify(c.outputLengths)}`);
    }
    expect(problems).toEqual([]);
  });
});
