/**
 * The `torchrnn` command, spawned as a user runs it (`node dist/cli/main.js ...`), on files PyTorch wrote:
 * test/fixtures/io/ (generate_io.py) and test/fixtures/layers/ (generate_layers.py).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GRU, LSTM, RNN, Tensor, loadNpy, loadSafetensors, saveNpy, saveSafetensors, tensor, type NestedArray } from '../lib';
import { mismatches } from './helpers/close';
import { deflatedRepeat } from './helpers/deflated';
import { FixtureTensor, toTensor } from './helpers/fixtures';
import { buildZip } from './helpers/zip_writer';

const REPO = path.join(__dirname, '..');
const CLI = path.join(REPO, 'dist', 'cli', 'main.js');
const IO = path.join(__dirname, 'fixtures', 'io');
const LAYERS = path.join(__dirname, 'fixtures', 'layers');

interface Run {
  stdout: string;
  stderr: string;
  status: number | null;
}

function torchrnn(...args: string[]): Run {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

interface RecordedModule {
  input: FixtureTensor;
  output: FixtureTensor;
  h_n: FixtureTensor;
  c_n: FixtureTensor;
}
const expected = JSON.parse(fs.readFileSync(path.join(IO, 'expected.json'), 'utf8')) as {
  files: Record<string, { module: RecordedModule }>;
};
const projected = expected.files['lstm_proj_bi.pt'].module;

/** (L, N, F) → (N, L, F), to feed the same sequences batch-first. */
function batchFirst(t: Tensor): Tensor {
  const [L, N, F] = t.shape;
  const out = Tensor.zeros([N, L, F], t.dtype);
  for (let l = 0; l < L; l++) for (let n = 0; n < N; n++) out.data.set(t.data.subarray((l * N + n) * F, (l * N + n + 1) * F), (n * L + l) * F);
  return out;
}

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'torchrnn-cli-'));
});
afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

