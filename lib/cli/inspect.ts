/**
 * `torchrnn inspect FILE`: the tree of a state dict or checkpoint (each entry's path, shape and dtype, or
 * its value), and every recurrent layer in it wherever it sits, with the options its weights cannot tell
 * and the line that loads it.
 *
 * @packageDocumentation
 */
import { normalisePrefix } from '../modules/state_dict_prefix';
import { Tensor } from '../tensor';
import { accessor, isFlatArray, walkCheckpoint, type CheckpointTree, type TreeLeaf } from './checkpoint_tree';
import { describeConfig, findRecurrentLayers, optionsNotInWeights, type RecurrentLayer } from './recurrent_layers';
import { loadModelFile } from './state_dict_file';

/** Options of {@link inspect}. */
export interface InspectOptions {
  /** Only entries whose dotted path starts with this prefix. */
  prefix?: string;
}

/** The longest value shown on a line; longer ones are cut with an ellipsis. */
const MAX_VALUE_WIDTH = 60;

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - text.length));
}

function cut(text: string): string {
  return text.length <= MAX_VALUE_WIDTH ? text : `${text.slice(0, MAX_VALUE_WIDTH - 3)}...`;
}

function scalarText(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
}

/** The middle and last columns of a leaf: shape and dtype for a tensor, type and value otherwise. */
function leafColumns(leaf: TreeLeaf): [string, string] {
  const { value } = leaf;
  if (value instanceof Tensor) return [`[${value.shape.join(', ')}]`, value.dtype];
  if (leaf.sameAs !== undefined) return [Array.isArray(value) ? 'array' : 'object', `the same as ${leaf.sameAs === '' ? 'the root' : leaf.sameAs}`];
  if (value === null) return ['null', ''];
  if (value instanceof Uint8Array) return ['bytes', `${value.length} bytes`];
  if (isFlatArray(value)) {
    // Only as many items as fit on the line: a checkpoint's list may hold millions.
    const shown = value.slice(0, MAX_VALUE_WIDTH / 2).map(scalarText).join(', ');
    return ['array', cut(`[${shown}${value.length > MAX_VALUE_WIDTH / 2 ? ', ...' : ''}]`)];
  }
  if (Array.isArray(value)) return ['array', '[]'];
  if (typeof value === 'object') return ['object', '{}'];
  return [typeof value, cut(scalarText(value))];
}

function countLine(file: string, leaves: TreeLeaf[], within: string): string {
  const tensors = leaves.filter((leaf) => leaf.value instanceof Tensor).length;
  const others = leaves.length - tensors;
  const count = `${tensors} tensor${tensors === 1 ? '' : 's'}${others === 0 ? '' : ` and ${others} other value${others === 1 ? '' : 's'}`}`;
  return `${file}: ${count}${within === '' ? '' : ` under '${within}'`}`;
}

/** How a layer is loaded: the variable for the object holding its keys, and its key prefix in that object. */
function loadingLine(className: string, layer: RecurrentLayer, tree: CheckpointTree, nested: boolean): string {
  const firstKey = `${layer.prefix}${layer.kind === 'module' ? 'weight_ih_l0' : 'weight_ih'}`;
  const place = tree.tensors.get(firstKey);
  const owner = place?.owner ?? [];
  const keyPrefix = place === undefined ? layer.prefix : place.key.slice(0, place.key.length - (firstKey.length - layer.prefix.length));
  const options = [
    ...(keyPrefix === '' ? [] : [`prefix: '${keyPrefix}'`]),
    ...optionsNotInWeights(className).filter((o) => o.fromStateDict).map((o) => `${o.name}: ${o.defaultValue}`),
  ];
  const target = accessor(nested ? 'checkpoint' : 'sd', owner);
  return `${className}.fromStateDict(${target}${options.length === 0 ? '' : `, { ${options.join(', ')} }`})`;
}

/** The report `torchrnn inspect` prints, as lines. */
export async function inspect(file: string, options: InspectOptions = {}): Promise<string[]> {
  const root = await loadModelFile(file);
  const tree = walkCheckpoint(root);
  const within = normalisePrefix(options.prefix);
  const leaves = tree.leaves.filter((leaf) => leaf.path.startsWith(within) || (leaf.path === within.slice(0, -1) && within !== ''));
  if (leaves.length === 0) {
    throw new Error(within === '' ? `${file}: the file holds no entries` : `${file}: no entry starts with '${within}'`);
  }
  const lines = [countLine(file, leaves, within)];
  const columns = leaves.map((leaf) => [leaf.path === '' ? '(root)' : leaf.path, ...leafColumns(leaf)]);
  const widths = [0, 1].map((c) => Math.max(...columns.map((row) => row[c].length)) + 2);
  for (const [path, middle, last] of columns) lines.push(`  ${pad(path, widths[0])}${pad(middle, widths[1])}${last}`.trimEnd());

  const tensors: Record<string, Tensor> = {};
  for (const [path, place] of tree.tensors) tensors[path] = place.tensor;
  const layers = findRecurrentLayers(tensors, within);
  lines.push('');
  if (layers.length === 0) {
    lines.push('No recurrent layer (no key ends with weight_ih_l0 or weight_ih).');
    return lines;
  }
  // A flat state dict is `sd`, as users name it; anything holding it (a checkpoint dict) is `checkpoint`.
  const nested = [...tree.tensors.values()].some((place) => place.owner.length > 0);
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
      const unread = optionsNotInWeights(className);
      if (unread.length > 0) {
        const listed = unread.map((o) => `${o.name} (default ${o.defaultValue}${o.note === '' ? '' : `; ${o.note}`})`).join(', ');
        lines.push(`    not in the weights (give them as the model was built): ${listed}`);
      }
      lines.push(`    ${loadingLine(className, layer, tree, nested)}`);
    }
  }
  return lines;
}
