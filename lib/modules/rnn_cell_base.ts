/**
 * What RNNCell, LSTMCell and GRUCell share, as PyTorch's `RNNCellBase`: sizes, the four parameters, and a
 * forward computed by the native engine as a one-layer, one-direction, one-step model.
 *
 * @packageDocumentation
 */
import type { NativeForwardResult, NativeMode, NativeModelSpec } from '../native';
import { Tensor } from '../tensor';
import { checkCellOut, prepareCell, quickCellBatch, type CellSpec } from './cell_forward';
import { checkCellParameters, resolveCellConfig } from './cell_options';
import { EngineModule } from './engine_module';
import { buildingCopyShell, type Module } from './module';
import type { HiddenInput } from './rnn_base';
import { resultTensors, type PreparedForward } from './rnn_forward';

/**
 * Base of the cells. Not constructed directly: use {@link RNNCell}, {@link LSTMCell} or {@link GRUCell}.
 *
 * The parameters `weight_ih` (G, inputSize), `weight_hh` (G, hiddenSize) and, with bias, `bias_ih` and
 * `bias_hh` (G) are exactly the engine's `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0` of a
 * one-layer model, so a cell's weights load into layer l of a module and back. As with the modules, they
 * are packed once; after editing a parameter's `.data` in place, call {@link EngineModule.flattenParameters}.
 *
 * @example
 * ```ts
 * const cell = new GRUCell(10, 20);
 * let h = cell.forward(x0);          // x0: (N, 10); h: (N, 20)
 * h = cell.forward(x1, h);
 * ```
 */
export abstract class RNNCellBase<H extends Tensor | [h: Tensor, c: Tensor]> extends EngineModule {
  /** `(G, inputSize)`, G = numChunks * hiddenSize. */
  declare weight_ih: Tensor;
  /** `(G, hiddenSize)`. */
  declare weight_hh: Tensor;
  /** `(G)`; undefined without bias. */
  declare bias_ih: Tensor | undefined;
  /** `(G)`; undefined without bias. */
  declare bias_hh: Tensor | undefined;

  readonly #className: string;
  /** Features of the input. */
  readonly inputSize: number;
  /** Features of the hidden (and, for LSTMCell, cell) state. */
  readonly hiddenSize: number;
  /** Whether the cell has `bias_ih` and `bias_hh`. */
  readonly bias: boolean;

  readonly #numChunks: number;
  readonly #stateCount: 1 | 2;
  /** What forward checks against, kept until the parameters change (their dtype may then too). */
  #spec: CellSpec | undefined;

  /** Checks the options, then creates and initialises the parameters, as PyTorch's `RNNCellBase(..., num_chunks)`. */
  protected constructor(className: string, numChunks: number, stateCount: 1 | 2, options: Record<string, unknown>) {
    super();
    this.#className = className;
    this.#numChunks = numChunks;
    this.#stateCount = stateCount;
    const config = resolveCellConfig(options);
    checkCellParameters(className, numChunks, config);
    this.inputSize = config.inputSize;
    this.hiddenSize = config.hiddenSize;
    this.bias = config.bias;
    const { dtype } = config;
    const gates = numChunks * this.hiddenSize;
    this.registerParameter('weight_ih', Tensor.zeros([gates, this.inputSize], dtype));
    this.registerParameter('weight_hh', Tensor.zeros([gates, this.hiddenSize], dtype));
    if (this.bias) {
      this.registerParameter('bias_ih', Tensor.zeros([gates], dtype));
      this.registerParameter('bias_hh', Tensor.zeros([gates], dtype));
    }
    if (!buildingCopyShell()) this.resetParameters(); // a copy's shell gets its weights copied
  }

  protected override get className(): string {
    return this.#className;
  }

