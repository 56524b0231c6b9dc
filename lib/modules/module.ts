/**
 * PyTorch's `nn.Module`: a tree of modules, each with its own parameters and buffers, walked in PyTorch's
 * order for names, state dicts, training mode, dtype conversion and the printed repr.
 *
 * @packageDocumentation
 */
import { describe, isBoolean, isPlainObject } from '../is';
import { Tensor, isDType, isFloatDType, type DType, type FloatDType } from '../tensor';
import { normalisePrefix } from './state_dict_prefix';

/** A state dict as a plain object or a Map from parameter or buffer name to Tensor (buffers may be of any dtype). */
export type StateDict = Record<string, Tensor<DType>> | Map<string, Tensor<DType>>;

/** What {@link Module.loadStateDict} returns: PyTorch's `_IncompatibleKeys`. */
export interface IncompatibleKeys {
  /** Parameters and persistent buffers of the module absent from the state dict (left unchanged), dotted. */
  missingKeys: string[];
  /** Keys of the state dict that name no parameter, persistent buffer or child (ignored). */
  unexpectedKeys: string[];
}

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /** When true (the default), missing or unexpected keys are an error. Shape mismatches always are. */
  strict?: boolean;
  /**
   * Where this module's keys sit in a larger model's state dict, e.g. `'encoder.rnn.'` (a trailing dot is
   * added when missing). Keys outside the prefix are ignored, not unexpected; reported keys keep it.
   */
  prefix?: string;
}

/** Options of {@link Module.namedModules}. */
export interface NamedModulesOptions {
  /** Prepended to every name, joined with a dot (`'model'` gives `'model'`, `'model.encoder'`, ...). */
  prefix?: string;
  /** Yield a module reachable by several paths once, under its first name (the default, as PyTorch). */
  removeDuplicate?: boolean;
}

/** Options of {@link Module.namedParameters} and {@link Module.namedBuffers}. */
export interface NamedMembersOptions extends NamedModulesOptions {
  /** Include the members of every descendant (the default), not only this module's own. */
  recurse?: boolean;
}

/** Options of {@link Module.registerBuffer}. */
export interface RegisterBufferOptions {
  /** Whether the buffer is part of the state dict (the default, as PyTorch). */
  persistent?: boolean;
}

/**
 * The copy of any value within one `deepCopy`: the same copy for the same value (shared modules and
 * tied tensors stay shared), as Python's `deepcopy(value, memo)`.
 */
export type DeepCopy = <T>(value: T) => T;

/** Options of {@link Module.stateDict}. */
export interface StateDictOptions {
  /** Prepended to every key, e.g. `'model.'` (a trailing dot is added when missing). */
  prefix?: string;
}

function torchSize(shape: readonly number[]): string {
  return `torch.Size([${shape.join(', ')}])`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, i) => size === b[i]);
}

/** `source`'s values written into `target`'s data, converted to its dtype as PyTorch's `copy_` does. */
function copyInto(target: Tensor<DType>, source: Tensor<DType>): void {
  const converted: Tensor<DType> = source.to(target.dtype);
  (target.data as unknown as { set(values: ArrayLike<unknown>): void }).set(converted.data as ArrayLike<unknown>);
}

/** The entries of an object or Map state dict, in order; anything else is PyTorch's TypeError. */
export function stateDictEntries(sd: unknown): Map<string, unknown> {
  if (sd instanceof Map) return sd as Map<string, unknown>;
  if (isPlainObject(sd)) return new Map(Object.entries(sd));
  throw new TypeError(`Expected state_dict to be dict-like, got ${describe(sd)}.`);
}

/** PyTorch's `_addindent`: every line after the first indented by `spaces`. */
function indentTail(text: string, spaces: number): string {
  const [first, ...rest] = text.split('\n');
  return [first, ...rest.map((line) => ' '.repeat(spaces) + line)].join('\n');
}

/** Modules whose repr is being printed, to refuse a tree that contains itself rather than overflow. */
const printing = new WeakSet<object>();

/** Modules whose training mode is being set, so that a cycle ends instead of recursing forever. */
const settingMode = new WeakSet<object>();

