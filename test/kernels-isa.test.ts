/**
 * Every kernel family this machine runs, at 1 and 2 threads, against real PyTorch (fixtures/modules.json).
 * The family is chosen once when the addon loads, so each combination runs in a child process with
 * TORCHRNN_ISA set; helpers/parity-child.js prints its mismatches as JSON.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

const root = path.join(__dirname, '..');
const child = path.join(__dirname, 'helpers', 'parity-child.js');
// This architecture's families, lowest first; naming another architecture's gives the best available.
const FAMILIES =
  process.arch === 'x64' ? ['scalar', 'avx2', 'avx512'] : process.arch === 'arm64' ? ['scalar', 'neon'] : ['scalar'];
const TOP = FAMILIES[FAMILIES.length - 1];

interface ChildReport {
  backend: string;
  threads: number;
  cases: number;
  mismatches: string[];
}

function runChild(args: string[], isa: string | undefined): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  if (isa === undefined) delete env.TORCHRNN_ISA;
  else env.TORCHRNN_ISA = isa;
  const result = spawnSync(process.execPath, args, { env, encoding: 'utf8', timeout: 240_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function backendUnder(isa: string | undefined): string {
  const r = runChild(['-e', `process.stdout.write(require(${JSON.stringify(root)}).backend())`], isa);
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

// The families this CPU supports: every one up to the best, which is what loading without TORCHRNN_ISA picks.
const best = backendUnder(undefined);
const available = FAMILIES.slice(0, FAMILIES.indexOf(best) + 1);

describe('kernel families', () => {
  it('picks a known family by default', () => {
    expect(FAMILIES).toContain(best);
  });

  it.each(available)('TORCHRNN_ISA=%s is reported by backend()', (isa) => {
    expect(backendUnder(isa)).toBe(isa);
  });

  it('falls back to the best available family when the requested one is missing', () => {
    if (best === TOP) return; // nothing above the best to ask for on this machine
    expect(backendUnder(TOP)).toBe(best);
  });

  it("falls back to the best available family when another architecture's is requested", () => {
    expect(backendUnder(process.arch === 'arm64' ? 'avx512' : 'neon')).toBe(best);
  });

  it('refuses to load with an unknown TORCHRNN_ISA, naming the choices', () => {
    const r = runChild(['-e', `require(${JSON.stringify(root)})`], 'sse9');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("TORCHRNN_ISA must be one of avx512, avx2, neon, scalar, got 'sse9'");
  });

  const combinations = available.flatMap((isa) => [1, 2].map((threads) => [isa, threads] as const));
  it.each(combinations)('%s with %i thread(s) matches PyTorch on every fixture', (isa, threads) => {
    const r = runChild([child, root, String(threads)], isa);
    if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
    const report = JSON.parse(r.stdout) as ChildReport;
    expect(report.backend).toBe(isa);
    expect(report.threads).toBe(threads);
    expect(report.cases).toBeGreaterThanOrEqual(150);
    expect(report.mismatches).toEqual([]);
  });
});
