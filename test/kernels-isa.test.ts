/**
 * Every kernel family this machine runs, at 1 and 2 threads, against real PyTorch (fixtures/modules.json).
 * The family is chosen once when the addon loads, so each combination runs in a child process with
 * TORCHRNN_ISA set; helpers/parity-child.js prints its mismatches as JSON.
 */
import * as path from 'path';
import { FAMILIES, ROOT, availableFamilies, backendUnder, runUnderIsa } from './helpers/kernel_families';

const child = path.join(__dirname, 'helpers', 'parity-child.js');
const TOP = FAMILIES[FAMILIES.length - 1];

interface ChildReport {
  backend: string;
  threads: number;
  cases: number;
  mismatches: string[];
}

const { best, available } = availableFamilies();

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
    const r = runUnderIsa(['-e', `require(${JSON.stringify(ROOT)})`], 'sse9');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("TORCHRNN_ISA must be one of avx512, avx2, neon, scalar, got 'sse9'");
  });

  const combinations = available.flatMap((isa) => [1, 2].map((threads) => [isa, threads] as const));
  it.each(combinations)('%s with %i thread(s) matches PyTorch on every fixture', (isa, threads) => {
    const r = runUnderIsa([child, ROOT, String(threads)], isa);
    if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
    const report = JSON.parse(r.stdout) as ChildReport;
    expect(report.backend).toBe(isa);
    expect(report.threads).toBe(threads);
    expect(report.cases).toBeGreaterThanOrEqual(150);
    expect(report.mismatches).toEqual([]);
  });
});
