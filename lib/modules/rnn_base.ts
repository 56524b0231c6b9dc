/**
 * What RNN, LSTM and GRU share, as PyTorch's `RNNBase`: configuration, parameters, forward on padded or packed input.
 *
 * @packageDocumentation
 */
import type { NativeForwardArgs, NativeForwardResult, NativeModelSpec } from '../native';
import { PackedSequence } from '../packed/packed_sequence';
import { randomUint32 } from '../random';
import { Tensor } from '../tensor';
import { EngineModule } from './engine_module';
import { buildingCopyShell, type Module } from './module';
import { forwardResult, paddedResultShapes, preparePacked, preparePadded, quickPaddedCall, type ForwardSpec, type PreparedForward } from './rnn_forward';
import { checkDropout, resolveConfig, type RNNMode } from './rnn_options';
import { parameterSpecs } from './rnn_parameters';

/** The hidden state of a module: `h` for RNN and GRU, `[h, c]` for LSTM. */
export type Hidden = Tensor | [h: Tensor, c: Tensor];

/**
 * A given initial state: as {@link Hidden}, and an LSTM's `[h0, c0]` may be a readonly tuple
 * (`[h, c] as const`), since forward only reads it.
 */
export type HiddenInput<H extends Hidden> = H extends Tensor ? H : readonly [h0: Tensor, c0: Tensor];

/**
 * What forward returns: `[output, hN]` for RNN and GRU, `[output, [hN, cN]]` for LSTM; `output` is a
 * PackedSequence when the input is one. (The members are named so that an editor shows what each is.)
 */
export type ForwardResult<I extends Tensor | PackedSequence, H extends Hidden> = H extends Tensor
  ? [output: I, hN: H]
  : [output: I, hidden: H];

/** A parameter by its PyTorch name: `weight_ih_l0`, `bias_hh_l1_reverse`, `weight_hr_l0`, ... */
export type ParameterName =
  | `${'weight' | 'bias'}_${'ih' | 'hh'}_l${number}`
  | `${'weight' | 'bias'}_${'ih' | 'hh'}_l${number}_reverse`
  | `weight_hr_l${number}`
  | `weight_hr_l${number}_reverse`;

/**
 * Base of the multi-layer recurrent modules. Not constructed directly: use {@link RNN}, {@link LSTM} or
 * {@link GRU}.
 *
 * Weights are packed into the native engine's layout on the first forward and kept; loading a state dict
 * or assigning a parameter re-packs on the next forward. Editing a parameter's `.data` in place is not
 * seen until {@link RNNBase.flattenParameters} is called.
 *
 * @example
 * ```ts
 * const m: RNNBase = new GRU(10, 20);
 * m.weight_hh_l0.data.fill(0);   // an in-place edit...
 * m.flattenParameters();         // ...seen from the next forward on
 * ```
 */
export abstract class RNNBase<H extends Hidden = Hidden> extends EngineModule {
  /**
   * Each parameter, by its PyTorch name. Which exist depends on the configuration (layers, directions,
   * bias, projection), so under `noUncheckedIndexedAccess` these are `Tensor | undefined`; the two below
   * exist in every module, and are declared so.
   */
  [name: ParameterName]: Tensor;
  /** The first layer's input-hidden weights, `(G * hiddenSize, inputSize)` with G gates. */
  declare weight_ih_l0: Tensor;
  /** The first layer's hidden-hidden weights, `(G * hiddenSize, Hout)`. */
  declare weight_hh_l0: Tensor;

  readonly #className: string;
  /** PyTorch's mode: `'LSTM'`, `'GRU'`, `'RNN_TANH'` or `'RNN_RELU'`. */
  readonly mode: RNNMode;
  /** Features per input step. */
  readonly inputSize: number;
  /** Features of the hidden (and, for LSTM, cell) state. */
  readonly hiddenSize: number;
  /** Stacked layers. */
  readonly numLayers: number;
  /** Whether the layers have biases. */
  readonly bias: boolean;
  /** Whether batched input and output are `(batch, seq, feature)`. */
  readonly batchFirst: boolean;
  /** Whether each layer also runs over the reversed sequence. */
  readonly bidirectional: boolean;
  /** Projection size of an LSTM's `h`; 0 without projection (and always for RNN and GRU). */
  readonly projSize: number;

