/**
 * The dynamically quantized cells: `DynamicQuantizedRNNCell`, `DynamicQuantizedLSTMCell` and
 * `DynamicQuantizedGRUCell`, each made from its float cell (PyTorch's `torch.ao.nn.quantized.dynamic`
 * RNNCell, LSTMCell, GRUCell).
 *
 * @packageDocumentation
 */
import { GRUCell } from '../modules/gru_cell';
import { LSTMCell } from '../modules/lstm_cell';
import { RNNCell, rnnCellMode } from '../modules/rnn_cell';
import type { NativeMode } from '../native';
import type { Tensor } from '../tensor';
import type { FromFloatOptions, QuantizedDType } from './dtype';
import { checkFromFloat } from './from_float';
import { DynamicQuantizedRNNCellBase } from './quantized_cell_base';
import { QuantizedEngineWeights } from './quantized_engine_weights';

/** An {@link RNNCell} with its weights stored at reduced precision. */
export class DynamicQuantizedRNNCell extends DynamicQuantizedRNNCellBase<Tensor> {
  /** `'tanh'` or `'relu'`, as the float cell's. */
  readonly nonlinearity: RNNCell['nonlinearity'];

  private constructor(float: RNNCell, dtype: QuantizedDType) {
    super('DynamicQuantizedRNNCell', 1, 1, float, QuantizedEngineWeights.fromFloat(float, dtype));
    this.nonlinearity = float.nonlinearity;
  }

  /** `float`'s sizes with its weights converted to `dtype` (default `'qint8'`); `float` is left unchanged. */
  static fromFloat(float: RNNCell, options: FromFloatOptions = {}): DynamicQuantizedRNNCell {
    return new DynamicQuantizedRNNCell(float, checkFromFloat('DynamicQuantizedRNNCell', float, RNNCell, options));
  }

  /** As RNNCell's: an unknown nonlinearity (never checked at construction) fails in forward, in PyTorch's words. */
  protected cellMode(): NativeMode {
    return rnnCellMode(this.nonlinearity);
  }

  protected override reprOptions(): string[] {
    return this.nonlinearity === 'tanh' ? super.reprOptions() : [...super.reprOptions(), `nonlinearity=${String(this.nonlinearity)}`];
  }
}

/** An {@link LSTMCell} with its weights stored at reduced precision. */
export class DynamicQuantizedLSTMCell extends DynamicQuantizedRNNCellBase<[Tensor, Tensor]> {
  private constructor(float: LSTMCell, dtype: QuantizedDType) {
    super('DynamicQuantizedLSTMCell', 4, 2, float, QuantizedEngineWeights.fromFloat(float, dtype));
  }

  /** `float`'s sizes with its weights converted to `dtype` (default `'qint8'`); `float` is left unchanged. */
  static fromFloat(float: LSTMCell, options: FromFloatOptions = {}): DynamicQuantizedLSTMCell {
    return new DynamicQuantizedLSTMCell(float, checkFromFloat('DynamicQuantizedLSTMCell', float, LSTMCell, options));
  }

  protected cellMode(): NativeMode {
    return 'LSTM';
  }
}

/** A {@link GRUCell} with its weights stored at reduced precision. */
export class DynamicQuantizedGRUCell extends DynamicQuantizedRNNCellBase<Tensor> {
  private constructor(float: GRUCell, dtype: QuantizedDType) {
    super('DynamicQuantizedGRUCell', 3, 1, float, QuantizedEngineWeights.fromFloat(float, dtype));
  }

  /** `float`'s sizes with its weights converted to `dtype` (default `'qint8'`); `float` is left unchanged. */
  static fromFloat(float: GRUCell, options: FromFloatOptions = {}): DynamicQuantizedGRUCell {
    return new DynamicQuantizedGRUCell(float, checkFromFloat('DynamicQuantizedGRUCell', float, GRUCell, options));
  }

  protected cellMode(): NativeMode {
    return 'GRU';
  }
}
