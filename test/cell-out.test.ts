/**
 * A cell's `out` argument: the caller's tensors receive the results (no allocation per step), `hx` itself
 * included, with the same bits as a call that allocates; and a cell follows a change of its dtype.
 */
import { GRUCell, LSTMCell, RNNCell, Tensor, type RNNCellBase } from '../lib';
import { randomTensor } from './helpers/random';

type AnyCell = RNNCellBase<Tensor> | RNNCellBase<[Tensor, Tensor]>;

const CELLS: Array<[string, (i: number, h: number) => AnyCell]> = [
  ['RNNCell', (i, h) => new RNNCell(i, h)],
  ['LSTMCell', (i, h) => new LSTMCell(i, h)],
  ['GRUCell', (i, h) => new GRUCell(i, h)],
];

function forward(cell: AnyCell, x: Tensor, hx?: Tensor[], out?: Tensor[]): Tensor[] {
  const lstm = cell instanceof LSTMCell;
  const pack = (ts?: Tensor[]): unknown => (ts === undefined ? undefined : lstm ? ts : ts[0]);
  const result = (cell as RNNCellBase<Tensor | [Tensor, Tensor]>).forward(x, pack(hx) as never, pack(out) as never);
  return result instanceof Tensor ? [result] : result;
}

const bits = (ts: Tensor[]): number[][] => ts.map((t) => Array.from(t.data));
const zerosLike = (ts: Tensor[]): Tensor[] => ts.map((t) => Tensor.zeros([...t.shape], t.dtype as 'float32'));

describe.each(CELLS)('%s', (name, create) => {
  const states = name === 'LSTMCell' ? 2 : 1;

  test.each([
    ['batched', [3, 5], [3, 7]],
    ['unbatched', [5], [7]],
  ])('%s: out receives the same bits as a new result, and is what forward returns', (_, xShape, hShape) => {
    const cell = create(5, 7);
    const x = randomTensor(xShape, 1);
    const hx = Array.from({ length: states }, (_u, i) => randomTensor(hShape, 2 + i));
    for (const given of [undefined, hx]) {
      const fresh = forward(cell, x, given);
      const out = zerosLike(fresh);
      const returned = forward(cell, x, given, out);
      expect(bits(out)).toEqual(bits(fresh));
      expect(returned).toEqual(out);
      if (states === 1) expect(returned[0]).toBe(out[0]);
      else returned.forEach((t, i) => expect(t).toBe(out[i]));
    }
  });

  test('a loop that writes each step into hx itself matches one that allocates, bit for bit', () => {
    const cell = create(4, 6);
    const xs = Array.from({ length: 12 }, (_, t) => randomTensor([2, 4], 10 + t));
    let fresh = Array.from({ length: states }, () => Tensor.zeros([2, 6]));
    const inPlace = Array.from({ length: states }, () => Tensor.zeros([2, 6]));
    for (const x of xs) {
      fresh = forward(cell, x, fresh);
      forward(cell, x, inPlace, inPlace);
    }
    expect(bits(inPlace)).toEqual(bits(fresh));
  });

  test('out may share memory with the input', () => {
    const cell = create(6, 6);
    const x = randomTensor([2, 6], 30);
    const hx = Array.from({ length: states }, (_u, i) => randomTensor([2, 6], 31 + i));
    const expected = forward(cell, x, hx);
    const out = [new Tensor(Float32Array.from(x.data), [2, 6]), ...zerosLike(hx).slice(1)];
    forward(cell, new Tensor(out[0].data, [2, 6]), hx, out);
    expect(bits(out)).toEqual(bits(expected));
  });

  test('forward and forwardAsync agree bit for bit', async () => {
    const cell = create(5, 9);
    const x = randomTensor([4, 5], 40);
    const hx = Array.from({ length: states }, (_u, i) => randomTensor([4, 9], 41 + i));
    const pack = (ts: Tensor[]): never => (states === 2 ? ts : ts[0]) as never;
    const asyncResult = await (cell as RNNCellBase<Tensor | [Tensor, Tensor]>).forwardAsync(x, pack(hx));
    const fromAsync = asyncResult instanceof Tensor ? [asyncResult] : asyncResult;
    expect(bits(forward(cell, x, hx))).toEqual(bits(fromAsync));
  });

  test('an out of the wrong form, shape or dtype is refused before anything is written', () => {
    const cell = create(3, 4);
    const x = randomTensor([2, 3], 50);
    const form = states === 1 ? 'a Tensor' : 'an array \\[h_1, c_1\\] of two Tensors';
    const good = Array.from({ length: states }, () => Tensor.zeros([2, 4]));
    const call = (out: unknown): unknown => (cell as RNNCellBase<Tensor>).forward(x, undefined, out as never);
    expect(() => call(states === 1 ? [good[0]] : good[0])).toThrow(new RegExp(`${name}: out must be ${form}, got`));
    const what = states === 1 ? 'out' : 'out\\[0\\]';
    const wrongShape = [Tensor.zeros([2, 5]), ...good.slice(1)];
    expect(() => call(states === 1 ? wrongShape[0] : wrongShape)).toThrow(
      new RegExp(`${name}: ${what} must have the result's shape \\[2, 4\\], got \\[2, 5\\]`),
    );
    const wrongType = [Tensor.zeros([2, 4], 'float64'), ...good.slice(1)];
    expect(() => call(states === 1 ? wrongType[0] : wrongType)).toThrow(`${name}: ${what.replace(/\\/g, '')} must have the type float32, got type float64`);
    expect(bits(good)).toEqual(bits(zerosLike(good)));
  });
});

test('LSTMCell: h_1 and c_1 of out must not share memory', () => {
  const cell = new LSTMCell(3, 4);
  const h = Tensor.zeros([2, 4]);
  expect(() => cell.forward(randomTensor([2, 3], 60), undefined, [h, h])).toThrow('LSTMCell: out[0] and out[1] must not share memory');
});

test('a cell follows a change of its dtype between calls', () => {
  const cell = new GRUCell(3, 4);
  const x32 = randomTensor([2, 3], 70);
  expect(cell.forward(x32).dtype).toBe('float32');
  cell.double();
  expect(() => cell.forward(x32)).toThrow('input must have the type float64, got type float32');
  const x64 = randomTensor([2, 3], 70, 1, 'float64');
  expect(cell.forward(x64).dtype).toBe('float64');
});
