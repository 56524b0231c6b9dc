/**
 * The kernel families of this architecture, and child processes that load the addon under one of them. The
 * family is chosen once, when the addon loads, so a test of another family runs in a child with
 * TORCHRNN_ISA set.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

/** The package root, which a child `require`s. */
export const ROOT = path.join(__dirname, '..', '..');

/** This architecture's families, lowest first; naming another architecture's gives the best available. */
export const FAMILIES =
  process.arch === 'x64' ? ['scalar', 'avx2', 'avx512'] : process.arch === 'arm64' ? ['scalar', 'neon'] : ['scalar'];

/** Runs node with `args`, TORCHRNN_ISA set to `isa` (or unset), and returns its exit status and output. */
export function runUnderIsa(
  args: string[],
  isa: string | undefined,
  timeoutMs = 240_000,
): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  if (isa === undefined) delete env.TORCHRNN_ISA;
  else env.TORCHRNN_ISA = isa;
  const result = spawnSync(process.execPath, args, { env, encoding: 'utf8', timeout: timeoutMs });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** What backend() reports in a child loaded under `isa`. */
export function backendUnder(isa: string | undefined): string {
  const r = runUnderIsa(['-e', `process.stdout.write(require(${JSON.stringify(ROOT)}).backend())`], isa);
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

/** The best family this CPU runs (what loading without TORCHRNN_ISA picks), and every one below it. */
export function availableFamilies(): { best: string; available: string[] } {
  const best = backendUnder(undefined);
  return { best, available: FAMILIES.slice(0, FAMILIES.indexOf(best) + 1) };
}
