/**
 * Cutting one batch into parts of about equal work, which compute at once (DynamicBatcher's `batchParts`).
 *
 * @packageDocumentation
 */
import type { QueuedRequest } from './queued_request';

/** The engine's work for one request: its sequences' steps (a step costs the same for any sequence). */
export function requestSteps(request: QueuedRequest): number {
  const lengths = request.packed?.lengths;
  if (lengths === undefined) return request.count * request.length;
  let steps = 0;
  for (const length of lengths) steps += length;
  return steps;
}

/**
 * `requests` (in arrival order) in at most `parts` groups of about equal steps: the longest first, each to
 * the group with the fewest steps so far (ties to the earlier group), so the parts finish close together.
 * Each group keeps arrival order; empty groups are left out, so there are never more groups than requests.
 */
export function splitIntoParts(requests: readonly QueuedRequest[], parts: number): QueuedRequest[][] {
  if (parts <= 1 || requests.length <= 1) return [[...requests]];
  const count = Math.min(parts, requests.length);
  const steps = requests.map(requestSteps);
  // Stable: equal lengths keep arrival order, so the same batch always splits the same way.
  const longestFirst = requests.map((_, i) => i).sort((a, b) => steps[b] - steps[a]);
  const groupOf = new Array<number>(requests.length);
  const load = new Array<number>(count).fill(0);
  for (const i of longestFirst) {
    let lightest = 0;
    for (let g = 1; g < count; g++) if (load[g] < load[lightest]) lightest = g;
    groupOf[i] = lightest;
    load[lightest] += steps[i];
  }
  const groups = Array.from({ length: count }, (): QueuedRequest[] => []);
  requests.forEach((request, i) => groups[groupOf[i]].push(request));
  return groups.filter((group) => group.length > 0);
}
