/**
 * What every module shares with PyTorch's `nn.Module`: the training flag and named parameters with a
 * state dict.
 *
 * @packageDocumentation
 */
import { describe, isBoolean, isPlainObject } from '../is';
import { Tensor } from '../tensor';
import { normalisePrefix } from './state_dict_prefix';

/** A state dict as a plain object or a Map from parameter name to Tensor. */
export type StateDict = Record<string, Tensor> | Map<string, Tensor>;

/** What {@link Module.loadStateDict} returns: PyTorch's `_IncompatibleKeys`. */
export interface IncompatibleKeys {
  /** Parameters of the module absent from the state dict (left unchanged). */
  missingKeys: string[];
  /** Keys of the state dict that name no parameter (ignored). */
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

function torchSize(shape: readonly number[]): string {
  return `torch.Size([${shape.join(', ')}])`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, i) => size === b[i]);
}

/** The entries of an object or Map state dict, in order; anything else is PyTorch's TypeError. */
export function stateDictEntries(sd: unknown): Map<string, unknown> {
  if (sd instanceof Map) return sd as Map<string, unknown>;
  if (isPlainObject(sd)) return new Map(Object.entries(sd));
  throw new TypeError(`Expected state_dict to be dict-like, got ${describe(sd)}.`);
}

/**
 * Base of every module: a `training` flag and parameters registered by name, in order.
 *
 * Each parameter is also a property of the module under its name (`lstm.weight_ih_l0`), as in PyTorch.
 * Assigning one replaces it; the replacement must be a Tensor of the same shape and dtype.
 *
 * @example
 * ```ts
 * const target = new LSTM(10, 20).eval();
 * const { missingKeys } = target.loadStateDict(trained.stateDict(), { strict: false });
 * ```
 */
export abstract class Module {
  /** True in training mode (the default, as in PyTorch): dropout applies. */
  training = true;

  readonly #parameters = new Map<string, Tensor>();

  /** The class name used in messages (`LSTM`, `GRU`, ...). */
  protected abstract readonly className: string;

  /** Called after any parameter changed other than by an in-place edit of its data. */
  protected abstract parametersChanged(): void;

  /** Adds a parameter under `name`, after those already registered, and exposes it as a property. */
  protected registerParameter(name: string, value: Tensor): void {
    this.#parameters.set(name, value);
    Object.defineProperty(this, name, {
      enumerable: true,
      configurable: false,
      get: () => this.#parameters.get(name),
      set: (replacement: unknown) => this.#replaceParameter(name, replacement),
    });
  }

  #replaceParameter(name: string, replacement: unknown): void {
    const current = this.#parameters.get(name) as Tensor;
    if (!(replacement instanceof Tensor)) {
      throw new TypeError(`cannot assign '${describe(replacement)}' as parameter '${name}' (Tensor expected)`);
    }
    if (!sameShape(replacement.shape, current.shape)) {
      throw new Error(
        `cannot assign a parameter of shape ${torchSize(replacement.shape)} to '${name}' of shape ${torchSize(current.shape)}`,
      );
    }
    if (replacement.dtype !== current.dtype) {
      throw new TypeError(`cannot assign a ${replacement.dtype} parameter to '${name}' of a ${current.dtype} ${this.className}`);
    }
    this.#parameters.set(name, replacement);
    this.parametersChanged();
  }

  /** Sets training mode (`true`, the default) or evaluation mode; returns this module. */
  train(mode = true): this {
    if (!isBoolean(mode)) throw new TypeError(`training mode is expected to be boolean, got: ${describe(mode)}`);
    this.training = mode;
    return this;
  }

  /** Sets evaluation mode (no dropout); returns this module. Same as `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** `[name, parameter]` pairs in registration order (PyTorch's `named_parameters()`). */
  namedParameters(): Array<[string, Tensor]> {
    return [...this.#parameters];
  }

  /** The parameters in registration order. */
  parameters(): Tensor[] {
    return [...this.#parameters.values()];
  }

  /**
   * The parameters by name, in registration order. The Tensors are the module's own, as PyTorch's
   * `state_dict()` shares storage with the module.
   */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries(this.#parameters);
  }

  /**
   * Copies parameters from `sd` (an object or Map of Tensors, e.g. another module's `stateDict()`),
   * converting float64 to float32 and back as needed.
   *
   * Errors are gathered into one, in PyTorch's words: with `strict` (the default), missing and unexpected
   * keys; always, values that are not Tensors and shape mismatches. Nothing is copied when it throws.
   * With `prefix`, only keys starting with it are considered, as when PyTorch loads a submodule.
   *
   * @returns the missing and unexpected keys (both empty when `strict` succeeds)
   */
  loadStateDict(sd: StateDict, options: LoadStateDictOptions = {}): IncompatibleKeys {
    const strict = options.strict ?? true;
    if (!isBoolean(strict)) throw new TypeError(`strict should be of type bool, got: ${describe(strict)}`);
    const prefix = normalisePrefix(options.prefix);
    const entries = stateDictEntries(sd);
    const missingKeys: string[] = [];
    const errors: string[] = [];
    const copies: Array<[Tensor, Tensor]> = [];
    for (const [name, param] of this.#parameters) {
      const key = prefix + name;
      if (!entries.has(key)) {
        missingKeys.push(key);
        continue;
      }
      const value = entries.get(key);
      if (!(value instanceof Tensor)) {
        errors.push(
          `While copying the parameter named "${key}", expected torch.Tensor or Tensor-like object from checkpoint but received ${describe(value)}`,
        );
      } else if (!sameShape(value.shape, param.shape)) {
        errors.push(
          `size mismatch for ${key}: copying a param with shape ${torchSize(value.shape)} from checkpoint, the shape in current model is ${torchSize(param.shape)}.`,
        );
      } else {
        copies.push([param, value]);
      }
    }
    const unexpectedKeys = [...entries.keys()].filter(
      (key) => key.startsWith(prefix) && !this.#parameters.has(key.slice(prefix.length)),
    );
    const quoted = (keys: string[]): string => keys.map((k) => `"${k}"`).join(', ');
    if (strict) {
      // PyTorch lists missing keys first, then unexpected ones, then the per-parameter errors.
      if (unexpectedKeys.length > 0) errors.unshift(`Unexpected key(s) in state_dict: ${quoted(unexpectedKeys)}. `);
      if (missingKeys.length > 0) errors.unshift(`Missing key(s) in state_dict: ${quoted(missingKeys)}. `);
    }
    if (errors.length > 0) {
      throw new Error(`Error(s) in loading state_dict for ${this.className}:\n\t${errors.join('\n\t')}`);
    }
    for (const [param, value] of copies) param.data.set(value.data);
    if (copies.length > 0) this.parametersChanged();
    return { missingKeys, unexpectedKeys };
  }
}