/** The key prefix of a module at `name` (`''` for the root, else `'a.b.'`). */
function keyPrefixOf(name: string): string {
  return name === '' ? '' : `${name}.`;
}

/** A module's dotted name from its key prefix, `'the root'` for the root (for messages). */
function shownPath(keyPrefix: string): string {
  return keyPrefix === '' ? 'the root' : `'${keyPrefix.slice(0, -1)}'`;
}

type Member = 'parameter' | 'buffer';

/** How many {@link Module.copyShell} calls are running (a container's copies its items' shells within its own). */
let shellsBeingBuilt = 0;

/**
 * Whether a constructor runs to build a `deepCopy` shell, whose weights the copies replace: it then skips
 * initialising them (no time spent, nothing drawn from the generator, no overridden `resetParameters` run
 * on a half-built module).
 *
 * @internal
 */
export function buildingCopyShell(): boolean {
  return shellsBeingBuilt > 0;
}

/** deepCopy's step for one module, set inside the class (it reaches the members): see {@link copyModule}. */
let copyModuleImpl: (source: Module, copy: DeepCopy, remember: (target: Module) => void) => Module;

/**
 * The copy of `source` for `deepCopy`: its {@link Module.copyShell}, given to `remember` at once (so
 * that a reference back to `source` finds it), then `source`'s own data properties, parameters and buffers
 * copied onto it with `copy`. Own accessor properties are not copied: those of parameters, buffers and
 * container items are the copy's own.
 *
 * @internal
 */
export function copyModule(source: Module, copy: DeepCopy, remember: (target: Module) => void): Module {
  return copyModuleImpl(source, copy, remember);
}

/**
 * PyTorch's `add_module` checks of a child's value and name, in its order and words (the check that the
 * name is not another attribute is left to the caller, which knows what its attributes are).
 */
export function checkModuleEntry(name: unknown, module: unknown): asserts name is string {
  if (module !== null && !(module instanceof Module)) throw new TypeError(`${describe(module)} is not a Module subclass`);
  if (typeof name !== 'string') throw new TypeError(`module name should be a string. Got ${describe(name)}`);
  if (name.includes('.')) throw new Error(`module name can't contain ".", got: ${name}`);
  if (name === '') throw new Error('module name can\'t be empty string ""');
}

/** Parameters are floating point, as PyTorch's (only they can require gradients). */
function checkFloatParameter(param: Tensor<DType>): void {
  if (!isFloatDType(param.dtype)) throw new TypeError('Only Tensors of floating point and complex dtype can require gradients');
}

/**
 * Base of every module, and of the user's own, as PyTorch's `nn.Module`:
 *
 * ```ts
 * class Tagger extends Module {
 *   embedding = new Embedding(100, 16, { paddingIdx: 0 });
 *   encoder = new LSTM(16, 32, { batchFirst: true });
 *   head = new Linear(32, 5);
 *   forward(ids: Tensor): Tensor {
 *     const [out] = this.encoder.forward(this.embedding.forward(ids));
 *     return this.head.forward(out);
 *   }
 * }
 * const model = new Tagger();
 * model.loadStateDict(checkpoint.model);
 * model.eval();
 * ```
 *
 * **Children.** Every own enumerable property whose value is a Module is a child, in property order: class
 * fields and `this.x = ...` in a constructor, in assignment order, as PyTorch's `__setattr__` registers
 * them. They are found when the tree is walked, so no registration call is needed; reassigning a property
 * keeps its place, and a property set to `null` holds no child. A reference to a module that must not be
 * a child (a parent, a shared helper) belongs in a `#private` field or a non-enumerable property.
 *
 * **Parameters and buffers** are registered by name ({@link Module.registerParameter},
 * {@link Module.registerBuffer}) and exposed as properties of that name. Declare their types with
 * `declare weight: Tensor;` (a plain class field would replace the property).
 *
 * `namedModules`, `namedParameters`, `namedBuffers`, `stateDict`, `loadStateDict` and `to` share one
 * preorder walk: this module, then each child's subtree, in order. `train` and `toString` call each
 * child's own, so that a child may override them, as in PyTorch.
 */
export class Module {
  /** True in training mode (the default, as in PyTorch): dropout applies. */
  training = true;