  #dropout: number;
  /** What forward's checks read of this module, kept until a parameter changes (which may change dtype). */
  #spec: ForwardSpec | undefined;

  /** Checks `options` in PyTorch's order, then creates and initialises the parameters. */
  protected constructor(className: string, mode: RNNMode, options: Record<string, unknown>) {
    super();
    this.#className = className;
    this.mode = mode;
    const config = resolveConfig(options);
    this.inputSize = config.inputSize;
    this.hiddenSize = config.hiddenSize;
    this.numLayers = config.numLayers;
    this.bias = config.bias;
    this.batchFirst = config.batchFirst;
    this.#dropout = config.dropout;
    this.bidirectional = config.bidirectional;
    this.projSize = config.projSize;
    for (const { name, shape } of parameterSpecs(mode, config)) this.registerParameter(name, Tensor.zeros(shape, config.dtype));
    if (!buildingCopyShell()) this.resetParameters(); // a copy's shell gets its weights copied
  }

  protected override get className(): string {
    return this.#className;
  }

  /** Built by this constructor with this module's configuration (dropout set after, so it never warns again). */
  protected override copyShell(): Module {
    const options = { inputSize: this.inputSize, hiddenSize: this.hiddenSize, numLayers: this.numLayers, bias: this.bias };
    const config = { ...options, batchFirst: this.batchFirst, bidirectional: this.bidirectional, projSize: this.projSize, dtype: this.dtype };
    const shell = Reflect.construct(RNNBase, [this.#className, this.mode, config], this.constructor) as RNNBase;
    shell.#dropout = this.#dropout;
    return shell;
  }

  /** Dropout probability between layers in training mode; may be changed at any time, as in PyTorch. */
  get dropout(): number {
    return this.#dropout;
  }

  /** Sets the dropout probability, checked as the constructor checks it; takes effect from the next forward. */
  set dropout(p: number) {
    checkDropout(p);
    this.#dropout = p;
  }

  /**
   * Runs the whole stack over `input` and returns `[output, h_n]` (LSTM: `[output, [h_n, c_n]]`).
   *
   * `input` is `(L, N, inputSize)`, `(N, L, inputSize)` with batchFirst, or unbatched `(L, inputSize)`;
   * `hx` defaults to zeros and is `(numLayers * D, N, Hout)`, or `(numLayers * D, Hout)` unbatched.
   *
   * `input` may also be a {@link PackedSequence}: the output is then a PackedSequence with the same batch
   * sizes and indices, and h_n (and c_n) hold each sequence's state after its own last step, in the
   * caller's original order, as is a given `hx` (N = `batchSizes[0]`).
   *
   * Blocks the calling thread: see {@link RNNBase.forwardAsync}.
   */
  forward<I extends Tensor | PackedSequence>(input: I, hx?: HiddenInput<H> | null): ForwardResult<I, H> {
    if (input instanceof Tensor) return this.#forwardPadded(input, hx) as ForwardResult<I, H>;
    const prepared = this.#prepare(input, hx);
    return this.#results(prepared, this.packedModel().forward(this.#nativeArgs(prepared))) as ForwardResult<I, H>;
  }

  /**
   * The same as {@link RNNBase.forward}, computed on libuv's thread pool, so the event loop keeps running.
   * Bad arguments reject the Promise with forward's error. The input and hx buffers are copied before it
   * returns, so they may be reused, overwritten or transferred at once; weights replaced while it runs do
   * not affect it.
   */
  async forwardAsync<I extends Tensor | PackedSequence>(input: I, hx?: HiddenInput<H> | null): Promise<ForwardResult<I, H>> {
    const prepared = this.#prepare(input, hx);
    return this.#results(prepared, await this.packedModel().forwardAsync(this.#nativeArgs(prepared))) as ForwardResult<I, H>;
  }

  /**
   * Checks `forward(input, hx)`'s arguments as forward does, throwing forward's error, without computing:
   * code that holds requests before running them (a batcher) rejects a bad one with the module's own words.
   *
   * @internal
   */
  checkForwardArguments(input: unknown, hx?: unknown): void {
    this.#prepare(input, hx);
  }

  /** PyTorch's extra repr, with our option names: `10, 20, numLayers=2` (printed `LSTM(10, 20, numLayers=2)`). */
  protected override extraRepr(): string {
    const extras: string[] = [];
    if (this.projSize !== 0) extras.push(`projSize=${this.projSize}`);
    if (this.numLayers !== 1) extras.push(`numLayers=${this.numLayers}`);
    if (!this.bias) extras.push('bias=false');
    if (this.batchFirst) extras.push('batchFirst=true');
    if (this.dropout !== 0) extras.push(`dropout=${this.dropout}`);
    if (this.bidirectional) extras.push('bidirectional=true');
    return [this.inputSize, this.hiddenSize, ...extras].join(', ');
  }

  protected override parametersChanged(): void {
    super.parametersChanged();
    this.#spec = undefined;
  }

  #forwardSpec(): ForwardSpec {
    this.#spec ??= {
      mode: this.mode,
      className: this.className,
      inputSize: this.inputSize,
      hiddenSize: this.hiddenSize,
      numLayers: this.numLayers,
      batchFirst: this.batchFirst,
      bidirectional: this.bidirectional,
      projSize: this.projSize,
      dtype: this.dtype,
    };
    return this.#spec;
  }

