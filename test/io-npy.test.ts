/** loadNpy / saveNpy against files numpy wrote (test/fixtures/generate_io.py) and values numpy reported. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadNpy, parseNpy, saveNpy, serializeNpy } from '../lib/io/npy';
import { parsePythonLiteral } from '../lib/io/python_literal';
import { Tensor, type DType } from '../lib/tensor';
import { seededRandom as random } from './helpers/seeded';

const DIR = path.join(__dirname, 'fixtures', 'io');

interface ExpectedTensor {
  shape: number[];
  dtype: DType;
  data: (number | string | boolean)[];
}

const EXPECTED: Record<string, ExpectedTensor> = JSON.parse(fs.readFileSync(path.join(DIR, 'expected.json'), 'utf8')).files;

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(DIR, name));
}

/** The elements as the typed array gives them back: int64 as bigints, bool as 0/1, non-finite by name. */
function elements(expected: ExpectedTensor): unknown[] {
  if (expected.dtype === 'int64') return expected.data.map((v) => BigInt(v as number | string));
  if (expected.dtype === 'bool') return expected.data.map((v) => (v ? 1 : 0));
  return expected.data.map((v) => (typeof v === 'string' ? NON_FINITE[v] : v));
}

/** Same dtype, shape and elements, bit for bit apart from NaN payloads (-0 differs from 0). */
function expectTensor(actual: Tensor<DType>, expected: ExpectedTensor): void {
  expect(actual).toBeInstanceOf(Tensor);
  expect(actual.dtype).toBe(expected.dtype);
  expect(actual.shape).toEqual(expected.shape);
  expect(Array.from(actual.data as ArrayLike<unknown>)).toEqual(elements(expected));
}


