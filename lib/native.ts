/**
 * The one place that loads the native addon, and the contract between the TypeScript facade and it.
 *
 * The facade checks options and shapes and throws PyTorch's errors; the addon re-checks every size it is
 * given (it must never read or write out of bounds, whatever arrives) and computes. One call runs the
 * whole stack — every layer, both directions, every time step.
 *
 * @packageDocumentation
 */
import * as path from 'path';
import { describeThisProcess, loadFailureMessage } from './native_load_error';

/** Element type of every buffer crossing into the addon: one module uses one of them throughout. */
export type NativeArray = Float32Array | Float64Array;

/** The recurrence, in PyTorch's own mode names (`RNN_TANH` and `RNN_RELU` are `nn.RNN`'s two nonlinearities). */
export type NativeMode = 'LSTM' | 'GRU' | 'RNN_TANH' | 'RNN_RELU';

/** What a packed model is: PyTorch's constructor arguments, already validated by the facade. */
export interface NativeModelSpec {
  /** Which recurrence. */
  mode: NativeMode;
  /** Features per input step. */
  inputSize: number;
  /** Features of the hidden (and cell) state. */
  hiddenSize: number;
  /** 0 for none; LSTM only. */
  projSize: number;
  /** Stacked layers, at least 1. */
  numLayers: number;
  /** Whether each layer also runs over the reversed sequence. */
  bidirectional: boolean;
  /** Whether the layers have biases. */
  bias: boolean;
  /** Element type of weights, inputs and results. */
  dtype: 'float32' | 'float64';
}

/**
 * One forward call.
 *
 * Padded form (`batchSizes` absent): `input` holds `seqLen * batch * inputSize` elements laid out
 * `(seqLen, batch, inputSize)`, or `(batch, seqLen, inputSize)` when `batchFirst`; `output` comes back in
 * the same layout with `D * Hout` features.
 *
 * Packed form (`batchSizes` present): `input` is a PackedSequence's `data`, `(sum(batchSizes), inputSize)`,
 * time-major, the rows of step t being the first `batchSizes[t]` sequences; `batchSizes` is non-increasing
 * with `batchSizes[0] === batch` and `batchSizes.length === seqLen`; `batchFirst` must be false. `output`
 * is `(sum(batchSizes), D * Hout)` in the same row order, and each sequence's h_n/c_n is its state after
 * its own last step (the reverse direction starts at each sequence's own last step).
 */
export interface NativeForwardArgs {
  /** The input elements, in the layout described above. */
  input: NativeArray;
  /** Time steps (padded form) or `batchSizes.length` (packed form). */
  seqLen: number;
  /** Sequences in the batch (`batchSizes[0]` when packed). */
  batch: number;
  /** Whether padded input and output are `(batch, seqLen, features)`. */
  batchFirst: boolean;
  /** Packed form only: how many sequences are active at each step. */
  batchSizes?: Int32Array;
  /** `(numLayers * D, batch, Hout)`; zeros when absent. Never batch-first. */
  h0?: NativeArray;
  /** LSTM only: `(numLayers * D, batch, hiddenSize)`; zeros when absent. */
  c0?: NativeArray;
  /** Inverted dropout on every layer's output but the last's; 0 for none (eval mode). */
  dropout: number;
  /** Seeds the dropout masks, so that a seeded facade gets reproducible masks. A uint32. */
  dropoutSeed: number;
}

/** A forward's results, freshly allocated, in the module's dtype. */
export interface NativeForwardResult {
  /** The last layer's output at every step, in the input's layout. */
  output: NativeArray;
  /** `(numLayers * D, batch, Hout)` */
  hN: NativeArray;
  /** LSTM only: `(numLayers * D, batch, hiddenSize)` */
  cN?: NativeArray;
}

/** Weights packed once, read-only afterwards; concurrent forwards on one instance are safe. */
export interface NativePackedModel {
  /** Runs the whole stack on the calling thread. */
  forward(args: NativeForwardArgs): NativeForwardResult;
  /**
   * The same computation on libuv's threadpool. Inputs are copied before the Promise is returned, so the
   * caller may reuse, transfer or detach its buffers at once; the call keeps these packed weights alive.
   */
  forwardAsync(args: NativeForwardArgs): Promise<NativeForwardResult>;
  /**
   * One step of a one-layer, one-direction model (a cell) on the calling thread, results written into the
   * caller's arrays: `input` `(batch, inputSize)`, `h0` `(batch, Hout)` and (LSTM) `c0` `(batch, hiddenSize)`
   * or undefined for zeros; `hOut` `(batch, Hout)`, `cOut` `(batch, hiddenSize)` for LSTM, else undefined.
   * Outputs may share memory with the inputs (the inputs are then copied first), not with each other.
   * The same computation as `forward` with `seqLen` 1.
   */
  step(
    batch: number,
    input: NativeArray,
    h0: NativeArray | undefined,
    c0: NativeArray | undefined,
    hOut: NativeArray,
    cOut: NativeArray | undefined,
  ): void;
  /**
   * `forward` on padded input with positional arguments, results written into the caller's arrays of the
   * results' exact lengths (`output`, `hN`, and `cN` for LSTM, else undefined), which must not share memory
   * with each other; an input sharing memory with a result is copied first. `h0` / `c0` undefined for zeros.
   */
  forwardInto(
    seqLen: number,
    batch: number,
    batchFirst: boolean,
    input: NativeArray,
    h0: NativeArray | undefined,
    c0: NativeArray | undefined,
    output: NativeArray,
    hN: NativeArray,
    cN: NativeArray | undefined,
    dropout: number,
    dropoutSeed: number,
  ): void;
}

