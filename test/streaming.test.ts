/**
 * Stateful streaming: a sequence fed in chunks, carrying the hidden state from chunk to chunk, gives what one
 * forward over the whole sequence gives — here, and in examples/streaming.mjs, which is run as a user would.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { GRU, LSTM, Tensor } from '../lib';
import { mismatches } from './helpers/close';
import { randomTensor } from './helpers/random';

const root = path.join(__dirname, '..');

/** Steps [start, start + steps) of a time-major (T, N, F) tensor: a contiguous slice. */
function steps(x: Tensor, start: number, count: number): Tensor {
  const perStep = x.shape[1] * x.shape[2];
  return new Tensor(x.data.slice(start * perStep, (start + count) * perStep), [count, x.shape[1], x.shape[2]]);
}

function concatSteps(chunks: Tensor[]): Tensor {
  const [, n, f] = chunks[0].shape;
  const data = new Float32Array(chunks.reduce((sum, c) => sum + c.numel(), 0));
  let offset = 0;
  for (const c of chunks) {
    data.set(c.data, offset);
    offset += c.numel();
  }
  return new Tensor(data, [data.length / (n * f), n, f]);
}

// Not bitwise in general: the engine may block its matrix products differently for a 7-step chunk than
// for the whole sequence, so sums of the same products can round in another order. Within float32
// tolerance is the promise; the state carried between chunks is exact.
describe('chunked, stateful inference equals one forward over the whole sequence', () => {
  const x = randomTensor([40, 3, 8], 1);

  test('LSTM: chunks of 7 steps carrying [h, c]', async () => {
    const lstm = new LSTM(8, 16, 2, { bidirectional: false }).eval();
    const [whole, [hWhole, cWhole]] = lstm.forward(x);
    const outputs: Tensor[] = [];
    let state: [Tensor, Tensor] | undefined;
    for (let start = 0; start < 40; start += 7) {
      const [out, next] = await lstm.forwardAsync(steps(x, start, Math.min(7, 40 - start)), state);
      outputs.push(out);
      state = next;
    }
    const [h, c] = state as [Tensor, Tensor];
    expect(mismatches([[concatSteps(outputs), whole, 'output'], [h, hWhole, 'h_n'], [c, cWhole, 'c_n']])).toEqual([]);
  });

  test('GRU: one step at a time carrying h', () => {
    const gru = new GRU(8, 16, 3).eval();
    const [whole, hWhole] = gru.forward(x);
    const outputs: Tensor[] = [];
    let h: Tensor | undefined;
    for (let t = 0; t < 40; t++) {
      const [out, next] = gru.forward(steps(x, t, 1), h);
      outputs.push(out);
      h = next;
    }
    expect(mismatches([[concatSteps(outputs), whole, 'output'], [h as Tensor, hWhole, 'h_n']])).toEqual([]);
  });
});

/** The newest modification time of the TypeScript sources under `dir`. */
function newestSource(dir: string): number {
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const file = path.join(dir, entry.name);
    const time = entry.isDirectory() ? newestSource(file) : entry.name.endsWith('.ts') ? fs.statSync(file).mtimeMs : 0;
    return Math.max(newest, time);
  }, 0);
}

describe('examples/streaming.mjs', () => {
  beforeAll(() => {
    // The example imports the package by name, which resolves to dist/: rebuild it when it is older than
    // the source (after `npm install` it is current, and the build is skipped).
    const built = path.join(root, 'dist', 'index.js');
    if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < newestSource(path.join(root, 'lib'))) {
      execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root });
    }
  }, 120_000);

  test('runs and reports that streaming matches', () => {
    const printed = execFileSync(process.execPath, [path.join('examples', 'streaming.mjs')], { cwd: root, encoding: 'utf8' });
    expect(printed).toContain('6 chunks of up to 7 steps vs one forward over 40 steps');
    const largest = Number(/largest difference in output, h_n, c_n: (\S+)/.exec(printed)?.[1]);
    expect(largest).toBeLessThanOrEqual(1e-5);
    expect(printed).toContain('streaming matches the whole-sequence forward');
  });
});
