/**
 * Views of a storage (an offset and a stride per dimension, as PyTorch tensors are) gathered into the
 * contiguous row-major data a Tensor holds.
 *
 * @packageDocumentation
 */

/** The typed arrays a view may be gathered from (and into): one per element format. */
export type StridedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const size of shape) n *= size;
  return n;
}

/**
 * Throws unless every element of the view lies inside a storage of `storageLength` elements and the view
 * holds no more elements than the storage: a view that repeats elements (a stride of 0, an expanded
 * tensor) is refused, so that what a file makes us allocate stays bounded by the file's size.
 */
export function checkStridedView(
  shape: readonly number[],
  stride: readonly number[],
  offset: number,
  storageLength: number,
): void {
  if (stride.length !== shape.length) {
    throw new Error(`size has ${shape.length} dimensions but stride has ${stride.length}`);
  }
  if (!stride.every((s) => Number.isSafeInteger(s) && s >= 0)) {
    throw new Error(`stride [${stride.join(', ')}] should hold non-negative integers`);
  }
  const numel = numelOf(shape);
  if (!Number.isSafeInteger(numel)) throw new Error(`size [${shape.join(', ')}] has too many elements`);
  if (numel === 0) return;
  let last = offset;
  for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * stride[d];
  if (!Number.isSafeInteger(last) || last >= storageLength) {
    throw new Error(
      `a view of size [${shape.join(', ')}], stride [${stride.join(', ')}] and storage offset ${offset} ` +
        `reaches element ${last}, but the storage holds ${storageLength} elements`,
    );
  }
  if (numel > storageLength) {
    throw new Error(
      `a view of size [${shape.join(', ')}] and stride [${stride.join(', ')}] has ${numel} elements but its storage ` +
        `holds ${storageLength}: it repeats elements (an expanded tensor); save tensor.contiguous() instead`,
    );
  }
}

/** True when a view with these sizes and strides is one contiguous, row-major run of its storage. */
export function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

/**
 * The elements of the view of `storage` at `offset` with `shape` and `stride`, in row-major order, as a
 * new array of the storage's kind. The view must have passed {@link checkStridedView}.
 */
export function gatherStrided<T extends StridedArray>(
  storage: T,
  shape: readonly number[],
  stride: readonly number[],
  offset: number,
): T {
  const numel = numelOf(shape);
  if (isContiguous(shape, stride)) return storage.slice(offset, offset + numel) as T;
  const out = new (storage.constructor as new (length: number) => T)(numel);
  // Elements move as they are (numbers, or bigints for int64): source and target are of one kind.
  const from = storage as unknown as ArrayLike<unknown>;
  const to = out as unknown as unknown[];
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let source = offset;
  for (let i = 0; i < numel; i++) {
    to[i] = from[source];
    // Advance the multi-index like an odometer, innermost dimension first.
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      source += stride[d];
      if (index[d] < shape[d]) break;
      source -= stride[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}
