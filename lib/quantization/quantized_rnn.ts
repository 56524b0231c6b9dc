/**
 * The dynamically quantized recurrent layers: `DynamicQuantizedRNN`, `DynamicQuantizedLSTM` and
 * `DynamicQuantizedGRU`, each made from its float layer (PyTorch's `torch.ao.nn.quantized.dynamic` names).
 *
 * @packageDocumentation
 */
import { GRU } from '../modules/gru';
import { LSTM } from '../modules/lstm';
import { RNN } from '../modules/rnn';
import type { Tensor } from '../tensor';
import type { FromFloatOptions, QuantizedDType } from './dtype';
import { checkFromFloat } from './from_float';
import { DynamicQuantizedRNNBase } from './quantized_rnn_base';
import { QuantizedEngineWeights } from './quantized_engine_weights';

/**
 * An {@link RNN} with its weights stored at reduced precision.
 *
 * @example
 * ```ts
 * const q = DynamicQuantizedRNN.fromFloat(new RNN(10, 20), { dtype: 'bfloat16' });
 * ```
 */
export class DynamicQuantizedRNN extends DynamicQuantizedRNNBase<Tensor> {
  /** `'tanh'` or `'relu'`, as the float layer's. */
  readonly nonlinearity: RNN['nonlinearity'];

  private constructor(float: RNN, dtype: QuantizedDType) {
    super('DynamicQuantizedRNN', float, QuantizedEngineWeights.fromFloat(float, dtype));
    this.nonlinearity = float.nonlinearity;
  }

  /** `float`'s configuration with its weights converted to `dtype`; `float` is left unchanged. */
  static fromFloat(float: RNN, options: FromFloatOptions = {}): DynamicQuantizedRNN {
    return new DynamicQuantizedRNN(float, checkFromFloat('DynamicQuantizedRNN', float, RNN, options));
  }
}

/**
 * An {@link LSTM} with its weights stored at reduced precision (PyTorch's `DynamicQuantizedLSTM`).
 *
 * @example
 * ```ts
 * const q = DynamicQuantizedLSTM.fromFloat(lstm);             // qint8
 * const [output, [hN, cN]] = q.forward(x);
 * ```
 */
export class DynamicQuantizedLSTM extends DynamicQuantizedRNNBase<[Tensor, Tensor]> {
  private constructor(float: LSTM, dtype: QuantizedDType) {
    super('DynamicQuantizedLSTM', float, QuantizedEngineWeights.fromFloat(float, dtype));
  }

  /** `float`'s configuration with its weights converted to `dtype`; `float` is left unchanged. */
  static fromFloat(float: LSTM, options: FromFloatOptions = {}): DynamicQuantizedLSTM {
    return new DynamicQuantizedLSTM(float, checkFromFloat('DynamicQuantizedLSTM', float, LSTM, options));
  }
}

/** A {@link GRU} with its weights stored at reduced precision (PyTorch's `DynamicQuantizedGRU`). */
export class DynamicQuantizedGRU extends DynamicQuantizedRNNBase<Tensor> {
  private constructor(float: GRU, dtype: QuantizedDType) {
    super('DynamicQuantizedGRU', float, QuantizedEngineWeights.fromFloat(float, dtype));
  }

  /** `float`'s configuration with its weights converted to `dtype`; `float` is left unchanged. */
  static fromFloat(float: GRU, options: FromFloatOptions = {}): DynamicQuantizedGRU {
    return new DynamicQuantizedGRU(float, checkFromFloat('DynamicQuantizedGRU', float, GRU, options));
  }
}
