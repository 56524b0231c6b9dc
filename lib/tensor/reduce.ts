/**
 * Reductions: sum, mean, amax, max, argmax and topk, over one dimension, several, or all, with
 * `keepdim`, PyTorch's result dtypes (integer sums are int64, indices are int64) and its rules for NaN
 * (it wins a maximum) and ties (the first maximal index wins, as on PyTorch's CPU).
 *
 * @packageDocumentation
 */
import { allocate, isFloatDType, TORCH_TYPE_NAMES, type DType, type NumberData } from './dtype';
import { product, reductionDims, stridesOf, wrapDim } from './dims';
import { gather } from './shape';
import { Tensor } from './tensor';

type AnyTensor = Tensor<DType>;

/** A dim argument of a reduction: one dim, a list of dims, or none for every dim. */
export type Dims = number | readonly number[];

/**
 * The elements of `t` laid out so that each output position's reduced elements are one contiguous run:
 * `runs` runs of `length`, and the output shape with and without the reduced dims.
 */
function reductionLayout(t: AnyTensor, dim: Dims | undefined, keepdim: boolean) {
  const rank = t.dim();
  const reduced = reductionDims(dim, rank);
  const kept = Array.from({ length: rank }, (_, i) => i).filter((d) => !reduced.includes(d));
  const shape = keepdim ? t.shape.map((s, d) => (reduced.includes(d) ? 1 : s)) : kept.map((d) => t.shape[d]);
  const order = [...kept, ...reduced];
  const trailing = order.every((d, i) => d === i);
  const strides = stridesOf(t.shape);
  const data = trailing ? t.data : gather(t.data, t.dtype, order.map((d) => t.shape[d]), order.map((d) => strides[d]));
  const length = product(reduced.map((d) => t.shape[d]));
  return { data, runs: product(kept.map((d) => t.shape[d])), length, shape, reduced };
}

/** The dtype `sum` gives: floats keep theirs, integers and bool give int64. */
function sumDType(dtype: DType): DType {
  return isFloatDType(dtype) ? dtype : 'int64';
}

/**
 * PyTorch's `sum(dim?, keepdim)`: over every element, one dim or a list of dims. Integer and bool
 * tensors sum to int64.
 */
export function sum(t: AnyTensor, dim?: Dims, keepdim = false): AnyTensor {
  const { data, runs, length, shape } = reductionLayout(t, dim, keepdim);
  const dtype = sumDType(t.dtype);
  const out = allocate(dtype, runs);
  if (t.dtype === 'int64') {
    const x = data as BigInt64Array;
    const o = out as BigInt64Array;
    for (let r = 0; r < runs; r++) {
      let acc = 0n;
      for (let i = r * length, end = i + length; i < end; i++) acc += x[i];
      o[r] = acc;
    }
  } else {
    const x = data as NumberData;
    const totals = dtype === 'int64' ? new Float64Array(runs) : (out as NumberData);
    for (let r = 0; r < runs; r++) {
      let acc = 0;
      for (let i = r * length, end = i + length; i < end; i++) acc += x[i];
      totals[r] = acc;
    }
    if (dtype === 'int64') for (let r = 0; r < runs; r++) (out as BigInt64Array)[r] = BigInt(totals[r]);
  }
  return new Tensor<DType>(out, shape, dtype);
}

/** PyTorch's `mean(dim?, keepdim)`; floating-point tensors only, as PyTorch (an empty reduction is NaN). */
export function mean(t: AnyTensor, dim?: Dims, keepdim = false): AnyTensor {
  if (!isFloatDType(t.dtype)) {
    throw new TypeError(
      `mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: ${TORCH_TYPE_NAMES[t.dtype]}`,
    );
  }
  const { data, runs, length, shape } = reductionLayout(t, dim, keepdim);
  const x = data as NumberData;
  const out = allocate(t.dtype, runs) as NumberData;
  for (let r = 0; r < runs; r++) {
    let acc = 0;
    for (let i = r * length, end = i + length; i < end; i++) acc += x[i];
    out[r] = acc / length;
  }
  return new Tensor<DType>(out, shape, t.dtype);
}

