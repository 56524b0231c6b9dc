// Reading weights: a state dict from a .safetensors or .pt file, or from one entry of a checkpoint saved
// with torch.save({'model': model.state_dict(), 'optimizer': ..., 'epoch': ...}).

import path from 'node:path';
import { Tensor, loadSafetensors, loadTorch } from 'torchrnn';

/** True for a plain object whose every value is a Tensor: what torch.save(model.state_dict()) loads as. */
function isStateDict(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => v instanceof Tensor);
}

/** The entries of a checkpoint that hold state dicts, to name in an error. */
function stateDictEntries(checkpoint) {
  return Object.keys(checkpoint).filter((k) => isStateDict(checkpoint[k]) && Object.keys(checkpoint[k]).length > 0);
}

/**
 * The state dict in `file`, or in its entry `key` for a checkpoint. `flag` names the option that gave the
 * file, for the messages. Throws, naming what the file holds, when it is not a state dict and no (or a
 * wrong) key says where one is.
 */
export async function readStateDict(file, key, flag) {
  const extension = path.extname(file).toLowerCase();
  if (extension === '.safetensors') {
    if (key !== undefined) throw new Error(`--key picks an entry of a .pt checkpoint; a .safetensors file holds one state dict`);
    return loadSafetensors(file);
  }
  if (extension !== '.pt' && extension !== '.pth') throw new Error(`${flag} must be a .pt, .pth or .safetensors file, got '${file}'`);
  const loaded = await loadTorch(file);
  if (key === undefined) {
    if (isStateDict(loaded)) return loaded;
    const entries = stateDictEntries(loaded);
    const hint = entries.length > 0 ? `pick its state dict with --key (${entries.map((k) => `--key ${k}`).join(', ')})` : 'it holds no state dict';
    throw new Error(`the file is a checkpoint with the entries ${Object.keys(loaded).join(', ')}, not a state dict: ${hint}`);
  }
  if (!Object.hasOwn(loaded, key)) throw new Error(`--key ${key}: the checkpoint has no entry '${key}'; its entries are ${Object.keys(loaded).join(', ')}`);
  if (!isStateDict(loaded[key])) throw new Error(`--key ${key}: the entry '${key}' is not a state dict (a mapping of names to tensors)`);
  return loaded[key];
}
