/**
 * Reduced-precision weights under every kernel family this machine runs, at 1 and 2 threads, against
 * PyTorch with the same rounded weights (fixtures/quant.json). The family is chosen once when the addon
 * loads, so each runs in a child process with TORCHRNN_ISA set (helpers/quant-child.js), as in
 * kernels-isa.test.ts; the reduced tables follow the family TORCHRNN_ISA forces.
 */
import * as path from 'path';
import { ROOT, availableFamilies, runUnderIsa } from './helpers/kernel_families';
import { expectedQuantizedBackends } from './helpers/quant_cases';

const child = path.join(__dirname, 'helpers', 'quant-child.js');

interface ChildReport {
  backend: string;
  quantized: Record<string, string>;
  threads: number;
  runs: number;
  mismatches: string[];
}

const { available } = availableFamilies();
const combinations = available.flatMap((isa) => [1, 2].map((threads) => [isa, threads] as const));

describe('reduced precision on every kernel family', () => {
  it.each(combinations)('%s with %i thread(s) matches PyTorch with the same weights', (isa, threads) => {
    const r = runUnderIsa([child, ROOT, String(threads)], isa);
    if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
    const report = JSON.parse(r.stdout) as ChildReport;
    expect(report.backend).toBe(isa);
    expect(report.quantized).toEqual(expectedQuantizedBackends(isa, isa));
    expect(report.threads).toBe(threads);
    expect(report.runs).toBeGreaterThanOrEqual(300);
    expect(report.mismatches).toEqual([]);
  });
});
