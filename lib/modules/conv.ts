/**
 * `nn.Conv1d`: a 1-D convolution over `(N, C, L)` inputs, lowered to the native engine's packed GEMM —
 * the input is unfolded into rows of receptive fields (im2col), each group's weight is a Linear's.
 *
 * @packageDocumentation
 */
import { describe, isInteger, isNonNegativeInteger } from '../is';
import { native, type NativeArray, type NativePackedLinear } from '../native';
import { checkBoolean, checkOptionNames } from '../options';
import { fillUniform } from '../random';
import { Tensor, type FloatDType, type FloatTensorData } from '../tensor';
import { checkInputDType } from './dtype_check';
import { Module, buildingCopyShell } from './module';
import { checkDTypeOption } from './rnn_options';

/** How the input is extended beyond its ends: PyTorch's `padding_mode`. */
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

const PADDING_MODES: readonly PaddingMode[] = ['zeros', 'reflect', 'replicate', 'circular'];

/** `nn.Conv1d`'s options after the channels and kernel size (PyTorch's names, camelCased). */
export interface Conv1dOptions {
  /** Step between output positions. Default 1. */
  stride?: number;
  /**
   * Positions added at both ends, or `'valid'` (none) or `'same'` (as many as keep the length; stride 1
   * only; an odd total puts the extra position at the end, as PyTorch does). Default 0.
   */
  padding?: number | 'same' | 'valid';
  /** Spacing between kernel taps. Default 1. */
  dilation?: number;
  /** Channel groups, each convolved with its own filters; both channel counts must divide by it. Default 1. */
  groups?: number;
  /** Whether the layer has a `bias` `(outChannels)`. Default true. */
  bias?: boolean;
  /** What the padding holds: zeros (default), a reflection, a copy of the edge, or the other end. */
  paddingMode?: PaddingMode;
  /** Element type of parameters, inputs and outputs. Default `'float32'`. */
  dtype?: FloatDType;
}

function isPaddingMode(value: unknown): value is PaddingMode {
  return (PADDING_MODES as readonly unknown[]).includes(value);
}

function checkPositive(name: string, value: unknown, message: string): asserts value is number {
  if (!isInteger(value)) throw new TypeError(`${name} must be an integer, got: ${describe(value)}`);
  if (value <= 0) throw new Error(message);
}

/**
 * For each output position `t` and kernel tap `j`, the input position it reads, or -1 for a zero of the
 * padding: `table[t * kernelSize + j]`. Reflect, replicate and circular padding become plain indices here,
 * so the unfolding loop never branches on the mode.
 */
function sourceTable(
  length: number,
  outLength: number,
  kernelSize: number,
  stride: number,
  dilation: number,
  padLeft: number,
  mode: PaddingMode,
): Int32Array {
  const table = new Int32Array(outLength * kernelSize);
  for (let t = 0; t < outLength; t++) {
    for (let j = 0; j < kernelSize; j++) {
      let p = t * stride + j * dilation - padLeft;
      if (p < 0 || p >= length) {
        if (mode === 'zeros') p = -1;
        else if (mode === 'reflect') p = p < 0 ? -p : 2 * (length - 1) - p;
        else if (mode === 'replicate') p = p < 0 ? 0 : length - 1;
        else p = ((p % length) + length) % length;
      }
      table[t * kernelSize + j] = p;
    }
  }
  return table;
}

/** The sizes one forward works with: input `(batch, channels, length)`, output `(batch, outChannels, outLength)`. */
interface Geometry {
  channels: number;
  length: number;
  outChannels: number;
  outLength: number;
  kernelSize: number;
  groupChannels: number;
  groupOut: number;
  /** {@link sourceTable}'s input position per (output position, tap). */
  table: Int32Array;
}

/**
 * Unfolds rows `first` to `first + count` of group `group` of `input` into `columns`: a row per (sample,
 * output position), in that order, and a column per (channel of the group, kernel tap) — the layout of
 * the group's weight rows `(outChannels / groups, channels / groups · kernelSize)`.
 */
function unfold(input: FloatTensorData, columns: FloatTensorData, first: number, count: number, group: number, geometry: Geometry): void {
  const { channels, length, outLength, kernelSize, groupChannels, table } = geometry;
  let w = 0;
  for (let r = first; r < first + count; r++) {
    const n = Math.floor(r / outLength);
    const taps = (r - n * outLength) * kernelSize;
    const sample = (n * channels + group * groupChannels) * length;
    for (let c = 0; c < groupChannels; c++) {
      const base = sample + c * length;
      for (let j = 0; j < kernelSize; j++) {
        const p = table[taps + j];
        columns[w++] = p < 0 ? 0 : input[base + p];
      }
    }
  }
}

