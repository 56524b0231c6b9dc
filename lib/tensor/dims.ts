/**
 * Shapes, strides and dimension arguments: the arithmetic every tensor operation starts with, and
 * PyTorch's messages for a dimension out of range.
 *
 * @packageDocumentation
 */

/** Number of elements of a tensor of `shape`. */
export function product(shape: readonly number[], from = 0, to = shape.length): number {
  let n = 1;
  for (let i = from; i < to; i++) n *= shape[i];
  return n;
}

/** Row-major strides (in elements) of a contiguous tensor of `shape`. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** `[2, 3]` as PyTorch prints a size list. */
export function formatShape(shape: readonly unknown[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * `dim` made non-negative for a tensor of `rank` dimensions, as PyTorch's `maybe_wrap_dim`: a 0-d tensor
 * takes dims -1 and 0 as if it had one dimension (unless `scalarAsVector` is false).
 */
export function wrapDim(dim: unknown, rank: number, scalarAsVector = true): number {
  if (typeof dim !== 'number' || !Number.isInteger(dim)) throw new TypeError(`dim must be an integer, got ${String(dim)}`);
  if (rank === 0) {
    if (!scalarAsVector) throw new RangeError(`Dimension specified as ${dim} but tensor has no dimensions`);
    rank = 1;
  }
  if (dim < -rank || dim >= rank) {
    throw new RangeError(`Dimension out of range (expected to be in range of [${-rank}, ${rank - 1}], but got ${dim})`);
  }
  return dim < 0 ? dim + rank : dim;
}

/** The reduced dims of a `dim` argument (one dim or a list; none or `[]` is every dim), sorted, each once. */
export function reductionDims(dim: number | readonly number[] | undefined, rank: number): number[] {
  if (dim === undefined || (Array.isArray(dim) && dim.length === 0)) return Array.from({ length: rank }, (_, i) => i);
  const list: readonly number[] = typeof dim === 'number' ? [dim] : dim;
  const seen = new Set<number>();
  for (const d of list) {
    const w = wrapDim(d, rank);
    if (seen.has(w)) throw new RangeError(`dim ${w} appears multiple times in the list of dims`);
    seen.add(w);
  }
  // A 0-d tensor's dim 0 names no real dimension.
  return [...seen].filter((d) => d < rank).sort((a, b) => a - b);
}

/**
 * The shape (or size list) given either as one array or as separate numbers, as PyTorch's
 * `view(2, 3)` and `view((2, 3))` both are.
 */
export function sizesArgument(args: readonly (number | readonly number[])[]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as readonly number[])];
  return args as number[];
}

/**
 * `shape` walked with one stride list per operand, simplified: size-1 dims dropped and neighbours merged
 * where every operand steps through them as one (outer stride = inner stride × inner size), so that
 * loops over the result run fewer, longer inner runs.
 */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const merged: number[] = [];
  const steps: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d];
    if (size === 1) continue;
    const last = merged.length - 1;
    if (last >= 0 && strides.every((s, k) => steps[k][last] === s[d] * size)) {
      merged[last] *= size;
      for (let k = 0; k < strides.length; k++) steps[k][last] = strides[k][d];
    } else {
      merged.push(size);
      for (let k = 0; k < strides.length; k++) steps[k].push(strides[k][d]);
    }
  }
  return { shape: merged, strides: steps };
}