  readonly #parameters = new Map<string, Tensor | null>();
  readonly #buffers = new Map<string, Tensor<DType> | null>();
  readonly #nonPersistent = new Set<string>();

  static {
    copyModuleImpl = (source, copy, remember) => {
      let target: Module;
      shellsBeingBuilt++;
      try {
        target = source.copyShell(copy);
      } finally {
        shellsBeingBuilt--;
      }
      remember(target);
      for (const key of Reflect.ownKeys(source)) {
        const descriptor = Object.getOwnPropertyDescriptor(source, key) as PropertyDescriptor;
        if ('value' in descriptor) Object.defineProperty(target, key, { ...descriptor, value: copy(descriptor.value) });
      }
      for (const kind of ['parameter', 'buffer'] as const) {
        const from: Map<string, Tensor<DType> | null> = kind === 'parameter' ? source.#parameters : source.#buffers;
        const to: Map<string, Tensor<DType> | null> = kind === 'parameter' ? target.#parameters : target.#buffers;
        to.clear(); // the shell's constructor registered (and initialised) its own
        for (const [name, tensor] of from) {
          to.set(name, copy(tensor));
          target.#defineMemberProperty(kind, name);
        }
      }
      target.#nonPersistent.clear();
      for (const name of source.#nonPersistent) target.#nonPersistent.add(name);
      target.parametersChanged();
      return target;
    };
  }

  /** The class name used in messages and in the repr; the constructor's name unless overridden. */
  protected get className(): string {
    return this.constructor.name;
  }

  /**
   * Called after a load, a replacement or a dtype conversion changed this module's own parameters or
   * buffers (not after an in-place edit of their `.data`). Modules that cache something derived from their
   * weights (packed layouts) drop it here. Does nothing by default.
   */
  protected parametersChanged(): void {}

  /**
   * A new module of this module's class to become its copy in `deepCopy`, which then copies onto it
   * this module's own data properties (children and configuration included), parameters and buffers. By
   * default it is made by Module's constructor alone, with this module's prototype; a class that keeps
   * state in `#private` fields overrides it, building the shell through its own constructor with this
   * module's configuration, e.g. `Reflect.construct(Gate, [this.size], this.constructor)`, and filling the
   * `#private` fields it holds, deep-copied with `copy` (a container passes its copied children). The
   * library's constructors skip initialising weights while a shell is built, as the copies replace them.
   */
  protected copyShell(_copy: DeepCopy): Module {
    return Reflect.construct(Module, [], this.constructor) as Module;
  }

  /**
   * What the repr shows inside this module's parentheses, as PyTorch's `extra_repr()`: e.g.
   * `'10, 20, numLayers=2'`. Empty by default. Several lines are printed one per line.
   */
  protected extraRepr(): string {
    return '';
  }

  /**
   * The children as the repr lists them: `[label, repr]`, printed `(label): repr`. By default every child
   * slot under its name; ModuleList folds runs of equal items.
   */
  protected reprChildren(): Array<[string, string]> {
    return this.childEntries().map(([name, child]) => [name, String(child)]);
  }

  /**
   * This module's child slots, as PyTorch's `_modules`: name and module, in order, a module held under two
   * names listed twice. By default the own enumerable properties that hold a Module; containers keep their
   * own list.
   */
  protected childEntries(): Array<[string, Module]> {
    const entries: Array<[string, Module]> = [];
    for (const name of Object.keys(this)) {
      const value: unknown = (this as Record<string, unknown>)[name];
      if (value instanceof Module) entries.push([name, value]);
    }
    return entries;
  }

  /**
   * Adds `module` as a child under `name`, as PyTorch's `add_module`: for names made at run time
   * (`conv${i}`); a fixed name is simply assigned (`this.head = ...`). A name already holding a child (or
   * null) is replaced in place; `null` leaves no child.
   *
   * @throws PyTorch's errors: not a Module, a name that is not a string, is another attribute
   * (`attribute 'x' already exists`), contains a dot or is empty
   */
  addModule(name: string, module: Module | null): void {
    if (module !== null && !(module instanceof Module)) throw new TypeError(`${describe(module)} is not a Module subclass`);
    if (typeof name !== 'string') throw new TypeError(`module name should be a string. Got ${describe(name)}`);
    const own = Object.getOwnPropertyDescriptor(this, name);
    const slot = own !== undefined && own.get === undefined && (own.value === null || own.value === undefined || own.value instanceof Module);
    if (name in this && !slot) throw new Error(`attribute '${name}' already exists`);
    checkModuleEntry(name, module);
    if (slot) (this as Record<string, unknown>)[name] = module;
    else Object.defineProperty(this, name, { value: module, writable: true, enumerable: true, configurable: true });
  }

  /** PyTorch's checks for a new member name, in its order and words. */
  #checkMemberName(kind: Member, name: unknown, registered: Map<string, unknown>): asserts name is string {
    if (typeof name !== 'string') throw new TypeError(`${kind} name should be a string. Got ${describe(name)}`);
    if (name.includes('.')) throw new Error(`${kind} name can't contain "."`);
    if (name === '') throw new Error(`${kind} name can't be empty string ""`);
    // An own property still undefined is a TS class field awaiting its value: free to take over.
    const unsetField = Object.prototype.hasOwnProperty.call(this, name) && (this as Record<string, unknown>)[name] === undefined;
    if (name in this && !registered.has(name) && !unsetField) throw new Error(`attribute '${name}' already exists`);
  }