/** Writes a group's GEMM result for rows `first` to `first + count`, `(count, groupOut)`, into `output`. */
function scatter(result: FloatTensorData, output: FloatTensorData, first: number, count: number, group: number, geometry: Geometry): void {
  const { outChannels, outLength, groupOut } = geometry;
  for (let i = 0; i < count; i++) {
    const r = first + i;
    const n = Math.floor(r / outLength);
    const target = (n * outChannels + group * groupOut) * outLength + (r - n * outLength);
    const row = i * groupOut;
    for (let o = 0; o < groupOut; o++) output[target + o * outLength] = result[row + o];
  }
}

/** Elements of unfolded input held at once (4 MB of float32): long inputs go through the GEMM in chunks of rows. */
const COLUMNS_CHUNK = 1 << 20;

/**
 * A 1-D convolution, as PyTorch's `nn.Conv1d`: `weight` `(outChannels, inChannels / groups, kernelSize)`,
 * `bias` `(outChannels)`, both initialised from U(-1/√fanIn, 1/√fanIn) with fanIn = inChannels / groups ·
 * kernelSize (PyTorch's kaiming_uniform with a = √5). Inputs are `(N, inChannels, L)` or unbatched
 * `(inChannels, L)`; the output has `floor((L + padding total - dilation · (kernelSize - 1) - 1) / stride) + 1`
 * positions.
 *
 * Each group's weight is packed for the native GEMM kernel on the first forward and kept until a parameter
 * is replaced or loaded; after editing a parameter's `.data` in place, call {@link Conv1d.flattenParameters}.
 *
 * @example
 * ```ts
 * const conv = new Conv1d(8, 16, 3, { padding: 'same' });   // nn.Conv1d(8, 16, 3, padding='same')
 * const y = conv.forward(Tensor.zeros([4, 8, 100]));        // (4, 16, 100)
 * ```
 */
export class Conv1d extends Module {
  /** `(outChannels, inChannels / groups, kernelSize)`. */
  declare weight: Tensor;
  /** `(outChannels)`, or undefined without bias. */
  declare bias: Tensor | undefined;

  /** Channels of the input. */
  readonly inChannels: number;
  /** Channels of the output. */
  readonly outChannels: number;
  /** Taps of each filter. */
  readonly kernelSize: number;
  /** Step between output positions. */
  readonly stride: number;
  /** Positions added at each end, or `'same'` / `'valid'` as given. */
  readonly padding: number | 'same' | 'valid';
  /** Spacing between kernel taps. */
  readonly dilation: number;
  /** Channel groups. */
  readonly groups: number;
  /** What the padding holds. */
  readonly paddingMode: PaddingMode;
  /** Element type of parameters, inputs and outputs: the weight's, so it follows `double()` and `float()`. */
  get dtype(): FloatDType {
    return this.weight.dtype as FloatDType;
  }

  /** Padding before the first and after the last input position. */
  readonly #padLeft: number;
  readonly #padRight: number;
  #packed: NativePackedLinear[] | undefined;

