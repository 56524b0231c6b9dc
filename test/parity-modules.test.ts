/**
 * nn.RNN, nn.LSTM and nn.GRU against real PyTorch: every configuration in fixtures/modules.json (written
 * by fixtures/generate.py) is rebuilt here with PyTorch's weights and must give PyTorch's output, h_n and c_n.
 */
import { GRU, LSTM, RNN, Tensor } from '../lib';
import { FixtureParam, FixtureTensor, loadCases, toStateDict, toTensor } from './helpers/fixtures';
import { mismatches } from './helpers/close';

interface ModuleCase {
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

const cases = loadCases<ModuleCase>('modules.json');

function build(c: ModuleCase): RNN | LSTM | GRU {
  const options = c.options as unknown as ConstructorParameters<typeof LSTM>[0];
  const module = c.mode === 'LSTM' ? new LSTM(options) : c.mode === 'GRU' ? new GRU(options) : new RNN(options);
  module.loadStateDict(toStateDict(c.params));
  return module.eval();
}

describe('modules match PyTorch', () => {
  it('has the configurations the generator promises', () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
    for (const mode of ['RNN', 'LSTM', 'GRU']) expect(cases.some((c) => c.mode === mode)).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const module = build(c);
    const input = toTensor(c.input);
    let got: [Tensor, Tensor, string][];
    if (module instanceof LSTM) {
      const hx = c.hx === null ? undefined : ((c.hx as FixtureTensor[]).map(toTensor) as [Tensor, Tensor]);
      const [output, [h, cState]] = module.forward(input, hx);
      got = [
        [output, toTensor(c.output), 'output'],
        [h, toTensor(c.h_n), 'h_n'],
        [cState, toTensor(c.c_n as FixtureTensor), 'c_n'],
      ];
    } else {
      const hx = c.hx === null ? undefined : toTensor(c.hx as FixtureTensor);
      const [output, h] = module.forward(input, hx);
      got = [
        [output, toTensor(c.output), 'output'],
        [h, toTensor(c.h_n), 'h_n'],
      ];
    }
    expect(mismatches(got)).toEqual([]);
  });
});
