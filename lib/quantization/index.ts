/**
 * Reduced-precision weights: {@link quantizeDynamic} and the modules it makes.
 *
 * @packageDocumentation
 */
export { quantizeDynamic, type QuantizeDynamicOptions } from './quantize_dynamic';
export { DynamicQuantizedRNNBase } from './quantized_rnn_base';
export { DynamicQuantizedRNN, DynamicQuantizedLSTM, DynamicQuantizedGRU } from './quantized_rnn';
export { DynamicQuantizedRNNCellBase } from './quantized_cell_base';
export { DynamicQuantizedRNNCell, DynamicQuantizedLSTMCell, DynamicQuantizedGRUCell } from './quantized_cells';
export { DynamicQuantizedLinear } from './quantized_linear';
export { QuantizedWeight } from './quantized_weight';
export { quantizedBackends } from './backends';
export { QUANTIZED_DTYPES, type QuantizedDType, type FromFloatOptions } from './dtype';
