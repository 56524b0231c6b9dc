/** loadSafetensors / saveSafetensors against files written to the format's specification and PyTorch's values. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  loadSafetensors,
  parseSafetensors,
  readSafetensorsMetadata,
  saveSafetensors,
  serializeSafetensors,
} from '../lib/io/safetensors';
import { Tensor } from '../lib/tensor';
import { loadNpy } from '../lib/io/npy';
import { loadTorch } from '../lib/io/torch_load';
import { seededRandom as random } from './helpers/seeded';

const DIR = path.join(__dirname, 'fixtures', 'io');

interface ExpectedTensor {
  shape: number[];
  dtype: 'float32' | 'float64';
  data: (number | string)[];
}

interface ExpectedFile {
  keys: string[];
  tensors: Record<string, ExpectedTensor>;
  metadata?: Record<string, string>;
}

const EXPECTED: Record<string, ExpectedFile> = JSON.parse(fs.readFileSync(path.join(DIR, 'expected.json'), 'utf8')).files;

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(DIR, name));
}

/** Same keys in the same order, and each tensor's dtype, shape and elements exactly (-0 differs from 0). */
function expectStateDict(actual: Record<string, Tensor>, expected: ExpectedFile): void {
  expect(Object.keys(actual)).toEqual(expected.keys);
  for (const key of expected.keys) {
    const want = expected.tensors[key];
    const got = actual[key];
    expect(got).toBeInstanceOf(Tensor);
    expect([key, got.dtype, got.shape]).toEqual([key, want.dtype, want.shape]);
    expect(Array.from(got.data)).toEqual(want.data.map((v) => (typeof v === 'string' ? NON_FINITE[v] : v)));
  }
}


/** A file from a header string and data bytes: little-endian u64 length, header, data. */
function safetensorsFile(header: string, data: Uint8Array): Buffer {
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
  return Buffer.concat([length, Buffer.from(header), data]);
}

describe('loadSafetensors reads files written to the specification', () => {
  test('every dtype it reads: F32 and F64 as they are, F16 and BF16 as PyTorch\'s .float()', () => {
    expectStateDict(parseSafetensors(fixture('dtypes.safetensors')), EXPECTED['dtypes.safetensors']);
  });

  test('the metadata is read as written', () => {
    expect({ ...readSafetensorsMetadata(fixture('dtypes.safetensors')) }).toEqual(EXPECTED['dtypes.safetensors'].metadata);
    expect({ ...readSafetensorsMetadata(fixture('lstm_proj_bi.safetensors')) }).toEqual({});
  });

  test('an LSTM state dict, keys in file order', async () => {
    expectStateDict(await loadSafetensors(path.join(DIR, 'lstm_proj_bi.safetensors')), EXPECTED['lstm_proj_bi.safetensors']);
  });

  test("the format's documented example: an I32 tensor 'test' of shape [2, 2]; a U16 one is refused by name and dtype", () => {
    const documented = Buffer.from(
      '<\x00\x00\x00\x00\x00\x00\x00{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}' + '\x00'.repeat(16),
      'latin1',
    );
    const { test: int } = parseSafetensors(documented);
    expect([int.dtype, int.shape, int.data]).toEqual(['int32', [2, 2], new Int32Array(4)]);
    const unsigned = Buffer.from(documented.toString('latin1').replace('I32', 'U16').replace('16]', '8] '), 'latin1');
    expect(() => parseSafetensors(unsigned.subarray(0, unsigned.length - 8))).toThrow(
      "safetensors: tensor 'test' has dtype U16; only F64, F32, F16, BF16, I64, I32, I16, I8, U8 and BOOL tensors can be loaded",
    );
    const asFloat = Buffer.from(documented.toString('latin1').replace('I32', 'F32'), 'latin1');
    const { test: t } = parseSafetensors(asFloat);
    expect([t.dtype, t.shape, Array.from(t.data)]).toEqual(['float32', [2, 2], [0, 0, 0, 0]]);
  });

  test('integer tensors load with their dtype: int64 as bigints', () => {
    const expected = JSON.parse(fs.readFileSync(path.join(DIR, 'expected.json'), 'utf8')).files['int64.safetensors'];
    const { w, step } = parseSafetensors(fixture('int64.safetensors'));
    expect([w.dtype, w.shape, Array.from(w.data)]).toEqual([expected.w.dtype, expected.w.shape, expected.w.data]);
    expect([step.dtype, step.shape, Array.from(step.data)]).toEqual([expected.step.dtype, expected.step.shape, expected.step.data.map(BigInt)]);
  });

  test('integer and bool tensors survive a save and a load', () => {
    const tensors = {
      a: new Tensor(BigInt64Array.of(-(2n ** 63n), 5n), [2], 'int64'),
      b: new Tensor(Int16Array.of(-3, 4, 5), [3, 1], 'int16'),
      c: new Tensor(Uint8Array.of(1, 0), [2], 'bool'),
      d: new Tensor(Uint8Array.of(255), [], 'uint8'),
    };
    const back = parseSafetensors(serializeSafetensors(tensors));
    for (const [name, t] of Object.entries(tensors)) expect([name, back[name].dtype, back[name].shape, back[name].data]).toEqual([name, t.dtype, t.shape, t.data]);
  });

  test('a header padded with trailing spaces, and a tensor with no elements', () => {
    const file = safetensorsFile('{"__metadata__":{"framework":"pt"},"e":{"dtype":"F64","shape":[0,3],"data_offsets":[0,0]}}   ', new Uint8Array(0));
    const { e } = parseSafetensors(file);
    expect([e.dtype, e.shape, e.numel()]).toEqual(['float64', [0, 3], 0]);
    expect({ ...readSafetensorsMetadata(file) }).toEqual({ framework: 'pt' });
  });
});