  /** The first three arguments of this constructor that made this cell: its name, gate count and state count. */
  protected cellKind(): [className: string, numChunks: number, stateCount: 1 | 2] {
    return [this.#className, this.#numChunks, this.#stateCount];
  }

  /** Built by this constructor with this cell's configuration. */
  protected override copyShell(): Module {
    const options = { inputSize: this.inputSize, hiddenSize: this.hiddenSize, bias: this.bias, dtype: this.dtype };
    return Reflect.construct(RNNCellBase, [...this.cellKind(), options], this.constructor) as Module;
  }

  /**
   * The engine's mode for this cell.
   *
   * @internal the addon's contract, which may change in any release
   */
  protected abstract cellMode(): NativeMode;

  /**
   * One step: the next hidden state `h1` (LSTMCell: `[h1, c1]`) for `input` `(N, inputSize)` or unbatched
   * `(inputSize)`; `hx` defaults to zeros and is `(N, hiddenSize)` or `(hiddenSize)` (LSTMCell: `[h0, c0]`,
   * which may be a readonly tuple).
   * Blocks the calling thread: see {@link RNNCellBase.forwardAsync}.
   *
   * `out` (not in PyTorch) receives the results instead of new tensors, and is returned: a Tensor
   * (LSTMCell: `[h1, c1]`) of the result's shape and the cell's dtype. It may be `hx` itself, so that a
   * decoder loop runs with no allocation at all: `cell.forward(x, hc, hc)`.
   *
   * @example
   * ```ts
   * const hc: [Tensor, Tensor] = [Tensor.zeros([1, 16]), Tensor.zeros([1, 16])];
   * for (const x of tokens) cell.forward(x, hc, hc);   // hc now holds [h_t, c_t]
   * ```
   */
  forward(input: Tensor, hx?: HiddenInput<H> | null, out?: HiddenInput<H> | null): H {
    const spec = this.#cellSpec();
    let batch = quickCellBatch(spec, input, hx);
    if (batch >= 0) spec.mode();
    else batch = prepareCell(spec, input, hx).args.batch; // throws PyTorch's error, in PyTorch's order
    const shape = input.shape.length === 2 ? [batch, this.hiddenSize] : [this.hiddenSize];
    let outs: Tensor[];
    if (out === undefined || out === null) {
      const size = batch * this.hiddenSize;
      const make = (): Tensor => new Tensor(spec.dtype === 'float32' ? new Float32Array(size) : new Float64Array(size), shape);
      outs = spec.stateCount === 1 ? [make()] : [make(), make()];
    } else {
      outs = checkCellOut(spec, out, shape);
    }
    // No reads past an array's end (V8 takes a slow path for them): RNNCell and GRUCell have one state.
    let h0: Tensor['data'] | undefined;
    let c0: Tensor['data'] | undefined;
    if (hx !== undefined && hx !== null) {
      if (spec.stateCount === 1) h0 = (hx as Tensor).data;
      else [h0, c0] = [(hx as readonly Tensor[])[0].data, (hx as readonly Tensor[])[1].data];
    }
    const cOut = spec.stateCount === 2 ? outs[1].data : undefined;
    this.packedModel().step(batch, input.data, h0, c0, outs[0].data, cOut);
    if (out !== undefined && out !== null) return out as H;
    return (spec.stateCount === 1 ? outs[0] : outs) as H;
  }

  /**
   * The same as {@link RNNCellBase.forward}, computed on libuv's thread pool. Bad arguments reject the
   * Promise with forward's error. The input and hx buffers are copied before it returns, so they may be
   * reused, overwritten or transferred at once.
   */
  async forwardAsync(input: Tensor, hx?: HiddenInput<H> | null): Promise<H> {
    const prepared = this.#prepare(input, hx);
    return this.#results(prepared, await this.packedModel().forwardAsync({ ...prepared.args, dropout: 0, dropoutSeed: 0 }));
  }

  /** PyTorch's extra repr: `10, 20` (printed `LSTMCell(10, 20)`), `10, 20, bias=false, nonlinearity=relu`. */
  protected override extraRepr(): string {
    return [this.inputSize, this.hiddenSize, ...this.reprOptions()].join(', ');
  }

  /** What the repr shows beyond the sizes. */
  protected reprOptions(): string[] {
    return this.bias ? [] : ['bias=false'];
  }

  /** @internal the addon's contract, which may change in any release */
  protected engineSpec(): NativeModelSpec {
    return {
      mode: this.cellMode(),
      inputSize: this.inputSize,
      hiddenSize: this.hiddenSize,
      projSize: 0,
      numLayers: 1,
      bidirectional: false,
      bias: this.bias,
      dtype: this.dtype,
    };
  }

  protected override parametersChanged(): void {
    super.parametersChanged();
    this.#spec = undefined;
  }

  #cellSpec(): CellSpec {
    this.#spec ??= {
      className: this.className,
      stateCount: this.#stateCount,
      inputSize: this.inputSize,
      hiddenSize: this.hiddenSize,
      dtype: this.dtype,
      mode: () => this.cellMode(),
    };
    return this.#spec;
  }

  #prepare(input: unknown, hx: unknown): PreparedForward {
    return prepareCell(this.#cellSpec(), input, hx);
  }

  #results(prepared: PreparedForward, result: NativeForwardResult): H {
    // One layer, one step: h_n is h' (and c_n is c').
    const [, states] = resultTensors(prepared, result);
    return (states.length === 1 ? states[0] : states) as H;
  }
}
