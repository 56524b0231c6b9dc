/**
 * loadTorch against files real `torch.save` wrote (test/fixtures/generate_io.py), hostile files it must
 * refuse, archives built here to reach the zip reader's corners, and mutations of valid files.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadTorch, parseTorch } from '../lib/io/torch_load';
import { readZip } from '../lib/io/zip';
import { Tensor } from '../lib/tensor';
import { seededRandom as random } from './helpers/seeded';
import { P, torchArchive } from './helpers/torch_archive';
import { buildZip, type ZipEntry } from './helpers/zip_writer';

const DIR = path.join(__dirname, 'fixtures', 'io');

interface ExpectedTensor {
  shape: number[];
  dtype: 'float32' | 'float64';
  data: (number | string)[];
}

interface ExpectedFile {
  keys: string[];
  tensors: Record<string, ExpectedTensor>;
  module?: {
    input_size: number;
    hidden_size: number;
    num_layers: number;
    proj_size: number;
    bidirectional: boolean;
    input: ExpectedTensor;
    output: ExpectedTensor;
    h_n: ExpectedTensor;
    c_n: ExpectedTensor;
  };
}

const EXPECTED: Record<string, ExpectedFile> = JSON.parse(fs.readFileSync(path.join(DIR, 'expected.json'), 'utf8')).files;

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(DIR, name));
}

function values(expected: ExpectedTensor): number[] {
  return expected.data.map((v) => (typeof v === 'string' ? NON_FINITE[v] : v));
}

function toTensor(expected: ExpectedTensor): Tensor {
  const data = expected.dtype === 'float64' ? Float64Array.from(values(expected)) : Float32Array.from(values(expected));
  return new Tensor(data, expected.shape);
}

/** Same keys in the same order, and each tensor's dtype, shape and elements exactly (-0 differs from 0). */
function expectStateDict(actual: Record<string, Tensor>, expected: ExpectedFile): void {
  expect(Object.keys(actual)).toEqual(expected.keys);
  for (const key of expected.keys) {
    const want = expected.tensors[key];
    const got = actual[key];
    expect(got).toBeInstanceOf(Tensor);
    expect([key, got.dtype, got.shape]).toEqual([key, want.dtype, want.shape]);
    expect(Array.from(got.data)).toEqual(values(want));
  }
}


/** Runs `load` and says whether it gave a state dict or an Error; anything else thrown fails the test. */
function outcome(load: () => Record<string, Tensor>): 'value' | 'error' {
  try {
    const sd = load();
    for (const t of Object.values(sd)) expect(t).toBeInstanceOf(Tensor);
    return 'value';
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message.length).toBeGreaterThan(10);
    return 'error';
  }
}

// ---------------------------------------------------------------- archives built in the test

/** The entries of a fixture, with their contents, to rebuild it in other forms. */
function entriesOf(name: string): ZipEntry[] {
  const zip = readZip(fixture(name));
  return [...zip.entries.keys()].map((entry) => ({ name: entry, data: Buffer.from(zip.read(entry)) }));
}

function floats(...v: number[]): Buffer {
  return Buffer.from(Float32Array.from(v).buffer);
}

// ---------------------------------------------------------------- tests