  /** Exposes a registered member as a property; assigning it goes through {@link Module.#assign}. */
  #defineMemberProperty(kind: Member, name: string): void {
    const members = kind === 'parameter' ? this.#parameters : this.#buffers;
    if (Object.getOwnPropertyDescriptor(this, name)?.get !== undefined) return; // registered before: same property
    Object.defineProperty(this, name, {
      enumerable: true,
      configurable: true,
      get: () => members.get(name) ?? undefined,
      set: (value: unknown) => this.#assign(kind, name, value),
    });
  }

  /**
   * Adds a parameter under `name`, after those already registered, and exposes it as a property, as
   * PyTorch's `register_parameter`. `null` registers the name with no parameter (it is then skipped by
   * `parameters()` and the state dict) until a Tensor is assigned. Registering a name again replaces it.
   *
   * @throws PyTorch's errors: a name that is not a string, contains a dot, is empty or is already another
   * attribute (`attribute 'x' already exists`); a value that is neither a Tensor nor null.
   */
  registerParameter(name: string, param: Tensor | null): void {
    this.#checkMemberName('parameter', name, this.#parameters);
    if (param !== null && !(param instanceof Tensor)) {
      throw new TypeError(`cannot assign '${describe(param)}' object to parameter '${name}' (Tensor or null required)`);
    }
    if (param !== null) checkFloatParameter(param);
    this.#parameters.set(name, param);
    this.#defineMemberProperty('parameter', name);
  }

  /**
   * Adds a buffer (state that is not a parameter, such as BatchNorm's `running_mean`, of any dtype) under
   * `name` and exposes it as a property, as PyTorch's `register_buffer`. A persistent buffer (the default)
   * is in the state dict after the parameters; a non-persistent one is not. `null` registers the name with
   * no buffer.
   *
   * @throws PyTorch's errors, as {@link Module.registerParameter}.
   */
  registerBuffer(name: string, tensor: Tensor<DType> | null, options: RegisterBufferOptions = {}): void {
    const persistent = options.persistent ?? true;
    if (!isBoolean(persistent)) throw new TypeError(`persistent should be a boolean, got: ${describe(persistent)}`);
    this.#checkMemberName('buffer', name, this.#buffers);
    if (tensor !== null && !(tensor instanceof Tensor)) {
      throw new TypeError(`cannot assign '${describe(tensor)}' object to buffer '${name}' (Tensor or null required)`);
    }
    this.#buffers.set(name, tensor);
    if (persistent) this.#nonPersistent.delete(name);
    else this.#nonPersistent.add(name);
    this.#defineMemberProperty('buffer', name);
  }

  /**
   * Assigning a registered member. A parameter holding a Tensor takes only a Tensor of the same shape and
   * dtype (modules pack their weights by shape); an empty parameter slot, and a buffer, take any Tensor or
   * null.
   */
  #assign(kind: Member, name: string, value: unknown): void {
    const members: Map<string, Tensor<DType> | null> = kind === 'parameter' ? this.#parameters : this.#buffers;
    const current = members.get(name) ?? null;
    if (kind === 'buffer' || current === null) {
      if (value !== null && !(value instanceof Tensor)) {
        throw new TypeError(`cannot assign '${describe(value)}' as ${kind} '${name}' (Tensor or null expected)`);
      }
      if (kind === 'parameter' && value !== null) checkFloatParameter(value);
    } else {
      if (!(value instanceof Tensor)) {
        throw new TypeError(`cannot assign '${describe(value)}' as parameter '${name}' (Tensor expected)`);
      }
      if (!sameShape(value.shape, current.shape)) {
        throw new Error(
          `cannot assign a parameter of shape ${torchSize(value.shape)} to '${name}' of shape ${torchSize(current.shape)}`,
        );
      }
      if (value.dtype !== current.dtype) {
        throw new TypeError(`cannot assign a ${value.dtype} parameter to '${name}' of a ${current.dtype} ${this.className}`);
      }
    }
    members.set(name, value);
    this.parametersChanged();
  }

  /**
   * What this module itself puts in a state dict, by name, as PyTorch's `_save_to_state_dict`: its
   * parameters, then its persistent buffers. A module that stores its weights in another form overrides it
   * (the quantized modules give their weights dequantized).
   */
  protected ownStateDict(): Map<string, Tensor<DType>> {
    return this.#localState();
  }

  /**
   * Loads one checked entry of a state dict into this module, as PyTorch's `_load_from_state_dict`: `target`
   * is the tensor {@link Module.ownStateDict} gave under `name`, `value` the state dict's, of the same shape.
   * By default the values are copied into `target`, converted to its dtype; a module that stores its
   * weights in another form overrides it. {@link Module.parametersChanged} follows, once per module.
   */
  protected loadOwnStateEntry(_name: string, target: Tensor<DType>, value: Tensor<DType>): void {
    copyInto(target, value);
  }

  /** The members that go into a state dict: parameters, then persistent buffers, skipping empty slots. */
  #localState(): Map<string, Tensor<DType>> {
    const local = new Map<string, Tensor<DType>>();
    for (const [name, param] of this.#parameters) if (param !== null) local.set(name, param);
    for (const [name, buffer] of this.#buffers) if (buffer !== null && !this.#nonPersistent.has(name)) local.set(name, buffer);
    return local;
  }

  /**
   * The one walk of the tree, preorder, yielding each module with its key prefix (`''`, `'encoder.'`, ...).
   * With `memo`, a module reachable twice is yielded once (PyTorch's `named_modules`); without, it is
   * yielded under every path (PyTorch's `state_dict` and `load_state_dict` recursion), and a cycle is an
   * error instead of endless recursion.
   */
  *#walk(keyPrefix: string, memo: Set<Module> | null, ancestors: Map<Module, string> = new Map()): Generator<[string, Module]> {
    if (memo !== null) {
      if (memo.has(this)) return;
      memo.add(this);
    } else if (ancestors.has(this)) {
      throw new Error(
        `the module tree contains a cycle: the module at ${shownPath(keyPrefix)} is its own ancestor at ${shownPath(ancestors.get(this) as string)}`,
      );
    }
    yield [keyPrefix, this];
    ancestors.set(this, keyPrefix);
    for (const [name, child] of this.childEntries()) yield* child.#walk(`${keyPrefix}${name}.`, memo, ancestors);
    ancestors.delete(this);
  }

  /** PyTorch's `_named_members`: each module's own members along the walk, each Tensor once unless asked. */
  #namedMembers(kind: Member, options: NamedMembersOptions): Array<[string, Tensor<DType>]> {
    const { prefix = '', recurse = true, removeDuplicate = true } = options;
    if (typeof prefix !== 'string') throw new TypeError(`prefix should be a string, got: ${describe(prefix)}`);
    const start = keyPrefixOf(prefix);
    const modules: Iterable<[string, Module]> = recurse ? this.#walk(start, removeDuplicate ? new Set() : null) : [[start, this]];
    const seen = new Set<Tensor<DType>>();
    const members: Array<[string, Tensor<DType>]> = [];
    for (const [keyPrefix, module] of modules) {
      for (const [name, tensor] of kind === 'parameter' ? module.#parameters : module.#buffers) {
        if (tensor === null || seen.has(tensor)) continue;
        if (removeDuplicate) seen.add(tensor);
        members.push([keyPrefix + name, tensor]);
      }
    }
    return members;
  }

  /** The direct children as `[name, module]`, in order, each module once (PyTorch's `named_children()`). */
  namedChildren(): Array<[string, Module]> {
    const seen = new Set<Module>();
    const children: Array<[string, Module]> = [];
    for (const [name, child] of this.childEntries()) {
      if (seen.has(child)) continue;
      seen.add(child);
      children.push([name, child]);
    }
    return children;
  }

  /** The direct children, in order, each once. */
  children(): Module[] {
    return this.namedChildren().map(([, child]) => child);
  }

  /**
   * This module and every descendant as `[dottedName, module]`, preorder (the root is `''`), as PyTorch's
   * `named_modules()`: `['', model]`, `['encoder', ...]`, `['encoder.rnn', ...]`, `['head', ...]`.
   */
  namedModules(options: NamedModulesOptions = {}): Array<[string, Module]> {
    const { prefix = '', removeDuplicate = true } = options;
    if (typeof prefix !== 'string') throw new TypeError(`prefix should be a string, got: ${describe(prefix)}`);
    return [...this.#walk(keyPrefixOf(prefix), removeDuplicate ? new Set() : null)].map(([keyPrefix, module]) => [
      keyPrefix.slice(0, -1),
      module,
    ]);
  }

  /**
   * The descendant at a dotted path (`'encoder.layers.0'`; `''` is this module), as PyTorch's
   * `get_submodule`. Containers' children are reached by their names (`'head.0'`, `'heads.tags'`).
   *
   * @throws PyTorch's errors: `LSTM has no attribute \`x\`` for a name with nothing under it,
   * `` `weight` is not an nn.Module`` for one that holds something else
   */
  getSubmodule(target: string): Module {
    if (typeof target !== 'string') throw new TypeError(`target should be a string, got: ${describe(target)}`);
    if (target === '') return this;
    let module: Module = this;
    for (const item of target.split('.')) {
      const child = module.childEntries().find(([name]) => name === item);
      if (child !== undefined) {
        module = child[1];
        continue;
      }
      const value: unknown = item in module ? (module as unknown as Record<string, unknown>)[item] : undefined;
      if (value === undefined) throw new Error(`${module.className} has no attribute \`${item}\``);
      throw new Error(`\`${item}\` is not an nn.Module`);
    }
    return module;
  }

  /** This module and every descendant, preorder, each once. */
  modules(): Module[] {
    return this.namedModules().map(([, module]) => module);
  }

  /**
   * `[dottedName, parameter]` pairs, as PyTorch's `named_parameters()`: each module's own in registration
   * order, the root's first, then each child's subtree; a Tensor shared by several modules (tied weights)
   * once, under its first name.
   */
  namedParameters(options: NamedMembersOptions = {}): Array<[string, Tensor]> {
    return this.#namedMembers('parameter', options) as Array<[string, Tensor]>;
  }

  /** The parameters in {@link Module.namedParameters} order. */
  parameters(options: Pick<NamedMembersOptions, 'recurse'> = {}): Tensor[] {
    return this.namedParameters(options).map(([, param]) => param);
  }

  /** `[dottedName, buffer]` pairs, persistent or not, in the order of {@link Module.namedParameters}. */
  namedBuffers(options: NamedMembersOptions = {}): Array<[string, Tensor<DType>]> {
    return this.#namedMembers('buffer', options);
  }

  /** The buffers in {@link Module.namedBuffers} order. */
  buffers(options: Pick<NamedMembersOptions, 'recurse'> = {}): Array<Tensor<DType>> {
    return this.namedBuffers(options).map(([, buffer]) => buffer);
  }

  /**
   * The parameters and persistent buffers by dotted key, as PyTorch's `state_dict()`: each module's
   * parameters, then its persistent buffers, then each child's under `childName.`. A Tensor shared by
   * several modules (tied weights) appears under every key. The Tensors are the module's own, as PyTorch's
   * `state_dict()` shares storage with the module.
   */
  stateDict(options: StateDictOptions = {}): Record<string, Tensor<DType>> {
    const sd: Record<string, Tensor<DType>> = {};
    for (const [keyPrefix, module] of this.#walk(normalisePrefix(options.prefix), null)) {
      for (const [name, tensor] of module.ownStateDict()) sd[keyPrefix + name] = tensor;
    }
    return sd;
  }

  /**
   * Copies parameters and persistent buffers from `sd` (an object or Map of Tensors, e.g. another
   * module's `stateDict()` or a checkpoint's `model` entry) into this module and its descendants, by
   * dotted key. Values are converted to each member's dtype (float64 to float32 and back; integer buffers
   * as PyTorch's `copy_`).
   *
   * Errors are gathered into one, in PyTorch's words and order: with `strict` (the default), missing and
   * unexpected keys; always, values that are not Tensors and shape mismatches. Nothing is copied when it
   * throws. With `prefix`, only keys starting with it are considered, as when PyTorch loads a submodule.
   *
   * @returns the missing and unexpected keys, dotted (both empty when `strict` succeeds)
   * @example
   * ```ts
   * model.loadStateDict((await loadTorch('tagger.pt')).model);
   * const { missingKeys } = model.loadStateDict(partial, { strict: false });
   * ```
   */
  loadStateDict(sd: StateDict, options: LoadStateDictOptions = {}): IncompatibleKeys {
    const strict = options.strict ?? true;
    if (!isBoolean(strict)) throw new TypeError(`strict should be of type bool, got: ${describe(strict)}`);
    const prefix = normalisePrefix(options.prefix);
    const entries = stateDictEntries(sd);
    const missingKeys: string[] = [];
    const unexpectedKeys: string[] = [];
    const errors: string[] = [];
    const copies: Array<[Module, string, Tensor<DType>, Tensor<DType>]> = [];
    for (const [keyPrefix, module] of this.#walk(prefix, null)) {
      const local = module.ownStateDict();
      for (const [name, target] of local) {
        const key = keyPrefix + name;
        if (!entries.has(key)) {
          missingKeys.push(key);
          continue;
        }
        const entry = entries.get(key);
        if (!(entry instanceof Tensor)) {
          errors.push(
            `While copying the parameter named "${key}", expected torch.Tensor or Tensor-like object from checkpoint but received ${describe(entry)}`,
          );
          continue;
        }
        let value: Tensor<DType> = entry;
        // PyTorch still reads a 0-d member (num_batches_tracked) saved as one element by version 0.3.
        if (target.dim() === 0 && value.dim() === 1) {
          if (value.numel() === 0) throw new RangeError('index 0 is out of bounds for dimension 0 with size 0');
          value = new Tensor<DType>(value.data.slice(0, 1), [], value.dtype);
        }
        if (!sameShape(value.shape, target.shape)) {
          errors.push(
            `size mismatch for ${key}: copying a param with shape ${torchSize(value.shape)} from checkpoint, the shape in current model is ${torchSize(target.shape)}.`,
          );
          continue;
        }
        copies.push([module, name, target, value]);
      }
      // A key is unexpected where it names neither a member nor a child of the module its prefix reaches.
      const childNames = new Set(module.childEntries().map(([name]) => name));
      for (const key of entries.keys()) {
        if (!key.startsWith(keyPrefix)) continue;
        const first = key.slice(keyPrefix.length).split('.', 1)[0];
        if (!local.has(first) && !childNames.has(first)) unexpectedKeys.push(key);
      }
    }
    const quoted = (keys: string[]): string => keys.map((k) => `"${k}"`).join(', ');
    if (strict) {
      // PyTorch lists missing keys first, then unexpected ones, then the per-member errors.
      if (unexpectedKeys.length > 0) errors.unshift(`Unexpected key(s) in state_dict: ${quoted(unexpectedKeys)}. `);
      if (missingKeys.length > 0) errors.unshift(`Missing key(s) in state_dict: ${quoted(missingKeys)}. `);
    }
    if (errors.length > 0) {
      throw new Error(`Error(s) in loading state_dict for ${this.className}:\n\t${errors.join('\n\t')}`);
    }
    const changed = new Set<Module>();
    for (const [module, name, target, value] of copies) {
      module.loadOwnStateEntry(name, target, value);
      changed.add(module);
    }
    for (const module of changed) module.parametersChanged();
    return { missingKeys, unexpectedKeys };
  }

  /**
   * Sets training mode (`true`, the default) or evaluation mode on this module, then calls each child's
   * `train(mode)` (so a child that overrides `train` is obeyed, as in PyTorch); returns this module.
   */
  train(mode = true): this {
    if (!isBoolean(mode)) throw new TypeError(`training mode is expected to be boolean, got: ${describe(mode)}`);
    if (settingMode.has(this)) return this; // reached again through a cycle: already being set
    settingMode.add(this);
    try {
      this.training = mode;
      for (const child of this.children()) child.train(mode);
    } finally {
      settingMode.delete(this);
    }
    return this;
  }

  /** Sets evaluation mode (no dropout, running statistics) on the whole tree; returns this module. Same as `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Calls `fn` on every child's subtree, then on this module, as PyTorch's `apply` (e.g. to initialise weights). */
  apply(fn: (module: Module) => void): this {
    if (typeof fn !== 'function') throw new TypeError(`apply() expects a function, got: ${describe(fn)}`);
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Converts every floating-point parameter and buffer of the tree to `dtype`, as PyTorch's
   * `module.to(dtype)`; integer and boolean buffers keep theirs. Shared (tied) Tensors stay shared.
   * Modules' `dtype` follows their weights.
   *
   * @throws TypeError for a dtype that is not floating point, in PyTorch's words
   */
  to(dtype: FloatDType): this {
    if (!isFloatDType(dtype)) {
      if (isDType(dtype)) {
        throw new TypeError(`nn.Module.to only accepts floating point or complex dtypes, but got desired dtype=torch.${dtype}`);
      }
      throw new TypeError(`dtype should be 'float32' or 'float64', got: ${describe(dtype)}`);
    }
    const converted = new Map<Tensor<DType>, Tensor>();
    const convert = (members: Map<string, Tensor<DType> | null>): boolean => {
      let changed = false;
      for (const [name, tensor] of members) {
        if (tensor === null || !isFloatDType(tensor.dtype) || tensor.dtype === dtype) continue;
        let replacement = converted.get(tensor);
        if (replacement === undefined) {
          replacement = tensor.to(dtype);
          converted.set(tensor, replacement);
        }
        members.set(name, replacement);
        changed = true;
      }
      return changed;
    };
    for (const [, module] of this.#walk('', new Set())) {
      // Both maps are converted: `||` would skip the buffers once a parameter changed.
      const parametersChanged = convert(module.#parameters as Map<string, Tensor<DType> | null>);
      const buffersChanged = convert(module.#buffers);
      if (parametersChanged || buffersChanged) module.parametersChanged();
    }
    return this;
  }

  /** Converts floating-point parameters and buffers to float32 (PyTorch's `float()`). */
  float(): this {
    return this.to('float32');
  }

  /** Converts floating-point parameters and buffers to float64 (PyTorch's `double()`). */
  double(): this {
    return this.to('float64');
  }

  /**
   * PyTorch's repr: a module with one line of {@link Module.extraRepr} and no children prints on one line
   * (`Linear(inFeatures=64, outFeatures=5, bias=true)`); otherwise each extra line and each child
   * (`(name): repr`) on its own line, indented by two spaces.
   */
  toString(): string {
    if (printing.has(this)) throw new Error(`the module tree contains a cycle: ${this.className} holds itself`);
    printing.add(this);
    try {
      const extra = this.extraRepr();
      const extraLines = extra === '' ? [] : extra.split('\n');
      const childLines = this.reprChildren().map(([label, repr]) => `(${label}): ${indentTail(repr, 2)}`);
      const lines = [...extraLines, ...childLines];
      if (lines.length === 0) return `${this.className}()`;
      if (extraLines.length === 1 && childLines.length === 0) return `${this.className}(${extraLines[0]})`;
      return `${this.className}(\n  ${lines.join('\n  ')}\n)`;
    } finally {
      printing.delete(this);
    }
  }
}
