/**
 * nn.RNN, nn.LSTM and nn.GRU against real PyTorch: every configuration in fixtures/modules.json (written
 * by fixtures/generate.py) is rebuilt here with PyTorch's weights and must give PyTorch's output, h_n and c_n.
 */
import { loadCases, toTensor } from './helpers/fixtures';
import { ModuleCase, buildModule, moduleMismatches, toHidden } from './helpers/fixture_cases';

const cases = loadCases<ModuleCase>('modules.json');

describe('modules match PyTorch', () => {
  it('has the configurations the generator promises', () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
    for (const mode of ['RNN', 'LSTM', 'GRU']) expect(cases.some((c) => c.mode === mode)).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const module = buildModule(c);
    const [output, state] = module.forward(toTensor(c.input), toHidden(c.hx));
    expect(moduleMismatches(c, output, state)).toEqual([]);
  });
});
