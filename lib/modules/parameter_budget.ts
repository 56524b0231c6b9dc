/**
 * What a module's constructor will allocate, worked out from its sizes before anything is allocated, and
 * refused with a RangeError naming the size when the engine cannot take it or the process cannot hold it.
 *
 * Without these checks a module too large to build fails late and badly: `numLayers: 2 ** 31 - 1` creates
 * parameter tensors until the JavaScript heap is exhausted (the process dies), and a parameter beyond a
 * typed array's length gives V8's bare `Invalid typed array length`.
 *
 * @packageDocumentation
 */
import { constants as bufferConstants } from 'buffer';
import { totalmem } from 'os';
import { getHeapStatistics } from 'v8';
import type { DType } from '../tensor';

/** The engine's largest size or count (its `kMaxDimension`, int32 range): larger ones it refuses. */
export const MAX_DIMENSION = 2 ** 31 - 1;

/** The most elements one typed array may hold here (V8's limit: 2^32 in Node 18–20). */
export const MAX_TENSOR_ELEMENTS = bufferConstants.MAX_LENGTH;

/**
 * JavaScript heap taken per parameter tensor, beyond its data: the Tensor, its typed array, its shape and
 * the module's entry for it (measured about 650 bytes in Node 20; rounded up).
 */
export const HEAP_BYTES_PER_PARAMETER = 1024;

const BYTES_PER_ELEMENT: Partial<Record<DType, number>> = { float32: 4, float64: 8 };

/** Parameters of one shape that a module creates `count` times (e.g. one per layer above the first). */
export interface ParameterGroup {
  /** The first parameter's name, e.g. `weight_ih_l1`. */
  name: string;
  /** The shape every parameter of the group has. */
  shape: readonly number[];
  /** How many parameters have it (0: none, skipped). */
  count: number;
}

/** Throws a RangeError naming `name` when a size is beyond what the engine takes. */
export function checkDimension(name: string, value: number): void {
  if (value > MAX_DIMENSION) {
    throw new RangeError(`${name} must be at most ${MAX_DIMENSION} (the engine's limit), got ${value}`);
  }
}

/**
 * The memory this process may use: the machine's, or a container's limit (cgroup) when lower. Node
 * reports no limit as 0 or as a huge number, depending on version and system.
 */
function availableMemory(): number {
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  return limit !== undefined && limit > 0 ? Math.min(limit, totalmem()) : totalmem();
}

function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Throws a RangeError unless every parameter of `groups` fits a typed array, the tensors themselves fit
 * half of the JavaScript heap (the program needs the rest), and all their bytes fit the memory this
 * process may use (the machine's, or its container's limit). `module` names the module and its sizes in the message, e.g. `LSTM(4, 8, numLayers=2147483647)`;
 * `blame` is the constructor argument that multiplies the number of tensors (`num_layers`), if any.
 * Sizes are at most 2^31 - 1 here, so every product is exact or far beyond the limits it is compared with.
 */
export function checkParameterBudget(module: string, groups: readonly ParameterGroup[], dtype: DType, blame?: string): void {
  let elements = 0;
  let tensors = 0;
  for (const { name, shape, count } of groups) {
    if (count === 0) continue;
    const size = shape.reduce((n, s) => n * s, 1);
    if (size > MAX_TENSOR_ELEMENTS) {
      throw new RangeError(
        `${module}: ${name} of shape (${shape.join(', ')}) would hold ${size} elements, more than a typed array ` +
          `can hold (${MAX_TENSOR_ELEMENTS})`,
      );
    }
    elements += size * count;
    tensors += count;
  }
  const heap = getHeapStatistics().heap_size_limit / 2;
  if (tensors * HEAP_BYTES_PER_PARAMETER > heap) {
    throw new RangeError(
      `${blame ? `${blame} is too large: ` : ''}${module} would create ${tensors} parameter tensors; at about ` +
        `${HEAP_BYTES_PER_PARAMETER} bytes of JavaScript heap each, at most ${Math.floor(heap / HEAP_BYTES_PER_PARAMETER)} ` +
        `fit in half the heap (its limit is ${formatBytes(heap * 2)})`,
    );
  }
  const bytes = elements * (BYTES_PER_ELEMENT[dtype] ?? 8);
  const memory = availableMemory();
  if (bytes > memory) {
    throw new RangeError(
      `${module} would allocate ${bytes} bytes (${formatBytes(bytes)}) of ${dtype} parameters, more than the ` +
        `memory this process may use (${formatBytes(memory)})`,
    );
  }
}
