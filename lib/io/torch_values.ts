/**
 * What an unpickled `torch.save` file becomes in JavaScript: dicts become plain objects, lists and tuples
 * arrays, tensors Tensors, and Python's scalars their JavaScript counterparts (see {@link toLoadedValue}).
 *
 * @packageDocumentation
 */
import type { Tensor } from '../tensor';
import { DTypeGlobal, WHAT_LOADS } from './torch_globals';
import { RebuiltTensor, Storage } from './torch_storage';
import { PickleTuple, type PickleDictKey } from './unpickler';

/** How deep containers may nest: Python's own recursion limit, far beyond any checkpoint's few levels. */
export const MAX_NESTING = 1000;

const READABLE_DTYPES = 'float64, float32, float16, bfloat16, int64, int32, int16, int8, uint8 and bool';

/**
 * The property name a dict key becomes, as Python's `json` module writes keys: strings as they are,
 * numbers in decimal (`0`, not `'0'`, in an optimizer's `state`), `true`, `false` and `null`.
 */
export function keyString(key: PickleDictKey): string {
  return typeof key === 'string' ? key : key === null ? 'null' : String(key);
}

function describeKey(key: PickleDictKey): string {
  return typeof key === 'string' ? `'${key}'` : keyString(key);
}

function entryPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function shown(path: string): string {
  return path === '' ? 'the file' : `entry '${path}'`;
}

/**
 * Converts the unpickled tree into the values `loadTorch` returns. Shared objects stay shared (a list held
 * twice is one array), so that a pickle of repeated references cannot make the result grow exponentially.
 */
export function toLoadedValue(root: unknown): unknown {
  const converted = new Map<object, unknown>();

  const convert = (value: unknown, path: string, depth: number): unknown => {
    if (value === null || typeof value !== 'object') return value; // number, bigint, string, boolean, None
    if (depth > MAX_NESTING) {
      throw new Error(`refusing to load: ${shown(path)} nests containers more than ${MAX_NESTING} levels deep (the limit)`);
    }
    const known = converted.get(value);
    if (known !== undefined) return known;
    if (value instanceof Map) {
      // No prototype: a key such as '__proto__' is an entry like any other.
      const object: Record<string, unknown> = Object.create(null);
      converted.set(value, object);
      const origins = new Map<string, PickleDictKey>();
      for (const [key, item] of value as Map<PickleDictKey, unknown>) {
        const name = keyString(key);
        const earlier = origins.get(name);
        if (earlier !== undefined) {
          throw new Error(`${shown(path)} has the keys ${describeKey(earlier)} and ${describeKey(key)}, which are both the property '${name}' in JavaScript`);
        }
        origins.set(name, key);
        object[name] = convert(item, entryPath(path, name), depth + 1);
      }
      return object;
    }
    if (value instanceof PickleTuple || Array.isArray(value)) {
      const items = value instanceof PickleTuple ? value.items : (value as unknown[]);
      const array: unknown[] = [];
      converted.set(value, array);
      items.forEach((item, i) => array.push(convert(item, entryPath(path, String(i)), depth + 1)));
      return array;
    }
    if (value instanceof RebuiltTensor) {
      if (value.tensor === undefined) {
        throw new Error(`tensor ${path === '' ? 'in the file' : `'${path}'`} has dtype ${value.unsupportedDType}; loadTorch reads ${READABLE_DTYPES} tensors`);
      }
      return value.tensor as Tensor;
    }
    if (value instanceof Uint8Array) return value; // bytes
    if (value instanceof DTypeGlobal) return value.qualifiedName; // str(torch.float16) is 'torch.float16'
    if (value instanceof Storage) {
      throw new Error(`${shown(path)} holds a bare storage, not a tensor; save the tensor itself. ${WHAT_LOADS}`);
    }
    const name = 'qualifiedName' in value ? `'${String((value as { qualifiedName: unknown }).qualifiedName)}'` : 'an object';
    throw new Error(`${shown(path)} holds ${name} uncalled, which is not data. ${WHAT_LOADS}`);
  };

  return convert(root, '', 0);
}
