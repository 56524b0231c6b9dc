// The model: one recurrent layer built from a state dict file, once, before the server listens, so a
// replica that answers /health has its weights packed and ready.

import path from 'node:path';
import { GRU, LSTM, RNN } from 'torchrnn';
import { readStateDict } from './weights.mjs';

const CLASSES = { lstm: LSTM, gru: GRU, rnn: RNN };

/**
 * The layer the options name. Without --mode, each class's fromStateDict is tried: a layer's weight
 * shapes fit exactly one of them (4 gates for LSTM, 3 for GRU, 1 for RNN), and when none fits, every
 * class's reason is shown, since the right one depends on what the user meant.
 */
function build(sd, { prefix, mode, nonlinearity }) {
  const options = (name) => (name === 'rnn' ? { prefix, nonlinearity: nonlinearity ?? 'tanh' } : { prefix });
  if (mode !== undefined) return CLASSES[mode].fromStateDict(sd, options(mode));
  const fits = [];
  const reasons = [];
  for (const [name, Class] of Object.entries(CLASSES)) {
    try {
      fits.push(Class.fromStateDict(sd, options(name)));
    } catch (error) {
      reasons.push(`  ${error.message}`);
    }
  }
  if (fits.length === 1) return fits[0];
  if (fits.length === 0) throw new Error(`the weights fit no recurrent layer:\n${reasons.join('\n')}`);
  throw new Error(`the weights fit ${fits.map((m) => m.constructor.name).join(' and ')}: choose with --mode`);
}

/** Loads `options.model` and returns the layer in eval mode with a description for /health. */
export async function loadModel(options) {
  const sd = await readStateDict(options.model, options.key, '--model');
  const module = build(sd, options).eval();
  const directions = module.bidirectional ? 2 : 1;
  const hout = module.projSize > 0 ? module.projSize : module.hiddenSize;
  return {
    kind: 'layer',
    module,
    // Numbers in an answer, from the sizes alone (answer.mjs bounds an answer with them before its forward).
    sizes: {
      stepOutput: directions * hout,
      sequenceOutput: 0,
      sequenceStates: module.numLayers * directions * (hout + (module instanceof LSTM ? module.hiddenSize : 0)),
      bytesPerNumber: module.dtype === 'float64' ? 8 : 4,
    },
    // The state's layout, which validation checks hx against and /health reports.
    config: {
      file: path.basename(options.model),
      prefix: options.prefix ?? '',
      class: module.constructor.name,
      repr: String(module),
      inputSize: module.inputSize,
      hiddenSize: module.hiddenSize,
      numLayers: module.numLayers,
      bidirectional: module.bidirectional,
      projSize: module.projSize,
      bias: module.bias,
      dtype: module.dtype,
      ...(module instanceof RNN ? { nonlinearity: module.nonlinearity } : {}),
    },
  };
}
