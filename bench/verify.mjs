// The check that makes a timing comparison mean something: every peer, given the same weights and the
// same input, must give torchrnn's output sequence to within TOLERANCE. A peer with a different model
// (wrong gate order, wrong bias split, wrong direction layout) would be timed on a different computation.

/** Largest acceptable |peer - torchrnn| of any output element. */
export const TOLERANCE = 1e-4;

/** max |a[i] - b[i]|; Infinity when the lengths differ or an element is NaN. */
export function maxAbsDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

export function agrees(diff) {
  return diff <= TOLERANCE;
}
