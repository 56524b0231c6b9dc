/**
 * `deepCopy`: PyTorch's `copy.deepcopy(model)` for a module tree.
 *
 * @packageDocumentation
 */
import { describe, isPlainObject } from '../is';
import { Tensor } from '../tensor';
import { Module, copyModule, type DeepCopy } from './module';

/** A copy of `value` made by `fill` after `remember`, frozen as `value` is (a layer's frozen shape stays frozen). */
function copyContainer<T extends object>(value: object, empty: T, remember: (copy: T) => void, fill: (copy: T) => void): T {
  remember(empty);
  fill(empty);
  if (Object.isFrozen(value)) Object.freeze(empty);
  return empty;
}

/**
 * A copy of `module` that shares nothing mutable with it, as PyTorch's `copy.deepcopy(model)`: a new
 * module of the same class whose own properties are copied, so that changing either (weights,
 * `loadStateDict`, `train()`/`eval()`, `quantizeDynamic(..., { inplace: true })`) never changes the other.
 *
 * - Child modules are copied recursively; a module held in two places (or by a plain property too) is
 *   copied once, and the copy is held in the same places, as deepcopy's memo does.
 * - Parameters, buffers and other Tensors are cloned (new data); a Tensor tied to two places stays tied.
 *   Typed arrays are copied too.
 * - Arrays, plain objects, Maps and Sets are copied deeply (a frozen one stays frozen); primitives are
 *   kept, and so are functions and instances of other classes (a tokenizer, a Date), by reference.
 * - Layers that keep packed weights for the engine (the recurrent layers and cells, Linear, Conv1d and the
 *   quantized modules) start their own packing from the copied weights.
 *
 * A Module subclass of yours is copied through its own properties; one that keeps state in `#private`
 * fields must override {@link Module.copyShell} to carry it. No weights are initialised only to be
 * replaced: a copy takes about the time of cloning its tensors and draws nothing from the global generator.
 *
 * @throws TypeError when `module` is not a Module; Error for a container reachable from its own items
 * @example
 * ```ts
 * const student = deepCopy(teacher);             // copy.deepcopy(teacher)
 * student.loadStateDict(finetuned);              // teacher keeps its weights
 * ```
 */
export function deepCopy<M extends Module>(module: M): M {
  if (!(module instanceof Module)) throw new TypeError(`deepCopy: module must be a Module, got: ${describe(module)}`);
  const memo = new Map<unknown, unknown>();
  // Modules whose shell is being made: a container copies its items first, so an item's way back to it is a cycle.
  const shaping = new Set<Module>();
  const copyValue = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value; // primitives and functions
    if (memo.has(value)) return memo.get(value);
    const remember = (copy: unknown): void => {
      memo.set(value, copy);
    };
    if (value instanceof Module) {
      if (shaping.has(value)) {
        throw new Error(`deepCopy: a ${value.constructor.name} is reachable from its own items, which it needs copied first`);
      }
      shaping.add(value);
      try {
        return copyModule(value, copy, (target) => {
          shaping.delete(value);
          remember(target);
        });
      } finally {
        shaping.delete(value);
      }
    }
    if (value instanceof Tensor) {
      const cloned = value.clone();
      remember(cloned);
      return cloned;
    }
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      const cloned = (value as unknown as { slice(): object }).slice();
      remember(cloned);
      return cloned;
    }
    if (Array.isArray(value)) {
      return copyContainer(value, new Array<unknown>(value.length), remember, (copied) => {
        for (let i = 0; i < value.length; i++) if (i in value) copied[i] = copyValue(value[i]);
      });
    }
    if (value instanceof Map) {
      return copyContainer(value, new Map<unknown, unknown>(), remember, (copied) => {
        for (const [key, item] of value) copied.set(copyValue(key), copyValue(item));
      });
    }
    if (value instanceof Set) {
      return copyContainer(value, new Set<unknown>(), remember, (copied) => {
        for (const item of value) copied.add(copyValue(item));
      });
    }
    if (isPlainObject(value)) {
      return copyContainer(value, Object.create(Object.getPrototypeOf(value) as object | null) as object, remember, (copied) => {
        for (const key of Reflect.ownKeys(value)) {
          const descriptor = Object.getOwnPropertyDescriptor(value, key) as PropertyDescriptor;
          if ('value' in descriptor) descriptor.value = copyValue(descriptor.value);
          Object.defineProperty(copied, key, descriptor);
        }
      });
    }
    return value; // an instance of another class: kept
  };
  const copy = copyValue as DeepCopy;
  return copy(module);
}
