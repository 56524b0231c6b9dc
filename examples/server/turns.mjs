// Synchronous work on request bodies, one piece per turn of the event loop.
//
// Parsing a 1 MB JSON body and converting it to tensors takes the loop tens of milliseconds, and cannot
// be split. When a hundred such bodies arrive together, parsing them back to back would keep every other
// request, /health included, waiting for all of them; taking them one per turn lets the loop accept and
// answer others between any two, so nothing waits longer than one body's parse.

import { setImmediate as nextTurn } from 'node:timers/promises';

let previous = Promise.resolve();

/** Runs `work` after every piece queued before it, each in a turn of the event loop of its own. */
export function inTurn(work) {
  const run = previous.then(() => nextTurn()).then(work);
  previous = run.catch(() => {});
  return run;
}