describe('the bin', () => {
  test('keeps its shebang', () => {
    expect(fs.readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(manifest.bin).toEqual({ torchrnn: 'dist/cli/main.js' });
  });

  test.each([
    [[], 'Usage: torchrnn [options] [command]'],
    [['inspect'], 'Usage: torchrnn inspect [options] <file>'],
    [['run'], 'Usage: torchrnn run [options] <file>'],
    [['demo'], 'Usage: torchrnn demo [options]'],
  ])('%j --help', (command, usage) => {
    const { stdout, status } = torchrnn(...command, '--help');
    expect(stdout).toContain(usage);
    expect(status).toBe(0);
  });

  test('demo --help says that sampling is seeded', () => {
    const { stdout } = torchrnn('demo', '--help');
    expect(stdout).toContain('--seed <n>');
    expect(stdout).toContain('--temperature 0 picks the most likely character');
  });

  test('an unknown command or a missing option: stderr and a non-zero exit', () => {
    const unknown = torchrnn('train');
    expect(unknown.stderr).toContain("error: unknown command 'train'");
    expect(unknown.status).not.toBe(0);
    const missing = torchrnn('run', path.join(IO, 'model.pt'));
    expect(missing.stderr).toContain("error: required option '--input <file>' not specified");
    expect(missing.status).not.toBe(0);
  });
});

describe('torchrnn inspect', () => {
  test('lists keys, shapes and dtypes, and the recurrent layer with the line that loads it', () => {
    const { stdout, stderr, status } = torchrnn('inspect', path.join(IO, 'model.pt'));
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe(`${path.join(IO, 'model.pt')}: 7 tensors`);
    expect(lines).toContain('  encoder.rnn.weight_ih_l0  [16, 3]  float32');
    expect(lines).toContain('  head.bias                 [2]      float32');
    expect(lines).toContain(
      '  encoder.rnn.  LSTM(inputSize=3, hiddenSize=4, numLayers=1, bias=true, bidirectional=false, projSize=0) float32',
    );
    expect(lines).toContain('    not in the weights (give them as the model was built): batchFirst (default false), dropout (default 0; training only; set .dropout)');
    expect(lines).toContain("    LSTM.fromStateDict(sd, { prefix: 'encoder.rnn.', batchFirst: false })");
  });

  test('a checkpoint dict: its whole tree, and the layer inside its model entry', () => {
    const file = path.join(IO, 'checkpoint_adam.pt');
    const { stdout, stderr, status } = torchrnn('inspect', file);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe(`${file}: 28 tensors and 12 other values`);
    for (const line of [
      '  model.encoder.rnn.weight_ih_l0           [16, 3]  float32',
      '  optimizer.state.0.exp_avg                [10, 3]  float32',
      '  optimizer.state.6.step                   []       float32',
      '  optimizer.param_groups.0.lr              number   0.01',
      '  optimizer.param_groups.0.betas           array    [0.9, 0.999]',
      '  optimizer.param_groups.0.foreach         null',
      '  optimizer.param_groups.0.params          array    [0, 1, 2, 3, 4, 5, 6]',
      '  epoch                                    number   3',
      '  model.encoder.rnn.  LSTM(inputSize=3, hiddenSize=4, numLayers=1, bias=true, bidirectional=false, projSize=0) float32',
      "    LSTM.fromStateDict(checkpoint.model, { prefix: 'encoder.rnn.', batchFirst: false })",
    ]) {
      expect(lines).toContain(line);
    }
  });

  test('plain values, shared references and integer dtypes are shown by value or type', () => {
    const { stdout, status } = torchrnn('inspect', path.join(IO, 'plain_values.pt'), '--prefix', 'list');
    expect(stdout.split('\n').slice(0, 7)).toEqual([
      `${path.join(IO, 'plain_values.pt')}: 0 tensors and 6 other values under 'list.'`,
      '  list.0      number  1',
      '  list.1.0    number  2',
      '  list.1.1.0  number  3',
      '  list.1.1.1  array   []',
      '  list.2      array   [4, "five"]',
      '  list.3.six  number  6',
    ]);
    expect(status).toBe(0);
    const all = torchrnn('inspect', path.join(IO, 'plain_values.pt')).stdout.split('\n');
    for (const line of ['  big_int            bigint   1180591620717411303424n', '  bytes              bytes    4 bytes', '  none               null', '  text               string   "héllo ✓"']) {
      expect(all).toContain(line);
    }
  });

  test('integer and bool tensors are listed with their dtype', () => {
    const { stdout, status } = torchrnn('inspect', path.join(IO, 'every_dtype.pt'));
    const lines = stdout.split('\n');
    for (const line of ['  int64         [6]     int64', '  int64_scalar  []      int64', '  bool          [1, 3]  bool', '  bool_empty    [0, 2]  bool', '  float16       [3]     float32']) {
      expect(lines).toContain(line);
    }
    expect(status).toBe(0);
  });

  test("an RNN's nonlinearity is named as unknown, and the line spells out the default it uses", async () => {
    const file = path.join(work, 'rnn.safetensors');
    await saveSafetensors(file, new RNN(3, 2).stateDict());
    const { stdout } = torchrnn('inspect', file);
    expect(stdout).toContain(
      "    not in the weights (give them as the model was built): batchFirst (default false), nonlinearity (default 'tanh'; 'relu' fits the same weights), dropout (default 0; training only; set .dropout)",
    );
    expect(stdout).toContain("    RNN.fromStateDict(sd, { batchFirst: false, nonlinearity: 'tanh' })");
  });

  test('a safetensors file with a projected bidirectional LSTM', () => {
    const { stdout, status } = torchrnn('inspect', path.join(IO, 'lstm_proj_bi.safetensors'));
    expect(stdout).toContain('(no prefix)  LSTM(inputSize=3, hiddenSize=5, numLayers=2, bias=true, bidirectional=true, projSize=2) float32');
    expect(status).toBe(0);
  });

  test('a GRU is recognised as a GRU', () => {
    const { stdout } = torchrnn('inspect', path.join(LAYERS, 'gru.pt'));
    expect(stdout).toContain('GRU(inputSize=3, hiddenSize=4, numLayers=2, bias=true, bidirectional=true) float32');
  });

  test('--prefix narrows the keys', () => {
    const { stdout, status } = torchrnn('inspect', path.join(IO, 'model.pt'), '--prefix', 'head');
    expect(stdout.split('\n').slice(0, 3)).toEqual([
      `${path.join(IO, 'model.pt')}: 2 tensors under 'head.'`,
      '  head.weight  [2, 4]  float32',
      '  head.bias    [2]     float32',
    ]);
    expect(stdout).toContain('No recurrent layer');
    expect(status).toBe(0);
  });

  test('an inconsistent layer says why it fits no class', async () => {
    const sd = { ...new LSTM(3, 4).stateDict(), weight_hh_l0: Tensor.zeros([16, 5]) };
    const file = path.join(work, 'broken.safetensors');
    await saveSafetensors(file, sd);
    const { stdout } = torchrnn('inspect', file);
    expect(stdout).toContain('(no prefix)  not a consistent RNN, LSTM or GRU:');
    expect(stdout).toContain('LSTM.fromStateDict: weight_hh_l0 has shape [16, 5] but weight_ih_l0 implies hidden_size 4 with 4 gates: expected [16, 4]');
  });

  test('a list held twice, and a list holding itself, are listed once and then by reference', () => {
    const file = path.join(work, 'shared.pt');
    // {'a': [1, 2], 'b': <the same list>, 'c': <a list holding itself>}
    const pickle = Buffer.from('\x80\x02}(X\x01\x00\x00\x00a](K\x01K\x02eq\x00X\x01\x00\x00\x00bh\x00X\x01\x00\x00\x00c]q\x01h\x01au.', 'latin1');
    fs.writeFileSync(file, buildZip([{ name: 'archive/data.pkl', data: pickle }]));
    const { stdout, status } = torchrnn('inspect', file);
    expect(stdout.split('\n').slice(0, 5)).toEqual([
      `${file}: 0 tensors and 3 other values`,
      '  a    array  [1, 2]',
      '  b    array  [1, 2]',
      '  c.0  array  the same as c',
      '',
    ]);
    expect(status).toBe(0);
  });

  test("a pickle that would exhaust memory: the loader's limit on stderr, exit 1, no crash", () => {
    const file = path.join(work, 'bomb.pt');
    fs.writeFileSync(
      file,
      buildZip([{ name: 'archive/data.pkl', data: new Uint8Array(0), deflated: deflatedRepeat(Buffer.from('\x80\x02', 'latin1'), Buffer.from('N'), 1_500_000) }]),
    );
    const { stdout, stderr, status } = torchrnn('inspect', file);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^torchrnn: .*bomb\.pt: refusing to load: the pickle exceeds the limit on stack depth \(1000000\)/);
    expect(status).toBe(1);
  });

  test('a file that is not a state dict: the loader\'s message on stderr, exit 1', () => {
    const { stdout, stderr, status } = torchrnn('inspect', path.join(IO, 'whole_module.pt'));
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^torchrnn: .*whole_module\.pt/);
    expect(status).toBe(1);
  });
});

