/**
 * `nn.BatchNorm1d`: per-channel normalisation of `(N, C)` or `(N, C, L)` inputs, with batch statistics in
 * training and running statistics in evaluation.
 *
 * @packageDocumentation
 */
import { describe, isNonNegativeInteger, isNumber } from '../is';
import { checkBoolean, checkOptionNames } from '../options';
import { Tensor, isFloatDType, type FloatDType, type FloatTensorData } from '../tensor';
import { checkInputDType } from './dtype_check';
import { Module } from './module';
import { checkDTypeOption } from './rnn_options';

/** `nn.BatchNorm1d`'s options after the feature count (PyTorch's names, camelCased). */
export interface BatchNorm1dOptions {
  /** Added to the variance before its square root. Default 1e-5. */
  eps?: number;
  /**
   * Weight of the newest batch in the running statistics; null for a cumulative average over all batches
   * seen. Default 0.1.
   */
  momentum?: number | null;
  /** Whether the layer has a `weight` (ones) and `bias` (zeros) per channel. Default true. */
  affine?: boolean;
  /**
   * Whether the layer keeps `running_mean`, `running_var` and `num_batches_tracked` buffers and uses them
   * in evaluation; without them batch statistics are used in both modes. Default true.
   */
  trackRunningStats?: boolean;
  /** Element type of parameters, buffers (but `num_batches_tracked`, int64), inputs and outputs. Default `'float32'`. */
  dtype?: FloatDType;
}

/** The statistics and update of one forward, per channel. */
interface Statistics {
  /** Per channel, what is subtracted. */
  mean: Float64Array;
  /** Per channel, 1/√(variance + eps). */
  invStd: Float64Array;
}

/**
 * Per-channel mean and biased variance of `x` `(batch, channels, length)`; with `running`, also moves the
 * running mean and (unbiased) variance toward them by `factor`, as PyTorch does in training.
 */
function batchStatistics(
  x: FloatTensorData,
  batch: number,
  channels: number,
  length: number,
  eps: number,
  running: { mean: FloatTensorData; variance: FloatTensorData; factor: number } | null,
): Statistics {
  const mean = new Float64Array(channels);
  const invStd = new Float64Array(channels);
  const count = batch * length;
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let n = 0; n < batch; n++) {
      const start = (n * channels + c) * length;
      for (let i = 0; i < length; i++) sum += x[start + i];
    }
    const m = sum / count;
    let squares = 0;
    for (let n = 0; n < batch; n++) {
      const start = (n * channels + c) * length;
      for (let i = 0; i < length; i++) {
        const d = x[start + i] - m;
        squares += d * d;
      }
    }
    mean[c] = m;
    invStd[c] = 1 / Math.sqrt(squares / count + eps);
    if (running !== null) {
      // Normalising uses the biased variance; the running estimate the unbiased one.
      const { factor } = running;
      running.mean[c] = (1 - factor) * running.mean[c] + factor * m;
      running.variance[c] = (1 - factor) * running.variance[c] + (factor * squares) / (count - 1);
    }
  }
  return { mean, invStd };
}

/** `y = (x - mean) · invStd · weight + bias` per channel, over `(batch, channels, length)`. */
function normalise(
  x: FloatTensorData,
  y: FloatTensorData,
  batch: number,
  channels: number,
  length: number,
  { mean, invStd }: Statistics,
  weight: FloatTensorData | null,
  bias: FloatTensorData | null,
): void {
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const scale = invStd[c] * (weight === null ? 1 : weight[c]);
      const shift = bias === null ? 0 : bias[c];
      const m = mean[c];
      const start = (n * channels + c) * length;
      for (let i = 0; i < length; i++) y[start + i] = (x[start + i] - m) * scale + shift;
    }
  }
}

