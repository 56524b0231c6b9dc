/**
 * Whole models against PyTorch: examples/models/generate.py trained six models typical of recurrent work,
 * saved each as a training checkpoint ({model, optimizer, epoch}) and recorded PyTorch's outputs for fixed
 * inputs. Each port in examples/models/ is run as a user runs it (the package imported by name, the
 * checkpoint loaded with one loadStateDict) and must give PyTorch's outputs: float32 within 1e-5 absolute +
 * 1e-4 relative, float64 within 1e-10, generated tokens and tags identical.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Tensor } from '../lib';
import { mismatch } from './helpers/close';

const root = path.join(__dirname, '..');
const MODELS = ['char_lm', 'tagger', 'packed_classifier', 'conv_gru', 'seq2seq', 'residual_lstm'] as const;

type Nested = number | Nested[];

interface Record {
  outputs: { [name: string]: Nested };
  dtypes: { [name: string]: string };
  minMargin?: number;
}

interface PortedRun {
  outputs: { [name: string]: { dtype: string; shape: number[]; data: number[] } };
  stateDictKeys: string[];
  checkpointKeys: string[];
  checkpointModelKeys: string[];
  differingEntries: string[];
  epoch: unknown;
}

function readRecord(name: string): Record {
  return JSON.parse(fs.readFileSync(path.join(root, 'examples', 'models', `${name}.json`), 'utf8')) as Record;
}

function shapeOf(nested: Nested): number[] {
  return Array.isArray(nested) ? [nested.length, ...(nested.length > 0 ? shapeOf(nested[0]) : [])] : [];
}

function flatten(nested: Nested): number[] {
  return Array.isArray(nested) ? nested.flatMap(flatten) : [nested];
}

function floatTensor(data: number[], shape: number[], dtype: string): Tensor {
  return new Tensor(dtype === 'float64' ? Float64Array.from(data) : Float32Array.from(data), shape);
}

/** Runs `run()` of examples/models/<name>.mjs in a child node, as ESM importing the built package. */
function runPort(name: string): PortedRun {
  const script = `
    import { run } from './examples/models/${name}.mjs';
    const { model, checkpoint, outputs } = await run();
    const described = {};
    for (const [key, t] of Object.entries(outputs)) {
      described[key] = { dtype: t.dtype, shape: t.shape, data: Array.from(t.data, Number) };
    }
    process.stdout.write(JSON.stringify({
      outputs: described,
      stateDictKeys: Object.keys(model.stateDict()),
      checkpointKeys: Object.keys(checkpoint),
      checkpointModelKeys: Object.keys(checkpoint.model),
      // Entries whose loaded value is not the checkpoint's, bit for bit and dtype for dtype.
      differingEntries: Object.entries(model.stateDict())
        .filter(([key, t]) => {
          const saved = checkpoint.model[key];
          return t.dtype !== saved.dtype || t.data.length !== saved.data.length || t.data.some((v, i) => v !== saved.data[i]);
        })
        .map(([key]) => key),
      epoch: checkpoint.epoch,
    }));
  `;
  const printed = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  return JSON.parse(printed) as PortedRun;
}

/** The newest modification time of the TypeScript sources under `dir`. */
function newestSource(dir: string): number {
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const file = path.join(dir, entry.name);
    const time = entry.isDirectory() ? newestSource(file) : entry.name.endsWith('.ts') ? fs.statSync(file).mtimeMs : 0;
    return Math.max(newest, time);
  }, 0);
}

beforeAll(() => {
  // The examples import the package by name, which resolves to dist/: rebuild it when it is older than the
  // source (after `npm install` it is current, and the build is skipped).
  const built = path.join(root, 'dist', 'index.js');
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < newestSource(path.join(root, 'lib'))) {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root });
  }
}, 180_000);

describe.each(MODELS)('examples/models/%s.mjs', (name) => {
  const record = readRecord(name);
  let ported: PortedRun;
  beforeAll(() => {
    ported = runPort(name);
  }, 60_000);

  test('loads the checkpoint as saved: PyTorch’s keys, in order, every value (int64 counters too) copied exactly', () => {
    expect(ported.checkpointKeys).toEqual(['model', 'optimizer', 'epoch']);
    expect(ported.epoch).toBe(3);
    expect(ported.stateDictKeys).toEqual(ported.checkpointModelKeys);
    expect(ported.differingEntries).toEqual([]);
  });

  test('gives PyTorch’s outputs', () => {
    expect(Object.keys(ported.outputs)).toEqual(Object.keys(record.outputs));
    // Argmax choices are compared exactly; that is sound only when the best logit beats the second by far
    // more than float32 rounding of logits (about 1e-5 here).
    if (record.minMargin !== undefined) expect(record.minMargin).toBeGreaterThan(1e-3);
    for (const [key, expected] of Object.entries(record.outputs)) {
      const actual = ported.outputs[key];
      const dtype = record.dtypes[key];
      expect([key, actual.dtype, actual.shape]).toEqual([key, dtype, shapeOf(expected)]);
      if (dtype === 'float32' || dtype === 'float64') {
        const want = floatTensor(flatten(expected), shapeOf(expected), dtype);
        expect(mismatch(floatTensor(actual.data, actual.shape, dtype), want, `${name} ${key}`)).toBeNull();
      } else {
        expect([key, actual.data]).toEqual([key, flatten(expected)]);
      }
    }
  });

  test('runs from the command line and reports a match', () => {
    const printed = execFileSync(process.execPath, [path.join('examples', 'models', `${name}.mjs`)], { cwd: root, encoding: 'utf8' });
    expect(printed).toContain('checkpoint of epoch 3');
    expect(printed).toMatch(/\nmatches PyTorch\n$/);
  });
});
