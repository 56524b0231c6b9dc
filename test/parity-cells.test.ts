/**
 * nn.RNNCell, nn.LSTMCell and nn.GRUCell against real PyTorch: every case in fixtures/cells.json (written by
 * fixtures/generate.py) is rebuilt here with PyTorch's weights and must give PyTorch's h (and c).
 */
import { GRUCell, LSTMCell, RNNCell, Tensor } from '../lib';
import { mismatches } from './helpers/close';
import { FixtureParam, FixtureTensor, loadCases, toStateDict, toTensor } from './helpers/fixtures';

interface CellCase {
  name: string;
  mode: 'RNNCell' | 'LSTMCell' | 'GRUCell';
  options: Record<string, unknown>;
  params: FixtureParam[];
  input: FixtureTensor;
  hx: null | FixtureTensor | [FixtureTensor, FixtureTensor];
  h: FixtureTensor;
  c?: FixtureTensor;
}

const cases = loadCases<CellCase>('cells.json');

function build(c: CellCase): RNNCell | LSTMCell | GRUCell {
  const options = c.options as unknown as ConstructorParameters<typeof RNNCell>[0];
  const cell = c.mode === 'LSTMCell' ? new LSTMCell(options) : c.mode === 'GRUCell' ? new GRUCell(options) : new RNNCell(options);
  cell.loadStateDict(toStateDict(c.params));
  return cell;
}

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
    const cell = build(c);
    const input = toTensor(c.input);
    if (cell instanceof LSTMCell) {
      const hx = c.hx === null ? undefined : ((c.hx as FixtureTensor[]).map(toTensor) as [Tensor, Tensor]);
      const [h, cState] = cell.forward(input, hx);
      expect(
        mismatches([
          [h, toTensor(c.h), 'h'],
          [cState, toTensor(c.c as FixtureTensor), 'c'],
        ]),
      ).toEqual([]);
    } else {
      const hx = c.hx === null ? undefined : toTensor(c.hx as FixtureTensor);
      expect(mismatches([[cell.forward(input, hx), toTensor(c.h), 'h']])).toEqual([]);
    }
  });
});
