/**
 * PyTorch's containers: `nn.Sequential`, `nn.ModuleList` and `nn.ModuleDict`, modules whose children are
 * kept in their own ordered list rather than in properties.
 *
 * @packageDocumentation
 */
import { describe, isInteger, isPlainObject } from '../is';
import { Module, checkModuleEntry, type DeepCopy } from './module';

/**
 * PyTorch's `add_module` checks; a container's items are Modules (not null). Their names are not
 * attributes of the container, so no name is taken by one.
 */
function checkChild(name: unknown, module: unknown): asserts name is string {
  if (module === null) throw new TypeError('null is not a Module subclass');
  checkModuleEntry(name, module);
}

/** An index as PyTorch's `operator.index` takes it: an integer. */
function checkIndex(index: unknown): asserts index is number {
  if (!isInteger(index)) throw new TypeError(`indices must be integers, got: ${describe(index)}`);
}

/** `index` made non-negative, or PyTorch's IndexError for one outside `[-length, length)`. */
function absoluteIndex(index: unknown, length: number): number {
  checkIndex(index);
  if (index < -length || index >= length) throw new RangeError(`index ${index} is out of range`);
  return index < 0 ? index + length : index;
}

/** Python's slice bounds for `[start:end]` over `length` items (negative from the end, clamped). */
function sliceBounds(start: number | undefined, end: number | undefined, length: number): [number, number] {
  const clamp = (value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    checkIndex(value);
    return value < 0 ? Math.max(0, value + length) : Math.min(value, length);
  };
  return [clamp(start, 0), clamp(end, length)];
}

/** PyTorch's NotImplementedError for a module without `forward`. */
function forwardOf(module: Module): (input: unknown) => unknown {
  const forward = (module as { forward?: unknown }).forward;
  if (typeof forward !== 'function') {
    throw new Error(`Module [${module.constructor.name}] is missing the required "forward" function`);
  }
  return (input) => (forward as (input: unknown) => unknown).call(module, input);
}

/**
 * Numeric properties `container[0]`, `container[1]`, ... for the current items: non-enumerable, so that
 * they are not taken for children, and removed past the end when the container shrinks.
 */
function defineIndexProperties(target: object, length: number, previousLength: number, get: (i: number) => Module, set: (i: number, m: Module) => void): void {
  for (let i = 0; i < length; i++) {
    if (i < previousLength) continue;
    Object.defineProperty(target, i, { configurable: true, enumerable: false, get: () => get(i), set: (m: unknown) => set(i, m as Module) });
  }
  for (let i = length; i < previousLength; i++) delete (target as Record<number, unknown>)[i];
}

/** The named entries of a plain object or Map, in order; anything else is null. */
function namedEntries(value: unknown): Array<[unknown, unknown]> | null {
  if (value instanceof Map) return [...(value as Map<unknown, unknown>)];
  if (isPlainObject(value)) return Object.entries(value);
  return null;
}

/**
 * A chain of modules, as PyTorch's `nn.Sequential`: `forward` feeds its input to the first child and each
 * output to the next, returning the last output. Children are named `'0'`, `'1'`, ... or, built from named
 * entries (a Map keeps any key order; a plain object puts integer-like keys first, as JS objects do), by
 * their keys.
 *
 * Items are reached by position with {@link Sequential.at} (negative from the end) or `seq[0]`; `seq[i] =
 * module` replaces one, keeping its name. Items are typed `Module`, since a chain mixes kinds: cast to the
 * layer's class where its own members are needed (`seq.at(-1) as Linear`); a {@link ModuleList} is typed
 * by its items.
 *
 * @example
 * ```ts
 * const head = new Sequential(new Linear(64, 32), new ReLU(), new Linear(32, 5));
 * const logits = head.forward(x);
 * head.at(-1);          // the last Linear
 * head.slice(0, 2);     // Sequential of the first two, named '0' and '1'
 * const named = new Sequential(new Map([['proj', new Linear(64, 32)], ['act', new ReLU()]]));
 * ```
 */
export class Sequential extends Module {
  /** The item at a position (numeric property; negative positions: {@link Sequential.at}). */
  [index: number]: Module;

  readonly #modules = new Map<string, Module>();

