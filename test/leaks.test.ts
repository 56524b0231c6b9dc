/**
 * Memory leaks: scripts/leak-check.mjs runs N forward and N forwardAsync calls (and as many cell steps and
 * packed-sequence calls) on a tiny model and reports the resident-set growth after a warm-up, measured
 * after gc(). Here N = 5 000, in a child process started with --expose-gc so that jest's own heap is not
 * counted; the full 100 000-call run is documented in docs/HARDENING.md. A leak of a result buffer, an
 * AsyncWorker or a handle per call grows memory linearly with N, so a bound of 10 MB at this N catches
 * a leak of more than about 300 bytes per call.
 *
 * V8 grows its young generation with the allocation rate (up to tens of MB of resident memory that stays
 * committed), which looks like a leak in a short run and is not one; the child runs with a fixed 1 MB
 * semi-space so that only memory that is really kept can grow the resident set.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

const SCRIPT = path.join(__dirname, '..', 'scripts', 'leak-check.mjs');
const COUNT = 5_000;

interface Report {
  count: number;
  callsPerKind: Record<string, number>;
  growthMB: number;
}

function leakCheck(args: string[]): Report {
  const result = spawnSync(process.execPath, ['--expose-gc', '--max-semi-space-size=1', SCRIPT, String(COUNT), ...args], { encoding: 'utf8', timeout: 120_000 });
  // The script exits 1 when the limit is reached: the report is still printed, and is what is compared.
  if (result.status !== 0 && result.status !== 1) throw new Error(`leak-check failed (status ${result.status}, signal ${result.signal}): ${result.stderr}`);
  return JSON.parse(result.stdout) as Report;
}

describe(`${COUNT} calls of each kind`, () => {
  it.each([
    ['forward (padded, with h0)', 'forward'],
    ['forwardAsync (padded, with h0)', 'forwardAsync'],
    ['cell forward and forwardAsync', 'cellForward,cellForwardAsync'],
    ['packed forward and forwardAsync', 'packedForward,packedForwardAsync'],
  ])('%s grow the resident set by less than 10 MB after warm-up', (_name, kinds) => {
    const report = leakCheck([`--only=${kinds}`]);
    expect(Object.keys(report.callsPerKind)).toEqual(kinds.split(','));
    expect(report.count).toBe(COUNT);
    expect(report.growthMB).toBeLessThan(10);
  }, 150_000);
});