/**
 * Batch normalisation over `(N, C)` or `(N, C, L)` inputs, as PyTorch's `nn.BatchNorm1d`. Parameters
 * `weight` (ones) and `bias` (zeros) of `(numFeatures)` unless `affine` is false; buffers `running_mean`
 * (zeros), `running_var` (ones) and `num_batches_tracked` (int64 0, shape `[]`) unless
 * `trackRunningStats` is false — all in the state dict, in that order.
 *
 * In training each channel is normalised with the batch's mean and biased variance, and the running
 * statistics move toward the batch's mean and unbiased variance by `momentum` (or, with `momentum: null`,
 * become the average over all batches so far); `num_batches_tracked` counts the batches. In evaluation
 * the running statistics are used; without them, batch statistics again.
 *
 * @example
 * ```ts
 * const bn = new BatchNorm1d(16);                       // nn.BatchNorm1d(16)
 * bn.loadStateDict(checkpoint);                         // running_mean, running_var, num_batches_tracked too
 * const y = bn.eval().forward(Tensor.zeros([4, 16, 50]));
 * ```
 */
export class BatchNorm1d extends Module {
  /** `(numFeatures)`, ones at first; undefined without affine. */
  declare weight: Tensor | undefined;
  /** `(numFeatures)`, zeros at first; undefined without affine. */
  declare bias: Tensor | undefined;
  /** `(numFeatures)`; undefined without running statistics. */
  declare running_mean: Tensor | undefined;
  /** `(numFeatures)`; undefined without running statistics. */
  declare running_var: Tensor | undefined;
  /** int64, shape `[]`: training-mode forwards so far; undefined without running statistics. */
  declare num_batches_tracked: Tensor<'int64'> | undefined;

  /** Channels `C` of the input. */
  readonly numFeatures: number;
  /** Added to the variance before its square root. */
  readonly eps: number;
  /** Weight of the newest batch in the running statistics; null for a cumulative average. */
  readonly momentum: number | null;
  /** Whether `weight` and `bias` exist. */
  readonly affine: boolean;
  /** Whether the running statistics exist and are used in evaluation. */
  readonly trackRunningStats: boolean;
  readonly #dtype: FloatDType;

