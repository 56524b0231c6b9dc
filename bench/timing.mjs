// How a case is timed, the same way for every peer:
// 1. warm-up: each peer runs until it has spent `warmupMs` (the verification run counts), so that caches,
//    JIT, thread pools and allocators are in their steady state;
// 2. calibration: each peer gets enough repetitions to fill about `budgetMs`, at least `minReps` — but a
//    peer whose forward takes seconds (PyTorch on a reference BLAS: half a minute for lstm-b32) stops at
//    `capMs` and never fewer than `floorReps`, so that a whole run stays within minutes;
// 3. measurement: the repetitions are cut into rounds, and each round gives every peer its share in turn
//    (the starting peer rotating), so that drift of the machine (frequency, neighbours) hits all alike.
//    Between two shares the process idles at least `settleMs`, and on until the machine is quiet (up to
//    `maxSettleMs`): thread pools spin for a while after their work (onnxruntime's for tens of ms,
//    OpenMP's, OpenBLAS's), and a peer must not run against the last one's spinning;
//    (`plan.quietCores`, default a quarter of a core, is what "quiet" allows: more under --contention)
// 4. the figure is the median of all single-forward times: robust to the odd GC pause or preemption.
//
// A peer is { key, label, time(reps) -> Promise<number[]> }: `time` runs `reps` forwards and returns
// each one's wall time in ms, measured as close to the call as the peer allows (PyTorch's inside Python).

import { settle } from './machine_load.mjs';

/** Times `reps` calls of the blocking `run`, one by one, in ms. */
export function timeEach(reps, run) {
  const ms = new Array(reps);
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run();
    ms[i] = performance.now() - t0;
  }
  return ms;
}

/** Times `reps` awaited calls of `run`, one by one, in ms: from the call to the Promise's settling. */
export async function timeEachAsync(reps, run) {
  const ms = new Array(reps);
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    ms[i] = performance.now() - t0;
  }
  return ms;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The repetition plans: `--quick` for a smoke run, the default for numbers worth writing down. */
export const PLANS = {
  full: { warmupMs: 300, budgetMs: 1500, minReps: 9, maxReps: 20_000, capMs: 10_000, floorReps: 3, maxRounds: 12, settleMs: 10, maxSettleMs: 300 },
  quick: { warmupMs: 20, budgetMs: 30, minReps: 2, maxReps: 500, capMs: 2_000, floorReps: 1, maxRounds: 2, settleMs: 5, maxSettleMs: 50 },
};

/**
 * Warms up, calibrates and times `peers` round-robin. `spentMs` maps a peer's key to the time its
 * verification run already took (a warm-up run). Returns, per key, { medianMs, reps, minMs, maxMs }.
 */
export async function measure(peers, plan, spentMs = {}) {
  const estimate = {};
  for (const p of peers) {
    const warm = spentMs[p.key] === undefined ? [] : [spentMs[p.key]];
    let spent = warm.length ? warm[0] : 0;
    while (spent < plan.warmupMs) {
      const [ms] = await p.time(1);
      warm.push(ms);
      spent += ms;
    }
    estimate[p.key] = median(warm);
    await settle({ minMs: plan.settleMs, maxMs: plan.maxSettleMs, quietCores: plan.quietCores });
  }

  const reps = {};
  for (const p of peers) {
    const est = estimate[p.key];
    let n = Math.min(plan.maxReps, Math.max(plan.minReps, Math.ceil(plan.budgetMs / est)));
    if (n * est > plan.capMs) n = Math.max(plan.floorReps, Math.floor(plan.capMs / est));
    reps[p.key] = n;
  }
  const rounds = Math.max(1, Math.min(plan.maxRounds, ...peers.map((p) => reps[p.key])));

  const times = Object.fromEntries(peers.map((p) => [p.key, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < peers.length; i++) {
      const p = peers[(r + i) % peers.length];
      const share = Math.ceil(reps[p.key] / rounds);
      times[p.key].push(...(await p.time(share)));
      await settle({ minMs: plan.settleMs, maxMs: plan.maxSettleMs, quietCores: plan.quietCores });
    }
  }

  return Object.fromEntries(
    peers.map((p) => {
      const t = times[p.key];
      return [p.key, { medianMs: median(t), reps: t.length, minMs: Math.min(...t), maxMs: Math.max(...t) }];
    }),
  );
}
