/**
 * `torchrnn inspect FILE`: a state dict's keys, shapes and dtypes, and the configuration of every
 * recurrent layer in it, with the line that loads each.
 *
 * @packageDocumentation
 */
import { normalisePrefix } from '../modules/state_dict_prefix';
import { describeConfig, findRecurrentLayers } from './recurrent_layers';
import { loadStateDictFile } from './state_dict_file';

/** Options of {@link inspect}. */
export interface InspectOptions {
  /** Only keys starting with this prefix. */
  prefix?: string;
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - text.length));
}

/** The report `torchrnn inspect` prints, as lines. */
export async function inspect(file: string, options: InspectOptions = {}): Promise<string[]> {
  const sd = await loadStateDictFile(file);
  const within = normalisePrefix(options.prefix);
  const keys = Object.keys(sd).filter((key) => key.startsWith(within));
  if (keys.length === 0) {
    throw new Error(within === '' ? `${file}: the state dict is empty` : `${file}: no key starts with '${within}'`);
  }
  const lines = [`${file}: ${keys.length} tensor${keys.length === 1 ? '' : 's'}${within === '' ? '' : ` under '${within}'`}`];
  const keyWidth = Math.max(...keys.map((k) => k.length)) + 2;
  const shapes = keys.map((key) => `[${sd[key].shape.join(', ')}]`);
  const shapeWidth = Math.max(...shapes.map((s) => s.length)) + 2;
  keys.forEach((key, i) => lines.push(`  ${pad(key, keyWidth)}${pad(shapes[i], shapeWidth)}${sd[key].dtype}`));

  const layers = findRecurrentLayers(sd, within);
  lines.push('');
  if (layers.length === 0) {
    lines.push('No recurrent layer (no key ends with weight_ih_l0 or weight_ih).');
    return lines;
  }
  lines.push('Recurrent layers:');
  for (const layer of layers) {
    const where = layer.prefix === '' ? '(no prefix)' : layer.prefix;
    if (layer.fits.length === 0) {
      lines.push(`  ${where}  not a consistent ${layer.kind === 'module' ? 'RNN, LSTM or GRU' : 'cell'}:`);
      for (const error of layer.errors) lines.push(`    ${error}`);
      continue;
    }
    for (const { className, config } of layer.fits) {
      lines.push(`  ${where}  ${describeConfig(className, config)}`);
      const prefixOption = layer.prefix === '' ? '' : `, { prefix: '${layer.prefix}' }`;
      lines.push(`    ${className}.fromStateDict(sd${prefixOption})`);
    }
  }
  return lines;
}
