// What the service reports about itself under load: event-loop delay (how long a ready callback waited
// for the loop — the latency every request pays on top of its own work), answers by status, and how
// many forwards ran for how many sequences; all since the last reset.

import { monitorEventLoopDelay } from 'node:perf_hooks';

// The sampling timer's period. The histogram records the whole interval between two of its ticks, so
// an idle loop reads as the period itself: it is subtracted to leave the delay. 1 ms is finer than any
// delay that matters to an HTTP client and costs little.
const RESOLUTION_MS = 1;

/** A recorded interval (ns) as the delay beyond the timer's period, in ms with two decimals. */
const delayMs = (ns) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100);

export function createMetrics() {
  const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  loop.enable();
  let since = Date.now();
  let statuses = {};
  let forwards = 0;
  let rows = 0;

  return {
    count(status) {
      statuses[status] = (statuses[status] ?? 0) + 1;
    },
    /** A forward of `sequences` sequences ran: rows / forwards is the mean batch coalescing reached. */
    forward(sequences) {
      forwards += 1;
      rows += sequences;
    },
    /** Starts a new measurement window: the load test calls this before each run. */
    reset() {
      loop.reset();
      statuses = {};
      forwards = 0;
      rows = 0;
      since = Date.now();
    },
    snapshot() {
      return {
        seconds: (Date.now() - since) / 1000,
        eventLoopDelayMs: {
          // The histogram holds nothing until the sampling timer has fired once after a reset.
          p50: loop.count > 0 ? delayMs(loop.percentile(50)) : null,
          p99: loop.count > 0 ? delayMs(loop.percentile(99)) : null,
          max: loop.count > 0 ? delayMs(loop.max) : null,
          mean: loop.count > 0 ? delayMs(loop.mean) : null,
        },
        responses: { ...statuses },
        forwards,
        rows,
      };
    },
    stop() {
      loop.disable();
    },
  };
}