  #prepare(input: unknown, hx: unknown): PreparedForward {
    const spec = this.#forwardSpec();
    return input instanceof PackedSequence ? preparePacked(spec, input, hx) : preparePadded(spec, input, hx);
  }

  /**
   * Forward on a padded tensor, the path of short sequences: a well-formed call passes a few comparisons
   * (anything else gets PyTorch's checks in order), the results are allocated here and the addon writes
   * into them, with positional arguments and no result object.
   */
  #forwardPadded(input: Tensor, hx: unknown): [Tensor, H] {
    const spec = this.#forwardSpec();
    const call = quickPaddedCall(spec, input, hx) ?? preparePadded(spec, input, hx).args;
    const { seqLen, batch } = call;
    const batched = input.shape.length === 3;
    const { outputShape, stateShapes } = paddedResultShapes(spec, seqLen, batch, batched);
    const make = (shape: number[]): Float32Array | Float64Array => {
      const size = shape.reduce((n, d) => n * d, 1);
      return spec.dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
    };
    const output = make(outputShape);
    const hN = make(stateShapes[0]);
    const lstm = this.mode === 'LSTM';
    const cN = lstm ? make(stateShapes[1]) : undefined;
    // No reads past an array's end (V8 takes a slow path for them): RNN and GRU have one state.
    let h0: Tensor['data'] | undefined;
    let c0: Tensor['data'] | undefined;
    if (hx !== undefined && hx !== null) {
      if (lstm) [h0, c0] = [(hx as readonly Tensor[])[0].data, (hx as readonly Tensor[])[1].data];
      else h0 = (hx as Tensor).data;
    }
    const [dropout, dropoutSeed] = this.#dropoutArgs();
    this.packedModel().forwardInto(seqLen, batch, batched && this.batchFirst, input.data, h0, c0, output, hN, cN, dropout, dropoutSeed);
    const h = new Tensor(hN, stateShapes[0]);
    const states = cN === undefined ? h : [h, new Tensor(cN, stateShapes[1])];
    return [new Tensor(output, outputShape), states as H];
  }

  /** forward's native arguments, with this call's dropout. */
  #nativeArgs(prepared: PreparedForward): NativeForwardArgs {
    const [dropout, dropoutSeed] = this.#dropoutArgs();
    return { ...prepared.args, dropout, dropoutSeed };
  }

  /** The dropout probability and mask seed of one call: a fresh seed in training mode; none in eval mode or with one layer. */
  #dropoutArgs(): [number, number] {
    const active = this.training && this.#dropout > 0 && this.numLayers > 1;
    return active ? [this.#dropout, randomUint32()] : [0, 0];
  }

  #results(prepared: PreparedForward, result: NativeForwardResult): [Tensor | PackedSequence, H] {
    const [output, states] = forwardResult(prepared, result);
    return [output, (states.length === 1 ? states[0] : states) as H];
  }

  /** @internal the addon's contract, which may change in any release */
  protected engineSpec(): NativeModelSpec {
    return {
      mode: this.mode,
      inputSize: this.inputSize,
      hiddenSize: this.hiddenSize,
      projSize: this.projSize,
      numLayers: this.numLayers,
      bidirectional: this.bidirectional,
      bias: this.bias,
      dtype: this.dtype,
    };
  }
}