/** Comparisons only (never arithmetic), so number and bigint arrays share one loop. */
type Comparable = NumberData;

/** PyTorch's `amax(dim?, keepdim)`: the maximum over the dims (every dim by default); NaN wins. */
export function amax(t: AnyTensor, dim?: Dims, keepdim = false, fn = 'amax'): AnyTensor {
  const { data, runs, length, shape, reduced } = reductionLayout(t, dim, keepdim);
  if (length === 0 && t.numel() === 0) {
    const empty = reduced.find((d) => t.shape[d] === 0) ?? 0;
    throw new RangeError(`${fn}(): Expected reduction dim ${empty} to have non-zero size.`);
  }
  const x = data as Comparable;
  const out = allocate(t.dtype, runs) as Comparable;
  for (let r = 0; r < runs; r++) {
    const start = r * length;
    let best = x[start];
    for (let i = start + 1, end = start + length; i < end; i++) {
      const v = x[i];
      if (best !== best) break;
      if (v > best || v !== v) best = v;
    }
    out[r] = best;
  }
  return new Tensor<DType>(out, shape, t.dtype);
}

/** Values and first indices of the maximum along one dim (wrapped), NaN winning; the shared core of max and argmax. */
function maxAlong(t: AnyTensor, d: number, keepdim: boolean, fn: string): [AnyTensor, AnyTensor] {
  const rank = t.dim();
  const size = rank === 0 ? 1 : t.shape[d];
  if (size === 0) throw new RangeError(`${fn}(): Expected reduction dim ${d} to have non-zero size.`);
  const outer = rank === 0 ? 1 : product(t.shape, 0, d);
  const inner = rank === 0 ? 1 : product(t.shape, d + 1);
  const shape = rank === 0 ? [] : keepdim ? t.shape.map((s, k) => (k === d ? 1 : s)) : t.shape.filter((_, k) => k !== d);
  const x = t.data as Comparable;
  const values = allocate(t.dtype, outer * inner) as Comparable;
  const indices = new BigInt64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * size * inner + j;
      let best = x[base];
      let at = 0;
      for (let k = 1; k < size && best === best; k++) {
        const v = x[base + k * inner];
        if (v > best || v !== v) {
          best = v;
          at = k;
        }
      }
      values[o * inner + j] = best;
      indices[o * inner + j] = BigInt(at);
    }
  }
  return [new Tensor<DType>(values, shape, t.dtype), new Tensor<DType>(indices, shape, 'int64')];
}

/**
 * PyTorch's `max()`: without `dim`, the largest element as a 0-d tensor; with `dim`, `[values, indices]`
 * along it (the first maximal index on ties; NaN is the maximum).
 */
export function max(t: AnyTensor): AnyTensor;
export function max(t: AnyTensor, dim: number, keepdim?: boolean): [AnyTensor, AnyTensor];
export function max(t: AnyTensor, dim?: number, keepdim = false): AnyTensor | [AnyTensor, AnyTensor] {
  if (dim === undefined) {
    if (t.numel() === 0) {
      throw new RangeError("max(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.");
    }
    return amax(t);
  }
  return maxAlong(t, wrapDim(dim, t.dim()), keepdim, 'max');
}

/**
 * PyTorch's `argmax(dim?, keepdim)`: int64 indices of the maximum along `dim`; without `dim`, the index
 * into the flattened tensor.
 */
export function argmax(t: AnyTensor, dim?: number, keepdim = false): AnyTensor {
  if (dim === undefined) {
    if (t.numel() === 0) throw new RangeError('argmax(): Expected reduction dim to be specified for input.numel() == 0.');
    const flat = new Tensor<DType>(t.data, [t.numel()], t.dtype);
    const index = maxAlong(flat, 0, false, 'argmax')[1];
    return keepdim ? new Tensor<DType>(index.data, t.shape.map(() => 1), 'int64') : index;
  }
  return maxAlong(t, wrapDim(dim, t.dim()), keepdim, 'argmax')[1];
}