describe('loadNpy reads what numpy writes', () => {
  const files = ['f4.npy', 'f8.npy', 'f2.npy', 'be_f4.npy', 'be_f8.npy', 'be_f2.npy', 'fortran.npy', 'scalar.npy', 'empty.npy', 'vector.npy', 'f4_v2.npy', 'f4_v3.npy'];

  test.each(files)('%s has numpy\'s values, shape and dtype', (name) => {
    expectTensor(parseNpy(fixture(name)), EXPECTED[name]);
  });

  test('float16 specials widen exactly: signed zero, subnormals, 65504, infinities, NaN', () => {
    const t = parseNpy(fixture('f2.npy'));
    expect(Object.is(t.data[1], -0)).toBe(true);
    expect(t.data[7]).toBe(2 ** -24);
    expect(t.data[5]).toBe(65504);
    expect(Number.isNaN(t.data[11])).toBe(true);
  });

  test('a Fortran-order array comes back in row-major order', () => {
    const t = parseNpy(fixture('fortran.npy'));
    const header = fixture('fortran.npy').subarray(10, 128).toString('latin1');
    expect(header).toContain("'fortran_order': True");
    expectTensor(t, EXPECTED['fortran.npy']);
  });

  test('big-endian signalling NaNs keep every bit (bytes are swapped, not read as numbers)', () => {
    const npy = (descr: string, data: number[]): Buffer => {
      let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${data.length / Number(descr[2])},), }`;
      header += `${' '.repeat(64 - ((10 + header.length + 1) % 64))}\n`;
      const length = Buffer.alloc(2);
      length.writeUInt16LE(header.length);
      return Buffer.concat([Buffer.from('\x93NUMPY\x01\x00', 'latin1'), length, Buffer.from(header), Buffer.from(data)]);
    };
    const f4 = parseNpy(npy('>f4', [0x7f, 0x80, 0x00, 0x01, 0xff, 0xa0, 0x00, 0x00]));
    expect(Array.from(new Uint32Array(f4.data.buffer, f4.data.byteOffset, 2))).toEqual([0x7f800001, 0xffa00000]);
    const f8 = parseNpy(npy('>f8', [0x7f, 0xf0, 0, 0, 0, 0, 0, 0x01]));
    expect(new BigUint64Array(f8.data.buffer, f8.data.byteOffset, 1)[0]).toBe(0x7ff0000000000001n);
  });

  test.each(['int32.npy', 'i8.npy', 'be_i8.npy', 'be_i4.npy', 'i2.npy', 'i1.npy', 'u1.npy', 'b1.npy', 'fortran_i8.npy'])(
    '%s: integer and bool arrays load with their dtype, in either byte order and layout',
    (name) => {
      expectTensor(parseNpy(fixture(name)), EXPECTED[name]);
    },
  );

  test('loadNpy reads a path and a Buffer alike', async () => {
    const fromPath = await loadNpy(path.join(DIR, 'f8.npy'));
    const fromBytes = await loadNpy(fixture('f8.npy'));
    expectTensor(fromPath, EXPECTED['f8.npy']);
    expectTensor(fromBytes, EXPECTED['f8.npy']);
  });
});

describe('saveNpy writes what np.save writes', () => {
  test.each(['save_f4.npy', 'save_f8.npy', 'save_scalar.npy', 'save_i8.npy', 'save_b1.npy', 'save_u1.npy'])('%s: byte for byte', (name) => {
    const loaded = parseNpy(fixture(name));
    expectTensor(loaded, EXPECTED[name]);
    expect(Buffer.from(serializeNpy(loaded))).toEqual(fixture(name));
  });

  test('save then load gives the same tensor, for both dtypes and any rank', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchrnn-npy-'));
    try {
      const cases = [
        new Tensor(Float32Array.from([1.5, -0, Infinity, NaN, 3e-45, 7]), [2, 3]),
        new Tensor(Float64Array.from([Math.PI, -1e300]), [2]),
        new Tensor(new Float32Array(0), [0, 4]),
        new Tensor(Float64Array.from([0.25]), []),
        new Tensor(new Float32Array(24).map((_, i) => i / 3), [2, 1, 3, 4]),
      ];
      for (const [i, t] of cases.entries()) {
        const file = path.join(dir, `t${i}.npy`);
        await saveNpy(file, t);
        const back = await loadNpy(file);
        expect(back.dtype).toBe(t.dtype);
        expect(back.shape).toEqual(t.shape);
        expect(Array.from(back.data)).toEqual(Array.from(t.data));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('loadNpy refuses what it cannot read, saying why', () => {
  test.each([
    ['u2.npy', /dtype uint16 \('<u2'\) is not supported; loadNpy reads float16, float32, float64, int64, int32, int16, int8, uint8 and bool arrays/],
    ['structured.npy', /structured dtype/],
    ['object.npy', /dtype '\|O' is not supported/],
    ['truncated_data.npy', /needs 24 bytes of data but the file holds 21/],
    ['code_in_header.npy', /header is not a Python literal: expected a value at character 10/],
  ])('%s', (name, message) => {
    expect(() => parseNpy(fixture(name))).toThrow(message);
  });

  test('a file that is not .npy, a version numpy never wrote, a header longer than the file', () => {
    expect(() => parseNpy(Buffer.from('PK\x03\x04 not numpy'))).toThrow('this is a torch.save file, not a numpy .npy file; read it with loadTorch');
    expect(() => parseNpy(Buffer.from('neither format'))).toThrow(/not a .npy file/);
    const good = fixture('f4.npy');
    const v9 = Buffer.from(good);
    v9[6] = 9;
    expect(() => parseNpy(v9)).toThrow(/format version 9.0 is not 1.0, 2.0 or 3.0/);
    const long = Buffer.from(good);
    long.writeUInt16LE(5000, 8);
    expect(() => parseNpy(long)).toThrow(/header length 5000 exceeds the 142 bytes after it/);
  });

  test('a path in the error names the file', async () => {
    await expect(loadNpy(path.join(DIR, 'u2.npy'))).rejects.toThrow(/u2\.npy: npy: dtype uint16/);
  });

  test('truncations and bit flips of a valid file give a Tensor or an Error, never anything else', () => {
    const next = random(11);
    for (const name of ['f4.npy', 'fortran.npy', 'be_f2.npy']) {
      const good = fixture(name);
      for (let trial = 0; trial < 100; trial++) {
        const bytes = Buffer.from(good);
        let mutated: Buffer = bytes;
        if (trial % 3 === 0) mutated = bytes.subarray(0, Math.floor(next() * bytes.length));
        else for (let flips = 1 + Math.floor(next() * 3); flips > 0; flips--) bytes[Math.floor(next() * bytes.length)] ^= 1 << Math.floor(next() * 8);
        try {
          const t = parseNpy(mutated);
          expect(t).toBeInstanceOf(Tensor);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          expect((error as Error).message).toMatch(/^npy: /);
        }
      }
    }
  });
});

describe('the header parser reads Python literals and evaluates nothing', () => {
  test('the literal numpy writes', () => {
    expect(parsePythonLiteral("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }  \n")).toEqual({
      kind: 'dict',
      entries: new Map<string, unknown>([
        ['descr', '<f4'],
        ['fortran_order', false],
        ['shape', { kind: 'tuple', items: [2, 3] }],
      ]),
    });
  });

  test('(3,) is a tuple and (3) is 3, as in Python; Python 2 long integers are read', () => {
    expect(parsePythonLiteral('(3,)')).toEqual({ kind: 'tuple', items: [3] });
    expect(parsePythonLiteral('(3)')).toBe(3);
    expect(parsePythonLiteral('(2L, 4L)')).toEqual({ kind: 'tuple', items: [2, 4] });
  });

  test.each([
    ["{'a': 1, 'a': 2}", /key 'a' appears twice/],
    ["{'a': os.system}", /expected a value/],
    ["{'a': 1} trailing", /unexpected text after the value/],
    ["{'a': 'x\\'}", /escapes in strings are not supported/],
    ['(99999999999999999999,)', /too large/],
    ['['.repeat(100), /nested too deeply/],
  ])('%s is refused', (text, message) => {
    expect(() => parsePythonLiteral(text)).toThrow(message);
  });
});
