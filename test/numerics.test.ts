/**
 * Non-finite values, very long sequences and empty batches.
 *
 * fixtures/nonfinite.json (written by fixtures/generate_nonfinite.py with real PyTorch) places one NaN,
 * +Inf or -Inf in the input at (t, n, k), or in h0 / c0, and records PyTorch's results: which elements
 * become NaN, which saturate to a finite value, which batch elements stay untouched. The comparator
 * (helpers/close.ts) matches NaN only with NaN and an infinity only with the same infinity, so a kernel
 * that clamps NaN away (a max/min against a constant) or turns a saturated gate into NaN fails here.
 */
import { GRU, LSTM, RNN, Tensor, packSequence } from '../lib';
import { CellCase, ModuleCase, buildCell, buildModule, cellMismatches, moduleMismatches, toHidden } from './helpers/fixture_cases';
import { FixtureTensor, loadCases, toTensor } from './helpers/fixtures';
import { randomTensor } from './helpers/random';

interface Where {
  tensor: 'input' | 'h0' | 'c0';
  index: number[];
  value: 'NaN' | 'Infinity' | '-Infinity';
}

/** The nonfinite.json cases: modules.json's and cells.json's forms, plus where the NaN or infinity was put. */
interface NonfiniteModuleCase extends ModuleCase {
  where: Where | null;
}

interface NonfiniteCellCase extends CellCase {
  where: Where | null;
}

const all = loadCases<NonfiniteModuleCase | NonfiniteCellCase>('nonfinite.json');
const moduleCases = all.filter((c): c is NonfiniteModuleCase => !c.mode.endsWith('Cell'));
const cellCases = all.filter((c): c is NonfiniteCellCase => c.mode.endsWith('Cell'));

function describeCase(c: NonfiniteModuleCase | NonfiniteCellCase): string {
  const batchDim = c.mode.endsWith('Cell') || c.options.batchFirst ? 0 : 1;
  const batch = c.input.shape[batchDim];
  if (c.where === null) return `${c.name} ${c.mode} batch ${batch}`;
  return `${c.name} ${c.mode} ${c.where.value} in ${c.where.tensor}[${c.where.index.join(', ')}]`;
}

type AnyModule = RNN | LSTM | GRU;

const count = (t: FixtureTensor, what: string): number => t.data.filter((v) => v === what).length;

describe('the fixtures exercise what they claim', () => {
  it('PyTorch produced NaN, +Inf, -Inf and finite outputs across the cases, and empty batches', () => {
    // If PyTorch had turned every case into all-finite (or all-NaN) results, the parity below would prove little.
    const outputs = moduleCases.flatMap((c) => [c.output, c.h_n, ...(c.c_n ? [c.c_n] : [])]);
    expect(outputs.some((t) => count(t, 'NaN') > 0)).toBe(true);
    expect(outputs.some((t) => count(t, 'Infinity') > 0)).toBe(true);
    expect(outputs.some((t) => count(t, '-Infinity') > 0)).toBe(true);
    // A NaN in one batch element leaves the others finite: some NaN outputs also hold finite numbers.
    expect(outputs.some((t) => count(t, 'NaN') > 0 && t.data.some((v) => typeof v === 'number'))).toBe(true);
    expect(moduleCases.filter((c) => c.where === null).map((c) => c.output.shape[c.options.batchFirst ? 0 : 1])).toEqual(
      Array(9).fill(0),
    );
    for (const mode of ['RNN', 'LSTM', 'GRU', 'RNNCell', 'LSTMCell', 'GRUCell']) {
      expect(all.some((c) => c.mode === mode && c.where?.value === 'NaN')).toBe(true);
      expect(all.some((c) => c.mode === mode && c.where === null)).toBe(true);
    }
  });
});

describe('NaN and ±Inf propagate through modules as in PyTorch', () => {
  it.each(moduleCases.map((c) => [describeCase(c), c] as const))('%s', async (_name, c) => {
    const module = buildModule(c);
    const [output, state] = module.forward(toTensor(c.input), toHidden(c.hx));
    expect(moduleMismatches(c, output, state)).toEqual([]);
    // The thread-pool path runs the same kernels on another thread: same answer.
    const [outputAsync, stateAsync] = await module.forwardAsync(toTensor(c.input), toHidden(c.hx));
    expect(moduleMismatches(c, outputAsync, stateAsync)).toEqual([]);
  });
});

describe('NaN and ±Inf propagate through cells as in PyTorch', () => {
  it.each(cellCases.map((c) => [describeCase(c), c] as const))('%s', async (_name, c) => {
    const cell = buildCell(c);
    expect(cellMismatches(c, cell.forward(toTensor(c.input), toHidden(c.hx)))).toEqual([]);
    expect(cellMismatches(c, await cell.forwardAsync(toTensor(c.input), toHidden(c.hx)))).toEqual([]);
  });
});

describe('zero-size batch, without hx', () => {
  // The fixture cases above pass an empty hx; PyTorch also accepts none, giving the same empty shapes.
  it.each(moduleCases.filter((c) => c.where === null).map((c) => [describeCase(c), c] as const))('%s', async (_name, c) => {
    const module = buildModule(c);
    const [output, state] = module.forward(toTensor(c.input));
    expect(moduleMismatches(c, output, state)).toEqual([]);
    const [outputAsync, stateAsync] = await module.forwardAsync(toTensor(c.input));
    expect(moduleMismatches(c, outputAsync, stateAsync)).toEqual([]);
  });
});

describe('a sequence of 100 000 steps', () => {
  // The engine walks time in a loop with one workspace per call: length must cost neither stack nor
  // per-step allocations. No timing is asserted; a blow-up would show as a crash or the test timing out.
  const T = 100_000;

  function allFinite(t: Tensor): boolean {
    return t.data.every((v) => Number.isFinite(v));
  }

  it.each([
    ['GRU', () => new GRU(3, 4)],
    ['LSTM, bidirectional, 2 layers', () => new LSTM(3, 4, 2, { bidirectional: true })],
    ['RNN relu', () => new RNN(3, 4, { nonlinearity: 'relu' })],
  ] as const)('%s: forward and forwardAsync', async (_name, make) => {
    const module = (make() as AnyModule).eval();
    const D = module.bidirectional ? 2 : 1;
    const x = randomTensor([T, 1, 3], 7);
    const [output, state] = module.forward(x);
    expect(output.shape).toEqual([T, 1, D * module.hiddenSize]);
    const h = Array.isArray(state) ? state[0] : state;
    expect(h.shape).toEqual([module.numLayers * D, 1, module.hiddenSize]);
    expect(allFinite(output) && allFinite(h)).toBe(true);
    const [outputAsync] = await module.forwardAsync(x);
    expect(Array.from(outputAsync.data)).toEqual(Array.from(output.data));
  });

  it('as a packed sequence beside a short one', async () => {
    const gru = new GRU(3, 4).eval();
    const packed = packSequence([randomTensor([T, 3], 8), randomTensor([5, 3], 9)]);
    const [out, h] = gru.forward(packed);
    expect(out.data.shape).toEqual([T + 5, 4]);
    expect(Array.from(out.batchSizes.subarray(0, 6))).toEqual([2, 2, 2, 2, 2, 1]);
    expect(h.shape).toEqual([1, 2, 4]);
    expect(allFinite(out.data) && allFinite(h)).toBe(true);
    const [outAsync, hAsync] = await gru.forwardAsync(packed);
    expect(Array.from(outAsync.data.data)).toEqual(Array.from(out.data.data));
    expect(Array.from(hAsync.data)).toEqual(Array.from(h.data));
  });
});
