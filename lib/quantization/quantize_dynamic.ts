/**
 * `quantizeDynamic`: PyTorch's `torch.ao.quantization.quantize_dynamic` for the layers the engine computes.
 *
 * @packageDocumentation
 */
import { describe, isBoolean } from '../is';
import { deepCopy } from '../modules/deep_copy';
import { GRU } from '../modules/gru';
import { GRUCell } from '../modules/gru_cell';
import { Linear } from '../modules/linear';
import { LSTM } from '../modules/lstm';
import { LSTMCell } from '../modules/lstm_cell';
import { Module } from '../modules/module';
import { RNN } from '../modules/rnn';
import { RNNCell } from '../modules/rnn_cell';
import { checkOptionNames } from '../options';
import { checkQuantizedDType, type QuantizedDType } from './dtype';
import { DynamicQuantizedGRUCell, DynamicQuantizedLSTMCell, DynamicQuantizedRNNCell } from './quantized_cells';
import { DynamicQuantizedLinear } from './quantized_linear';
import { DynamicQuantizedGRU, DynamicQuantizedLSTM, DynamicQuantizedRNN } from './quantized_rnn';

/** Options of {@link quantizeDynamic}. */
export interface QuantizeDynamicOptions {
  /** The stored precision of the weight matrices. Default `'qint8'`, as PyTorch's. */
  dtype?: QuantizedDType;
  /** Replace the layers inside `model` itself instead of returning a converted copy. Default false. */
  inplace?: boolean;
}

/** The quantized module of a convertible float one, or undefined for any other module. */
function convert(module: Module, dtype: QuantizedDType): Module | undefined {
  // A quantized module is no instance of its float class (it extends the family base), so it is never
  // converted again.
  if (module instanceof LSTM) return DynamicQuantizedLSTM.fromFloat(module, { dtype });
  if (module instanceof GRU) return DynamicQuantizedGRU.fromFloat(module, { dtype });
  if (module instanceof RNN) return DynamicQuantizedRNN.fromFloat(module, { dtype });
  if (module instanceof Linear) return DynamicQuantizedLinear.fromFloat(module, { dtype });
  if (module instanceof LSTMCell) return DynamicQuantizedLSTMCell.fromFloat(module, { dtype });
  if (module instanceof GRUCell) return DynamicQuantizedGRUCell.fromFloat(module, { dtype });
  if (module instanceof RNNCell) return DynamicQuantizedRNNCell.fromFloat(module, { dtype });
  return undefined;
}

/**
 * Replaces every convertible descendant of `model` in its slot, under every path that reaches it (a layer
 * held in two places is converted once and the same quantized module fills both), as PyTorch's `_convert`.
 */
function convertDescendants(model: Module, dtype: QuantizedDType): void {
  const done = new Map<Module, Module>();
  // Every path first, then the replacements: the walk never sees a tree it is changing.
  for (const [path, module] of model.namedModules({ removeDuplicate: false })) {
    if (path === '') continue;
    const converted = done.get(module) ?? convert(module, dtype);
    if (converted === undefined) continue;
    done.set(module, converted);
    const dot = path.lastIndexOf('.');
    model.getSubmodule(path.slice(0, Math.max(dot, 0))).addModule(path.slice(dot + 1), converted); // keeps the slot's place
  }
}

/**
 * Converts the weights of every `RNN`, `LSTM`, `GRU`, their cells and `Linear` in `model` to a reduced precision, as
 * PyTorch's `quantize_dynamic(model, dtype=...)`: each becomes a `DynamicQuantized*` module whose weight
 * matrices are stored as `dtype` (biases stay float32), computed with float32 inputs, outputs and
 * states. `'qint8'` stores int8 weights with one symmetric scale per output row (PyTorch's per-channel
 * observer), `'float16'` and `'bfloat16'` round weights to nearest even. Where the CPU has AVX-512 VNNI
 * (qint8) or BF16 (bfloat16) dot products, each call also rounds the activations the weights multiply
 * (8 bits per row with its own scale, as PyTorch's dynamic modules; bfloat16 to nearest even) and sums
 * their products exactly or in float32; elsewhere activations and sums stay float32 (see
 * `quantizedBackends()`). docs/PRECISION.md gives the measured errors.
 *
 * `model` may itself be such a layer: the converted layer is returned (PyTorch converts only children).
 * For a model holding layers (a `Sequential`, your own `Module`), as PyTorch, a converted copy is returned
 * ({@link deepCopy} of `model` with each layer replaced in its slot) and `model` is left unchanged; with
 * `{ inplace: true }` the layers are replaced in `model` itself, which is returned.
 *
 * @throws TypeError for an unknown option or dtype, or a float64 layer
 * @example
 * ```ts
 * const qlstm = quantizeDynamic(new LSTM(64, 256), { dtype: 'qint8' });
 * const qtagger = quantizeDynamic(tagger, { dtype: 'bfloat16' });  // tagger keeps its float32 layers
 * quantizeDynamic(tagger, { dtype: 'bfloat16', inplace: true });   // tagger.lstm, tagger.head replaced
 * ```
 */
export function quantizeDynamic(model: LSTM, options?: QuantizeDynamicOptions): DynamicQuantizedLSTM;
export function quantizeDynamic(model: GRU, options?: QuantizeDynamicOptions): DynamicQuantizedGRU;
export function quantizeDynamic(model: RNN, options?: QuantizeDynamicOptions): DynamicQuantizedRNN;
export function quantizeDynamic(model: Linear, options?: QuantizeDynamicOptions): DynamicQuantizedLinear;
export function quantizeDynamic(model: LSTMCell, options?: QuantizeDynamicOptions): DynamicQuantizedLSTMCell;
export function quantizeDynamic(model: GRUCell, options?: QuantizeDynamicOptions): DynamicQuantizedGRUCell;
export function quantizeDynamic(model: RNNCell, options?: QuantizeDynamicOptions): DynamicQuantizedRNNCell;
export function quantizeDynamic<M extends Module>(model: M, options?: QuantizeDynamicOptions): M;
export function quantizeDynamic(model: Module, options: QuantizeDynamicOptions = {}): Module {
  if (!(model instanceof Module)) throw new TypeError(`quantizeDynamic: model must be a Module, got: ${describe(model)}`);
  checkOptionNames('quantizeDynamic', options, ['dtype', 'inplace']);
  const { dtype = 'qint8', inplace = false } = options;
  checkQuantizedDType('quantizeDynamic', dtype);
  if (!isBoolean(inplace)) throw new TypeError(`quantizeDynamic: inplace must be a boolean, got: ${describe(inplace)}`);
  const converted = convert(model, dtype);
  if (converted !== undefined) return converted;
  const target = inplace ? model : deepCopy(model);
  convertDescendants(target, dtype);
  return target;
}
