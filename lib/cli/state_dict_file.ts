/**
 * Reading the files the CLI is given: state dicts and checkpoints by their extension, and inputs as Tensors.
 *
 * @packageDocumentation
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { loadNpy } from '../io/npy';
import { loadSafetensors } from '../io/safetensors';
import { loadTorch } from '../io/torch_load';
import { flatTensors } from './checkpoint_tree';
import { Tensor, tensor, type FloatDType, type NestedArray } from '../tensor';

/** The formats a state dict file may have, by extension. */
export type StateDictFormat = 'torch' | 'safetensors';

/** `safetensors` for `.safetensors`, otherwise `torch` (`.pt`, `.pth`, `.bin`, ... are all `torch.save` files). */
export function stateDictFormat(file: string): StateDictFormat {
  return path.extname(file).toLowerCase() === '.safetensors' ? 'safetensors' : 'torch';
}

/**
 * What `file` holds: for a `torch.save` file, what `torch.load` returns (a state dict, or a checkpoint dict
 * with the state dict inside); for a `.safetensors` file, its tensors.
 */
export async function loadModelFile(file: string): Promise<unknown> {
  return stateDictFormat(file) === 'safetensors' ? loadSafetensors(file) : loadTorch(file);
}

/**
 * Every tensor in `file` as one flat state dict keyed by its full dotted path: a plain state dict as it is,
 * a checkpoint's `{"model": sd}` as `model.<key>`.
 */
export async function loadStateDictFile(file: string): Promise<Record<string, Tensor>> {
  return flatTensors(await loadModelFile(file));
}

/**
 * An input tensor from `.npy`, `.json` (a nested array of numbers) or `.safetensors` (holding exactly one
 * tensor), converted to `dtype`.
 */
export async function loadInputFile(file: string, dtype: FloatDType): Promise<Tensor> {
  const extension = path.extname(file).toLowerCase();
  if (extension === '.npy') return (await loadNpy(file)).to(dtype);
  if (extension === '.json') {
    const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as NestedArray;
    return tensor(parsed, dtype);
  }
  if (extension === '.safetensors') {
    const tensors = Object.entries(await loadSafetensors(file));
    if (tensors.length !== 1) {
      throw new Error(`${file}: an input .safetensors file must hold one tensor, found ${tensors.length}: ${tensors.map(([k]) => k).join(', ')}`);
    }
    return tensors[0][1].to(dtype);
  }
  throw new Error(`${file}: the input must be a .npy, .json or .safetensors file`);
}
