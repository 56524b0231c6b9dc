/**
 * Shape operations: views that share `data` where the result is a contiguous run of the source
 * (reshape, view, squeeze, unsqueeze, flatten always; select, narrow, split and chunk when nothing
 * precedes the dimension), exact copies otherwise (transpose, permute, cat, stack). PyTorch's names,
 * semantics and messages.
 *
 * @packageDocumentation
 */
import { allocate, type AnyTensorData, type DType, type FloatDType, type NumberData } from './dtype';
import { coalesce, formatShape, product, stridesOf, wrapDim } from './dims';
import { resultTypeOf } from './promotion';
import { Tensor } from './tensor';

type AnyTensor = Tensor<DType>;

function checkTensor(value: unknown, what: string): asserts value is AnyTensor {
  if (!(value instanceof Tensor)) throw new TypeError(`${what} must be a Tensor`);
}

function checkInteger(value: unknown, name: string, fn: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${fn}(): argument '${name}' must be int, not ${String(value)}`);
}

/**
 * A copy of `src` read with `strides` (one per dimension of `shape`, 0 to repeat) from `offset`, as a new
 * contiguous array of `shape`: the one loop behind permute, transpose and broadcasting. The innermost
 * dimension runs as a plain loop; the outer ones advance a counter.
 */
export function gather(src: AnyTensorData, dtype: DType, outShape: readonly number[], outStrides: readonly number[], offset = 0): AnyTensorData {
  const out = allocate(dtype, product(outShape));
  const total = out.length;
  if (total === 0) return out;
  // Values are moved, never computed on: number and bigint arrays share this loop.
  const from = src as NumberData;
  const to = out as NumberData;
  const walk = coalesce(outShape, [outStrides]);
  const shape = walk.shape;
  const strides = walk.strides[0];
  const rank = shape.length;
  if (rank === 0) {
    to[0] = from[offset];
    return out;
  }
  const last = rank - 1;
  const n = shape[last];
  const step = strides[last];
  const counter = new Array<number>(rank).fill(0);
  let base = offset;
  for (let o = 0; o < total; o += n) {
    if (step === 1) for (let j = 0; j < n; j++) to[o + j] = from[base + j];
    else for (let j = 0; j < n; j++) to[o + j] = from[base + j * step];
    for (let d = last - 1; d >= 0; d--) {
      base += strides[d];
      if (++counter[d] < shape[d]) break;
      base -= strides[d] * shape[d];
      counter[d] = 0;
    }
  }
  return out;
}

/** `length` slices from `start` along `dim` (already wrapped and checked): shared when nothing precedes `dim`. */
function sliceAlong(t: AnyTensor, dim: number, start: number, length: number): AnyTensor {
  const shape = [...t.shape];
  const outer = product(shape, 0, dim);
  const size = shape[dim];
  const inner = product(shape, dim + 1);
  shape[dim] = length;
  if (outer === 1 || length * inner === 0) {
    return new Tensor<DType>(t.data.subarray(start * inner, (start + length) * inner), shape, t.dtype);
  }
  const out = allocate(t.dtype, outer * length * inner);
  const block = length * inner;
  for (let o = 0; o < outer; o++) {
    const from = (o * size + start) * inner;
    (out as NumberData).set((t.data as NumberData).subarray(from, from + block), o * block);
  }
  return new Tensor<DType>(out, shape, t.dtype);
}

/** PyTorch's `select(dim, index)`: the slice at `index` along `dim`, that dimension removed; negative `index` counts from the end. */
export function select(t: AnyTensor, dim: number, index: number): AnyTensor {
  if (t.dim() === 0) throw new RangeError('select() cannot be applied to a 0-dim tensor.');
  const d = wrapDim(dim, t.dim());
  checkInteger(index, 'index', 'select');
  const size = t.shape[d];
  if (index < -size || index >= size) {
    throw new RangeError(`select(): index ${index} out of range for tensor of size ${formatShape(t.shape)} at dimension ${d}`);
  }
  const sliced = sliceAlong(t, d, index < 0 ? index + size : index, 1);
  const shape = [...t.shape];
  shape.splice(d, 1);
  return new Tensor<DType>(sliced.data, shape, t.dtype);
}

/** PyTorch's `narrow(dim, start, length)`: `length` slices from `start` along `dim`; negative `start` counts from the end. */
export function narrow(t: AnyTensor, dim: number, start: number, length: number): AnyTensor {
  if (t.dim() === 0) throw new RangeError('narrow() cannot be applied to a 0-dim tensor.');
  const d = wrapDim(dim, t.dim());
  checkInteger(start, 'start', 'narrow');
  checkInteger(length, 'length', 'narrow');
  const size = t.shape[d];
  // As PyTorch: a start equal to the size is allowed (for an empty slice); any other is wrapped like a dim.
  const first = start === size ? start : wrapDim(start, size);
  if (length < 0 || first + length > size) throw new RangeError(`start (${first}) + length (${length}) exceeds dimension size (${size}).`);
  return sliceAlong(t, d, first, length);
}

/** The concrete shape for `reshape(shape)` on `numel` elements: one `-1` is inferred, as PyTorch's `infer_size`. */
function inferSize(shape: readonly number[], numel: number): number[] {
  let inferred = -1;
  let known = 1;
  for (let i = 0; i < shape.length; i++) {
    const s = shape[i];
    if (typeof s !== 'number' || !Number.isInteger(s)) throw new TypeError(`shape must be a list of integers, got ${formatShape(shape)}`);
    if (s === -1) {
      if (inferred >= 0) throw new RangeError('only one dimension can be inferred');
      inferred = i;
    } else if (s < 0) {
      throw new RangeError(`invalid shape dimension ${s}`);
    } else {
      known *= s;
    }
  }
  const out = [...shape];
  if (inferred >= 0) {
    if (known === 0) {
      throw new RangeError(
        `cannot reshape tensor of ${numel} elements into shape ${formatShape(shape)} because the unspecified dimension size -1 can be any value and is ambiguous`,
      );
    }
    if (numel % known === 0) {
      out[inferred] = numel / known;
      return out;
    }
  } else if (known === numel) {
    return out;
  }
  throw new RangeError(`shape '${formatShape(shape)}' is invalid for input of size ${numel}`);
}

/** PyTorch's `reshape` / `view` on a contiguous tensor: the same data under a new shape, one `-1` inferred. */
export function reshape(t: AnyTensor, shape: readonly number[]): AnyTensor {
  if (!Array.isArray(shape)) throw new TypeError(`reshape(): argument 'shape' must be a list of integers, not ${String(shape)}`);
  return new Tensor<DType>(t.data, inferSize(shape, t.numel()), t.dtype);
}

/** PyTorch's `squeeze(dim?)`: without `dim`, every size-1 dimension removed; with it, that one if its size is 1. */
export function squeeze(t: AnyTensor, dim?: number): AnyTensor {
  if (dim === undefined) return new Tensor<DType>(t.data, t.shape.filter((s) => s !== 1), t.dtype);
  const d = wrapDim(dim, t.dim());
  if (t.dim() === 0 || t.shape[d] !== 1) return new Tensor<DType>(t.data, t.shape, t.dtype);
  const shape = [...t.shape];
  shape.splice(d, 1);
  return new Tensor<DType>(t.data, shape, t.dtype);
}

/** PyTorch's `unsqueeze(dim)`: a size-1 dimension inserted at `dim` (in `[-dim()-1, dim()]`). */
export function unsqueeze(t: AnyTensor, dim: number): AnyTensor {
  const d = wrapDim(dim, t.dim() + 1);
  const shape = [...t.shape];
  shape.splice(d, 0, 1);
  return new Tensor<DType>(t.data, shape, t.dtype);
}

/** PyTorch's `flatten(startDim, endDim)`: dimensions `startDim..endDim` merged into one; a 0-d tensor becomes `[1]`. */
export function flatten(t: AnyTensor, startDim = 0, endDim = -1): AnyTensor {
  const rank = t.dim();
  const start = wrapDim(startDim, rank);
  const end = wrapDim(endDim, rank);
  if (start > end) throw new RangeError('flatten() has invalid args: start_dim cannot come after end_dim');
  if (rank === 0) return new Tensor<DType>(t.data, [1], t.dtype);
  const shape = [...t.shape.slice(0, start), product(t.shape, start, end + 1), ...t.shape.slice(end + 1)];
  return new Tensor<DType>(t.data, shape, t.dtype);
}

/** PyTorch's `permute(dims)`: dimension `i` of the result is dimension `dims[i]` of `t` (a copy). */
export function permute(t: AnyTensor, dims: readonly number[]): AnyTensor {
  const rank = t.dim();
  if (!Array.isArray(dims)) throw new TypeError(`permute(): argument 'dims' must be a list of integers`);
  if (dims.length !== rank) {
    throw new RangeError(
      `permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = ${rank} is not equal to len(dims) = ${dims.length}`,
    );
  }
  const order = dims.map((d) => wrapDim(d, rank));
  if (new Set(order).size !== order.length) throw new RangeError('permute(): duplicate dims are not allowed.');
  if (order.every((d, i) => d === i)) return new Tensor<DType>(t.data, t.shape, t.dtype);
  const strides = stridesOf(t.shape);
  return new Tensor<DType>(gather(t.data, t.dtype, order.map((d) => t.shape[d]), order.map((d) => strides[d])), order.map((d) => t.shape[d]), t.dtype);
}

/** PyTorch's `transpose(dim0, dim1)`: the two dimensions swapped (a copy). */
export function transpose(t: AnyTensor, dim0: number, dim1: number): AnyTensor {
  const rank = t.dim();
  const a = wrapDim(dim0, rank);
  const b = wrapDim(dim1, rank);
  if (rank === 0) return new Tensor<DType>(t.data, t.shape, t.dtype);
  const order = Array.from({ length: rank }, (_, i) => i);
  order[a] = b;
  order[b] = a;
  return permute(t, order);
}

/** PyTorch's `clone()`: a copy with its own data. */
export function clone(t: AnyTensor): AnyTensor {
  return new Tensor<DType>(t.data.slice(), t.shape, t.dtype);
}

/**
 * PyTorch's `torch.cat(tensors, dim)`: the tensors joined along `dim`; every other size must match.
 * dtypes promote as in arithmetic; 1-D empty tensors are skipped, as PyTorch's legacy rule has it.
 *
 * @example
 * ```ts
 * cat([tensor([[1, 2]]), tensor([[3, 4]])], 0).toArray();   // [[1, 2], [3, 4]]
 * ```
 */
export function cat<D extends DType = FloatDType>(tensors: readonly Tensor<D>[], dim = 0): Tensor<D> {
  return catAny(tensors, dim) as Tensor<D>;
}

function catAny(tensors: readonly AnyTensor[], dim: number): AnyTensor {
  if (!Array.isArray(tensors)) throw new TypeError('cat(): argument \'tensors\' must be an array of Tensors');
  if (tensors.length === 0) throw new RangeError('torch.cat(): expected a non-empty list of Tensors');
  tensors.forEach((t, i) => checkTensor(t, `cat(): tensors[${i}]`));
  tensors.forEach((t, i) => {
    if (t.dim() === 0) throw new RangeError(`zero-dimensional tensor (at position ${i}) cannot be concatenated`);
  });
  const dtype = resultTypeOf(tensors);
  const parts = tensors.map((t, i) => ({ t, i })).filter(({ t }) => !(t.dim() === 1 && t.shape[0] === 0));
  if (parts.length === 0) return new Tensor<DType>(allocate(dtype, 0), [0], dtype);
  const first = parts[0].t;
  const rank = first.dim();
  const d = wrapDim(dim, rank);
  let joined = 0;
  for (const { t, i } of parts) {
    if (t.dim() !== rank) throw new RangeError(`Tensors must have same number of dimensions: got ${rank} and ${t.dim()}`);
    for (let k = 0; k < rank; k++) {
      if (k !== d && t.shape[k] !== first.shape[k]) {
        throw new RangeError(
          `Sizes of tensors must match except in dimension ${d}. Expected size ${first.shape[k]} but got size ${t.shape[k]} for tensor number ${i} in the list.`,
        );
      }
    }
    joined += t.shape[d];
  }
  const shape = [...first.shape];
  shape[d] = joined;
  const outer = product(shape, 0, d);
  const inner = product(shape, d + 1);
  const out = allocate(dtype, outer * joined * inner) as NumberData;
  const sources = parts.map(({ t }) => t.to(dtype).data as NumberData);
  const blocks = parts.map(({ t }) => t.shape[d] * inner);
  let offset = 0;
  for (let o = 0; o < outer; o++) {
    for (let p = 0; p < sources.length; p++) {
      const block = blocks[p];
      out.set(sources[p].subarray(o * block, (o + 1) * block), offset);
      offset += block;
    }
  }
  return new Tensor<DType>(out, shape, dtype);
}

/**
 * PyTorch's `torch.stack(tensors, dim)`: tensors of one shape joined along a new dimension `dim`.
 *
 * @example
 * ```ts
 * stack([tensor([1, 2]), tensor([3, 4])], 1).toArray();   // [[1, 3], [2, 4]]
 * ```
 */
export function stack<D extends DType = FloatDType>(tensors: readonly Tensor<D>[], dim = 0): Tensor<D> {
  if (!Array.isArray(tensors)) throw new TypeError('stack(): argument \'tensors\' must be an array of Tensors');
  if (tensors.length === 0) throw new RangeError('stack expects a non-empty TensorList');
  tensors.forEach((t, i) => checkTensor(t, `stack(): tensors[${i}]`));
  const d = wrapDim(dim, tensors[0].dim() + 1);
  for (let i = 1; i < tensors.length; i++) {
    const a = tensors[0].shape;
    const b = tensors[i].shape;
    if (a.length !== b.length || a.some((s: number, k: number) => s !== b[k])) {
      throw new RangeError(`stack expects each tensor to be equal size, but got ${formatShape(a)} at entry 0 and ${formatShape(b)} at entry ${i}`);
    }
  }
  return catAny(tensors.map((t) => unsqueeze(t, d)), d) as Tensor<D>;
}

/**
 * PyTorch's `torch.split(t, sizeOrSections, dim)`: pieces of `size` along `dim` (the last may be
 * smaller), or pieces of the listed sizes, which must sum to the dimension's size.
 *
 * @example
 * ```ts
 * split(tensor([1, 2, 3, 4, 5]), 2).map((t) => t.toArray());   // [[1, 2], [3, 4], [5]]
 * ```
 */
export function split<D extends DType = FloatDType>(t: Tensor<D>, sizeOrSections: number | readonly number[], dim = 0): Tensor<D>[] {
  checkTensor(t, 'split(): input');
  if (t.dim() === 0) throw new RangeError('split expects at least a 1-dimensional tensor');
  const d = wrapDim(dim, t.dim());
  const size = t.shape[d];
  let sizes: number[];
  if (Array.isArray(sizeOrSections)) {
    const sections = sizeOrSections as readonly number[];
    sections.forEach((s) => checkInteger(s, 'split_size', 'split'));
    const total = sections.reduce((n, s) => n + s, 0);
    if (sections.some((s) => s < 0)) {
      throw new RangeError(`split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes=${formatShape(sections)}`);
    }
    if (total !== size) {
      throw new RangeError(
        `split_with_sizes expects split_sizes to sum exactly to ${size} (input tensor's size at dimension ${d}), but got split_sizes=${formatShape(sections)}`,
      );
    }
    sizes = [...sections];
  } else {
    const step = sizeOrSections as number;
    checkInteger(step, 'split_size', 'split');
    if (step < 0) throw new RangeError(`split expects split_size be non-negative, but got split_size=${step}`);
    if (step === 0 && size !== 0) throw new RangeError(`split_size can only be 0 if dimension size is 0, but got dimension size of ${size}`);
    const count = step === 0 ? 1 : Math.max(1, Math.ceil(size / step));
    sizes = Array.from({ length: count }, (_, i) => (step === 0 ? 0 : Math.min(step, size - i * step)));
  }
  let start = 0;
  return sizes.map((length) => {
    const piece = sliceAlong(t, d, start, length) as Tensor<D>;
    start += length;
    return piece;
  });
}

/**
 * PyTorch's `torch.chunk(t, chunks, dim)`: at most `chunks` pieces of `ceil(size / chunks)` along `dim`.
 *
 * @example
 * ```ts
 * chunk(tensor([1, 2, 3, 4, 5]), 2).map((t) => t.toArray());   // [[1, 2, 3], [4, 5]]
 * ```
 */
export function chunk<D extends DType = FloatDType>(t: Tensor<D>, chunks: number, dim = 0): Tensor<D>[] {
  checkTensor(t, 'chunk(): input');
  if (t.dim() === 0) throw new RangeError('chunk expects at least a 1-dimensional tensor');
  checkInteger(chunks, 'chunks', 'chunk');
  if (chunks <= 0) throw new RangeError(`chunk expects \`chunks\` to be greater than 0, got: ${chunks}`);
  const d = wrapDim(dim, t.dim());
  const size = t.shape[d];
  // An empty dim splits into `chunks` empty pieces, as PyTorch's chunk does.
  if (size === 0) return split(t, new Array<number>(chunks).fill(0), d);
  return split(t, Math.ceil(size / chunks), d);
}