describe('saveSafetensors', () => {
  test('writes the bytes the specification gives for the same tensors', () => {
    const file = fixture('lstm_proj_bi.safetensors');
    expect(Buffer.from(serializeSafetensors(parseSafetensors(file)))).toEqual(file);
  });

  test('save then load: dtypes, shapes, values and metadata come back, data 8-byte aligned', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchrnn-safetensors-'));
    try {
      const tensors = new Map<string, Tensor>([
        ['w', new Tensor(Float32Array.from([1.5, -0, Infinity, NaN, 1e-45, -7]), [3, 2])],
        ['b', new Tensor(Float64Array.from([Math.PI, -1e300, 5e-324]), [3])],
        ['s', new Tensor(Float64Array.from([2]), [])],
        ['e', new Tensor(new Float32Array(0), [2, 0])],
      ]);
      const file = path.join(dir, 'm.safetensors');
      await saveSafetensors(file, tensors, { format: 'pt', note: 'ünïcode' });
      const bytes = fs.readFileSync(file);
      expect((8 + Number(bytes.readBigUInt64LE(0))) % 8).toBe(0);
      const back = await loadSafetensors(file);
      expect(Object.keys(back)).toEqual(['w', 'b', 's', 'e']);
      for (const [key, t] of tensors) {
        expect([back[key].dtype, back[key].shape, Array.from(back[key].data)]).toEqual([t.dtype, t.shape, Array.from(t.data)]);
      }
      expect({ ...readSafetensorsMetadata(bytes) }).toEqual({ format: 'pt', note: 'ünïcode' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses a non-Tensor, the reserved name, and metadata that is not strings', () => {
    expect(() => serializeSafetensors({ w: [1, 2] as unknown as Tensor })).toThrow("serializeSafetensors: 'w' is not a Tensor");
    expect(() => serializeSafetensors({ __metadata__: Tensor.zeros([1]) })).toThrow(/reserved/);
    expect(() => serializeSafetensors({}, { epoch: 3 } as unknown as Record<string, string>)).toThrow(/__metadata__ should map strings to strings/);
  });

  test("a tensor named '__proto__' is an entry, not a prototype", () => {
    const sd = parseSafetensors(serializeSafetensors(new Map([['__proto__', Tensor.ones([2])]])));
    expect(Object.keys(sd)).toEqual(['__proto__']);
    expect(Array.from(sd['__proto__'].data)).toEqual([1, 1]);
  });
});

describe('loadSafetensors refuses malformed and unsupported files, saying why', () => {
  test("a shape nested 5,000 levels deep gives the library's error, not a stack overflow", () => {
    const shape = `${'['.repeat(5000)}1${']'.repeat(5000)}`;
    const file = safetensorsFile(`{"a":{"dtype":"F32","shape":${shape},"data_offsets":[0,4]}}`, new Uint8Array(4));
    expect(() => parseSafetensors(file)).toThrow("safetensors header: tensor 'a' has shape [[[[...]]]]; it should be a list of non-negative integers");
    const long = safetensorsFile(`{"a":{"dtype":"F32","shape":[${'1,'.repeat(100)}-1],"data_offsets":[0,4]}}`, new Uint8Array(4));
    expect(() => parseSafetensors(long)).toThrow("has shape [1,1,1,1,1,1,1,1,...]; it should be");
  });

  test.each([
    ['header_too_long.safetensors', 'the header length 10000 exceeds the 7 bytes after it'],
    ['huge_header_length.safetensors', /the header length \d+ exceeds the 8 bytes after it/],
    ['bad_json.safetensors', 'the header is not valid JSON'],
    ['not_object.safetensors', "the header does not start with '{'"],
    ['overlap.safetensors', "tensor 'b' overlaps the one before it"],
    ['hole.safetensors', 'the last 4 bytes of the file belong to no tensor'],
    ['beyond_data.safetensors', 'the tensors need 16 bytes of data but the file holds 8'],
    ['wrong_size.safetensors', "tensor 'a' (F32, shape [3]) needs 12 bytes but data_offsets [0, 8] give 8"],
    ['negative_shape.safetensors', "tensor 'a' has shape [-2]"],
    ['fractional_shape.safetensors', "tensor 'a' has shape [1.5]"],
    ['reversed_offsets.safetensors', "tensor 'a' has data_offsets [8,0]"],
    ['unknown_dtype.safetensors', "tensor 'a' has unknown dtype 'F128'"],
    ['bad_metadata.safetensors', '__metadata__ should map strings to strings'],
  ])('%s', (name, message) => {
    expect(() => parseSafetensors(fixture(name))).toThrow(message);
  });

  test('a hole between tensors, a header that is not UTF-8, a file shorter than 8 bytes, an unknown field', () => {
    const eight = new Uint8Array(8);
    const gap = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F16","shape":[1],"data_offsets":[6,8]}}';
    expect(() => parseSafetensors(safetensorsFile(gap, eight))).toThrow('bytes 4 to 6 of the data belong to no tensor');
    const latin = Buffer.concat([Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([0x7b, 0xff, 0x7d])]);
    expect(() => parseSafetensors(latin)).toThrow('the header is not valid JSON');
    expect(() => parseSafetensors(Buffer.from([1, 2, 3]))).toThrow('fewer than the 8 of its header length');
    const extra = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"strides":[1]}}';
    expect(() => parseSafetensors(safetensorsFile(extra, eight))).toThrow("tensor 'a' has an unknown field 'strides'");
  });

  test('a path in the error names the file', async () => {
    await expect(loadSafetensors(path.join(DIR, 'hole.safetensors'))).rejects.toThrow(/hole\.safetensors: safetensors: /);
  });

  test('truncations and bit flips of valid files give tensors or an Error, never anything else', () => {
    const next = random(23);
    let errors = 0;
    for (const name of ['dtypes.safetensors', 'lstm_proj_bi.safetensors']) {
      const good = fixture(name);
      for (let trial = 0; trial < 150; trial++) {
        const bytes = Buffer.from(good);
        let mutated: Buffer = bytes;
        if (trial % 3 === 0) mutated = bytes.subarray(0, Math.floor(next() * bytes.length));
        else {
          // Most flips land in the header, where they matter.
          const headerEnd = 8 + Number(good.readBigUInt64LE(0));
          for (let flips = 1 + Math.floor(next() * 3); flips > 0; flips--) {
            bytes[Math.floor(next() * (trial % 2 ? headerEnd : bytes.length))] ^= 1 << Math.floor(next() * 8);
          }
        }
        try {
          const sd = parseSafetensors(mutated);
          for (const t of Object.values(sd)) expect(t).toBeInstanceOf(Tensor);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          expect((error as Error).message).toMatch(/^safetensors/);
          errors++;
        }
      }
    }
    expect(errors).toBeGreaterThan(100);
  });
});

describe('a file of another format', () => {
  // Each reader names the format it was given and the function that reads it, as loadTorch already did.
  const IO_DIR = path.join(__dirname, 'fixtures', 'io');
  test.each([
    ['loadSafetensors', 'checkpoint.pt', 'this is a torch.save file, not a safetensors file; read it with loadTorch'],
    ['loadSafetensors', 'f4.npy', 'this is a numpy .npy file, not a safetensors file; read it with loadNpy'],
    ['loadNpy', 'checkpoint.pt', 'this is a torch.save file, not a numpy .npy file; read it with loadTorch'],
    ['loadNpy', 'dtypes.safetensors', 'this looks like a safetensors file, not a numpy .npy file; read it with loadSafetensors'],
    ['loadTorch', 'f4.npy', 'this is a numpy .npy file, not a torch.save file; read it with loadNpy'],
  ] as const)('%s of %s says what the file is', async (reader, file, message) => {
    const load = { loadSafetensors, loadNpy, loadTorch }[reader] as (source: string) => Promise<unknown>;
    await expect(load(path.join(IO_DIR, file))).rejects.toThrow(message);
  });
});
