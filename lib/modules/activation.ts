/**
 * The activations as modules, PyTorch's `nn.ReLU`, `nn.Tanh`, `nn.Sigmoid`, `nn.GELU`, `nn.Softmax` and
 * `nn.LogSoftmax`: each forward is the tensor function of the same name.
 *
 * @packageDocumentation
 */
import { describe, isInteger } from '../is';
import { checkOptionNames } from '../options';
import { Tensor, gelu, logSoftmax, relu, sigmoid, softmax, tanh } from '../tensor';
import { Module } from './module';

function checkInput(name: string, input: unknown): asserts input is Tensor {
  if (!(input instanceof Tensor)) throw new TypeError(`${name}(): argument 'input' must be Tensor, not ${describe(input)}`);
}

/**
 * `max(0, x)` element-wise, as PyTorch's `nn.ReLU`.
 *
 * @example
 * ```ts
 * new ReLU().forward(tensor([-1, 2]));   // [0, 2]
 * ```
 */
export class ReLU extends Module {
  /** `relu(input)`, of the input's shape and dtype. */
  forward(input: Tensor): Tensor {
    checkInput('relu', input);
    return relu(input);
  }
}

/**
 * The hyperbolic tangent element-wise, as PyTorch's `nn.Tanh`.
 *
 * @example
 * ```ts
 * new Tanh().forward(tensor([0, 1]));   // [0, 0.7616]
 * ```
 */
export class Tanh extends Module {
  /** `tanh(input)`, of the input's shape. */
  forward(input: Tensor): Tensor {
    checkInput('tanh', input);
    return tanh(input);
  }
}

/**
 * The logistic function `1 / (1 + e^-x)` element-wise, as PyTorch's `nn.Sigmoid`.
 *
 * @example
 * ```ts
 * new Sigmoid().forward(tensor([0]));   // [0.5]
 * ```
 */
export class Sigmoid extends Module {
  /** `sigmoid(input)`, of the input's shape. */
  forward(input: Tensor): Tensor {
    checkInput('sigmoid', input);
    return sigmoid(input);
  }
}

/** `nn.GELU`'s options. */
export interface GELUOptions {
  /** `'none'` (the default): `x · Φ(x)` with the exact normal CDF; `'tanh'`: its tanh approximation. */
  approximate?: 'none' | 'tanh';
}

/**
 * The Gaussian error linear unit `x · Φ(x)` element-wise, as PyTorch's `nn.GELU`; with
 * `approximate: 'tanh'`, `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))`.
 *
 * @example
 * ```ts
 * const act = new GELU({ approximate: 'tanh' });   // nn.GELU(approximate='tanh')
 * ```
 */
export class GELU extends Module {
  /** Which formula: the exact one (`'none'`) or the tanh approximation. */
  readonly approximate: 'none' | 'tanh';

  /** `new GELU({ approximate })` or `new GELU('tanh')`, as `nn.GELU(approximate='none')` or `nn.GELU('tanh')`. */
  constructor(options: GELUOptions | 'none' | 'tanh' = {}) {
    super();
    const given = typeof options === 'string' ? { approximate: options } : options;
    checkOptionNames('GELU', given, ['approximate']);
    const { approximate = 'none' } = given;
    if (approximate !== 'none' && approximate !== 'tanh') throw new Error('approximate argument must be either none or tanh.');
    this.approximate = approximate;
  }

  /** `gelu(input, approximate)`, of the input's shape. */
  forward(input: Tensor): Tensor {
    checkInput('gelu', input);
    return gelu(input, this.approximate);
  }

  /** PyTorch's repr content: `approximate='none'`. */
  protected override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

function checkDim(owner: string, dim: unknown): asserts dim is number {
  if (dim === undefined || dim === null) {
    throw new TypeError(
      `${owner} needs the dimension to normalise over, e.g. new ${owner}(-1): PyTorch's implicit choice of dim is deprecated`,
    );
  }
  if (!isInteger(dim)) throw new TypeError(`${owner}: dim must be an integer, got: ${describe(dim)}`);
}

/**
 * `exp(x) / Σ exp(x)` along `dim`, as PyTorch's `nn.Softmax(dim)`. The dimension is required: PyTorch's
 * implicit choice is deprecated. Negative dims count from the end.
 *
 * @example
 * ```ts
 * const probabilities = new Softmax(-1).forward(logits);
 * ```
 */
export class Softmax extends Module {
  /** The dimension whose slices sum to 1. */
  readonly dim: number;

  /** `new Softmax(dim)`, as `nn.Softmax(dim)`. */
  constructor(dim: number) {
    super();
    checkDim('Softmax', dim);
    this.dim = dim;
  }

  /** `softmax(input, dim)`; PyTorch's error for a dim out of range. */
  forward(input: Tensor): Tensor {
    checkInput('softmax', input);
    return softmax(input, this.dim);
  }

  /** PyTorch's repr content: `dim=-1`. */
  protected override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/**
 * `x - log Σ exp(x)` along `dim`, as PyTorch's `nn.LogSoftmax(dim)`; computed without forming the
 * softmax, so large logits do not overflow. The dimension is required.
 *
 * @example
 * ```ts
 * const logProbabilities = new LogSoftmax(-1).forward(logits);
 * ```
 */
export class LogSoftmax extends Module {
  /** The dimension whose slices' exponentials sum to 1. */
  readonly dim: number;

  /** `new LogSoftmax(dim)`, as `nn.LogSoftmax(dim)`. */
  constructor(dim: number) {
    super();
    checkDim('LogSoftmax', dim);
    this.dim = dim;
  }

  /** `logSoftmax(input, dim)`; PyTorch's error for a dim out of range. */
  forward(input: Tensor): Tensor {
    checkInput('log_softmax', input);
    return logSoftmax(input, this.dim);
  }

  /** PyTorch's repr content: `dim=-1`. */
  protected override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
