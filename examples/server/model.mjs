// The model: one recurrent layer built from a state dict file, once, before the server listens, so a
// replica that answers /health has its weights packed and ready.

import path from 'node:path';
import { GRU, LSTM, RNN, loadSafetensors, loadTorch } from 'torchrnn';

const CLASSES = { lstm: LSTM, gru: GRU, rnn: RNN };

async function readStateDict(file) {
  const extension = path.extname(file).toLowerCase();
  if (extension === '.safetensors') return loadSafetensors(file);
  if (extension === '.pt' || extension === '.pth') return loadTorch(file);
  throw new Error(`--model must be a .pt, .pth or .safetensors file, got '${file}'`);
}

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
  const sd = await readStateDict(options.model);
  const module = build(sd, options).eval();
  return {
    module,
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
