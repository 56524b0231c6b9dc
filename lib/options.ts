/**
 * Checking the keys of an options object, so that a PyTorch user's `hidden_size` or a typo is caught by name,
 * and the one check every boolean option shares.
 *
 * @packageDocumentation
 */
import { describe, isBoolean, isPlainObject } from './is';

/** Throws PyTorch's TypeError unless `value` is `true` or `false`; `name` is PyTorch's argument name. */
export function checkBoolean(name: string, value: unknown): asserts value is boolean {
  if (!isBoolean(value)) throw new TypeError(`${name} should be of type bool, got: ${describe(value)}`);
}

/** PyTorch's spelling of one of our option names: `hiddenSize` → `hidden_size`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Levenshtein distance: insertions, deletions and substitutions, each costing one. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}

/** Compares names ignoring case and underscores, so `hidden_size` and `HiddenSize` both match `hiddenSize`. */
function normalise(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

/** The known option `name` most likely meant, or undefined when none is close. */
export function closestOption(name: string, known: readonly string[]): string | undefined {
  const wanted = normalise(name);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const option of known) {
    const distance = editDistance(wanted, normalise(option));
    if (distance < bestDistance) {
      best = option;
      bestDistance = distance;
    }
  }
  // Up to a third of the name may be wrong before the suggestion stops helping.
  return bestDistance <= Math.max(1, Math.floor(wanted.length / 3)) ? best : undefined;
}

/**
 * Throws for an options object that is not a plain object or has a key outside `known`, naming the option
 * most likely meant: `Unknown option 'hidden_size' for LSTM: did you mean 'hiddenSize'?`.
 * Keys whose value is `undefined` count as given.
 */
export function checkOptionNames(
  owner: string,
  options: unknown,
  known: readonly string[],
): asserts options is Record<string, unknown> {
  if (!isPlainObject(options)) {
    throw new TypeError(`${owner} options must be a plain object, got: ${describe(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const suggestion = closestOption(name, known);
    throw new Error(
      suggestion === undefined
        ? `Unknown option '${name}' for ${owner}. Known options: ${known.join(', ')}`
        : `Unknown option '${name}' for ${owner}: did you mean '${suggestion}'?`,
    );
  }
}
