/**
 * loadTorch returns what `torch.load(file, weights_only=True)` returns: checkpoint dicts as saved, with
 * optimizer state, plain values and tensors of every dtype. Expected trees are what torch.load gave for
 * the same files (test/fixtures/generate_io.py, "checkpoints as saved").
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadTorch, parseTorch } from '../lib/io/torch_load';
import { readZip } from '../lib/io/zip';
import { Tensor } from '../lib/tensor';
import { buildZip } from './helpers/zip_writer';

const DIR = path.join(__dirname, 'fixtures', 'io');

interface LoadedTensorJson {
  shape: number[];
  dtype: string;
  data: (number | string | boolean)[];
}

/** A value as the generator recorded what torch.load returned (see tree_json in generate_io.py). */
type TreeJson =
  | { dict: [TreeJson, TreeJson][] }
  | { list: TreeJson[] }
  | { tuple: TreeJson[] }
  | { tensor: LoadedTensorJson }
  | { size: number[] }
  | { device: string }
  | { dtype: string }
  | { value: null | boolean | string }
  | { int: string }
  | { float: number | string }
  | { bytes: string };

const FILES: Record<string, { tree: TreeJson }> = JSON.parse(fs.readFileSync(path.join(DIR, 'expected.json'), 'utf8')).files;

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(DIR, name));
}

/** A Python int as loadTorch gives it: a number, or a bigint beyond ±2^53. */
function pythonInt(text: string): number | bigint {
  const big = BigInt(text);
  return Number.isSafeInteger(Number(big)) ? Number(big) : big;
}

function pythonFloat(value: number | string): number {
  return typeof value === 'string' ? NON_FINITE[value] : value;
}

/** The property name a dict key becomes (as Python's json module writes keys). */
function propertyName(key: TreeJson): string {
  if ('value' in key) return key.value === null ? 'null' : String(key.value);
  if ('int' in key) return String(BigInt(key.int));
  throw new Error(`unexpected key ${JSON.stringify(key)}`);
}

/** The elements a loaded tensor must hold, in the form its typed array gives them back. */
function elements(t: LoadedTensorJson): unknown[] {
  if (t.dtype === 'int64') return t.data.map((v) => BigInt(v as number | string));
  if (t.dtype === 'bool') return t.data.map((v) => (v ? 1 : 0));
  return t.data.map((v) => (typeof v === 'string' ? NON_FINITE[v] : v));
}

/** Asserts that `actual` is exactly what `expected` describes: types, key order, dtypes, bits (NaN included). */
function expectTree(actual: unknown, expected: TreeJson, at = '(root)'): void {
  const where = (what: string): string => `${at}: ${what}`;
  if ('dict' in expected) {
    expect([where('is a plain object without prototype'), typeof actual === 'object' && actual !== null && Object.getPrototypeOf(actual) === null]).toEqual([where('is a plain object without prototype'), true]);
    // JavaScript orders integer-like keys first: the expected order is that of an object filled in file order.
    const order: Record<string, null> = {};
    for (const [key] of expected.dict) order[propertyName(key)] = null;
    expect([at, Object.keys(actual as object)]).toEqual([at, Object.keys(order)]);
    for (const [key, value] of expected.dict) {
      const name = propertyName(key);
      expectTree((actual as Record<string, unknown>)[name], value, `${at}.${name}`);
    }
  } else if ('list' in expected || 'tuple' in expected) {
    const items = 'list' in expected ? expected.list : expected.tuple;
    expect([at, Array.isArray(actual), (actual as unknown[]).length]).toEqual([at, true, items.length]);
    items.forEach((item, i) => expectTree((actual as unknown[])[i], item, `${at}.${i}`));
  } else if ('tensor' in expected) {
    expect(actual).toBeInstanceOf(Tensor);
    const t = actual as Tensor;
    expect([at, t.dtype, t.shape]).toEqual([at, expected.tensor.dtype, expected.tensor.shape]);
    expect([at, Array.from(t.data as ArrayLike<unknown>)]).toEqual([at, elements(expected.tensor)]);
  } else if ('size' in expected) {
    expect([at, actual]).toEqual([at, expected.size]);
  } else if ('device' in expected) {
    expect([at, actual]).toEqual([at, expected.device]);
  } else if ('dtype' in expected) {
    expect([at, actual]).toEqual([at, expected.dtype]);
  } else if ('value' in expected) {
    expect([at, actual]).toEqual([at, expected.value]);
  } else if ('int' in expected) {
    expect([at, actual]).toEqual([at, pythonInt(expected.int)]);
  } else if ('float' in expected) {
    expect([at, actual]).toEqual([at, pythonFloat(expected.float)]);
  } else {
    expect(actual).toBeInstanceOf(Uint8Array);
    expect([at, Buffer.from(actual as Uint8Array).toString('hex')]).toEqual([at, expected.bytes]);
  }
}

