/**
 * `nn.Embedding`: a lookup table from integer indices to rows of `weight`.
 *
 * @packageDocumentation
 */
import { describe, isInteger, isNonNegativeInteger } from '../is';
import { checkOptionNames } from '../options';
import { fillNormal } from '../random';
import { Tensor, tensor, type DType, type FloatDType, type NestedArray } from '../tensor';
import { checkCommonOptions, matrixWeight, selection } from './from_state_dict';
import { Module, type StateDict, type StateDictOptions } from './module';
import { checkDTypeOption } from './rnn_options';

/** `nn.Embedding`'s options after the sizes. */
export interface EmbeddingOptions {
  /** The row kept at zero (padding). Negative values count from the end, as in PyTorch. Default none. */
  paddingIdx?: number | null;
  /** Element type of the weight and the output. Default `'float32'`. */
  dtype?: FloatDType;
}

/** Options of {@link Embedding.fromStateDict}: the padding index is not in the weights. */
export interface EmbeddingFromStateDictOptions extends EmbeddingOptions {
  /** Where the table's keys sit in a larger model's state dict, e.g. `'embedding.'`. Default `''`. */
  prefix?: string;
}

/**
 * Indices for {@link Embedding.forward}: nested arrays of integers (their shape inferred, as
 * `torch.tensor` does), a flat `Int32Array` or `number[]` with an optional shape, or a Tensor whose values
 * are integers.
 */
export type EmbeddingIndices = NestedArray | Int32Array | Tensor<DType>;

function checkSize(name: string, value: unknown): asserts value is number {
  if (!isNonNegativeInteger(value)) throw new TypeError(`${name} should be a non-negative integer, got: ${describe(value)}`);
}

/** PyTorch's padding_idx rule: within [-numEmbeddings, numEmbeddings), negative counted from the end. */
function resolvePaddingIdx(paddingIdx: unknown, numEmbeddings: number): number | null {
  if (paddingIdx === undefined || paddingIdx === null) return null;
  if (!isInteger(paddingIdx)) throw new TypeError(`padding_idx should be an integer, got: ${describe(paddingIdx)}`);
  if (paddingIdx >= numEmbeddings || paddingIdx < -numEmbeddings) throw new Error('Padding_idx must be within num_embeddings');
  return paddingIdx < 0 ? numEmbeddings + paddingIdx : paddingIdx;
}

/** The indices' values, flat, and their shape. */
function readIndices(indices: EmbeddingIndices, shape: readonly number[] | undefined): { values: ArrayLike<number>; shape: readonly number[] } {
  if (indices instanceof Tensor) {
    if (shape !== undefined) throw new TypeError('Embedding.forward: a Tensor of indices carries its own shape; pass no shape');
    // int64 indices are bigints; as float64 numbers they compare and index like the rest.
    const numbers = indices.dtype === 'int64' ? indices.to('float64') : indices;
    return { values: numbers.data as ArrayLike<number>, shape: indices.shape };
  }
  // tensor() infers nested shapes and rejects ragged input in PyTorch's words; float64 holds every int32.
  const read = indices instanceof Int32Array ? { data: indices, shape: [indices.length] } : tensor(indices, 'float64');
  if (shape === undefined) return { values: read.data, shape: read.shape };
  const shaped = new Tensor(Float64Array.from(read.data), shape); // checks that the shape fits the values
  return { values: shaped.data, shape: shaped.shape };
}

/**
 * A lookup table of `numEmbeddings` vectors of size `embeddingDim`, as PyTorch's `nn.Embedding`: `weight`
 * `(numEmbeddings, embeddingDim)`, initialised from N(0, 1) with the `paddingIdx` row zeroed.
 *
 * @example
 * ```ts
 * const embedding = new Embedding(60, 32);          // nn.Embedding(60, 32)
 * embedding.forward([[1, 2, 3]]).shape;             // [1, 3, 32]
 * embedding.forward(Int32Array.of(1, 2, 3, 4), [2, 2]).shape;   // [2, 2, 32]
 * ```
 */
export class Embedding extends Module {
  /** `(numEmbeddings, embeddingDim)`. */
  declare weight: Tensor;