/** A Linear layer's weight, packed once for the engine's GEMM kernel; read-only afterwards. */
export interface NativePackedLinear {
  /**
   * `input` holds `rows * inFeatures` elements, `(rows, inFeatures)` row-major, of the weight's type;
   * returns a new `(rows, outFeatures)` array: `input · weightᵀ + bias`.
   */
  forward(input: NativeArray, rows: number): NativeArray;
}

/** The reduced precisions the engine stores weight matrices in, by PyTorch's dtype names. */
export type NativeWeightFormat = 'bfloat16' | 'float16' | 'qint8';

/** A weight matrix as the engine stores it at reduced precision. */
export interface NativeQuantizedWeight {
  /** bfloat16 / float16 bits (Uint16Array), or int8 values (Int8Array), row-major like the float matrix. */
  values: Uint16Array | Int8Array;
  /** qint8: one scale per row, `value = q * scale`; null for the 16-bit formats. */
  scales: Float32Array | null;
}

/**
 * How a packed model's or Linear's weight matrices are stored when not float32: the format, and each
 * matrix's row scales for qint8 (the entry of a bias, or of any 16-bit matrix, is ignored).
 */
export interface NativePrecision<S> {
  /** The stored format of every weight matrix. */
  format: NativeWeightFormat;
  /** One entry per weight array (PackedModel) or the weight's (PackedLinear). */
  scales: S;
}

/** What the compiled addon exports. */
export interface NativeAddon {
  /**
   * Packs `weights` — in PyTorch's `named_parameters()` order for `spec` (weight_ih_l0, weight_hh_l0,
   * bias_ih_l0, bias_hh_l0, weight_hr_l0, then `_reverse`, then the next layer) — into the engine's layout.
   */
  PackedModel: new (
    spec: NativeModelSpec,
    weights: Array<NativeArray | Uint16Array | Int8Array>,
    precision?: NativePrecision<Array<Float32Array | null>>,
  ) => NativePackedModel;
  /**
   * Packs a Linear's `weight` `(outFeatures, inFeatures)` and its `bias` `(outFeatures)`, or `null` for
   * none; both of one type, which the inputs must share.
   */
  PackedLinear: new (
    inFeatures: number,
    outFeatures: number,
    weight: NativeArray | Uint16Array | Int8Array,
    bias: NativeArray | null,
    precision?: NativePrecision<Float32Array | null>,
  ) => NativePackedLinear;
  /**
   * A float32 `(rows, cols)` matrix converted as PyTorch converts weights: bfloat16 and float16 rounded to
   * nearest even, qint8 per row symmetric (PyTorch's per-channel weight observer and
   * `torch.quantize_per_channel`). With `precision`, `PackedModel` and `PackedLinear` take these arrays in
   * place of float32 matrices (float32 modules only; biases stay float32).
   */
  quantizeWeight(format: NativeWeightFormat, weight: Float32Array, rows: number, cols: number): NativeQuantizedWeight;
  /** The kernel table each reduced format runs on (e.g. `'avx512-decode'`). */
  quantizedBackends(): Record<NativeWeightFormat, string>;
  /** Which kernel family the engine chose at load (`'scalar'`, `'avx2'`, `'avx512'`, ...). */
  backend(): string;
  /** Threads a forward may use from now on, the caller's included; an integer >= 1 (checked by the facade). */
  setNumThreads(n: number): void;
  /** The current thread count (by default the number of physical cores). */
  getNumThreads(): number;
  /**
   * Diagnostic for the tests: applies the chosen kernel family's vectorised `'sigmoid'` or `'tanh'` to
   * every element and returns a new array of the same type.
   */
  activationDiagnostic(name: 'sigmoid' | 'tanh', values: NativeArray): NativeArray;
  /**
   * Diagnostic for the tests: member `member` of every step group (a recurrent step split across
   * threads) stays away from every `everyRounds`-th round until the others have run it without it, like a
   * member descheduled by another process now and then, and a split offered again after rounds alone
   * waits for every member, like members all scheduled in time for it; what happens follows from round
   * numbers alone, not from the machine's load. `everyRounds` is 0 (off) or at least 8.
   */
  stepGroupLateness(member: number, everyRounds: number): void;
  /** Diagnostic for the tests: shares run by another member, rounds run alone, and rejoins, since load. */
  stepGroupCounts(): { stolenShares: number; soloRounds: number; rejoins: number };
}

function loadAddon(): NativeAddon {
  // node-gyp-build looks in build/Release, build/Debug and prebuilds/ below the package root. Finding the
  // file and loading it are two steps so that a failure can say which binary was found and would not load.
  const root = path.join(__dirname, '..');
  let file: string | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const gypBuild = require('node-gyp-build') as { path(dir: string): string };
    file = gypBuild.path(root);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as NativeAddon;
  } catch (cause) {
    throw new Error(loadFailureMessage(describeThisProcess(root, file, cause)), { cause });
  }
}

/** The loaded addon, shared by the whole library. */
export const native: NativeAddon = loadAddon();
