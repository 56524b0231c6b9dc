/**
 * Picking one module's entries out of a larger model's state dict by their key prefix
 * (`encoder.rnn.weight_ih_l0` under `encoder.rnn.`), as PyTorch's `load_state_dict` does for submodules.
 *
 * @packageDocumentation
 */
import { describe } from '../is';

/**
 * The prefix as keys carry it: `''` for none, otherwise ending with a dot (`'encoder.rnn'` and
 * `'encoder.rnn.'` both give `'encoder.rnn.'`), since PyTorch's keys join module names with dots.
 */
export function normalisePrefix(prefix: unknown): string {
  if (prefix === undefined || prefix === '') return '';
  if (typeof prefix !== 'string') throw new TypeError(`prefix should be a string, got: ${describe(prefix)}`);
  return prefix.endsWith('.') ? prefix : `${prefix}.`;
}

/** The entries whose keys start with `prefix`, keyed without it, in the state dict's order. */
export function entriesUnderPrefix<V>(entries: Map<string, V>, prefix: string): Map<string, V> {
  const selected = new Map<string, V>();
  for (const [key, value] of entries) if (key.startsWith(prefix)) selected.set(key.slice(prefix.length), value);
  return selected;
}

/** The distinct first components of `keys` (`embedding.`, `encoder.`), to say what a state dict holds. */
export function topLevelPrefixes(keys: Iterable<string>): string[] {
  const seen = new Set<string>();
  for (const key of keys) {
    const dot = key.indexOf('.');
    seen.add(dot < 0 ? key : key.slice(0, dot + 1));
  }
  return [...seen];
}