  /** `new Sequential(a, b, c)`, as `nn.Sequential(a, b, c)`: children `'0'`, `'1'`, `'2'`. */
  constructor(...modules: Module[]);
  /** `new Sequential(new Map([['conv', conv], ['act', act]]))`, as `nn.Sequential(OrderedDict(...))`. */
  constructor(namedModules: Map<string, Module> | Record<string, Module>);
  constructor(...args: unknown[]) {
    super();
    const named = args.length === 1 ? namedEntries(args[0]) : null;
    const entries = named ?? args.map((module, i): [unknown, unknown] => [String(i), module]);
    for (const [name, module] of entries) {
      checkChild(name, module);
      this.#modules.set(name, module as Module);
    }
    this.#syncIndexProperties(0);
  }

  /** Built by this constructor from the copied items, under their names. */
  protected override copyShell(copy: DeepCopy): Module {
    return Reflect.construct(Sequential, [new Map([...this.#modules].map(([name, module]) => [name, copy(module)]))], this.constructor) as Module;
  }

  protected override childEntries(): Array<[string, Module]> {
    return [...this.#modules];
  }

  /** Number of items. */
  get length(): number {
    return this.#modules.size;
  }

  /** The item at `index` (negative counts from the end), as `seq[index]` in PyTorch. */
  at(index: number): Module {
    return [...this.#modules.values()][absoluteIndex(index, this.length)];
  }

  /** Replaces the item at `index` (negative counts from the end), keeping its name, as `seq[index] = module`. */
  set(index: number, module: Module): void {
    const key = [...this.#modules.keys()][absoluteIndex(index, this.length)];
    checkChild(key, module);
    this.#modules.set(key, module);
  }

  /** A new Sequential of the items in `[start, end)` (Python's slice bounds), keeping their names, as `seq[start:end]`. */
  slice(start?: number, end?: number): Sequential {
    const [from, to] = sliceBounds(start, end, this.length);
    return new Sequential(new Map([...this.#modules].slice(from, to)));
  }

  /** Adds or replaces the child under `name`, as PyTorch's `add_module` (a new name goes last). */
  override addModule(name: string, module: Module): void {
    checkChild(name, module);
    const previousLength = this.length;
    this.#modules.set(name, module);
    this.#syncIndexProperties(previousLength);
  }

  /** Adds `module` at the end under the name of its position; returns this Sequential. */
  append(module: Module): this {
    checkChild(String(this.length), module);
    this.#modules.set(String(this.length), module);
    this.#syncIndexProperties(this.length - 1);
    return this;
  }

  /** Appends every module of `modules` (an iterable, such as another Sequential); returns this Sequential. */
  extend(modules: Iterable<Module>): this {
    for (const module of [...modules]) this.append(module);
    return this;
  }

  /**
   * Inserts `module` before position `index` (`-length <= index <= length`), renaming the items after it,
   * as PyTorch's `Sequential.insert`; returns this Sequential. Only for children named by position, as in
   * PyTorch.
   */
  insert(index: number, module: Module): this {
    checkIndex(index);
    if (!(module instanceof Module)) throw new TypeError(`module should be of type: Module, got: ${describe(module)}`);
    const n = this.length;
    if (index < -n || index > n) throw new RangeError(`Index out of range: ${index}`);
    const position = index < 0 ? index + n : index;
    const keys = [...this.#modules.keys()];
    // PyTorch moves each later item up by one numbered key, which only works when the keys are positions.
    const named = keys.find((key, i) => key !== String(i));
    if (named !== undefined) {
      throw new Error(`insert() needs children named by position ('0', '1', ...), but this Sequential has '${named}'`);
    }
    const modules = [...this.#modules.values()];
    for (let i = n; i > position; i--) this.#modules.set(String(i), modules[i - 1]);
    this.#modules.set(String(position), module);
    this.#syncIndexProperties(n);
    return this;
  }

  /** Removes the item at `index` and returns it; the items are renumbered `'0'`, `'1'`, ... as in PyTorch. */
  pop(index: number): Module {
    const position = absoluteIndex(index, this.length);
    const entries = [...this.#modules];
    const [[, removed]] = entries.splice(position, 1);
    this.#modules.clear();
    entries.forEach(([, module], i) => this.#modules.set(String(i), module));
    this.#syncIndexProperties(entries.length + 1);
    return removed;
  }

  /** The items, in order. */
  [Symbol.iterator](): IterableIterator<Module> {
    return this.#modules.values();
  }

  /**
   * Feeds `input` to the first item, each output to the next, and returns the last output (the input
   * itself when empty). The types are whatever the items take and give, as in PyTorch.
   */
  forward(input: any): any {
    let value: unknown = input;
    for (const module of this.#modules.values()) value = forwardOf(module)(value);
    return value;
  }

  #syncIndexProperties(previousLength: number): void {
    defineIndexProperties(
      this,
      this.length,
      previousLength,
      (i) => this.at(i),
      (i, m) => this.set(i, m),
    );
  }
}

/**
 * A list of modules whose items are children, as PyTorch's `nn.ModuleList` (a plain array of modules is
 * not walked, as a Python list is not). Items are named `'0'`, `'1'`, ...; reached with
 * {@link ModuleList.at} (negative from the end), `list[i]` or iteration. It has no `forward`.
 *
 * @example
 * ```ts
 * class Stack extends Module {
 *   layers = new ModuleList([new LSTM(8, 8), new LSTM(8, 8)]);
 *   forward(x: Tensor): Tensor {
 *     for (const layer of this.layers) [x] = layer.forward(x);
 *     return x;
 *   }
 * }
 * ```
 */
export class ModuleList<M extends Module = Module> extends Module {
  /** The item at a position (numeric property; negative positions: {@link ModuleList.at}). */
  [index: number]: M;

  #modules: M[] = [];

  /** `new ModuleList([a, b])`, as `nn.ModuleList([a, b])`. */
  constructor(modules?: Iterable<M>) {
    super();
    if (modules !== undefined) this.extend(modules);
  }

  /** Built by this constructor from the copied items. */
  protected override copyShell(copy: DeepCopy): Module {
    return Reflect.construct(ModuleList, [this.#modules.map(copy)], this.constructor) as Module;
  }

  protected override childEntries(): Array<[string, Module]> {
    return this.#modules.map((module, i) => [String(i), module]);
  }

  /** Number of items. */
  get length(): number {
    return this.#modules.length;
  }

  /** The item at `index` (negative counts from the end), as `list[index]` in PyTorch. */
  at(index: number): M {
    return this.#modules[absoluteIndex(index, this.length)];
  }

  /** Replaces the item at `index` (negative counts from the end), as `list[index] = module`. */
  set(index: number, module: M): void {
    const position = absoluteIndex(index, this.length);
    checkChild(String(position), module);
    this.#modules[position] = module;
  }

  /** A new ModuleList of the items in `[start, end)` (Python's slice bounds), renumbered, as `list[start:end]`. */
  slice(start?: number, end?: number): ModuleList<M> {
    const [from, to] = sliceBounds(start, end, this.length);
    return new ModuleList(this.#modules.slice(from, to));
  }

  /**
   * `add_module` on a list: the name must be a position, an existing one (replaced) or the next one
   * (appended), since a list's children are named by position.
   */
  override addModule(name: string, module: M): void {
    checkChild(name, module);
    if (name === String(this.length)) this.append(module);
    else if (/^(0|[1-9]\d*)$/.test(name) && Number(name) < this.length) this.set(Number(name), module);
    else throw new RangeError(`ModuleList children are named by position ('0' to '${this.length}' here), got '${name}'`);
  }

  /** Adds `module` at the end; returns this list. */
  append(module: M): this {
    checkChild(String(this.length), module);
    this.#modules.push(module);
    this.#syncIndexProperties(this.length - 1);
    return this;
  }

  /** Appends every module of an iterable; returns this list. */
  extend(modules: Iterable<M>): this {
    if (modules === null || typeof (modules as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
      throw new TypeError(`ModuleList.extend should be called with an iterable, but got ${describe(modules)}`);
    }
    for (const module of [...modules]) this.append(module);
    return this;
  }

  /**
   * Inserts `module` before position `index`, as a list's `insert`: a negative index counts from the end,
   * and one beyond either end inserts there.
   */
  insert(index: number, module: M): void {
    checkIndex(index);
    checkChild(String(index), module);
    const n = this.length;
    const position = index < 0 ? Math.max(0, index + n) : Math.min(index, n);
    this.#modules.splice(position, 0, module);
    this.#syncIndexProperties(n);
  }

  /** Removes the item at `index` and returns it; the items after it are renumbered. */
  pop(index: number): M {
    const position = absoluteIndex(index, this.length);
    const [removed] = this.#modules.splice(position, 1);
    this.#syncIndexProperties(this.length + 1);
    return removed;
  }

  /** The items, in order. */
  [Symbol.iterator](): IterableIterator<M> {
    return this.#modules.values();
  }

  /**
   * As current PyTorch prints a ModuleList (since 2.1): a run of items that print alike is one line,
   * `(0-2): 3 x LSTM(8, 8)`.
   */
  protected override reprChildren(): Array<[string, string]> {
    const runs: Array<{ first: number; last: number; repr: string }> = [];
    this.#modules.forEach((module, i) => {
      const repr = String(module);
      const run = runs[runs.length - 1];
      if (run !== undefined && run.repr === repr) run.last = i;
      else runs.push({ first: i, last: i, repr });
    });
    return runs.map(({ first, last, repr }): [string, string] =>
      first === last ? [String(first), repr] : [`${first}-${last}`, `${last - first + 1} x ${repr}`],
    );
  }

  #syncIndexProperties(previousLength: number): void {
    defineIndexProperties(
      this,
      this.length,
      previousLength,
      (i) => this.at(i),
      (i, m) => this.set(i, m as M),
    );
  }
}

/**
 * A dictionary of modules whose values are children, as PyTorch's `nn.ModuleDict`: keys in insertion
 * order (setting an existing key keeps its place). Iterating gives the keys, as in PyTorch. It has no
 * `forward`.
 *
 * @example
 * ```ts
 * const heads = new ModuleDict({ tags: new Linear(64, 5), chunks: new Linear(64, 3) });
 * heads.get('tags').forward(x);
 * for (const [name, head] of heads.items()) ...
 * ```
 */
export class ModuleDict<M extends Module = Module> extends Module {
  readonly #modules = new Map<string, M>();

  /** `new ModuleDict({ a, b })` or from a Map or `[key, module]` pairs, as `nn.ModuleDict(...)`. */
  constructor(modules?: Map<string, M> | Record<string, M> | Iterable<readonly [string, M]>) {
    super();
    if (modules !== undefined) this.update(modules);
  }

  /** Built by this constructor from the copied items, under their keys. */
  protected override copyShell(copy: DeepCopy): Module {
    return Reflect.construct(ModuleDict, [new Map([...this.#modules].map(([key, module]) => [key, copy(module)]))], this.constructor) as Module;
  }

  protected override childEntries(): Array<[string, Module]> {
    return [...this.#modules];
  }

  /** Number of entries. */
  get length(): number {
    return this.#modules.size;
  }

  /**
   * The module under `key`.
   *
   * @throws RangeError naming the key when there is none (PyTorch's KeyError)
   */
  get(key: string): M {
    const module = this.#modules.get(key);
    if (module === undefined) throw new RangeError(`ModuleDict has no key '${String(key)}'`);
    return module;
  }

  /** Sets the module under `key` (checked as PyTorch's `add_module`); a new key goes last. */
  set(key: string, module: M): void {
    checkChild(key, module);
    this.#modules.set(key, module);
  }

  /** Sets the module under `name`, as `set` (PyTorch's `add_module`). */
  override addModule(name: string, module: M): void {
    this.set(name, module);
  }

  /** Whether there is a module under `key`. */
  has(key: string): boolean {
    return this.#modules.has(key);
  }

  /** Removes the entry under `key` and returns its module. */
  pop(key: string): M {
    const module = this.get(key);
    this.#modules.delete(key);
    return module;
  }

  /** Removes every entry. */
  clear(): void {
    this.#modules.clear();
  }

  /** The keys, in order. */
  keys(): string[] {
    return [...this.#modules.keys()];
  }

  /** The modules, in key order. */
  values(): M[] {
    return [...this.#modules.values()];
  }

  /** The `[key, module]` pairs, in order. */
  items(): Array<[string, M]> {
    return [...this.#modules];
  }

  /**
   * Sets every entry of `modules` (a Map, a plain object, another ModuleDict or an iterable of
   * `[key, module]` pairs), in their order, as PyTorch's `update`.
   */
  update(modules: Map<string, M> | Record<string, M> | ModuleDict<M> | Iterable<readonly [string, M]>): void {
    const entries = modules instanceof ModuleDict ? modules.items() : namedEntries(modules);
    if (entries !== null) {
      for (const [key, module] of entries) this.set(key as string, module as M);
      return;
    }
    if (modules === null || typeof (modules as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
      throw new TypeError(`ModuleDict.update should be called with an iterable of key/value pairs, but got ${describe(modules)}`);
    }
    let j = 0;
    for (const pair of modules as Iterable<unknown>) {
      if (pair === null || typeof (pair as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
        throw new TypeError(`ModuleDict update sequence element #${j} should be Iterable; is ${describe(pair)}`);
      }
      const items = [...(pair as Iterable<unknown>)];
      if (items.length !== 2) throw new Error(`ModuleDict update sequence element #${j} has length ${items.length}; 2 is required`);
      this.set(items[0] as string, items[1] as M);
      j++;
    }
  }

  /** The keys, in order, as iterating a PyTorch ModuleDict gives. */
  [Symbol.iterator](): IterableIterator<string> {
    return this.#modules.keys();
  }
}
