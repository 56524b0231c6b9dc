/**
 * The shipped demo model against PyTorch: examples/demo/train.py recorded greedy generations from fixed
 * prompts (the text, the first steps' logits, and the smallest margin between the two best logits over
 * every step). The logits must agree to float32 tolerance and the text exactly; the recorded margins,
 * far above float32 noise, are what make an exact comparison of argmax choices sound.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Tensor } from '../lib';
import { CharModel, DEMO_DIR } from '../lib/cli/char_model';
import { mismatch } from './helpers/close';

interface RecordedGeneration {
  prompt: string;
  length: number;
  text: string;
  logits: number[][];
  minMargin: number;
}

const recorded = JSON.parse(fs.readFileSync(path.join(DEMO_DIR, 'expected.json'), 'utf8')) as { generations: RecordedGeneration[] };
const REPO = path.join(__dirname, '..');
const CLI = path.join(REPO, 'dist', 'cli', 'main.js');

let model: CharModel;
beforeAll(async () => {
  model = await CharModel.load();
});

describe("the demo model generates PyTorch's text", () => {
  test.each(recorded.generations.map((g) => [g.prompt, g] as const))('greedy from %j', (_prompt, g) => {
    // Far above float32 rounding of logits (about 1e-5 here): argmax cannot flip between engines.
    expect(g.minMargin).toBeGreaterThan(1e-3);
    const { text, logits } = model.generate(g.prompt, { length: g.length, recordLogits: g.logits.length });
    g.logits.forEach((expected, step) => {
      const actual = new Tensor(logits[step] as Float32Array, [expected.length]);
      expect(mismatch(actual, new Tensor(Float32Array.from(expected), [expected.length]), `logits of step ${step}`)).toBeNull();
    });
    expect(text).toBe(g.text);
  });
});

describe('the demo', () => {
  test('the model is the one the shipped files describe', () => {
    expect(model.chars.length).toBe(model.embedding.numEmbeddings);
    expect(String(model.lstm)).toBe('LSTM(32, 128, batchFirst=true)');
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { files: string[] };
    expect(manifest.files).toEqual(expect.arrayContaining(['examples/demo/model.safetensors', 'examples/demo/vocab.json']));
  });

  test('sampling is reproducible with a seed and differs between seeds', () => {
    const sampleWith = (seed: number): string => {
      const result = spawnSync(process.execPath, [CLI, 'demo', '--seed', String(seed), '--length', '80'], { encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      return result.stdout;
    };
    const first = sampleWith(7);
    expect(first.startsWith('Shall I compare thee')).toBe(true);
    expect(sampleWith(7)).toBe(first);
    expect(sampleWith(8)).not.toBe(first);
  });

  test("`torchrnn demo --temperature 0` prints the prompt and PyTorch's greedy text", () => {
    const g = recorded.generations[0];
    const args = [CLI, 'demo', '--prompt', g.prompt, '--temperature', '0', '--length', String(g.length)];
    const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
    expect(result.stdout).toBe(`${g.prompt}${g.text}\n`);
    expect(result.status).toBe(0);
  });

  test('a character outside the vocabulary is an error naming it', () => {
    const result = spawnSync(process.execPath, [CLI, 'demo', '--prompt', 'Sweet €'], { encoding: 'utf8' });
    expect(result.stderr).toContain('torchrnn: the character "€" (U+20AC) is not in the model\'s vocabulary');
    expect(result.status).toBe(1);
  });
});
