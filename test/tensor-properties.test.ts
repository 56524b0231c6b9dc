/**
 * Laws the tensor operations must keep for any shape, checked on random shapes and values: inverses
 * (split/cat, permute/inverse permute, reshape), broadcasting against an explicit copy, and the
 * invariants of softmax, argmax and topk. PyTorch's own results are in tensor-ops.test.ts.
 */
import fc from 'fast-check';
import { Tensor, cat, stack, tensor } from '../lib';

/** A shape of rank 1..4 with sizes 0..4, and a dim of it. */
const shapeAndDim = fc
  .array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 })
  .chain((shape) => fc.record({ shape: fc.constant(shape), dim: fc.integer({ min: -shape.length, max: shape.length - 1 }) }));

function filled(shape: number[], seed: number): Tensor {
  const t = Tensor.zeros(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = Math.fround(Math.sin(seed + i * 1.7) * 10);
  return t;
}

function same(a: Tensor, b: Tensor): boolean {
  return a.dtype === b.dtype && a.shape.join() === b.shape.join() && a.data.every((v, i) => Object.is(v, b.data[i]));
}

describe('tensor operation laws', () => {
  test('split (and chunk) along a dim, then cat along it, gives the tensor back', () => {
    fc.assert(
      fc.property(shapeAndDim, fc.integer({ min: 1, max: 5 }), fc.integer(), ({ shape, dim }, size, seed) => {
        const t = filled(shape, seed);
        const pieces = t.split(size, dim);
        expect(same(cat(pieces, dim), t)).toBe(true);
        expect(same(cat(t.chunk(size, dim), dim), t)).toBe(true);
      }),
    );
  });

  test('permute then the inverse permutation gives the tensor back; transpose twice too', () => {
    fc.assert(
      fc.property(shapeAndDim, fc.integer(), ({ shape }, seed) => {
        const t = filled(shape, seed);
        const order = shape.map((_, i) => i).sort((a, b) => Math.sin(seed + a) - Math.sin(seed + b));
        const inverse = order.map((_, i) => order.indexOf(i));
        expect(same(t.permute(order).permute(inverse), t)).toBe(true);
        expect(same(t.transpose(0, -1).transpose(0, -1), t)).toBe(true);
      }),
    );
  });

  test('select along a dim equals narrow of length 1 squeezed; stack of the selections is the tensor', () => {
    fc.assert(
      fc.property(shapeAndDim, fc.integer(), ({ shape, dim }, seed) => {
        const t = filled(shape, seed);
        const d = dim < 0 ? dim + shape.length : dim;
        const slices = Array.from({ length: shape[d] }, (_, i) => t.select(d, i));
        slices.forEach((s, i) => expect(same(s, t.narrow(d, i, 1).squeeze(d))).toBe(true));
        if (slices.length > 0) expect(same(stack(slices, d), t)).toBe(true);
      }),
    );
  });

  test('adding a broadcast row equals adding it stacked out to the full shape', () => {
    fc.assert(
      fc.property(shapeAndDim, fc.integer(), ({ shape }, seed) => {
        const t = filled(shape, seed);
        const row = filled(shape.slice(-1), seed + 1);
        const rows = shape.slice(0, -1).reduce((n, s) => n * s, 1);
        const pieces = Array.from({ length: rows }, () => row.unsqueeze(0));
        // cat needs at least one tensor: with no rows, an empty (0, L) slice stands for them.
        const full = (rows > 0 ? cat(pieces, 0) : row.unsqueeze(0).narrow(0, 0, 0)).reshape(shape);
        expect(same(t.add(row), t.add(full))).toBe(true);
      }),
    );
  });

  test('softmax sums to 1 along its dim; argmax is topk(1)\'s index', () => {
    fc.assert(
      fc.property(shapeAndDim, fc.integer(), ({ shape, dim }, seed) => {
        const t = filled(shape.map((s) => Math.max(s, 1)), seed).to('float64');
        const sums = t.softmax(dim).sum(dim);
        for (const v of sums.data) expect(Math.abs(v - 1)).toBeLessThan(1e-12);
        const [, index] = t.topk(1, dim);
        expect(same(t.argmax(dim, true).to('float64'), index.to('float64'))).toBe(true);
      }),
    );
  });

  test('reshape to any factorisation and back shares data and keeps every element', () => {
    const t = tensor([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]);
    for (const shape of [[12], [2, 6], [6, -1], [2, 2, 3], [1, 12, 1]]) {
      const r = t.reshape(shape);
      expect(r.data).toBe(t.data);
      expect(same(r.reshape(3, 4), t)).toBe(true);
    }
  });
});
