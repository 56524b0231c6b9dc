/**
 * PyTorch's `index_select`: the one way a batch is reordered, whether sorting sequences by length for
 * packing, restoring the caller's order after padding, or permuting hidden states around a packed forward.
 *
 * @packageDocumentation
 */
import { Tensor } from './tensor';

/**
 * A new tensor holding the slices `indices[0], indices[1], ...` of `input` along `dim`, as PyTorch's
 * `input.index_select(dim, indices)`; `dim` may be negative. An index outside `[0, input.size(dim))` is
 * PyTorch's `index out of range in self`.
 *
 * @example
 * ```ts
 * indexSelect(tensor([[1, 2], [3, 4], [5, 6]]), 0, [2, 0]).toArray();   // [[5, 6], [1, 2]]
 * ```
 */
export function indexSelect(input: Tensor, dim: number, indices: ArrayLike<number>): Tensor {
  const size = input.size(dim);
  const axis = dim < 0 ? dim + input.dim() : dim;
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i];
    if (!Number.isInteger(index) || index < 0 || index >= size) throw new RangeError('index out of range in self');
  }
  // The tensor is `outer` blocks of `size` slices of `inner` elements each.
  const outer = input.shape.slice(0, axis).reduce((n, s) => n * s, 1);
  const inner = input.shape.slice(axis + 1).reduce((n, s) => n * s, 1);
  const shape = [...input.shape];
  shape[axis] = indices.length;
  const out = Tensor.zeros(shape, input.dtype);
  const source = input.data;
  const target = out.data;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < indices.length; i++) {
      const from = (o * size + indices[i]) * inner;
      target.set(source.subarray(from, from + inner), (o * indices.length + i) * inner);
    }
  }
  return out;
}