  /**
   * Element type of the parameters and float buffers, which inputs must share; it follows `double()` and
   * `float()`.
   */
  get dtype(): FloatDType {
    return (this.weight?.dtype ?? this.running_mean?.dtype ?? this.#dtype) as FloatDType;
  }

  /**
   * `new BatchNorm1d(numFeatures, { eps, momentum, affine, trackRunningStats, dtype })`, as
   * `nn.BatchNorm1d(num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)`.
   */
  constructor(numFeatures: number, options: BatchNorm1dOptions = {}) {
    super();
    checkOptionNames('BatchNorm1d', options, ['eps', 'momentum', 'affine', 'trackRunningStats', 'dtype']);
    const { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true, dtype = 'float32' } = options;
    if (!isNonNegativeInteger(numFeatures)) throw new TypeError(`num_features should be a non-negative integer, got: ${describe(numFeatures)}`);
    if (!isNumber(eps) || !(eps >= 0)) throw new TypeError(`eps should be a non-negative number, got: ${describe(eps)}`);
    if (momentum !== null && !(isNumber(momentum) && Number.isFinite(momentum))) {
      throw new TypeError(`momentum should be a number or null, got: ${describe(momentum)}`);
    }
    checkBoolean('affine', affine);
    checkBoolean('track_running_stats', trackRunningStats);
    checkDTypeOption(dtype);
    this.numFeatures = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.affine = affine;
    this.trackRunningStats = trackRunningStats;
    this.#dtype = dtype;
    this.registerParameter('weight', affine ? Tensor.ones([numFeatures], dtype) : null);
    this.registerParameter('bias', affine ? Tensor.zeros([numFeatures], dtype) : null);
    this.registerBuffer('running_mean', trackRunningStats ? Tensor.zeros([numFeatures], dtype) : null);
    this.registerBuffer('running_var', trackRunningStats ? Tensor.ones([numFeatures], dtype) : null);
    this.registerBuffer('num_batches_tracked', trackRunningStats ? Tensor.zeros([], 'int64') : null);
  }

  /** Built by this constructor with this layer's configuration and the dtype it was made with. */
  protected override copyShell(): Module {
    const { eps, momentum, affine, trackRunningStats } = this;
    const options: BatchNorm1dOptions = { eps, momentum, affine, trackRunningStats, dtype: this.#dtype };
    return Reflect.construct(BatchNorm1d, [this.numFeatures, options], this.constructor) as Module;
  }

  /** Zeroes the running mean and count and sets the running variance to ones (PyTorch's `reset_running_stats`). */
  resetRunningStats(): void {
    (this.running_mean?.data as FloatTensorData | undefined)?.fill(0);
    (this.running_var?.data as FloatTensorData | undefined)?.fill(1);
    (this.num_batches_tracked?.data as BigInt64Array | undefined)?.fill(0n);
  }

  /** Resets the running statistics and sets `weight` to ones and `bias` to zeros (PyTorch's `reset_parameters`). */
  resetParameters(): void {
    this.resetRunningStats();
    (this.weight?.data as FloatTensorData | undefined)?.fill(1);
    (this.bias?.data as FloatTensorData | undefined)?.fill(0);
  }

  /**
   * Normalises `input` `(N, numFeatures)` or `(N, numFeatures, L)`; the output has its shape. In training
   * (with running statistics) this updates `running_mean`, `running_var` and `num_batches_tracked` in
   * place. Errors are PyTorch's, e.g. `expected 2D or 3D input (got 4D input)` and `Expected more than 1
   * value per channel when training, got input size torch.Size([1, 3])`.
   */
  forward(input: Tensor): Tensor {
    if (!(input instanceof Tensor)) throw new TypeError(`batch_norm(): argument 'input' must be Tensor, not ${describe(input)}`);
    if (input.dim() !== 2 && input.dim() !== 3) throw new Error(`expected 2D or 3D input (got ${input.dim()}D input)`);
    const [batch, channels] = input.shape;
    const length = input.dim() === 3 ? input.shape[2] : 1;
    const tracked = this.running_mean !== undefined && this.running_var !== undefined;
    const useBatchStats = this.training || !tracked;
    if (useBatchStats && batch * length === 1) {
      throw new Error(`Expected more than 1 value per channel when training, got input size torch.Size([${input.shape.join(', ')}])`);
    }
    if (channels !== this.numFeatures && (tracked || this.affine)) {
      const which = tracked ? 'running_mean' : 'weight';
      throw new Error(`${which} should contain ${channels} elements not ${this.numFeatures}`);
    }
    // With neither parameters nor buffers, PyTorch normalises in the input's own floating type.
    if (this.affine || tracked || !isFloatDType(input.dtype)) checkInputDType(input, this.dtype);
    const x = input.data as FloatTensorData;
    const output = Tensor.zeros(input.shape, input.dtype);
    let statistics: Statistics;
    if (!useBatchStats) {
      const mean = Float64Array.from(this.running_mean!.data as FloatTensorData);
      const invStd = Float64Array.from(this.running_var!.data as FloatTensorData, (v) => 1 / Math.sqrt(v + this.eps));
      statistics = { mean, invStd };
    } else {
      let running: { mean: FloatTensorData; variance: FloatTensorData; factor: number } | null = null;
      if (this.training && tracked) {
        // Counted only once every check has passed: PyTorch counts a batch it then refuses, we do not.
        const count = this.num_batches_tracked?.data as BigInt64Array | undefined;
        if (count !== undefined) count[0] += 1n;
        const factor = this.momentum ?? (count === undefined ? 0 : 1 / Number(count[0]));
        running = { mean: this.running_mean!.data as FloatTensorData, variance: this.running_var!.data as FloatTensorData, factor };
      }
      statistics = batchStatistics(x, batch, channels, length, this.eps, running);
    }
    normalise(x, output.data as FloatTensorData, batch, channels, length, statistics,
      (this.weight?.data ?? null) as FloatTensorData | null, (this.bias?.data ?? null) as FloatTensorData | null);
    return output;
  }

  /**
   * PyTorch's repr content with our option names:
   * `BatchNorm1d(16, eps=0.00001, momentum=0.1, affine=true, trackRunningStats=true)`.
   */
  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}