  /** Rows of the table. */
  readonly numEmbeddings: number;
  /** Size of each vector. */
  readonly embeddingDim: number;
  /** The padding row, made non-negative as PyTorch stores it; null for none. */
  readonly paddingIdx: number | null;

  /** `new Embedding(numEmbeddings, embeddingDim, { paddingIdx, dtype })`, as `nn.Embedding(10, 3, padding_idx=0)`. */
  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    checkOptionNames('Embedding', options, ['paddingIdx', 'dtype']);
    const { paddingIdx, dtype = 'float32' } = options;
    checkSize('num_embeddings', numEmbeddings);
    checkSize('embedding_dim', embeddingDim);
    checkDTypeOption(dtype);
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.paddingIdx = resolvePaddingIdx(paddingIdx, numEmbeddings);
    this.registerParameter('weight', Tensor.zeros([numEmbeddings, embeddingDim], dtype));
    this.resetParameters();
  }

  protected override get className(): string {
    return 'Embedding';
  }

  /** Element type of the weight and the output: the weight's (it follows `to()`, `float()`, `double()`). */
  get dtype(): FloatDType {
    return this.weight.dtype;
  }

  /**
   * An Embedding configured and loaded from a state dict alone: `weight` gives the sizes; the dtype is
   * the weight's unless `dtype` says otherwise. `paddingIdx` is not in a state dict: give it if the model
   * had one. `prefix` picks the table out of a larger model's state dict.
   *
   * @example
   * ```ts
   * const embedding = Embedding.fromStateDict(await loadTorch('model.pt'), { prefix: 'embedding.' });
   * ```
   */
  static fromStateDict(sd: StateDict, options: EmbeddingFromStateDictOptions = {}): Embedding {
    checkCommonOptions('Embedding.fromStateDict', options as unknown, ['prefix', 'paddingIdx', 'dtype']);
    const selected = selection('Embedding', sd, options);
    const weight = matrixWeight(selected, 'an Embedding', '(num_embeddings, embedding_dim)');
    const { prefix } = selected;
    const [numEmbeddings, embeddingDim] = weight.shape;
    const embedding = new Embedding(numEmbeddings, embeddingDim, { paddingIdx: options.paddingIdx, dtype: options.dtype ?? weight.dtype });
    embedding.loadStateDict(sd, { prefix }); // PyTorch's message for a key Embedding lacks
    return embedding;
  }

  /** The parameters by name, as {@link Module.stateDict}; all floating point, as this module holds no other. */
  override stateDict(options?: StateDictOptions): Record<string, Tensor> {
    return super.stateDict(options) as Record<string, Tensor>;
  }

  /** Redraws `weight` from N(0, 1) with the global generator, then zeroes the padding row. */
  resetParameters(): void {
    fillNormal(this.weight.data, 0, 1);
    if (this.paddingIdx !== null) {
      const start = this.paddingIdx * this.embeddingDim;
      this.weight.data.fill(0, start, start + this.embeddingDim);
    }
    this.parametersChanged();
  }

  /**
   * The rows of `weight` for `indices`: `(*)` in, `(*, embeddingDim)` out. `shape` shapes a flat
   * `Int32Array` or `number[]` (default: one dimension). An index outside `[0, numEmbeddings)` is
   * PyTorch's `index out of range in self`.
   */
  forward(indices: EmbeddingIndices, shape?: readonly number[]): Tensor {
    const { values, shape: indexShape } = readIndices(indices, shape);
    const dim = this.embeddingDim;
    const output = Tensor.zeros([...indexShape, dim], this.dtype);
    for (let i = 0; i < values.length; i++) {
      const index = values[i];
      if (!Number.isInteger(index)) throw new TypeError(`Embedding indices must be integers, got ${index} at position ${i}`);
      if (index < 0 || index >= this.numEmbeddings) throw new RangeError('index out of range in self');
      output.data.set(this.weight.data.subarray(index * dim, (index + 1) * dim), i * dim);
    }
    return output;
  }

  /** PyTorch's extra repr with our option names: `60, 32, paddingIdx=0`. */
  protected override extraRepr(): string {
    const padding = this.paddingIdx === null ? '' : `, paddingIdx=${this.paddingIdx}`;
    return `${this.numEmbeddings}, ${this.embeddingDim}${padding}`;
  }
}