describe('torchrnn run', () => {
  test("a .json input and a .json output: PyTorch's output, h_n and c_n", () => {
    const input = path.join(work, 'x.json');
    fs.writeFileSync(input, JSON.stringify(toTensor(projected.input).toArray()));
    const output = path.join(work, 'out.json');
    const { stdout, stderr, status } = torchrnn('run', path.join(IO, 'lstm_proj_bi.pt'), '--input', input, '--output', output);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout.split('\n')).toEqual([
      'LSTM(3, 5, projSize=2, numLayers=2, bidirectional=true)',
      'input   [4, 2, 3] float32',
      'output  [4, 2, 4] float32',
      'h_n     [4, 2, 2] float32',
      'c_n     [4, 2, 5] float32',
      `wrote ${output}`,
      '',
    ]);
    const results = JSON.parse(fs.readFileSync(output, 'utf8')) as Record<string, NestedArray>;
    expect(
      mismatches([
        [tensor(results.output), toTensor(projected.output), 'output'],
        [tensor(results.h_n), toTensor(projected.h_n), 'h_n'],
        [tensor(results.c_n), toTensor(projected.c_n), 'c_n'],
      ]),
    ).toEqual([]);
  });

  test("an .npy input and an .npy output from a safetensors file", async () => {
    const input = path.join(work, 'x.npy');
    await saveNpy(input, toTensor(projected.input));
    const output = path.join(work, 'out.npy');
    const { status } = torchrnn('run', path.join(IO, 'lstm_proj_bi.safetensors'), '--input', input, '--output', output, '--mode', 'lstm');
    expect(status).toBe(0);
    expect(mismatches([[await loadNpy(output), toTensor(projected.output), 'output']])).toEqual([]);
  });

  test("a GRU with .npy input and a .safetensors output: PyTorch's output and h_n", async () => {
    const output = path.join(work, 'gru.safetensors');
    const { status } = torchrnn('run', path.join(LAYERS, 'gru.pt'), '--input', path.join(LAYERS, 'gru_input.npy'), '--output', output);
    expect(status).toBe(0);
    const results = await loadSafetensors(output);
    expect(Object.keys(results)).toEqual(['output', 'h_n']);
    expect(
      mismatches([
        [results.output, await loadNpy(path.join(LAYERS, 'gru_output.npy')), 'output'],
        [results.h_n, await loadNpy(path.join(LAYERS, 'gru_h_n.npy')), 'h_n'],
      ]),
    ).toEqual([]);
  });

  test('--batch-first reads and writes (batch, seq, feature)', async () => {
    const input = path.join(work, 'x_batch_first.npy');
    await saveNpy(input, batchFirst(await loadNpy(path.join(LAYERS, 'gru_input.npy'))));
    const output = path.join(work, 'out_batch_first.npy');
    const { status } = torchrnn('run', path.join(LAYERS, 'gru.pt'), '--input', input, '--output', output, '--batch-first');
    expect(status).toBe(0);
    const pytorch = batchFirst(await loadNpy(path.join(LAYERS, 'gru_output.npy')));
    expect(mismatches([[await loadNpy(output), pytorch, 'output']])).toEqual([]);
  });

  test('the layer of a whole model is found under its prefix', async () => {
    const input = path.join(work, 'x3.npy');
    await saveNpy(input, Tensor.zeros([2, 1, 3]));
    const { stdout, status } = torchrnn('run', path.join(IO, 'model.pt'), '--input', input);
    expect(stdout.split('\n').slice(0, 3)).toEqual(['LSTM(3, 4)', 'input   [2, 1, 3] float32', 'output  [2, 1, 4] float32']);
    expect(status).toBe(0);
  });

  test("a checkpoint dict: the layer inside its model entry is found by its dotted path", async () => {
    const input = path.join(work, 'x3c.npy');
    await saveNpy(input, Tensor.zeros([2, 1, 3]));
    const found = torchrnn('run', path.join(IO, 'checkpoint_adam.pt'), '--input', input);
    expect(found.stdout.split('\n').slice(0, 3)).toEqual(['LSTM(3, 4)', 'input   [2, 1, 3] float32', 'output  [2, 1, 4] float32']);
    expect(found.status).toBe(0);
    const named = torchrnn('run', path.join(IO, 'checkpoint_adam.pt'), '--input', input, '--prefix', 'model.encoder.rnn');
    expect(named.stdout.split('\n')[0]).toBe('LSTM(3, 4)');
    expect(named.status).toBe(0);
  });

  test('several recurrent layers: --prefix chooses, and without it the error lists them', async () => {
    const file = path.join(work, 'two.safetensors');
    const sd: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(new LSTM(3, 4).stateDict())) sd[`encoder.${k}`] = v;
    for (const [k, v] of Object.entries(new GRU(4, 2).stateDict())) sd[`decoder.${k}`] = v;
    await saveSafetensors(file, sd);
    const input = path.join(work, 'x4.npy');
    await saveNpy(input, Tensor.zeros([2, 1, 4]));
    const ambiguous = torchrnn('run', file, '--input', input);
    expect(ambiguous.stderr).toBe("torchrnn: the file holds 2 recurrent layers: choose one with --prefix ('encoder.', 'decoder.')\n");
    expect(ambiguous.status).toBe(1);
    const chosen = torchrnn('run', file, '--input', input, '--prefix', 'decoder.');
    expect(chosen.stdout.split('\n')[0]).toBe('GRU(4, 2)');
    expect(chosen.status).toBe(0);
  });

  test('a --mode the weights contradict: the inference error, exit 1', () => {
    const { stderr, status } = torchrnn('run', path.join(IO, 'model.pt'), '--input', path.join(LAYERS, 'gru_input.npy'), '--mode', 'gru');
    expect(stderr).toBe(
      'torchrnn: GRU.fromStateDict: encoder.rnn.weight_ih_l0 has 16 rows, not a multiple of the 3 gates of GRU (r, z, n): ' +
        'are these the weights of another kind of module? (RNN has 1 gate, GRU 3, LSTM 4)\n',
    );
    expect(status).toBe(1);
  });

  test("an input of the wrong width: the module's PyTorch error", () => {
    const { stderr, status } = torchrnn('run', path.join(LAYERS, 'gru.pt'), '--input', path.join(IO, 'fortran.npy'));
    expect(stderr).toBe('torchrnn: input.size(-1) must be equal to input_size. Expected 3, got 4\n');
    expect(status).toBe(1);
  });
});