/** Up to this k, topk keeps a sorted buffer of the best k; beyond it, it sorts each line. */
const SMALL_K = 32;

/** `v` ranks above `w` among the largest: NaN above everything; an equal value does not (the earlier index stays first). */
function greater(v: number, w: number): boolean {
  return v > w || (v !== v && w === w);
}

/** `v` ranks above `w` among the smallest: NaN below everything. */
function less(v: number, w: number): boolean {
  return v < w || (w !== w && v === v);
}

/**
 * PyTorch's `topk(k, dim, largest, sorted)`: `[values, indices]` of the `k` largest (or smallest)
 * elements along `dim` (default the last), in order; NaN counts as the largest value. With
 * `sorted = false` the order is still sorted (PyTorch leaves it unspecified).
 */
export function topk(t: AnyTensor, k: number, dim = -1, largest = true, sorted = true): [AnyTensor, AnyTensor] {
  void sorted;
  const rank = t.dim();
  const d = wrapDim(dim, rank);
  const size = rank === 0 ? 1 : t.shape[d];
  if (typeof k !== 'number' || !Number.isInteger(k)) throw new TypeError(`topk(): argument 'k' must be int, not ${String(k)}`);
  if (k < 0 || k > size) throw new RangeError('selected index k out of range');
  const outer = rank === 0 ? 1 : product(t.shape, 0, d);
  const inner = rank === 0 ? 1 : product(t.shape, d + 1);
  const shape = rank === 0 ? [] : t.shape.map((s, i) => (i === d ? k : s));
  const x = t.data as Comparable;
  const values = allocate(t.dtype, outer * k * inner) as Comparable;
  const indices = new BigInt64Array(outer * k * inner);
  const order = new Array<number>(size);
  const line = new Array<number>(size);
  // NaN first when largest (it is the maximum), last otherwise; ties by index.
  const descending = (a: number, b: number): number => {
    const va = line[a];
    const vb = line[b];
    if (va !== va) return vb !== vb ? a - b : -1;
    if (vb !== vb) return 1;
    return va > vb ? -1 : va < vb ? 1 : a - b;
  };
  const ascending = (a: number, b: number): number => {
    const va = line[a];
    const vb = line[b];
    if (va !== va) return vb !== vb ? a - b : 1;
    if (vb !== vb) return -1;
    return va < vb ? -1 : va > vb ? 1 : a - b;
  };
  const beats = largest ? greater : less;
  const bestValues = new Array<number>(k);
  const bestIndices = new Array<number>(k);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * size * inner + j;
      if (k <= SMALL_K) {
        // The best k so far, best first, by insertion: n·k steps with no sort of the whole line.
        let count = 0;
        for (let i = 0; i < size; i++) {
          const v = x[base + i * inner];
          if (count === k && !beats(v, bestValues[k - 1])) continue;
          let p = count < k ? count++ : k - 1;
          for (; p > 0 && beats(v, bestValues[p - 1]); p--) {
            bestValues[p] = bestValues[p - 1];
            bestIndices[p] = bestIndices[p - 1];
          }
          bestValues[p] = v;
          bestIndices[p] = i;
        }
      } else {
        for (let i = 0; i < size; i++) {
          order[i] = i;
          line[i] = x[base + i * inner];
        }
        order.sort(largest ? descending : ascending);
        for (let i = 0; i < k; i++) {
          bestValues[i] = line[order[i]];
          bestIndices[i] = order[i];
        }
      }
      for (let i = 0; i < k; i++) {
        const at = (o * k + i) * inner + j;
        values[at] = bestValues[i];
        indices[at] = BigInt(bestIndices[i]);
      }
    }
  }
  return [new Tensor<DType>(values, shape, t.dtype), new Tensor<DType>(indices, shape, 'int64')];
}
