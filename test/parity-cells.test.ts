/**
 * nn.RNNCell, nn.LSTMCell and nn.GRUCell against real PyTorch: every case in fixtures/cells.json (written by
 * fixtures/generate.py) is rebuilt here with PyTorch's weights and must give PyTorch's h (and c).
 */
import { loadCases, toTensor } from './helpers/fixtures';
import { CellCase, buildCell, cellMismatches, toHidden } from './helpers/fixture_cases';

const cases = loadCases<CellCase>('cells.json');

describe('cells match PyTorch', () => {
  it('has the cases the generator promises', () => {
    expect(cases.length).toBe(49);
    for (const mode of ['RNNCell', 'LSTMCell', 'GRUCell']) expect(cases.some((c) => c.mode === mode)).toBe(true);
    // The shapes PyTorch allows and a loop might miss: hidden size 0, empty batch, unbatched input.
    expect(cases.some((c) => c.options.hiddenSize === 0)).toBe(true);
    expect(cases.some((c) => c.input.shape.length === 2 && c.input.shape[0] === 0)).toBe(true);
    expect(cases.some((c) => c.input.shape.length === 1)).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const cell = buildCell(c);
    expect(cellMismatches(c, cell.forward(toTensor(c.input), toHidden(c.hx)))).toEqual([]);
  });
});