describe('loadTorch reads what torch.save writes', () => {
  test.each([
    ['dtypes.pt', 'float32, float64, float16 and bfloat16 storages; f16 and bf16 exactly as .float()'],
    ['lstm_proj_bi.pt', 'an LSTM with projections, two layers, bidirectional'],
    ['views.pt', 'views of one storage: narrowed, transposed, strided, offset'],
    ['model.pt', "a model's state dict, entries under 'model/' rather than 'archive/'"],
    ['parameters.pt', 'a dict of Parameters (_rebuild_parameter)'],
    ['protocol4.pt', 'pickle protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL)'],
    ['deflated.pt', 'the same archive with deflated entries'],
    ['big_endian.pt', "a big-endian file (byteorder 'big'), byte-swapped on load"],
  ])('%s: %s', (name) => {
    expectStateDict(parseTorch(fixture(name)), EXPECTED[name]);
  });

  test('the fixtures are what they claim: top folders vary, views share one storage, entries are deflated', () => {
    expect([...readZip(fixture('model.pt')).entries.keys()].every((n) => n.startsWith('model/'))).toBe(true);
    const views = readZip(fixture('views.pt'));
    expect([...views.entries.keys()].filter((n) => n.includes('/data/'))).toEqual(['views/data/0']);
    expect([...readZip(fixture('deflated.pt')).entries.values()].every((e) => e.method === 8)).toBe(true);
    expect(new TextDecoder().decode(readZip(fixture('big_endian.pt')).read('dtypes/byteorder'))).toBe('big');
    expect(fixture('protocol4.pt').includes(Buffer.from([0x80, 0x04]))).toBe(true);
  });

  test('loadTorch reads a path and a Buffer alike', async () => {
    expectStateDict(await loadTorch(path.join(DIR, 'views.pt')), EXPECTED['views.pt']);
    expectStateDict(await loadTorch(fixture('parameters.pt')), EXPECTED['parameters.pt']);
  });

  test('a state dict loads into a new LSTM and gives PyTorch\'s output', () => {
    // Loaded here so that the rest of this file needs no native addon.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { LSTM } = require('../lib') as typeof import('../lib');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { mismatch } = require('./helpers/close') as typeof import('./helpers/close');
    const spec = EXPECTED['lstm_proj_bi.pt'].module!;
    const lstm = new LSTM(spec.input_size, spec.hidden_size, spec.num_layers, {
      projSize: spec.proj_size,
      bidirectional: spec.bidirectional,
    }).eval();
    expect(lstm.loadStateDict(parseTorch(fixture('lstm_proj_bi.pt')))).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const [output, [h, c]] = lstm.forward(toTensor(spec.input));
    expect(mismatch(output, toTensor(spec.output), 'output')).toBeNull();
    expect(mismatch(h, toTensor(spec.h_n), 'h_n')).toBeNull();
    expect(mismatch(c, toTensor(spec.c_n), 'c_n')).toBeNull();
  });

  test("the LSTM inside a larger model loads from its 'encoder.rnn.' keys", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { LSTM } = require('../lib') as typeof import('../lib');
    const sd = parseTorch(fixture('model.pt'));
    const prefix = 'encoder.rnn.';
    const rnn = Object.fromEntries(Object.entries(sd).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
    const lstm = new LSTM(3, 4, { batchFirst: true });
    expect(lstm.loadStateDict(rnn)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(Array.from(lstm.stateDict().weight_hh_l0.data)).toEqual(values(EXPECTED['model.pt'].tensors['encoder.rnn.weight_hh_l0']));
  });
});

describe('loadTorch refuses what torch.load(weights_only=True) refuses, saying why and running nothing', () => {
  test.each([
    ['whole_module.pt', 'Unsupported global: GLOBAL torch.nn.modules.rnn.LSTM was not an allowed global; nothing was run. loadTorch reads what torch.load(weights_only=True) reads'],
    ['os_system.pt', 'Unsupported global: GLOBAL posix.system was not an allowed global; nothing was run.'],
    ['builtins_eval.pt', 'Unsupported global: GLOBAL builtins.eval'],
    ['legacy.pt', "this file is in PyTorch's legacy serialization format"],
    ['torchscript.pt', 'this is a TorchScript archive (torch.jit.save), not a state_dict'],
    ['short_storage.pt', "storage '0' should hold 7 float32 elements (28 bytes) but its entry has 20 bytes"],
    ['view_beyond_storage.pt', 'reaches element 6, but the storage holds 5 elements'],
    // The storage's size is checked against its entry's declared size before anything is inflated.
    ['zip_bomb.pt', "storage '0' should hold 12 float32 elements (48 bytes) but its entry has 3221225472 bytes"],
    ['zip_bomb_ratio.pt', "storage '0' should hold 12 float32 elements (48 bytes) but its entry has 67108864 bytes"],
  ])('%s', (name, message) => {
    expect(() => parseTorch(fixture(name))).toThrow(message);
  });

  test('the zip reader refuses to inflate the bombs, whoever asks', () => {
    expect(() => readZip(fixture('zip_bomb.pt')).read('views/data/0')).toThrow("refusing to inflate entry 'views/data/0': it declares 3221225472 bytes, more than the limit");
    expect(() => readZip(fixture('zip_bomb_ratio.pt')).read('views/data/0')).toThrow('it declares 67108864 bytes from 36 compressed, beyond what deflate can achieve');
  });

  test('other formats are named: .npy, safetensors, anything that is not a zip', () => {
    expect(() => parseTorch(fixture('f4.npy'))).toThrow('this is a numpy .npy file, not a torch.save file; read it with loadNpy');
    expect(() => parseTorch(fixture('dtypes.safetensors'))).toThrow('read it with loadSafetensors');
    expect(() => parseTorch(Buffer.from('hello world'))).toThrow("it should be a zip archive (starting with 'PK')");
    expect(() => parseTorch(new Uint8Array(0))).toThrow("starting with 'PK'");
  });

  test('a path in the error names the file', async () => {
    await expect(loadTorch(path.join(DIR, 'whole_module.pt'))).rejects.toThrow(/whole_module\.pt: Unsupported global: GLOBAL torch\.nn/);
  });

  test.each([
    ['INST', Buffer.from('\x80\x02(ios\nsystem\n.', 'latin1'), 'pickle opcode INST at byte 3'],
    ['NEWOBJ', Buffer.concat([P.proto, P.global('collections', 'OrderedDict'), Buffer.from(')\x81.', 'latin1')]), 'pickle opcode NEWOBJ at byte 28'],
    ['an unknown byte', Buffer.from([0x80, 0x02, 0xff]), 'pickle opcode 0xff at byte 2'],
    ['STACK_GLOBAL of os.system', Buffer.from('\x80\x04\x8c\x02os\x8c\x06system\x93.', 'latin1'), 'Unsupported global: GLOBAL os.system'],
    ['a truncated string', Buffer.from('\x80\x02X\x10\x00\x00\x00abc', 'latin1'), 'BINUNICODE at byte 2: needs 16 bytes but the pickle ends 3 bytes later'],
    ['no STOP', Buffer.from('\x80\x02}', 'latin1'), 'the pickle ends without STOP'],
    ['a memo miss', Buffer.from('\x80\x02h\x05.', 'latin1'), 'memo entry 5 was never stored'],
    ['two values left', Buffer.from('\x80\x02}}.', 'latin1'), 'the stack holds 2 values and 0 marks'],
    ['SETITEM on a list', Buffer.from('\x80\x02]K\x01K\x02s.', 'latin1'), 'cannot set an item of a list'],
    ['OrderedDict with items', Buffer.concat([P.proto, P.global('collections', 'OrderedDict'), Buffer.from(']\x85R.', 'latin1')]), 'OrderedDict is built empty'],
    ['a tuple as a key', Buffer.from('\x80\x02}K\x01\x85K\x02s.', 'latin1'), 'a tuple cannot be a dict key here'],
    ['keys that collide as properties', Buffer.concat([P.proto, Buffer.from('}('), P.int(1), Buffer.from('N'), P.str('1'), Buffer.from('Nu.')]), "the file has the keys 1 and '1', which are both the property '1'"],
    ['calling a storage class', Buffer.concat([P.proto, P.global('torch', 'FloatStorage'), Buffer.from(')R.')]), 'torch.FloatStorage is a storage class: it may only name a persistent storage'],
    ['an unknown storage class', Buffer.concat([P.proto, P.global('torch', 'EvilStorage'), Buffer.from('.')]), 'Unsupported global: GLOBAL torch.EvilStorage'],
    ['a global as a value', Buffer.concat([P.proto, P.global('torch._utils', '_rebuild_tensor_v2'), Buffer.from('.')]), "the file holds 'torch._utils._rebuild_tensor_v2' uncalled, which is not data"],
    ['a sparse tensor', Buffer.concat([P.proto, P.global('torch._utils', '_rebuild_sparse_tensor'), Buffer.from(')R.')]), 'rebuilds a sparse tensor, which loadTorch cannot represent'],
    ['torch.device with a bad type', Buffer.concat([P.proto, P.global('torch', 'device'), P.tuple(P.int(3)), Buffer.from('R.')]), 'torch.device takes a device type and an optional index'],
    ['bytes in another codec', Buffer.concat([P.proto, P.global('_codecs', 'encode'), P.tuple(P.str('ab'), P.str('utf8')), Buffer.from('R.')]), "_codecs.encode is only read as encode(text, 'latin1')"],
    ['a list nested 1,001 levels deep', Buffer.concat([P.proto, Buffer.from(']'.repeat(1002) + 'a'.repeat(1001) + '.')]), 'nests containers more than 1000 levels deep (the limit)'],
  ])('a pickle with %s is refused', (_, pickle, message) => {
    expect(() => parseTorch(torchArchive(pickle))).toThrow(message);
  });

  test('views that reach outside their storage or repeat its elements are refused before any allocation', () => {
    const storage = { '0': floats(1, 2, 3, 4) };
    const load = (offset: number, size: number[], stride: number[]): Record<string, Tensor> =>
      parseTorch(torchArchive(P.dict([['w', P.tensor('0', 'FloatStorage', 4, offset, size, stride)]]), storage));
    expect(Array.from(load(1, [3], [1]).w.data)).toEqual([2, 3, 4]);
    expect(Array.from(load(0, [2, 2], [1, 2]).w.data)).toEqual([1, 3, 2, 4]);
    expect(() => load(2, [3], [1])).toThrow('reaches element 4, but the storage holds 4 elements');
    expect(() => load(0, [1_000_000, 1_000_000], [1_000_000, 1])).toThrow(/reaches element 999999999999/);
    expect(() => load(0, [8], [0])).toThrow('has 8 elements but its storage holds 4: it repeats elements');
    expect(() => load(0, [2], [-1])).toThrow("a tensor's stride should be a tuple of non-negative integers");
    expect(() => load(0, [2, 2], [1])).toThrow('size has 2 dimensions but stride has 1');
  });

  test('a pickle that rebuilds views of one storage over and over: shared when contiguous, bounded copies otherwise', () => {
    const numel = 65536;
    const pid = Buffer.concat([P.tuple(P.str('storage'), P.global('torch', 'FloatStorage'), P.str('0'), P.str('cpu'), P.int(numel)), Buffer.from('Q')]);
    const view = (size: number[], stride: number[]): Buffer =>
      P.tuple(pid, P.int(0), P.tuple(...size.map(P.int)), P.tuple(...stride.map(P.int)), Buffer.from([0x89]), P.global('collections', 'OrderedDict'), Buffer.from(')R'));
    const call = (repeats: number, args: Buffer): Buffer =>
      Buffer.concat([
        P.proto,
        Buffer.from('}'),
        P.str('views'),
        Buffer.from(']('),
        P.global('torch._utils', '_rebuild_tensor_v2'),
        Buffer.from('q\x00'),
        args,
        Buffer.from('q\x01R'),
        Buffer.from('h\x00h\x01R'.repeat(repeats), 'latin1'),
        Buffer.from('es.'),
      ]);
    const storage = { '0': Buffer.alloc(4 * numel) };
    const whole = view([numel], [1]);
    const shared = parseTorch(torchArchive(call(1000, whole), storage)).views as Tensor[];
    expect(shared).toHaveLength(1001);
    expect(shared.every((t) => t.data.buffer === shared[0].data.buffer)).toBe(true);
    // A transposed view is a copy: a few are fine, dozens are not.
    const transposed = view([256, 256], [1, 256]);
    expect(parseTorch(torchArchive(call(3, transposed), storage)).views).toHaveLength(4);
    expect(() => parseTorch(torchArchive(call(40, transposed), storage))).toThrow('the tensors view their storages many times over');
  });

  test('a storage described twice with different types, or missing from the archive, is refused', () => {
    const twice = P.dict([
      ['a', P.tensor('0', 'FloatStorage', 2, 0, [2], [1])],
      ['b', P.tensor('0', 'DoubleStorage', 1, 0, [1], [1])],
    ]);
    expect(() => parseTorch(torchArchive(twice, { '0': floats(1, 2) }))).toThrow("storage '0' is described twice, differently");
    const missing = P.dict([['a', P.tensor('7', 'FloatStorage', 2, 0, [2], [1])]]);
    expect(() => parseTorch(torchArchive(missing))).toThrow("storage '7' is missing: the zip has no entry 'archive/data/7'");
  });

  test('two keys on one storage share its memory when contiguous, as in PyTorch, and never alias the file', () => {
    const pickle = P.dict([
      ['a', P.tensor('0', 'FloatStorage', 4, 0, [4], [1])],
      ['b', P.tensor('0', 'FloatStorage', 4, 2, [2], [1])],
      ['c', P.tensor('0', 'FloatStorage', 4, 0, [2], [2])],
    ]);
    const file = torchArchive(pickle, { '0': floats(1, 2, 3, 4) });
    const before = Buffer.from(file);
    const sd = parseTorch(file);
    sd.a.data[2] = 30;
    expect(Array.from(sd.b.data)).toEqual([30, 4]);
    expect(Array.from(sd.c.data)).toEqual([1, 3]); // strided: a copy
    expect(file.equals(before)).toBe(true);
  });
});

describe('the zip reader checks every offset and size', () => {
  const views = entriesOf('views.pt');

  test('ZIP64 sizes and offsets in the central directory are read', () => {
    expectStateDict(parseTorch(buildZip(views.map((e) => ({ ...e, zip64: true })))), EXPECTED['views.pt']);
  });

  test('encryption, unknown compression, duplicate names, a wrong CRC-32 are refused by name', () => {
    const pkl = views[0].name;
    expect(() => parseTorch(buildZip(views.map((e) => (e.name === pkl ? { ...e, flags: 1 } : e))))).toThrow(`entry '${pkl}' is encrypted`);
    expect(() => parseTorch(buildZip(views.map((e) => (e.name === pkl ? { ...e, method: 12 } : e))))).toThrow('compression method 12');
    expect(() => parseTorch(buildZip([...views, views[1]]))).toThrow(`entry '${views[1].name}' appears twice`);
    expect(() => parseTorch(buildZip(views.map((e) => (e.name === pkl ? { ...e, crc: 1234 } : e))))).toThrow(`entry '${pkl}' fails its CRC-32 check`);
  });

  test('every truncation of every fixture is an Error about a truncated or corrupt zip', () => {
    for (const name of ['views.pt', 'lstm_proj_bi.pt', 'deflated.pt', 'dtypes.pt']) {
      const good = fixture(name);
      const cuts = new Set<number>();
      for (let i = 0; i <= 60; i++) cuts.add(Math.floor((good.length * i) / 61));
      for (let back = 1; back <= 120; back++) cuts.add(good.length - back);
      for (const cut of cuts) {
        expect(() => parseTorch(good.subarray(0, cut))).toThrow(/zip|PK|torch\.save/);
      }
    }
  });

  test('bit flips anywhere in a file give a state dict or an Error, never anything else', () => {
    const next = random(5);
    const tally = { value: 0, error: 0 };
    for (const name of ['views.pt', 'dtypes.pt', 'deflated.pt', 'protocol4.pt']) {
      const good = fixture(name);
      for (let trial = 0; trial < 75; trial++) {
        const bytes = Buffer.from(good);
        for (let flips = 1 + Math.floor(next() * 4); flips > 0; flips--) bytes[Math.floor(next() * bytes.length)] ^= 1 << Math.floor(next() * 8);
        tally[outcome(() => parseTorch(bytes))]++;
      }
    }
    // The CRC catches damaged entries, so most flips are errors; flips in unused header fields are not.
    expect(tally.error).toBeGreaterThan(150);
  });

  test('mutated pickles inside sound archives give a state dict or an Error, never anything else', () => {
    const next = random(9);
    const tally = { value: 0, error: 0 };
    for (const name of ['views.pt', 'lstm_proj_bi.pt', 'protocol4.pt']) {
      const entries = entriesOf(name);
      const pickleEntry = entries.find((e) => e.name.endsWith('data.pkl'))!;
      for (let trial = 0; trial < 100; trial++) {
        let pickle = Buffer.from(pickleEntry.data);
        const kind = trial % 4;
        if (kind === 0) pickle = pickle.subarray(0, Math.floor(next() * pickle.length));
        else if (kind === 1) pickle[Math.floor(next() * pickle.length)] = Math.floor(next() * 256);
        else if (kind === 2) pickle[Math.floor(next() * pickle.length)] ^= 1 << Math.floor(next() * 8);
        else {
          // Move a run of bytes elsewhere: keeps opcodes intact but scrambles the structure.
          const at = Math.floor(next() * pickle.length);
          const run = pickle.subarray(at, at + 1 + Math.floor(next() * 12));
          const to = Math.floor(next() * pickle.length);
          pickle = Buffer.concat([pickle.subarray(0, to), run, pickle.subarray(to)]);
        }
        const archive = buildZip(entries.map((e) => (e === pickleEntry ? { ...e, data: pickle } : e)));
        tally[outcome(() => parseTorch(archive))]++;
      }
    }
    expect(tally.error).toBeGreaterThan(150);
    expect(tally.value).toBeGreaterThan(0);
  });
});
