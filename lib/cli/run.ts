/**
 * `torchrnn run FILE --input X`: builds the recurrent layer a state dict holds and runs its forward.
 *
 * @packageDocumentation
 */
import * as path from 'path';
import { saveNpy } from '../io/npy';
import { saveSafetensors } from '../io/safetensors';
import { promises as fs } from 'fs';
import { GRU } from '../modules/gru';
import { LSTM } from '../modules/lstm';
import { RNN } from '../modules/rnn';
import type { RNNBase } from '../modules/rnn_base';
import type { Nonlinearity } from '../modules/rnn_options';
import { normalisePrefix } from '../modules/state_dict_prefix';
import type { Tensor } from '../tensor';
import { findRecurrentLayers } from './recurrent_layers';
import { loadInputFile, loadStateDictFile } from './state_dict_file';

/** Options of {@link run}, as the command line gives them. */
export interface RunOptions {
  /** The input: `.npy`, `.json` (nested arrays) or `.safetensors` (one tensor). */
  input: string;
  /** Where to write the results: `.npy` (the output), `.safetensors` or `.json` (output, h_n, c_n). */
  output?: string;
  /** `lstm`, `gru` or `rnn`; inferred from the shapes when absent. */
  mode?: string;
  /** The layer's key prefix; needed only when the file holds several recurrent layers. */
  prefix?: string;
  /** For `rnn`: `tanh` (default) or `relu`. */
  nonlinearity?: string;
  /** Input and output as `(batch, seq, feature)`. */
  batchFirst?: boolean;
}

const MODES: Record<string, string> = { lstm: 'LSTM', gru: 'GRU', rnn: 'RNN' };

function shapeText(t: Tensor): string {
  return `[${t.shape.join(', ')}] ${t.dtype}`;
}

/** The one recurrent module the options point at, built from the state dict. */
function buildModule(sd: Record<string, Tensor>, options: RunOptions): RNNBase {
  const className = options.mode === undefined ? undefined : MODES[options.mode.toLowerCase()];
  if (options.mode !== undefined && className === undefined) {
    throw new Error(`--mode must be lstm, gru or rnn, got '${options.mode}'`);
  }
  const within = normalisePrefix(options.prefix);
  const layers = findRecurrentLayers(sd, within, className === undefined ? undefined : [className]).filter(
    (layer) => layer.kind === 'module' && (options.prefix === undefined || layer.prefix === within),
  );
  if (layers.length === 0) {
    throw new Error(`no recurrent layer (a key ending with weight_ih_l0) ${within === '' ? 'in the file' : `under '${within}'`}`);
  }
  if (layers.length > 1) {
    throw new Error(`the file holds ${layers.length} recurrent layers: choose one with --prefix (${layers.map((l) => `'${l.prefix}'`).join(', ')})`);
  }
  const [layer] = layers;
  if (layer.fits.length === 0) throw new Error(layer.errors.join('\n'));
  if (layer.fits.length > 1) {
    throw new Error(`the weights fit ${layer.fits.map((f) => f.className).join(' and ')}: choose with --mode`);
  }
  const common = { prefix: layer.prefix, batchFirst: options.batchFirst ?? false };
  switch (layer.fits[0].className) {
    case 'LSTM':
      return LSTM.fromStateDict(sd, common);
    case 'GRU':
      return GRU.fromStateDict(sd, common);
    default:
      return RNN.fromStateDict(sd, { ...common, nonlinearity: (options.nonlinearity ?? 'tanh') as Nonlinearity });
  }
}

async function writeResults(file: string, results: Record<string, Tensor>): Promise<void> {
  const extension = path.extname(file).toLowerCase();
  if (extension === '.npy') return saveNpy(file, results.output);
  if (extension === '.safetensors') return saveSafetensors(file, results);
  if (extension === '.json') {
    const json = Object.fromEntries(Object.entries(results).map(([name, t]) => [name, t.toArray()]));
    return fs.writeFile(file, `${JSON.stringify(json)}\n`);
  }
  throw new Error(`--output must be a .npy, .safetensors or .json file, got '${file}'`);
}

/** Runs the forward and returns the lines `torchrnn run` prints. */
export async function run(file: string, options: RunOptions): Promise<string[]> {
  const sd = await loadStateDictFile(file);
  const module = buildModule(sd, options).eval();
  const input = await loadInputFile(options.input, module.dtype);
  const [output, hidden] = module.forward(input);
  const results: Record<string, Tensor> = Array.isArray(hidden)
    ? { output, h_n: hidden[0], c_n: hidden[1] }
    : { output, h_n: hidden };
  const lines = [String(module), `input   ${shapeText(input)}`];
  for (const [name, t] of Object.entries(results)) lines.push(`${name.padEnd(7)} ${shapeText(t)}`);
  if (options.output !== undefined) {
    await writeResults(options.output, results);
    lines.push(`wrote ${options.output}`);
  }
  return lines;
}