describe('loadTorch returns checkpoints as saved', () => {
  test.each([
    ['checkpoint_adam.pt', '{"model": sd, "optimizer": Adam after a step (int keys, step tensors), "epoch": 3}'],
    ['plain_values.pt', 'None, bools, str, ints beyond 2^53, floats, bytes, torch.Size, nested lists, tuples and dicts, int keys'],
    ['devices.pt', 'torch.device and a dtype as values'],
    ['checkpoint.pt', 'a dict of a dict'],
    ['every_dtype.pt', 'float64/32/16, bfloat16, int64 (beyond 2^53, extremes, a strided view), int32/16/8, uint8, bool'],
    ['batchnorm.pt', 'a BatchNorm1d state dict: int64 num_batches_tracked'],
    ['int64.pt', 'a float tensor beside an int64 scalar'],
    ['every_dtype_big_endian.pt', "every dtype from a big-endian machine (byteorder 'big'): integers byte-swapped too"],
  ])('%s: %s', (name) => {
    expectTree(parseTorch(fixture(name)), FILES[name].tree);
  });

  test("an optimizer's int keys become properties read back by number, in ascending order", () => {
    const checkpoint = parseTorch(fixture('checkpoint_adam.pt'));
    const { state, param_groups: groups } = checkpoint.optimizer;
    expect(Object.keys(state)).toEqual(['0', '1', '2', '3', '4', '5', '6']);
    expect(state[0].exp_avg).toBeInstanceOf(Tensor);
    expect(state[0].exp_avg.shape).toEqual(checkpoint.model['embedding.weight'].shape);
    expect(groups[0].params).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(groups[0].betas).toEqual([0.9, 0.999]);
    // Python's {0: .., 1: .., 10: .., 2: ..}: JavaScript lists integer-like keys in ascending order.
    expect(Object.keys(parseTorch(fixture('plain_values.pt')).int_keys)).toEqual(['0', '1', '2', '10']);
  });

  test('integer and bool tensors have their typed arrays: int64 as bigints, bool as 0 and 1', () => {
    const sd = parseTorch(fixture('every_dtype.pt'));
    expect(sd.int64.data).toBeInstanceOf(BigInt64Array);
    expect(sd.int64.data[3]).toBe(-(2n ** 63n));
    expect(sd.int32.data).toBeInstanceOf(Int32Array);
    expect(sd.int16.data).toBeInstanceOf(Int16Array);
    expect(sd.int8.data).toBeInstanceOf(Int8Array);
    expect([sd.uint8.data, sd.uint8.dtype]).toEqual([Uint8Array.of(0, 255, 17), 'uint8']);
    expect([sd.bool.data, sd.bool.dtype]).toEqual([Uint8Array.of(1, 0, 1), 'bool']);
    expect(parseTorch(fixture('batchnorm.pt')).num_batches_tracked.item()).toBe(1);
  });

  test('a list held twice is one array, and a list holding itself holds itself, as in Python', () => {
    const pickle = Buffer.from('\x80\x02}(X\x01\x00\x00\x00a](K\x01K\x02eq\x00X\x01\x00\x00\x00bh\x00X\x01\x00\x00\x00c]q\x01h\x01au.', 'latin1');
    const { a, b, c } = parseTorch(buildZip([{ name: 'archive/data.pkl', data: pickle }]));
    expect(a).toEqual([1, 2]);
    expect(b).toBe(a);
    expect(c[0]).toBe(c);
  });

  test('a tensor held twice is one Tensor, as torch.load gives one object', () => {
    const { shared } = parseTorch(fixture('plain_values.pt'));
    expect(shared[0]).toBe(shared[1]);
  });

  test('a checkpoint\'s model entry loads into a module, as one line', async () => {
    // Loaded here so that the rest of this file needs no native addon.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { LSTM } = require('../lib') as typeof import('../lib');
    const checkpoint = await loadTorch(path.join(DIR, 'checkpoint_adam.pt'));
    const lstm = LSTM.fromStateDict(checkpoint.model, { prefix: 'encoder.rnn.' });
    expect(Array.from(lstm.weight_hh_l0.data)).toEqual(Array.from(checkpoint.model['encoder.rnn.weight_hh_l0'].data));
    expect(checkpoint.epoch).toBe(3);
  });
});

describe('archives as PyTorch 2.x writes them', () => {
  // PyTorch 1.13 cannot write these entries, so the archive is a 1.13 file with them added, as 2.x lays
  // them out: byteorder (2.1), .format_version, .storage_alignment and .data/serialization_id (2.3).
  function asPyTorch2(name: string, byteorder: string): Buffer {
    const zip = readZip(fixture(name));
    const names = [...zip.entries.keys()];
    const prefix = names[0].slice(0, names[0].indexOf('/') + 1);
    const entries = names.map((entry) => ({ name: entry, data: zip.read(entry) }));
    const at = entries.findIndex((e) => e.name === `${prefix}data.pkl`) + 1;
    entries.splice(
      at,
      0,
      { name: `${prefix}.format_version`, data: Buffer.from('1') },
      { name: `${prefix}.storage_alignment`, data: Buffer.from('64') },
      { name: `${prefix}byteorder`, data: Buffer.from(byteorder) },
    );
    entries.push({ name: `${prefix}.data/serialization_id`, data: Buffer.from('1234567890123456789012345678901234567890') });
    return buildZip(entries);
  }

  test('a checkpoint with the 2.x entries loads as the 1.13 file does', () => {
    const bytes = asPyTorch2('checkpoint_adam.pt', 'little');
    expect([...readZip(bytes).entries.keys()]).toEqual(expect.arrayContaining(['checkpoint_adam/byteorder', 'checkpoint_adam/.data/serialization_id']));
    expectTree(parseTorch(bytes), FILES['checkpoint_adam.pt'].tree);
  });

  test('an unknown byte order is refused by name, and a long one unread', () => {
    expect(() => parseTorch(asPyTorch2('checkpoint_adam.pt', 'middle'))).toThrow("unknown byte order 'middle' in checkpoint_adam/byteorder");
    expect(() => parseTorch(asPyTorch2('checkpoint_adam.pt', 'little'.repeat(100)))).toThrow('unknown byte order in checkpoint_adam/byteorder (600 bytes)');
  });
});
