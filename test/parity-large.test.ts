/**
 * nn.RNN, nn.LSTM and nn.GRU at realistic sizes against real PyTorch: every case in fixtures/large/ (written
 * by fixtures/generate_large.py, one safetensors file each) is sized to take one of the engine's fast paths
 * (wide tiles with K chunks, a streamed W_hh, rows or units split across threads, directions side by side,
 * projection, packed sequences, batch_first), and must give PyTorch's output, h_n and c_n at 1 and 2 threads,
 * here and under every kernel family this machine runs. The family is chosen when the addon loads, so each
 * runs in a child process with TORCHRNN_ISA set, as in kernels-isa.test.ts.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as torchrnn from '../lib';
import { Tensor, getNumThreads, parseSafetensors, readSafetensorsMetadata, setNumThreads } from '../lib';
import { mismatches } from './helpers/close';
import { FAMILIES, ROOT, availableFamilies, runUnderIsa } from './helpers/kernel_families';

const fixtureDir = path.join(__dirname, 'fixtures', 'large');
const THREADS = [1, 2];
const RESULTS = ['output', 'h_n', 'c_n'];

const files = fs.readdirSync(fixtureDir).filter((f) => f.endsWith('.safetensors')).sort();
const fixtures = files.map((file) => {
  const bytes = fs.readFileSync(path.join(fixtureDir, file));
  return { file, bytes, metadata: readSafetensorsMetadata(bytes), tensors: parseSafetensors(bytes) };
});

/**
 * Runs the case in a fixture file's bytes through `lib` and returns its output, h_n (and c_n) by name. It
 * touches nothing but its arguments, so its source also runs in the child processes against the built package.
 */
function forwardCase(lib: typeof torchrnn, bytes: Uint8Array): Record<string, Tensor> {
  const tensors = lib.parseSafetensors(bytes);
  const metadata = lib.readSafetensorsMetadata(bytes);
  type Options = ConstructorParameters<typeof torchrnn.LSTM>[0] & { batchFirst: boolean };
  const options = JSON.parse(metadata.options) as Options;
  const lstm = metadata.mode === 'LSTM';
  const module: torchrnn.RNNBase =
    lstm ? new lib.LSTM(options) : metadata.mode === 'GRU' ? new lib.GRU(options) : new lib.RNN(options);
  const stateDict: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) if (/^(weight|bias)_/.test(name)) stateDict[name] = t;
  module.loadStateDict(stateDict);
  module.eval();
  const hx = tensors.h0 === undefined ? undefined : lstm ? ([tensors.h0, tensors.c0] as [Tensor, Tensor]) : tensors.h0;
  let output: Tensor;
  let state: Tensor | [Tensor, Tensor];
  if (metadata.lengths === undefined) {
    [output, state] = module.forward(tensors.input, hx);
  } else {
    const packed = lib.packPaddedSequence(tensors.input, JSON.parse(metadata.lengths) as number[], {
      batchFirst: options.batchFirst,
      enforceSorted: metadata.enforceSorted === 'true',
    });
    const [packedOutput, packedState] = module.forward(packed, hx);
    output = lib.padPackedSequence(packedOutput, { batchFirst: options.batchFirst })[0];
    state = packedState;
  }
  return Array.isArray(state) ? { output, h_n: state[0], c_n: state[1] } : { output, h_n: state };
}

/** Where a case's results differ from PyTorch's, each named by the case. */
function caseMismatches(fixture: (typeof fixtures)[number], results: Record<string, Tensor>): string[] {
  const pairs: [Tensor, Tensor, string][] = RESULTS.filter((name) => fixture.tensors[name] !== undefined).map(
    (name) => [results[name], fixture.tensors[name], name],
  );
  return mismatches(pairs).map((m) => `${fixture.metadata.name}: ${m}`);
}

// Loads the built package, runs every case at each thread count and writes the results as safetensors files
// `<threads>-<fixture file>` into the directory given; prints the family and the thread counts it ran.
const CHILD = `
const fs = require('fs');
const path = require('path');
const [root, fixtureDir, outDir] = process.argv.slice(1);
const lib = require(root);
const forwardCase = ${forwardCase.toString()};
const threads = [];
for (const n of ${JSON.stringify(THREADS)}) {
  lib.setNumThreads(n);
  threads.push(lib.getNumThreads());
  for (const file of fs.readdirSync(fixtureDir).filter((f) => f.endsWith('.safetensors'))) {
    const results = forwardCase(lib, fs.readFileSync(path.join(fixtureDir, file)));
    fs.writeFileSync(path.join(outDir, n + '-' + file), lib.serializeSafetensors(results));
  }
}
process.stdout.write(JSON.stringify({ backend: lib.backend(), threads }));
`;

const { best, available } = availableFamilies();

describe('large modules match PyTorch', () => {
  const threadsBefore = getNumThreads();
  afterAll(() => setNumThreads(threadsBefore));

  it('has the cases the generator promises', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(9);
    const all = fixtures.map(({ metadata }) => ({
      mode: metadata.mode,
      lengths: metadata.lengths,
      options: JSON.parse(metadata.options) as Record<string, unknown>,
    }));
    for (const mode of ['RNN', 'LSTM', 'GRU']) expect(all.some((m) => m.mode === mode)).toBe(true);
    expect(all.some((m) => m.options.dtype === 'float64')).toBe(true);
    expect(all.some((m) => m.lengths !== undefined)).toBe(true);
    expect(all.some((m) => m.options.batchFirst === true)).toBe(true);
    expect(all.some((m) => Number(m.options.projSize) > 0)).toBe(true);
    expect(all.some((m) => m.options.bidirectional === true)).toBe(true);
    expect(all.some((m) => Number(m.options.hiddenSize) >= 256)).toBe(true);
  });

  const combinations = THREADS.flatMap((threads) => fixtures.map((f) => [f.metadata.name, threads, f] as const));
  it.each(combinations)('%s with %i thread(s)', (_name, threads, fixture) => {
    setNumThreads(threads);
    expect(caseMismatches(fixture, forwardCase(torchrnn, fixture.bytes))).toEqual([]);
  });

  it('picks a known kernel family by default', () => {
    expect(FAMILIES).toContain(best);
  });

  // A child loads the addon and runs every case twice: a busy machine can take longer than jest's 5 s.
  it.each(available)('TORCHRNN_ISA=%s matches PyTorch at 1 and 2 threads', (isa) => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchrnn-large-'));
    try {
      const r = runUnderIsa(['-e', CHILD, ROOT, fixtureDir, outDir], isa, 120_000);
      if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
      expect(JSON.parse(r.stdout)).toEqual({ backend: isa, threads: THREADS });
      const problems = THREADS.flatMap((threads) =>
        fixtures.flatMap((f) => {
          const results = parseSafetensors(fs.readFileSync(path.join(outDir, `${threads}-${f.file}`)));
          return caseMismatches(f, results).map((m) => `${threads} thread(s): ${m}`);
        }),
      );
      expect(problems).toEqual([]);
    } finally {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  }, 120_000);
});
