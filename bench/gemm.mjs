// The GEMM alone, and a case's time split into its input-projection GEMM and its recurrent steps, so that
// RESULTS.md can say how close each is to the FMA peak.
//
// The GEMM is timed through torchrnn's public `Linear`, which runs the engine's packed GEMM kernel (the
// same `packedGemm` the recurrent layers' input projection calls) on the calling thread. A case's input
// projection is, per layer and direction, an (T·N × In) · (In × G) product: it is timed here as one
// `Linear(In, D·G)` over T·N rows per layer. The steps are then the rest of the forward: torchrnn sync's
// median minus the GEMM's. With P threads the layer's GEMM is split over the pool; this split charges it
// the one-thread time / P, the best the pool could do, so that the steps' figure is never flattered.

import { median, timeEach } from './timing.mjs';

/** Square GEMMs reported against the peak (M = N = K), the "M, N, K ≥ 256". */
export const SQUARE_SIZES = [256, 512, 1024];

/** Median ms of `linear.forward(x)` over ~`budgetMs` after a warm-up. */
function timeLinear(linear, x, budgetMs) {
  let spent = 0;
  const warm = [];
  while (spent < budgetMs / 4 || warm.length < 2) {
    const [ms] = timeEach(1, () => linear.forward(x));
    warm.push(ms);
    spent += ms;
  }
  const reps = Math.max(5, Math.min(2000, Math.ceil(budgetMs / median(warm))));
  return median(timeEach(reps, () => linear.forward(x)));
}

/** Median ms of `Linear(k, n).forward` on m rows, float32, with bias: the whole call. */
function timeCall(lib, m, n, k, budgetMs) {
  lib.manualSeed(0);
  const linear = new lib.Linear(k, n);
  const x = new lib.Tensor(Float32Array.from({ length: m * k }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5), [m, k]);
  return timeLinear(linear, x, budgetMs);
}

/**
 * Median ms of one (m × k) · (k × n) GEMM on the engine's kernel, float32. `Linear` returns a new array
 * each call, and allocating it (zeroed, often fresh pages) costs as much as a small GEMM, which the engine's
 * input projection into its reused workspace never pays: so the same call with k = 1 — allocation, the
 * call's own cost and one pass over C — is timed too and subtracted.
 */
export function timeGemm(lib, m, n, k, budgetMs = 300) {
  return Math.max(0, timeCall(lib, m, n, k, budgetMs) - timeCall(lib, m, n, 1, budgetMs / 3));
}

/** FLOPs of one (m × k) · (k × n) GEMM. */
export const gemmFlops = (m, n, k) => 2 * m * n * k;

/** The input-projection GEMMs of case `c`, one per layer: { m, n, k } (n covers both directions). */
export function inputGemms(c) {
  const G = ({ LSTM: 4, GRU: 3 }[c.mode] ?? 1) * c.hidden_size;
  const D = c.bidirectional ? 2 : 1;
  const Hout = c.proj_size || c.hidden_size;
  return Array.from({ length: c.num_layers }, (_, l) => ({ m: c.T * c.N, n: D * G, k: l === 0 ? c.input_size : D * Hout }));
}

/**
 * Below this many FLOPs a case's input projection is not timed alone: a `Linear` call's own cost in JS
 * (a few µs) would then be most of the figure, and the split into GEMM and steps would mean nothing.
 */
export const MIN_SPLIT_FLOPS = 2e7;

/** One-thread ms of case `c`'s input projections, summed over layers; undefined when too small to time alone. */
export function timeInputGemms(lib, c, budgetMs = 300) {
  if (inputGemms(c).reduce((s, g) => s + gemmFlops(g.m, g.n, g.k), 0) < MIN_SPLIT_FLOPS) return undefined;
  return inputGemms(c).reduce((s, g) => s + timeGemm(lib, g.m, g.n, g.k, budgetMs), 0);
}