  /**
   * `new Conv1d(inChannels, outChannels, kernelSize, { stride, padding, dilation, groups, bias,
   * paddingMode, dtype })`, as `nn.Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0,
   * dilation=1, groups=1, bias=True, padding_mode='zeros')`. Errors are PyTorch's.
   */
  constructor(inChannels: number, outChannels: number, kernelSize: number, options: Conv1dOptions = {}) {
    super();
    checkOptionNames('Conv1d', options, ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode', 'dtype']);
    const { stride = 1, padding = 0, dilation = 1, groups = 1, bias = true, paddingMode = 'zeros', dtype = 'float32' } = options;
    if (!isNonNegativeInteger(inChannels)) throw new TypeError(`in_channels should be a non-negative integer, got: ${describe(inChannels)}`);
    if (!isNonNegativeInteger(outChannels)) throw new TypeError(`out_channels should be a non-negative integer, got: ${describe(outChannels)}`);
    if (!isInteger(groups) || groups <= 0) throw new Error('groups must be a positive integer');
    if (inChannels % groups !== 0) throw new Error('in_channels must be divisible by groups');
    if (outChannels % groups !== 0) throw new Error('out_channels must be divisible by groups');
    if (typeof padding === 'string') {
      if (padding !== 'same' && padding !== 'valid') {
        throw new Error(`Invalid padding string '${padding}', should be one of {'same', 'valid'}`);
      }
      if (padding === 'same' && stride !== 1) throw new Error("padding='same' is not supported for strided convolutions");
    } else if (!isInteger(padding)) {
      throw new TypeError(`padding must be an integer, 'same' or 'valid', got: ${describe(padding)}`);
    } else if (padding < 0) {
      throw new Error('negative padding is not supported');
    }
    if (!isPaddingMode(paddingMode)) {
      const shown = typeof paddingMode === 'string' ? `'${paddingMode}'` : describe(paddingMode);
      throw new Error(`padding_mode must be one of {'zeros', 'reflect', 'replicate', 'circular'}, but got padding_mode=${shown}`);
    }
    checkPositive('kernel_size', kernelSize, `kernel size should be greater than zero, but got kernel_height: 1 kernel_width: ${kernelSize}`);
    checkPositive('stride', stride, 'non-positive stride is not supported');
    checkPositive('dilation', dilation, `dilation should be greater than zero, but got [1, ${dilation}]`);
    checkBoolean('bias', bias);
    checkDTypeOption(dtype);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = kernelSize;
    this.stride = stride;
    this.padding = padding;
    this.dilation = dilation;
    this.groups = groups;
    this.paddingMode = paddingMode;
    if (padding === 'same') {
      // PyTorch puts the odd position of an odd total at the end.
      const total = dilation * (kernelSize - 1);
      this.#padLeft = Math.floor(total / 2);
      this.#padRight = total - this.#padLeft;
    } else {
      this.#padLeft = this.#padRight = padding === 'valid' ? 0 : padding;
    }
    this.registerParameter('weight', Tensor.zeros([outChannels, inChannels / groups, kernelSize], dtype));
    this.registerParameter('bias', bias ? Tensor.zeros([outChannels], dtype) : null);
    if (!buildingCopyShell()) this.resetParameters(); // a copy's shell gets its weights copied
  }

  /** Built by this constructor with this layer's configuration (which sets the padding kept privately). */
  protected override copyShell(): Module {
    const { stride, padding, dilation, groups, paddingMode, dtype } = this;
    const options: Conv1dOptions = { stride, padding, dilation, groups, bias: this.bias !== undefined, paddingMode, dtype };
    return Reflect.construct(Conv1d, [this.inChannels, this.outChannels, this.kernelSize, options], this.constructor) as Module;
  }

  /** Redraws `weight` and `bias` from U(-1/√fanIn, 1/√fanIn), in that order, from the global generator. */
  resetParameters(): void {
    const fanIn = (this.inChannels / this.groups) * this.kernelSize;
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    fillUniform(this.weight.data as FloatTensorData, -bound, bound);
    if (this.bias !== undefined) fillUniform(this.bias.data as FloatTensorData, -bound, bound);
    this.parametersChanged();
  }

  /** Re-packs the weights from the parameters' current data; needed only after an in-place edit of `.data`. */
  flattenParameters(): void {
    this.#packed = this.#pack();
  }

  /**
   * Convolves `input` `(N, inChannels, L)` or `(inChannels, L)`; the output is `(N, outChannels, Lout)` or
   * `(outChannels, Lout)`. Errors are PyTorch's, e.g. `Given groups=1, weight of size [2, 4, 3], expected
   * input[2, 3, 5] to have 4 channels, but got 3 channels instead`.
   */
  forward(input: Tensor): Tensor {
    if (!(input instanceof Tensor)) throw new TypeError(`conv1d(): argument 'input' must be Tensor, not ${describe(input)}`);
    if (input.dim() !== 2 && input.dim() !== 3) {
      throw new Error(`Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: [${input.shape.join(', ')}]`);
    }
    const batched = input.dim() === 3;
    const [batch, channels, length] = batched ? input.shape : [1, ...input.shape];
    if (channels !== this.inChannels) {
      throw new Error(
        `Given groups=${this.groups}, weight of size [${this.weight.shape.join(', ')}], expected input[${batch}, ${channels}, ${length}] ` +
          `to have ${this.inChannels} channels, but got ${channels} channels instead`,
      );
    }
    checkInputDType(input, this.dtype);
    const padLeft = this.#padLeft;
    const padRight = this.#padRight;
    if (this.paddingMode === 'reflect' && (padLeft >= length || padRight >= length)) {
      throw new Error(
        `Argument #4: Padding size should be less than the corresponding input dimension, but got: padding (${padLeft}, ${padRight}) ` +
          `at dimension 2 of input [${batch}, ${channels}, ${length}]`,
      );
    }
    if (this.paddingMode === 'circular' && (padLeft > length || padRight > length)) {
      throw new Error('Padding value causes wrapping around more than once.');
    }
    const padded = length + padLeft + padRight;
    const span = this.dilation * (this.kernelSize - 1) + 1;
    if (padded < span) {
      throw new Error(
        `Calculated padded input size per channel: (${padded}). Kernel size: (${span}). Kernel size can't be greater than actual input size`,
      );
    }
    if (length === 0 && batch * channels !== 0) {
      // PyTorch's words, from its 2-D kernel underneath.
      throw new Error(`Only zero batch or zero channel inputs are supported, but got input shape: [${batch}, ${channels}, 1, 0]`);
    }
    const outLength = Math.floor((padded - span) / this.stride) + 1;
    const outShape = batched ? [batch, this.outChannels, outLength] : [this.outChannels, outLength];
    const output = Tensor.zeros(outShape, this.dtype);
    const rows = batch * outLength;
    if (rows === 0 || this.outChannels === 0) return output;
    this.#packed ??= this.#pack();
    const groupChannels = this.inChannels / this.groups;
    const geometry: Geometry = {
      channels,
      length,
      outChannels: this.outChannels,
      outLength,
      kernelSize: this.kernelSize,
      groupChannels,
      groupOut: this.outChannels / this.groups,
      table: sourceTable(length, outLength, this.kernelSize, this.stride, this.dilation, padLeft, this.paddingMode),
    };
    const width = groupChannels * this.kernelSize;
    const chunkRows = Math.max(1, Math.min(rows, Math.floor(COLUMNS_CHUNK / Math.max(width, 1))));
    const x = input.data as FloatTensorData;
    const y = output.data as FloatTensorData;
    const columns = this.dtype === 'float64' ? new Float64Array(chunkRows * width) : new Float32Array(chunkRows * width);
    for (let g = 0; g < this.groups; g++) {
      for (let first = 0; first < rows; first += chunkRows) {
        const count = Math.min(chunkRows, rows - first);
        const chunk = columns.subarray(0, count * width);
        unfold(x, chunk, first, count, g, geometry);
        scatter(this.#packed[g].forward(chunk, count) as FloatTensorData, y, first, count, g, geometry);
      }
    }
    return output;
  }

  /**
   * PyTorch's repr content with our option names:
   * `Conv1d(4, 8, kernelSize=3, stride=1, padding=1, groups=2, bias=false, paddingMode=reflect)`.
   */
  protected override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernelSize=${this.kernelSize}, stride=${this.stride}`];
    if (this.padding !== 0) parts.push(`padding=${this.padding}`);
    if (this.dilation !== 1) parts.push(`dilation=${this.dilation}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (this.bias === undefined) parts.push('bias=false');
    if (this.paddingMode !== 'zeros') parts.push(`paddingMode=${this.paddingMode}`);
    return parts.join(', ');
  }

  protected override parametersChanged(): void {
    this.#packed = undefined;
  }

  /** One packed Linear per group: rows of the group's weight `(outChannels / groups, inChannels / groups · kernelSize)`. */
  #pack(): NativePackedLinear[] {
    const fanIn = (this.inChannels / this.groups) * this.kernelSize;
    const groupOut = this.outChannels / this.groups;
    const weight = this.weight.data as FloatTensorData;
    const bias = this.bias === undefined ? null : (this.bias.data as FloatTensorData);
    const packed: NativePackedLinear[] = [];
    for (let g = 0; g < this.groups; g++) {
      const w: NativeArray = weight.subarray(g * groupOut * fanIn, (g + 1) * groupOut * fanIn);
      const b: NativeArray | null = bias === null ? null : bias.subarray(g * groupOut, (g + 1) * groupOut);
      packed.push(new native.PackedLinear(fanIn, groupOut, w, b));
    }
    return packed;
  }
}
