/**
 * A loaded checkpoint seen as a tree of entries: every leaf with its dotted path (`model.encoder.weight`,
 * `optimizer.state.0.step`, `epoch`), and its tensors gathered under those paths so that a recurrent layer
 * can be found wherever it sits.
 *
 * @packageDocumentation
 */
import { Tensor } from '../tensor';

/** A leaf of the tree: a tensor, or any other value (number, string, null, bytes, an empty container). */
export interface TreeLeaf {
  /** Dotted path from the root: object keys and array indices joined with dots. */
  path: string;
  value: unknown;
  /** For an object or array met before (a shared reference): the path where it was first listed. */
  sameAs?: string;
}

/** Where a tensor sits: the path of the object that holds it, and its key in that object. */
export interface TensorPlace {
  tensor: Tensor;
  /** Keys and indices from the root to the object holding the tensor (empty for the root). */
  owner: Array<string | number>;
  /** The tensor's key in that object (itself dotted in a state dict: `encoder.rnn.weight_ih_l0`). */
  key: string;
}

/** The leaves of a checkpoint, in order, and its tensors by their full dotted path. */
export interface CheckpointTree {
  leaves: TreeLeaf[];
  tensors: Map<string, TensorPlace>;
}

function isContainer(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !(value instanceof Tensor) && !ArrayBuffer.isView(value);
}

function isEmpty(value: object): boolean {
  return Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
}

/** True for an array of plain values only, which reads best on one line (`[0.9, 0.999]`). */
export function isFlatArray(value: unknown): value is unknown[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => !isContainer(item) && !(item instanceof Tensor));
}

/**
 * Walks `root` depth-first in key order. A container met a second time (a shared reference, or a cycle)
 * is listed once more as a leaf pointing at its first path, not walked again.
 */
export function walkCheckpoint(root: unknown): CheckpointTree {
  const leaves: TreeLeaf[] = [];
  const tensors = new Map<string, TensorPlace>();
  const firstPath = new Map<object, string>();

  const visit = (value: unknown, path: string, owner: Array<string | number>): void => {
    if (!isContainer(value) || isEmpty(value) || isFlatArray(value)) {
      leaves.push({ path, value });
      return;
    }
    const seen = firstPath.get(value);
    if (seen !== undefined) {
      leaves.push({ path, value, sameAs: seen });
      return;
    }
    firstPath.set(value, path);
    const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((item, i) => [i, item]) : Object.entries(value);
    for (const [key, item] of entries) {
      const itemPath = path === '' ? String(key) : `${path}.${key}`;
      if (item instanceof Tensor) {
        leaves.push({ path: itemPath, value: item });
        // The first of two equal dotted paths wins: `{"a.b": t, "a": {"b": u}}` is no real checkpoint.
        if (!tensors.has(itemPath)) tensors.set(itemPath, { tensor: item, owner, key: String(key) });
      } else {
        visit(item, itemPath, [...owner, key]);
      }
    }
  };

  if (root instanceof Tensor) {
    leaves.push({ path: '', value: root });
    tensors.set('', { tensor: root, owner: [], key: '' });
  } else {
    visit(root, '', []);
  }
  return { leaves, tensors };
}

/** The tensors of `root` as one flat state dict keyed by full dotted path (`model.encoder.rnn.weight_ih_l0`). */
export function flatTensors(root: unknown): Record<string, Tensor> {
  const flat: Record<string, Tensor> = {};
  for (const [path, place] of walkCheckpoint(root).tensors) flat[path] = place.tensor;
  return flat;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** How TypeScript reaches the object at `owner` from a variable `root`: `checkpoint.model`, `sd['my model']`. */
export function accessor(root: string, owner: ReadonlyArray<string | number>): string {
  return owner
    .map((key) => (typeof key === 'number' ? `[${key}]` : IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`))
    .reduce((text, step) => text + step, root);
}
